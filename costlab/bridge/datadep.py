"""Data-dependent ops on the meta device: an explicit assumption instead of a failure.

A meta tensor has a shape but no values, so ops whose output size depends on the values (``nonzero``,
boolean-mask indexing, ``masked_select``, torchvision's ``nms``) cannot run. costlab runs them under
one stated assumption, the upper bound: every element is kept (every mask entry true, every score
above its threshold, no box suppressed). Sizes then follow from the model's own limits (top-k,
``rpn_post_nms_top_n_test``, ``detections_per_img``), so the count is the same on every run.
Each use is recorded with the module it ran in, and becomes part of the analysis.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import torch
from torch import nn

Fake = Callable[[Tuple[Any, ...], Dict[str, Any]], Any]


def _long(n: int) -> torch.Tensor:
    return torch.empty((n,), dtype=torch.long, device="meta")


def _nonzero(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> torch.Tensor:
    x = args[0]
    return torch.empty((x.numel(), x.dim()), dtype=torch.long, device="meta")


def _mask_index(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    x, indices = args[0], list(args[1])
    expanded: List[Optional[torch.Tensor]] = []
    for index in indices:
        if index is not None and index.dtype in (torch.bool, torch.uint8):
            expanded += [_long(index.numel())] * index.dim()  # every entry true: all positions, one index per dim
        else:
            expanded.append(index)
    return torch.ops.aten.index.Tensor(x, expanded)


def _masked_select(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> torch.Tensor:
    x, mask = args[0], args[1]
    return torch.empty((torch.broadcast_shapes(x.shape, mask.shape).numel(),), dtype=x.dtype, device="meta")


def _nms(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> torch.Tensor:
    return _long(int(args[0].shape[0]))


# op name (overload packet) -> (the assumption in words, the fake)
FAKES: Dict[str, Tuple[str, Fake]] = {
    "nonzero": ("every element nonzero (every score above its threshold)", _nonzero),
    "index": ("every boolean mask entry true", _mask_index),
    "masked_select": ("every mask entry true", _masked_select),
    "nms": ("no box suppressed by NMS", _nms),
}


def fake_for(func: Any, args: Tuple[Any, ...]) -> Optional[Tuple[str, Fake]]:
    """The assumption and fake for a data-dependent op on meta tensors, or None."""
    name = func.overloadpacket.__name__
    if name not in FAKES or not any(isinstance(a, torch.Tensor) and a.device.type == "meta" for a in args):
        return None
    if name == "index" and not any(i is not None and i.dtype in (torch.bool, torch.uint8) for i in args[1]):
        return None
    return FAKES[name]


def _batched_nms(original: Any, args: Tuple[Any, ...]) -> torch.Tensor:
    return _long(int(args[0].shape[0]))


def _paste_masks(original: Any, args: Tuple[Any, ...]) -> torch.Tensor:
    masks, (h, w) = args[0], args[2]
    return torch.empty((masks.shape[0], 1, int(h), int(w)), dtype=masks.dtype, device="meta")


def _one_level(original: Any, args: Tuple[Any, ...]) -> torch.Tensor:
    """Every box pooled once, from the first level: the pooled output (and its cost) is the same at any level."""
    features, boxes, output_size, sampling_ratio, scales, mapper = args
    return original(features[:1], boxes, output_size, sampling_ratio, scales[:1], mapper)


def _keypoints(original: Any, args: Tuple[Any, ...]) -> Tuple[torch.Tensor, torch.Tensor]:
    maps = args[0]
    n, k = int(maps.shape[0]), int(maps.shape[1])
    return (torch.empty((n, k, 3), dtype=maps.dtype, device="meta"), torch.empty((n, k), dtype=maps.dtype, device="meta"))


# Python functions whose loops need values (per-class NMS, per-box sizes), replaced on meta tensors only:
# (module, function, the assumption in words, the stand-in)
STAND_INS = (
    ("torchvision.ops.boxes", "batched_nms", FAKES["nms"][0], _batched_nms),
    ("torchvision.models.detection.transform", "paste_masks_in_image",
     "masks pasted into the image without cost (each box's size depends on values; a resize, 0 MACs)", _paste_masks),
    ("torchvision.models.detection.roi_heads", "heatmaps_to_keypoints",
     "keypoints read from heatmaps without cost (per-box resize sizes depend on values; 0 MACs)", _keypoints),
    ("torchvision.ops.poolers", "_multiscale_roi_align",
     "each box pooled once, from one feature level (which level depends on its size; the pooled output does not)", _one_level),
)


@contextlib.contextmanager
def meta_stand_ins(note: Callable[[str], None]) -> Iterator[None]:
    """For the run: STAND_INS answer on meta tensors (and note their assumption); real tensors reach the original."""
    import importlib

    patched = []
    for module_name, attr, text, stand_in in STAND_INS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        original = getattr(module, attr)

        def wrapper(*args: Any, _original: Any = original, _text: str = text, _stand_in: Any = stand_in, **kwargs: Any) -> Any:
            from torch.utils._pytree import tree_flatten

            if kwargs or not any(isinstance(t, torch.Tensor) and t.device.type == "meta" for t in tree_flatten(args)[0]):
                return _original(*args, **kwargs)
            note(_text)
            return _stand_in(_original, args)

        setattr(module, attr, wrapper)
        patched.append((module, attr, original))
    try:
        yield
    finally:
        for module, attr, original in patched:
            setattr(module, attr, original)


def model_limits(model: nn.Module, train: bool = False) -> List[str]:
    """The limits that bound a detection model's data-dependent sizes, in words (torchvision's attribute names)."""
    training = "training" if train else "testing"
    lines = []
    rpn = getattr(model, "rpn", None)
    if rpn is not None and isinstance(getattr(rpn, "_post_nms_top_n", None), dict):
        n = rpn._post_nms_top_n[training]
        lines.append(f"proposals after NMS: {n:,} per image, the model's rpn_post_nms_top_n_{'test' if training == 'testing' else 'train'}")
    heads = getattr(model, "roi_heads", None)
    for owner, attr, text in ((heads, "detections_per_img", "box_detections_per_img"), (model, "detections_per_img", "detections_per_img")):
        if owner is not None and isinstance(getattr(owner, attr, None), int):
            heads_note = "; the mask and keypoint heads run on them" if owner is heads else ""
            lines.append(f"detections: {getattr(owner, attr):,} per image, the model's {text}{heads_note}")
            break
    if isinstance(getattr(model, "topk_candidates", None), int):
        lines.append(f"candidates per feature level: {model.topk_candidates:,}, the model's topk_candidates")
    return lines
