"""Paired significance between systems, overall and per length bucket.

The algorithm of sacrebleu's `PairedTest` (paired bootstrap: Koehn 2004; approximate randomization:
Riezler and Maxwell 2005) on the same sufficient statistics, drawing from our own seeded generator.
Pure functions: no file I/O.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seq2seq.scoring.bootstrap import (
    METRICS,
    BootstrapSettings,
    scores_of_sums,
    length_statistics,
    resampled_length_fits,
    resampled_scores,
    score_from_statistics,
    sentence_statistics,
    slope_difference,
)
from seq2seq.scoring.buckets import bucket_members

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
    """
    if not (len(baseline) == len(system) == len(references)):
        raise ValueError(f"{len(baseline)} baseline, {len(system)} system hypotheses, {len(references)} references")
    return paired_test_on_statistics(system_statistics(baseline, references), system_statistics(system, references),
                                     list(baseline) == list(system), test, resamples, seed, alpha)


def system_statistics(hypotheses: list[str], references: list[str]) -> dict[str, np.ndarray]:
    """Every metric's per-sentence sufficient statistics, extracted once and sliced for any subset of sentences."""
    return {name: sentence_statistics(name, hypotheses, references) for name in METRICS}


def paired_test_on_statistics(
    base: dict[str, np.ndarray], other: dict[str, np.ndarray], identical: bool, test: str = "bs",
    resamples: int = 1000, seed: int = 12345, alpha: float = 0.05,
) -> dict[str, dict[str, Any]]:
    """`paired_test` on the two systems' statistics (`system_statistics`) of the same sentences.

    Identical hypotheses get p = 1: the count of resampled differences strictly greater than the
    observed one would read p = 1/(n+1) for a zero difference against all-zero resamples.
    Sets of fewer than MIN_TEST_SENTENCES sentences are not tested (p None): with one sentence every
    resample repeats the observed difference.
    """
    if test not in PAIRED_TESTS:
        raise ValueError(f"test={test!r}: choose one of {', '.join(PAIRED_TESTS)}")
    sentences = len(next(iter(base.values())))
    if sentences < MIN_TEST_SENTENCES:
        return {name: {"p": None, "significant": None} for name in METRICS}
    if identical:
        return {name: {"p": 1.0, "significant": False} for name in METRICS}
    rng = np.random.default_rng(seed)
    if test == "bs":  # the same resampled sentences for both systems
        draws = rng.integers(0, sentences, size=(resamples, sentences))
        counts = np.stack([np.bincount(row, minlength=sentences) for row in draws])
    else:  # each trial swaps a random half of the sentence pairs between the systems
        swapped = rng.integers(2, size=(resamples, sentences), dtype=bool)
    results = {}
    for name in METRICS:
        observed = abs(score_from_statistics(name, base[name].sum(0)) - score_from_statistics(name, other[name].sum(0)))
        if test == "bs":
            differences = np.abs(resampled_scores(name, other[name], counts) - resampled_scores(name, base[name], counts))
            differences -= differences.mean()  # centred: the null distribution of the difference
        else:
            kept = ~swapped
            differences = np.abs(scores_of_sums(name, swapped @ base[name] + kept @ other[name])
                                 - scores_of_sums(name, kept @ base[name] + swapped @ other[name]))
        p = (int(np.sum(differences > observed)) + 1) / (resamples + 1)
        results[name] = {"p": p, "significant": p < alpha}
    return results


def paired_by_bucket(
    baseline: list[str], system: list[str], references: list[str], members: list[np.ndarray], **options: Any
) -> list[dict[str, dict[str, Any]]]:
    """`paired_test` on each bucket's subset (p None for an empty bucket), from one extraction of statistics."""
    same = np.array([b == s for b, s in zip(baseline, system)], dtype=bool)
    return tests_by_bucket(system_statistics(baseline, references), system_statistics(system, references), same,
                           members, **options)


def tests_by_bucket(
    base: dict[str, np.ndarray], other: dict[str, np.ndarray], same: np.ndarray, members: list[np.ndarray],
    **options: Any,
) -> list[dict[str, dict[str, Any]]]:
    """`paired_test_on_statistics` on each bucket's rows; `same` marks sentences both systems translate alike."""
    return [paired_test_on_statistics({m: base[m][rows] for m in METRICS}, {m: other[m][rows] for m in METRICS},
                                      bool(same[rows].all()), **options) for rows in members]


def paired_scores(
    systems: dict[str, list[str]], references: list[str], lengths: list[int], edges: list[int],
    settings: BootstrapSettings, test: str = "bs", alpha: float = 0.05, unit: str = "words",
) -> dict[str, Any]:
    """Every system's scores and intervals per bucket, and paired p-values against the first (the baseline);
    each other system's length sensitivity also carries its slope difference from the baseline's (`against_baseline`).

    Rows: one per (system, bucket), bucket "all" first. No correction for multiple comparisons: with
    many buckets, expect an occasional p < alpha by chance.
    """
    members = bucket_members(lengths, edges)
    baseline_name, baseline = next(iter(systems.items()))
    options = {"test": test, "resamples": settings.resamples, "seed": settings.seed, "alpha": alpha}
    statistics = {name: system_statistics(hypotheses, references) for name, hypotheses in systems.items()}
    base = statistics[baseline_name]
    # each system's slope refits, once: its own interval and, paired with the baseline's, the difference's
    fits = {name: resampled_length_fits(stats["bleu"], lengths, edges, settings) for name, stats in statistics.items()}
    rows, sensitivity = [], {}
    for name, hypotheses in systems.items():
        summary = length_statistics(hypotheses, references, lengths, edges, settings, unit, statistics[name], fits[name])
        sensitivity[name] = summary["length_sensitivity"]
        if name == baseline_name:
            tests = [None] * (len(members) + 1)
        else:
            sensitivity[name]["against_baseline"] = slope_difference(sensitivity[baseline_name], sensitivity[name],
                                                                     fits[baseline_name], fits[name], settings.level)
            same = np.array([b == h for b, h in zip(baseline, hypotheses)], dtype=bool)
            tests = [paired_test_on_statistics(base, statistics[name], bool(same.all()), **options),
                     *tests_by_bucket(base, statistics[name], same, members, **options)]
        everyone = {"bucket": "all", "count": len(references),
                    **{k: summary[k] for metric in METRICS for k in (metric, f"{metric}_ci")},
                    "length_ratio": summary["length_ratio"]}
        for bucket, paired in zip([everyone, *summary["by_length"]], tests):
            row = {"run": name, **{k: v for k, v in bucket.items() if k != "midpoint"}}
            for metric in METRICS:
                row[f"{metric}_p"] = None if paired is None else paired[metric]["p"]
                row[f"{metric}_significant"] = None if paired is None else paired[metric]["significant"]
            rows.append(row)
    return {"baseline": baseline_name, "test": test, "alpha": alpha, "rows": rows, "length_sensitivity": sensitivity}
