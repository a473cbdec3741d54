"""seq2seq-report over a fake sweep: exact means and deviations over seeds, every run accounted for, files written.

The run directories are written by hand (config.yaml, results.json, metrics.jsonl, error.txt), so the
expected numbers are known without training anything.
"""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.image import imread

from seq2seq.errors import UserError
from seq2seq.reporting.sweep import (
    aggregate,
    choose_split,
    collect_runs,
    report_csv,
    unreported_runs,
    write_report,
)

BIN = Path(sys.executable).parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
BUCKETS = [("1-9", 1, 10, 5.0), ("10-19", 10, 20, 14.5), ("20+", 20, None, 24.0)]
# (job, model, seed, overall BLEU, overall chrF, BLEU per bucket); chrF per bucket is BLEU + 20
FINISHED = [
    ("0_rnn", "rnn", 1, 10.0, 30.0, [14.0, 8.0, 4.0]),
    ("1_rnn_attention", "rnn_attention", 1, 20.0, 40.0, [22.0, 20.0, 18.0]),
    ("2_rnn", "rnn", 2, 12.0, 34.0, [16.0, 10.0, 0.0]),
    ("3_rnn_attention", "rnn_attention", 2, 24.0, 44.0, [22.0, 24.0, 20.0]),
]
VERBS = [{"bucket": "0-2", "count": 10, "correct": 9, "accuracy": 0.9},
         {"bucket": "3+", "count": 10, "correct": 5, "accuracy": 0.5}]


