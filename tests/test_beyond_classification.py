"""Models beyond classification: the built-in U-Net spec equals a PyTorch U-Net layer by layer; a hand-written
U-Net, a Conv1d audio model and an LSTM language model equal FlopCounterMode per module and fvcore in total."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from costlab.analysis import analyze  # noqa: E402
from costlab.bridge.build import build  # noqa: E402
from costlab.bridge.capture import capture  # noqa: E402
from costlab.sources import load_source  # noqa: E402
from family_helpers import count  # noqa: E402
from models_for_families import AudioNet, LSTMLanguageModel, UNet  # noqa: E402


def costly(analysis):
    return [(r.name, r.macs, r.params) for r in analysis.rows if r.macs or r.params]


def test_unet_spec_equals_the_pytorch_unet_layer_by_layer():
    spec = analyze(load_source("unet"))
    torch_rows = analyze(capture(UNet(), (1, 572, 572)))
    assert costly(spec) == costly(torch_rows)  # 23 convs, 4 up-convs: names, MACs, params
    assert spec.rows[-1].out_shape == (1, 2, 388, 388)  # 572x572 in, 388x388 out (the paper's Fig. 1)
    t = spec.total()
    # params: PyTorch's count of the same network; MACs: FlopCounterMode's total on the same network (meta
    # device, 2 FLOPs per MAC; it counts exactly the 23 convs and 4 up-convs) halved
    assert t.params == sum(p.numel() for p in UNet().parameters()) == 31_030_658
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"), FlopCounterMode(display=False) as counter:
        UNet()(torch.empty(1, 1, 572, 572))
    assert t.macs == counter.get_total_flops() // 2 == 150_428_424_448
    # the first up-convolution: 28x28 input positions x 1024 x 512 x 2x2 (MACs over INPUT positions)
    assert next(r for r in spec.rows if r.name == "up4").macs == 28 * 28 * 1024 * 512 * 4 == 1_644_167_168


def test_unet_spec_builds_into_the_same_network():
    built = build(load_source("unet"), (1, 188, 188))  # 188: the smallest size the four crops allow with a 4x4 output
    assert sum(p.numel() for p in built.parameters()) == 31_030_658
    assert costly(analyze(capture(built, (1, 188, 188)))) == costly(analyze(load_source("unet"), (1, 188, 188)))


def per_module(c):
    """costlab's torch-convention count of every module = FlopCounterMode's for that module."""
    ours = {k: v for k, v in c.costlab_by_module.items() if v}
    leaves = {k: v for k, v in c.torch_by_module.items() if v and not any(o.startswith(k + ".") for o in c.torch_by_module)}
    return ours, leaves


@pytest.mark.parametrize("name, make, shape", [
    ("unet", lambda: UNet(base=4), (1, 188, 188)),
    ("audio", AudioNet, (1, 8000)),
    ("lstm_lm", LSTMLanguageModel, (35,)),
])
def test_hand_written_models_equal_flop_counter_per_module(name, make, shape):
    torch.manual_seed(0)
    c = count(make(), shape)
    ours, theirs = per_module(c)
    assert ours == theirs and c.torch_rule == c.flop_counter
    assert c.params == c.torch_params
    assert c.fvcore_rule == c.fvcore
    if name == "lstm_lm":
        # 35 steps x (4x128x(64+128) + 4x128x(128+128)) = 35 x 229,376 = 8,028,160 (LSTM) + 35 x 128 x 1000 (decoder)
        assert c.macs == 8_028_160 + 4_480_000
        # fvcore: no handler for aten::lstm, the embedding is a lookup: only the decoder
        assert c.fvcore == 4_480_000
        # params: 1000x64 + (4x128x64 + 4x128x128 + 2x512) + (4x128x128 + 4x128x128 + 2x512) + 128x1000 + 1000
        assert c.params == 64_000 + 99_328 + 132_096 + 129_000 == 424_424
        assert c.biases == 2 * 2 * 512 + 1000  # the LSTM's bias_ih / bias_hh of both layers, the decoder's bias
    if name == "audio":
        # conv1: L = floor((8000 - 80) / 16) + 1 = 496 outputs x 32 x 1 x 80 = 1,269,760 MACs
        assert c.torch_by_module["features.0"] == 2 * 496 * 32 * 80
