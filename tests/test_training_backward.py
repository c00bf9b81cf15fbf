"""Backward MACs per layer against PyTorch's FlopCounterMode, module by module (meta device, small inputs).

FlopCounterMode's formulas count every backward op; costlab.bridge.training credits each op to the
module whose forward created the autograd node running it (FlopCounterMode's own per-module table
misattributes backward ops in branching graphs). Its FLOPs are 2 per MAC.
"""

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from costlab import analyze, load_source  # noqa: E402
from costlab.bridge.build import build  # noqa: E402
from costlab.bridge.capture import capture  # noqa: E402
from costlab.bridge.training import freeze, per_module, torch_flops  # noqa: E402
from costlab.training.step import train_step  # noqa: E402


def _compare(model, shape, batch, frozen=(), graph=None, convention="macs"):
    """costlab's backward per module == FlopCounterMode's (halved under macs); returns the step."""
    freeze(model, frozen)
    fwd, bwd, total = torch_flops(model, shape, batch)
    graph = graph or capture(model, shape, batch, "train")
    step = train_step(graph, analyze(graph, shape, batch, mode="train"), frozen=frozen, convention=convention)
    theirs = per_module(bwd)
    ours = step.by_module()
    scale = 1 if convention == "torch" else 2
    assert {k: v for k, v in ours.items() if v} == {k: v // scale for k, v in theirs.items() if v}
    assert total == sum(fwd.values()) + sum(bwd.values())  # nothing FlopCounterMode counted escaped the attribution
    assert all(v % 2 == 0 for v in bwd.values())
    return step


class InceptionBlocks(nn.Module):
    """Two torchvision GoogLeNet Inception modules (3a and 3b's numbers) after a stem conv and pool."""

    def __init__(self):
        super().__init__()
        from torchvision.models.googlenet import BasicConv2d, Inception

        self.stem = BasicConv2d(3, 192, kernel_size=3, padding=1)
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(480, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.inception3b(self.inception3a(self.stem(x)))), 1))


def test_inception_blocks_backward_equals_flopcounter_module_by_module():
    step = _compare(InceptionBlocks(), (3, 12, 12), 2)
    # the stem conv reads the image: no input gradient, only the weight gradient 2x12x12x192x(3x3x3)
    stem = next(r for r in step.rows if r.name == "stem.conv")
    assert (stem.grad_input, stem.grad_weight) == (0, 2 * 12 * 12 * 192 * 27) == (0, 1_492_992)
    one = next(r for r in step.rows if r.name == "inception3a.branch1.conv")  # 1x1, 192 -> 64
    assert one.grad_input == one.grad_weight == one.forward == 2 * 12 * 12 * 64 * 192 == 3_538_944


def test_resnet_blocks_backward_equals_flopcounter_module_by_module():
    from torchvision.models.resnet import BasicBlock, Bottleneck

    down = nn.Sequential(nn.Conv2d(64, 256, 1, stride=2, bias=False), nn.BatchNorm2d(256))
    model = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), BasicBlock(64, 64), Bottleneck(64, 64, stride=2, downsample=down))
    step = _compare(model, (3, 16, 16), 2)
    assert step.total("backward") == 2 * step.total("forward") - step.rows[0].forward  # only the first conv skips a gradient


def test_torchvision_googlenet_with_aux_heads_in_train_mode():
    """Small input (the aux heads' 4x4 pool needs 64x64 or more) and batch 2 (batch norm in training mode)."""
    model = torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=False)
    step = _compare(model, (3, 64, 64), 2)
    aux = sum(r.backward for r in step.rows if r.name.startswith(("aux1", "aux2")))
    assert aux > 0


