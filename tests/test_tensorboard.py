"""train.tensorboard=true: the event files hold metrics.jsonl's numbers, survive failures and resumes, and a
missing package is named before training starts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

from test_cli import SMALL_MODEL, files_overrides, run, write_corpus

from seq2seq.errors import UserError
from seq2seq.pipeline import train_and_evaluate
from seq2seq.training.tensorboard import TrainingCurves, scalars


def curves(directory: Path) -> dict[str, dict[int, float]]:
    """What TensorBoard shows for one run: each scalar tag's values by step (purged steps hidden, as on the page)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(directory))
    events.Reload()
    return {tag: {e.step: e.value for e in events.Scalars(tag)} for tag in events.Tags()["scalars"]}


def test_a_sweep_job_writes_every_metrics_record_as_scalars_tensorboard_names_after_its_directory(tmp_path):
    pytest.importorskip("tensorboard", reason="train.tensorboard needs the tensorboard extra")
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer

    files = write_corpus(tmp_path / "data")
    run_dir = tmp_path / "sweep" / "0_rnn_attention"
    result = run("seq2seq-train", *files_overrides(files), *SMALL_MODEL, "train.tensorboard=true", "train.log_every=2",
                 f"hydra.run.dir={run_dir}", cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr[-3000:]

    runs = EventMultiplexer().AddRunsFromDirectory(str(tmp_path / "sweep")).Runs()
    assert list(runs) == ["0_rnn_attention"]  # what `tensorboard --logdir multirun/DATE/TIME` lists
    shown = curves(run_dir)
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    expected: dict[str, dict[int, float]] = {}
    for record in records:
        for tag, value in scalars(record).items():
            expected.setdefault(tag, {})[record["step"]] = value
    assert {"train/loss", "train/lr", "train/tokens_per_s", "valid/loss", "valid/ppl", "valid/bleu"} <= set(shown)
    assert set(shown) == set(expected)
    assert len(expected["valid/bleu"]) == 2 and len(expected["train/loss"]) >= 3  # train=tiny: two epochs
    for tag, values in expected.items():  # event files hold float32
        assert shown[tag] == pytest.approx(values, rel=1e-6), tag


def test_records_become_tagged_scalars_without_their_labels_or_flags():
    record = {"kind": "valid", "epoch": 2, "step": 40, "loss": 1.5, "ppl": 4.48, "bleu": 12, "best": True,
              "elapsed_s": 3.0}
    assert scalars(record) == {"valid/loss": 1.5, "valid/ppl": 4.48, "valid/bleu": 12.0, "valid/elapsed_s": 3.0}


def test_a_resumed_run_replaces_what_the_interrupted_attempt_wrote_after_its_checkpoint(tmp_path):
    pytest.importorskip("tensorboard", reason="train.tensorboard needs the tensorboard extra")
    with TrainingCurves(tmp_path, first_step=1) as first:
        for step in range(1, 11):  # killed at step 10; its last checkpoint was at step 5
            first.write({"kind": "train", "epoch": 1, "step": step, "loss": float(step)})
    with TrainingCurves(tmp_path, first_step=6) as resumed:
        for step in range(6, 9):
            resumed.write({"kind": "train", "epoch": 2, "step": step, "loss": 100.0 + step})
    assert curves(tmp_path)["train/loss"] == {1: 1.0, 2: 2.0, 3: 3.0, 4: 4.0, 5: 5.0, 6: 106.0, 7: 107.0, 8: 108.0}


def test_records_written_before_training_fails_are_on_disk(tmp_path):
    pytest.importorskip("tensorboard", reason="train.tensorboard needs the tensorboard extra")
    with pytest.raises(RuntimeError, match="out of memory"):
        with TrainingCurves(tmp_path, first_step=1) as failing:
            failing.write({"kind": "train", "epoch": 1, "step": 5, "loss": 2.5, "lr": 0.001})
            raise RuntimeError("out of memory")  # before any validation flushed the file
    assert curves(tmp_path) == {"train/loss": {5: 2.5}, "train/lr": {5: pytest.approx(0.001)}}


def test_a_missing_tensorboard_package_is_named_with_its_fix_before_any_data_is_read(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # what `import tensorboard` meets where it is not installed
    with initialize_config_module(config_module="seq2seq.conf", version_base="1.3"):
        config = compose("config", overrides=["data=files", "train.tensorboard=true"])  # data=files without paths
    with pytest.raises(UserError, match=r"train\.tensorboard=true .*pip install -e '\.\[tensorboard\]'"):
        train_and_evaluate(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()
