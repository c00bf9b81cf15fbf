"""Built-in transformer models: Hugging Face config.json files shipped in costlab/llm/configs/.

Each file is the model's config.json as published on the Hugging Face Hub (the address beside it),
so nothing is downloaded; costlab reads it like any user's config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

CONFIG_DIR = Path(__file__).parent / "configs"

# name -> (description, where the config.json comes from)
MODELS: Dict[str, Tuple[str, str]] = {
    "gpt2": ("GPT-2 small (124M), Radford et al. 2019", "https://huggingface.co/openai-community/gpt2"),
    "bert-base": ("BERT-base uncased encoder (BertModel), Devlin et al. 2018", "https://huggingface.co/google-bert/bert-base-uncased"),
    "t5-small": ("T5-small encoder stack (T5EncoderModel), Raffel et al. 2019", "https://huggingface.co/google-t5/t5-small"),
    "tinyllama-1.1b": ("TinyLlama 1.1B: Llama-2 shape, grouped-query attention (4 kv heads)", "https://huggingface.co/TinyLlama/TinyLlama-1.1B-Chat-v1.0"),
    "qwen2-0.5b": ("Qwen2-0.5B: tied embeddings, q/k/v biases, 2 kv heads", "https://huggingface.co/Qwen/Qwen2-0.5B"),
    "gemma-2b": ("Gemma 2B: multi-query attention, head_dim 256, GeGLU, 256k vocabulary", "https://huggingface.co/google/gemma-2b"),
    "llama-2-7b": ("Llama-2-7B, Touvron et al. 2023", "https://huggingface.co/meta-llama/Llama-2-7b-hf"),
    "mistral-7b": ("Mistral-7B v0.1: grouped-query (8 kv heads), sliding window 4096", "https://huggingface.co/mistralai/Mistral-7B-v0.1"),
    "mixtral-8x7b": ("Mixtral 8x7B: 8 experts, top-2 routing", "https://huggingface.co/mistralai/Mixtral-8x7B-v0.1"),
}


def names() -> List[str]:
    """Built-in transformer names, smallest first."""
    return [n for n in MODELS if (CONFIG_DIR / f"{n}.json").is_file()]


def has(name: str) -> bool:
    """True for a built-in transformer."""
    return name in MODELS and (CONFIG_DIR / f"{name}.json").is_file()


def load(name: str):  # type: ignore[no-untyped-def]
    """The graph of a built-in transformer (at the default length, costlab.llm.hf_config.DEFAULT_SEQ)."""
    from dataclasses import replace

    from .hf_config import load_config

    graph = load_config(CONFIG_DIR / f"{name}.json", name)
    return replace(graph, description=MODELS[name][0], source=f"zoo:{name}")
