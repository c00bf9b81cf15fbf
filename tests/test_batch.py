"""Batch runs and big grids on Dask: a real two-worker LocalCluster gives what the in-process run gives;
a run killed midway resumes without recomputing or losing anything."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from costlab import analyze, load_source
from costlab.batch import Journal, journal_path, plan, run_batch, write_outcome
from costlab.sweep import widen

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def client():
    """A real dask.distributed LocalCluster: two worker processes, one thread each."""
    from costlab.cluster import dask_client

    with dask_client(workers=2, processes=True) as c:
        yield c


def expected_row(source, resolution, batch, width, mode="infer"):
    graph = load_source(source)
    g = widen(graph, width) if width is not None else graph
    shape = None if resolution is None else (graph.input_shape[0], resolution, resolution)
    a = analyze(g, shape, batch, mode)
    t = a.total()
    return t.macs, t.params, t.activations, len(a.rows)


TASKS = {"sources": ["naive", "bottleneck", "googlenet", "resnet50"], "resolutions": [None], "batches": [1, 4], "widths": [None, 0.5]}


def test_in_process_rows_equal_numeric_analyses():
    tasks = plan(**TASKS)
    assert len(tasks) == 4 * 1 * 2 * 2
    outcome = run_batch(tasks, chunk_size=3)
    assert (outcome.computed, outcome.reused, outcome.failed) == (16, 0, 0)
    for task, row in zip(tasks, outcome.rows):
        assert (row["source"], row["batch"], row["width"]) == (task.source, task.batch, task.width)
        assert (row["macs"], row["params"], row["activations"], row["layers"]) == expected_row(task.source, None, task.batch, task.width)
        assert row["uncounted"] == 0 and row["error"] is None
    # the seed's numbers: naive 112,896,000 MACs; bottleneck 1,505,280 + 3,763,200 = 5,268,480
    assert outcome.rows[0]["macs"] == 112_896_000 and outcome.rows[4]["macs"] == 5_268_480


def test_errors_are_rows_not_crashes(tmp_path):
    tasks = plan(["googlenet", "no-such-model"], resolutions=[16, 224], widths=[None, 0.5])
    outcome = run_batch(tasks)
    by = {(r["source"], r["resolution"], r["width"]): r for r in outcome.rows}
    assert "kernel" in by["googlenet", 16, None]["error"]  # too small for a 7x7 pool: named, not a zero
    assert by["googlenet", 224, 0.5]["macs"] == expected_row("googlenet", 224, 1, 0.5)[0]
    assert by["no-such-model", 224, None]["error"].startswith("no-such-model: not a built-in model")
    assert outcome.failed == sum(1 for r in outcome.rows if r["error"])


def test_local_cluster_gives_the_in_process_rows(client, tmp_path):
    tasks = plan(**TASKS)
    here = run_batch(tasks, chunk_size=3)
    there = run_batch(tasks, Journal(tmp_path / "j.jsonl"), client=client, chunk_size=3)
    assert there.rows == here.rows and there.computed == 16
    assert len(client.scheduler_info()["workers"]) == 2


def test_big_grid_on_the_cluster_equals_the_in_memory_grid(client):
    from costlab.dgrid import grid_arrays, summarize
    from costlab.explore import largest_within, pareto_points
    from costlab.grid import evaluate_grid

    graph = load_source("googlenet")
    resolutions, widths, batches = list(range(160, 400, 10)), [0.3 + 0.05 * i for i in range(20)], [1, 3]
    full = evaluate_grid(graph, resolutions, widths, batches)
    lazy = grid_arrays(graph, resolutions, widths, batches, chunk=(2, 12, 10))  # 2 x 2 chunks
    budget = 1_500_000_000
    summary = summarize(lazy, budget, front=True, scheduler=client)
    local = summarize(lazy, budget, front=True)  # threads in this process
    assert np.array_equal(lazy.macs.compute(scheduler=client), full.macs)
    answer = largest_within(full, budget, "resolution")
    expected = np.array([row[2] or 0 for row in answer.rows]).reshape(len(batches), len(widths))
    for s in (summary, local):
        assert np.array_equal(s.largest, expected)
        assert s.within == int((full.macs <= budget).sum())
        assert (s.macs_min, s.macs_max) == (int(full.macs.min()), int(full.macs.max()))
        front = pareto_points(full, budget=budget)
        assert sorted(zip(*(s.front[k].tolist() for k in ("batch", "resolution", "width")))) == \
            sorted(zip(*(front[k].tolist() for k in ("batch", "resolution", "width"))))


KILLED_RUN = textwrap.dedent("""
    import os, signal, sys
    from costlab.batch import Journal, plan, run_batch
    tasks = plan(["naive", "bottleneck", "googlenet", "inception"], resolutions=[None, 200], batches=[1, 2], widths=[None, 0.75])
    def die(k):
        if k == 3:
            os.kill(os.getpid(), signal.SIGKILL)  # a crash right after the third chunk was journaled
    run_batch(tasks, Journal(__import__("pathlib").Path(sys.argv[1])), chunk_size=2, on_chunk=die)