def write_run(directory: Path, model: str, seed: int, valid_bleu: list[float]) -> None:
    directory.mkdir(parents=True)
    (directory / "config.yaml").write_text(f"model:\n  name: {model}\nseed: {seed}\ndata:\n  name: files\n")
    records = []
    for epoch, bleu in enumerate(valid_bleu, start=1):
        records.append({"kind": "train", "epoch": epoch, "step": 10 * epoch, "loss": 3.0 / epoch, "lr": 1e-3, "tokens_per_s": 900.0})
        records.append({"kind": "valid", "epoch": epoch, "step": 10 * epoch, "loss": 2.0 / epoch, "ppl": 7.0,
                        "bleu": bleu, "best": True, "elapsed_s": 1.0})
    (directory / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def split_result(bleu: float, chrf: float, by_bucket: list[float], verbs: bool) -> dict:
    rows = [{"bucket": label, "low": low, "high": high, "count": 10, "bleu": b, "chrf": b + 20,
             "bleu_ci": [b - 1, b + 1], "chrf_ci": [b + 19, b + 21], "midpoint": mid}
            for (label, low, high, mid), b in zip(BUCKETS, by_bucket)]
    result = {"bleu": bleu, "chrf": chrf, "bleu_ci": [bleu - 1, bleu + 1], "sentences": 30, "by_length": rows,
              "length_sensitivity": {"slope": -0.5, "slope_ci": [-0.7, -0.3]}, "buckets": {"unit": "words"}}
    if verbs:
        result["verb_accuracy"] = {"overall": {"count": 20, "correct": 14, "accuracy": 0.7}, "by_distance": VERBS}
    return result


def make_sweep(root: Path, verbs: bool = False) -> Path:
    """Two models × two seeds, one failed job and one still training: multirun/DATE/TIME."""
    sweep = root / "multirun" / "2024-05-01" / "12-00-00"
    for job, model, seed, bleu, chrf, by_bucket in FINISHED:
        write_run(sweep / job, model, seed, [bleu / 2, bleu])
        results = {"model": model, "data": "files", "training": {"epochs": 2},
                   "splits": {"test": split_result(bleu, chrf, by_bucket, verbs)}}
        (sweep / job / "results.json").write_text(json.dumps(results))
    write_run(sweep / "4_transformer", "transformer", 1, [])
    (sweep / "4_transformer" / "error.txt").write_text("model.d_model=30 is not divisible by model.heads=4 | fix one\n")
    write_run(sweep / "10_rnn", "rnn", 3, [3.5])
    with open(sweep / "10_rnn" / "metrics.jsonl", "a") as stream:
        stream.write('{"kind": "valid", "epo')  # a job killed mid-write, or still writing
    (sweep / "multirun.yaml").write_text("hydra: {}\n")
    return sweep


def by_key(rows: list[dict]) -> dict[tuple[str, str], dict]:
    return {(row["model"], row["bucket"]): row for row in rows}


def test_means_and_sample_deviations_per_model_and_bucket(tmp_path):
    runs = collect_runs([make_sweep(tmp_path)])
    assert [r.name for r in runs] == ["0_rnn", "1_rnn_attention", "2_rnn", "3_rnn_attention", "4_transformer", "10_rnn"]
    rows = by_key(aggregate(runs, choose_split(runs, None)))
    assert set(rows) == {(m, b) for m in ("rnn", "rnn_attention") for b in ("all", "1-9", "10-19", "20+")}
    expected = {  # (BLEU mean, BLEU std, chrF mean, chrF std); std of two values a, b is |a - b| / sqrt(2)
        ("rnn", "all"): (11.0, math.sqrt(2), 32.0, math.sqrt(8)),
        ("rnn", "1-9"): (15.0, math.sqrt(2), 35.0, math.sqrt(2)),
        ("rnn", "10-19"): (9.0, math.sqrt(2), 29.0, math.sqrt(2)),
        ("rnn", "20+"): (2.0, math.sqrt(8), 22.0, math.sqrt(8)),
        ("rnn_attention", "all"): (22.0, math.sqrt(8), 42.0, math.sqrt(8)),
        ("rnn_attention", "1-9"): (22.0, 0.0, 42.0, 0.0),
        ("rnn_attention", "10-19"): (22.0, math.sqrt(8), 42.0, math.sqrt(8)),
        ("rnn_attention", "20+"): (19.0, math.sqrt(2), 39.0, math.sqrt(2)),
    }
    for key, (bleu, bleu_std, chrf, chrf_std) in expected.items():
        row = rows[key]
        assert (row["bleu_mean"], row["chrf_mean"]) == pytest.approx((bleu, chrf)), key
        assert (row["bleu_std"], row["chrf_std"]) == pytest.approx((bleu_std, chrf_std)), key
        assert row["seeds"] == 2 and row["ci"] is None
    assert rows[("rnn", "all")]["runs"] == ["0_rnn", "2_rnn"]  # the unfinished 10_rnn is not averaged in
    assert rows[("rnn", "20+")]["midpoint"] == 24.0 and rows[("rnn", "20+")]["sentences"] == 10


def test_one_seed_has_no_deviation_and_keeps_its_bootstrap_interval(tmp_path):
    sweep = make_sweep(tmp_path)
    runs = collect_runs([sweep / "0_rnn"])
    rows = by_key(aggregate(runs, "test"))
    assert rows[("rnn", "1-9")]["seeds"] == 1 and rows[("rnn", "1-9")]["bleu_std"] is None
    assert rows[("rnn", "1-9")]["ci"] == [13.0, 15.0]  # the band plotted for a single seed


def test_failed_and_unfinished_runs_are_listed_with_why(tmp_path):
    sweep = make_sweep(tmp_path)
    markdown = write_report([sweep], None, sweep)
    runs = collect_runs([sweep])
    listed = {m["run"]: m for m in unreported_runs(runs, "test")}
    assert set(listed) == {"4_transformer", "10_rnn"}
    assert listed["4_transformer"]["status"] == "failed" and "not divisible by model.heads=4" in listed["4_transformer"]["detail"]
    assert listed["10_rnn"]["status"] == "in progress" and "epoch 1, BLEU 3.50" in listed["10_rnn"]["detail"]
    assert "6 runs: 4 finished, 1 failed, 1 in progress" in markdown
    assert "| 4_transformer | transformer | failed | model.d_model=30 is not divisible by model.heads=4 \\| fix one |" in markdown
    assert "| 10_rnn | rnn | in progress | last validation: epoch 1, BLEU 3.50 |" in markdown
    assert "| rnn | 2 | 11.00 ± 1.41 | 32.00 ± 2.83 | 0_rnn (1), 2_rnn (2) |" in markdown
    assert "| rnn_attention | 20+ | 10 | 2 | 19.00 ± 1.41 | 39.00 ± 1.41 |" in markdown


def test_a_finished_run_without_the_split_is_listed_not_dropped(tmp_path):
    sweep = make_sweep(tmp_path)
    results_path = sweep / "0_rnn" / "results.json"
    results = json.loads(results_path.read_text())
    results["splits"]["valid"] = results["splits"]["test"]
    results_path.write_text(json.dumps(results))
    runs = collect_runs([sweep])
    rows = by_key(aggregate(runs, choose_split(runs, "valid")))
    assert {m for m, _ in rows} == {"rnn"} and rows[("rnn", "all")]["seeds"] == 1
    listed = {m["run"]: m["detail"] for m in unreported_runs(runs, "valid")}
    assert "not evaluated on 'valid'" in listed["2_rnn"] and "split=valid" in listed["2_rnn"]
    with pytest.raises(UserError, match="no finished run has split 'dev'.*test, valid"):
        choose_split(runs, "dev")


def test_csv_has_one_row_per_model_and_bucket(tmp_path):
    runs = collect_runs([make_sweep(tmp_path)])
    table = list(csv.DictReader(io.StringIO(report_csv(aggregate(runs, "test")))))
    assert [(r["model"], r["bucket"]) for r in table] == [
        (m, b) for m in ("rnn", "rnn_attention") for b in ("all", "1-9", "10-19", "20+")]
    row = next(r for r in table if (r["model"], r["bucket"]) == ("rnn", "20+"))
    assert float(row["bleu_mean"]) == 2.0 and float(row["bleu_std"]) == pytest.approx(math.sqrt(8))
    assert row["seeds"] == "2" and row["runs"] == "0_rnn 2_rnn"


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 10_000, path
    pixels = imread(path)
    assert pixels.shape[:2] == (480, 780) and pixels.std() > 0.05, path  # 6.5 × 4 in at 120 dpi, not blank


@pytest.mark.parametrize("verbs", [False, True])
def test_plots_are_written_and_verb_accuracy_only_when_measured(tmp_path, verbs):
    sweep = make_sweep(tmp_path, verbs=verbs)
    out = tmp_path / "out"
    markdown = write_report([sweep], None, out)
    for name in ("bleu_by_length.png", "training_curves.png"):
        assert_png(out / name)
    assert (out / "verb_accuracy.png").exists() == verbs
    assert ("## Main-verb accuracy" in markdown) == verbs
    if verbs:
        assert_png(out / "verb_accuracy.png")
        assert "| rnn | 3+ | 10 | 2 | 0.500 ± 0.000 |" in markdown
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left behind


def report_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "seq2seq-report"), *args], check=False, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_cli_writes_the_report_into_the_sweep(tmp_path):
    sweep = make_sweep(tmp_path)
    result = report_cli(str(sweep), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    markdown = (sweep / "report.md").read_text()
    assert result.stdout == markdown and markdown.startswith("# Report on split `test`")
    assert len((sweep / "report.csv").read_text().splitlines()) == 1 + 8
    for name in ("bleu_by_length.png", "training_curves.png"):
        assert_png(sweep / name)
    assert not (sweep / "verb_accuracy.png").exists()


def test_cli_user_errors_are_one_line(tmp_path):
    (tmp_path / "empty" / "not_a_run").mkdir(parents=True)
    result = report_cli(str(tmp_path / "empty"), cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seq2seq-report: error: no runs found under"), result.stderr
    assert not (tmp_path / "empty" / "report.md").exists()


def contrastive_result(attractor: list[float]) -> dict:
    """A contrastive test of 20 pairs per distance bucket; `attractor` holds the two buckets' accuracies."""
    rows = [{"bucket": label, "low": low, "high": high, "count": 20, "correct": round(20 * a), "accuracy": a,
             "ci": [a - 0.1, a + 0.1]} for (label, low, high), a in zip([("0-4", 0, 5), ("5-9", 5, 10)], attractor)]
    table = {"overall": {"count": 40, "correct": sum(r["correct"] for r in rows), "accuracy": sum(attractor) / 2,
                         "ci": [0.4, 0.9]}, "by_distance": rows, "by_length": rows}
    return {"kinds": {"attractor": table}, "pairs": 40, "length_distance_r": 0.3, "bootstrap": {"level": 0.95}}


def test_contrastive_accuracy_is_averaged_over_seeds_tabled_and_plotted(tmp_path):
    sweep = make_sweep(tmp_path)
    for job, attractor in (("0_rnn", [0.9, 0.6]), ("2_rnn", [1.0, 0.5])):
        path = sweep / job / "results.json"
        results = json.loads(path.read_text())
        results["splits"]["test"]["contrastive"] = contrastive_result(attractor)
        path.write_text(json.dumps(results))
    markdown = write_report([sweep], "test", tmp_path / "out")
    rows = {(r["model"], r["view"], r["bucket"]): r for r in csv.DictReader(io.StringIO((tmp_path / "out" / "contrastive.csv").read_text()))}
    assert float(rows[("rnn", "distance", "0-4")]["accuracy_mean"]) == pytest.approx(0.95)
    assert float(rows[("rnn", "distance", "0-4")]["accuracy_std"]) == pytest.approx(math.sqrt(0.005))
    assert float(rows[("rnn", "all", "all")]["accuracy_mean"]) == pytest.approx(0.75)
    assert rows[("rnn", "distance", "5-9")]["seeds"] == "2" and rows[("rnn", "distance", "5-9")]["sentences"] == "20"
    assert not any(model == "rnn_attention" for model, _, _ in rows)  # it did not measure the test
    assert "| rnn | attractor | distance | 0-4 | 20 | 2 | 0.950 ± 0.071 |" in markdown
    assert (tmp_path / "out" / "contrastive_accuracy.png").read_bytes().startswith(PNG_MAGIC)
