"""The generated German→English probe corpus: length and subject–verb distance under our control.

Real corpora mix sentence length with topic and style; here every pair comes from one synchronous
grammar (`probe_grammar`), so the translation is exact and only length, relative-clause depth and
the distance between the main subject and its verb change. Evaluation splits hold equal numbers of
sentences per length bucket, and `verb_accuracy` asks the question the corpus exists for: does the
model still produce the right main verb when many words separate it from its subject?
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from bisect import bisect_right
from dataclasses import asdict, dataclass, field

from seq2seq.data.parallel import ParallelText
from seq2seq.errors import UserError
from seq2seq.data.probe_grammar import Pair, realize, sample_clause

MIN_SENTENCE_WORDS = 3  # "Die Katze sprang."
MAX_ATTEMPTS_PER_PAIR = 10_000


@dataclass
class ProbeConfig:
    seed: int = 1234
    splits: dict[str, int] = field(default_factory=lambda: {"train": 12000, "valid": 500, "test": 1200})
    min_words: int = 4
    max_words: int = 60
    depth_weights: list[float] = field(default_factory=lambda: [0.1, 0.2, 0.2, 0.15, 0.15, 0.1, 0.1])
    length_bucket_width: int = 10
    stratified_splits: list[str] = field(default_factory=lambda: ["valid", "test"])
    distance_edges: list[int] = field(default_factory=lambda: [0, 5, 10, 20, 30, 40, 60])

    def validate(self) -> None:
        if not MIN_SENTENCE_WORDS <= self.min_words <= self.max_words:
            raise ValueError(f"probe corpus: need {MIN_SENTENCE_WORDS} <= min_words <= max_words, "
                             f"got min_words={self.min_words}, max_words={self.max_words}")
        if not self.depth_weights or min(self.depth_weights) < 0 or sum(self.depth_weights) <= 0:
            raise ValueError(f"probe corpus: depth_weights must be non-negative with a positive sum, "
                             f"got {self.depth_weights}")
        if any(not isinstance(n, int) or n < 0 for n in self.splits.values()):
            raise ValueError(f"probe corpus: splits must map names to pair counts >= 0, got {self.splits}")
        if self.length_bucket_width < 1:
            raise ValueError(f"probe corpus: length_bucket_width must be >= 1, got {self.length_bucket_width}")
        unknown = sorted(set(self.stratified_splits) - set(self.splits))
        if unknown:
            raise ValueError(f"probe corpus: stratified_splits names {unknown}, not in splits {sorted(self.splits)}")
        _check_edges(self.distance_edges)


def length_buckets(min_words: int, max_words: int, width: int) -> list[tuple[int, int]]:
    """Inclusive (low, high) length ranges aligned to multiples of `width` ([4, 9], [10, 19], ...),
    so they line up with evaluation buckets; a last range narrower than half a bucket (just
    [60, 60] for max_words=60) joins the one before, instead of holding a full share of sentences."""
    buckets, low = [], min_words
    while low <= max_words:
        high = min((low // width + 1) * width - 1, max_words)
        buckets.append((low, high))
        low = high + 1
    if len(buckets) > 1 and 2 * (buckets[-1][1] - buckets[-1][0] + 1) < width:
        buckets[-2:] = [(buckets[-2][0], buckets[-1][1])]
    return buckets


def split_seed(seed: int, split: str) -> int:
    """A per-split seed that is stable across processes (unlike the salted built-in `hash`)."""
    return int.from_bytes(hashlib.sha256(f"{seed}/{split}".encode()).digest()[:8], "big")


def _sample_pair(rng: random.Random, low: int, high: int, weights: list[float], seen: set[str]) -> Pair:
    """A new pair (German side not in `seen`) of [low, high] German words; its depth follows
    `weights` conditioned on fitting that length."""
    depths = range(len(weights))
    for _ in range(MAX_ATTEMPTS_PER_PAIR):
        clause = sample_clause(rng, rng.randint(low, high), rng.choices(depths, weights)[0], high)
        if clause is not None:
            pair = realize(clause)
            if pair.src not in seen:
                seen.add(pair.src)
                return pair
    raise ValueError(f"probe corpus: cannot generate enough distinct sentences of {low}-{high} words "
                     f"with depth_weights {weights}; widen min_words/max_words or ask for fewer pairs")


def generate_split(config: ProbeConfig, name: str, seen: set[str]) -> ParallelText:
    """Generate one split, skipping German sentences already in `seen` (which it extends).

    A stratified split holds equal numbers of pairs per length bucket (the first buckets take the
    remainder); any other split draws each pair's bucket uniformly at random.
    """
    rng = random.Random(split_seed(config.seed, name))
    count = config.splits[name]
    buckets = length_buckets(config.min_words, config.max_words, config.length_bucket_width)
    if name in config.stratified_splits:
        ranges = [b for i, b in enumerate(buckets) for _ in range(count // len(buckets) + (i < count % len(buckets)))]
    else:
        ranges = [rng.choice(buckets) for _ in range(count)]
    pairs = [_sample_pair(rng, low, high, config.depth_weights, seen) for low, high in ranges]
    rng.shuffle(pairs)
    return ParallelText(name, [p.src for p in pairs], [p.tgt for p in pairs], [p.meta for p in pairs])


class ProbeCorpus:
    """Loader for the generated corpus; built by Hydra from conf/data/probe.yaml's `corpus:` node.

    All splits are generated together on first use: stratified (evaluation) splits first, so a
    test set does not change when the training set grows, then the others in config order, each
    skipping German sentences already generated, so splits are disjoint.
    """

    def __init__(self, seed: int = 1234, splits: dict[str, int] | None = None, min_words: int = 4,
                 max_words: int = 60, depth_weights: list[float] | None = None, length_bucket_width: int = 10,
                 stratified_splits: list[str] | None = None, distance_edges: list[int] | None = None,
                 **_ignored) -> None:
        defaults = ProbeConfig()
        self.config = ProbeConfig(
            seed=seed,
            splits=dict(splits) if splits is not None else defaults.splits,
            min_words=min_words,
            max_words=max_words,
            depth_weights=list(depth_weights) if depth_weights is not None else defaults.depth_weights,
            length_bucket_width=length_bucket_width,
            stratified_splits=list(stratified_splits) if stratified_splits is not None else
            [s for s in defaults.stratified_splits if s in (splits or defaults.splits)],
            distance_edges=list(distance_edges) if distance_edges is not None else defaults.distance_edges,
        )
        self.config.validate()
        self._splits: dict[str, ParallelText] | None = None

    def _generate(self) -> dict[str, ParallelText]:
        if self._splits is None:
            order = self.config.stratified_splits + [s for s in self.config.splits if s not in self.config.stratified_splits]
            seen: set[str] = set()
            self._splits = {name: generate_split(self.config, name, seen) for name in order}
        return self._splits

    def load(self, split: str) -> ParallelText:
        """Generate (deterministically, cached in memory) and return the split.

        Each meta dict holds subject_index and verb_index (German word positions of the main
        subject's head noun and the main verb), distance (their difference), main_verb (its English
        form in the target), depth (relative-clause nesting) and length (German words).
        """
        if split not in self.config.splits:
            raise UserError(f"probe corpus has no split '{split}'; available: {sorted(self.config.splits)}")
        return self._generate()[split]

    def fingerprint(self) -> str:
        """sha256 hex of the config and every split's text, to be stored in a run directory."""
        digest = hashlib.sha256(json.dumps(asdict(self.config), sort_keys=True).encode())
        for name, text in sorted(self._generate().items()):
            digest.update(f"\n== {name}\n".encode())
            digest.update("\n".join(f"{s}\t{t}" for s, t in zip(text.src, text.tgt)).encode())
        return digest.hexdigest()

    def extra_metrics(self, text: ParallelText, hypotheses: list[str]) -> dict:
        """Main-verb accuracy overall and per subject–verb distance bucket (see `verb_accuracy`)."""
        if text.meta is None:
            raise ValueError(f"split '{text.name}' has no metadata; load it with ProbeCorpus.load")
        return {"verb_accuracy": verb_accuracy(hypotheses, text.meta, self.config.distance_edges)}