def test_frozen_layers_compute_no_weight_gradient_and_nothing_upstream():
    model = torchvision.models.resnet18(weights=None)
    frozen = ("conv1", "bn1", "layer1", "layer2.0.conv1")
    step = _compare(model, (3, 32, 32), 2, frozen=frozen)
    rows = {r.name: r for r in step.rows}
    assert rows["conv1"].backward == 0 and rows["layer1.1.conv2"].backward == 0  # upstream of only frozen layers
    c = rows["layer2.0.conv1"]  # frozen, reading the frozen layer1: nothing at all
    assert (c.grad_input, c.grad_weight) == (0, 0)
    # trainable, reading the frozen layer1's output: a weight gradient only, 2x4x4x128 x 64 (1x1, stride 2 on 8x8)
    d = rows["layer2.0.downsample.0"]
    assert (d.grad_input, d.grad_weight) == (0, 2 * 4 * 4 * 128 * 64) == (0, 262_144)
    c = rows["layer2.0.conv2"]  # its input comes through the trainable layer2.0.bn1: both gradients, 2x4x4x128x(3x3x128)
    assert c.grad_input == c.grad_weight == c.forward == 2 * 4 * 4 * 128 * 9 * 128 == 4_718_592


def test_requires_grad_as_captured_equals_frozen_globs():
    model = torchvision.models.resnet18(weights=None)
    freeze(model, ("layer1", "layer2"))
    graph = capture(model, (3, 32, 32), 2, "train")
    by_flag = train_step(graph, analyze(graph))
    by_glob = train_step(capture(torchvision.models.resnet18(weights=None), (3, 32, 32), 2, "train"), analyze(graph),
                         frozen=("layer1", "layer2"))
    assert by_flag.rows == by_glob.rows
    # resnet18 (torchvision num_params 11,689,512) minus layer1: 2 blocks x (2 x 64x64x9 + 2 x 128 BN) = 147,968;
    # layer2: block 0 64x128x9 + 128x128x9 + 64x128 downsample + 3 x 256 BN = 230,144, block 1 2 x 128x128x9 + 2 x 256 = 295,424
    assert by_flag.trainable == by_glob.trainable == 11_689_512 - 147_968 - 230_144 - 295_424 == 11_015_976


def test_linear_attention_backward_equals_flopcounter():
    from models_for_tests import tiny_attention

    _compare(tiny_attention(), (3, 16, 16), 2)


def test_spec_graph_backward_equals_its_built_module():
    graph = load_source("googlenet")
    step = _compare(build(graph, (3, 96, 96), "train"), (3, 96, 96), 2, graph=graph)  # aux heads pool 5x5: 96 or more
    assert step.rows[0].name == "conv1.conv" and step.rows[0].grad_input == 0


def test_flopcounter_ignores_groups_in_the_weight_gradient():
    """The issue's measurement: a 64-channel depthwise 3x3 conv on 16x16, batch 1.

    Forward 16x16x64x(3x3x1) = 147,456 MACs. FlopCounterMode's backward: 19,169,280 FLOPs = 9,584,640 MACs
    = 147,456 (input gradient) + 9,437,184 (= 147,456 x 64 groups: the dense conv's weight gradient).
    The true weight gradient is 147,456: each of the 64x9 weights sums over 16x16 positions (576 x 256).
    """
    conv = nn.Conv2d(64, 64, 3, padding=1, groups=64, bias=False)
    x = torch.randn(1, 64, 16, 16, requires_grad=True)
    with FlopCounterMode(display=False) as fc:
        y = conv(x)
    forward = fc.get_total_flops()
    grad_out = torch.randn_like(y)
    with FlopCounterMode(display=False) as fc:
        y.backward(grad_out)
    assert (forward, fc.get_total_flops()) == (2 * 147_456, 2 * (147_456 + 9_437_184)) == (294_912, 19_169_280)
    # the weight gradient as an explicit batched product, which FlopCounterMode counts right: per channel,
    # (1 x 256 positions) @ (256 x 9 taps)
    cols = nn.functional.unfold(x.detach(), 3, padding=1).view(64, 9, 256)  # (channel, tap, position)
    with FlopCounterMode(display=False) as fc:
        grad_w = torch.bmm(grad_out.view(64, 1, 256), cols.transpose(1, 2))
    assert fc.get_total_flops() == 2 * 64 * 256 * 9 == 2 * 147_456
    assert torch.allclose(grad_w.view(64, 1, 3, 3), conv.weight.grad, atol=1e-4)
    # costlab: right by default, FlopCounterMode's number under the torch convention
    model = nn.Sequential(nn.Conv2d(64, 64, 1, bias=False), conv)  # something before it, so its input needs a gradient
    graph = capture(model, (64, 16, 16), 1, "train")
    rows = {c: {r.name: r for r in train_step(graph, analyze(graph), convention=c).rows}["1"] for c in ("macs", "torch")}
    assert (rows["macs"].grad_input, rows["macs"].grad_weight) == (147_456, 147_456)
    assert rows["torch"].backward == 19_169_280


