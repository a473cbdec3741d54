"""The fault matrix: kills, failures and shared resources a long sweep meets lose nothing.

Each fault is injected into a real `seq2seq-train` (or `-report`, `-compare`) process: a small
script patches one function to SIGKILL the process, or to fail, at a chosen moment, then runs the
console entry point. The run is then finished the documented way (`train.resume=true` or
`seq2seq-eval RUN`) and must end with the results an uninterrupted run writes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from test_cli import BIN, REPO, SMALL_MODEL, assert_user_error, files_overrides, run, write_corpus

from seq2seq.data.parallel import ParallelText
from seq2seq.data.tokenizer import TokenizerSettings, build_tokenizer
from seq2seq.errors import UserError
from seq2seq.run_dir import Results

TWO_SPLITS = ["eval.splits=[test,valid]"]

# Runs in the child process: argv = [fault, program, *arguments].
INJECT = r"""
import errno, os, signal, sys
fault, program = sys.argv[1], sys.argv[2]
sys.argv = [program, *sys.argv[3:]]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

import torch
import seq2seq.files as files
import seq2seq.pipeline as pipeline
import seq2seq.training.trainer as trainer

if fault == "first_epoch":
    step = trainer.Trainer.train_step
    def train_step(self, batch):
        if self.step == 2:
            die()
        return step(self, batch)
    trainer.Trainer.train_step = train_step
elif fault == "between_epochs":
    save = pipeline.save_checkpoint
    def save_checkpoint(path, checkpoint):
        save(path, checkpoint)
        if path.name == "last.pt" and checkpoint["epoch"] == 1:
            die()
    pipeline.save_checkpoint = save_checkpoint
elif fault in ("checkpoint_writing", "disk_full"):
    torch_save = torch.save
    def partial_save(obj, stream, *args, **kwargs):
        if isinstance(obj, dict) and obj.get("epoch") == 2:
            stream.write(b"half a checkpoint" * 1000)
            if fault == "disk_full":
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            stream.flush()
            die()
        return torch_save(obj, stream, *args, **kwargs)
    torch.save = partial_save
elif fault in ("first_split", "first_split_fails"):  # after the split's hypotheses are written, before its scores
    score_split = pipeline.score_split
    def failing_score_split(*args, **kwargs):
        if fault == "first_split_fails":
            pipeline.score_split = score_split
            raise MemoryError("simulated: out of memory while decoding")
        die()
    pipeline.score_split = failing_score_split
