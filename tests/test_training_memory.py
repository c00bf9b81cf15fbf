"""Saved-activation bytes against what autograd really saves (saved_tensors_hooks on a real CPU forward),
module by module, and optimizer state against torch.optim's own state after a step."""

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from torch import nn  # noqa: E402

from costlab import analyze, load_source  # noqa: E402
from costlab.bridge.build import build  # noqa: E402
from costlab.bridge.capture import capture  # noqa: E402
from costlab.bridge.training import freeze, saved_by_module  # noqa: E402
from costlab.training.schedule import plan  # noqa: E402
from costlab.training.step import train_step  # noqa: E402


def _saved(model, shape, batch, frozen=(), graph=None, optimizer="sgd"):
    freeze(model, frozen)
    theirs, total = saved_by_module(model, shape, batch)
    graph = graph or capture(model, shape, batch, "train")
    step = train_step(graph, analyze(graph, shape, batch, mode="train"), frozen=frozen, optimizer=optimizer)
    memory = plan(graph, step)
    assert {k: v for k, v in memory.by_module.items() if v != (0, 0)} == {k: v for k, v in theirs.items() if v != (0, 0)}
    assert (memory.saved_activations, memory.saved_params) == total
    assert not memory.uncounted
    return memory


def test_conv_relu_pool_saved_bytes_by_hand():
    """conv saves input + weight, in-place ReLU its output (the conv's, overwritten), max pool its input
    (the same storage) and int64 indices; linear its input and weight."""
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
    memory = _saved(model, (3, 8, 8), 2)
    # image 2x3x8x8x4 = 1,536; conv output 2x8x8x8x4 = 4,096 (saved by ReLU and by the pool: once);
    # indices 2x8x4x4x8 = 2,048; pool output 2x128x4 = 1,024 (the linear's input)
    assert memory.saved_activations == 1_536 + 4_096 + 2_048 + 1_024 == 8_704
    assert memory.saved_params == (8 * 3 * 9 + 128 * 10) * 4 == 5_984  # conv and linear weights (biases are not saved)


def test_resnet18_saved_bytes_module_by_module():
    _saved(torchvision.models.resnet18(weights=None), (3, 32, 32), 2)


def test_googlenet_with_aux_heads_saved_bytes_module_by_module():
    _saved(torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=False), (3, 64, 64), 2)


def test_mobilenet_v2_in_place_relu6_saves_a_clone():
    """An in-place op whose backward needs its input (hardtanh_) makes autograd save a clone of it."""
    _saved(torchvision.models.mobilenet_v2(weights=None), (3, 32, 32), 2)


def test_vit_saved_bytes_module_by_module():
    """q, k, v are views of one projection (counted once); the head's x[:, 0] keeps the encoder output's storage."""
    _saved(torchvision.models.VisionTransformer(32, 8, 2, 2, 16, 32), (3, 32, 32), 2)


def test_frozen_layers_save_less():
    full = _saved(torchvision.models.resnet18(weights=None), (3, 32, 32), 2)
    part = _saved(torchvision.models.resnet18(weights=None), (3, 32, 32), 2, frozen=("conv1", "bn1", "layer1"))
    assert part.saved_activations < full.saved_activations


def test_spec_graph_saved_bytes_equal_its_built_module():
    graph = load_source("googlenet")
    _saved(build(graph, (3, 96, 96), "train"), (3, 96, 96), 2, graph=graph)


@pytest.mark.parametrize("name, make, states", [
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.1), 0),
    ("momentum", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), 1),
    ("adam", lambda p: torch.optim.Adam(p), 2),
    ("adamw", lambda p: torch.optim.AdamW(p), 2),
])
def test_optimizer_state_bytes_equal_torch_optim(name, make, states):
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Flatten(), nn.Linear(8 * 6 * 6, 10))
    opt = make(model.parameters())
    model(torch.randn(2, 3, 8, 8)).sum().backward()
    opt.step()
    real = sum(t.untyped_storage().nbytes() for s in opt.state.values() for t in s.values() if isinstance(t, torch.Tensor))
    graph = capture(model, (3, 8, 8), 2, "train")
    memory = plan(graph, train_step(graph, analyze(graph), optimizer=name))
    params = 8 * 27 + 8 + 16 + 288 * 10 + 10  # 3,130
    # Adam keeps a float32 'step' tensor per parameter tensor (6 here): 4 bytes each
    assert memory.optimizer == real == states * params * 4 + (6 * 4 if states == 2 else 0)


def test_saved_bytes_at_bfloat16():
    """At bfloat16 every saved tensor is 2 bytes an element, norms' statistics included (CPU kernels);
    max pool's indices stay int64."""
    import copy

    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(inplace=True), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(8 * 3 * 3, 10), nn.LayerNorm(10), nn.GELU(), nn.Linear(10, 4)).to(torch.bfloat16)
    theirs, total = saved_by_module(model, (3, 8, 8), 2, dtype=torch.bfloat16)
    graph = capture(copy.deepcopy(model).float(), (3, 8, 8), 2, "train")  # shapes only: the meta run is float32
    memory = plan(graph, train_step(graph, analyze(graph)), dtype="bfloat16")
    assert {k: v for k, v in memory.by_module.items() if v != (0, 0)} == theirs
    # image 2x3x8x8x2 = 768; conv out 2x8x6x6x2 = 1,152 (BN's input); BN stats 2x8x2 = 32; BN out (ReLU in place,
    # the pool's input) 1,152; indices 2x8x3x3x8 = 1,152; pool out 2x72x2 = 288 (the linear's input); linear out
    # 2x10x2 = 40 (LN's input); LN stats 2x2x2 = 8; LN out 40 (GELU's input); GELU out 40 (the last linear's input)
    assert memory.saved_activations == 768 + 1_152 + 32 + 1_152 + 1_152 + 288 + 40 + 8 + 40 + 40 == 4_672 == total[0]
    # weights: conv 8x3x3x3 + BN 8 + linear 72x10 + LN 10 + 10 + linear 10x4, x 2 bytes; BN's running stats 2 x 8 x 2
    assert memory.saved_params == (216 + 8 + 720 + 20 + 40) * 2 + 32 == 2_040 == total[1]
