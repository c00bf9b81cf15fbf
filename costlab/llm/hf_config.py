"""A Hugging Face ``config.json`` as a costlab source: read as JSON (no torch, no transformers) and
turned into spec data whose layer names are the Hugging Face module names
(``model.layers.0.self_attn.q_proj``), then loaded like any spec file.

Families: llama, mistral, qwen2, gemma, mixtral (decoders with RMSNorm, rotary, gated MLP,
grouped-query attention), gpt2, bert (BertModel, with its pooler) and t5 (the encoder stack,
T5EncoderModel). Optional fields take the defaults of the transformers configuration classes;
the sizes (vocabulary, width, layers, heads) are required. Ops that run inside a module but are
not modules themselves (scores, softmax, rotary, residual adds) are rows named under that module.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

from ..errors import SpecError

Spec = Dict[str, Any]
MAX_BYTES = 1 << 20  # a config.json is a few KB; refuse anything past 1 MiB
DEFAULT_SEQ = 512  # BERT's longest input: the one length every built-in model accepts
MAX_LAYERS = 1000  # the deepest published transformers have ~100 blocks; a limit keeps a hostile file from hanging


class _Config:
    """Typed reads of a config mapping; every problem names the file and the field."""

    def __init__(self, data: Mapping[str, Any], source: str, defaults: Mapping[str, Any]) -> None:
        self.data, self.source, self.defaults = data, source, defaults

    def error(self, field: str, message: str) -> SpecError:
        return SpecError(message, source=self.source, field=field)

    def get(self, field: str) -> Any:
        if field in self.data and self.data[field] is not None:
            return self.data[field]
        if field in self.defaults:
            return self.defaults[field]
        raise self.error(field, "is required")

    def positive(self, field: str) -> int:
        value = self.get(field)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.error(field, f"must be a positive integer, got {value!r}")
        return value

    def optional_int(self, field: str, fallback: int) -> int:
        """The field, else the class default, else ``fallback`` (e.g. key/value heads = heads)."""
        if self.data.get(field) is None and self.defaults.get(field) is None:
            return fallback
        return self.positive(field)

    def flag(self, field: str) -> bool:
        value = self.get(field)
        if not isinstance(value, bool):
            raise self.error(field, f"must be true or false, got {value!r}")
        return value

    def activation(self, *fields: str, strip: str = "") -> str:
        """costlab's activation kind for the first field set (``strip``: a prefix such as 'gated-')."""
        field = next((f for f in fields if self.data.get(f) is not None), fields[-1])
        value = self.get(field)
        name = value[len(strip):] if isinstance(value, str) and value.startswith(strip) else value
        for prefix, kind in (("gelu", "gelu"), ("quick_gelu", "gelu"), ("silu", "silu"), ("swish", "silu"), ("relu", "relu"), ("tanh", "tanh")):
            if isinstance(name, str) and name.startswith(prefix):
                return kind
        raise self.error(field, f"activation {value!r} is not one costlab knows (gelu*, silu, swish, relu, tanh)")

    def layers(self, field: str) -> int:
        count = self.positive(field)
        if count > MAX_LAYERS:
            raise self.error(field, f"{count:,} layers is more than costlab reads ({MAX_LAYERS:,})")
        return count

    def divides(self, width: int, heads: int, field: str) -> int:
        if width % heads:
            raise self.error(field, f"{width} does not split into {heads} heads")
        return width // heads


def layer(type_: str, name: str, input: Any = None, **fields: Any) -> Spec:
    """One layer's spec mapping."""
    spec: Spec = {"type": type_, "name": name, **fields}
    if input is not None:
        spec["input"] = input
    return spec


def group(name: str, layers: List[Spec], input: Any = None) -> Spec:
    """A named sequence (a module with children)."""
    return layer("sequence", name, input, layers=layers)


