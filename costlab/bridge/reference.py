"""Python model references: 'torchvision:NAME', 'timm:NAME' or 'package.module:factory', each [?k=v&...].

Models are constructed on the meta device (no weights are allocated); torchvision models always
with ``weights=None`` (nothing is downloaded).
"""

from __future__ import annotations

import contextlib
import importlib
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

import torch
from torch import nn

from ..errors import CostlabError


@dataclass(frozen=True)
class Reference:
    """A parsed reference: where the factory lives, its name and keyword arguments."""

    text: str
    module: str
    factory: str
    kwargs: Tuple[Tuple[str, Any], ...]

    @property
    def is_torchvision(self) -> bool:
        return self.module == "torchvision"


def _value(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_reference(text: str) -> Reference:
    """Split 'module:factory?k=v&k2=v2'; values become bool, None, int, float or str."""
    target, _, query = text.partition("?")
    module, sep, factory = target.partition(":")
    if not sep or not module or not factory.isidentifier():
        raise CostlabError(f"{text}: a Python model reference looks like torchvision:googlenet or package.module:factory")
    kwargs = []
    for part in filter(None, query.split("&")):
        key, eq, value = part.partition("=")
        if not eq or not key.isidentifier():
            raise CostlabError(f"{text}: keyword arguments look like ?aux_logits=false&num_classes=10, got {part!r}")
        kwargs.append((key, _value(value)))
    return Reference(text, module, factory, tuple(kwargs))


def default_input(ref: Reference) -> Tuple[int, int, int]:
    """3xSxS where S is the crop size of a torchvision model's default weights' transforms; else 3x224x224."""
    if ref.is_torchvision:
        import torchvision

        try:
            weights = torchvision.models.get_model_weights(ref.factory).DEFAULT
            size = weights.transforms().crop_size[0]
            return (3, int(size), int(size))
        except (ValueError, AttributeError, KeyError):
            pass
    if ref.module == "timm":
        try:
            import timm

            size = timm.get_pretrained_cfg(ref.factory).input_size  # type: ignore[union-attr]  # None: AttributeError below
            return (int(size[0]), int(size[1]), int(size[2]))
        except (ImportError, AttributeError, RuntimeError, TypeError):
            pass
    return (3, 224, 224)


def _factory(ref: Reference) -> Tuple[Callable[..., nn.Module], Dict[str, Any]]:
    kwargs = dict(ref.kwargs)
    if ref.is_torchvision:
        import torchvision

        if ref.factory not in torchvision.models.list_models():
            raise CostlabError(f"{ref.text}: torchvision has no model {ref.factory!r} (see torchvision.models.list_models())")
        kwargs.setdefault("weights", None)
        if kwargs["weights"] is not None:
            raise CostlabError(f"{ref.text}: weights cannot be downloaded here; costs do not depend on them (use weights=None)")
        return torchvision.models.get_model_builder(ref.factory), kwargs
    if ref.module == "timm":
        try:
            import timm
        except ImportError as e:
            raise CostlabError(f"{ref.text}: timm is not installed: {e}") from None
        if not timm.is_model(ref.factory):
            raise CostlabError(f"{ref.text}: timm has no model {ref.factory!r}")
        kwargs.setdefault("pretrained", False)
        return (lambda **kw: timm.create_model(ref.factory, **kw)), kwargs
    try:
        module = importlib.import_module(ref.module)
    except ImportError as e:
        raise CostlabError(f"{ref.text}: cannot import {ref.module!r}: {e}") from None
    factory = getattr(module, ref.factory, None)
    if not callable(factory):
        raise CostlabError(f"{ref.text}: {ref.module} has no callable {ref.factory!r}")
    return factory, kwargs


@contextlib.contextmanager
def parameters_on_meta() -> Iterator[None]:
    """Move each parameter and buffer to the meta device as it is registered (for builders that compute
    with real tensors while building, where ``torch.device('meta')`` fails). Peak memory is one tensor."""
    register_parameter, register_buffer = nn.Module.register_parameter, nn.Module.register_buffer

    def parameter(self: nn.Module, name: str, param: Optional[nn.Parameter]) -> None:
        register_parameter(self, name, param)
        if param is not None and param.device.type != "meta":
            self._parameters[name] = nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)

    def buffer(self: nn.Module, name: str, tensor: Optional[torch.Tensor], persistent: bool = True) -> None:
        register_buffer(self, name, tensor if tensor is None else tensor.to("meta"), persistent)

    nn.Module.register_parameter, nn.Module.register_buffer = parameter, buffer  # type: ignore[method-assign]
    try:
        yield
    finally:
        nn.Module.register_parameter, nn.Module.register_buffer = register_parameter, register_buffer  # type: ignore[method-assign]


def construct(ref: Reference, input_shape: Optional[Tuple[int, ...]] = None, device: str = "meta") -> nn.Module:
    """Build the referenced model; on the meta device unless ``device`` says otherwise."""
    factory, kwargs = _factory(ref)
    if ref.is_torchvision and ref.factory.startswith("vit_") and "image_size" not in kwargs:
        kwargs["image_size"] = (input_shape or default_input(ref))[-1]  # ViT's position embedding depends on it
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torchvision's notes about init_weights defaults
            return _build(factory, kwargs, device)
    except CostlabError:
        raise
    except Exception as e:  # the user's factory: any failure is reported, not a traceback
        raise CostlabError(f"{ref.text}: building the model failed: {type(e).__name__}: {e}") from None


def _build(factory: Callable[..., nn.Module], kwargs: Dict[str, Any], device: str) -> nn.Module:
    if device != "meta":
        return factory(**kwargs)
    try:
        with torch.device("meta"):
            return factory(**kwargs)
    except (NotImplementedError, RuntimeError):
        with parameters_on_meta():
            return factory(**kwargs).to("meta")
