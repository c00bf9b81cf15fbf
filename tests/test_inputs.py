"""Inputs beyond one float image, coverage (no silent zero), data-dependent ops and verify's honesty.

Derivations beside each number; the small models are in tests/models_for_inputs.py.
"""

import json

import pytest

from costlab import analyze, load_source
from costlab.errors import CostlabError
from costlab.inputs import Inputs, TensorInput, parse_inputs


def test_parse_inputs_syntax():
    assert parse_inputs("3x224x224") == (3, 224, 224)  # a plain image stays a shape: spec files keep working
    assert parse_inputs("input_ids:128:int64,attention_mask:128:int64") == Inputs((
        TensorInput((128,), "int64", "input_ids"), TensorInput((128,), "int64", "attention_mask")))
    assert parse_inputs("3x8x8,3x8x8") == Inputs((TensorInput((3, 8, 8)), TensorInput((3, 8, 8))))
    assert parse_inputs("128:int64") == Inputs((TensorInput((128,), "int64"),))
    assert parse_inputs("mymod:make_inputs") == Inputs(factory="mymod:make_inputs")
    for bad in ("ids:0:int64", "ids:128:complex7", "a:3,3x8x8", "1bad:3", "ids:3,ids:3"):
        with pytest.raises(ValueError):
            parse_inputs(bad)


pytest.importorskip("torch")
pytest.importorskip("fvcore")


def test_keyword_integer_inputs():
    a = analyze(load_source("models_for_inputs:token_classifier", parse_inputs("input_ids:5:int64,attention_mask:5:int64")))
    assert a.input == (5,) and a.batch == 1 and a.inputs == "input_ids:5:int64,attention_mask:5:int64"
    # head: 1 x 8 x 3 = 24 MACs; params: embedding 100x8 + linear 8x3 + 3 = 827
    assert a.total().macs == 24 and a.total().params == 827


def test_inputs_factory_sets_the_batch():
    a = analyze(load_source("models_for_inputs:token_classifier", parse_inputs("models_for_inputs:token_inputs")))
    assert a.batch == 2 and a.input == (5,)  # the factory returns ids of shape 2x5
    assert a.total().macs == 2 * 8 * 3 == 48


def test_two_positional_images():
    a = analyze(load_source("models_for_inputs:pair_difference", parse_inputs("3x8x8,3x8x8")))
    # the shared conv runs twice: 2 x (6x6x4) x (3x3x3) = 7,776 MACs; its params once: 4x3x3x3 + 4 = 112
    assert a.total().macs == 2 * 6 * 6 * 4 * 27 == 7_776 and a.total().params == 112


def test_spec_models_refuse_other_inputs():
    with pytest.raises(CostlabError, match="one input shape CxHxW"):
        analyze(load_source("naive"), parse_inputs("ids:3:int64"))


def test_uncounted_ops_are_named_with_where_they_ran():
    a = analyze(load_source("models_for_inputs:bilinear", (6,)))
    kinds = {u.op: u for u in a.uncounted}
    if "aten._trilinear" in kinds:  # until a formula exists it must be listed, never a silent 0
        assert kinds["aten._trilinear"].modules == ("bilinear",)
        assert "not counted: aten._trilinear x1 in bilinear" in a.coverage.lines()
        assert a.coverage.fraction < 1
        assert any(r.name == "bilinear" or r.name.startswith("bilinear#trilinear") for r in a.rows)
    doc = json.loads(json.dumps(a.to_dict()))
    assert doc["schema"] == "costlab.analysis/1"
    assert doc["uncounted"] == [{"op": u.op, "count": u.count, "modules": list(u.modules)} for u in a.uncounted]
    assert analyze(load_source("naive")).to_dict()["uncounted"] == []


def test_coverage_survives_merging_by_depth():
    a = analyze(load_source("models_for_tests:flipper", (3, 16, 16)))
    assert [u.op for u in a.uncounted] == ["aten.flip"]
    assert a.by_depth(1).uncounted == a.uncounted
    assert [r.name for r in a.rows] == ["conv", "#flip"]  # named by the op, not '#unsupported'


def test_verify_with_integer_inputs_and_no_parameters():
    from costlab.bridge.verify import verify_source

    v = verify_source("models_for_inputs:token_classifier", parse_inputs("input_ids:5:int64,attention_mask:5:int64"))
    assert v.params == v.torch_params == 827 and v.fvcore == 24
    if any(u.op == "aten.embedding" for u in analyze(load_source("models_for_inputs:token_classifier",
                                                                  parse_inputs("input_ids:5:int64"))).uncounted):
        assert next(u for u in v.units if u.name == "embed").status == "uncounted"
    empty = verify_source("models_for_inputs:no_parameters", (3, 8, 8))
    assert empty.ok and empty.params == empty.torch_params == 0


def test_verify_two_counters_skipping_an_op_is_not_exact():
    from costlab.bridge.verify import verify_source

    v = verify_source("models_for_inputs:bilinear", (6,))
    unit = next(u for u in v.units if u.name == "bilinear")
    assert unit.status != "exact"  # fvcore lists aten::bilinear as unsupported; costlab must not call that exact
    assert "fvcore skips" in unit.note or "aten::bilinear" in unit.note


