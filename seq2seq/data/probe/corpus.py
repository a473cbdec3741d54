"""The generated German→English probe corpus: length and subject–verb distance under our control.

Real corpora mix sentence length with topic and style; here every pair comes from one synchronous
grammar (`probe_grammar`), so the translation is exact and only length, relative-clause depth and
the distance between the main subject and its verb change. Evaluation splits hold equal numbers of
sentences per length bucket, and the contrastive verb test (`probe_contrast`, via
`ProbeCorpus.targeted_metrics`) asks the question the corpus exists for: does the model still prefer
the right main verb when many words separate it from its subject? `verb_accuracy`, the older
"is the verb in the output" figure, is reported beside its chance level, which rises with length.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Callable

from omegaconf import DictConfig, ListConfig, OmegaConf

from seq2seq.data.parallel import ParallelText
from seq2seq.data.probe.contrast import contrastive_accuracy, has_attractor_contrast, tables_from_items
from seq2seq.data.probe.factorial import FACTORIAL_CELLS, SUBJECT_PIECES, generate_factorial
from seq2seq.data.probe.grammar import MAX_PP_CHAIN, Pair, realize, sample_clause
from seq2seq.data.probe.metrics import check_edges, format_probe_metrics, verb_accuracy, verb_chance
from seq2seq.data.probe.source_blind import KneserNeyLM
from seq2seq.errors import UserError
from seq2seq.scoring.bootstrap import BootstrapSettings

if TYPE_CHECKING:
    from seq2seq.data.tokenizer import Tokenizer
    from seq2seq.models.encoder_decoder import EncoderDecoder

log = logging.getLogger(__name__)

MIN_SENTENCE_WORDS = 3  # "Die Katze sprang."
MAX_ATTEMPTS_PER_PAIR = 10_000
GRID_SPLIT = "grid"
GRID_ATTEMPTS_PER_PAIR = 300  # a cell the grammar cannot fill gives up after this many tries per pair
FACTORIAL_SPLIT = "factorial"


@dataclass
class ProbeConfig:
    seed: int = 1234
    splits: dict[str, int] = field(default_factory=lambda: {"train": 60000, "valid": 300, "test": 1200})
    min_words: int = 4
    max_words: int = 60
    depth_weights: list[float] = field(default_factory=lambda: [0.1, 0.2, 0.2, 0.15, 0.15, 0.1, 0.1])
    max_pp_chain: int = MAX_PP_CHAIN  # longest chain of noun PPs on one noun ("on the mat next to the dog": 2)
    length_bucket_width: int = 10
    # P(length bucket) in non-stratified splits, see bucket_weights; None: uniform, as runs made before the key
    # existed (conf/data/probe.yaml sets the calibrated short-heavy mix)
    length_weights: list[float] | None = None
    stratified_splits: list[str] = field(default_factory=lambda: ["valid", "test"])
    distance_edges: list[int] = field(default_factory=lambda: [0, 5, 10, 20, 30, 40, 60])
    grid_lengths: list[list[int]] = field(default_factory=lambda: [[15, 19], [25, 29], [35, 39]])
    grid_distances: list[list[int]] = field(default_factory=lambda: [[1, 4], [5, 9], [10, 19], [20, 29]])
    grid_per_cell: int = 0  # > 0: a `grid` split with this many pairs per (length, distance) cell
    # keep a grid pair only when it has an attractor contrast, so every pair enters the paired distance test
    grid_attractor_only: bool = False
    factorial_items: int = 0  # > 0: a `factorial` split of this many items, each in all four FACTORIAL_CELLS
    factorial_fillers: int = 2  # verb-free PPs that lengthen the factorial's far cells (factorial.py)

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
        if self.length_weights is not None and (not self.length_weights or min(self.length_weights) < 0
                                                or sum(bucket_weights(self)) <= 0):
            raise ValueError(f"probe corpus: length_weights must be non-negative with a positive sum over the length "
                             f"buckets {[list(b) for b in length_buckets(self.min_words, self.max_words, self.length_bucket_width)]}, "
                             f"got {self.length_weights}")
        unknown = sorted(set(self.stratified_splits) - set(self.splits))
        if unknown:
            raise ValueError(f"probe corpus: stratified_splits names {unknown}, not in splits {sorted(self.splits)}")
        check_edges(self.distance_edges)
        if not isinstance(self.grid_per_cell, int) or self.grid_per_cell < 0:
            raise ValueError(f"probe corpus: grid_per_cell must be a whole number >= 0, got {self.grid_per_cell}")
        if not isinstance(self.grid_attractor_only, bool):
            raise ValueError(f"probe corpus: grid_attractor_only must be true or false, got {self.grid_attractor_only!r}")
        for key in ("grid_lengths", "grid_distances"):
            ranges = getattr(self, key)
            if not ranges or any(len(r) != 2 or r[0] > r[1] for r in ranges):
                raise ValueError(f"probe corpus: {key} must be a list of [low, high] ranges, got {ranges}")
        for split, key in ((GRID_SPLIT, "grid_per_cell"), (FACTORIAL_SPLIT, "factorial_items")):
            if split in self.splits:
                raise ValueError(f"probe corpus: '{split}' is a generated split's name (set {key}); do not list it in splits")
        for key in ("max_pp_chain", "factorial_items", "factorial_fillers"):
            if not isinstance(getattr(self, key), int) or getattr(self, key) < 0:
                raise ValueError(f"probe corpus: {key} must be a whole number >= 0, got {getattr(self, key)!r}")
        chained = self.factorial_fillers + SUBJECT_PIECES
        if self.factorial_items and not (self.factorial_fillers >= 1 and chained <= self.max_pp_chain):
            raise ValueError(f"probe corpus: factorial_fillers={self.factorial_fillers} chains {chained} PPs on a "
                             f"far-after subject, but training sentences chain at most max_pp_chain={self.max_pp_chain}: "
                             f"set 1 <= factorial_fillers <= max_pp_chain - {SUBJECT_PIECES}")


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


def bucket_weights(config: ProbeConfig) -> list[float]:
    """`length_weights` matched to the length buckets from the shortest: a missing weight repeats the
    last one and weights beyond the last bucket go unused, so a shorter `max_words` keeps the mix's shape."""
    weights = config.length_weights or [1.0]
    count = len(length_buckets(config.min_words, config.max_words, config.length_bucket_width))
    return [weights[min(i, len(weights) - 1)] for i in range(count)]


