"""Uncertainty for scores by length: bootstrap intervals and the length-sensitivity slope.

A BLEU gap between two length buckets means little without an interval. We follow Koehn (2004,
"Statistical significance tests for machine translation evaluation"): resample sentences with
replacement and recompute *corpus* scores from sacrebleu's per-sentence sufficient statistics, so a
resample costs one matrix product instead of re-tokenizing. Every score by bucket, with or without
an interval, comes from those statistics: one computation, which equals sacrebleu's corpus score on
the bucket's subset (tested). "Loses context on long sentences" becomes the slope of BLEU against
source length, with a bootstrap interval. Pure functions: no file I/O.
"""

from __future__ import annotations

from functools import partial

from dataclasses import dataclass
from typing import Any

import numpy as np
from sacrebleu.metrics import BLEU, CHRF

from seq2seq.scoring.buckets import bucket_bounds, bucket_label, bucket_members, bucket_midpoints, settings_from_config

# bleu_lc is sacrebleu's -lc: the lowercased BLEU that published Multi30k baselines report.
METRICS = {"bleu": BLEU, "bleu_lc": partial(BLEU, lowercase=True), "chrf": CHRF}


@dataclass
class BootstrapSettings:
    """`eval.bootstrap`: resamples per interval, interval level, and the numpy seed."""

    resamples: int = 1000
    level: float = 0.95
    seed: int = 12345

    @classmethod
    def from_config(cls, config: Any) -> "BootstrapSettings":
        """Settings from a config node (None: defaults); a ValueError names a value out of range."""
        settings = settings_from_config(cls, config)
        if settings.resamples < 1:
            raise ValueError(f"resamples={settings.resamples} must be a whole number >= 1 (e.g. 1000)")
        if not 0 < settings.level < 1:
            raise ValueError(f"level={settings.level:g} must lie strictly between 0 and 1 (e.g. 0.95)")
        return settings


def sentence_statistics(metric: str, hypotheses: list[str], references: list[str]) -> np.ndarray:
    """sacrebleu's per-sentence sufficient statistics; corpus score = f(sum of rows).  # [sentences, stats]"""
    if not hypotheses:
        return np.zeros((0, 0))
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


def scores_of_sums(metric: str, summed: np.ndarray) -> np.ndarray:
    """Corpus score of each row of summed statistics, one sacrebleu call each.  # [rows, stats] -> [rows]"""
    scorer = METRICS[metric]()
    return np.array([scorer._compute_score_from_stats(row).score for row in summed])


def resampled_scores(metric: str, stats: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Corpus score of every resample: weighted row sums of the statistics."""
    return scores_of_sums(metric, counts @ stats)


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


def weighted_slope(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> float | None:
    """Weighted least-squares slope of y on x (None with fewer than two distinct x)."""
    if len(x) < 2 or np.ptp(x) == 0:
        return None
    mean_x, mean_y = np.average(x, weights=weights), np.average(y, weights=weights)
    return float(np.sum(weights * (x - mean_x) * (y - mean_y)) / np.sum(weights * (x - mean_x) ** 2))


def relative_slope(slope: float | None, scores: np.ndarray, weights: np.ndarray) -> float | None:
    """The slope over the fitted line's height at the mean length (the count-weighted mean bucket BLEU): the
    share of its own BLEU a model loses per word. Models of different quality compare on this scale; an
    absolute slope is bounded by how much BLEU a model has to lose. None where that mean is not positive."""
    mean = float(np.average(scores, weights=weights)) if len(scores) else 0.0
    return None if slope is None or mean <= 0 else slope / mean


def _length_fit(lengths: list[int], edges: list[int]) -> tuple[list[np.ndarray], list[int], np.ndarray]:
    """Each bucket's sentences, the non-empty buckets the fit uses, and their midpoints (the fit's x)."""
    members = bucket_members(lengths, edges)
    midpoints = bucket_midpoints(lengths, edges, members)
    used = [b for b, rows in enumerate(members) if len(rows)]
    return members, used, np.array([midpoints[b] for b in used], dtype=float)


def bucket_bleu(stats: np.ndarray, members: list[np.ndarray], used: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Corpus BLEU of each used bucket and its sentence count (the fit's y and weights)."""
    scores = np.array([score_from_statistics("bleu", stats[members[b]].sum(0)) for b in used])
    return scores, np.array([len(members[b]) for b in used], dtype=float)


def resampled_fits(stats: np.ndarray, members: list[np.ndarray], used: list[int], x: np.ndarray,
                   counts: np.ndarray) -> np.ndarray:
    """Slope and relative slope of every resample (NaN where a resample leaves fewer than two buckets).  # [resamples, 2]"""
    per_bucket_counts = np.stack([counts[:, members[b]].sum(1) for b in used], axis=1)  # [resamples, buckets]
    per_bucket_scores = np.stack([resampled_scores("bleu", stats[members[b]], counts[:, members[b]]) for b in used], axis=1)
    fits = np.full((len(counts), 2), np.nan)
    for row, (drawn, scores) in enumerate(zip(per_bucket_counts, per_bucket_scores)):
        present = drawn > 0
        weights = drawn[present].astype(float)
        slope = weighted_slope(x[present], scores[present], weights)
        relative = relative_slope(slope, scores[present], weights)
        fits[row] = [np.nan if slope is None else slope, np.nan if relative is None else relative]
    return fits


def _interval(values: np.ndarray, level: float) -> list[float] | None:
    """Percentile interval of the finite values (None if there are none)."""
    finite = values[np.isfinite(values)]
    return percentile_interval(finite, level) if len(finite) else None


