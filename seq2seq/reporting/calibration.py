"""The probe's calibration bar: a model has learnt the task when it scores at least 80 BLEU on sources of 0-9
words and at least 90% on the `random` contrast at subject-verb distance 0-4.

The README's main result and `experiments/probe_calibration` hold every preset to this bar before reading
its length curve: below it, BLEU falls with length for want of learning as much as for want of context,
so the fall such a model shows is not clean evidence of context loss. `calibration_warnings` says so,
in one line per run, at the end of a sweep.
"""

from __future__ import annotations

from typing import Any

from seq2seq.reporting.runs import Run

CALIBRATION_BAR = 80.0     # BLEU on the shortest sources
SHORT_SOURCES = (0, 10)    # source words [low, high): the 0-9 bucket of the default bucket edges
RANDOM_BAR = 0.9           # accuracy on the `random` contrast at the nearest subject-verb distances
NEAR_DISTANCES = (0, 5)    # subject-verb distance [low, high): the probe's first distance bucket
CALIBRATED_DATA = "probe"  # the bar is the probe's; real corpora have no such ceiling on short sentences


def short_source_bleu(result: dict[str, Any]) -> float | None:
    """BLEU on sources of 0-9 words in one split's scores (None where its buckets have no such bucket)."""
    if result.get("buckets", {}).get("unit", "words") != "words":
        return None
    return next((row.get("bleu") for row in result.get("by_length", [])
                 if (row.get("low"), row.get("high")) == SHORT_SOURCES), None)


def near_random_accuracy(result: dict[str, Any]) -> float | None:
    """Accuracy on the `random` contrast at subject-verb distance 0-4 in one split's scores (None without it)."""
    rows = result.get("contrastive", {}).get("kinds", {}).get("random", {}).get("by_distance", [])
    return next((row.get("accuracy") for row in rows if (row.get("low"), row.get("high")) == NEAR_DISTANCES), None)


def shortfalls(result: dict[str, Any]) -> list[str]:
    """Each half of the bar one split's scores miss, as the warning words it."""
    missed = []
    bleu = short_source_bleu(result)
    if bleu is not None and bleu < CALIBRATION_BAR:
        missed.append(f"{bleu:.2f} BLEU on 0-9 source words (bar {CALIBRATION_BAR:g})")
    accuracy = near_random_accuracy(result)
    if accuracy is not None and accuracy < RANDOM_BAR:
        missed.append(f"{100 * accuracy:.1f}% on the random contrast at subject-verb distance 0-4 (bar {100 * RANDOM_BAR:g}%)")
    return missed


def calibration_warnings(runs: list[Run], split: str) -> list[str]:
    """One line for each finished probe run under the bar on `split`, naming the model, the run and the scores."""
    lines = []
    for run in runs:
        if run.status != "finished" or run.results.data != CALIBRATED_DATA or split not in run.results.splits:
            continue
        missed = shortfalls(run.results.splits[split])
        if missed:
            lines.append(f"warning: {run.model} ({run.name}, seed {run.seed}) scores {' and '.join(missed)} on "
                         f"'{split}', under the calibration bar: it has not learnt the task, so the fall with length "
                         "it shows is not clean evidence")
    return lines
