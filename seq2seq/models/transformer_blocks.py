"""Pieces shared by the Transformer encoder and decoder (Vaswani et al. 2017, §3.3–3.5).

Token embeddings scaled by sqrt(d_model), sinusoidal or learned positions, the position-wise
feed-forward network, and the residual wrapper that places layer normalisation before the sublayer
(pre-norm, stable without warm-up tricks) or after it (post-norm, the original paper).
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor, nn


class PositionalEncoding(nn.Module):
    """Adds position information: fixed sinusoids (§3.5) or a learned table."""

    def __init__(self, d_model: int, max_positions: int = 1024, kind: str = "sinusoidal") -> None:
        super().__init__()
        if kind not in ("sinusoidal", "learned"):
            raise ValueError(f"positions={kind!r}: choose 'sinusoidal' or 'learned'")
        self.max_positions = max_positions
        self.learned = nn.Embedding(max_positions, d_model) if kind == "learned" else None
        if self.learned is None:
            position = torch.arange(max_positions).unsqueeze(1)
            frequency = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
            table = torch.zeros(max_positions, d_model)
            table[:, 0::2] = torch.sin(position * frequency)
            table[:, 1::2] = torch.cos(position * frequency[: d_model // 2])
            self.register_buffer("table", table, persistent=False)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        """x [batch, length, d_model], whose first position is absolute position `offset`."""
        length = x.size(1)
        if offset + length > self.max_positions:
            raise ValueError(
                f"sequence of {offset + length} positions exceeds max_positions={self.max_positions}; raise it in the model config"
            )
        if self.learned is not None:
            return x + self.learned.weight[offset : offset + length]
        return x + self.table[offset : offset + length]


    def at(self, positions: Tensor) -> Tensor:
        """The encodings of absolute positions [batch, length] (each row its own): [batch, length, d_model]."""
        if positions.numel() and int(positions.max()) >= self.max_positions:
            raise ValueError(
                f"position {int(positions.max())} exceeds max_positions={self.max_positions}; raise it in the model config"
            )
        return (self.learned.weight if self.learned is not None else self.table)[positions]


class TokenEmbedding(nn.Module):
    """Embedding scaled by sqrt(d_model) so it is not drowned by the positional signal (§3.4)."""

    def __init__(self, vocab_size: int, d_model: int, pad_id: int = 0) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=pad_id)
        self.scale = math.sqrt(d_model)
        nn.init.normal_(self.embedding.weight, std=d_model**-0.5)
        with torch.no_grad():
            self.embedding.weight[pad_id].zero_()

    def forward(self, tokens: Tensor) -> Tensor:
        return self.embedding(tokens) * self.scale


class FeedForward(nn.Module):
    """Two linear maps with a ReLU between, applied to every position alike (§3.3)."""

    def __init__(self, d_model: int, ff_size: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_model, ff_size), nn.ReLU(), nn.Dropout(dropout), nn.Linear(ff_size, d_model)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class Residual(nn.Module):
    """x + dropout(sublayer(x)) with layer norm before (pre-norm) or after (post-norm) the sum."""

    def __init__(self, d_model: int, dropout: float, norm_first: bool) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)
        self.norm_first = norm_first

    def forward(self, x: Tensor, sublayer: Callable[[Tensor], Tensor]) -> Tensor:
        if self.norm_first:
            return x + self.dropout(sublayer(self.norm(x)))
        return self.norm(x + self.dropout(sublayer(x)))
