"""Budgets and Pareto fronts over grids, checked against brute force; tables written exactly."""

import json
import random

import numpy as np
import pytest

from costlab import analyze, load_source
from costlab.errors import CostlabError
from costlab.explore import largest_within, merge_fronts, pareto_mask, pareto_points, parse_objectives
from costlab.grid import evaluate_grid
from costlab.sweep import widen
from costlab.tables import write_table


def brute_front(points, maximize):
    """O(n^2) dominance, written independently of pareto_mask."""
    def better_or_equal(a, b):
        return all((x >= y) if up else (x <= y) for x, y, up in zip(a, b, maximize))
    return [not any(better_or_equal(q, p) and q != p for q in points) for p in points]


@pytest.mark.parametrize("k", [2, 3, 4])
def test_pareto_mask_equals_brute_force(k):
    rng = random.Random(k)
    for _ in range(60):
        n = rng.randrange(1, 60)
        points = [tuple(rng.randrange(0, 6) for _ in range(k)) for _ in range(n)]  # many ties and duplicates
        maximize = [rng.random() < 0.5 for _ in range(k)]
        columns = [np.array([p[i] for p in points], dtype=np.int64) for i in range(k)]
        assert pareto_mask(columns, maximize).tolist() == brute_front(points, maximize), (points, maximize)
        big = [np.array([v * 10**30 for v in c.tolist()], dtype=object) for c in columns]  # past int64: same answer
        assert pareto_mask(big, maximize).tolist() == brute_front(points, maximize)


def test_largest_within_budget_per_axis():
    graph = load_source("googlenet")
    grid = evaluate_grid(graph, list(range(160, 400, 16)), [0.5, 0.75, 1.0, 1.25], [1, 2])
    budget = 1_500_000_000  # the paper's 1.5G design budget
    wide = {w: widen(graph, w) for w in (0.5, 0.75, 1.0, 1.25)}
    macs = {(b, w, r): analyze(wide[w], (3, r, r), b).total().macs for b in (1, 2) for w in wide for r in range(160, 400, 16)}
    answer = largest_within(grid, budget, "resolution")
    assert answer.others == ("batch", "width") and len(answer.rows) == 2 * 4
    for batch, width, best, found in answer.rows:
        ok = [r for r in range(160, 400, 16) if macs[batch, width, r] <= budget]
        assert best == (max(ok) if ok else None)
        if ok:
            assert found == macs[batch, width, best]
    # at width 1, batch 1: 224 is within (1,582,671,872 > 1.5G: no), 208 is the largest
    assert (1, 1.0, 208, grid.macs[0, 3, 2]) in answer.rows
    widths = largest_within(grid, budget, "width")
    for batch, r, best, _ in widths.rows:
        ok = [w for w in wide if macs[batch, w, r] <= budget]
        assert best == (max(ok) if ok else None)
    with pytest.raises(CostlabError):
        largest_within(grid, budget, "depth")


def test_pareto_points_on_a_grid_and_merged_from_chunks():
    graph = load_source("googlenet")
    grid = evaluate_grid(graph, list(range(96, 320, 8)), [0.25, 0.5, 0.75, 1.0, 1.5], [1])
    front = pareto_points(grid, budget=1_500_000_000)
    cols = grid.columns()
    inside = [i for i in range(grid.size) if cols["macs"][i] <= 1_500_000_000]
    points = [(int(cols["macs"][i]), int(cols["params"][i]), int(cols["activations"][i])) for i in inside]
    expected = [p for p, keep in zip(points, brute_front(points, [True, False, False])) if keep]
    assert sorted(zip(front["macs"].tolist(), front["params"].tolist(), front["activations"].tolist())) == sorted(expected)
    # front of the union of per-chunk fronts == front of the whole
    halves = [pareto_points(evaluate_grid(graph, list(range(96, 320, 8)), ws, [1])) for ws in ([0.25, 0.5], [0.75, 1.0, 1.5])]
    whole = pareto_points(grid)
    merged = merge_fronts(halves)
    assert sorted(merged["macs"].tolist()) == sorted(whole["macs"].tolist())
    assert parse_objectives("max:macs,min:params") == (("macs", True), ("params", False))
    for bad in ("macs", "max:macs", "up:macs,min:params", "max:flops,min:params"):
        with pytest.raises(CostlabError):
            parse_objectives(bad)


def test_tables_csv_json_parquet_exact(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    grid = evaluate_grid(load_source("googlenet"), [224, 225], [0.1, 1.0], [1, 3])
    columns = grid.columns()
    write_table(columns, str(tmp_path / "g.csv"))
    lines = (tmp_path / "g.csv").read_text().splitlines()
    assert lines[0] == "batch,resolution,width,macs,params,activations"
    first = lines[1 + 2].split(",")  # rows in C order: (1, 224, 0.1), (1, 224, 1.0), (1, 225, 0.1), ...
    assert first[:3] == ["1", "225", "0.1"] and int(first[3]) == grid.macs[0, 1, 0]
    assert lines[1 + 1].split(",")[3] == "1582671872"  # batch 1, 224, width 1: GoogLeNet's 1,582,671,872
    write_table(columns, str(tmp_path / "g.parquet"))
    table = pq.read_table(tmp_path / "g.parquet").to_pydict()
    assert table["macs"] == grid.macs.ravel().tolist() and table["width"] == [0.1, 1.0] * 4
    write_table(columns, str(tmp_path / "g.json"), meta={"schema": "costlab.grid/1"})
    doc = json.loads((tmp_path / "g.json").read_text())
    assert doc["schema"] == "costlab.grid/1" and doc["rows"][1]["macs"] == 1582671872
    huge = evaluate_grid(load_source("naive"), None, None, [2**62])
    with pytest.raises(CostlabError, match="beyond int64"):
        write_table(huge.columns(), str(tmp_path / "h.parquet"))
    assert not (tmp_path / "h.parquet").exists() and not list(tmp_path.glob(".h.parquet*"))
    write_table(huge.columns(), str(tmp_path / "h.csv"))
    assert (tmp_path / "h.csv").read_text().splitlines()[1].split(",")[3] == str(112_896_000 * 2**62)
    with pytest.raises(CostlabError, match="unknown table format"):
        write_table(columns, str(tmp_path / "g.xlsx"))


def test_heatmap_is_written(tmp_path):
    from costlab.render.heatmap import grid_heatmap

    grid = evaluate_grid(load_source("googlenet"), list(range(128, 384, 32)), [0.5, 0.75, 1.0, 1.5], [1])
    grid_heatmap(grid, str(tmp_path / "h.png"), budget=1_500_000_000)
    assert (tmp_path / "h.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
