"""The CLI's error discipline: 0 ok, 1 a check failed, 2 bad usage or input, 3 internal error,
130 interrupted; one line on stderr, never a traceback (unless --debug / COSTLAB_DEBUG=1)."""

import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from costlab.cli import main


def run(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env)


def one_line_error(result, code, *words):
    """Exit ``code``, no traceback, and the error on one line containing ``words``."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.strip()]
    assert len(errors) == 1, result.output  # one line: no "Usage:" block, no traceback, no half-printed table
    for word in words:
        assert word in errors[0], errors[0]


@pytest.fixture
def broken_analysis(monkeypatch):
    """analyze() raising an unexpected exception: a stand-in for a bug in costlab."""

    def explode(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr("costlab.analysis.analyze", explode)


def test_internal_error_is_exit_3_with_one_line(broken_analysis):
    result = run("analyze", "naive")
    one_line_error(result, 3, "internal error", "ZeroDivisionError: boom", "--debug")


@pytest.mark.parametrize("args, env", [(["--debug", "analyze", "naive"], None), (["analyze", "naive"], {"COSTLAB_DEBUG": "1"})])
def test_debug_shows_the_traceback(broken_analysis, args, env):
    result = run(*args, env=env)
    assert result.exit_code == 3
    assert "Traceback" in result.output and "ZeroDivisionError: boom" in result.output


def test_ctrl_c_is_130_quietly(monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("costlab.analysis.analyze", interrupt)
    result = run("analyze", "naive")
    assert result.exit_code == 130 and "Traceback" not in result.output and "Aborted" not in result.output


def test_unwritable_output_is_exit_2_naming_the_file(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    target = str(blocker / "out.json")  # a path "inside" a regular file: NotADirectoryError
    for args in (["analyze", "naive", "-o", target], ["baseline", "save", "naive", "-o", target],
                 ["chart", "naive", "-o", target + ".svg"], ["list", "-o", target]):
        one_line_error(run(*args), 2, target)
    assert [p.name for p in tmp_path.iterdir()] == ["a-file"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_output_into_proc_is_exit_2():
    one_line_error(run("analyze", "naive", "-o", "/proc/version"), 2, "/proc/version", "cannot write")


def test_check_failure_is_1_and_config_error_is_2(tmp_path):
    config = tmp_path / "costlab.toml"
    config.write_text('[[budget]]\nsource = "naive"\nmacs = "100M"\n')  # naive: 112,896,000 > 100M
    assert run("check", "--config", str(config)).exit_code == 1
    config.write_text('[[budget]]\nsource = "naive"\nmacz = "100M"\n')
    one_line_error(run("check", "--config", str(config)), 2, "macz")


@pytest.mark.parametrize("args, words", [
    (["chart", "naive", "--kind", "roofline", "-o", "r.png", "--batch", "B"], ["--batch", "B"]),
    (["compare", "naive", "bottleneck", "--measure", "--batch", "B"], ["--batch", "B"]),
    (["compare", "naive", "bottleneck", "--measure", "--input", "480xHxW"], ["--input"]),
    (["report", "naive", "-o", "r.html", "--input", "480xHxW"], ["--input", "needs numbers"]),
    (["chart", "naive", "-o", "r.svg", "--input", "480xHxW"], ["--input", "needs numbers"]),
    (["verify", "naive", "--input", "480xHxW"], ["--input"]),
    (["chart", "naive", "--kind", "sweep", "-o", "s.svg"], ["--kind", "sweep"]),
    (["sweep", "naive", "--budget", "-1G"], ["--budget"]),
    (["sweep", "naive", "--budget", "0"], ["--budget"]),
    (["baseline", "diff", "x.json", "naive", "--max-growth", "lots"], ["--max-growth"]),
    (["analyze", "naive", "--depth", "0"], ["--depth", "costlab analyze --help"]),
    (["analyze"], ["Missing argument 'SOURCE'"]),
    (["compare", "naive"], ["at least two models"]),
    (["no-such-command"], ["No such command"]),
    (["baseline", "save", "naive", "-o", "b.json", "--batch", "B"], ["--batch"]),
    (["sweep", "naive", "--batch", "B"], ["--batch"]),
])
def test_bad_usage_is_one_line_exit_2(args, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one_line_error(run(*args), 2, *words)
    assert not list(tmp_path.iterdir())  # nothing written


def test_help_does_not_advertise_what_a_command_refuses():
    for command in ("chart", "report", "verify", "profile"):
        text = run(command, "--help").output
        assert "3xHxW" not in text, command
    (kind,) = [p for p in main.get_command(None, "chart").params if p.name == "kind"]
    assert "sweep" not in kind.type.choices  # offered only where it works: costlab sweep --chart


def test_missing_torch_extra_is_one_line_everywhere(tmp_path):
    """torch hidden (sys.modules['torch'] = None makes `import torch` fail as when it is not installed)."""
    code = textwrap.dedent(f"""
        import sys
        for name in ("torch", "torchvision", "fvcore"):
            sys.modules[name] = None
        from click.testing import CliRunner
        from costlab.cli import main
        out = {str(tmp_path)!r}
        for args in (["verify", "naive"], ["profile", "naive"], ["report", "naive", "--verify", "-o", out + "/a.html"],
                     ["report", "naive", "--profile", "-o", out + "/b.html"], ["compare", "naive", "bottleneck", "--measure"],
                     ["chart", "naive", "--kind", "roofline", "-o", out + "/r.png"], ["analyze", "torchvision:resnet18"]):
            r = CliRunner().invoke(main, args)
            lines = r.output.strip().splitlines()
            print(r.exit_code, len(lines), "Traceback" in r.output, "pip install 'costlab[torch]'" in r.output, args[0])
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(out) == 7
    for line in out:
        assert line.startswith("2 1 False True"), line


def test_verify_stderr_is_quiet_when_not_a_terminal():
    """No torch.jit.script FutureWarning and no progress bar in a CI log (stderr is a pipe here)."""
    result = subprocess.run([sys.executable, "-m", "costlab", "verify", "naive", "bottleneck"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_sigterm_while_writing_leaves_no_temporary_file(tmp_path):
    """SIGTERM arriving between writing the temporary file and renaming it: exit 143, the old target
    untouched and no stray .NAME.*.tmp beside it."""
    target = tmp_path / "out.json"
    target.write_text("previous\n")
    code = textwrap.dedent(f"""
        import os, signal
        import costlab.files
        def replace(src, dst):
            os.kill(os.getpid(), signal.SIGTERM)
        costlab.files.os.replace = replace
        from costlab.cli import main
        main(["analyze", "naive", "--format", "json", "-o", {str(target)!r}])
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 143 and "Traceback" not in result.stderr
    assert target.read_text() == "previous\n" and [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_version_without_installed_metadata(monkeypatch):
    import importlib.metadata

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    assert "costlab, version " in run("--version").output
    monkeypatch.setattr(importlib.metadata, "version", missing)
    result = run("--version")
    assert result.exit_code == 0 and "not installed" in result.output and "Traceback" not in result.output
