"""Scores with sacrebleu: corpus BLEU and chrF overall and per source-length bucket.

Per bucket we compute *corpus* BLEU on that bucket's subset (never an average of sentence BLEUs,
which is biased on short sentences), and report every bucket with its sentence count, empty ones
included, so a number is never read without the evidence behind it. Intervals, the length-sensitivity
slope and paired tests come from `seq2seq.statistics`. Pure functions throughout.
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
    hypotheses: list[str], references: list[str], sources: list[str], edges: list[int],
    lengths: list[int] | None = None,
) -> list[dict[str, Any]]:
    """Corpus BLEU and chrF of each source-length bucket's subset, with counts; empty buckets kept.

    `lengths` replaces the default source words (e.g. source subword counts).
    """
    buckets = assign_buckets(lengths if lengths is not None else [source_length(s) for s in sources], edges)
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
    hypotheses: list[str], references: list[str], sources: list[str], edges: list[int], *,
    bootstrap: Any = None, buckets: Any = None, source_subwords: list[int] | None = None,
) -> dict[str, Any]:
    """Everything `results.json` records for one test split.

    `bootstrap` (statistics.BootstrapSettings) adds intervals; None leaves them None (no resampling).
    `buckets` (statistics.BucketSettings) picks fixed `edges` or quantile edges, in source words or
    in `source_subwords` (one count per source sentence).
    """
    from seq2seq.statistics import BucketSettings, length_statistics, quantile_edges  # it imports our bucket helpers

    if not (len(hypotheses) == len(references) == len(sources)):
        raise ValueError(f"{len(hypotheses)} hypotheses, {len(references)} references, {len(sources)} sources")
    buckets = buckets or BucketSettings()
    if buckets.unit == "subwords":
        if source_subwords is None or len(source_subwords) != len(sources):
            raise ValueError("unit=subwords needs one source subword count per sentence")
        lengths = list(source_subwords)
    else:
        lengths = [source_length(s) for s in sources]
    if buckets.mode == "quantile":
        edges = quantile_edges(lengths, buckets.quantiles)
    result = corpus_scores(hypotheses, references)
    result["sentences"] = len(hypotheses)
    result["by_length"] = scores_by_length(hypotheses, references, sources, edges, lengths)
    statistics = length_statistics(hypotheses, references, lengths, edges, bootstrap, buckets.unit)
    for row, extra in zip(result["by_length"], statistics["by_length"]):
        row.update(midpoint=extra["midpoint"], bleu_ci=extra["bleu_ci"], chrf_ci=extra["chrf_ci"])
    result["bleu_ci"], result["chrf_ci"] = statistics["bleu_ci"], statistics["chrf_ci"]
    result["length_sensitivity"] = statistics["length_sensitivity"]
    result["buckets"] = {"mode": buckets.mode, "unit": buckets.unit, "edges": list(edges)}
    result["bootstrap"] = None if bootstrap is None else vars(bootstrap).copy()
    return result


def format_interval(interval: list[float] | None, digits: int = 1) -> str:
    return "-" if interval is None else f"[{interval[0]:.{digits}f},{interval[1]:.{digits}f}]"


def format_results_table(split: str, result: dict[str, Any]) -> str:
    """A small plain-text table for the terminal."""
    with_ci = result.get("bleu_ci") is not None
    unit = result.get("buckets", {}).get("unit", "words")
    level = f"{result['bootstrap']['level']:.0%} CI" if with_ci else ""
    overall = f"{split}: BLEU {result['bleu']:.2f}  chrF {result['chrf']:.2f}  ({result['sentences']} sentences)"
    if with_ci:
        overall += f"; {level} BLEU {format_interval(result['bleu_ci'])} chrF {format_interval(result['chrf_ci'])}"
    header = f"  {'src ' + unit:>12} {'count':>6} {'BLEU':>6} {'chrF':>6}"
    lines = [overall, header + (f" {'BLEU ' + level:>13} {'chrF ' + level:>13}" if with_ci else "")]
    for row in result["by_length"]:
        bleu = "-" if row["bleu"] is None else f"{row['bleu']:.2f}"
        chrf = "-" if row["chrf"] is None else f"{row['chrf']:.2f}"
        line = f"  {row['bucket']:>12} {row['count']:>6} {bleu:>6} {chrf:>6}"
        if with_ci:
            line += f" {format_interval(row.get('bleu_ci')):>13} {format_interval(row.get('chrf_ci')):>13}"
        lines.append(line)
    sensitivity = result.get("length_sensitivity")
    if sensitivity and sensitivity["slope"] is not None:
        ratio = sensitivity["long_short_ratio"]
        lines.append(f"  length sensitivity: {sensitivity['slope']:+.3f} {sensitivity['unit']}"
                     + (f" {level} {format_interval(sensitivity['slope_ci'], 3)}" if sensitivity["slope_ci"] else "")
                     + ("" if ratio is None else f"; longest/shortest bucket BLEU {ratio:.2f}"))
    if "verb_accuracy" in result:
        verbs = result["verb_accuracy"]
        lines.append(f"  main-verb accuracy {verbs['overall']['accuracy']:.1%}, by subject–verb distance:")
        lines.append(f"  {'distance':>10} {'count':>6} {'acc.':>6}")
        for row in verbs["by_distance"]:
            accuracy = "-" if row["accuracy"] is None else f"{row['accuracy']:.1%}"
            lines.append(f"  {row['bucket']:>10} {row['count']:>6} {accuracy:>6}")
    return "\n".join(lines)