""")


def test_a_killed_run_resumes_without_recomputing(tmp_path):
    journal_file = tmp_path / "j.jsonl"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", KILLED_RUN, str(journal_file)], env=env, capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    lines = journal_file.read_text().splitlines()
    assert len(lines) == 3 * 2  # three chunks of two tasks survived the kill
    tasks = plan(["naive", "bottleneck", "googlenet", "inception"], resolutions=[None, 200], batches=[1, 2], widths=[None, 0.75])
    # a crash in the middle of the next write leaves a torn line: it is dropped, not trusted
    with open(journal_file, "a") as handle:
        handle.write('{"key": "[\\"inception\\", ')
    resumed = run_batch(tasks, Journal(journal_file), chunk_size=2)
    assert (resumed.reused, resumed.computed) == (6, len(tasks) - 6)
    assert resumed.rows == run_batch(tasks).rows  # nothing lost, nothing different
    assert all(json.loads(line) for line in journal_file.read_text().splitlines())  # the torn tail was cut
    again = run_batch(tasks, Journal(journal_file))
    assert again.computed == 0 and again.reused == len(tasks)


def test_an_edited_spec_file_is_analysed_again(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text("name: net\ninput: 8x16x16\nlayers:\n  - {type: conv2d, out_channels: 4, kernel: 3}\n")
    journal = Journal(tmp_path / "j.jsonl")
    first = run_batch(plan([str(spec)]), journal)
    assert first.rows[0]["macs"] == 14 * 14 * 4 * 8 * 3 * 3  # (14x14x4) x (3x3x8) = 56,448
    spec.write_text("name: net\ninput: 8x16x16\nlayers:\n  - {type: conv2d, out_channels: 5, kernel: 3}\n")
    second = run_batch(plan([str(spec)]), Journal(tmp_path / "j.jsonl"))
    assert second.computed == 1 and second.rows[0]["macs"] == 14 * 14 * 5 * 8 * 3 * 3  # 70,560


def test_tables_of_a_run(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    outcome = run_batch(plan(["naive", "nope"], batches=[1, 2]))
    for name in ("out.csv", "out.json", "out.parquet"):
        write_outcome(outcome, str(tmp_path / name))
    csv = (tmp_path / "out.csv").read_text().splitlines()
    assert csv[0] == "source,resolution,batch,width,mode,macs,params,activations,layers,uncounted,error"
    assert csv[2].startswith("naive,,2,,infer,225792000,576048,")  # 2 x 112,896,000; 5x5x480x48 + 48 params
    assert json.loads((tmp_path / "out.json").read_text())["rows"][1]["macs"] == 225_792_000
    table = pq.read_table(tmp_path / "out.parquet").to_pydict()
    assert table["macs"] == [112_896_000, 225_792_000, None, None] and table["error"][2].startswith("nope:")
    assert journal_path(str(tmp_path / "out.csv")).name == ".out.csv.journal.jsonl"
    # text a spreadsheet would run is neutralised, as in every costlab CSV (render/records.csv_cell)
    hostile = run_batch(plan(["=HYPERLINK(1,2)"]))
    write_outcome(hostile, str(tmp_path / "h.csv"))
    assert (tmp_path / "h.csv").read_text().splitlines()[1].startswith('"\'=HYPERLINK(1,2)",')


def test_verify_rows_against_fvcore(tmp_path):
    pytest.importorskip("fvcore")
    outcome = run_batch(plan(["naive", "bottleneck"], batches=[1, 2], verify=True))
    ok = [r for r in outcome.rows if r["batch"] == 1]
    # fvcore counts one flop per conv MAC: 112,896,000 (naive) and 5,268,480 (bottleneck); PyTorch's params match
    assert [(r["fvcore"], r["torch_params"], r["mismatches"], r["verified"]) for r in ok] == \
        [(112_896_000, 576_048, 0, "ok"), (5_268_480, 26_944, 0, "ok")]
    assert all("batch 1" in r["error"] and r["macs"] is None for r in outcome.rows if r["batch"] == 2)  # said, not half-done
    write_outcome(outcome, str(tmp_path / "v.csv"))
    assert (tmp_path / "v.csv").read_text().splitlines()[0].endswith(",error,fvcore,torch_params,mismatches,verified")