def attention_rows(path: str, q: str, k: str, v: str, out: Spec, core: Mapping[str, Any], rotary: Optional[int]) -> List[Spec]:
    """Rows after the q, k, v projections: optional rotary, scores, softmax, values, the output projection."""
    rows = []
    if rotary:
        rows += [layer("rotary", "q_rotary", f"{path}.{q}", head_dim=rotary), layer("rotary", "k_rotary", f"{path}.{k}", head_dim=rotary)]
        q, k = "q_rotary", "k_rotary"
    return [
        *rows,
        layer("attention_scores", "scores", [f"{path}.{q}", f"{path}.{k}"], **core),
        layer("softmax", "softmax"),
        layer("attention_values", "values", [f"{path}.softmax", f"{path}.{v}"], **core),
        out,
    ]


def _core(cfg: _Config, heads: int, kv: int, head_dim: int, causal: bool, window: Optional[int]) -> Dict[str, Any]:
    core: Dict[str, Any] = {"heads": heads, "head_dim": head_dim, "causal": causal}
    if kv != heads:
        if heads % kv:
            raise cfg.error("num_key_value_heads", f"{heads} heads do not divide into {kv} key/value groups")
        core["kv_heads"] = kv
    if window is not None:
        core["window"] = window
    return core


def _windows(cfg: _Config, model_type: str, layers: int) -> List[Optional[int]]:
    """The sliding window of each layer (None: full attention), as the transformers config computes it."""
    if model_type == "qwen2":
        window = cfg.data.get("sliding_window") if cfg.data.get("use_sliding_window") else None
        first = cfg.positive("max_window_layers") if window is not None else layers
        default = ["sliding_attention" if window is not None and i >= first else "full_attention" for i in range(layers)]
    elif model_type in ("mistral", "mixtral"):
        window = cfg.get("sliding_window")
        default = ["sliding_attention" if window is not None else "full_attention"] * layers
    else:
        window, default = None, ["full_attention"] * layers
    types = cfg.data.get("layer_types") or default
    if not isinstance(types, list) or len(types) != layers or not set(types) <= {"sliding_attention", "full_attention"}:
        raise cfg.error("layer_types", f"must list 'full_attention' or 'sliding_attention' for each of the {layers} layers")
    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window <= 0):
        raise cfg.error("sliding_window", f"must be a positive integer or null, got {window!r}")
    return [window if t == "sliding_attention" else None for t in types]


def llama_like(cfg: _Config, model_type: str) -> List[Spec]:
    """llama, mistral, qwen2, gemma, mixtral: pre-norm decoder, RMSNorm, rotary, gated MLP or experts."""
    d, vocab, n_layers = cfg.positive("hidden_size"), cfg.positive("vocab_size"), cfg.layers("num_hidden_layers")
    heads = cfg.positive("num_attention_heads")
    kv = cfg.optional_int("num_key_value_heads", heads)
    head_dim = cfg.optional_int("head_dim", 0) or cfg.divides(d, heads, "num_attention_heads")
    hidden, act = cfg.positive("intermediate_size"), cfg.activation("hidden_activation", "hidden_act")
    qkv_bias = True if model_type == "qwen2" else cfg.flag("attention_bias")
    o_bias = False if model_type == "qwen2" else qkv_bias
    mlp_bias = cfg.flag("mlp_bias")
    windows = _windows(cfg, model_type, n_layers)
    blocks = []
    for i, window in enumerate(windows):
        p = f"model.layers.{i}"
        attn = f"{p}.self_attn"
        core = _core(cfg, heads, kv, head_dim, True, window)
        projections = [
            layer("linear", "q_proj", f"{p}.input_layernorm", out_features=heads * head_dim, bias=qkv_bias),
            layer("linear", "k_proj", f"{p}.input_layernorm", out_features=kv * head_dim, bias=qkv_bias),
            layer("linear", "v_proj", f"{p}.input_layernorm", out_features=kv * head_dim, bias=qkv_bias),
        ]
        out = layer("linear", "o_proj", out_features=d, bias=o_bias)
        if model_type == "mixtral":
            mlp = [layer("linear", "gate", out_features=cfg.positive("num_local_experts"), bias=False),
                   layer("experts", "experts", f"{p}.post_attention_layernorm", experts=cfg.positive("num_local_experts"),
                         top_k=cfg.positive("num_experts_per_tok"), hidden=hidden)]
        else:
            mlp = [
                layer("linear", "gate_proj", out_features=hidden, bias=mlp_bias),
                layer("activation", "act_fn", kind=act),
                layer("linear", "up_proj", f"{p}.post_attention_layernorm", out_features=hidden, bias=mlp_bias),
                layer("multiply", "gate", [f"{p}.mlp.act_fn", f"{p}.mlp.up_proj"]),
                layer("linear", "down_proj", out_features=d, bias=mlp_bias),
            ]
        residual = f"model.layers.{i - 1}" if i else "model.embed_tokens"
        blocks.append(group(str(i), [
            layer("rmsnorm", "input_layernorm"),
            group("self_attn", projections + attention_rows(attn, "q_proj", "k_proj", "v_proj", out, core, head_dim)),
            layer("add", "residual_attn", [residual, f"{attn}"]),
            layer("rmsnorm", "post_attention_layernorm"),
            group("mlp", mlp),
            layer("add", "residual_mlp", [f"{p}.residual_attn", f"{p}.mlp"]),
        ]))
    model = group("model", [layer("embedding", "embed_tokens", num_embeddings=vocab, embedding_dim=d),
                            group("layers", blocks), layer("rmsnorm", "norm")])
    return [model, layer("unembedding", "lm_head", vocab=vocab, tied=cfg.flag("tie_word_embeddings"))]


