"""costlab's transformer graphs against the Hugging Face models built from the same config.json on
the meta device: parameters module by module, and MACs module by module against torch's
FlopCounterMode (which counts attention densely: 2 FLOPs per MAC of every QK^T and AV product)."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from costlab.analysis import analyze
from costlab.llm.hf_config import spec_from_config
from costlab.llm.phases import with_context
from costlab.spec import graph_from_data

pytest.importorskip("transformers")
from llm_reference import flops_by_module, hf_model, params_by_module

_TINY = {"vocab_size": 97, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4}
TINY: Dict[str, Dict[str, Any]] = {
    "llama": dict(model_type="llama", num_key_value_heads=2, **_TINY),
    "llama-biases": dict(model_type="llama", attention_bias=True, mlp_bias=True, tie_word_embeddings=True, **_TINY),
    "mistral": dict(model_type="mistral", num_key_value_heads=1, sliding_window=6, **_TINY),
    "qwen2": dict(model_type="qwen2", num_key_value_heads=2, tie_word_embeddings=True, **_TINY),
    "gemma": dict(model_type="gemma", num_key_value_heads=1, head_dim=32, **_TINY),
    "mixtral": dict(model_type="mixtral", num_key_value_heads=2, num_local_experts=4, num_experts_per_tok=2, **_TINY),
    "gpt2": {"model_type": "gpt2", "vocab_size": 97, "n_embd": 64, "n_layer": 2, "n_head": 4, "n_positions": 40},
    "bert": dict(model_type="bert", max_position_embeddings=40, **_TINY),
    "t5": {"model_type": "t5", "vocab_size": 97, "d_model": 64, "d_kv": 16, "d_ff": 96, "num_layers": 2, "num_heads": 4},
    "t5-gated": {"model_type": "t5", "vocab_size": 97, "d_model": 64, "d_kv": 8, "d_ff": 96, "num_layers": 2, "num_heads": 4, "feed_forward_proj": "gated-gelu"},
}
LENGTH = 11


def graph_of(config: Dict[str, Any]) -> Any:
    return graph_from_data(spec_from_config(config, "test", "test", LENGTH), "test", "test")


def _subtree(rows: Any, module: str, what: str) -> int:
    return sum(getattr(r, what) for r in rows if r.name == module or r.name.startswith(module + "."))


@pytest.mark.parametrize("name", sorted(TINY))
def test_params_equal_the_hf_model_module_by_module(name: str) -> None:
    config = TINY[name]
    model = hf_model(config)
    rows = analyze(graph_of(config)).rows
    expected = params_by_module(model)
    assert sum(r.params for r in rows) == sum(p.numel() for p in model.parameters())
    assert {r.name: r.params for r in rows if r.params} == expected


@pytest.mark.parametrize("name", sorted(n for n in TINY if n != "mixtral"))  # MoE routing is data-dependent: no meta run
def test_macs_equal_flop_counter_mode_module_by_module(name: str) -> None:
    config = TINY[name]
    per_module, total = flops_by_module(hf_model(config), LENGTH)
    rows = analyze(graph_of(config)).rows
    assert 2 * sum(r.macs for r in rows) == total
    for module, flops in per_module.items():
        assert 2 * _subtree(rows, module, "macs") == flops, module


@pytest.mark.parametrize("name", ["llama", "mistral", "gpt2", "qwen2"])
def test_decode_step_with_kv_cache_equals_flop_counter_mode(name: str) -> None:
    """One new token after 9 cached ones: keys = 9 + 1 in every attention row."""
    config = TINY[name]
    per_module, total = flops_by_module(hf_model(config), 1, context=9)
    rows = analyze(with_context(graph_of(config), 9), (1,)).rows
    assert 2 * sum(r.macs for r in rows) == total
    for module, flops in per_module.items():
        assert 2 * _subtree(rows, module, "macs") == flops, module


def test_moe_macs_equal_flop_counter_mode_on_the_cpu() -> None:
    """Mixture of experts: routing is data-dependent, so the tiny Mixtral runs on the CPU with random
    weights; each of the L tokens goes through top_k = 2 experts whatever the routing, so the experts
    row is L x 2 x 3 x d x hidden MACs (11 x 2 x 3 x 64 x 96 = 405,504 per layer)."""
    import torch

    config = TINY["mixtral"]
    torch.manual_seed(0)
    per_module, total = flops_by_module(hf_model(config, "cpu"), LENGTH, device="cpu")
    rows = analyze(graph_of(config)).rows
    assert [r.macs for r in rows if r.name == "model.layers.0.mlp.experts"] == [11 * 2 * 3 * 64 * 96] == [405_504]
    assert 2 * sum(r.macs for r in rows) == total
    for module, flops in per_module.items():
        assert 2 * _subtree(rows, module, "macs") == flops, module


@pytest.mark.parametrize("name", ["llama", "mistral", "mixtral", "gpt2", "t5"])
@pytest.mark.parametrize("context", [0, 5])
def test_costlab_builds_its_transformer_graphs_as_torch_modules(name: str, context: int) -> None:
    """costlab's own torch builders (costlab/bridge/build_transformer.py): the built module holds the
    graph's parameters, and FlopCounterMode counts 2 x the graph's MACs (the torch convention), in
    prefill and in a decode step with 5 cached tokens."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from costlab.bridge.build import build

    graph = graph_of(TINY[name])
    if context:
        graph = with_context(graph, context)
    analysis = analyze(graph)
    module = build(graph)
    with FlopCounterMode(display=False) as counter:
        module(torch.zeros(analysis.rows[0].in_shapes[0], dtype=torch.long))
    assert counter.get_total_flops() == analyze(graph, convention="torch").total_cost() == 2 * analysis.total().macs
    assert sum(p.numel() for p in module.parameters()) == analysis.total().params
