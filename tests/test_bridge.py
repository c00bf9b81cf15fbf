"""The torch bridge: capture on meta, build, and fvcore cross-checks (skipped without the torch extra).

Outside numbers: torchvision's weights metadata (`_ops` in GFLOPS = GMACs, `num_params`), and fvcore's
FlopCountAnalysis run in the same test.
"""

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
pytest.importorskip("fvcore")

from costlab import analyze, load_source  # noqa: E402
from costlab.bridge.build import build  # noqa: E402
from costlab.bridge.capture import capture  # noqa: E402
from costlab.bridge.verify import verify_graph, verify_reference  # noqa: E402


def test_torchvision_googlenet_matches_its_metadata():
    a = analyze(load_source("torchvision:googlenet"))
    meta = torchvision.models.GoogLeNet_Weights.DEFAULT.meta
    assert a.total().macs == 1_498_376_192 and round(a.total().macs / 1e9, 3) == meta["_ops"] == 1.498
    # aux heads do not run in eval mode, so the inference parameters are the metadata's 6,624,904
    assert a.total().params == meta["num_params"] == 6_624_904


def test_inception_v3_aux_head_counts_only_in_training():
    infer = analyze(load_source("torchvision:inception_v3"))
    # batch norm in training mode needs 2+ values per channel (the aux head reaches 1x1): batch 2; params do not depend on it
    train = analyze(load_source("torchvision:inception_v3", batch=2, mode="train"), mode="train")
    assert infer.total().params == 23_834_568
    assert train.total().params == torchvision.models.Inception_V3_Weights.DEFAULT.meta["num_params"] == 27_161_264
    assert round(infer.total().macs / 1e9, 3) == 5.713


def test_resnet50_conventions_explain_the_tools():
    """4.089G (torchvision, macs) vs 4.112G (fvcore) vs 8.18G (FlopCounterMode), from the same rows."""
    from fvcore.nn import FlopCountAnalysis
    from torch.utils.flop_counter import FlopCounterMode

    rows = {c: analyze(load_source("torchvision:resnet50"), convention=c) for c in ("macs", "fvcore", "torch")}
    assert rows["macs"].total_cost() == 4_089_184_256
    model = torchvision.models.resnet50().eval()
    x = torch.randn(1, 3, 224, 224)
    fv = FlopCountAnalysis(model, x).unsupported_ops_warnings(False)
    assert rows["fvcore"].total_cost() == fv.total() == 4_111_512_576
    # the difference: batch norm, 2 per element in eval (22,227,968), and the global average pool (2048x7x7 = 100,352)
    assert fv.total() - 4_089_184_256 == 22_227_968 + 100_352
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    assert rows["torch"].total_cost() == counter.get_total_flops() == 2 * 4_089_184_256


def test_paper_googlenet_built_and_traced_every_layer_exact():
    v = verify_graph(load_source("googlenet"))
    assert v.count("mismatch") == 0 and v.count("explained") == 0
    # fvcore: the paper's 1,582,671,872 MACs plus 1 per input element of the global average pool (7x7x1024)
    assert v.fvcore == v.ours == 1_582_671_872 + 50_176
    assert v.params == v.torch_params == 6_998_552


@pytest.mark.parametrize("name", ["googlenet", "resnet18", "mobilenet_v3_small", "squeezenet1_1", "shufflenet_v2_x0_5",
                                  "efficientnet_b0", "convnext_tiny", "swin_t", "vit_b_32", "maxvit_t",
                                  "mobilenet_v2", "densenet121"])
def test_fvcore_convention_equals_fvcore_per_module(name):
    v = verify_reference(f"torchvision:{name}")
    assert v.count("mismatch") == 0, [u for u in v.units if u.status == "mismatch"]
    assert v.params == v.torch_params
    attention = sum(u.ours - u.fvcore for u in v.units if u.status == "explained")
    assert v.ours - attention == v.fvcore  # the only difference: attention fvcore cannot count
    if name == "vit_b_32":
        # 12 layers x 12 heads x 50x50 tokens x (64 + 64) = 3,840,000 per layer
        assert attention == 12 * 12 * 50 * 50 * 128 == 46_080_000


