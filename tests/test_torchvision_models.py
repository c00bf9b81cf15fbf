"""Every torchvision classification model, captured on the meta device at its default weights' input size,
against the weights' metadata: `num_params` exactly, `_ops` (GMACs) to its 3 decimals."""

import pytest

torchvision = pytest.importorskip("torchvision")

from costlab import analyze, load_source  # noqa: E402

MODELS = torchvision.models.list_models(module=torchvision.models)
# Metadata parameters include these training-only auxiliary heads (they run only in training mode).
TRAIN_MODE = {"inception_v3"}


@pytest.mark.parametrize("name", MODELS)
def test_model_matches_weights_metadata(name):
    meta = torchvision.models.get_model_weights(name).DEFAULT.meta
    mode = "train" if name in TRAIN_MODE else "infer"
    infer = analyze(load_source(f"torchvision:{name}"))
    assert round(infer.total().macs / 1e9, 3) == meta["_ops"], name
    # (training-mode batch norm needs 2+ values per channel: batch 2; params do not depend on the batch)
    params = infer if mode == "infer" else analyze(load_source(f"torchvision:{name}", batch=2, mode="train"), mode="train")
    assert params.total().params == meta["num_params"], name
    assert not [r.name for r in infer.rows if r.op == "unsupported"]
