"""Uncertainty for length comparisons: bootstrap intervals, paired significance, and a length-sensitivity slope.

A BLEU gap between two length buckets (or two models) means little without an interval. We follow
Koehn (2004, "Statistical significance tests for machine translation evaluation"): resample sentences
with replacement and recompute *corpus* scores from sacrebleu's per-sentence sufficient statistics,
so a resample costs one matrix product instead of re-tokenizing. Paired tests between systems follow
sacrebleu's `PairedTest` (paired bootstrap, Koehn 2004; approximate randomization, Riezler and
Maxwell 2005) on the same statistics, seeded by us. "Loses context on long sentences" becomes the slope of BLEU against source length,
with a bootstrap interval. Pure functions: no file I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from sacrebleu.metrics import BLEU, CHRF

from seq2seq.evaluation import assign_buckets, bucket_bounds, bucket_label

METRICS = {"bleu": BLEU, "chrf": CHRF}
BUCKET_MODES = ("fixed", "quantile")
BUCKET_UNITS = ("words", "subwords")


def _settings(cls: type, config: Any) -> Any:
    values = dict(config or {})
    known = [f.name for f in fields(cls)]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"{unknown[0]} is not a setting; known: {', '.join(known)}")
    return cls(**values)


@dataclass(frozen=True)
class BootstrapSettings:
    """`eval.bootstrap`: resamples per interval, interval level, and the numpy seed."""

    resamples: int = 1000
    level: float = 0.95
    seed: int = 12345

    @classmethod
    def from_config(cls, config: Any) -> "BootstrapSettings":
        """Validate a config node (None: defaults); a ValueError names the offending key."""
        settings = _settings(cls, config)
        if not isinstance(settings.resamples, int) or settings.resamples < 1:
            raise ValueError(f"resamples={settings.resamples} must be a whole number >= 1 (e.g. 1000)")
        if not isinstance(settings.level, (int, float)) or not 0 < settings.level < 1:
            raise ValueError(f"level={settings.level} must lie strictly between 0 and 1 (e.g. 0.95)")
        if not isinstance(settings.seed, int):
            raise ValueError(f"seed={settings.seed} must be an integer")
        return settings


@dataclass(frozen=True)
class BucketSettings:
    """`eval.buckets`: fixed edges (`eval.bucket_edges`) or `quantiles` equal-count buckets, in words or subwords."""

    mode: str = "fixed"
    quantiles: int = 5
    unit: str = "words"

    @classmethod
    def from_config(cls, config: Any) -> "BucketSettings":
        settings = _settings(cls, config)
        if settings.mode not in BUCKET_MODES:
            raise ValueError(f"mode={settings.mode} is unknown; choose one of {', '.join(BUCKET_MODES)}")
        if settings.unit not in BUCKET_UNITS:
            raise ValueError(f"unit={settings.unit} is unknown; choose one of {', '.join(BUCKET_UNITS)}")
        if not isinstance(settings.quantiles, int) or settings.quantiles < 1:
            raise ValueError(f"quantiles={settings.quantiles} must be a whole number >= 1 (e.g. 5)")
        return settings


# ---- buckets -------------------------------------------------------------------------------------

def quantile_edges(lengths: list[int], buckets: int) -> list[int]:
    """Edges [0, e1, ...] giving `buckets` buckets of roughly equal size; ties on one length merge buckets.

    e_k is the length at rank floor(k·N/buckets), so at most k·N/buckets sentences fall below it.
    """
    ordered = sorted(lengths)
    cuts = [ordered[k * len(ordered) // buckets] for k in range(1, buckets)] if ordered else []
    return sorted({0, *(int(c) for c in cuts)})


def bucket_members(lengths: list[int], edges: list[int]) -> list[np.ndarray]:
    """Sentence indices of each bucket, empty buckets included."""
    assigned = assign_buckets(lengths, edges)
    return [np.array([i for i, b in enumerate(assigned) if b == index], dtype=int) for index in range(len(edges))]


def bucket_midpoints(lengths: list[int], edges: list[int], members: list[np.ndarray]) -> list[float | None]:
    """Midpoint of each closed bucket's integer range; the open last bucket uses its sentences' mean length."""
    midpoints: list[float | None] = []
    for (low, high), rows in zip(bucket_bounds(edges), members):
        if not math.isinf(high):
            midpoints.append((low + high - 1) / 2)
        else:
            midpoints.append(float(np.mean([lengths[i] for i in rows])) if len(rows) else None)
    return midpoints


# ---- bootstrap -----------------------------------------------------------------------------------

def sentence_statistics(metric: str, hypotheses: list[str], references: list[str]) -> np.ndarray:
    """sacrebleu's per-sentence sufficient statistics; corpus score = f(sum of rows).  # [sentences, stats]"""
    scorer = METRICS[metric]()
    stats = scorer._extract_corpus_statistics(hypotheses, [references])
    return np.array(stats, dtype=np.float64).reshape(len(hypotheses), -1)