def gpt2(cfg: _Config, model_type: str) -> List[Spec]:
    """GPT2LMHeadModel: learned positions, post-attention LayerNorm pre-norm blocks, fused c_attn, tied head."""
    d, vocab, n_layers = cfg.positive("n_embd"), cfg.positive("vocab_size"), cfg.layers("n_layer")
    heads = cfg.positive("n_head")
    head_dim = cfg.divides(d, heads, "n_head")
    inner = cfg.optional_int("n_inner", 4 * d)
    act = cfg.activation("activation_function")
    core = _core(cfg, heads, heads, head_dim, True, None)
    blocks = []
    for i in range(n_layers):
        p = f"transformer.h.{i}"
        attn = f"{p}.attn"
        split = [layer("slice", name, f"{attn}.c_attn", start=j * d, size=d) for j, name in enumerate(("q", "k", "v"))]
        out = layer("linear", "c_proj", out_features=d)
        residual = f"transformer.h.{i - 1}" if i else "transformer.add_positions"
        blocks.append(group(str(i), [
            layer("layernorm", "ln_1"),
            group("attn", [layer("linear", "c_attn", out_features=3 * d), *split, *attention_rows(attn, "q", "k", "v", out, core, None)]),
            layer("add", "residual_attn", [residual, attn]),
            layer("layernorm", "ln_2"),
            group("mlp", [layer("linear", "c_fc", out_features=inner), layer("activation", "act", kind=act),
                          layer("linear", "c_proj", out_features=d)]),
            layer("add", "residual_mlp", [f"{p}.residual_attn", f"{p}.mlp"]),
        ]))
    transformer = group("transformer", [
        layer("embedding", "wte", num_embeddings=vocab, embedding_dim=d),
        layer("positions", "wpe", "input", max_positions=cfg.positive("n_positions"), embedding_dim=d),
        layer("add", "add_positions", ["transformer.wte", "transformer.wpe"]),
        group("h", blocks),
        layer("layernorm", "ln_f"),
    ])
    return [transformer, layer("unembedding", "lm_head", vocab=vocab, tied=cfg.flag("tie_word_embeddings"))]


