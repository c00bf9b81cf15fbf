"""The cyclic collector is paused while a spec loads and a graph is analysed, and left as it was."""

import gc

import pytest

from costlab import analyze, load_source
from costlab.errors import SpecError
from costlab.spec import graph_from_data


@pytest.mark.parametrize("enabled", [True, False])
def test_loading_and_analysis_leave_the_collector_as_it_was(enabled):
    graph = load_source("googlenet")
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        analyze(graph)
        assert gc.isenabled() is enabled
        with pytest.raises(SpecError):  # an input too small for the kernels: an error mid-analysis
            analyze(graph, (3, 4, 4))
        assert gc.isenabled() is enabled
        with pytest.raises(SpecError):
            graph_from_data({"input": "3x8x8", "layers": [{"type": "conv", "out_channels": 0, "kernel": 3}]}, "t.yaml")
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_the_collector_is_paused_during_analysis(monkeypatch):
    """Formulas run with the collector off; it is on again afterwards."""
    import costlab.analysis

    states = []
    real = costlab.analysis.for_layer

    def spying(layer):
        states.append(gc.isenabled())
        return real(layer)

    monkeypatch.setattr(costlab.analysis, "for_layer", spying)
    gc.enable()
    analyze(load_source("naive"))
    assert states and not any(states) and gc.isenabled()  # one call per layer, all with the collector off
