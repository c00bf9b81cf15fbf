"""Transformers without torch: published parameter counts, Kaplan et al.'s FLOPs per token, the
KV cache, exact causal counting, phases and bad configs. (tests/test_llm_hf.py checks the same
graphs against transformers' models and FlopCounterMode.)"""

from __future__ import annotations

import json
from itertools import product as grid
from typing import Any, Optional

import pytest
import sympy

from costlab import zoo
from costlab.analysis import analyze
from costlab.errors import CostlabError, SpecError
from costlab.llm.counting import kept_pairs
from costlab.llm.hf_config import load_config
from costlab.llm.phases import kv_bytes_per_token, kv_cache_bytes, phase_cost
from costlab.shapes import symbol
from costlab.sources import load_source
from costlab.spec import graph_from_data

# Parameter counts. The exact integers are what transformers' num_parameters() gives for each model's published
# config.json (the numbers issue 14 quotes; scripts/check_llm_configs.py rebuilds every model on the meta device,
# output in docs/llm_check.txt); the papers and model cards round them: GPT-2 small "124M" (the model card;
# Radford et al. 2019, Table 2 lists 117M), BERT-base "110M" (Devlin et al. 2018), Llama-2-7B "7B" / "6.74B params"
# (Hub), Mistral-7B "7.24B params" (Hub), Mixtral-8x7B "47B parameters, 13B active" (Jiang et al. 2024).
# test_params_by_hand derives four of them from the architectures, independently of costlab's code.
PUBLISHED = {
    "gpt2": 124_439_808,
    "bert-base": 109_482_240,
    "llama-2-7b": 6_738_415_616,
    "mistral-7b": 7_241_732_096,
    "mixtral-8x7b": 46_702_792_704,
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_params_equal_the_published_counts(name: str) -> None:
    assert analyze(zoo.load(name)).total().params == PUBLISHED[name]


def test_params_by_hand() -> None:
    # GPT-2: wte 50257x768 + wpe 1024x768 + 12 layers x (2 LN 2x768 each + c_attn 768x2304+2304 + c_proj 768x768+768
    #   + c_fc 768x3072+3072 + c_proj 3072x768+768) + ln_f 2x768; the head is tied (0)
    gpt2 = 2 * 2 * 768 + (768 * 2304 + 2304) + (768 * 768 + 768) + (768 * 3072 + 3072) + (3072 * 768 + 768)
    assert 50257 * 768 + 1024 * 768 + 12 * gpt2 + 2 * 768 == 124_439_808
    # BERT-base: word 30522x768 + positions 512x768 + token types 2x768 + LN 2x768; 12 layers x (q, k, v, o 768x768+768,
    #   2 LN 2x768, 768x3072+3072, 3072x768+768); pooler 768x768+768
    bert = 4 * (768 * 768 + 768) + 2 * 2 * 768 + (768 * 3072 + 3072) + (3072 * 768 + 768)
    assert (30522 + 512 + 2 + 2) * 768 + 12 * bert + 768 * 768 + 768 == 109_482_240
    # Llama-2-7B: embedding and untied head 2 x 32000x4096; 32 layers x (q, k, v, o 4096x4096, gate/up/down 4096x11008,
    #   2 RMSNorm 4096); final norm 4096
    assert 2 * 32000 * 4096 + 32 * (4 * 4096 * 4096 + 3 * 4096 * 11008 + 2 * 4096) + 4096 == 6_738_415_616
    # Mistral-7B: as Llama but k, v 4096x1024 (8 kv heads x 128) and MLP 4096x14336
    assert 2 * 32000 * 4096 + 32 * (2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336 + 2 * 4096) + 4096 == 7_241_732_096


def test_mixtral_active_params_per_token() -> None:
    """Mixtral 8x7B: 46.7B in total, ~12.9B used per token (Jiang et al. 2024: "13B active parameters")."""
    from costlab.llm.phases import active_params

    # one expert = 3 x 4096 x 14336 = 176,160,768; 32 layers x (8 - 2) unused experts per token
    assert active_params(analyze(zoo.load("mixtral-8x7b"))) == 46_702_792_704 - 32 * 6 * 176_160_768 == 12_879_925_248


def _gpt2_layer(convention: str) -> Any:
    length = symbol("L")
    rows = analyze(zoo.load("gpt2"), (length,), convention=convention).rows
    return length, sympy.expand(sum((r.cost for r in rows if r.name.startswith("transformer.h.0.")), 0))


def test_gpt2_decoder_layer_is_a_formula_in_L() -> None:
    """Weights: L x 768 x (2304 + 768 + 3072 + 3072) = 7,077,888 L (= 12 d^2 L, Kaplan's 2N per layer / 2).
    QK^T and AV: 12 heads x L x L x 64 each, dense: 1536 L^2; causal: 12 x 64 x L(L+1)/2 each = 768 L^2 + 768 L."""
    length, dense = _gpt2_layer("macs")
    assert dense == 7_077_888 * length + 1536 * length**2
    _, causal = _gpt2_layer("causal")
    assert causal == 7_077_888 * length + 768 * length**2 + 768 * length


def test_gpt2_against_kaplan_et_al_table_1() -> None:
    """Kaplan et al. 2020, Table 1: C_forward = 2N + 2 n_layer n_ctx d_attn FLOPs per token, N = 12 n_layer d^2
    (non-embedding). costlab's causal count per token at L = n_ctx differs by exactly three terms: the head
    (2 d n_vocab: Kaplan's "De-embed" row, left out of 2N), the embeddings (Kaplan's 4 d for the lookup and
    position add, 0 MACs here), and the exact causal count: a query at position p meets p + 1 keys, so the
    mean is (n_ctx + 1)/2 per product, 2 n_layer (n_ctx + 1) d_attn in all. Dense counting doubles Kaplan's term."""
    n_layer, d, n_ctx, n_vocab = 12, 768, 1024, 50257
    kaplan = 2 * (12 * n_layer * d * d) + 2 * n_layer * n_ctx * d  # 188,743,680 FLOPs per token
    assert kaplan == 188_743_680
    causal = analyze(zoo.load("gpt2"), (n_ctx,), convention="causal").total_cost()
    assert 2 * causal == n_ctx * (kaplan + 2 * n_layer * d + 2 * d * n_vocab)
    dense = analyze(zoo.load("gpt2"), (n_ctx,)).total_cost()
    assert 2 * dense == n_ctx * (kaplan + 2 * n_layer * n_ctx * d + 2 * d * n_vocab)


def test_kv_cache_llama_and_mistral_grouped_query_saving() -> None:
    # Llama-2-7B: 2 (K and V) x 32 layers x 32 kv heads x 128 head_dim x 2 bytes (fp16) = 524,288 bytes per token
    llama, mistral = zoo.load("llama-2-7b"), zoo.load("mistral-7b")
    assert kv_bytes_per_token(llama, "float16") == 2 * 32 * 32 * 128 * 2 == 524_288
    # Mistral-7B: 8 kv heads for 32 query heads: a quarter, 131,072 bytes per token
    assert kv_bytes_per_token(mistral, "float16") == 2 * 32 * 8 * 128 * 2 == 131_072
    # 8192 tokens: Llama keeps them all (4 GiB); Mistral's rolling buffer keeps the window's 4096 (512 MiB)
    assert kv_cache_bytes(llama, 8192) == 524_288 * 8192 == 4 * 2**30
    assert kv_cache_bytes(mistral, 8192) == 131_072 * 4096 == 2**29
    assert kv_cache_bytes(mistral, 8192, rolling=False) == 131_072 * 8192


def _brute_force_pairs(length: int, cache: int, causal: bool, window: Optional[int]) -> int:
    kept = 0
    for i in range(length):
        p = cache + i
        for j in range(cache + length):
            if not causal or (j <= p and (window is None or p - j < window)):
                kept += 1
    return kept


@pytest.mark.parametrize("length,cache,window", list(grid([1, 2, 5, 9], [0, 1, 4, 11], [None, 1, 3, 6])))
def test_kept_pairs_equal_a_brute_force_mask(length: int, cache: int, window: Optional[int]) -> None:
    assert kept_pairs(length, cache, True, window) == _brute_force_pairs(length, cache, True, window)
    assert kept_pairs(length, cache, False, None) == _brute_force_pairs(length, cache, False, None)
    n, t = symbol("L"), symbol("T")
    formula = kept_pairs(n, t, True, window)
    assert formula.subs({n: length, t: cache}) == _brute_force_pairs(length, cache, True, window)


def test_causal_prefill_counts_half_plus_the_diagonal() -> None:
    # llama-2-7b, L = 4096: dense QK^T = 32 heads x 4096 x 4096 x 128 per layer; causal keeps 4096 x 4097 / 2 pairs
    g = zoo.load("llama-2-7b")
    dense = analyze(g, (4096,)).rows
    causal = analyze(g, (4096,), convention="causal").rows
    scores = next(i for i, r in enumerate(dense) if r.name == "model.layers.0.self_attn.scores")
    assert dense[scores].macs == 32 * 4096 * 4096 * 128
    assert causal[scores].cost == 32 * (4096 * 4097 // 2) * 128


def test_decode_step_of_llama_2_7b() -> None:
    """One token after T = 4096 cached, fp16: every weight read once (the embedding: one row), K and V of
    4096 tokens read, ~1 FLOP per byte: decode is memory-bound (an H100 needs ~295 FLOP/byte to be compute-bound)."""
    cost = phase_cost(zoo.load("llama-2-7b"), "decode", context=4096, dtype="float16")
    # weights: all params but the 32000 x 4096 embedding table, plus the one 4096-wide row looked up, x 2 bytes
    assert cost.weight_bytes == (6_738_415_616 - 32000 * 4096 + 4096) * 2
    assert cost.kv_read_bytes == 524_288 * 4096
    assert cost.kv_cache_bytes == 524_288 * 4097
    # MACs: every weight matrix once (params - embedding - 2 x 4096 x 32 + 1 norms... counted per row) + attention
    # 32 layers x 2 x 32 heads x 4097 keys x 128
    weights_macs = 32 * (4 * 4096 * 4096 + 3 * 4096 * 11008) + 4096 * 32000
    assert cost.macs == cost.causal_macs == weights_macs + 32 * 2 * 32 * 4097 * 128
    assert 0.5 < cost.intensity < 1.5


def test_decode_of_an_encoder_is_refused() -> None:
    with pytest.raises(CostlabError, match="bidirectional"):
        phase_cost(zoo.load("bert-base"), "decode", context=10)
    with pytest.raises(CostlabError, match="needs --context"):
        phase_cost(zoo.load("gpt2"), "decode")


def test_gpt2_longer_than_its_position_table_is_an_error() -> None:
    with pytest.raises(SpecError, match=r"wpe.*max_positions.*1025 positions but the table has 1024"):
        analyze(zoo.load("gpt2"), (1025,))


def test_config_json_file_and_folder_are_sources(tmp_path: Any) -> None:
    config = json.loads((zoo.ZOO_DIR.parent / "llm" / "configs" / "llama-2-7b.json").read_text())
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    for source in (tmp_path / "m", tmp_path / "m" / "config.json"):
        graph = load_source(str(source))
        assert analyze(graph).total().params == 6_738_415_616
        assert graph.nodes[1].name == "model.layers.0.input_layernorm"


BAD = [
    ({"model_type": "llama"}, "field 'hidden_size': is required"),
    ({"model_type": "whisper"}, "field 'model_type': model type 'whisper' is not supported"),
    ({"num_key_value_heads": 3}, "field 'num_key_value_heads': 8 heads do not divide into 3"),
    ({"hidden_size": 100}, "field 'num_attention_heads': 100 does not split into 8 heads"),
    ({"num_hidden_layers": True}, "field 'num_hidden_layers': must be a positive integer, got True"),
    ({"vocab_size": -5}, "field 'vocab_size': must be a positive integer, got -5"),
    ({"hidden_act": "mish"}, "field 'hidden_act': activation 'mish'"),
    ({"tie_word_embeddings": "yes"}, "field 'tie_word_embeddings': must be true or false"),
    ({"model_type": "mistral", "sliding_window": 0}, "field 'sliding_window': must be a positive integer or null"),
    ({"layer_types": ["full_attention"]}, "field 'layer_types': must list"),
    ({"model_type": "bert", "position_embedding_type": "relative_key"}, "field 'position_embedding_type': 'relative_key' is not modelled"),
    ({"model_type": "gpt2", "add_cross_attention": True}, "field 'add_cross_attention': True is not modelled"),
    ({"num_hidden_layers": 10**9}, "field 'num_hidden_layers': 1,000,000,000 layers is more than costlab reads"),
    ({"model_type": "t5", "d_model": 64, "num_layers": 1, "num_heads": 2, "d_ff": 8, "feed_forward_proj": "gated-mish"}, "field 'feed_forward_proj': activation 'gated-mish'"),
]


@pytest.mark.parametrize("change,message", BAD)
def test_bad_configs_name_the_file_and_field(change: dict, message: str, tmp_path: Any) -> None:
    base = {"model_type": "llama", "vocab_size": 50, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
            "num_attention_heads": 8}
    data = {**base, **change} if change.get("model_type") != "llama" else change
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SpecError) as info:
        load_config(path)
    assert str(info.value).startswith(str(path)) and message in str(info.value)


def test_a_hand_written_transformer_spec() -> None:
    """The layer types work in spec files too: one pre-norm block with grouped-query attention."""
    layers = [
        {"type": "embedding", "name": "embed", "num_embeddings": 100, "embedding_dim": 32},
        {"type": "rmsnorm", "name": "norm"},
        {"type": "linear", "name": "q", "input": "norm", "out_features": 32, "bias": False},
        {"type": "linear", "name": "kv", "input": "norm", "out_features": 16, "bias": False},
        {"type": "attention_scores", "name": "qk", "input": ["q", "kv"], "heads": 4, "kv_heads": 2, "head_dim": 8, "cache": "T"},
        {"type": "softmax"},
        {"type": "attention_values", "name": "av", "input": ["softmax", "kv"], "heads": 4, "kv_heads": 2, "head_dim": 8, "cache": "T"},
    ]
    a = analyze(graph_from_data({"name": "t", "input": "L", "layers": layers}, "t.yaml"))
    length, t = symbol("L"), symbol("T")
    qk = next(r for r in a.rows if r.name == "qk")
    assert sympy.expand(qk.macs - 4 * length * (t + length) * 8) == 0


def test_attention_overtakes_the_mlp() -> None:
    """Per layer, dense QK^T + AV = 2 x L^2 x d_attn MACs; the MLP is 3 x L x d x d_ff (Llama, gated) or
    2 x L x d x d_ff (GPT-2). Llama-2-7B: 2 L^2 4096 > 3 L 4096 x 11008 from L = 3 x 11008 / 2 + 1 = 16,513;
    causal, L(L+1) x 4096 > 3 L 4096 x 11008 from L + 1 > 33,024. GPT-2: L > 3072 dense, L + 1 > 6144 causal."""
    from costlab.llm.seqsweep import crossover

    assert crossover(zoo.load("llama-2-7b")) == 16_513
    assert crossover(zoo.load("llama-2-7b"), causal=True) == 33_024
    assert crossover(zoo.load("gpt2")) == 3_073
    assert crossover(zoo.load("gpt2"), causal=True) == 6_144


def test_seq_sweep_points_are_exact() -> None:
    from costlab.llm.seqsweep import parse_lengths, seq_sweep

    lengths = parse_lengths("128:32768:*2")
    assert lengths == [128 * 2**i for i in range(9)]
    points = seq_sweep(zoo.load("llama-2-7b"), lengths)
    for p in points[::4]:
        # attention per layer: 2 x 32 heads x L x L x 128; MLP: 3 x L x 4096 x 11008; KV: 524,288 bytes per token
        assert p.attention == 32 * 2 * 32 * p.length**2 * 128
        assert p.mlp == 32 * 3 * p.length * 4096 * 11008
        assert p.kv_cache_bytes == 524_288 * p.length
        assert p.macs == analyze(zoo.load("llama-2-7b"), (p.length,)).total().macs


@pytest.mark.parametrize(("text", "why"), [
    ("1:10:*1", "at least 2"), ("a:b", "expected START:STOP"), ("0:8:*2", "must be positive"), ("", "expected"),
    ("5:1", "reversed"), ("128:64:*2", r"reversed \(start 128 > stop 64\); write 64:128:\*2"),
    ("1:1000000000000:1", "more than 100,000"), ("1:8:0", "step must be a positive integer"), ("-4:8:*2", "must be positive"),
    ("1:2:3:4", "expected"), ("8,0", "must be positive"),
])
def test_bad_lengths(text: str, why: str) -> None:
    """Each mistake is named (a reversed range was once reported as 'lengths must be positive')."""
    from costlab.llm.seqsweep import parse_lengths

    with pytest.raises(CostlabError, match="^--seq: .*" + why):
        parse_lengths(text)


def test_cli_compare_transformers_with_nothing_downloaded(cli: Any) -> None:
    result = cli("compare", "gpt2", "bert-base", "llama-2-7b", "--format", "json")
    assert result.exit_code == 0, result.output
    assert [m["params"] for m in json.loads(result.output)["models"]] == [124_439_808, 109_482_240, 6_738_415_616]


def test_cli_decode_phase_and_errors(cli: Any) -> None:
    result = cli("analyze", "llama-2-7b", "--phase", "decode", "--context", "T", "--depth", "1", "--format", "csv")
    assert result.exit_code == 0, result.output
    # per decode step: 32 layers x (2 x 32 heads x (T + 1) x 128) attention MACs = 262,144 (T + 1)
    assert "262144*T" in result.output.replace(" ", "")
    bad = cli("analyze", "bert-base", "--phase", "decode", "--context", "3")
    assert bad.exit_code == 2 and "bidirectional" in bad.output
    mixed = cli("analyze", "gpt2", "--seq", "8", "--input", "8")
    assert mixed.exit_code == 2


def test_cli_phases_and_seq_sweep(cli: Any, tmp_path: Any) -> None:
    result = cli("phases", "llama-2-7b", "mistral-7b", "--seq", "4096", "--format", "json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)["phases"]
    decode = [r for r in records if r["phase"] == "decode"]
    assert [r["KV bytes/token"] for r in decode] == [524_288, 131_072]
    roof = tmp_path / "roof.svg"
    assert cli("phases", "gpt2", "--seq", "64", "--chart", str(roof)).exit_code == 0 and "<svg" in roof.read_text()
    symbolic = cli("phases", "gpt2", "--seq", "L", "--context", "8", "--chart", str(tmp_path / "x.png"))
    assert symbolic.exit_code == 2 and not (tmp_path / "x.png").exists()
    chart = tmp_path / "sweep.png"
    swept = cli("sweep", "llama-2-7b", "--seq", "128:32768:*2", "--chart", str(chart))
    assert swept.exit_code == 0 and "from L = 16,513 counted densely, L = 33,024" in swept.output and chart.stat().st_size > 0
    budget = cli("sweep", "gpt2", "--seq", "64:1024:*2", "--budget", "10G")
    # GPT-2 at L = 64: 12 x (7,077,888 x 64 + 1536 x 64^2) + 64 x 768 x 50,257 = 7,981,547,520 MACs; 128 is over 10G
    assert "longest length within 10G MACs: L = 64 (7,981,547,520 MACs)" in budget.output
    assert "the model takes at most 1,024 tokens" in budget.output
    assert cli("sweep", "gpt2", "--seq", "64", "--width", "2").exit_code == 2


def test_symbolic_decode_stays_exact() -> None:
    """One token after T cached: causal pairs T + 1 per head, an integer polynomial (no float creeps in)."""
    t = symbol("T")
    cost = phase_cost(zoo.load("llama-2-7b"), "decode", context=t)
    # 32 layers x 2 (QK^T, AV) x 32 heads x (T + 1) x 128 = 262,144 (T + 1), plus the 6,607,077,376 weight MACs
    assert sympy.expand(cost.causal_macs - (262_144 * (t + 1) + 6_607_077_376)) == 0
    assert all(isinstance(a, sympy.Integer) for a in sympy.expand(cost.causal_macs).atoms(sympy.Number))


def test_hostile_config_files_are_one_line_errors(tmp_path: Any) -> None:
    deep = tmp_path / "config.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    big = tmp_path / "big.json"
    big.write_text('{"model_type": "llama", "x": "' + "a" * 2_000_000 + '"}')
    for path, message in ((tmp_path, "nested too deeply"), (big, "a config.json is at most 1,048,576")):
        with pytest.raises(CostlabError, match=message):
            load_source(str(path))


def test_a_width_multiplier_is_refused_for_attention_with_the_layer_named() -> None:
    """sweep --width scales linear widths; attention heads x head_dim must follow them, so the first
    attention row refuses (one error naming the layer and field), never a shape error later."""
    from costlab.sweep import widen

    with pytest.raises(CostlabError, match=r"layer 'transformer.h.0.attn.scores': field 'heads': a width multiplier cannot"):
        widen(zoo.load("gpt2"), 0.5)


def test_registry_conventions_of_the_transformer_rows() -> None:
    """fvcore counts the matmul-like rows one per MAC and nothing for lookups, rotary or RMS norm;
    FlopCounterMode 2 per MAC of the same rows. A 1-layer Llama-like model, L = 4, d = 8, 2 heads of 4:
    q/k/v/o 4 x (8x8) = 4 x 256 = 1,024 MACs; scores and values 2 x (2 heads x 4 x 4 x 4) = 256; gate/up/down
    3 x 4 x (8x16) = 1,536; head 4 x 8 x 10 = 320; total 1,024 + 256 + 1,536 + 320 = 3,136."""
    from costlab.llm.hf_config import spec_from_config

    config = {"model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
              "num_attention_heads": 2}
    graph = graph_from_data(spec_from_config(config, "tiny", "tiny", 4), "tiny", "tiny")
    assert analyze(graph).total().macs == 3_136
    assert analyze(graph, convention="fvcore").total_cost() == 3_136
    assert analyze(graph, convention="torch").total_cost() == 2 * 3_136