def score_from_statistics(metric: str, summed: np.ndarray) -> float:
    return float(METRICS[metric]()._compute_score_from_stats(summed).score)


def resample_counts(sentences: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """How often each sentence is drawn in each resample (drawing N of N with replacement).  # [resamples, sentences]"""
    draws = rng.integers(0, sentences, size=(resamples, sentences))
    offsets = draws + sentences * np.arange(resamples)[:, None]
    return np.bincount(offsets.ravel(), minlength=resamples * sentences).reshape(resamples, sentences)


def percentile_interval(values: np.ndarray, level: float) -> list[float]:
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return [float(low), float(high)]


def _scores_of_sums(metric: str, summed: np.ndarray) -> np.ndarray:
    """Corpus score of each row of summed statistics, one sacrebleu call each.  # [rows, stats] -> [rows]"""
    scorer = METRICS[metric]()
    return np.array([scorer._compute_score_from_stats(row).score for row in summed])


def resampled_scores(metric: str, stats: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Corpus score of every resample: weighted row sums of the statistics."""
    return _scores_of_sums(metric, counts @ stats)


def bootstrap_interval(metric: str, stats: np.ndarray, settings: BootstrapSettings) -> list[float] | None:
    """Percentile bootstrap interval of the corpus score of these sentences (None for no sentences)."""
    if len(stats) == 0:
        return None
    counts = resample_counts(len(stats), settings.resamples, np.random.default_rng(settings.seed))
    return percentile_interval(resampled_scores(metric, stats, counts), settings.level)


def corpus_interval(
    metric: str, hypotheses: list[str], references: list[str], settings: BootstrapSettings
) -> list[float] | None:
    """Bootstrap interval of corpus BLEU ("bleu") or chrF ("chrf") of a set of sentences."""
    return bootstrap_interval(metric, sentence_statistics(metric, hypotheses, references), settings)


# ---- paired significance -------------------------------------------------------------------------

MIN_TEST_SENTENCES = 10
PAIRED_TESTS = ("bs", "ar")


def paired_test(
    baseline: list[str], system: list[str], references: list[str], test: str = "bs",
    resamples: int = 1000, seed: int = 12345, alpha: float = 0.05,
) -> dict[str, dict[str, Any]]:
    """Paired test of `system` against `baseline` on BLEU and chrF -> {metric: {p, significant}}.

    The algorithm of sacrebleu's `PairedTest` (paired bootstrap: Koehn 2004, as Moses'
    bootstrap-hypothesis-difference-significance.pl; approximate randomization: Riezler and Maxwell
    2005), on its sufficient statistics, drawing from our own seeded generator: `PairedTest` seeds
    only through $SACREBLEU_SEED and treats seed 0 as "unseeded", so every seed here, 0 included,
    gives the same p-values on every call (tested against `PairedTest` itself).
    Identical hypotheses get p = 1: the count of resampled differences strictly greater than the
    observed one would read p = 1/(n+1) for a zero difference against all-zero resamples.
    Sets of fewer than MIN_TEST_SENTENCES sentences are not tested (p None): with one sentence every
    resample repeats the observed difference.
    """
    if not (len(baseline) == len(system) == len(references)):
        raise ValueError(f"{len(baseline)} baseline, {len(system)} system hypotheses, {len(references)} references")
    if test not in PAIRED_TESTS:
        raise ValueError(f"test={test!r}: choose one of {', '.join(PAIRED_TESTS)}")
    if len(references) < MIN_TEST_SENTENCES:
        return {name: {"p": None, "significant": None} for name in METRICS}
    if list(baseline) == list(system):
        return {name: {"p": 1.0, "significant": False} for name in METRICS}
    rng = np.random.default_rng(seed)
    sentences = len(references)
    if test == "bs":  # the same resampled sentences for both systems
        draws = rng.integers(0, sentences, size=(resamples, sentences))
        counts = np.stack([np.bincount(row, minlength=sentences) for row in draws])
    else:  # each trial swaps a random half of the sentence pairs between the systems
        swapped = rng.integers(2, size=(resamples, sentences), dtype=bool)
    results = {}
    for name in METRICS:
        base = sentence_statistics(name, baseline, references)
        other = sentence_statistics(name, system, references)
        observed = abs(score_from_statistics(name, base.sum(0)) - score_from_statistics(name, other.sum(0)))
        if test == "bs":
            differences = np.abs(resampled_scores(name, other, counts) - resampled_scores(name, base, counts))
            differences -= differences.mean()  # centred: the null distribution of the difference
        else:
            kept = ~swapped
            differences = np.abs(_scores_of_sums(name, swapped @ base + kept @ other)
                                 - _scores_of_sums(name, kept @ base + swapped @ other))
        p = (int(np.sum(differences > observed)) + 1) / (resamples + 1)
        results[name] = {"p": p, "significant": p < alpha}
    return results


def paired_by_bucket(
    baseline: list[str], system: list[str], references: list[str], members: list[np.ndarray], **options: Any
) -> list[dict[str, dict[str, Any]]]:
    """`paired_test` on each bucket's subset (p None for an empty bucket)."""
    return [paired_test([baseline[i] for i in rows], [system[i] for i in rows], [references[i] for i in rows], **options)
            for rows in members]


# ---- length sensitivity --------------------------------------------------------------------------

def weighted_slope(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> float | None:
    """Weighted least-squares slope of y on x (None with fewer than two distinct x)."""
    if len(x) < 2 or np.ptp(x) == 0:
        return None
    mean_x, mean_y = np.average(x, weights=weights), np.average(y, weights=weights)
    return float(np.sum(weights * (x - mean_x) * (y - mean_y)) / np.sum(weights * (x - mean_x) ** 2))


def length_sensitivity(
    stats: np.ndarray, lengths: list[int], edges: list[int], settings: BootstrapSettings | None, unit: str = "words"
) -> dict[str, Any]:
    """Slope of corpus BLEU against source length over bucket midpoints, with a bootstrap interval.

    The fit is least squares weighted by each bucket's sentence count, so a bucket of three long
    sentences cannot tilt the line as much as one of three hundred; empty buckets are left out. The
    interval resamples sentences (all buckets at once), recomputes each bucket's BLEU and refits.
    `long_short_ratio` is BLEU of the longest non-empty bucket over that of the shortest.
    """
    members = bucket_members(lengths, edges)
    midpoints = bucket_midpoints(lengths, edges, members)
    used = [b for b, rows in enumerate(members) if len(rows)]
    x = np.array([midpoints[b] for b in used], dtype=float)
    sizes = np.array([len(members[b]) for b in used], dtype=float)
    bucket_scores = [score_from_statistics("bleu", stats[members[b]].sum(0)) for b in used]
    slope = weighted_slope(x, np.array(bucket_scores), sizes)
    ratio = None
    if used and bucket_scores[0] > 0:
        ratio = bucket_scores[-1] / bucket_scores[0]
    result = {"slope": slope, "slope_ci": None, "unit": f"BLEU per source {unit[:-1]}",
              "fit": "least squares over bucket midpoints, weighted by sentence count",
              "long_short_ratio": ratio, "buckets_used": len(used)}
    if slope is None or settings is None:
        return result
    counts = resample_counts(len(stats), settings.resamples, np.random.default_rng(settings.seed))
    per_bucket_counts = np.stack([counts[:, members[b]].sum(1) for b in used], axis=1)  # [resamples, buckets]
    per_bucket_scores = np.stack([resampled_scores("bleu", stats[members[b]], counts[:, members[b]]) for b in used], axis=1)
    slopes = []
    for drawn, scores in zip(per_bucket_counts, per_bucket_scores):
        present = drawn > 0
        fitted = weighted_slope(x[present], scores[present], drawn[present].astype(float))
        if fitted is not None:
            slopes.append(fitted)
    result["slope_ci"] = percentile_interval(np.array(slopes), settings.level) if slopes else None
    return result


# ---- everything for one split --------------------------------------------------------------------

def length_statistics(
    hypotheses: list[str], references: list[str], lengths: list[int], edges: list[int],
    settings: BootstrapSettings | None, unit: str = "words",
) -> dict[str, Any]:
    """Overall and per-bucket intervals plus the length sensitivity, from one pass of statistics extraction."""
    stats = {name: sentence_statistics(name, hypotheses, references) for name in METRICS}
    members = bucket_members(lengths, edges)
    midpoints = bucket_midpoints(lengths, edges, members)
    def summary(rows: np.ndarray) -> dict[str, Any]:
        """Corpus scores of these sentences (None when there are none) and their intervals."""
        entry: dict[str, Any] = {}
        for metric in METRICS:
            present = len(rows) > 0
            entry[metric] = score_from_statistics(metric, stats[metric][rows].sum(0)) if present else None
            entry[f"{metric}_ci"] = bootstrap_interval(metric, stats[metric][rows], settings) if present and settings else None
        return entry

    buckets = []
    for (low, high), rows, midpoint in zip(bucket_bounds(edges), members, midpoints):
        buckets.append({"bucket": bucket_label(low, high), "count": len(rows), "midpoint": midpoint, **summary(rows)})
    return {
        **summary(np.arange(len(hypotheses))), "by_length": buckets,
        "length_sensitivity": length_sensitivity(stats["bleu"], lengths, edges, settings, unit),
    }


def compare_systems(
    systems: dict[str, list[str]], references: list[str], lengths: list[int], edges: list[int],
    settings: BootstrapSettings, test: str = "bs", alpha: float = 0.05, unit: str = "words",
) -> dict[str, Any]:
    """Every system's scores and intervals per bucket, and paired p-values against the first (the baseline).

    Rows: one per (system, bucket), bucket "all" first. No correction for multiple comparisons: with
    many buckets, expect an occasional p < alpha by chance.
    """
    members = bucket_members(lengths, edges)
    baseline_name, baseline = next(iter(systems.items()))
    options = {"test": test, "resamples": settings.resamples, "seed": settings.seed, "alpha": alpha}
    rows, sensitivity = [], {}
    for name, hypotheses in systems.items():
        summary = length_statistics(hypotheses, references, lengths, edges, settings, unit)
        sensitivity[name] = summary["length_sensitivity"]
        if name == baseline_name:
            tests = [None] * (len(members) + 1)
        else:
            tests = [paired_test(baseline, hypotheses, references, **options),
                     *paired_by_bucket(baseline, hypotheses, references, members, **options)]
        everyone = {"bucket": "all", "count": len(references), **{k: summary[k] for k in ("bleu", "bleu_ci", "chrf", "chrf_ci")}}
        for bucket, paired in zip([everyone, *summary["by_length"]], tests):
            row = {"run": name, **{k: v for k, v in bucket.items() if k != "midpoint"}}
            for metric in METRICS:
                row[f"{metric}_p"] = None if paired is None else paired[metric]["p"]
                row[f"{metric}_significant"] = None if paired is None else paired[metric]["significant"]
            rows.append(row)
    return {"baseline": baseline_name, "test": test, "alpha": alpha, "rows": rows, "length_sensitivity": sensitivity}