def test_verify_explains_fvcore_missing_the_fused_transformer_path():
    from costlab.bridge.verify import verify_source

    v = verify_source("models_for_inputs:frozen_encoder", (5, 16))
    assert v.count("mismatch") == 0 and v.ok
    fused = [u for u in v.units if "fused path" in u.note]
    # per layer self-attention, 5 tokens, d=16, 2 heads: in_proj 5x16x48 = 3,840, scores 2x5x5x8 = 400,
    # weighted values 400, out_proj 5x16x16 = 1,280 -> 5,920 MACs fvcore does not see
    assert len(fused) == 2 and all(u.ours - u.fvcore == 3_840 + 400 + 400 + 1_280 == 5_920 for u in fused)


def test_detection_runs_on_meta_under_stated_assumptions():
    a = analyze(load_source("torchvision:fasterrcnn_resnet50_fpn"))
    assert a.input == (3, 800, 800)
    assert "proposals after NMS: 1,000 per image, the model's rpn_post_nms_top_n_test" in a.assumptions
    assert any("no box suppressed by NMS" in line for line in a.assumptions)
    # torchvision FasterRCNN_ResNet50_FPN_Weights.COCO_V1.meta["_ops"] == 134.38 (GMACs)
    assert round(a.total().macs / 1e9, 3) == 134.38
    again = analyze(load_source("torchvision:fasterrcnn_resnet50_fpn"))
    assert again.total().macs == a.total().macs  # the same number every run
    assert a.to_dict()["assumptions"] == list(a.assumptions)


def test_torchvision_task_models_build_offline_at_their_weights_input():
    from costlab.bridge.reference import default_input, parse_reference

    assert default_input(parse_reference("torchvision:fcn_resnet50")) == (3, 520, 520)  # resize_size 520
    assert default_input(parse_reference("torchvision:r3d_18")) == (3, 16, 112, 112)  # crop 112, 16 frames
    flow = default_input(parse_reference("torchvision:raft_small"))
    assert isinstance(flow, Inputs) and len(flow.tensors) == 2
    # weights_backbone=None is passed too: building needs no network (the test machine has none)
    assert analyze(load_source("torchvision:fcn_resnet50")).total().params > 0


def test_current_directory_is_on_the_import_path(tmp_path, monkeypatch):
    (tmp_path / "my_local_model.py").write_text("import torch\ndef make():\n    return torch.nn.Linear(4, 2)\n")
    monkeypatch.chdir(tmp_path)
    assert analyze(load_source("my_local_model:make", (4,))).total().macs == 8  # 4 x 2


def test_wrong_input_rank_gets_a_hint():
    with pytest.raises(CostlabError, match="CxTxHxW"):
        load_source("torchvision:r3d_18", (3, 112, 112))


def test_coverage_budget(tmp_path):
    from costlab.analysis import parse_coverage
    from costlab.budgets import Budget, Limit, evaluate, read_config, run_checks

    assert parse_coverage("100%") == 10_000 and parse_coverage("99.5%") == 9_950
    for bad in ("100", "101%", "x%", "99.123%"):
        with pytest.raises(ValueError):
            parse_coverage(bad)
    config = tmp_path / "costlab.toml"
    config.write_text('[[budget]]\nsource = "naive"\ncoverage = "100%"\n')
    (outcome,) = run_checks(config)
    assert outcome.ok and outcome.measured == 10_000  # a spec model: every layer has a formula
    config.write_text('[[budget]]\nsource = "naive"\ncoverage = "all"\n')
    with pytest.raises(CostlabError, match="coverage"):
        read_config(config)
    flipper = analyze(load_source("models_for_tests:flipper", (3, 16, 16)))  # conv counted, flip not: 1 of 2 ops
    (short,) = evaluate(Budget("flipper", "models_for_tests:flipper", None, 1, "infer", (Limit("flipper", "", "coverage", 10_000, 0),)), flipper)
    assert short.measured == 5_000 and not short.ok and "50% of ops counted, below the required 100%" in short.describe()


def test_hugging_face_bert_with_token_ids_and_mask():
    pytest.importorskip("transformers")
    a = analyze(load_source("models_for_inputs:bert", parse_inputs("input_ids:128:int64,attention_mask:128:int64")))
    # BERT-base, 128 tokens: per layer and token 4 x 768^2 (q, k, v, out) + 2 x 768 x 3072 (FFN) = 7,077,888;
    # x 128 tokens x 12 layers = 10,871,635,968; attention 2 x 128 x 128 x 768 x 12 = 301,989,888; pooler 768^2 = 589,824
    assert a.total().macs == 10_871_635_968 + 301_989_888 + 589_824 == 11_174_215_680
    assert a.total().params == 109_482_240  # bert-base-uncased's parameter count (BertModel, no LM head)
    assert any("ran on the CPU with seeded random weights" in line for line in a.assumptions)  # mask checks read values


def test_capture_restores_tensors_a_forward_moves():
    """torchvision's AnchorGenerator replaces its plain-list cell_anchors with copies on the input's device: after a
    meta capture the real model must still hold its CPU anchors (fvcore and FlopCounterMode run it next)."""
    from costlab.bridge.build import real_model

    model, _, _ = real_model("torchvision:fasterrcnn_resnet50_fpn", (3, 64, 64))
    assert all(a.device.type == "cpu" for a in model.rpn.anchor_generator.cell_anchors)