def resampled_length_fits(stats: np.ndarray, lengths: list[int], edges: list[int],
                          settings: BootstrapSettings) -> np.ndarray:
    """`resampled_fits` of the slope over these buckets. Systems scored on the same sentences with the same
    settings draw the same resamples, so their fits pair up row by row (`slope_difference`).  # [resamples, 2]"""
    members, used, x = _length_fit(lengths, edges)
    counts = resample_counts(len(stats), settings.resamples, np.random.default_rng(settings.seed))
    return resampled_fits(stats, members, used, x, counts)


def length_sensitivity(
    stats: np.ndarray, lengths: list[int], edges: list[int], settings: BootstrapSettings | None, unit: str = "words",
    fits: np.ndarray | None = None,
) -> dict[str, Any]:
    """Slope of corpus BLEU against source length over bucket midpoints, with a bootstrap interval.

    The fit is least squares weighted by each bucket's sentence count, so a bucket of three long
    sentences cannot tilt the line as much as one of three hundred; empty buckets are left out. The
    interval resamples sentences (all buckets at once), recomputes each bucket's BLEU and refits
    (`fits`: those refits, `resampled_length_fits`, when the caller has them already).
    `relative_slope` is the slope as a share of the model's own BLEU (see `relative_slope()`), and
    `long_short_ratio` is BLEU of the longest non-empty bucket over that of the shortest.
    """
    members, used, x = _length_fit(lengths, edges)
    bucket_scores, sizes = bucket_bleu(stats, members, used)
    slope = weighted_slope(x, bucket_scores, sizes)
    ratio = None
    if used and bucket_scores[0] > 0:
        ratio = float(bucket_scores[-1] / bucket_scores[0])
    result = {"slope": slope, "slope_ci": None, "relative_slope": relative_slope(slope, bucket_scores, sizes),
              "relative_slope_ci": None, "unit": f"BLEU per source {unit[:-1]}",
              "fit": "least squares over bucket midpoints, weighted by sentence count",
              "long_short_ratio": ratio, "buckets_used": len(used)}
    if slope is None or settings is None:
        return result
    if fits is None:
        fits = resampled_length_fits(stats, lengths, edges, settings)
    result["slope_ci"], result["relative_slope_ci"] = (_interval(fits[:, i], settings.level) for i in range(2))
    return result


def slope_difference(base: dict[str, Any], other: dict[str, Any], base_fits: np.ndarray, other_fits: np.ndarray,
                     level: float) -> dict[str, Any]:
    """How much more steeply `other` loses BLEU with length than `base` on the same sentences: the difference of
    their slopes (other - base) and of their relative slopes, from their `length_sensitivity`, with paired
    bootstrap intervals from their `resampled_length_fits` (both systems refitted on the same resampled
    sentences, so what the two share cancels). An interval wholly below zero says `other` falls faster with
    length; wholly above, slower."""
    result = {}
    for column, name in enumerate(("slope", "relative_slope")):
        present = base[name] is not None and other[name] is not None
        result[f"{name}_difference"] = other[name] - base[name] if present else None
        result[f"{name}_difference_ci"] = _interval(other_fits[:, column] - base_fits[:, column], level) if present else None
    return result


def length_ratio(bleu_stats: np.ndarray) -> float | None:
    """Hypothesis over reference length in BLEU's tokens (sacrebleu's `ratio`, the brevity penalty's input):
    below 1, a model says less than the reference, which is how a model that drops content on long inputs
    shows. None where the references are empty."""
    hypothesis, reference = bleu_stats[:, 0].sum(), bleu_stats[:, 1].sum()  # sacrebleu's sys_len, ref_len columns
    return float(hypothesis / reference) if reference > 0 else None


def length_statistics(
    hypotheses: list[str], references: list[str], lengths: list[int], edges: list[int],
    settings: BootstrapSettings | None, unit: str = "words", stats: dict[str, np.ndarray] | None = None,
    fits: np.ndarray | None = None,
) -> dict[str, Any]:
    """Overall and per-bucket intervals plus the length sensitivity, from one pass of statistics extraction
    (`stats`: that extraction, and `fits`: the slope's resampled refits, when the caller has them already)."""
    if stats is None:
        stats = {name: sentence_statistics(name, hypotheses, references) for name in METRICS}
    members = bucket_members(lengths, edges)
    midpoints = bucket_midpoints(lengths, edges, members)
    def summary(rows: np.ndarray) -> dict[str, Any]:
        """Corpus scores of these sentences (None when there are none), their intervals, and the length ratio."""
        entry: dict[str, Any] = {}
        present = len(rows) > 0
        for metric in METRICS:
            entry[metric] = score_from_statistics(metric, stats[metric][rows].sum(0)) if present else None
            entry[f"{metric}_ci"] = bootstrap_interval(metric, stats[metric][rows], settings) if present and settings else None
        entry["length_ratio"] = length_ratio(stats["bleu"][rows]) if present else None
        return entry

    buckets = []
    for (low, high), rows, midpoint in zip(bucket_bounds(edges), members, midpoints):
        buckets.append({"bucket": bucket_label(low, high), "count": len(rows), "midpoint": midpoint, **summary(rows)})
    return {
        **summary(np.arange(len(hypotheses))), "by_length": buckets,
        "length_sensitivity": length_sensitivity(stats["bleu"], lengths, edges, settings, unit, fits),
    }
