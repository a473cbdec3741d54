"""The probe's calibration bar: a model has learnt the task when it scores at least 80 BLEU on sources of 0-9 words.

The README's main result and `experiments/probe_calibration` hold every preset to this bar before reading
its length curve: below it, BLEU falls with length for want of learning as much as for want of context,
so the fall such a model shows is not clean evidence of context loss. `calibration_warnings` says so,
in one line per run, at the end of a sweep.
"""

from __future__ import annotations

from typing import Any

from seq2seq.reporting.sweep import Run

CALIBRATION_BAR = 80.0     # BLEU on the shortest sources
SHORT_SOURCES = (0, 10)    # source words [low, high): the 0-9 bucket of the default bucket edges
CALIBRATED_DATA = "probe"  # the bar is the probe's; real corpora have no such ceiling on short sentences


def short_source_bleu(result: dict[str, Any]) -> float | None:
    """BLEU on sources of 0-9 words in one split's scores (None where its buckets have no such bucket)."""
    if result.get("buckets", {}).get("unit", "words") != "words":
        return None
    return next((row.get("bleu") for row in result.get("by_length", [])
                 if (row.get("low"), row.get("high")) == SHORT_SOURCES), None)


def calibration_warnings(runs: list[Run], split: str) -> list[str]:
    """One line for each finished probe run under the bar on `split`, naming the model, the run and the score."""
    lines = []
    for run in runs:
        if run.status != "finished" or run.results.data != CALIBRATED_DATA or split not in run.results.splits:
            continue
        bleu = short_source_bleu(run.results.splits[split])
        if bleu is not None and bleu < CALIBRATION_BAR:
            lines.append(f"warning: {run.model} ({run.name}, seed {run.seed}) scores {bleu:.2f} BLEU on 0-9 source "
                         f"words of '{split}', under the calibration bar of {CALIBRATION_BAR:g}: it has not learnt the "
                         "task, so the fall with length it shows is not clean evidence")
    return lines
