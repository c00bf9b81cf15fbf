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
