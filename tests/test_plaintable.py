"""costlab's own table printer gives exactly what the tabulate package gives (it only avoids importing it)."""

import random

from tabulate import tabulate as real

from costlab.render.plaintable import tabulate as ours


def random_cell(rng):
    kind = rng.random()
    if kind < 0.1:
        return None
    if kind < 0.2:
        return rng.randrange(-1000, 10**12)
    if kind < 0.25:
        return rng.random() * 10 ** rng.randrange(-3, 20)
    if kind < 0.3:
        return rng.choice([True, False])
    return "".join(rng.choice("abc xyz0123456789.,-_=|()*x%") for _ in range(rng.randrange(0, 12)))


def test_random_tables_match_tabulate():
    rng = random.Random(2026)
    for _ in range(3000):
        columns, count = rng.randrange(1, 6), rng.randrange(0, 6)
        headers = ["".join(rng.choice("ab z.-") for _ in range(rng.randrange(0, 8))) for _ in range(columns)]
        rows = [[random_cell(rng) for _ in range(columns)] for _ in range(count)]
        fmt = rng.choice(["simple", "github"])
        assert ours(rows, headers, tablefmt=fmt, disable_numparse=True) == real(rows, headers, tablefmt=fmt, disable_numparse=True)


def test_what_it_does_not_handle_goes_to_tabulate():
    for rows in ([["日本", "c"]], [["a\nb", "c"]], [["x", "×"]], [["only one cell"]]):
        for fmt in ("simple", "github"):
            assert ours(rows, ["x", "y"], tablefmt=fmt) == real(rows, ["x", "y"], tablefmt=fmt, disable_numparse=True)
    assert ours([["a", "b"]], ["x", "y"], tablefmt="grid") == real([["a", "b"]], ["x", "y"], tablefmt="grid", disable_numparse=True)
