"""GoogLeNet's training story (README "GoogLeNet's training step in numbers") and the peak model against a
measured peak. Numbers marked "pinned" are costlab's schedule; that schedule's agreement with PyTorch is
what test_peaks_match_the_measured_ones and scripts/verify_training.py check."""

import pytest

from costlab import analyze, load_source
from costlab.training.fit import memory_limit
from costlab.training.report import train_source
from costlab.training.schedule import plan
from costlab.training.step import train_step


def _plan(mode, batch, optimizer="momentum"):
    graph = load_source("googlenet", batch=batch, mode=mode)
    return plan(graph, train_step(graph, analyze(graph, batch=batch, mode=mode), optimizer=optimizer))


def test_googlenet_memory_at_batch_32():
    train, infer = _plan("train", 32), _plan("infer", 32)
    # params, grads and momentum: 13,378,280 trained parameters (6,998,552 + 6,379,728 aux) x 4 bytes each
    assert train.params == train.grads == train.optimizer == 13_378_280 * 4 == 53_513_120
    # the aux heads' saved activations, batch 32, float32 (the maps they pool are saved by inception 4b/4e anyway):
    # aux1: pooled 4x4x512 (the conv's input) 8,192 + ReLU out 4x4x128 2,048 + fc1's ReLU out 1,024 + dropout mask
    # 1,024 + fc2's input 1,024 + softmax out 1,000 = 14,312; aux2: pooled 4x4x528 8,448 + the same 6,120 = 14,568
    assert train.saved_activations - infer.saved_activations == 32 * 4 * (14_312 + 14_568) == 3_696_640
    # pinned: costlab's schedule
    assert (train.saved_activations, train.peak.bytes, train.peak.name) == (1_546_597_376, 1_669_784_800, "inception_5b.b4.pool_proj")
    assert infer.inference_peak.bytes == 261_509_312


@pytest.mark.parametrize("limit, optimizer, batch", [("24GiB", "momentum", 526), ("h100", "momentum", 1761),
                                                      ("24GiB", "adam", 525), ("h100", "adam", 1760)])
def test_googlenet_largest_batch(limit, optimizer, batch):
    fit = train_source("googlenet", optimizer=optimizer, memory_limit=memory_limit(limit)).fit
    assert fit.value == batch  # pinned; bracketed by direct plans:
    assert _plan("train", batch, optimizer).peak.bytes <= memory_limit(limit) < _plan("train", batch + 1, optimizer).peak.bytes


def test_step_vs_the_3x_rule():
    t = train_source("googlenet")
    assert t.step.total("total") == 4_655_118_336 and t.inference_macs == 1_582_671_872
    assert round(4_655_118_336 / (3 * 1_591_044_096), 4) == 0.9753  # conv1's missing input gradient: 118,013,952


def test_peaks_match_the_measured_ones():
    """The schedule's peaks against the live tensor bytes PyTorch allocates for torchvision's ResNet-18 (CPU,
    32x32, batch 2, train mode): within 5% and never above (what is missing is kernels' scratch space).
    (A spec model built by costlab.bridge.build is no reference here: its forward keeps every output alive.)"""
    torchvision = pytest.importorskip("torchvision")
    from costlab.bridge.capture import capture
    from costlab.bridge.training import measured_peaks

    model = torchvision.models.resnet18(weights=None)
    graph = capture(model, (3, 32, 32), 2, "train")
    memory = plan(graph, train_step(graph, analyze(graph)))
    infer, train = measured_peaks(model, (3, 32, 32), 2)
    assert 0.95 * train <= memory.peak.bytes <= train
    assert 0.95 * infer <= memory.inference_peak.bytes <= infer


def test_flopcounter_inflates_mobilenet_v2_backward():
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    from costlab.bridge.capture import capture
    from costlab.bridge.training import torch_flops

    model = torchvision.models.mobilenet_v2(weights=None)
    _, backward, _ = torch_flops(model, (3, 64, 64), 2)
    graph = capture(model, (3, 64, 64), 2, "train")
    assert sum(backward.values()) == train_step(graph, analyze(graph), convention="torch").total("backward") == 1_916_041_216
    assert train_step(graph, analyze(graph), convention="flops").total("backward") == 202_289_152  # 9.5x less
    del torch