def test_scaled_dot_product_attention_formula():
    a = analyze(load_source("models_for_tests:tiny_attention", (3, 32, 32)))
    att = [r for r in a.rows if r.op == "attention"]
    assert len(att) == 1
    # 2 heads x 16 tokens (4x4 patches) x 16 tokens x (8 + 8)
    assert att[0].macs == 2 * 16 * 16 * (8 + 8) == 8_192
    import torch.nn.functional as F

    assert F.scaled_dot_product_attention.__module__ != "costlab.bridge.capture"  # restored after capture


def test_build_names_match_rows_and_params():
    graph = load_source("inception")
    module = build(graph)
    names = {n for n, _ in module.named_modules()}
    rows = analyze(graph).rows
    assert all(r.name in names for r in rows)
    assert sum(p.numel() for p in module.parameters()) == analyze(graph).total().params == 163_696
    assert module(torch.randn(1, 192, 28, 28)).shape == (1, 256, 28, 28)


def test_capture_leaves_the_model_untouched():
    model = torchvision.models.resnet18()
    model.train()
    model.layer1[0].eval()  # a mixed training flag must come back as it was
    before = {k: v.clone() for k, v in model.state_dict().items()}
    params = [id(p) for p in model.parameters()]
    flags = [m.training for m in model.modules()]
    capture(model, (3, 64, 64), mode="infer")
    assert list(model.state_dict()) == list(before)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert [id(p) for p in model.parameters()] == params
    assert all(p.device.type == "cpu" for p in model.parameters())
    assert [m.training for m in model.modules()] == flags
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert not torch.nn.modules.module._global_forward_hooks and not torch.nn.modules.module._global_forward_pre_hooks


def test_capture_allocates_nothing_for_big_models():
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    a = analyze(load_source("torchvision:regnet_y_128gf"))  # 644,812,894 params: 2.6 GB of float32 weights
    assert a.total().params == torchvision.models.RegNet_Y_128GF_Weights.DEFAULT.meta["num_params"] == 644_812_894
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 1_000_000  # well under the 2.6 GB the weights would take


def test_cli_verify_and_strict(cli):
    assert cli("verify", "naive").exit_code == 0
    assert cli("verify", "models_for_tests:flipper", "--input", "3x16x16").exit_code == 0
    strict = cli("verify", "models_for_tests:flipper", "--input", "3x16x16", "--strict")
    assert strict.exit_code == 1 and "flip" in strict.output
    # nn.Upsample (nearest, 2-D) of the conv's 4x14x14: fvcore counts 1 per output element, 4x28x28 = 3,136, as costlab's fvcore rule
    upsampled = cli("verify", "models_for_tests:upsampler", "--input", "3x16x16")
    assert upsampled.exit_code == 0 and "3,136" in upsampled.output and "0 mismatch" in upsampled.output


def test_cli_against_explains_torchvision_googlenet(cli):
    out = cli("verify", "googlenet", "--against", "torchvision:googlenet").output
    line = next(line for line in out.splitlines() if line.startswith("inception_3a "))
    assert "layers: 1 5x5 conv in googlenet vs 1 3x3 conv in torchvision:googlenet" in line
    assert "normalization layers: 0 in googlenet" in line and "biases: 368 in googlenet vs 0" in line


@pytest.mark.parametrize(
    "ref, message",
    [("torchvision:nonet", "torchvision has no model 'nonet'"), ("nosuchpkg:f", "cannot import 'nosuchpkg'"),
     ("torchvision:googlenet?aux_logits", "keyword arguments look like"), ("torchvision:googlenet?weights=true", "weights cannot be downloaded"),
     ("torchvision:googlenet?weights=NOPE", "building the model failed"),
     ("torchvision:resnet18?bogus=1", "building the model failed")],
)
def test_bad_references_exit_2(cli, ref, message):
    result = cli("analyze", ref)
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("ref", ["os:getcwd", "math:pi", "builtins:dict"])
def test_a_factory_that_returns_no_module_is_bad_input(ref):
    """Issue 10: `os:getcwd` returned a str and ended in an internal error (exit 3); it is bad input (exit 2)."""
    from click.testing import CliRunner

    from costlab.cli import main

    result = CliRunner().invoke(main, ["analyze", ref])
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") <= 1 and f"costlab: error: {ref}: " in result.output
    if ref == "os:getcwd":
        assert "the factory returned a str, not a torch.nn.Module" in result.output
