"""Example sentences for a length bucket, chosen the compare-mt way (Neubig et al. 2019).

A score per bucket says *that* a model loses on long sentences; the sentences say *how*. Within a
bucket we show where two systems' sentence-level BLEU differs most, in either direction, plus a few
drawn at random with a fixed seed so that the typical case is seen too. Words of an output that the
reference does not have at that place (a difflib alignment) are marked, so a swapped verb stands out.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
from sacrebleu.metrics import BLEU


@dataclass(frozen=True)
class Example:
    """One sentence of a bucket and why it is shown (e.g. "transformer − rnn: +45.2 sentence BLEU", "random")."""

    index: int
    reason: str


def sentence_bleu(hypotheses: list[str], references: list[str]) -> np.ndarray:
    """sacrebleu's sentence BLEU (effective order, as compare-mt's sentence examples) of each pair.  # [sentences]"""
    scorer = BLEU(effective_order=True)
    return np.array([scorer.sentence_score(h, [r]).score for h, r in zip(hypotheses, references)])


def choose_examples(
    sentence_scores: dict[str, np.ndarray], members: np.ndarray, baseline: str, largest: int = 2, random: int = 2,
    seed: int = 1,
) -> list[Example]:
    """For each system against the baseline, the `largest` gains and losses in sentence BLEU among `members`,
    then `random` more sentences of the bucket; each sentence once, in that order.
    """
    chosen: dict[int, str] = {}
    base = sentence_scores[baseline]
    for name, scores in sentence_scores.items():
        if name == baseline or len(members) == 0:
            continue
        difference = scores[members] - base[members]
        order = np.argsort(-difference, kind="stable")
        picks = [i for i in order[:largest] if difference[i] > 0] + [i for i in order[::-1][:largest] if difference[i] < 0]
        for i in picks:
            chosen.setdefault(int(members[i]), f"{name} − {baseline}: {difference[i]:+.1f} sentence BLEU")
    rest = [int(i) for i in members if int(i) not in chosen]
    drawn = np.random.default_rng(seed).choice(len(rest), size=min(random, len(rest)), replace=False) if rest else []
    for i in sorted(int(d) for d in drawn):
        chosen[rest[i]] = "random"
    return [Example(index, reason) for index, reason in chosen.items()]


def differing_words(output: str, reference: str) -> list[tuple[str, bool]]:
    """The output's words, each with True where the reference has a different word there (difflib alignment)."""
    words, reference_words = output.split(), reference.split()
    marked = [True] * len(words)
    matcher = difflib.SequenceMatcher(None, reference_words, words, autojunk=False)
    for block in matcher.get_matching_blocks():
        marked[block.b:block.b + block.size] = [False] * block.size
    return list(zip(words, marked))
