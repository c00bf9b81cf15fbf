"""Shared fixtures."""

import pytest


@pytest.fixture
def cli():
    """Invoke the costlab CLI in-process: cli('analyze', 'naive') -> click Result."""
    from click.testing import CliRunner

    from costlab.cli import main

    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def pytest_terminal_summary(terminalreporter):
    """Print how many hostile-corpus and fuzz cases ran (CI logs show the counts)."""
    from hostile import CASES

    if CASES:
        terminalreporter.section("hostile inputs and fuzzing")
        for suite, n in sorted(CASES.items()):
            terminalreporter.write_line(f"{suite}: {n:,} cases")
        terminalreporter.write_line(f"total: {sum(CASES.values()):,} cases")
