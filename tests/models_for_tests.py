"""Small PyTorch models for the bridge tests, importable as 'models_for_tests:NAME' references."""

import torch
from torch import nn


class Flipper(nn.Module):
    """A conv followed by torch.flip: an op neither costlab nor fvcore counts."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flip(self.conv(x), dims=[-1])


class TinyAttention(nn.Module):
    """Linear projections and F.scaled_dot_product_attention on 8x8 patches."""

    def __init__(self, dim: int = 16, heads: int = 2) -> None:
        super().__init__()
        self.embed = nn.Conv2d(3, dim, 8, stride=8)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.heads = heads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.embed(x).flatten(2).transpose(1, 2)  # (N, L, dim)
        n, length, dim = tokens.shape
        q, k, v = self.qkv(tokens).reshape(n, length, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        return nn.functional.scaled_dot_product_attention(q, k, v)


def flipper() -> nn.Module:
    return Flipper()


def upsampler() -> nn.Module:
    """nn.Upsample (nearest): fvcore counts 1 per output element; costlab 0 MACs, and fvcore's rule under --convention fvcore."""
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.Upsample(scale_factor=2))


def tiny_attention(dim: int = 16, heads: int = 2) -> nn.Module:
    return TinyAttention(dim, heads)
