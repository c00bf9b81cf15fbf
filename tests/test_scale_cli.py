"""costlab sweep over a grid and costlab batch, through the command line."""

import json

import pytest

from costlab import analyze, load_source
from costlab.batch import Journal, journal_path, plan, run_chunk
from costlab.sweep import widen


def numeric_macs(model, resolution, width, batch=1):
    graph = load_source(model)
    return analyze(widen(graph, width), (graph.input_shape[0], resolution, resolution), batch).total().macs


def test_sweep_grid_csv_every_point_equals_a_numeric_analysis(cli):
    result = cli("sweep", "googlenet", "--resolution", "200:260:20", "--width", "0.5,0.75,1.25", "--batch", "1,3", "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "batch,resolution,width,macs,params,activations" and len(lines) == 1 + 2 * 4 * 3
    for line in lines[1:]:
        batch, resolution, width, macs, *_ = line.split(",")
        assert int(macs) == numeric_macs("googlenet", int(resolution), float(width), int(batch))


def test_sweep_grid_budget_answers_and_pareto(cli):
    result = cli("sweep", "googlenet", "--resolution", "192:288:32", "--width", "0.5,1", "--batch", "1,4", "--budget", "1.5G", "--pareto")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("googlenet: 16 points")
    # width 1, batch 1: 192 is the largest of 192..288 within 1.5G (224 needs 1,582,671,872 MACs)
    assert "1        1        192x192          1.16G (1,163,051,008)" in out
    assert numeric_macs("googlenet", 192, 1.0) == 1_163_051_008
    assert "Pareto front (max:macs,min:params,min:activations) within 1,500,000,000 MACs: 6 of 16 points" in out


def test_sweep_grid_table_files_and_heatmap(cli, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    table, heat = tmp_path / "g.parquet", tmp_path / "h.png"
    result = cli("sweep", "googlenet", "--resolution", "128:320:8", "--width", "0.25:1.5:0.25", "--budget", "1.5G",
                 "--table", str(table), "--heatmap", str(heat), "--pareto")
    assert result.exit_code == 0, result.output
    data = pq.read_table(table).to_pydict()
    assert len(data["macs"]) == 25 * 6 and sum(data["on_front"]) >= 1
    i = data["resolution"].index(224) + data["width"][data["resolution"].index(224):].index(1.0)
    assert data["macs"][i] == 1_582_671_872  # GoogLeNet at 224, width 1 (README)
    assert not any(f and m > 1_500_000_000 for f, m in zip(data["on_front"], data["macs"]))
    assert heat.read_bytes()[:4] == b"\x89PNG"


def test_sweep_grid_errors(cli):
    bad = cli("sweep", "googlenet", "--resolution", "16,224", "--width", "1,2")
    assert bad.exit_code == 2 and bad.output.count("\n") == 1
    assert "layer 'pool3'" in bad.output and "resolution 16" in bad.output
    assert cli("sweep", "googlenet", "--batch", "0").exit_code == 2
    assert cli("sweep", "googlenet", "--width", "0.5,1", "--batch", "1,2", "--chart", "x.png").exit_code == 2
    assert cli("sweep", "googlenet", "--resolution", "224,256", "--heatmap", "x.png").exit_code == 2  # one width


def test_sweep_grid_on_a_local_cluster_matches(cli):
    distributed = pytest.importorskip("distributed")  # noqa: F841
    result = cli("sweep", "googlenet", "--resolution", "128:400:4", "--width", "0.5,1,1.5", "--budget", "1.5G", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "batch 1, width 1: 220x220" in result.output  # 224 is over 1.5G, 220 under (step 4 from 128)
    assert numeric_macs("googlenet", 220, 1.0) <= 1_500_000_000 < numeric_macs("googlenet", 224, 1.0)


def test_batch_command_table_exit_code_and_resume(cli, tmp_path):
    out = tmp_path / "runs.json"
    result = cli("batch", "naive", "bottleneck", "ghost", "--batch", "1,2", "-o", str(out))
    assert result.exit_code == 1  # 'ghost' failed: a row with its error, the run went on
    rows = json.loads(out.read_text())["rows"]
    assert [r["macs"] for r in rows] == [112_896_000, 225_792_000, 5_268_480, 10_536_960, None, None]
    assert rows[4]["error"].startswith("ghost: not a built-in model")
    assert not journal_path(str(out)).exists()  # done: the table holds everything
    # an interrupted run left a journal with the first two tasks: the rerun reuses them
    tasks = plan(["naive", "bottleneck"], batches=[1, 2])
    Journal(journal_path(str(out))).append(run_chunk(tasks[:2]))
    result = cli("batch", "naive", "bottleneck", "--batch", "1,2", "-o", str(out))
    assert result.exit_code == 0
    assert "4 rows (2 computed, 2 from the journal of an interrupted run; 0 failed)" in result.output
    assert [r["macs"] for r in json.loads(out.read_text())["rows"]] == [112_896_000, 225_792_000, 5_268_480, 10_536_960]
    sources = tmp_path / "list.txt"
    sources.write_text("# the paper's pair\nnaive\nbottleneck  # 1x1 reduction first\n")
    assert cli("batch", "--from", str(sources), "-o", str(tmp_path / "b.csv")).exit_code == 0
    assert (tmp_path / "b.csv").read_text().count("\n") == 3
    assert cli("batch", "naive", "-o", str(tmp_path / "x.xlsx")).exit_code == 2
    assert cli("batch", "-o", str(tmp_path / "x.csv")).exit_code == 2


def test_one_axis_width_sweep_of_a_1d_input_keeps_its_size(cli, tmp_path):
    """Found in review: the grid route reported resolution 1 for an input that is not CxHxW. conv1d 4 -> 8
    channels, kernel 3, on length 100: 98 positions x 8 x 4 x 3 = 9,408 MACs; at x0.5, 4 output channels: 4,704."""
    spec = tmp_path / "c1d.yaml"
    spec.write_text("name: c1d\ninput: 4x100\nlayers:\n  - {type: conv1d, out_channels: 8, kernel: 3}\n  - {type: relu}\n")
    result = cli("sweep", str(spec), "--width", "0.5,1", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == ["100,0.5,4704,52,784", "100,1,9408,104,1568"]


def test_width_range_never_passes_its_stop():
    from costlab.sweep import parse_factors

    assert parse_factors("0.5:1:0.3") == [0.5, 0.8]  # was 0.5, 0.8, 1.1 (round(1.67) + 1 points)
    assert parse_factors("0.5:1.5:0.25") == [0.5, 0.75, 1.0, 1.25, 1.5]
    assert parse_factors("0.1:1:0.1")[-1] == 1.0  # (1 - 0.1) / 0.1 is 8.999...: the stop is still reached


def test_refused_heatmap_leaves_no_table_and_empty_options_are_refused(cli, tmp_path):
    table = tmp_path / "t.csv"
    for heatmap, args in (("h.png", ["--resolution", "224"]), ("h.jpg", ["--resolution", "224,256"])):
        result = cli("sweep", "googlenet", *args, "--width", "0.5,1", "--table", str(table), "--heatmap", str(tmp_path / heatmap))
        assert result.exit_code == 2 and not table.exists(), result.output
    for option in ("--width", "--resolution", "--pareto"):
        result = cli("sweep", "googlenet", option, "")
        assert result.exit_code == 2 and option in result.output, (option, result.output)


def test_width_refusal_names_the_spec_file(cli, tmp_path):
    spec = tmp_path / "grouped.yaml"
    spec.write_text("name: g\ninput: 4x8x8\nlayers:\n  - {type: conv, out_channels: 8, kernel: 3, groups: 2}\n")
    result = cli("sweep", str(spec), "--width", "0.5")
    assert result.exit_code == 2 and f"{spec}: layer 'conv': field 'groups'" in result.output
