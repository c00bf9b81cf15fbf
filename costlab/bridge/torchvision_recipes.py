"""How to build the torchvision model a weights' metadata (`num_params`, `_ops`) describes, where
``weights=None`` builds another one, and why. Used by scripts/verify_torchvision.py and the tests.

``weights=DEFAULT`` builds the architecture of the weights without downloading them (reference.py).
"""

from typing import Dict, Tuple

_AUX = "the weights' model has the auxiliary FCN head (aux_loss=True); weights=None builds none"
_FROZEN = ("with weights the backbone's batch norm is FrozenBatchNorm2d (buffers); with weights=None and "
           "weights_backbone=None it is nn.BatchNorm2d, whose affine weight and bias are parameters")

# model -> (reference query, cause)
RECIPES: Dict[str, Tuple[str, str]] = {
    **dict.fromkeys(("fcn_resnet50", "fcn_resnet101", "deeplabv3_resnet50", "deeplabv3_resnet101", "deeplabv3_mobilenet_v3_large"), ("aux_loss=true", _AUX)),
    **dict.fromkeys(("fasterrcnn_resnet50_fpn", "fcos_resnet50_fpn", "retinanet_resnet50_fpn", "maskrcnn_resnet50_fpn_v2"), ("weights=DEFAULT", _FROZEN)),
    "keypointrcnn_resnet50_fpn": ("weights=DEFAULT&box_detections_per_img=1",
                                  _FROZEN + "; _ops was measured with 1 detection (0 give 133,924,041,216, 1 gives 137,419,502,080)"),
    "maskrcnn_resnet50_fpn": ("weights=DEFAULT&box_detections_per_img=0",
                              _FROZEN + "; _ops counts no mask head: it was measured with 0 detections"),
    **dict.fromkeys(("fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn"), ("weights=DEFAULT&rpn_post_nms_top_n_test=0", _FROZEN + "; _ops counts no box head: it was measured with 0 proposals")),
}

# `_ops` that no input or proposal count reproduces here (README, "torchvision task models").
UNREPRODUCED: Dict[str, str] = {
    "raft_large": "the image size _ops was measured at is not documented",
    "raft_small": "the image size _ops was measured at is not documented",
}

# Inception v3's auxiliary head runs in training only; the metadata's params include it.
TRAIN_MODE = {"inception_v3", "quantized_inception_v3"}
