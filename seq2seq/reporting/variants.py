"""The one table a reader quotes from a sweep of variants (+experiment=attention_family, issue 34).

Per variant: BLEU on the shortest (0-9 words) and the longest (40+) sources, their ratio (how much of its
short-sentence BLEU a variant keeps on long sentences), and its attractor accuracy at the farthest
subject–verb distance; then each variant's difference from the plain RNN (`rnn`) and from the additive
attention RNN (`rnn_attention`), paired by seed (the same seed trains every variant on the same data), with
a 95% Student-t interval over the seed pairs. A variant under the probe's calibration bar has not learnt the
task, so its length curve says nothing about context: it is listed last, marked, and not ranked.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from seq2seq.reporting.calibration import CALIBRATION_BAR, RANDOM_BAR, near_random_accuracy, short_source_bleu
from seq2seq.reporting.runs import Run, group_by_model

SHORT, LONG = "0-9", "40+"
BASELINES = ("rnn", "rnn_attention")
# two-sided 95% quantiles of Student's t for 1..30 degrees of freedom; beyond, the normal's 1.96 (within 2%)
T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def run_measures(result: dict[str, Any]) -> dict[str, float | None]:
    """One run's summary measures on one split (None where the split has no such bucket or contrast)."""
    bleu = {row["bucket"]: row.get("bleu") for row in result.get("by_length", [])}
    short, long = bleu.get(SHORT), bleu.get(LONG)
    rows = result.get("contrastive", {}).get("kinds", {}).get("attractor", {}).get("by_distance", [])
    farthest = next((row["accuracy"] for row in reversed(rows) if row.get("count")), None)
    return {"short": short, "long": long, "ratio": long / short if short and long is not None else None,
            "far_attractor": None if farthest is None else 100 * farthest,
            "calibration_bleu": short_source_bleu(result), "near_random": near_random_accuracy(result)}


def t_interval(differences: list[float]) -> tuple[float, float] | None:
    """95% Student-t interval of the mean of paired differences (None from fewer than two pairs)."""
    if len(differences) < 2:
        return None
    mean, spread = statistics.fmean(differences), statistics.stdev(differences) / math.sqrt(len(differences))
    quantile = T_975[len(differences) - 2] if len(differences) - 1 <= len(T_975) else 1.96
    return mean - quantile * spread, mean + quantile * spread


def variant_rows(runs: list[Run], split: str) -> list[dict[str, Any]]:
    """Per variant (model): its seeds' measures, their means and sds, whether it clears the calibration bar,
    and its paired differences from each baseline; [] unless the split has both baselines, a third variant
    and the 0-9 and 40+ buckets."""
    groups = group_by_model(runs, split)
    measures = {model: {run.seed: run_measures(run.results.splits[split]) for run in members}
                for model, members in groups.items()}
    if len(groups) < 3 or not all(model in groups for model in BASELINES) or not any(
            m["long"] is not None and m["short"] is not None for seeds in measures.values() for m in seeds.values()):
        return []
    rows = []
    for model, seeds in measures.items():
        row: dict[str, Any] = {"model": model, "seeds": len(seeds)}
        for key in ("short", "long", "ratio", "far_attractor", "calibration_bleu", "near_random"):
            values = [m[key] for m in seeds.values() if m[key] is not None]
            row[key] = (statistics.fmean(values) if values else None, statistics.stdev(values) if len(values) > 1 else None)
        bleu, accuracy = row["calibration_bleu"][0], row["near_random"][0]
        row["calibrated"] = (bleu is None or bleu >= CALIBRATION_BAR) and (accuracy is None or accuracy >= RANDOM_BAR)
        for baseline in BASELINES:
            for key in ("ratio", "far_attractor"):
                pairs = [seeds[s][key] - measures[baseline][s][key] for s in seeds
                         if s in measures[baseline] and seeds[s][key] is not None and measures[baseline][s][key] is not None]
                row[f"{key}_vs_{baseline}"] = (statistics.fmean(pairs) if pairs else None, t_interval(pairs), len(pairs))
        rows.append(row)
    ranked = sorted((r for r in rows if r["calibrated"]), key=lambda r: -(r["ratio"][0] or 0.0))
    return ranked + [r for r in rows if not r["calibrated"]]


def _mean_sd(pair: tuple[float | None, float | None], digits: int) -> str:
    mean, sd = pair
    if mean is None:
        return "-"
    return f"{mean:.{digits}f}" + ("" if sd is None else f" ± {sd:.{digits}f}")


def _difference(entry: tuple[float | None, tuple[float, float] | None, int], digits: int) -> str:
    mean, interval, pairs = entry
    if mean is None:
        return "-"
    text = f"{mean:+.{digits}f}"
    return text + (f" [{interval[0]:+.{digits}f}, {interval[1]:+.{digits}f}]" if interval else f" ({pairs} pair)")


def variant_lines(runs: list[Run], split: str) -> list[str]:
    """report.md's section: the summary table, then the paired differences (nothing where `variant_rows` has none)."""
    rows = variant_rows(runs, split)
    if not rows:
        return []
    lines = ["### Variants at a glance", "",
             f"Mean ± sd over seeds. The ratio is BLEU on {LONG} source words over BLEU on {SHORT}; ranked by it, "
             "except variants under the calibration bar, which come last, marked and unranked.", "",
             f"| rank | variant | seeds | BLEU {SHORT} | BLEU {LONG} | {LONG} / {SHORT} | attractor % at the farthest distance |",
             "|--:|---|--:|--:|--:|--:|--:|"]
    rank = 0
    for row in rows:
        rank += row["calibrated"]
        place = str(rank) if row["calibrated"] else "under the calibration bar"
        lines.append(f"| {place} | `{row['model']}` | {row['seeds']} | {_mean_sd(row['short'], 2)} | "
                     f"{_mean_sd(row['long'], 2)} | {_mean_sd(row['ratio'], 3)} | {_mean_sd(row['far_attractor'], 1)} |")
    lines += ["", "Paired by seed: each variant minus the baseline, mean over the seed pairs with its 95% Student-t "
                  "interval.", "",
              "| variant | ratio − `rnn` | ratio − `rnn_attention` | attractor − `rnn`, points | attractor − `rnn_attention`, points |",
              "|---|--:|--:|--:|--:|"]
    for row in rows:
        if row["model"] in BASELINES:
            continue
        lines.append(f"| `{row['model']}` | {_difference(row['ratio_vs_rnn'], 3)} | "
                     f"{_difference(row['ratio_vs_rnn_attention'], 3)} | {_difference(row['far_attractor_vs_rnn'], 1)} | "
                     f"{_difference(row['far_attractor_vs_rnn_attention'], 1)} |")
    return lines + [""]