def bert(cfg: _Config, model_type: str) -> List[Spec]:
    """BertModel: word + position + token type embeddings, post-norm encoder layers, the pooler."""
    d, vocab, n_layers = cfg.positive("hidden_size"), cfg.positive("vocab_size"), cfg.layers("num_hidden_layers")
    heads = cfg.positive("num_attention_heads")
    core = _core(cfg, heads, heads, cfg.divides(d, heads, "num_attention_heads"), False, None)
    act = cfg.activation("hidden_act")
    blocks = []
    for i in range(n_layers):
        p = f"encoder.layer.{i}"
        s = f"{p}.attention.self"
        qkv = [layer("linear", n, f"encoder.layer.{i - 1}" if i else "embeddings", out_features=d) for n in ("query", "key", "value")]
        blocks.append(group(str(i), [
            group("attention", [
                group("self", qkv + attention_rows(s, "query", "key", "value", layer("identity", "context"), core, None)[:-1]),
                group("output", [layer("linear", "dense", out_features=d),
                                 layer("add", "residual", [f"{p}.attention.output.dense", f"encoder.layer.{i - 1}" if i else "embeddings"]),
                                 layer("layernorm", "LayerNorm")]),
            ]),
            group("intermediate", [layer("linear", "dense", out_features=cfg.positive("intermediate_size")), layer("activation", "act", kind=act)]),
            group("output", [layer("linear", "dense", out_features=d), layer("add", "residual", [f"{p}.output.dense", f"{p}.attention"]),
                             layer("layernorm", "LayerNorm")]),
        ]))
    embeddings = group("embeddings", [
        layer("embedding", "word_embeddings", num_embeddings=vocab, embedding_dim=d),
        layer("positions", "position_embeddings", "input", max_positions=cfg.positive("max_position_embeddings"), embedding_dim=d),
        layer("embedding", "token_type_embeddings", "input", num_embeddings=cfg.positive("type_vocab_size"), embedding_dim=d),
        layer("add", "add", ["embeddings.word_embeddings", "embeddings.position_embeddings", "embeddings.token_type_embeddings"]),
        layer("layernorm", "LayerNorm"),
    ])
    pooler = group("pooler", [layer("select_token", "first_token"), layer("linear", "dense", out_features=d),
                              layer("activation", "activation", kind="tanh")])
    return [embeddings, group("encoder", [group("layer", blocks)]), pooler]


def t5_encoder(cfg: _Config, model_type: str) -> List[Spec]:
    """T5EncoderModel: shared embedding, RMS-normed pre-norm blocks, relative position bias from block 0."""
    d, vocab, n_layers = cfg.positive("d_model"), cfg.positive("vocab_size"), cfg.layers("num_layers")
    heads, head_dim, d_ff = cfg.positive("num_heads"), cfg.positive("d_kv"), cfg.positive("d_ff")
    proj = cfg.get("feed_forward_proj")
    gated = isinstance(proj, str) and proj.startswith("gated-")
    act = cfg.activation("feed_forward_proj", strip="gated-")
    core = _core(cfg, heads, heads, head_dim, False, None)
    blocks = []
    for i in range(n_layers):
        p = f"encoder.block.{i}"
        a = f"{p}.layer.0.SelfAttention"
        rows = [layer("linear", n, f"{p}.layer.0.layer_norm", out_features=heads * head_dim, bias=False) for n in ("q", "k", "v")]
        if i == 0:
            rows.append(layer("position_bias", "relative_attention_bias", "input", buckets=cfg.positive("relative_attention_num_buckets"), heads=heads))
        rows += attention_rows(a, "q", "k", "v", layer("linear", "o", out_features=d, bias=False), core, None)
        ff = f"{p}.layer.1.DenseReluDense"
        if gated:
            mlp = [layer("linear", "wi_0", out_features=d_ff, bias=False), layer("activation", "act", kind=act),
                   layer("linear", "wi_1", f"{p}.layer.1.layer_norm", out_features=d_ff, bias=False),
                   layer("multiply", "gate", [f"{ff}.act", f"{ff}.wi_1"])]
        else:
            mlp = [layer("linear", "wi", out_features=d_ff, bias=False), layer("activation", "act", kind=act)]
        previous = f"encoder.block.{i - 1}" if i else "shared"
        blocks.append(group(str(i), [
            group("layer", [
                group("0", [layer("rmsnorm", "layer_norm", previous), group("SelfAttention", rows),
                            layer("add", "residual", [previous, a])]),
                group("1", [layer("rmsnorm", "layer_norm"), group("DenseReluDense", [*mlp, layer("linear", "wo", out_features=d, bias=False)]),
                            layer("add", "residual", [f"{p}.layer.0", ff])]),
            ]),
        ]))
    return [layer("embedding", "shared", num_embeddings=vocab, embedding_dim=d),
            group("encoder", [group("block", blocks), layer("rmsnorm", "final_layer_norm")])]


