"""The GoogLeNet notebook runs top to bottom; its cells assert every number they state."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "googlenet_costs.ipynb"


def test_notebook_executes_and_its_numbers_hold():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = "".join(o.get("text", "") for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", []))
    assert "21.4x fewer multiply-adds" in outputs
    assert "inference: 1,582,671,872 MACs, 6,998,552 params" in outputs