def split_seed(seed: int, split: str) -> int:
    """A per-split seed that is stable across processes (unlike the salted built-in `hash`)."""
    return int.from_bytes(hashlib.sha256(f"{seed}/{split}".encode()).digest()[:8], "big")


def _sample_pair(rng: random.Random, low: int, high: int, config: ProbeConfig, seen: set[str]) -> Pair:
    """A new pair (German side not in `seen`) of [low, high] German words; its depth follows the
    config's `depth_weights` conditioned on fitting that length."""
    weights = config.depth_weights
    depths = range(len(weights))
    for _ in range(MAX_ATTEMPTS_PER_PAIR):
        clause = sample_clause(rng, rng.randint(low, high), rng.choices(depths, weights)[0], high, config.max_pp_chain)
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
    remainder); any other split draws each pair's bucket at random, uniformly or by `length_weights`
    (a short-heavy training mix lets the plain RNN learn the task before it meets long sentences).
    """
    rng = random.Random(split_seed(config.seed, name))
    count = config.splits[name]
    buckets = length_buckets(config.min_words, config.max_words, config.length_bucket_width)
    if name in config.stratified_splits:
        ranges = [b for i, b in enumerate(buckets) for _ in range(count // len(buckets) + (i < count % len(buckets)))]
    elif config.length_weights is None:
        ranges = [rng.choice(buckets) for _ in range(count)]
    else:
        ranges = rng.choices(buckets, bucket_weights(config), k=count)
    pairs = [_sample_pair(rng, low, high, config, seen) for low, high in ranges]
    rng.shuffle(pairs)
    return ParallelText(name, [p.src for p in pairs], [p.tgt for p in pairs], [p.meta for p in pairs])


def grid_cells(config: ProbeConfig) -> list[tuple[str, list[int], list[int]]]:
    """The grid's cells, lengths outer: (label such as "L10-19 D1-4", [low, high] length, [low, high] distance)."""
    return [(f"L{lengths[0]}-{lengths[1]} D{distances[0]}-{distances[1]}", lengths, distances)
            for lengths in config.grid_lengths for distances in config.grid_distances]


