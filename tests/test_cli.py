"""The console scripts end to end: a tiny run writes every promised file; user errors end in one line, exit 2."""

from __future__ import annotations

import json
import re
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sacrebleu
import torch

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NUMBERS = [("eins", "one"), ("zwei", "two"), ("drei", "three"), ("vier", "four"), ("fünf", "five"),
           ("sechs", "six"), ("sieben", "seven"), ("acht", "eight"), ("neun", "nine"), ("zehn", "ten")]
SIZES = {"train": 200, "valid": 20, "test": 20}
SMALL_MODEL = [
    "model=rnn_attention", "train=tiny", "tokenizer.vocab_size=100", "device=cpu", "threads=1",
    "model.encoder.hidden_size=32", "model.encoder.embedding_dim=32",
    "model.decoder.hidden_size=32", "model.decoder.embedding_dim=32", "model.decoder.attention_size=32",
]


def write_corpus(directory: Path, seed: int = 0) -> dict[str, tuple[Path, Path]]:
    """Number words, German -> English, 1 to 12 words (so the test split spans two length buckets)."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for split, count in SIZES.items():
        pairs = [[rng.choice(NUMBERS) for _ in range(rng.randint(1, 12))] for _ in range(count)]
        src, tgt = directory / f"{split}.de", directory / f"{split}.en"
        src.write_text("".join(" ".join(de for de, _ in p) + "\n" for p in pairs), encoding="utf-8")
        tgt.write_text("".join(" ".join(en for _, en in p) + "\n" for p in pairs), encoding="utf-8")
        files[split] = (src, tgt)
    return files


def files_overrides(files: dict[str, tuple[Path, Path]]) -> list[str]:
    overrides = ["data=files"]
    for split, (src, tgt) in files.items():
        overrides += [f"data.corpus.splits.{split}.src={src}", f"data.corpus.splits.{split}.tgt={tgt}"]
    return overrides


def run(program: str, *args: str, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SEQ2SEQ_CACHE": str(cache)}
    env.pop("HYDRA_FULL_ERROR", None)
    env.pop("SEQ2SEQ_DATA", None)
    return subprocess.run([str(BIN / program), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def assert_user_error(result: subprocess.CompletedProcess, program: str, *names: str) -> None:
    """Exit status 2 and one line on stderr that names what to fix; never a traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{program}: error: "), result.stderr
    for name in names:
        assert name in lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny training run shared by the tests that read it (none of them changes it)."""
    base = tmp_path_factory.mktemp("cli")
    files = write_corpus(base / "data")
    run_dir = base / "run"
    result = run("seq2seq-train", *files_overrides(files), *SMALL_MODEL, f"hydra.run.dir={run_dir}", cache=base / "cache")
    assert result.returncode == 0, result.stderr[-3000:]
    return {"base": base, "files": files, "run_dir": run_dir, "cache": base / "cache", "stdout": result.stdout}


def test_train_writes_results_hypotheses_and_run_records(trained):
    run_dir, files = trained["run_dir"], trained["files"]
    results = json.loads((run_dir / "results.json").read_text())
    test = results["splits"]["test"]
    assert results["model"] == "rnn_attention" and results["data"] == "files"
    assert test["bleu_signature"].startswith("nrefs:1|") and test["chrf_signature"].startswith("nrefs:1|")
    assert test["sentences"] == SIZES["test"]
    assert sum(row["count"] for row in test["by_length"]) == SIZES["test"]
    assert [row["count"] for row in test["by_length"]][2:] == [0] * 5  # nothing has 20+ source words

    hypotheses = (run_dir / "hypotheses" / "test.txt").read_text(encoding="utf-8").split("\n")
    assert hypotheses[-1] == "" and len(hypotheses) - 1 == SIZES["test"]
    references = files["test"][1].read_text(encoding="utf-8").splitlines()
    # the reported scores are those of the written hypotheses
    assert test["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hypotheses[:-1], [references]).score)
    assert test["chrf"] == pytest.approx(sacrebleu.corpus_chrf(hypotheses[:-1], [references]).score)

    config = (run_dir / "config.yaml").read_text()
    assert "hidden_size: 32" in config and str(files["test"][0]) in config
    meta = json.loads((run_dir / "meta.json").read_text())
    assert "commit" in meta["git"] and meta["seed"] == 1234 and meta["train_pairs"] == SIZES["train"]

    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert {"train", "valid"} <= {r["kind"] for r in records}
    assert [r["epoch"] for r in records if r["kind"] == "valid"] == [1, 2]  # train=tiny: two epochs
    assert all(r["loss"] > 0 for r in records)

    for name in ("best.pt", "last.pt"):
        checkpoint = torch.load(run_dir / "checkpoints" / name, map_location="cpu", weights_only=False)
        assert "model" in checkpoint
    assert (run_dir / "tokenizer" / "src.model").is_file() and (run_dir / "tokenizer" / "tgt.model").is_file()


def test_the_console_names_the_run_its_precision_and_threads(trained):
    """Every console log line carries the run's label; training starts by naming the precision it trains in (the
    one meta.json records: `auto` picks bf16 where the CPU has it natively) and the torch threads."""
    logged = [line for line in trained["stdout"].splitlines() if line.startswith("[20")]  # "[2026-...": log records
    assert logged and all("][rnn_attention s1234][" in line for line in logged), logged[:3]
    precision = json.loads((trained["run_dir"] / "meta.json").read_text())["precision"]
    shown = "bf16 autocast (fp32 weights)" if precision == "bf16" else precision
    assert any(line.endswith(f"training on cpu in {shown} with 1 thread(s)") for line in logged), logged
    assert "rnn_attention s1234" not in (trained["run_dir"] / "train.log").read_text()  # one run's file: no label
    assert "\n[rnn_attention s1234] test: BLEU " in trained["stdout"]  # the printed scores, labelled alike


def test_eval_adds_a_split_without_touching_the_others(trained, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(trained["run_dir"], run_dir)
    before = json.loads((run_dir / "results.json").read_text())
    result = run("seq2seq-eval", str(run_dir), "split=valid", cache=trained["cache"])
    assert result.returncode == 0, result.stderr[-3000:]
    after = json.loads((run_dir / "results.json").read_text())
    assert after["splits"]["test"] == before["splits"]["test"]
    valid = after["splits"]["valid"]
    assert valid["sentences"] == SIZES["valid"] == sum(row["count"] for row in valid["by_length"])
    hypotheses = (run_dir / "hypotheses" / "valid.txt").read_text(encoding="utf-8").splitlines()
    references = trained["files"]["valid"][1].read_text(encoding="utf-8").splitlines()
    assert valid["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hypotheses, [references]).score)


def test_train_refuses_a_used_run_dir_unless_resuming(trained, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(trained["run_dir"], run_dir)
    args = [*files_overrides(trained["files"]), *SMALL_MODEL, f"hydra.run.dir={run_dir}"]
    refused = run("seq2seq-train", *args, cache=trained["cache"])
    assert_user_error(refused, "seq2seq-train", str(run_dir), "train.resume=true")
    assert (run_dir / "results.json").read_bytes() == (trained["run_dir"] / "results.json").read_bytes()

    resumed = run("seq2seq-train", *args, "train.resume=true", cache=trained["cache"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    results = json.loads((run_dir / "results.json").read_text())
    assert results["training"]["epochs"] == 2  # already at max_epochs: nothing more to train
    original = json.loads((trained["run_dir"] / "results.json").read_text())
    assert results["splits"]["test"]["bleu"] == original["splits"]["test"]["bleu"]  # same best checkpoint
    assert results["splits"]["test"]["sentences"] == SIZES["test"]


def test_unknown_model_lists_the_choices(tmp_path):
    result = run("seq2seq-train", "data=files", "model=lstm2", f"hydra.run.dir={tmp_path / 'run'}", cache=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "model/lstm2" in result.stderr
    for choice in ("rnn", "rnn_attention", "transformer"):
        assert f"\t{choice}\n" in result.stderr


def test_missing_data_root_names_the_directory(tmp_path):
    result = run("seq2seq-train", "data=multi30k", "data.root=/nonexistent", f"hydra.run.dir={tmp_path / 'run'}", cache=tmp_path)
    assert_user_error(result, "seq2seq-train", "data.root=/nonexistent", "directory not found")


def test_misaligned_files_name_both_files_and_counts(tmp_path):
    files = write_corpus(tmp_path / "data")
    files["train"] = (files["train"][0], files["valid"][1])
    result = run("seq2seq-train", *files_overrides(files), f"hydra.run.dir={tmp_path / 'run'}", cache=tmp_path)
    assert_user_error(result, "seq2seq-train", f"{files['train'][0]} has 200 lines", f"{files['valid'][1]} has 20")


def test_empty_split_is_named(tmp_path):
    files = write_corpus(tmp_path / "data")
    for path in files["valid"]:
        path.write_text("")
    result = run("seq2seq-train", *files_overrides(files), f"hydra.run.dir={tmp_path / 'run'}", cache=tmp_path)
    assert_user_error(result, "seq2seq-train", "split 'valid' is empty", str(files["valid"][0]))


def test_bucket_edges_must_increase(tmp_path):
    result = run("seq2seq-train", "data=files", "eval.bucket_edges=[0,10,10]", f"hydra.run.dir={tmp_path / 'run'}", cache=tmp_path)
    assert_user_error(result, "seq2seq-train", "eval.bucket_edges", "strictly increasing")


def test_eval_without_checkpoint_names_the_directory(tmp_path):
    (tmp_path / "not_a_run").mkdir()
    result = run("seq2seq-eval", str(tmp_path / "not_a_run"), cache=tmp_path)
    assert_user_error(result, "seq2seq-eval", str(tmp_path / "not_a_run"), "checkpoints/best.pt")


def test_too_small_vocabulary_names_the_key(tmp_path):
    files = write_corpus(tmp_path / "data")
    result = run("seq2seq-train", *files_overrides(files), "tokenizer.vocab_size=10", f"hydra.run.dir={tmp_path / 'run'}",
                 cache=tmp_path)
    assert_user_error(result, "seq2seq-train", "tokenizer.vocab_size=10")


def test_translate_prints_translations_and_writes_one_heatmap_per_sentence(trained):
    out = trained["base"] / "maps"
    result = run("seq2seq-translate", str(trained["run_dir"]), "eins zwei drei", "vier", "--heatmaps", str(out),
                 cache=trained["cache"])
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 2
    maps = sorted(out.glob("attention_*.png"))
    assert [m.name for m in maps] == ["attention_001.png", "attention_002.png"]
    assert all(m.read_bytes().startswith(b"\x89PNG") for m in maps)
    assert f"wrote 2 attention maps (attention_NNN.png) into {out}" in result.stderr  # issue 35: say where


def test_translate_says_plainly_that_a_plain_rnn_has_no_attention(tmp_path):
    files = write_corpus(tmp_path / "data")
    overrides = [o.replace("model=rnn_attention", "model=rnn") for o in SMALL_MODEL if "attention_size" not in o]
    run_dir = tmp_path / "run"
    trained = run("seq2seq-train", *files_overrides(files), *overrides, "train.max_epochs=1", f"hydra.run.dir={run_dir}",
                  cache=tmp_path / "cache")
    assert trained.returncode == 0, trained.stderr[-2000:]
    result = run("seq2seq-translate", str(run_dir), "eins", "--heatmaps", str(tmp_path / "maps"), cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert "no attention to show" in result.stderr
    assert not (tmp_path / "maps").exists()


def test_translate_without_sentences_is_a_user_error(trained):
    result = run("seq2seq-translate", str(trained["run_dir"]), cache=trained["cache"])
    assert_user_error(result, "seq2seq-translate", "nothing to translate")



def test_the_same_seed_repeats_a_run_exactly(trained, tmp_path):
    """A second run with the same config and seed logs the same losses and scores the same BLEU."""
    again = tmp_path / "again"
    result = run("seq2seq-train", *files_overrides(trained["files"]), *SMALL_MODEL, f"hydra.run.dir={again}",
                 cache=trained["cache"])
    assert result.returncode == 0, result.stderr[-2000:]

    def records(run_dir: Path) -> list[tuple]:
        rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
        return [(r["kind"], r["step"], r["loss"], r.get("bleu")) for r in rows]

    assert records(again) == records(trained["run_dir"])
    first = json.loads((trained["run_dir"] / "results.json").read_text())["splits"]["test"]
    second = json.loads((again / "results.json").read_text())["splits"]["test"]
    assert (second["bleu"], second["chrf"]) == (first["bleu"], first["chrf"])


def test_eval_with_beam_search_writes_beside_the_greedy_results_and_rejects_beam_zero(trained, tmp_path):
    """Issue 28: `seq2seq-eval RUN beam=3` keeps the run's greedy scores and hypotheses and records the beam."""
    run_dir = tmp_path / "run"
    shutil.copytree(trained["run_dir"], run_dir)
    before = json.loads((run_dir / "results.json").read_text())
    greedy_hypotheses = (run_dir / "hypotheses" / "test.txt").read_text()
    result = run("seq2seq-eval", str(run_dir), "beam=3", cache=trained["cache"])
    assert result.returncode == 0, result.stderr
    after = json.loads((run_dir / "results.json").read_text())
    assert after["splits"]["test"] == before["splits"]["test"]
    assert (run_dir / "hypotheses" / "test.txt").read_text() == greedy_hypotheses
    assert before["splits"]["test"]["decoding"]["search"] == "greedy"

    beam = after["splits"]["test.beam3"]
    assert beam["split"] == "test" and beam["decoding"]["search"] == "beam" and beam["decoding"]["beam_size"] == 3
    assert beam["checkpoint"] == before["splits"]["test"]["checkpoint"]
    meta = json.loads((run_dir / "meta.json").read_text())
    assert beam["code"]["source_sha256"] == meta["source_sha256"] == before["splits"]["test"]["code"]["source_sha256"]
    hypotheses = (run_dir / "hypotheses" / "test.beam3.txt").read_text().splitlines()
    references = trained["files"]["test"][1].read_text().splitlines()
    assert beam["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hypotheses, [references]).score)

    report = run("seq2seq-report", str(run_dir), "--out", str(tmp_path / "report"), cache=trained["cache"])
    assert report.returncode == 0, report.stderr[-2000:]
    assert "## Split `test`\n\nDecoding: greedy, every run." in report.stdout
    assert "## Split `test.beam3`\n\nDecoding: beam 3, length penalty 0.6, every run." in report.stdout
    assert_user_error(run("seq2seq-eval", str(run_dir), "beam=0", cache=trained["cache"]),
                      "seq2seq-eval", "eval.beam_size=0")


def test_runs_decoded_differently_are_compared_only_when_asked(trained, tmp_path):
    """A run whose own decoding is beam 3 is not set beside a greedy one without --mixed-decodings."""
    greedy, beam = tmp_path / "greedy", tmp_path / "beam"
    for run_dir in (greedy, beam):
        shutil.copytree(trained["run_dir"], run_dir)
    config = (beam / "config.yaml").read_text()
    (beam / "config.yaml").write_text(config.replace("beam_size: 1", "beam_size: 3"))
    assert run("seq2seq-eval", str(beam), cache=trained["cache"]).returncode == 0
    assert json.loads((beam / "results.json").read_text())["splits"]["test"]["decoding"]["beam_size"] == 3

    shown = {  # asked to mix, each column says its decoding: compare's columns are runs, the report's models
        "seq2seq-compare": "Decoding: greedy: greedy; beam: beam 3, length penalty 0.6.",
        "seq2seq-report": "| `rnn_attention [greedy]` | `rnn_attention [beam 3, length penalty 0.6]` |",
    }
    for program, line in shown.items():
        args = [str(greedy), str(beam), "--out", str(tmp_path / program)]
        assert_user_error(run(program, *args, cache=trained["cache"]), program, "'test'", "greedy: greedy",
                          "beam: beam 3, length penalty 0.6", "--mixed-decodings")
        mixed = run(program, *args, "--mixed-decodings", cache=trained["cache"])
        assert mixed.returncode == 0, mixed.stderr[-2000:]
        assert line in mixed.stdout


def test_compare_writes_csv_and_markdown_and_marks_only_real_differences(trained, tmp_path):
    """Baseline, an identical copy, and a copy whose hypotheses are the references (a far better system)."""
    runs = {name: tmp_path / name for name in ("base", "twin", "oracle")}
    for run_dir in runs.values():
        shutil.copytree(trained["run_dir"], run_dir)
    references = trained["files"]["test"][1].read_text(encoding="utf-8")
    (runs["oracle"] / "hypotheses" / "test.txt").write_text(references, encoding="utf-8")
    base_results = json.loads((runs["base"] / "results.json").read_text())["splits"]["test"]
    assert base_results["bleu"] < 90  # precondition: the tiny model is far from perfect
    assert base_results["bleu_ci"][0] <= base_results["bleu"] <= base_results["bleu_ci"][1]
    assert "slope" in base_results["length_sensitivity"]

    out = tmp_path / "out"
    result = run("seq2seq-compare", *map(str, runs.values()), "--test", "bs", "--out", str(out), cache=trained["cache"])
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout == (out / "comparison.md").read_text()

    import csv

    rows = list(csv.DictReader((out / "comparison.csv").open()))
    buckets = ["all"] + [row["bucket"] for row in base_results["by_length"]]
    assert [(r["run"], r["bucket"]) for r in rows] == [(run_name, b) for run_name in runs for b in buckets]
    by_key = {(r["run"], r["bucket"]): r for r in rows}
    assert float(by_key[("base", "all")]["bleu"]) == pytest.approx(base_results["bleu"])
    assert float(by_key[("oracle", "all")]["bleu"]) == pytest.approx(100.0)
    assert float(by_key[("oracle", "all")]["bleu_lc"]) == pytest.approx(100.0)  # lowercased, with its own test
    assert float(by_key[("base", "all")]["bleu_lc"]) == pytest.approx(base_results["bleu_lc"])
    assert by_key[("oracle", "all")]["bleu_lc_significant"] == "True"
    assert by_key[("base", "all")]["bleu_p"] == ""  # the baseline is not tested against itself
    assert by_key[("twin", "all")]["bleu_significant"] == "False" and float(by_key[("twin", "all")]["bleu_p"]) == 1.0
    assert by_key[("oracle", "all")]["bleu_significant"] == "True" and float(by_key[("oracle", "all")]["bleu_p"]) < 0.05
    assert by_key[("oracle", "20-29")]["count"] == "0" and by_key[("oracle", "20-29")]["bleu"] == ""
    assert float(by_key[("base", "all")]["slope_low"]) <= float(by_key[("base", "all")]["slope_high"])
    assert float(by_key[("oracle", "all")]["length_ratio"]) == 1.0  # the references themselves
    assert by_key[("base", "all")]["slope_difference"] == ""  # the baseline has no difference from itself
    assert float(by_key[("twin", "all")]["slope_difference"]) == 0.0  # the same outputs: paired resamples cancel
    assert float(by_key[("oracle", "all")]["slope_difference"]) == pytest.approx(
        float(by_key[("oracle", "all")]["slope"]) - float(by_key[("base", "all")]["slope"]))

    markdown = (out / "comparison.md").read_text().splitlines()
    oracle_all = next(line for line in markdown if line.startswith("| oracle | all |"))
    assert oracle_all.count("100.00*") == 3  # BLEU, lowercased BLEU and chrF
    assert not any("*" in line for line in markdown if line.startswith(("| base |", "| twin |")))
    assert sum(line.startswith("| base | ") for line in markdown) == len(buckets) + 1  # + its length-sensitivity row


def test_compare_errors_are_one_line(trained, tmp_path):
    run_dir = str(trained["run_dir"])
    assert_user_error(run("seq2seq-compare", run_dir, cache=trained["cache"]), "seq2seq-compare", "at least two run directories")
    assert_user_error(run("seq2seq-compare", run_dir, run_dir, "--split", "valid", cache=trained["cache"]),
                      "seq2seq-compare", "hypotheses/valid.txt not found", "seq2seq-eval")
    assert_user_error(run("seq2seq-compare", run_dir, run_dir, "--split", "test.beam5", cache=trained["cache"]),
                      "seq2seq-compare", f"run seq2seq-eval {run_dir} split=test beam=5 first")  # not split=test.beam5
    assert_user_error(run("seq2seq-compare", run_dir, str(tmp_path / "nope"), cache=trained["cache"]),
                      "seq2seq-compare", f"{tmp_path / 'nope'}: no such directory")
    other = tmp_path / "other"
    shutil.copytree(trained["run_dir"], other)
    files = write_corpus(tmp_path / "data", seed=1)
    config = (other / "config.yaml").read_text().replace(str(trained["files"]["test"][0]), str(files["test"][0]))
    (other / "config.yaml").write_text(config)
    assert_user_error(run("seq2seq-compare", run_dir, str(other), "--out", str(tmp_path), cache=trained["cache"]),
                      "seq2seq-compare", "different 'test' data")
    assert not (tmp_path / "comparison.md").exists()


def test_a_failing_job_does_not_stop_the_sweep(trained, tmp_path):
    """A bad value in one job of a multirun is recorded in that job's error.txt; the other job completes."""
    sweep = tmp_path / "sweep"
    result = run("seq2seq-train", "-m", *files_overrides(trained["files"]), *SMALL_MODEL, "train.max_epochs=1",
                 "model.decoder.cell=lstm,bogus", f"hydra.sweep.dir={sweep}", cache=trained["cache"])
    assert result.returncode == 0, result.stderr[-2000:]
    good, bad = sweep / "0_rnn_attention", sweep / "1_rnn_attention"
    assert json.loads((good / "results.json").read_text())["splits"]["test"]["sentences"] == SIZES["test"]
    assert not (bad / "results.json").exists()
    error = (bad / "error.txt").read_text()
    assert "model: cell='bogus'" in error and "gru, lstm" in error


def test_eval_fills_eval_keys_that_an_older_run_config_lacks(trained, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(trained["run_dir"], run_dir)
    config = (run_dir / "config.yaml").read_text()
    older = "\n".join(line for line in config.splitlines() if not line.strip().startswith(("beam_size:", "length_penalty:")))
    (run_dir / "config.yaml").write_text(older + "\n")
    result = run("seq2seq-eval", str(run_dir), cache=trained["cache"])
    assert result.returncode == 0, result.stderr[-2000:]
    original = json.loads((trained["run_dir"] / "results.json").read_text())["splits"]["test"]
    assert json.loads((run_dir / "results.json").read_text())["splits"]["test"]["bleu"] == original["bleu"]


@pytest.mark.parametrize(
    "override,named",
    [("train.schedule=cosine", "train.schedule='cosine'"), ("train.early_stopping_metric=chrf", "train.early_stopping_metric"),
     ("train.batch_tokens=0", "train.batch_tokens=0"), ("train.label_smoothing=1.5", "train.label_smoothing=1.5"),
     ("precision=fp8", "precision='fp8'")],
)
def test_impossible_training_settings_fail_before_any_data_is_read(tmp_path, override, named):
    """data=files with no paths would fail on reading: the settings error must come first."""
    result = run("seq2seq-train", "data=files", override, f"hydra.run.dir={tmp_path / 'run'}", cache=tmp_path)
    assert_user_error(result, "seq2seq-train", named)


def test_empty_lines_fail_policy_names_file_and_line_from_the_command_line(tmp_path):
    files = write_corpus(tmp_path / "data")
    src, _ = files["train"]
    lines = src.read_text(encoding="utf-8").splitlines()
    lines[4] = "   "
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("seq2seq-train", *files_overrides(files), *SMALL_MODEL, "data.empty_lines=fail",
                 f"hydra.run.dir={tmp_path / 'run'}", cache=tmp_path / "cache")
    assert_user_error(result, "seq2seq-train", f"{src}:5", "data.empty_lines=drop")
    # issue 35: the run directory says why it holds no results, instead of an empty train.log
    message = result.stderr.strip().removeprefix("seq2seq-train: error: ")
    assert (tmp_path / "run" / "error.txt").read_text() == message + "\n"
    assert f"[ERROR] - {message}" in (tmp_path / "run" / "train.log").read_text()


def test_reproduce_retrains_from_the_saved_config_and_matches_the_recorded_scores(trained, tmp_path):
    out = tmp_path / "again"
    result = run("seq2seq-reproduce", str(trained["run_dir"]), "--out", str(out), cache=trained["cache"])
    assert result.returncode == 0, result.stderr[-2000:]
    recorded = json.loads((trained["run_dir"] / "results.json").read_text())["splits"]["test"]
    reproduced = json.loads((out / "results.json").read_text())["splits"]["test"]
    assert abs(reproduced["bleu"] - recorded["bleu"]) <= 0.1
    assert [line.split()[:2] for line in result.stdout.splitlines()[-2:]] == [["test", "bleu"], ["test", "chrf"]]
    assert "differs" not in result.stdout


def test_a_run_stopped_by_its_time_budget_reproduces_exactly_by_its_recorded_updates(tmp_path):
    """Issue 35: a re-run from the config of a run that `train.max_minutes` stopped trains the updates the original
    made, not as many as its own clock allows; both the original's log and the re-run say so."""
    files = write_corpus(tmp_path / "data")
    run_dir = tmp_path / "timed"
    timed = run("seq2seq-train", *files_overrides(files), *SMALL_MODEL, "train.max_epochs=1000", "train.max_minutes=0.04",
                "train.patience=1000", f"hydra.run.dir={run_dir}", cache=tmp_path / "cache")
    assert timed.returncode == 0, timed.stderr[-2000:]
    training = json.loads((run_dir / "results.json").read_text())["training"]
    assert training["stopped_by"] == "max_minutes" and training["steps"] > 0
    log_text = (run_dir / "train.log").read_text()
    assert f"training stopped by the time budget (train.max_minutes=0.04) after {training['steps']:,} updates" in log_text

    out = tmp_path / "again"
    result = run("seq2seq-reproduce", str(run_dir), "--out", str(out), cache=tmp_path / "cache")
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert f"training exactly {training['steps']:,} updates instead" in result.stdout
    again = json.loads((out / "results.json").read_text())
    assert (again["training"]["steps"], again["training"]["stopped_by"]) == (training["steps"], "max_steps")
    recorded = json.loads((run_dir / "results.json").read_text())["splits"]["test"]
    assert (again["splits"]["test"]["bleu"], again["splits"]["test"]["chrf"]) == (recorded["bleu"], recorded["chrf"])


def test_training_logs_progress_where_no_bar_is_drawn_and_says_why_it_stopped(tmp_path):
    """Issue 35: under a launcher or with output to a file there is no terminal for a bar, so the log gets a
    periodic line with the updates, loss, speed and minutes left; the last line names the budget that ended it."""
    files = write_corpus(tmp_path / "data")
    run_dir = tmp_path / "run"
    result = run("seq2seq-train", *files_overrides(files), *SMALL_MODEL, "train.progress_seconds=0", "train.max_steps=7",
                 f"hydra.run.dir={run_dir}", cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr[-2000:]
    log_text = (run_dir / "train.log").read_text()
    lines = re.findall(r"step (\d+) / 7 updates \(epoch \d, \d+%\), loss [\d.]+, [\d,]+ target tokens/s, [\d.]+ minutes left",
                       log_text)
    assert [int(step) for step in lines] == list(range(1, 8))
    assert "training stopped by the update budget (train.max_steps=7) after 7 updates (1 whole epoch)" in log_text


def test_reproduce_reports_a_difference_and_exits_nonzero(trained, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(trained["run_dir"], run_dir)
    results = json.loads((run_dir / "results.json").read_text())
    results["splits"]["test"]["bleu"] += 5.0  # as if the recorded run had scored differently
    (run_dir / "results.json").write_text(json.dumps(results))
    result = run("seq2seq-reproduce", str(run_dir), cache=trained["cache"])
    assert result.returncode == 1
    assert "differs by more than 0.1" in result.stdout and "-5.00" in result.stdout
    assert (run_dir / "reproduced" / "results.json").is_file()
    again = run("seq2seq-reproduce", str(run_dir), cache=trained["cache"])
    assert_user_error(again, "seq2seq-reproduce", "is not empty")


def test_a_damaged_checkpoint_is_named_not_a_traceback(trained, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(trained["run_dir"], run_dir)
    best = run_dir / "checkpoints" / "best.pt"
    best.write_bytes(best.read_bytes()[: best.stat().st_size // 2])
    assert_user_error(run("seq2seq-eval", str(run_dir), cache=trained["cache"]), "seq2seq-eval", str(best), "damaged")


@pytest.mark.parametrize("override,named", [("train.lr=fast", "full_key: train.lr"),
                                            ("model.encoder.hidden_size=big", "hidden_size"),
                                            ("eval.beam_size=x", "full_key: eval.beam_size"),
                                            ("train.bacth_tokens=5", "full_key: train.bacth_tokens"),
                                            ("+eval.bootstrap.samples=5", "full_key: eval.bootstrap.samples")])
def test_a_value_of_the_wrong_type_names_its_key(tmp_path, override, named):
    """Hydra's message from the schemas (config_schema.py), on one line; `+KEY` gets past Hydra but not the pipeline."""
    files = write_corpus(tmp_path / "data")
    result = run("seq2seq-train", *files_overrides(files), *SMALL_MODEL, override, f"hydra.run.dir={tmp_path / 'run'}",
                 cache=tmp_path / "cache")
    assert_user_error(result, "seq2seq-train", named)
    assert not (tmp_path / "run" / "checkpoints").exists()  # nothing trained


def test_eval_names_a_misspelt_key_or_a_wrong_type_in_its_overrides(trained):
    """The run's config.yaml is read back through its schemas, so overrides are checked as at training."""
    for override, named in (("beam=x", "full_key: eval.beam_size"), ("eval.bucket_edgs=[0,5]", "full_key: eval.bucket_edgs")):
        assert_user_error(run("seq2seq-eval", str(trained["run_dir"]), override, cache=trained["cache"]), "seq2seq-eval", named)


def test_heads_that_do_not_divide_the_model_size_are_named(tmp_path):
    files = write_corpus(tmp_path / "data")
    result = run("seq2seq-train", *files_overrides(files), "model=transformer", "train=tiny", "tokenizer.vocab_size=100",
                 "model.encoder.d_model=30", "model.encoder.num_heads=4", f"hydra.run.dir={tmp_path / 'run'}",
                 cache=tmp_path / "cache")
    assert_user_error(result, "seq2seq-train", "model:", "d_model=30 is not divisible by num_heads=4")
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_a_joblib_sweep_runs_jobs_in_parallel_with_one_thread_each(trained, tmp_path):
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher")
    sweep = tmp_path / "sweep"
    result = run("seq2seq-train", "-m", *files_overrides(trained["files"]), *[o for o in SMALL_MODEL if not o.startswith("threads=")],
                 "train.max_epochs=1", "model.decoder.cell=gru,lstm", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                 f"hydra.sweep.dir={sweep}", "+hydra.callbacks.report._target_=seq2seq.reporting.callback.ReportWhenSweepEnds",
                 cache=trained["cache"])
    assert result.returncode == 0, result.stderr[-2000:]
    assert "BLEU by source length on 'test'" in result.stdout and "| source words | sentences |" in result.stdout
    assert (sweep / "report.md").is_file() and (sweep / "bleu_by_length.png").is_file()  # written when the sweep ended
    jobs = sorted(p.name for p in sweep.iterdir() if p.is_dir())
    assert jobs == ["0_rnn_attention", "1_rnn_attention"]
    for job in jobs:  # the two jobs' interleaved lines, each labelled with its run, and each run's settings at the end
        assert f"][{job} s1234][seq2seq.training.trainer][INFO] - training on cpu in " in result.stdout
        assert f"\n[{job} s1234] test: BLEU " in result.stdout  # its printed scores too, line by line
        assert f"{job} (rnn_attention cell=" in result.stdout.split("BLEU by source length")[-1]
    for job in jobs:
        assert (sweep / job / "results.json").is_file()
        assert f"threads: {max(1, (os.cpu_count() or 1) // 2)}" in (sweep / job / "config.yaml").read_text()


def test_a_probe_sweep_ends_with_a_warning_for_a_model_that_has_not_learnt_the_task(tmp_path):
    """Two updates leave the model far under the probe's calibration bar (80 BLEU on 0-9 words): the sweep's
    summary names it and its score, one line."""
    sweep = tmp_path / "sweep"
    result = run("seq2seq-train", "-m", "data=probe", "data.corpus.splits={train: 300, valid: 20, test: 60}",
                 *[o for o in SMALL_MODEL if o != "model=rnn_attention"], "model=rnn_attention", "train.max_steps=2",
                 "eval.bootstrap.resamples=10", f"hydra.sweep.dir={sweep}",
                 "+hydra.callbacks.report._target_=seq2seq.reporting.callback.ReportWhenSweepEnds", cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr[-2000:]
    short = json.loads((sweep / "0_rnn_attention" / "results.json").read_text())["splits"]["test"]["by_length"][0]
    assert short["bucket"] == "0-9" and short["bleu"] < 80
    records = (sweep / "0_rnn_attention" / "contrasts" / "test.tsv").read_text().splitlines()  # issue 33
    assert records[0].startswith("item\tkind\tlength\tdistance\tcell\treference\tcontrast") and len(records) > 60
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and warnings[0].startswith(
        f"warning: rnn_attention (0_rnn_attention, seed 1234) scores {short['bleu']:.2f} BLEU on 0-9 source words (bar 80)")
    assert warnings[0].endswith("on 'test', under the calibration bar: it has not learnt the task, so the fall with "
                                "length it shows is not clean evidence")


def test_runs_started_in_the_same_second_get_their_own_directories(tmp_path):
    env = {**os.environ, "SEQ2SEQ_CACHE": str(tmp_path / "cache")}
    processes = [subprocess.Popen([str(BIN / "seq2seq-train"), "data=files"], cwd=tmp_path, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(3)]
    assert [p.wait(timeout=120) for p in processes] == [2, 2, 2]  # each stops at the missing file paths
    run_dirs = [d for day in (tmp_path / "runs").iterdir() for d in day.iterdir()]
    assert len(run_dirs) == 3 and all((d / ".hydra" / "config.yaml").is_file() for d in run_dirs)


def test_train_max_words_drops_longer_training_pairs_but_scores_every_test_pair(tmp_path):
    """Bahdanau et al.'s RNNencdec-30/-50 protocol: train on short sources, test on all lengths."""
    files = write_corpus(tmp_path / "data")
    run_dir = tmp_path / "run"
    result = run("seq2seq-train", *files_overrides(files), *SMALL_MODEL, "data.train_max_words=5",
                 f"hydra.run.dir={run_dir}", cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr[-3000:]
    short = sum(len(line.split()) <= 5 for line in files["train"][0].read_text(encoding="utf-8").splitlines())
    assert 0 < short < SIZES["train"]
    assert json.loads((run_dir / "meta.json").read_text())["train_pairs"] == short
    assert json.loads((run_dir / "results.json").read_text())["splits"]["test"]["sentences"] == SIZES["test"]


def test_tune_search_chooses_the_length_penalty_on_validation_and_refuses_a_test_split(trained, tmp_path):
    run_dir, cache = tmp_path / "run", trained["cache"]
    shutil.copytree(trained["run_dir"], run_dir)
    result = run("seq2seq-tune-search", str(run_dir), "length_penalty=0,1.5", cache=cache)
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads((run_dir / "search_tuning" / "valid.beam5.json").read_text())
    assert [row["decoding"] for row in record["rows"]] == ["greedy", "beam 5, length penalty 0", "beam 5, length penalty 1.5"]
    best = max(record["rows"][1:], key=lambda row: row["bleu"])
    assert record["best_length_penalty"] == best["length_penalty"]
    assert record["apply"].endswith(f"split=test beam=5 eval.length_penalty={best['length_penalty']:g}")
    assert result.stdout == (run_dir / "search_tuning" / "valid.beam5.md").read_text()
    assert "wrote valid.beam5.md, valid.beam5.json into" in result.stderr
    # the greedy row is the score seq2seq-eval gives the same split with the run's own (greedy) decoding
    scored = run("seq2seq-eval", str(run_dir), "split=valid", cache=cache)
    assert scored.returncode == 0, scored.stderr[-2000:]
    valid = json.loads((run_dir / "results.json").read_text())["splits"]["valid"]
    assert record["rows"][0]["bleu"] == pytest.approx(valid["bleu"]) and record["rows"][0]["length_ratio"] == pytest.approx(
        valid["length_ratio"])
    assert_user_error(run("seq2seq-tune-search", str(run_dir), "split=test", cache=cache), "seq2seq-tune-search",
                      "split=test is a test split of this run", "split=valid")
    first = run("seq2seq-tune-search", str(run_dir), "sentences=5", "length_penalty=1", cache=cache)
    assert first.returncode == 0, first.stderr[-2000:]
    assert json.loads((run_dir / "search_tuning" / "valid.beam5.json").read_text())["sentences"] == 5
