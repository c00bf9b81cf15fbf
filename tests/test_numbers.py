import pytest

from costlab.numbers import format_int, format_ratio, format_si, parse_si


@pytest.mark.parametrize(
    "value, text",
    [
        (112_896_000, "112.9M"),  # the seed's naive 5x5 conv
        (5_268_480, "5.27M"),
        (1_498_376_192, "1.5G"),  # torchvision googlenet _ops 1.498
        (1_582_671_872, "1.58G"),
        (51_380_224, "51.4M"),
        (999, "999"),
        (1_000, "1K"),
        (999_960_000, "1G"),  # would round to 1000.0M
        (0, "0"),
        (-12_300_000, "-12.3M"),
    ],
)
def test_format_si(value, text):
    assert format_si(value) == text


@pytest.mark.parametrize(
    "text, value",
    [("1.5G", 1_500_000_000), ("7M", 7_000_000), ("2.7K", 2_700), ("1_500_000", 1_500_000), (42, 42), ("0.5k", 500), ("3T", 3 * 10**12)],
)
def test_parse_si(text, value):
    assert parse_si(text) == value


@pytest.mark.parametrize("bad", ["", "G", "1.5", "abc", "1.5X", None, 1.5, "0.0001K", True])
def test_parse_si_rejects(bad):
    with pytest.raises(ValueError):
        parse_si(bad)


def test_format_int_and_ratio():
    assert format_int(112_896_000) == "112,896,000"
    assert format_ratio(112_896_000 / 5_268_480) == "21.4x"
    assert format_ratio(1.5) == "1.50x"
