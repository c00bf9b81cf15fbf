"""Python model references: 'torchvision:NAME', 'timm:NAME' or 'package.module:factory', each [?k=v&...].

Models are constructed on the meta device (no weights are allocated); torchvision models always
with every weights-like argument of their builder set to None (``weights``, ``weights_backbone``):
nothing is downloaded. ``module:factory`` is imported with the current directory on the path.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

import torch
from torch import nn

from ..errors import CostlabError
from ..inputs import Inputs, InputSpec
from .inputs import import_module


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


def default_input(ref: Reference) -> InputSpec:
    """The input a model's weights document: torchvision per task (crop, resize, clip, two images), timm's
    pretrained config; else 3x224x224."""
    if ref.is_torchvision:
        from .inputs import torchvision_input

        found = torchvision_input(ref.factory)
        if found is not None:
            return found
    if ref.module == "timm":
        try:
            import timm

            size = timm.get_pretrained_cfg(ref.factory).input_size  # type: ignore[union-attr]  # None: AttributeError below
            return (int(size[0]), int(size[1]), int(size[2]))
        except (ImportError, AttributeError, RuntimeError, TypeError):
            pass
    return (3, 224, 224)


# Arguments that fetch pretrained weights, and the value that keeps a builder offline.
OFFLINE = {"weights": None, "weights_backbone": None, "pretrained": False, "pretrained_backbone": False}


def offline_kwargs(factory: Callable[..., Any], given: Dict[str, Any], where: str, named: bool = False) -> Dict[str, Any]:
    """``given`` plus None/False for every weights-like argument the factory's signature has
    (weights, weights_backbone, pretrained, ...). A request for real weights is refused, except, with ``named``,
    a torchvision weights name (DEFAULT, COCO_V1, ResNet50_Weights.IMAGENET1K_V2): the architecture those weights
    describe is built, without downloading them (see ``weights_not_downloaded``)."""
    import inspect

    try:
        names = list(inspect.signature(factory).parameters)
    except (TypeError, ValueError):
        names = []
    kwargs = dict(given)
    for name in names:
        offline = next((v for k, v in OFFLINE.items() if name == k or name.endswith("_" + k)), "")
        if offline == "":
            continue
        value = kwargs.setdefault(name, offline)
        if value not in (None, False) and not (named and isinstance(value, str)):
            hint = f", or a weights name such as {name}=DEFAULT for the architecture they describe" if named else ""
            raise CostlabError(f"{where}: {name} cannot be downloaded here; costs do not depend on them (use {name}={offline}{hint})")
    return kwargs


def _factory(ref: Reference) -> Tuple[Callable[..., nn.Module], Dict[str, Any]]:
    kwargs = dict(ref.kwargs)
    if ref.is_torchvision:
        import torchvision

        if ref.factory not in torchvision.models.list_models():
            raise CostlabError(f"{ref.text}: torchvision has no model {ref.factory!r} (see torchvision.models.list_models())")
        builder = torchvision.models.get_model_builder(ref.factory)
        return builder, offline_kwargs(builder, kwargs, ref.text, named=True)
    if ref.module == "timm":
        try:
            import timm
        except ImportError as e:
            raise CostlabError(f"{ref.text}: timm is not installed: {e}") from None
        if not timm.is_model(ref.factory):
            raise CostlabError(f"{ref.text}: timm has no model {ref.factory!r}")
        kwargs.setdefault("pretrained", False)
        return (lambda **kw: timm.create_model(ref.factory, **kw)), kwargs
    module = import_module(ref.module, ref.text)
    factory = getattr(module, ref.factory, None)
    if not callable(factory):
        raise CostlabError(f"{ref.text}: {ref.module} has no callable {ref.factory!r}")
    return factory, kwargs


class _NotDownloaded(dict):
    """Stands in for a weights file: costs depend on the architecture, not on the values."""


@contextlib.contextmanager
def weights_not_downloaded() -> Iterator[None]:
    """While a torchvision builder runs: named weights give their architecture (num_classes, aux heads, frozen
    batch norm) but are never fetched; ``load_state_dict`` of the stand-in does nothing."""
    from torchvision.models._api import WeightsEnum

    get_state_dict, load_state_dict = WeightsEnum.get_state_dict, nn.Module.load_state_dict

    def load(self: nn.Module, state_dict: Any, *args: Any, **kwargs: Any) -> Any:
        return None if isinstance(state_dict, _NotDownloaded) else load_state_dict(self, state_dict, *args, **kwargs)

    WeightsEnum.get_state_dict = lambda self, *args, **kwargs: _NotDownloaded()
    nn.Module.load_state_dict = load  # type: ignore[method-assign]
    try:
        yield
    finally:
        WeightsEnum.get_state_dict = get_state_dict
        nn.Module.load_state_dict = load_state_dict  # type: ignore[method-assign]


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


def construct(ref: Reference, input_shape: Optional[InputSpec] = None, device: str = "meta") -> nn.Module:
    """Build the referenced model; on the meta device unless ``device`` says otherwise."""
    factory, kwargs = _factory(ref)
    if ref.is_torchvision and ref.factory.startswith("vit_") and "image_size" not in kwargs:
        spec = input_shape or default_input(ref)
        kwargs["image_size"] = (spec.shape if isinstance(spec, Inputs) else spec)[-1]  # ViT's position embedding depends on it
    try:
        with warnings.catch_warnings(), (weights_not_downloaded() if ref.is_torchvision else contextlib.nullcontext()):
            warnings.simplefilter("ignore", FutureWarning)  # torchvision's notes about init_weights defaults
            model = _build(factory, kwargs, device)
    except CostlabError:
        raise
    except Exception as e:  # the user's factory: any failure is reported, not a traceback
        raise CostlabError(f"{ref.text}: building the model failed: {type(e).__name__}: {e}") from None
    if not isinstance(model, nn.Module):
        raise CostlabError(f"{ref.text}: the factory returned a {type(model).__name__}, not a torch.nn.Module")
    return model


def _build(factory: Callable[..., nn.Module], kwargs: Dict[str, Any], device: str) -> nn.Module:
    if device != "meta":
        return factory(**kwargs)
    try:
        with torch.device("meta"):
            return factory(**kwargs)
    except (NotImplementedError, RuntimeError):
        with parameters_on_meta():
            return factory(**kwargs).to("meta")
