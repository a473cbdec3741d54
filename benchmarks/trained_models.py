"""Trained checkpoints for the decoding benchmark: a short Multi30k training of each preset by both toolkits.

Users decode trained models, whose outputs end at EOS, so batches finish early and beam search's
bookkeeping weighs more than on untrained models, which run every output to the length limit.
Each preset is trained as `quality_vs_joeynmt.py` trains it (`side_by_side.py`): ours with
`seq2seq-train` in fp32, and, where JoeyNMT has a counterpart, JoeyNMT at the same time, one thread
each, on the same text with the same subword model and vocabulary, stopped when its training clock
reaches the budget. The checkpoints are kept under the work directory and reused by later runs with
the same budget and data (delete the directory to train afresh).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from joeynmt_config import PRESETS as JOEYNMT_PRESETS
from side_by_side import (
    ONE_THREAD,
    SharedData,
    Training,
    check_same_subwords,
    fresh_directory,
    joeynmt_command,
    joeynmt_progress,
    ours_command,
    recipe,
    train_side_by_side,
    write_joeynmt_configs,
)
from training_logs import ValidationPoint, ours_curve

from seq2seq.data.tokenizer import Tokenizer
from seq2seq.run_dir import RunDir

JOEYNMT_SPECIALS = ["<unk>", "<pad>", "<s>", "</s>"]  # ids 0-3 in JoeyNMT's vocabulary; ours has them in another order


@dataclass
class TrainedPreset:
    """One preset's trained checkpoints and how far each training got."""

    ours: Path  # seq2seq-train's run directory
    ours_curve: list[ValidationPoint]
    joeynmt: Path | None  # JoeyNMT's model directory; None where it has no counterpart or is not installed
    joeynmt_curve: list[ValidationPoint]


def train_preset(preset: str, data: SharedData, minutes: float, work: Path, joey: Path | None) -> TrainedPreset:
    """Both toolkits' checkpoints of `preset` in `work`: found there from an earlier run, else trained now."""
    ours_dir, model_dir = work / "seq2seq", work / "joeynmt"
    with_joeynmt = joey is not None and preset in JOEYNMT_PRESETS
    done = RunDir(ours_dir).best_checkpoint.is_file() and (not with_joeynmt or (model_dir / "best.ckpt").is_file())
    if not done:
        fresh_directory(work)
        ours = ours_command(preset, data, ours_dir, minutes, "fp32")
        print(f"{preset}: training {'both toolkits' if with_joeynmt else 'ours'} for {minutes:g} minutes in {work}",
              flush=True)
        if with_joeynmt:
            train_config, _ = write_joeynmt_configs(preset, data, recipe(preset), work)
            train_side_by_side([Training("seq2seq-train", ours, work / "seq2seq.log"),
                                Training("JoeyNMT", joeynmt_command(joey, train_config), work / "joeynmt.log",
                                         model_dir)], minutes * 60)
        else:
            train_alone(ours, work / "seq2seq.log")
    check_same_subwords(ours_dir, data)
    if with_joeynmt:
        check_same_ids(model_dir, data.tokenizer)
    return TrainedPreset(ours_dir, ours_curve(RunDir(ours_dir).metrics), model_dir if with_joeynmt else None,
                         joeynmt_progress(model_dir) if with_joeynmt else [])


def train_alone(command: list[str], log: Path) -> None:
    """seq2seq-train on one thread, as it trains beside JoeyNMT, for a preset JoeyNMT has no counterpart of."""
    with open(log, "w") as output:
        done = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **ONE_THREAD})
    if done.returncode != 0:
        raise RuntimeError(f"seq2seq-train failed (exit {done.returncode}); see {log}")


def check_same_ids(model_dir: Path, tokenizer: Tokenizer) -> None:
    """Every token id from 4 must name the same subword in JoeyNMT's vocabularies (as its training saved them)
    as in our subword model, or the workload's ids would mean other words to JoeyNMT's model."""
    for side, pieces in (("src", tokenizer.src), ("trg", tokenizer.tgt)):
        expected = JOEYNMT_SPECIALS + [pieces.id_to_piece(i) for i in range(4, pieces.get_piece_size())]
        path = model_dir / f"{side}_vocab.txt"
        if path.read_text(encoding="utf-8").splitlines() != expected:
            raise RuntimeError(f"{path}: not our subword model's pieces in its order, so token ids differ between "
                               "the toolkits; delete its directory to train again")
