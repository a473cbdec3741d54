"""The contrastive test's real floor: an English language model that never sees the German.

A contrast that a model of the targets alone can win measures target-side fluency, not the link to
the source; so the test reports, beside every translation model, what a source-blind model scores on
the very same contrasts. The model is a word n-gram with interpolated Kneser–Ney smoothing (Kneser &
Ney 1995; the interpolated form of Chen & Goodman 1999, one discount per order), trained on the
English side of the corpus's training text: it knows every local regularity of the targets, such as
which verbs take an object, or that the main verb never recurs in a relative clause.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict

import numpy as np

BOS, EOS = "<s>", "</s>"
WORD = re.compile(r"\w+|[^\w\s]")  # words, with each punctuation mark a word of its own


def words(sentence: str) -> list[str]:
    return WORD.findall(sentence)


class KneserNeyLM:
    """An interpolated Kneser–Ney word n-gram model.

    The highest order counts n-grams; each lower order counts, for a word after a context, the
    distinct words seen before that pair (its continuation count), so a word that is frequent only
    after one context ("Francisco" after "San") gets little weight where that context is absent.
    Below unigrams sits a uniform distribution over the vocabulary and one unknown word.
    """

    def __init__(self, sentences: list[str], order: int = 3, discount: float = 0.75, name: str = "") -> None:
        self.name = name or f"word {order}-gram Kneser-Ney LM"
        if order < 1 or not 0 < discount < 1:
            raise ValueError(f"KneserNeyLM: order must be >= 1 and 0 < discount < 1, got {order}, {discount}")
        self.order, self.discount = order, discount
        grams: Counter[tuple[str, ...]] = Counter()
        for sentence in sentences:
            tokens = [BOS] * (order - 1) + words(sentence) + [EOS]
            grams.update(tuple(tokens[i - order: i]) for i in range(order, len(tokens) + 1))
        # tables[k]: context of k - 1 words -> word -> count (raw at the top order, continuation below)
        self.tables: dict[int, dict[tuple[str, ...], Counter[str]]] = {k: defaultdict(Counter) for k in range(1, order + 1)}
        for gram, count in grams.items():
            self.tables[order][gram[:-1]][gram[-1]] += count
        for k in range(order - 1, 0, -1):
            for context, following in list(self.tables[k + 1].items()):
                for word in following:
                    self.tables[k][context[1:]][word] += 1
        self.totals = {k: {context: (sum(c.values()), len(c)) for context, c in table.items()} for k, table in self.tables.items()}
        self.vocabulary = len(self.tables[1][()]) + 1  # and one unknown word

    def probability(self, word: str, context: tuple[str, ...]) -> float:
        """P(word | the last order − 1 words of `context`), interpolated down to the uniform floor."""
        probability = 1.0 / self.vocabulary
        for k in range(1, self.order + 1):
            history = context[len(context) - k + 1:]
            total, types = self.totals[k].get(history, (0, 0))
            if total:
                count = self.tables[k][history].get(word, 0)
                probability = max(count - self.discount, 0) / total + self.discount * types / total * probability
        return probability

    def log_prob(self, sentence: str) -> float:
        """Natural-log probability of the sentence's words and its end."""
        tokens = [BOS] * (self.order - 1) + words(sentence) + [EOS]
        return sum(math.log(self.probability(tokens[i], tuple(tokens[i - self.order + 1: i])))
                   for i in range(self.order - 1, len(tokens)))

    def scores(self, sentences: list[str]) -> np.ndarray:
        return np.array([self.log_prob(sentence) for sentence in sentences])