def test_torch_convention_reproduces_flopcounter_on_mobilenet():
    _compare(torchvision.models.mobilenet_v2(weights=None), (3, 32, 32), 2, convention="torch")


@pytest.mark.parametrize("checkpointed", [False, True])
def test_recompute_equals_torch_utils_checkpoint(checkpointed):
    """A block under torch.utils.checkpoint: FlopCounterMode counts its forward again during the backward;
    costlab's --recompute on that block adds exactly that; the peak stays within 1% of the measured one."""
    from models_for_training import network

    from costlab.bridge.training import live_after_forward, measured_peaks
    from costlab.training.schedule import plan

    model = network(checkpointed)
    x = torch.randn(4, 3, 32, 32)
    with FlopCounterMode(display=False) as fc:
        y = model(x)
    with FlopCounterMode(display=False) as fc_back:
        y.sum().backward()
    graph = capture(model, (3, 32, 32), 4, "train")
    step = train_step(graph, analyze(graph), recompute=("2",) if checkpointed else ())
    block = sum(r.forward for r in step.rows if r.name.startswith("2."))  # 4x32x32x(32x9x16 + 16x9x32) = 37,748,736
    assert block == 37_748_736 and step.total("recompute") == (block if checkpointed else 0)
    assert fc.get_total_flops() == 2 * step.total("forward")
    assert fc_back.get_total_flops() == 2 * (step.total("backward") + step.total("recompute"))
    memory = plan(graph, step)
    _, measured = measured_peaks(model, (3, 32, 32), 4)
    assert 0.99 * measured <= memory.peak.bytes <= measured
    # after the forward, checkpointing has kept only the block's input (measured: 1,934,160 B without, 885,328 B with)
    forward_end = memory.timeline[len(step.rows) - 1].bytes
    assert 0.999 * live_after_forward(model, (3, 32, 32), 4) <= forward_end <= live_after_forward(model, (3, 32, 32), 4)
    assert forward_end == (1_933_896 if not checkpointed else 885_064)  # pinned: costlab's schedule


@pytest.mark.parametrize("model, shape", [
    (lambda: nn.Sequential(nn.Conv1d(3, 8, 3), nn.ReLU(), nn.Conv1d(8, 8, 3)), (3, 32)),
    (lambda: nn.Sequential(nn.Conv3d(3, 8, 3), nn.ReLU(), nn.Conv3d(8, 8, 3)), (3, 8, 8, 8)),
    (lambda: nn.Sequential(nn.Conv2d(3, 8, 3), nn.ConvTranspose2d(8, 4, 3, stride=2), nn.ConvTranspose2d(4, 4, 3)), (3, 12, 12)),
])
def test_nd_and_transposed_conv_backward_equals_flopcounter(model, shape):
    """The same rule for every rank and for transposed convs (input gradient = the conv in the other direction)."""
    _compare(model(), shape, 2)


def test_grouped_nd_and_transposed_conv_torch_convention():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ConvTranspose2d(8, 4, 3, stride=2, groups=2), nn.ConvTranspose2d(4, 4, 3, groups=2))
    _compare(model, (3, 12, 12), 2, convention="torch")  # FlopCounterMode's groups bug is the same for transposed convs
