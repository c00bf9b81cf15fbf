"""Example inputs for a PyTorch model: --input specs made into tensors, and torchvision's defaults per task.

Integer inputs are zeros (a valid index into any embedding); float inputs are empty on the meta
device and seeded random values (``torch.manual_seed(0)``) on a real device, so runs repeat exactly.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, Dict, Optional, Tuple

import torch

from ..errors import CostlabError
from ..inputs import InputSpec, Inputs, TensorInput

Args = Tuple[Tuple[Any, ...], Dict[str, Any]]
SEED = 0


def import_module(name: str, what: str) -> Any:
    """Import ``name`` with the current directory on the path, as ``python -c`` would."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise CostlabError(f"{what}: cannot import {name!r}: {e}") from None
    except Exception as e:  # the user's module: any failure is reported, not a traceback
        raise CostlabError(f"{what}: importing {name!r} failed: {type(e).__name__}: {e}") from None


def _tensor(spec: TensorInput, batch: int, device: str, generator: torch.Generator) -> torch.Tensor:
    dtype = getattr(torch, spec.dtype)
    shape = (batch, *(int(d) for d in spec.shape))
    if device == "meta":
        return torch.empty(shape, dtype=dtype, device="meta")
    if dtype.is_floating_point:
        return torch.randn(shape, generator=generator).to(dtype=dtype, device=device)
    return torch.zeros(shape, dtype=dtype, device=device)


def _normalise(value: Any, where: str) -> Args:
    """A factory's result as (args, kwargs): a tensor, a tuple/list, a dict, or (tuple, dict)."""
    if isinstance(value, torch.Tensor):
        return (value,), {}
    if isinstance(value, dict):
        return (), dict(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and isinstance(value[0], (tuple, list)) and isinstance(value[1], dict):
        return tuple(value[0]), dict(value[1])
    if isinstance(value, (tuple, list)):
        return tuple(value), {}
    raise CostlabError(f"{where}: example inputs must be a tensor, a tuple of tensors, a dict of keyword tensors "
                       f"or (args, kwargs); got {type(value).__name__}")


def _to_device(value: Any, device: str) -> Any:
    from torch.utils._pytree import tree_map

    return tree_map(lambda t: t.to(device) if isinstance(t, torch.Tensor) else t, value)


def example_args(spec: InputSpec, batch: int = 1, device: str = "meta") -> Args:
    """Positional and keyword arguments for forward: from a shape, several tensors, or a factory."""
    generator = torch.Generator().manual_seed(SEED)
    if not isinstance(spec, Inputs):
        return (_tensor(TensorInput(tuple(spec)), batch, device, generator),), {}
    if spec.factory:
        module, _, name = spec.factory.partition(":")
        fn = getattr(import_module(module, f"--input {spec.factory}"), name, None)
        if not callable(fn):
            raise CostlabError(f"--input {spec.factory}: {module} has no callable {name!r}")
        torch.manual_seed(SEED)
        try:
            value = fn()
        except Exception as e:  # the user's function
            raise CostlabError(f"--input {spec.factory}: making the inputs failed: {type(e).__name__}: {e}") from None
        args, kwargs = _normalise(value, f"--input {spec.factory}")
        return _to_device(args, device), _to_device(kwargs, device)
    args = tuple(_tensor(t, batch, device, generator) for t in spec.tensors if t.name is None)
    kwargs = {t.name: _tensor(t, batch, device, generator) for t in spec.tensors if t.name is not None}
    return args, kwargs


def first_shape(args: Args) -> Tuple[int, ...]:
    """The shape (with batch) of the first tensor among the arguments, for ``Analysis.input`` and its batch."""
    from torch.utils._pytree import tree_flatten

    for value in tree_flatten(args)[0]:
        if isinstance(value, torch.Tensor):
            return tuple(int(d) for d in value.shape)
    return ()


# torchvision: the input each task's weights document --------------------------------------------

# Frames per clip: `clip_len=16` in the docs of most video weights; torchvision's `_ops` are measured at 16 frames
# for every video model (swin3d's docs say clip_len=32, yet its `_ops` are half of what 32 frames cost).
VIDEO_FRAMES = 16


def _frames(meta: Dict[str, Any]) -> int:
    """Frames per clip: 16, or the weights' min_temporal_size when that is more."""
    return max(VIDEO_FRAMES, int(meta.get("min_temporal_size", 1)))


# (task module, input) for torchvision's task modules; sizes come from each model's DEFAULT weights.
def torchvision_input(name: str) -> Optional[InputSpec]:
    """The input a torchvision model's DEFAULT weights document: crop (classification, video), resize (segmentation),
    RAFT's two images, a detection image; None when the model has no weights."""
    import torchvision.models as M

    try:
        weights = M.get_model_weights(name).DEFAULT
    except (ValueError, AttributeError, KeyError):
        return None
    transforms, meta = weights.transforms(), weights.meta
    task = task_of(name)
    crop = getattr(transforms, "crop_size", None)
    resize = getattr(transforms, "resize_size", None)
    if task == "video" and crop is not None:
        return (3, _frames(meta), int(crop[0]), int(crop[-1]))
    if task == "segmentation" and resize is not None:
        return (3, int(resize[0]), int(resize[-1]))
    if task == "optical_flow":
        image = TensorInput(OPTICAL_FLOW_INPUT)
        return Inputs((image, image))
    if task == "detection":
        return DETECTION_INPUT
    if crop:
        return (3, int(crop[0]), int(crop[-1]))
    return None


# Detection weights' transforms do not resize (the model does, to min_size 800 / max_size 1333 for most):
# a COCO-sized image is what their metadata was measured on (see README "torchvision task models").
DETECTION_INPUT = (3, 800, 800)
# RAFT's images must be a multiple of 8 in H and W; Sintel frames (436x1024) padded to 440x1024.
OPTICAL_FLOW_INPUT = (3, 440, 1024)


def task_of(name: str) -> str:
    """'classification', 'segmentation', 'detection', 'video', 'optical_flow' or 'quantization'."""
    import torchvision.models as M

    for task, module in (("segmentation", M.segmentation), ("detection", M.detection), ("video", M.video),
                         ("optical_flow", M.optical_flow), ("quantization", M.quantization)):
        if name in M.list_models(module=module):
            return task
    return "classification"
