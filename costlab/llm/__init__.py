"""Transformers and LLMs: layer types for attention blocks, Hugging Face config.json as a source,
prefill/decode phases with the KV cache, and sweeps over the sequence length.

Shapes: the model input is token ids ``(N, L)``; hidden states are ``(N, L, d)``. A layer with a
``cache`` field sees ``cache`` earlier tokens (the KV cache) besides the ``L`` new ones.
"""
