"""What passes between encoder, decoder and search: the encoder's `Memory` and the decoder's state.

The split is the experiment: a plain RNN decoder may read only `Memory.summary` (one vector for the
whole sentence, the bottleneck being measured), while attention decoders read every position of
`Memory.states`. Decoder states are dicts of batch-first tensors, so one search routine can reorder
any decoder's state (beams, finished sentences) without knowing what is inside.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import Tensor, nn

DecoderState = dict[str, Any]


def select_rows(tree: Any, index: Tensor) -> Any:
    """Index the batch (first) axis of every tensor in a nested dict/list/tuple."""
    if isinstance(tree, Tensor):
        return tree.index_select(0, index)
    if isinstance(tree, dict):
        return {key: select_rows(value, index) for key, value in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(select_rows(value, index) for value in tree)
    return tree


@dataclass
class Memory:
    """What the encoder hands the decoder.

    `extras` holds per-sentence values a decoder computes once and reuses at every step (the additive
    attention's key projection, the Transformer's cross-attention keys and values).

    `beams` is how many rows of decoder state read each sentence: row r reads sentence r // beams. Beam
    search sets it to its beam size, so the k hypotheses of a sentence share one copy of its memory, and
    an attention decoder attends from all k at once (k queries against one sentence's keys) instead of
    reading k copies of them.
    """

    states: Tensor  # [batch, src_len, output_size]
    mask: Tensor  # [batch, src_len], True = real token
    summary: Tensor  # [batch, summary_size]
    extras: dict[str, Any] = field(default_factory=dict)
    beams: int = 1

    def select(self, index: Tensor) -> "Memory":
        """The memory of the sentences in `index`, still read by `beams` rows each."""
        return Memory(
            select_rows(self.states, index),
            select_rows(self.mask, index),
            select_rows(self.summary, index),
            select_rows(self.extras, index),
            self.beams,
        )

    def with_beams(self, beams: int) -> "Memory":
        """The same memory read by `beams` rows per sentence (beam search, once its beams are made)."""
        return replace(self, beams=beams)

    def with_extras(self, **extras: Any) -> "Memory":
        """The same memory with more per-sentence values (a decoder's `prepare`)."""
        return replace(self, extras={**self.extras, **extras})

    def per_row(self, tensor: Tensor) -> Tensor:
        """A per-sentence tensor [batch, ...] with one row per decoder row: [batch × beams, ...]."""
        return tensor if self.beams == 1 else tensor.repeat_interleave(self.beams, dim=0)


class Encoder(nn.Module):
    """Reads embedded source tokens; declares its sizes so any decoder can be built to fit.

    `max_source_positions` is the longest source (subwords with EOS) it can read, None for no limit,
    so search can fit sources to any encoder without knowing its kind.
    """

    output_size: int
    summary_size: int
    max_source_positions: int | None = None

    def forward(self, src: Tensor, src_mask: Tensor) -> Memory:  # pragma: no cover - interface
        raise NotImplementedError


class Decoder(nn.Module):
    """Teacher-forced `forward` for training and `step` for search, both through one `_run`.

    `_run(tokens [batch, steps], memory, state, need_attention)` continues `state` by `steps` tokens
    and returns the features the `output` layer turns into logits; routing both entry points through
    it makes incremental decoding equal full recomputation. `forward(..., only=mask)` projects only
    the masked positions, so the training loss skips the vocabulary matmul at padding.
    `max_target_positions` is the most steps (output subwords with EOS) it can take, None for no limit.
    """

    vocab_size: int
    output: nn.Module  # features -> logits over the target vocabulary (a Linear in every real decoder)
    has_attention: bool = False
    max_target_positions: int | None = None

    def prepare(self, memory: Memory) -> Memory:
        """Precompute per-sentence values into `memory.extras`; called once before decoding."""
        return memory

    def init_state(self, memory: Memory) -> DecoderState:  # pragma: no cover - interface
        raise NotImplementedError

    def _run(
        self, tokens: Tensor, memory: Memory, state: DecoderState, need_attention: bool
    ) -> tuple[Tensor, DecoderState, Tensor | None]:  # pragma: no cover - interface
        raise NotImplementedError

    def forward(
        self, tgt_in: Tensor, memory: Memory, need_attention: bool = False, only: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """logits [batch, tgt_len, vocab], or [positions, vocab] for the True positions of `only`
        [batch, tgt_len], and attention [batch, tgt_len, src_len] (or None)."""
        memory = self.prepare(memory)
        features, _, attention = self._run(tgt_in, memory, self.init_state(memory), need_attention)
        return self.output(features if only is None else features[only]), attention

    def step(
        self, tokens: Tensor, memory: Memory, state: DecoderState, need_attention: bool = False
    ) -> tuple[Tensor, DecoderState, Tensor | None]:
        """Previous tokens [batch] -> logits [batch, vocab], new state, attention [batch, src_len] (or None)."""
        features, state, attention = self._run(tokens.unsqueeze(1), memory, state, need_attention)
        return self.output(features.squeeze(1)), state, None if attention is None else attention.squeeze(1)


def lengths_from_mask(mask: Tensor) -> Tensor:
    return mask.sum(dim=1)


def last_positions(mask: Tensor) -> Tensor:
    """Index of each sentence's last real token: [batch]."""
    return (lengths_from_mask(mask) - 1).clamp(min=0)


def masked_mean(states: Tensor, mask: Tensor) -> Tensor:
    weights = mask.unsqueeze(-1).to(states.dtype)
    return (states * weights).sum(1) / weights.sum(1).clamp(min=1.0)


def gather_positions(states: Tensor, positions: Tensor) -> Tensor:
    """states[b, positions[b]] for every b: [batch, hidden]."""
    return states[torch.arange(states.size(0), device=states.device), positions]
