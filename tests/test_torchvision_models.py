"""Every torchvision model of every task module, captured on the meta device at the input its DEFAULT weights
document, against the weights' metadata (torchvision 0.29.1): `num_params` exactly and `_ops` (GMACs, really
MACs) to its 3 decimals.

Where ``weights=None`` builds a different module than the weights describe (an auxiliary head, frozen batch norm)
or `_ops` was measured at a proposal count, the model is built by its recipe (costlab/bridge/torchvision_recipes.py,
each with its cause). Every op of every model has a rule (`--strict` passes), and every model reproduces `_ops`, except the
UNREPRODUCED ones (cause stated there and in the README).
"""

import pytest

torchvision = pytest.importorskip("torchvision")

from costlab import analyze, load_source  # noqa: E402
from costlab.bridge.torchvision_recipes import RECIPES, TRAIN_MODE, UNREPRODUCED  # noqa: E402

M = torchvision.models
TASK_MODULES = {"classification": M, "segmentation": M.segmentation, "detection": M.detection, "video": M.video,
                "optical_flow": M.optical_flow, "quantization": M.quantization}
MODELS = [name for module in TASK_MODULES.values() for name in M.list_models(module=module)]


def _reference(name):
    query = RECIPES.get(name, ("", ""))[0]
    return f"torchvision:{name}" + (f"?{query}" if query else "")


@pytest.mark.parametrize("name", MODELS)
def test_model_matches_weights_metadata(name):
    meta = M.get_model_weights(name).DEFAULT.meta
    ref = _reference(name)
    infer = analyze(load_source(ref))
    # (training-mode batch norm needs 2+ values per channel: batch 2; params do not depend on the batch)
    params = analyze(load_source(ref, batch=2, mode="train"), mode="train") if name in TRAIN_MODE else infer
    assert params.total().params == meta["num_params"], name
    # every op of every task model has a rule (`--strict` passes); a regression names the op and where it ran
    assert not infer.uncounted, [u.text() for u in infer.uncounted]
    if name in UNREPRODUCED:
        assert round(infer.total().macs / 1e9, 3) != meta["_ops"], f"{name} reproduces now: drop it from UNREPRODUCED"
        return
    assert round(infer.total().macs / 1e9, 3) == meta["_ops"], name


def test_weights_none_builds_trainable_batch_norm_in_detection():
    """weights=None, weights_backbone=None (the default): torchvision builds nn.BatchNorm2d, whose affine params
    are parameters; the weights' model has FrozenBatchNorm2d. The difference is exactly those params, counted by
    PyTorch on the built model."""
    import torch

    a = analyze(load_source("torchvision:fasterrcnn_resnet50_fpn"))
    with torch.device("meta"):
        model = M.detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None)
    bn = sum(p.numel() for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d) for p in m.parameters())
    assert bn == 53_120  # ResNet-50's batch norms: 2 x 26,560 channels
    assert a.total().params == M.detection.FasterRCNN_ResNet50_FPN_Weights.DEFAULT.meta["num_params"] + bn