def length_quotas(low: int, high: int, per_cell: int) -> list[tuple[int, int]]:
    """(German length, pairs) for one grid cell: `per_cell` spread evenly over the lengths low..high
    (the shorter lengths take the remainder), so every cell of a length band asks for the same lengths."""
    lengths = list(range(low, high + 1))
    return [(length, per_cell // len(lengths) + (i < per_cell % len(lengths))) for i, length in enumerate(lengths)]


def generate_grid(config: ProbeConfig, seen: set[str]) -> ParallelText:
    """The `grid` split: `grid_per_cell` pairs in every cell of German length × subject–verb distance.

    In the stratified test split, length and distance rise together (a longer sentence has room for
    a longer subject); here they vary independently, so the effect of distance can be read at fixed
    length. Within a length band, every cell asks for the same number of pairs at each exact length
    (`length_quotas`), so cells of one band differ in distance, not in length: drawing a random
    length per pair instead let mean length rise with distance inside a band, since long distances
    need room. Each pair is drawn at its length and a random relative-clause depth and kept when its
    distance falls in the cell and, with `grid_attractor_only`, when it has an attractor contrast (a
    relative-clause verb to trade with the main verb), since the paired distance test can use only
    those pairs. A cell the grammar cannot fill keeps what it found, with a warning, and is reported
    with its count (possibly 0), never dropped.
    """
    rng = random.Random(split_seed(config.seed, GRID_SPLIT))
    depths = range(len(config.depth_weights))
    pairs: list[Pair] = []
    for cell, (low, high), (near, far) in grid_cells(config):
        found = 0
        for length, quota in length_quotas(low, high, config.grid_per_cell):
            kept = 0
            for _ in range(quota * GRID_ATTEMPTS_PER_PAIR):
                if kept == quota:
                    break
                clause = sample_clause(rng, length, rng.choice(depths), length, config.max_pp_chain)
                pair = realize(clause) if clause is not None else None
                if pair is None or not near <= pair.meta["distance"] <= far or pair.src in seen:
                    continue
                if config.grid_attractor_only and not has_attractor_contrast(pair.meta):
                    continue
                seen.add(pair.src)
                pair.meta["cell"] = cell
                pairs.append(pair)
                kept += 1
            found += kept
        if found < config.grid_per_cell:
            log.warning("probe grid cell %s: %d of %d pairs (the grammar rarely or never makes such sentences)",
                        cell, found, config.grid_per_cell)
    rng.shuffle(pairs)
    return ParallelText(GRID_SPLIT, [p.src for p in pairs], [p.tgt for p in pairs], [p.meta for p in pairs])


class ProbeCorpus:
    """Loader for the generated corpus; built by Hydra from conf/data/probe.yaml's `corpus:` node.

    All splits are generated together on first use: stratified (evaluation) splits first, so a
    test set does not change when the training set grows, then the others in config order, each
    skipping German sentences already generated, so splits are disjoint.
    """

    def __init__(self, **settings: Any) -> None:
        """Keyword arguments are ProbeConfig's fields (None or absent: its default)."""
        known = [f.name for f in fields(ProbeConfig)]
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise UserError(f"data.corpus.{unknown[0]}: not a probe corpus setting; known: {', '.join(known)}")
        given = {key: value for key, value in settings.items() if value is not None}
        if "splits" in given and "stratified_splits" not in given:  # the default evaluation splits that exist
            given["stratified_splits"] = [s for s in ProbeConfig().stratified_splits if s in given["splits"]]
        self.config = ProbeConfig(**{key: _plain(value) for key, value in given.items()})
        self.config.validate()
        self._splits: dict[str, ParallelText] = {}
        self._seen: set[str] = set()  # German sides of the splits generated so far
        self._source_blind: KneserNeyLM | None = None

    def _generate(self, last: str | None = None) -> dict[str, ParallelText]:
        """The splits in generation order, up to `last` (None: all). A split depends only on those before it,
        so scoring `test` does not wait for the 60,000 training pairs generated after it."""
        order = self.config.stratified_splits + [s for s in self.config.splits if s not in self.config.stratified_splits]
        for name in order:
            if name not in self._splits:
                self._splits[name] = generate_split(self.config, name, self._seen)
            if name == last:
                break
        return self._splits

    def load(self, split: str) -> ParallelText:
        """Generate (deterministically, cached in memory) and return the split.

        Each meta dict holds subject_index and verb_index (German word positions of the main
        subject's head noun and the main verb), distance (their difference), main_verb (its English
        form in the target), depth (relative-clause nesting) and length (German words); for the
        contrastive test also main_verb_word (its index in the English words), main_verb_transitive
        and relative_verbs (English form, German index and transitivity of each relative-clause verb).
        The grid's pairs add their `cell`; the factorial split's add `cell`, `attractor_between` and
        `attractor_offset` (`factorial.factorial_item`).
        """
        splits = self._generate(split if split in self.config.splits else None)
        generated = self._generated_splits()
        if split in generated:
            if split not in splits:  # made last, on demand, avoiding the other splits: none of them depends on it
                splits[split] = generated[split]({s for name in self.config.splits for s in splits[name].src})
            return splits[split]
        if split not in self.config.splits:
            hints = [f"data.corpus.{key}=N adds '{name}'" for name, key in
                     ((GRID_SPLIT, "grid_per_cell"), (FACTORIAL_SPLIT, "factorial_items")) if name not in generated]
            raise UserError(f"probe corpus has no split '{split}'; available: {sorted(self.config.splits) + sorted(generated)}"
                            + (f" ({'; '.join(hints)})" if hints else ""))
        return splits[split]

    def _generated_splits(self) -> dict[str, Callable[[set[str]], ParallelText]]:
        """The evaluation splits built on demand (`grid`, `factorial`), each a function of the sentences to avoid."""
        config, generated = self.config, {}
        if config.grid_per_cell:
            generated[GRID_SPLIT] = lambda seen: generate_grid(config, seen)
        if config.factorial_items:
            generated[FACTORIAL_SPLIT] = lambda seen: generate_factorial(
                FACTORIAL_SPLIT, split_seed(config.seed, FACTORIAL_SPLIT), config.factorial_items,
                config.factorial_fillers, seen)
        return generated

    def fingerprint(self) -> str:
        """sha256 hex of the config and every split's text, to be stored in a run directory.

        Settings left at a value that changes no text (no grid or factorial split, uniform length mix, every grid
        pair kept, PP chains as before the key) stay out of the hash, so fingerprints recorded before those
        settings existed still match.
        """
        settings = asdict(self.config)
        for split in self._generated_splits():
            self.load(split)
        if self.config.grid_per_cell:
            unused = [] if self.config.grid_attractor_only else ["grid_attractor_only"]
        else:
            unused = ["grid_lengths", "grid_distances", "grid_per_cell", "grid_attractor_only"]
        if not self.config.factorial_items:
            unused += ["factorial_items", "factorial_fillers"]
        if self.config.max_pp_chain == MAX_PP_CHAIN:
            unused.append("max_pp_chain")
        for key in unused:
            settings.pop(key)
        if self.config.length_weights is None:
            settings.pop("length_weights")
        digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
        for name, text in sorted(self._generate().items()):
            digest.update(f"\n== {name}\n".encode())
            digest.update("\n".join(f"{s}\t{t}" for s, t in zip(text.src, text.tgt)).encode())
        return digest.hexdigest()

    def extra_metrics(self, text: ParallelText, hypotheses: list[str]) -> dict:
        """Main-verb accuracy overall and per subject–verb distance bucket (see `verb_accuracy`), each
        beside its chance level (`chance`, see `verb_chance`)."""
        if text.meta is None:
            raise ValueError(f"split '{text.name}' has no metadata; load it with ProbeCorpus.load")
        accuracy = verb_accuracy(hypotheses, text.meta, self.config.distance_edges)
        chance = verb_chance(hypotheses, text.meta, self.config.distance_edges)
        accuracy["chance"] = chance["overall"]
        for row, chance_row in zip(accuracy["by_distance"], chance["by_distance"]):
            row["chance"] = chance_row["accuracy"]
        return {"verb_accuracy": accuracy}

    def source_blind(self) -> KneserNeyLM:
        """The contrastive test's floor: a word trigram model of the English side of the training
        splits (every split not stratified for evaluation), built once per corpus."""
        if self._source_blind is None:
            training = [s for s in self.config.splits if s not in self.config.stratified_splits]
            targets = [sentence for name in training for sentence in self.load(name).tgt]
            self._source_blind = KneserNeyLM(targets, name=f"word 3-gram Kneser-Ney LM of the {len(targets)} "
                                                           f"English targets of {'+'.join(training)}, no source")
        return self._source_blind

    def targeted_metrics(self, model: EncoderDecoder, tokenizer: Tokenizer, text: ParallelText, precision: str,
                         bootstrap: BootstrapSettings | None = None, items: list[dict] | None = None) -> dict:
        """The contrastive verb test (`probe_contrast.contrastive_accuracy`) on one split: accuracy by
        subject–verb distance (`distance_edges`) and by German length (buckets of `length_bucket_width`
        words up to `max_words`), seeded by the corpus seed, beside the source-blind floor's; `items`, where
        given, receives each contrast's record (`contrast.contrast_items`)."""
        if text.meta is None:
            raise ValueError(f"split '{text.name}' has no metadata; load it with ProbeCorpus.load")
        distance_edges, length_edges, cells = self.contrast_views({meta.get("cell", "") for meta in text.meta})
        return {"contrastive": contrastive_accuracy(model, tokenizer, text, distance_edges, length_edges,
                                                    precision, bootstrap, seed=self.config.seed, cells=cells,
                                                    floor=self.source_blind(), items=items)}

    def tables_from_items(self, items: list[dict], bootstrap: BootstrapSettings) -> dict:
        """A split's contrastive tables rebuilt from its contrast records, with the edges and cells
        `targeted_metrics` used (a recorded run's files are enough to check its results.json)."""
        return tables_from_items(items, *self.contrast_views({r["cell"] for r in items}), bootstrap)

    def contrast_views(self, labels: set[str]) -> tuple[list[int], list[int], list[str] | None]:
        """How the contrastive test is tabled: distance edges, German length edges (buckets of
        `length_bucket_width` words, the last one open: `60+`) and the cells of the split whose pairs carry
        these cell `labels` ("" for none): the grid's, the factorial's, or None for a split without cells."""
        length_edges = list(range(0, self.config.max_words + 1, self.config.length_bucket_width))
        labels = labels - {""}
        cells = (None if not labels else list(FACTORIAL_CELLS) if labels <= set(FACTORIAL_CELLS)
                 else [cell for cell, _, _ in grid_cells(self.config)])
        return self.config.distance_edges, length_edges, cells

    def format_metrics(self, result: dict) -> list[str]:
        """Console lines for the probe's own metrics in a split's result (verb accuracy, contrastive test)."""
        return format_probe_metrics(result)


def _plain(value: Any) -> Any:
    """Hydra passes lists and dicts as OmegaConf containers: plain Python for the dataclass and its hash."""
    return OmegaConf.to_container(value) if isinstance(value, (DictConfig, ListConfig)) else value
