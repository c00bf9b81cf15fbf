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


def _decimal_si_digits(magnitude: int, scale: int) -> str:
    """format_si's digits as the exact Decimal quotient formats them (rounded half to even)."""
    from decimal import Decimal

    scaled = Decimal(magnitude) / scale
    return f"{scaled:.2f}" if scaled < 10 else f"{scaled:.1f}"


@pytest.mark.parametrize("scale", [10**3, 10**6, 10**9, 10**12, 10**15, 10**18])
def test_format_si_digits_are_the_exact_decimal_ones(scale):
    """format_si rounds in integers (no decimal import at start-up); it must give the Decimal digits,
    ties (x.xx5, x.x5) and the 10 and 1000 boundaries included."""
    import random

    from costlab.numbers import _scaled

    rng = random.Random(scale)
    near = [b + d for b in (scale, 10 * scale, 1000 * scale, scale * 19_995 // 2000, scale * 1_999_990 // 2000) for d in range(-300, 300)]
    ties = [(2 * q + 1) * scale // 200 for q in range(2000)] + [(2 * q + 1) * scale // 20 for q in range(20000)]
    anywhere = [rng.randint(scale, 1000 * scale) for _ in range(20000)]
    for magnitude in near + ties + anywhere:
        if scale <= magnitude < 1001 * scale:
            assert _scaled(magnitude, scale) == _decimal_si_digits(magnitude, scale), magnitude


def test_ratio_text_of_integers_is_the_exact_fractions():
    """ratio_text divides integers directly (no fractions import at start-up): the words of the exact Fraction."""
    import random
    from fractions import Fraction

    from costlab.ratios import ratio_text

    rng = random.Random(7)
    for _ in range(20000):
        first = rng.choice([-1, 1]) * rng.randint(1, 10 ** rng.randint(1, 40))
        other = rng.choice([first * rng.randint(1, 9) + rng.randint(-2, 2), rng.randint(-10**30, 10**30), first + 1, first - 1])
        value = Fraction(other, first)
        if other in (0, first):
            continue
        expected = "" if value <= 0 else (f"{format_ratio(float(1 / value))} fewer MACs" if value < 1 else f"{format_ratio(float(value))} more MACs")
        assert ratio_text(first, other, "MACs") == expected, (first, other)
