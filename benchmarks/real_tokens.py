"""Real target tokens per update: how JoeyNMT's batches compare with ours at a padded-token budget.

Ours sorts the training pairs by length before cutting batches of `batch_tokens` padded tokens, so a
batch is mostly words; JoeyNMT 2.3.0's `TokenBatchSampler` fills batches in random order, so at the
same budget its batches hold far fewer real tokens and an update sees less text. Both toolkits make
one update per batch, so equal real tokens per update means equal batches per epoch: this module
finds the JoeyNMT budget at which its sampler, replayed here on the same subword lengths, makes as
many batches of the training split as ours does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from seq2seq.data.batching import Example, token_batches

SHUFFLES = 5  # JoeyNMT's batches depend on its shuffle: the mean over this many shuffles (seeds 0, 1, ...)


@dataclass(frozen=True)
class BatchStatistics:
    """One sampler's batches of the training split, per epoch."""

    batch_tokens: int  # the padded-token budget
    batches: float  # batches (updates) per epoch, mean over shuffles
    target_tokens: int  # real target tokens per epoch (subwords + EOS), the same for any sampler

    @property
    def real_per_batch(self) -> float:
        return self.target_tokens / self.batches


def target_tokens(examples: list[Example]) -> int:
    """Subwords plus EOS on the target side: what both toolkits' loss is summed over."""
    return sum(len(e.tgt) + 1 for e in examples)


def ours(examples: list[Example], batch_tokens: int) -> BatchStatistics:
    """Our batches (`seq2seq.data.batching.token_batches`, the training loader's grouping)."""
    return BatchStatistics(batch_tokens, len(token_batches(examples, batch_tokens, shuffle=False)), target_tokens(examples))


def joeynmt_batch_count(sizes: list[int], batch_tokens: int, seed: int) -> int:
    """Batches JoeyNMT 2.3.0's `TokenBatchSampler` makes of one shuffled epoch: it appends pairs in random order
    and closes the batch once rows × the longest pair's tokens reaches `batch_tokens`. `sizes` are its
    per-pair token counts, max(source + 1, target + 1) subwords."""
    order = list(range(len(sizes)))
    random.Random(seed).shuffle(order)
    batches, rows, longest = 0, 0, 0
    for index in order:
        rows += 1
        longest = max(longest, sizes[index])
        if longest * rows >= batch_tokens:
            batches, rows, longest = batches + 1, 0, 0
    return batches + (rows > 0)


def joeynmt(examples: list[Example], batch_tokens: int) -> BatchStatistics:
    """JoeyNMT's batches of the same pairs at `batch_tokens`, averaged over SHUFFLES shuffles. Our examples carry
    EOS on the source already, which is JoeyNMT's `source + 1`."""
    sizes = [max(len(e.src), len(e.tgt) + 1) for e in examples]
    counts = [joeynmt_batch_count(sizes, batch_tokens, seed) for seed in range(SHUFFLES)]
    return BatchStatistics(batch_tokens, sum(counts) / len(counts), target_tokens(examples))


def equal_real_tokens_budget(examples: list[Example], ours_batch_tokens: int) -> int:
    """The smallest JoeyNMT budget whose batches per epoch are no more than ours: at least our real target
    tokens per update (bisection; JoeyNMT's batch count falls as its budget grows)."""
    wanted = ours(examples, ours_batch_tokens).batches
    low, high = ours_batch_tokens, ours_batch_tokens
    while joeynmt(examples, high).batches > wanted:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if joeynmt(examples, middle).batches <= wanted else (middle, high)
    return high
