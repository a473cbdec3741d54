"""Scores with sacrebleu: corpus BLEU and chrF overall and per source-length bucket.

Per bucket we compute *corpus* BLEU on that bucket's subset (never an average of sentence BLEUs,
which is biased on short sentences), and report every bucket with its sentence count, empty ones
included, so a number is never read without the evidence behind it. Pure functions throughout.
"""

from __future__ import annotations

import math
from typing import Any

from sacrebleu.metrics import BLEU, CHRF


def source_length(sentence: str) -> int:
    """Source length in whitespace-separated words (tokenizer-independent, comparable across runs)."""
    return len(sentence.split())


def bucket_bounds(edges: list[int]) -> list[tuple[int, float]]:
    """Edges [e0, e1, ..., en] -> buckets [e0, e1), ..., [e_{n-1}, e_n), [e_n, inf)."""
    if not edges or any(b <= a for a, b in zip(edges, edges[1:])):
        raise ValueError(f"bucket edges must be a non-empty, strictly increasing list, got {list(edges)}")
    return [(low, high) for low, high in zip(edges, list(edges[1:]) + [math.inf])]


def bucket_label(low: int, high: float) -> str:
    return f"{low}+" if math.isinf(high) else f"{low}-{int(high) - 1}"


def assign_buckets(lengths: list[int], edges: list[int]) -> list[int | None]:
    """Index of each length's bucket (None for lengths below the first edge)."""
    bounds = bucket_bounds(edges)
    return [next((i for i, (low, high) in enumerate(bounds) if low <= n < high), None) for n in lengths]


def corpus_scores(hypotheses: list[str], references: list[str]) -> dict[str, Any]:
    """Corpus BLEU and chrF with their sacrebleu signatures."""
    bleu, chrf = BLEU(), CHRF()
    return {
        "bleu": bleu.corpus_score(hypotheses, [references]).score,
        "chrf": chrf.corpus_score(hypotheses, [references]).score,
        "bleu_signature": str(bleu.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
    }


def scores_by_length(
    hypotheses: list[str], references: list[str], sources: list[str], edges: list[int]
) -> list[dict[str, Any]]:
    """Corpus BLEU and chrF of each source-length bucket's subset, with counts; empty buckets kept."""
    buckets = assign_buckets([source_length(s) for s in sources], edges)
    rows = []
    for index, (low, high) in enumerate(bucket_bounds(edges)):
        members = [i for i, b in enumerate(buckets) if b == index]
        row: dict[str, Any] = {"bucket": bucket_label(low, high), "low": low, "high": None if math.isinf(high) else high}
        row["count"] = len(members)
        if members:
            hyps = [hypotheses[i] for i in members]
            refs = [references[i] for i in members]
            row["bleu"] = BLEU().corpus_score(hyps, [refs]).score
            row["chrf"] = CHRF().corpus_score(hyps, [refs]).score
        else:
            row["bleu"] = row["chrf"] = None
        rows.append(row)
    return rows


def evaluate_split(
    hypotheses: list[str], references: list[str], sources: list[str], edges: list[int]
) -> dict[str, Any]:
    """Everything `results.json` records for one test split."""
    if not (len(hypotheses) == len(references) == len(sources)):
        raise ValueError(f"{len(hypotheses)} hypotheses, {len(references)} references, {len(sources)} sources")
    result = corpus_scores(hypotheses, references)
    result["sentences"] = len(hypotheses)
    result["by_length"] = scores_by_length(hypotheses, references, sources, edges)
    return result


def format_results_table(split: str, result: dict[str, Any]) -> str:
    """A small plain-text table for the terminal."""
    lines = [
        f"{split}: BLEU {result['bleu']:.2f}  chrF {result['chrf']:.2f}  ({result['sentences']} sentences)",
        f"  {'src words':>10} {'count':>6} {'BLEU':>6} {'chrF':>6}",
    ]
    for row in result["by_length"]:
        bleu = "-" if row["bleu"] is None else f"{row['bleu']:.2f}"
        chrf = "-" if row["chrf"] is None else f"{row['chrf']:.2f}"
        lines.append(f"  {row['bucket']:>10} {row['count']:>6} {bleu:>6} {chrf:>6}")
    if "verb_accuracy" in result:
        verbs = result["verb_accuracy"]
        lines.append(f"  main-verb accuracy {verbs['overall']['accuracy']:.1%}, by subject–verb distance:")
        lines.append(f"  {'distance':>10} {'count':>6} {'acc.':>6}")
        for row in verbs["by_distance"]:
            accuracy = "-" if row["accuracy"] is None else f"{row['accuracy']:.1%}"
            lines.append(f"  {row['bucket']:>10} {row['count']:>6} {accuracy:>6}")
    return "\n".join(lines)
