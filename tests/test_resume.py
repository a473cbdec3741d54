"""A run killed at any moment resumes from its last checkpoint and ends exactly where an uninterrupted run ends;
a run resumed to train on scores what its new best checkpoint translates."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import torch

from test_cli import BIN, REPO, SMALL_MODEL, files_overrides, run, write_corpus

EPOCHS = ["train.max_epochs=3", "train.patience=10"]


def valid_records(run_dir: Path) -> dict[int, tuple]:
    """Validation scores by epoch (a resumed run may log an interrupted epoch's training twice)."""
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {r["epoch"]: (r["step"], r["loss"], r["bleu"]) for r in rows if r["kind"] == "valid"}


def kill_at_the_first_checkpoint(args: list[str], run_dir: Path, cache: Path) -> Path:
    """Start a training run and SIGKILL it as soon as its first checkpoint appears; returns that checkpoint."""
    env = {**os.environ, "SEQ2SEQ_CACHE": str(cache)}
    process = subprocess.Popen([str(BIN / "seq2seq-train"), *args, f"hydra.run.dir={run_dir}"], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint = run_dir / "checkpoints" / "last.pt"
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return checkpoint


def test_sigkill_mid_run_then_resume_matches_an_uninterrupted_run(tmp_path):
    files = write_corpus(tmp_path / "data")
    cache = tmp_path / "cache"
    args = [*files_overrides(files), *SMALL_MODEL, *EPOCHS]

    straight = tmp_path / "straight"
    assert run("seq2seq-train", *args, f"hydra.run.dir={straight}", cache=cache).returncode == 0

    killed = tmp_path / "killed"
    checkpoint = kill_at_the_first_checkpoint(args, killed, cache)
    assert checkpoint.exists() and not (killed / "results.json").exists(), "the kill should land before the run ends"

    resumed = run("seq2seq-train", *args, f"hydra.run.dir={killed}", "train.resume=true", cache=cache)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert valid_records(killed) == valid_records(straight)
    assert sorted(valid_records(killed)) == [1, 2, 3]
    final = [json.loads((d / "results.json").read_text())["splits"]["test"] for d in (killed, straight)]
    assert final[0]["bleu"] == final[1]["bleu"] and final[0]["chrf"] == final[1]["chrf"]


def test_resuming_with_a_bigger_budget_rescores_what_the_new_best_checkpoint_translates(tmp_path):
    """Issue 28: a run trained on by `train.resume=true train.max_epochs=N` must not keep the test scores and
    hypotheses of its earlier best checkpoint; they must be what `seq2seq-eval` gives for the new one."""
    files = write_corpus(tmp_path / "data")
    cache = tmp_path / "cache"
    args = [*files_overrides(files), *SMALL_MODEL, "train.patience=10"]
    run_dir = tmp_path / "run"
    first = run("seq2seq-train", *args, "train.max_epochs=1", f"hydra.run.dir={run_dir}", cache=cache)
    assert first.returncode == 0, first.stderr[-2000:]
    one_epoch = (run_dir / "hypotheses" / "test.txt").read_text()

    resumed = run("seq2seq-train", *args, "train.max_epochs=4", "train.resume=true", f"hydra.run.dir={run_dir}", cache=cache)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    best = torch.load(run_dir / "checkpoints" / "best.pt", map_location="cpu", weights_only=False)
    assert best["epoch"] > 1, "precondition: training on found a better checkpoint than the first epoch's"

    fresh = tmp_path / "fresh"  # the new best checkpoint scored from scratch
    shutil.copytree(run_dir, fresh)
    rescored = run("seq2seq-eval", str(fresh), cache=cache)
    assert rescored.returncode == 0, rescored.stderr[-2000:]
    expected = (fresh / "hypotheses" / "test.txt").read_text()
    assert expected != one_epoch, "precondition: the new checkpoint translates differently"

    assert (run_dir / "hypotheses" / "test.txt").read_text() == expected
    results, fresh_results = (json.loads((d / "results.json").read_text()) for d in (run_dir, fresh))
    assert results["training"]["epochs"] == 4
    assert results["splits"]["test"] == fresh_results["splits"]["test"]
    produced_by = results["splits"]["test"]["checkpoint"]
    assert (produced_by["path"], produced_by["epoch"], produced_by["step"]) == ("checkpoints/best.pt", best["epoch"], best["step"])


MID_EPOCH = ["train.max_epochs=2", "train.patience=20", "train.valid_every=2"]


def test_valid_every_validates_and_saves_inside_epochs_and_a_kill_resumes_mid_epoch(tmp_path):
    """Corpora whose epochs take many minutes validate every `valid_every` updates; a run killed after a
    mid-epoch checkpoint continues that epoch's batches and ends exactly where an uninterrupted run ends."""
    files = write_corpus(tmp_path / "data")
    cache = tmp_path / "cache"
    args = [*files_overrides(files), *SMALL_MODEL, *MID_EPOCH]
    straight = tmp_path / "straight"
    assert run("seq2seq-train", *args, f"hydra.run.dir={straight}", cache=cache).returncode == 0
    epochs = sorted(valid_records(straight))
    assert [e for e in epochs if e != int(e)], "precondition: validations inside an epoch, at fractional epochs"
    assert epochs[-1] == 2 and all(step % 2 == 0 for e, (step, _, _) in valid_records(straight).items() if e != int(e))

    killed = tmp_path / "killed"  # killed by the first save, which is mid-epoch (step 2 of epoch 1)
    checkpoint = kill_at_the_first_checkpoint(args, killed, cache)
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    assert (state["epoch"], state["epoch_batches"]) == (0, 2) and not (killed / "results.json").exists()

    resumed = run("seq2seq-train", *args, f"hydra.run.dir={killed}", "train.resume=true", cache=cache)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert valid_records(killed) == valid_records(straight)
    final = [json.loads((d / "results.json").read_text())["splits"]["test"] for d in (killed, straight)]
    assert final[0]["bleu"] == final[1]["bleu"]


def test_a_step_budget_leaves_the_epoch_open_and_a_bigger_one_finishes_it(tmp_path):
    """A run stopped by train.max_steps inside an epoch, trained on with a bigger budget, sees the batches an
    uninterrupted run with that budget sees (the rest of the epoch, not a new epoch)."""
    files = write_corpus(tmp_path / "data")
    cache = tmp_path / "cache"
    args = [*files_overrides(files), *SMALL_MODEL, "train.max_epochs=3", "train.patience=20"]
    straight = tmp_path / "straight"
    assert run("seq2seq-train", *args, "train.max_steps=9", f"hydra.run.dir={straight}", cache=cache).returncode == 0
    staged = tmp_path / "staged"
    first = run("seq2seq-train", *args, "train.max_steps=3", f"hydra.run.dir={staged}", cache=cache)
    assert first.returncode == 0, first.stderr[-2000:]
    state = torch.load(staged / "checkpoints" / "last.pt", map_location="cpu", weights_only=False)
    assert (state["epoch"], state["epoch_batches"], state["step"]) == (0, 3, 3), "the epoch stays open at step 3"
    more = run("seq2seq-train", *args, "train.max_steps=9", "train.resume=true", f"hydra.run.dir={staged}", cache=cache)
    assert more.returncode == 0, more.stderr[-2000:]
    weights = [torch.load(d / "checkpoints" / "last.pt", map_location="cpu", weights_only=False)["model"]
               for d in (staged, straight)]
    assert all(torch.equal(weights[0][name], weights[1][name]) for name in weights[1])
