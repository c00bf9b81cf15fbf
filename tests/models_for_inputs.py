"""Small PyTorch models fed something other than one float image ('models_for_inputs:NAME' references)."""

from typing import Optional

import torch
from torch import nn


class TokenClassifier(nn.Module):
    """Token ids (int64) through an embedding, masked mean, linear head; attention_mask is a keyword argument."""

    def __init__(self, vocab: int = 100, dim: int = 8, classes: int = 3) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, input_ids: torch.Tensor, attention_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        x = self.embed(input_ids)
        if attention_mask is not None:
            x = x * attention_mask.unsqueeze(-1).to(x.dtype)
        return self.head(x.mean(1))


class PairDifference(nn.Module):
    """Two positional images (as RAFT takes): one shared conv on each, their difference."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, image1: torch.Tensor, image2: torch.Tensor) -> torch.Tensor:
        return self.conv(image1) - self.conv(image2)


class Bilinear(nn.Module):
    """nn.Bilinear (aten._trilinear): a real cost that fvcore does not count."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(6, 6)
        self.bilinear = nn.Bilinear(6, 6, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.proj(x)
        return self.bilinear(y, y)


def token_classifier() -> nn.Module:
    return TokenClassifier()


def pair_difference() -> nn.Module:
    return PairDifference()


def no_parameters() -> nn.Module:
    return nn.Sequential(nn.ReLU(), nn.MaxPool2d(2))


def bilinear() -> nn.Module:
    return Bilinear()


def frozen_encoder() -> nn.Module:
    """nn.TransformerEncoder with frozen weights: in eval mode on the CPU PyTorch runs its fused fast path."""
    layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, batch_first=True)
    model = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def token_inputs():
    """Example inputs for token_classifier: ids as positional, the mask as a keyword (args, kwargs)."""
    return (torch.zeros(2, 5, dtype=torch.long),), {"attention_mask": torch.ones(2, 5, dtype=torch.long)}


def bert() -> nn.Module:
    """Hugging Face BERT-base from BertConfig() (transformers, a test-only dependency), random weights."""
    from transformers import BertConfig, BertModel

    return BertModel(BertConfig())


def conv1d_audio() -> nn.Module:
    """A Conv1d stack over a 1x16000 waveform."""
    return nn.Sequential(nn.Conv1d(1, 16, 80, stride=16), nn.ReLU(), nn.Conv1d(16, 32, 3), nn.AdaptiveAvgPool1d(1))


def transposed() -> nn.Module:
    """A ConvTranspose2d upsampling 8 channels 2x."""
    return nn.Sequential(nn.ConvTranspose2d(8, 4, 2, stride=2))
