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
    resampled_scores,
    score_from_statistics,
    sentence_statistics,
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
            differences = np.abs(scores_of_sums(name, swapped @ base + kept @ other)
                                 - scores_of_sums(name, kept @ base + swapped @ other))
        p = (int(np.sum(differences > observed)) + 1) / (resamples + 1)
        results[name] = {"p": p, "significant": p < alpha}
    return results


def paired_by_bucket(
    baseline: list[str], system: list[str], references: list[str], members: list[np.ndarray], **options: Any
) -> list[dict[str, dict[str, Any]]]:
    """`paired_test` on each bucket's subset (p None for an empty bucket)."""
    return [paired_test([baseline[i] for i in rows], [system[i] for i in rows], [references[i] for i in rows], **options)
            for rows in members]


def paired_scores(
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
        everyone = {"bucket": "all", "count": len(references),
                    **{k: summary[k] for metric in METRICS for k in (metric, f"{metric}_ci")}}
        for bucket, paired in zip([everyone, *summary["by_length"]], tests):
            row = {"run": name, **{k: v for k, v in bucket.items() if k != "midpoint"}}
            for metric in METRICS:
                row[f"{metric}_p"] = None if paired is None else paired[metric]["p"]
                row[f"{metric}_significant"] = None if paired is None else paired[metric]["significant"]
            rows.append(row)
    return {"baseline": baseline_name, "test": test, "alpha": alpha, "rows": rows, "length_sensitivity": sensitivity}