elif fault == "between_splits":
    score = pipeline.score_split_of_run
    calls = []
    def counted_score(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            die()
        return score(*args, **kwargs)
    pipeline.score_split_of_run = counted_score
elif fault == "report_write":
    replace = files.os.replace
    def replace_then_die(source, target):
        if os.path.basename(target) in ("report.csv", "comparison.csv"):
            die()
        return replace(source, target)
    files.os.replace = replace_then_die

import seq2seq.cli as cli
getattr(cli, program.split("-", 1)[1])(*([] if program == "seq2seq-train" else [sys.argv[1:]]))
"""


def run_with_fault(fault: str, program: str, *args: str, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SEQ2SEQ_CACHE": str(cache)}
    env.pop("SEQ2SEQ_DATA", None)
    return subprocess.run([sys.executable, "-c", INJECT, fault, program, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def comparable(run_dir: Path) -> dict:
    """results.json without its wall-clock figures, plus the hypotheses and validation records."""
    results = json.loads((run_dir / "results.json").read_text())
    results["training"].pop("seconds"), results["training"].pop("tgt_tokens_per_s")
    hypotheses = {p.name: p.read_text() for p in sorted((run_dir / "hypotheses").glob("*.txt"))}
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    valid = [{k: v for k, v in r.items() if k != "elapsed_s"} for r in records if r["kind"] == "valid"]
    return {"results": results, "hypotheses": hypotheses, "valid": valid}


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """An uninterrupted run: two epochs, scored on two splits."""
    base = tmp_path_factory.mktemp("faults")
    files = write_corpus(base / "data")
    args = [*files_overrides(files), *SMALL_MODEL, *TWO_SPLITS]
    run_dir = base / "straight"
    result = run("seq2seq-train", *args, f"hydra.run.dir={run_dir}", cache=base / "cache")
    assert result.returncode == 0, result.stderr[-3000:]
    return {"args": args, "run_dir": run_dir, "cache": base / "cache", "files": files}


@pytest.mark.parametrize("fault, finish", [
    ("first_epoch", "resume"),
    ("between_epochs", "resume"),
    ("checkpoint_writing", "resume"),
    ("first_split", "eval"),
    ("between_splits", "resume"),
])
def test_a_kill_at_any_moment_then_the_documented_rerun_gives_the_uninterrupted_results(straight, tmp_path, fault, finish):
    run_dir = tmp_path / "run"
    killed = run_with_fault(fault, "seq2seq-train", *straight["args"], f"hydra.run.dir={run_dir}", cache=straight["cache"])
    assert killed.returncode == -9, killed.stderr[-3000:]
    if finish == "resume":
        rerun = run("seq2seq-train", *straight["args"], f"hydra.run.dir={run_dir}", "train.resume=true", cache=straight["cache"])
    else:
        rerun = run("seq2seq-eval", str(run_dir), cache=straight["cache"])
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert comparable(run_dir) == comparable(straight["run_dir"])
    assert not [p.name for p in (run_dir / "checkpoints").iterdir() if p.name.startswith(".")]  # no half-written files


def test_a_failed_split_keeps_the_training_and_the_other_splits_and_eval_finishes_it(straight, tmp_path):
    run_dir = tmp_path / "run"
    failed = run_with_fault("first_split_fails", "seq2seq-train", *straight["args"], f"hydra.run.dir={run_dir}",
                            cache=straight["cache"])
    assert_user_error(failed, "seq2seq-train", "'test'", "MemoryError", f"seq2seq-eval {run_dir}")
    partial = json.loads((run_dir / "results.json").read_text())
    assert list(partial["splits"]) == ["valid"] and list(partial["failed_splits"]) == ["test"]
    assert partial["training"]["epochs"] == 2 and partial["pending_splits"] == []

    report = run("seq2seq-report", str(run_dir), "--split", "test", "--out", str(tmp_path / "report"), cache=straight["cache"])
    assert report.returncode == 0, report.stderr[-3000:]
    assert "| evaluation failed | 'test': MemoryError: simulated" in report.stdout

    finished = run("seq2seq-eval", str(run_dir), cache=straight["cache"])
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert comparable(run_dir) == comparable(straight["run_dir"])


def test_a_full_disk_while_saving_a_checkpoint_is_one_line_and_keeps_the_previous_checkpoint(straight, tmp_path):
    run_dir = tmp_path / "run"
    full = run_with_fault("disk_full", "seq2seq-train", *straight["args"], f"hydra.run.dir={run_dir}", cache=straight["cache"])
    assert_user_error(full, "seq2seq-train", "could not write the checkpoint", "No space left on device",
                      "train.resume=true")
    checkpoints = run_dir / "checkpoints"
    assert torch.load(checkpoints / "last.pt", map_location="cpu", weights_only=False)["epoch"] == 1
    assert sorted(p.name for p in checkpoints.iterdir()) == ["best.pt", "last.pt"]  # no temporary file left
    resumed = run("seq2seq-train", *straight["args"], f"hydra.run.dir={run_dir}", "train.resume=true", cache=straight["cache"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert comparable(run_dir) == comparable(straight["run_dir"])


def test_two_runs_started_at_once_share_an_empty_cache(straight, tmp_path):
    cache = tmp_path / "cache"
    env = {**os.environ, "SEQ2SEQ_CACHE": str(cache)}
    env.pop("SEQ2SEQ_DATA", None)
    processes = [subprocess.Popen([str(BIN / "seq2seq-train"), *straight["args"], f"hydra.run.dir={tmp_path / name}"],
                                  cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for name in ("a", "b")]
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr[-3000:]
    tokenizers = list((cache / "sentencepiece").iterdir())
    assert len(tokenizers) == 1 and not tokenizers[0].name.startswith(".")  # one model, no staging leftovers
    assert comparable(tmp_path / "a") == comparable(tmp_path / "b") == comparable(straight["run_dir"])


def test_a_read_only_cache_is_named_and_a_filled_one_still_serves(tmp_path, monkeypatch):
    train = ParallelText("train", ["eins zwei drei"] * 20, ["one two three"] * 20)
    settings = TokenizerSettings("bpe", 30, True, 1.0)
    cache = tmp_path / "cache"
    filled = build_tokenizer(settings, train, cache)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(cache))

    monkeypatch.setattr("seq2seq.data.tokenizer.tempfile.mkdtemp", refuse)
    assert build_tokenizer(settings, train, cache).encode_src(["eins"]) == filled.encode_src(["eins"])
    other = ParallelText("train", ["vier fünf"] * 20, ["four five"] * 20)
    with pytest.raises(UserError) as error:
        build_tokenizer(settings, other, cache)
    message = str(error.value)
    assert str(cache) in message and "tokenizer.cache_dir" in message and "SEQ2SEQ_CACHE" in message


@pytest.mark.parametrize("program", ["seq2seq-report", "seq2seq-compare"])
def test_a_report_killed_mid_write_leaves_the_previous_files_whole(straight, tmp_path, program):
    out = tmp_path / "out"
    runs = [str(straight["run_dir"])]
    if program == "seq2seq-compare":
        shutil.copytree(straight["run_dir"], tmp_path / "copy")
        runs.append(str(tmp_path / "copy"))
    args = [*runs, "--out", str(out)]
    first = run(program, *args, cache=straight["cache"])
    assert first.returncode == 0, first.stderr[-3000:]
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    killed = run_with_fault("report_write", program, *args, cache=straight["cache"])
    assert killed.returncode == -9, killed.stderr[-3000:]
    after = {p.name: p.read_bytes() for p in out.iterdir() if not p.name.startswith(".")}
    assert after == before


def test_the_sweep_objective_is_the_validation_score_not_a_test_score(tmp_path, monkeypatch):
    """What seq2seq-train returns to Hydra is what an optimizing sweeper tunes on."""
    from hydra import compose, initialize_config_module
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import open_dict

    import seq2seq.cli as cli

    results = Results(model="rnn", data="probe", training={"best_valid_score": 12.5}, splits={"test": {"bleu": 99.0}})
    monkeypatch.setattr("seq2seq.pipeline.train_and_evaluate", lambda config, run_dir: results)
    with initialize_config_module("seq2seq.conf", version_base="1.3"):
        config = compose("config", overrides=["threads=1"], return_hydra_config=True)
    with open_dict(config):
        config.hydra.runtime.output_dir, config.hydra.mode = str(tmp_path), RunMode.RUN
    HydraConfig.instance().set_config(config)
    with open_dict(config):
        del config["hydra"]
    assert cli.train.__wrapped__(config) == 12.5


def test_a_run_trained_with_relative_paths_is_evaluated_from_another_directory(tmp_path):
    work = tmp_path / "work"
    files = write_corpus(work / "data")
    relative = {split: tuple(path.relative_to(work) for path in pair) for split, pair in files.items()}
    env = {**os.environ, "SEQ2SEQ_CACHE": str(tmp_path / "cache")}
    env.pop("SEQ2SEQ_DATA", None)
    trained = subprocess.run([str(BIN / "seq2seq-train"), *files_overrides(relative), *SMALL_MODEL, "hydra.run.dir=run"],
                             cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert trained.returncode == 0, trained.stderr[-3000:]
    meta = json.loads((work / "run" / "meta.json").read_text())
    assert meta["paths_as_typed"]["data.corpus.splits.test.src"] == "data/test.de"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    evaluated = subprocess.run([str(BIN / "seq2seq-eval"), str(work / "run"), "split=test"], cwd=elsewhere, env=env,
                               capture_output=True, text=True, timeout=300)
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]


def test_results_record_the_pairs_on_disk_and_scored_and_an_empty_test_pair_is_kept(tmp_path):
    files = write_corpus(tmp_path / "data")
    for path in files["test"]:
        path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # one empty pair at the end
    run_dir = tmp_path / "run"
    result = run("seq2seq-train", *files_overrides(files), *SMALL_MODEL, f"hydra.run.dir={run_dir}", cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr[-3000:]
    test = json.loads((run_dir / "results.json").read_text())["splits"]["test"]
    on_disk = len(files["test"][0].read_text(encoding="utf-8").splitlines())
    assert test["pairs"] == {"on_disk": on_disk, "scored": on_disk} and test["sentences"] == on_disk