def _check_edges(edges: list[int]) -> None:
    if len(edges) < 2 or any(a >= b for a, b in zip(edges, edges[1:])):
        raise ValueError(f"distance_edges must be at least two strictly increasing numbers, got {edges}")


def _contains_word(text: str, word: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE) is not None


def verb_accuracy(hypotheses: list[str], meta: list[dict], distance_edges: list[int]) -> dict:
    """Fraction of hypotheses containing the reference's English main verb as a whole word
    (case-insensitive), overall and per bucket [low, high) of subject–verb distance.

    Presence is a fair test because the generator never reuses the main verb elsewhere in a
    sentence and no other English word in the lexicon is spelled like a verb form, so the verb
    occurs exactly once in the reference. It does not check the verb's position: a model that moves
    the verb into a relative clause still scores. Distances outside the edges count only overall;
    empty buckets are kept with count 0 and accuracy None.
    """
    if len(hypotheses) != len(meta):
        raise ValueError(f"verb_accuracy: {len(hypotheses)} hypotheses for {len(meta)} references")
    _check_edges(distance_edges)
    buckets = [{"bucket": f"{low}-{high - 1}", "low": low, "high": high, "count": 0, "correct": 0, "accuracy": None}
               for low, high in zip(distance_edges, distance_edges[1:])]
    correct = 0
    for hypothesis, row in zip(hypotheses, meta):
        hit = _contains_word(hypothesis, row["main_verb"])
        correct += hit
        index = bisect_right(distance_edges, row["distance"]) - 1
        if 0 <= index < len(buckets):
            buckets[index]["count"] += 1
            buckets[index]["correct"] += hit
    for bucket in buckets:
        if bucket["count"]:
            bucket["accuracy"] = bucket["correct"] / bucket["count"]
    overall = {"accuracy": correct / len(meta) if meta else None, "count": len(meta), "correct": correct}
    return {"overall": overall, "by_distance": buckets}
