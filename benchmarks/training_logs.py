"""What both toolkits' training logs tell: validation BLEU against training time, and JoeyNMT's size.

Ours records every validation in RUN/metrics.jsonl with the time trained so far (`elapsed_s`, taken
after the validation, so validations count as time spent). JoeyNMT 2.3.0 appends a row per
validation to MODEL_DIR/validations.txt (updates and BLEU), after saving the checkpoint, and logs
its "Evaluation result (greedy)" line to train.log when the score is known; that line's timestamp
less the one of "EPOCH 1" (where its training loop starts) is the validation's time. Both clocks
thus leave out start-up (reading data, building the model) alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from seq2seq.files import read_records

# 2026-01-15 12:57:29,578 - INFO - joeynmt.prediction - Evaluation result (greedy): bleu:  20.36, loss: ...
JOEYNMT_STAMP = r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) - \w+ - [\w.]+ - "
JOEYNMT_START = re.compile(JOEYNMT_STAMP + r"EPOCH 1$", re.MULTILINE)
JOEYNMT_VALIDATION = re.compile(JOEYNMT_STAMP + r"Evaluation result \(greedy\)", re.MULTILINE)
# Steps: 600	loss: 3.12345	bleu: 20.36123	acc: 0.41	ppl: 22.6	LR: 0.00057735	*
JOEYNMT_REPORT = re.compile(r"^Steps: (\d+)\t.*\bbleu: ([\d.]+)", re.MULTILINE)
JOEYNMT_PARAMETERS = re.compile(r" - Total params: (\d+)$", re.MULTILINE)
# 2026-01-15 12:00:10,000 - INFO - joeynmt.training - Epoch   1, Step:       20, Batch Loss: ..., Lr: ...
JOEYNMT_STEP = re.compile(JOEYNMT_STAMP + r"Epoch\s+\d+, Step:\s+(\d+),", re.MULTILINE)
# [2026-12-07 12:58:56,164][seq2seq.training.trainer][INFO] - step 671 / 5,000 updates (epoch 1, 48%), ...
OURS_STEP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\].*? - step ([\d,]+) / ", re.MULTILINE)


@dataclass(frozen=True)
class ValidationPoint:
    """One validation: training seconds before its result (earlier validations included), updates, BLEU."""

    seconds: float
    step: int
    bleu: float


def ours_curve(metrics: Path) -> list[ValidationPoint]:
    """The validations in a run's metrics.jsonl (a line cut short by a kill is skipped)."""
    records = read_records(metrics)
    return [ValidationPoint(r["elapsed_s"], r["step"], r["bleu"]) for r in records if r.get("kind") == "valid"]


def joeynmt_curve(train_log: str, validations: str) -> list[ValidationPoint]:
    """The validations JoeyNMT has finished (reported in validations.txt, so their checkpoint is saved),
    timed by its train.log."""
    start = JOEYNMT_START.search(train_log)
    if start is None:
        return []
    started = _timestamp(start.group(1))
    times = [(_timestamp(stamp) - started).total_seconds() for stamp in JOEYNMT_VALIDATION.findall(train_log)]
    return [ValidationPoint(seconds, int(step), float(bleu))
            for seconds, (step, bleu) in zip(times, JOEYNMT_REPORT.findall(validations))]


def joeynmt_parameters(train_log: str) -> int:
    """The parameter count JoeyNMT logs when it builds its model."""
    found = JOEYNMT_PARAMETERS.search(train_log)
    if found is None:
        raise ValueError("no 'Total params' line in JoeyNMT's train.log: did it build its model?")
    return int(found.group(1))


def joeynmt_training_seconds(train_log: str, now: datetime) -> float | None:
    """Seconds JoeyNMT has trained by `now`, on the clock its validations are timed by (from "EPOCH 1");
    None before its training loop starts."""
    start = JOEYNMT_START.search(train_log)
    return None if start is None else (now - _timestamp(start.group(1))).total_seconds()


def update_rate(log: str, toolkit: str) -> float | None:
    """Updates per second between the first and the last step a training log reports (ours' progress lines,
    JoeyNMT's logging lines); None with fewer than two."""
    found = (OURS_STEP if toolkit == "seq2seq" else JOEYNMT_STEP).findall(log)
    if len(found) < 2:
        return None
    (first_time, first_step), (last_time, last_step) = found[0], found[-1]
    seconds = (_timestamp(last_time) - _timestamp(first_time)).total_seconds()
    updates = int(last_step.replace(",", "")) - int(first_step.replace(",", ""))
    return updates / seconds if seconds > 0 and updates > 0 else None


def first_reaching(curve: list[ValidationPoint], bleu: float) -> ValidationPoint | None:
    """The first validation at or above `bleu`, or None if the curve never gets there."""
    return next((point for point in curve if point.bleu >= bleu), None)


def _timestamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S,%f")
