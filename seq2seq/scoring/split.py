"""One split scored: corpus BLEU and chrF overall and per source-length bucket, with intervals and slope.

Per bucket we compute *corpus* BLEU on that bucket's subset (never an average of sentence BLEUs,
which is biased on short sentences), and report every bucket with its sentence count, empty ones
included, so a number is never read without the evidence behind it. All scores come from one pass
of sufficient statistics (`scoring.bootstrap`), which equals sacrebleu on each subset; the overall
scores come from sacrebleu itself, with its signatures. Pure functions.
"""

from __future__ import annotations

import math
from typing import Any

from seq2seq.scoring.bootstrap import METRICS, BootstrapSettings, length_statistics
from seq2seq.scoring.buckets import BucketSettings, bucket_bounds, bucketed_lengths


def corpus_scores(hypotheses: list[str], references: list[str]) -> dict[str, Any]:
    """Corpus BLEU (cased and lowercased) and chrF with their sacrebleu signatures (None for no sentences)."""
    scores: dict[str, Any] = {}
    for name, metric in METRICS.items():
        scorer = metric()
        scores[name] = scorer.corpus_score(hypotheses, [references]).score if hypotheses else None
        scores[f"{name}_signature"] = str(scorer.get_signature()) if hypotheses else None
    return scores


def score_split(
    hypotheses: list[str], references: list[str], sources: list[str], edges: list[int], *,
    bootstrap: BootstrapSettings | None = None, buckets: BucketSettings | None = None,
    source_subwords: list[int] | None = None,
) -> dict[str, Any]:
    """Everything `results.json` records for one split's scores.

    `bootstrap` adds intervals; None leaves them None (no resampling). `buckets` picks fixed `edges`
    or quantile edges, in source words or in `source_subwords` (one count per source sentence).
    """
    if not (len(hypotheses) == len(references) == len(sources)):
        raise ValueError(f"{len(hypotheses)} hypotheses, {len(references)} references, {len(sources)} sources")
    buckets = buckets or BucketSettings()
    lengths, edges = bucketed_lengths(sources, edges, buckets, source_subwords)
    statistics = length_statistics(hypotheses, references, lengths, edges, bootstrap, buckets.unit)
    result: dict[str, Any] = {**corpus_scores(hypotheses, references), "sentences": len(hypotheses), "by_length": []}
    for (low, high), row in zip(bucket_bounds(edges), statistics["by_length"]):
        result["by_length"].append({
            "bucket": row["bucket"], "low": low, "high": None if math.isinf(high) else high, "count": row["count"],
            **{key: row[key] for metric in METRICS for key in (metric, f"{metric}_ci")},
            "length_ratio": row["length_ratio"], "midpoint": row["midpoint"],
        })
    result.update({f"{metric}_ci": statistics[f"{metric}_ci"] for metric in METRICS})
    result["length_ratio"] = statistics["length_ratio"]
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
    lowercased = "" if result.get("bleu_lc") is None else f" (lowercased {result['bleu_lc']:.2f})"
    overall = f"{split}: BLEU {result['bleu']:.2f}{lowercased}  chrF {result['chrf']:.2f}  ({result['sentences']} sentences)"
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
    return "\n".join(lines)
