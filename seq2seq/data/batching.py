"""Token-based batches over length-sorted examples, with padding masks.

Batching by a token budget (not a sentence count) keeps the work per step steady whatever the
sentence lengths; sorting into batches of similar length keeps padding small (as fairseq and
JoeyNMT do). Source sequences end in EOS; targets are split into the decoder's input (BOS + y) and
output (y + EOS) for teacher forcing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch
from torch import Tensor

from seq2seq.data.tokenizer import BOS_ID, EOS_ID, PAD_ID


@dataclass
class Example:
    """One encoded sentence pair; `index` is its position in the split (to restore order after decoding)."""

    index: int
    src: list[int]
    tgt: list[int]


@dataclass
class Batch:
    indices: list[int]
    src: Tensor  # [batch, src_len]
    src_mask: Tensor  # [batch, src_len], True = real token
    tgt_in: Tensor  # [batch, tgt_len]: BOS y1 ... yn
    tgt_out: Tensor  # [batch, tgt_len]: y1 ... yn EOS
    num_tgt_tokens: int

    def to(self, device: torch.device) -> "Batch":
        return Batch(
            self.indices,
            self.src.to(device),
            self.src_mask.to(device),
            self.tgt_in.to(device),
            self.tgt_out.to(device),
            self.num_tgt_tokens,
        )


def too_long(src: list[int], tgt: list[int], max_len: int) -> bool:
    """Whether a pair exceeds `max_len` subwords on either side once EOS is added."""
    return len(src) + 1 > max_len or len(tgt) + 1 > max_len


def make_examples(
    src_ids: list[list[int]], tgt_ids: list[list[int]], max_len: int | None = None, long_sentences: str = "filter"
) -> list[Example]:
    """Append EOS to sources; pairs longer than `max_len` subwords (with EOS) on either side are
    dropped (`filter`) or cut to fit (`truncate`)."""
    if long_sentences not in ("filter", "truncate"):
        raise ValueError(f"train.long_sentences={long_sentences!r}: choose 'filter' or 'truncate'")
    if max_len is not None and long_sentences == "truncate":
        src_ids, tgt_ids = [s[: max_len - 1] for s in src_ids], [t[: max_len - 1] for t in tgt_ids]
    pairs = enumerate(zip(src_ids, tgt_ids))
    return [Example(i, s + [EOS_ID], t) for i, (s, t) in pairs if max_len is None or not too_long(s, t, max_len)]


def pad(sequences: list[list[int]]) -> Tensor:
    length = max(len(s) for s in sequences)
    return torch.tensor([s + [PAD_ID] * (length - len(s)) for s in sequences], dtype=torch.long)


def collate(examples: list[Example]) -> Batch:
    src = pad([e.src for e in examples])
    tgt_in = pad([[BOS_ID] + e.tgt for e in examples])
    tgt_out = pad([e.tgt + [EOS_ID] for e in examples])
    return Batch(
        indices=[e.index for e in examples],
        src=src,
        src_mask=src != PAD_ID,
        tgt_in=tgt_in,
        tgt_out=tgt_out,
        num_tgt_tokens=int((tgt_out != PAD_ID).sum()),
    )


def token_batches(examples: list[Example], max_tokens: int, shuffle: bool, seed: int = 0) -> list[list[Example]]:
    """Group examples into batches whose padded size (rows × longest side) stays within `max_tokens`.

    With `shuffle`, examples are shuffled before the stable sort by length (so equal lengths mix
    differently each epoch) and the batches come out in random order; `seed` makes both repeatable.
    """
    rng = random.Random(seed)
    order = list(examples)
    if shuffle:
        rng.shuffle(order)
    order.sort(key=lambda e: (len(e.src), len(e.tgt)))
    batches = group_by_tokens(order, max_tokens)
    if shuffle:
        rng.shuffle(batches)
    return batches


def group_by_tokens(examples: list[Example], max_tokens: int) -> list[list[Example]]:
    """Cut examples, in the order given, into consecutive batches of at most `max_tokens` padded tokens."""
    batches: list[list[Example]] = []
    current: list[Example] = []
    longest = 0
    for example in examples:
        size = max(len(example.src), len(example.tgt) + 1)
        if current and max(longest, size) * (len(current) + 1) > max_tokens:
            batches.append(current)
            current, longest = [], 0
        current.append(example)
        longest = max(longest, size)
    if current:
        batches.append(current)
    return batches
