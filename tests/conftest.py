"""Shared helpers: build small graphs from spec data and analyse them."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from costlab.analysis import Analysis, analyze
from costlab.spec import graph_from_data


def spec(layers: List[Dict[str, Any]], input: str = "3x32x32", **extra: Any) -> Dict[str, Any]:
    """A spec mapping around ``layers``."""
    return {"name": "t", "input": input, "layers": layers, **extra}


def run(layers: List[Dict[str, Any]], input: str = "3x32x32", **kwargs: Any) -> Analysis:
    """Analyse a small spec given as data."""
    return analyze(graph_from_data(spec(layers, input), "test.yaml"), **kwargs)


@pytest.fixture
def cli():
    """Invoke the costlab CLI in-process: cli('analyze', 'naive') -> click Result."""
    from click.testing import CliRunner

    from costlab.cli import main

    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke
