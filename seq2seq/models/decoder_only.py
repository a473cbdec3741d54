"""Decoder-only translation: one causal Transformer over the German followed by the English, the way a large
language model translates when prompted (issue 34).

There is no encoder stack and no cross-attention: the German tokens are the first positions of the sequence
and every English token attends, causally, to them and to the English before it. It fits the encoder–decoder
contract as two parts. `PrefixEncoder` only embeds the source (its states are token embeddings, no context).
`CausalLMDecoder.prepare` runs the whole causal stack over that prefix once per sentence and keeps each
layer's keys and values, the cache a language model keeps after reading its prompt; each target step then
continues the sequence from there, at positions that follow each sentence's own length, so padding never
moves a sentence's positions. Training scores the English part only (the decoder's outputs are the target
positions); greedy and beam search run unchanged through `Memory`/`step`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seq2seq.models.encoders import TransformerEncoderLayer
from seq2seq.models.interfaces import Decoder, DecoderState, Encoder, Memory, masked_mean
from seq2seq.models.transformer_blocks import PositionalEncoding, TokenEmbedding


class PrefixEncoder(Encoder):
    """The source as the prompt of a decoder-only model: token embeddings, nothing read in context.

    Paired with another decoder it is a bag of embeddings (its summary is their mean), which is what a
    decoder that needs context from the encoder would then have to do without.
    """

    def __init__(self, vocab_size: int, d_model: int = 256, dropout: float = 0.1, max_positions: int = 512,
                 pad_id: int = 0) -> None:
        super().__init__()
        self.embedding = TokenEmbedding(vocab_size, d_model, pad_id)
        self.dropout = nn.Dropout(dropout)
        self.output_size = self.summary_size = d_model
        self.max_source_positions = max_positions

    def forward(self, src: Tensor, src_mask: Tensor) -> Memory:
        states = self.dropout(self.embedding(src))  # [batch, src_len, d_model]
        return Memory(states=states, mask=src_mask, summary=masked_mean(states, src_mask))


class CausalLayer(TransformerEncoderLayer):
    """The encoder's layer (self-attention and feed-forward, each in a residual) made causal and cached: a
    Transformer decoder layer without cross-attention."""

    def forward(self, x: Tensor, past: tuple[Tensor, Tensor] | None, visible: Tensor, need_weights: bool
                ) -> tuple[Tensor, tuple[Tensor, Tensor], Tensor | None]:
        """x [rows, steps, d] continues the keys/values `past` [rows, heads, keys, d/heads]; `visible` [rows, all keys]
        marks the keys that are real tokens. Returns the output, the keys/values so far and the weights."""
        cache, weights = [], []

        def attend(h: Tensor) -> Tensor:
            keys, values = self.self_attention.project_keys_values(h, h)
            if past is not None:
                keys, values = torch.cat([past[0], keys], dim=2), torch.cat([past[1], values], dim=2)
            cache.append((keys, values))
            out, weight = self.self_attention(h, keys_values=(keys, values), key_padding_mask=visible, causal=True,
                                              need_weights=need_weights)
            weights.append(weight)
            return out

        x = self.attention_residual(x, attend)
        return self.feed_forward_residual(x, self.feed_forward), cache[0], weights[0]


class CausalLMDecoder(Decoder):
    """A stack of causal layers that reads the source as its prefix (`prepare`) and then the target.

    `max_positions` bounds source and target together; each side may take half (`max_target_positions`),
    as `PrefixEncoder.max_positions` bounds the source. Attention maps are the last layer's weights on the
    source positions, each head's renormalised over them (where on the source it looks; the rest of its
    attention goes to the English so far), then averaged over heads.
    """

    has_attention = True

    def __init__(
        self,
        vocab_size: int,
        memory_size: int,
        summary_size: int,
        d_model: int = 256,
        num_heads: int = 4,
        num_layers: int = 6,
        ff_size: int = 1024,
        dropout: float = 0.1,
        norm_first: bool = True,
        positions: str = "sinusoidal",
        max_positions: int = 1024,
        tie_embeddings: bool = True,
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embedding = TokenEmbedding(vocab_size, d_model, pad_id)
        self.positions = PositionalEncoding(d_model, max_positions, positions)
        self.max_target_positions = max_positions // 2
        self.dropout = nn.Dropout(dropout)
        self.prefix_bridge = nn.Linear(memory_size, d_model) if memory_size != d_model else nn.Identity()
        self.layers = nn.ModuleList(CausalLayer(d_model, num_heads, ff_size, dropout, norm_first) for _ in range(num_layers))
        self.final_norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()
        self.output = nn.Linear(d_model, vocab_size, bias=False)
        if tie_embeddings:
            self.output.weight = self.embedding.embedding.weight

    def prepare(self, memory: Memory) -> Memory:
        """Read the source prefix through every layer once: each layer's keys and values, per sentence."""
        if "prefix_keys_values" not in memory.extras:
            lengths = memory.mask.sum(dim=1)
            x = self.dropout(self.prefix_bridge(memory.states) + self.positions.at(self.prefix_positions(memory.mask)))
            caches = []
            for layer in self.layers:
                x, cache, _ = layer(x, None, memory.mask, need_weights=False)
                caches.append(cache)
            memory = memory.with_extras(prefix_keys_values=caches, prefix_lengths=lengths)
        return memory

    @staticmethod
    def prefix_positions(mask: Tensor) -> Tensor:
        """0, 1, ... for the source tokens; padding (masked as keys) takes positions past them."""
        return torch.arange(mask.size(1), device=mask.device).expand_as(mask)

    def init_state(self, memory: Memory) -> DecoderState:
        return {"keys_values": [None] * len(self.layers), "position": 0}

    def _run(
        self, tokens: Tensor, memory: Memory, state: DecoderState, need_attention: bool
    ) -> tuple[Tensor, DecoderState, Tensor | None]:
        rows, steps = tokens.shape
        offsets = memory.per_row(memory.extras["prefix_lengths"])[:, None] + state["position"]  # [rows, 1]
        x = self.embedding(tokens) + self.positions.at(offsets + torch.arange(steps, device=tokens.device))
        x = self.dropout(x)
        source_mask = memory.per_row(memory.mask)
        target_keys = state["position"] + steps
        visible = torch.cat([source_mask, source_mask.new_ones(rows, target_keys)], dim=1)
        caches, attention = [], None
        for i, layer in enumerate(self.layers):
            past = state["keys_values"][i]
            if past is None:  # the first target step: start from the sentence's prefix
                past = tuple(memory.per_row(part) for part in memory.extras["prefix_keys_values"][i])
            last = i == len(self.layers) - 1
            x, cache, weights = layer(x, past, visible, need_attention and last)
            caches.append(cache)
            if weights is not None:  # the source part of the weights, per head a share of it: [rows, steps, src_len]
                on_source = weights[..., : source_mask.size(1)]
                attention = (on_source / on_source.sum(-1, keepdim=True).clamp(min=1e-12)).mean(dim=1)
        return self.final_norm(x), {"keys_values": caches, "position": target_keys}, attention
