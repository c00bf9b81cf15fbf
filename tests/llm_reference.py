"""Build the Hugging Face model of a config on the meta device and count it with torch's own tools
(test-only: needs torch and transformers). Shared by tests/test_llm_hf.py and scripts/check_llm_configs.py."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Tuple

# Which transformers class a costlab graph of each family corresponds to.
HEADS = {"bert": "AutoModel", "t5": "T5EncoderModel"}


def hf_model(config: Mapping[str, Any], device: str = "meta") -> Any:
    """The transformers model of ``config`` (a config.json mapping) on ``device`` (meta: nothing allocated),
    eager attention and eager experts (a loop of F.linear per routed expert: transformers' default grouped
    kernel is invisible to FlopCounterMode)."""
    import torch
    import transformers

    data = dict(config)
    model_type = data.pop("model_type")
    data.pop("architectures", None)
    cfg = transformers.AutoConfig.for_model(model_type, **data)
    cls = getattr(transformers, HEADS.get(model_type, "AutoModelForCausalLM"))
    extra = {"experts_implementation": "eager"} if "num_local_experts" in data else {}
    with torch.device(device):
        if cls is transformers.T5EncoderModel:
            model = cls(cfg)
        else:
            model = cls.from_config(cfg, attn_implementation="eager", **extra)
    model.config._attn_implementation = "eager"
    return model.eval()


def params_by_module(model: Any) -> Dict[str, int]:
    """Parameter count per module path (tied parameters once, under the first name, as named_parameters does)."""
    out: Dict[str, int] = {}
    for name, p in model.named_parameters():
        module = name.rsplit(".", 1)[0]
        out[module] = out.get(module, 0) + p.numel()
    return out


def flops_by_module(model: Any, length: int, context: int = 0, device: str = "meta") -> Tuple[Dict[str, int], int]:
    """FlopCounterMode's FLOPs per module path (root class name stripped; parents include children)
    and in total, for one forward of ``length`` new tokens after ``context`` cached ones (batch 1)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    kwargs: Dict[str, Any] = {}
    if context:
        prompt = torch.zeros(1, context, dtype=torch.long, device=device)
        with torch.no_grad():
            kwargs["past_key_values"] = model(input_ids=prompt, use_cache=True).past_key_values
    ids = torch.arange(length, device=device).reshape(1, length) % 7  # varied tokens: MoE routes them to different experts
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(input_ids=ids, **kwargs)
    counts = counter.get_flop_counts()
    total = sum(counts["Global"].values())
    per_module = {}
    for name, ops in counts.items():
        if name != "Global" and "." in name:
            per_module[name.split(".", 1)[1]] = sum(ops.values())
    return per_module, total
