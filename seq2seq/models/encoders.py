"""Encoders: read a source sentence into a `Memory` (per-position states plus one summary vector).

The RNN encoder's summary is its final hidden state: for the plain RNN decoder it is the *only*
view of the source (Cho et al. 2014), which is what loses context on long sentences. The
bidirectional variant gives attention decoders states that see both directions (Bahdanau et al.
2014, §3.2). The Transformer encoder (Vaswani et al. 2017) has no final state; its summary is a
pooled view (mean, first or last position), so even it can feed a plain RNN decoder.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seq2seq.models.attention import MultiHeadAttention
from seq2seq.models.interfaces import Encoder, Memory, gather_positions, last_positions, masked_mean
from seq2seq.models.rnn import make_rnn, run_over_lengths
from seq2seq.models.transformer_blocks import FeedForward, PositionalEncoding, Residual, TokenEmbedding


class RNNEncoder(Encoder):
    """GRU or LSTM over the embedded source; no direction reads padding before a real token (`run_over_lengths`).

    With `reverse`, the RNN reads each source from its last word to its first (Sutskever et al. 2014, §3.3):
    the summary is then the state after the *first* words, which a plain RNN decoder translates first, so
    the distance from a source word to where it is needed shrinks at the start of the sentence. The states
    are returned in source order, so attention and its maps still line up with the source as written.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int = 256,
        hidden_size: int = 256,
        num_layers: int = 1,
        cell: str = "gru",
        bidirectional: bool = False,
        dropout: float = 0.1,
        reverse: bool = False,
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        self.reverse = reverse
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_id)
        self.dropout = nn.Dropout(dropout)
        self.rnn = make_rnn(cell, embedding_dim, hidden_size, num_layers, dropout, bidirectional=bidirectional)
        self.directions = 2 if bidirectional else 1
        self.output_size = self.summary_size = hidden_size * self.directions

    def forward(self, src: Tensor, src_mask: Tensor) -> Memory:
        lengths = src_mask.sum(dim=1)
        order = reversed_order(lengths, src.size(1)) if self.reverse else None
        embedded = self.dropout(self.embedding(src if order is None else src.gather(1, order)))  # [batch, src_len, emb]
        states, final = run_over_lengths(self.rnn, embedded, lengths)
        if order is not None:  # reversal is its own inverse: states back in source order
            states = states.gather(1, order.unsqueeze(-1).expand_as(states))
        summary = torch.cat(list(final), dim=-1)  # [batch, directions * hidden]
        return Memory(states=self.dropout(states), mask=src_mask, summary=summary)


def reversed_order(lengths: Tensor, width: int) -> Tensor:
    """Per row, the positions that read its real tokens backwards and leave padding where it is: [batch, width]."""
    positions = torch.arange(width, device=lengths.device).expand(len(lengths), width)
    return torch.where(positions < lengths[:, None], lengths[:, None] - 1 - positions, positions)


class TransformerEncoderLayer(nn.Module):
    """Self-attention then feed-forward, each wrapped in a residual connection with layer norm."""

    def __init__(self, d_model: int, num_heads: int, ff_size: int, dropout: float, norm_first: bool) -> None:
        super().__init__()
        self.self_attention = MultiHeadAttention(d_model, num_heads, dropout)
        self.feed_forward = FeedForward(d_model, ff_size, dropout)
        self.attention_residual = Residual(d_model, dropout, norm_first)
        self.feed_forward_residual = Residual(d_model, dropout, norm_first)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        x = self.attention_residual(x, lambda h: self.self_attention(h, h, h, key_padding_mask=mask)[0])
        return self.feed_forward_residual(x, self.feed_forward)


class TransformerEncoder(Encoder):
    """A stack of self-attention layers; every position sees the whole sentence in one step."""

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 256,
        num_heads: int = 4,
        num_layers: int = 3,
        ff_size: int = 1024,
        dropout: float = 0.1,
        norm_first: bool = True,
        positions: str = "sinusoidal",
        max_positions: int = 1024,
        summary: str = "mean",
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        if summary not in ("mean", "first", "last"):
            raise ValueError(f"summary={summary!r}: choose 'mean', 'first' or 'last'")
        self.embedding = TokenEmbedding(vocab_size, d_model, pad_id)
        self.positions = PositionalEncoding(d_model, max_positions, positions)
        self.max_source_positions = max_positions
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            TransformerEncoderLayer(d_model, num_heads, ff_size, dropout, norm_first) for _ in range(num_layers)
        )
        self.final_norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()
        self.summary = summary
        self.output_size = self.summary_size = d_model

    def forward(self, src: Tensor, src_mask: Tensor) -> Memory:
        x = self.dropout(self.positions(self.embedding(src)))  # [batch, src_len, d_model]
        for layer in self.layers:
            x = layer(x, src_mask)
        states = self.final_norm(x)
        if self.summary == "mean":
            summary = masked_mean(states, src_mask)
        elif self.summary == "first":
            summary = states[:, 0]
        else:
            summary = gather_positions(states, last_positions(src_mask))
        return Memory(states=states, mask=src_mask, summary=summary)