_LLAMA = {"tie_word_embeddings": False, "attention_bias": False, "mlp_bias": False, "hidden_act": "silu"}
# model_type -> (builder, defaults of the transformers configuration class for optional fields)
FAMILIES: Dict[str, Any] = {
    "llama": (llama_like, _LLAMA),
    "mistral": (llama_like, {**_LLAMA, "num_key_value_heads": 8, "sliding_window": 4096}),
    "mixtral": (llama_like, {**_LLAMA, "num_key_value_heads": 8, "sliding_window": None, "num_experts_per_tok": 2, "num_local_experts": 8}),
    "qwen2": (llama_like, {**_LLAMA, "max_window_layers": 28}),
    "gemma": (llama_like, {**_LLAMA, "tie_word_embeddings": True, "head_dim": 256, "hidden_activation": "gelu_pytorch_tanh",
                           "hidden_act": "gelu_pytorch_tanh", "num_key_value_heads": 16}),
    "gpt2": (gpt2, {"activation_function": "gelu_new", "tie_word_embeddings": True, "n_positions": 1024}),
    "bert": (bert, {"hidden_act": "gelu", "type_vocab_size": 2, "max_position_embeddings": 512}),
    "t5": (t5_encoder, {"d_kv": 64, "feed_forward_proj": "relu", "relative_attention_num_buckets": 32}),
}


# Fields that change the architecture in ways costlab does not model: (model types, field, values it models).
UNSUPPORTED = (
    (("bert",), "position_embedding_type", (None, "absolute")),
    (("bert", "gpt2"), "add_cross_attention", (None, False)),
    (("t5",), "is_decoder", (None, False)),
)


def _refuse_unmodelled(cfg: _Config, model_type: str) -> None:
    for types, field, modelled in UNSUPPORTED:
        if model_type in types and cfg.data.get(field) not in modelled:
            raise cfg.error(field, f"{cfg.data[field]!r} is not modelled by costlab (it models {', '.join(map(str, modelled[1:]))})")


def spec_from_config(data: Any, source: str, name: str, seq: Any = DEFAULT_SEQ) -> Spec:
    """Spec data (the costlab spec format) for a parsed config.json."""
    if not isinstance(data, dict):
        raise SpecError(f"a config.json must be a JSON object, got {type(data).__name__}", source=source)
    model_type = data.get("model_type")
    if model_type not in FAMILIES:
        known = ", ".join(sorted(FAMILIES))
        raise SpecError(f"model type {model_type!r} is not supported (supported: {known})", source=source, field="model_type")
    build, defaults = FAMILIES[model_type]
    cfg = _Config(data, source, defaults)
    _refuse_unmodelled(cfg, model_type)
    layers = build(cfg, model_type)
    what = "T5 encoder (T5EncoderModel)" if model_type == "t5" else str((data.get("architectures") or [model_type])[0])
    return {"name": name, "description": f"{what} from a Hugging Face config.json", "input": [seq] if isinstance(seq, int) else str(seq),
            "layers": layers}


def read_config(path: Path) -> Any:
    """The parsed JSON of a config.json (size-limited; data only)."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise SpecError(f"is {size:,} bytes; a config.json is at most {MAX_BYTES:,}", source=str(path))
        return json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise SpecError("is nested too deeply to be a config.json", source=str(path)) from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise SpecError(f"is not a readable JSON config: {' '.join(str(e).split())}", source=str(path)) from None


def is_hf_config(path: Path) -> bool:
    """A Hugging Face model folder (with config.json), or a JSON file with a 'model_type' and no 'layers'
    (a file over the size limit that mentions "model_type" near its start counts too, so that the
    loader can say it is too large)."""
    if path.is_dir():
        return (path / "config.json").is_file()
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    try:
        if path.stat().st_size > MAX_BYTES:
            with path.open("rb") as f:
                return b'"model_type"' in f.read(65536)
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and "model_type" in data and "layers" not in data


def load_config(path: Path, name: Optional[str] = None) -> Any:
    """The costlab graph of a config.json file or a model folder holding one."""
    from ..spec import graph_from_data

    file = path / "config.json" if path.is_dir() else path
    label = name or (path.name if path.is_dir() else path.stem)
    return graph_from_data(spec_from_config(read_config(file), str(file), label), str(file), label)


