"""Scores name what produced them: the checkpoint's weights and the decoding (results.json), and the code (meta.json)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from seq2seq.provenance import (data_split, decoding_label, decoding_record, eval_arguments, result_key,
                                 splits_to_score)
from seq2seq.reporting.sweep import write_report
from seq2seq.run_dir import source_sha256

REPO = Path(__file__).resolve().parents[1]
GREEDY = decoding_record({"beam_size": 1, "length_penalty": 0.6, "max_length_ratio": 1.5, "max_length_offset": 10,
                          "max_output_length": 1024, "max_source_length": None, "long_sources": "truncate"})


def decoding(**changes) -> dict:
    return decoding_record({**GREEDY, **changes})


def test_a_decoding_other_than_the_runs_own_gets_a_key_that_says_how_it_differs():
    beam5 = decoding(beam_size=5)
    assert result_key("test", GREEDY, GREEDY) == "test"
    assert result_key("test", decoding(length_penalty=1.0), GREEDY) == "test"  # greedy search has no length penalty
    assert result_key("test", beam5, GREEDY) == "test.beam5"
    assert result_key("test", decoding(beam_size=5, length_penalty=1.0), GREEDY) == "test.beam5_lp1.0"
    assert result_key("test", GREEDY, beam5) == "test.greedy"
    assert result_key("test", decoding(max_length_ratio=2.0, max_source_length=100), GREEDY) == "test.greedy_ratio2.0_maxsrc100"
    assert result_key("test", decoding(beam_size=5, long_sources="skip"), GREEDY) == "test.beam5_skip"
    assert data_split("test.beam5", {"split": "test"}) == "test" and data_split("valid", {}) == "valid"
    assert decoding_label(beam5) == "beam 5, length penalty 0.6" and decoding_label(None) == "unknown"
    assert decoding_label(decoding(max_output_length=50), against=GREEDY) == "greedy, max_output_length=50"


def test_every_key_names_the_seq2seq_eval_arguments_that_write_it():
    """Issue 35: a report suggested `seq2seq-eval RUN split=test.beam5`, which fails: the corpus has no such split."""
    assert eval_arguments("test") == "split=test" and eval_arguments("test_2016_flickr") == "split=test_2016_flickr"
    assert eval_arguments("test.beam5") == "split=test beam=5"
    assert eval_arguments("test.greedy") == "split=test beam=1"
    assert eval_arguments("test.beam5_lp1.0") == "split=test beam=5 eval.length_penalty=1.0"
    assert (eval_arguments("test.greedy_ratio2.0_maxsrc100")
            == "split=test beam=1 eval.max_length_ratio=2.0 eval.max_source_length=100")
    assert eval_arguments("test.beam5_skip_maxoutnone") == ("split=test beam=5 eval.long_sources=skip "
                                                           "eval.max_output_length=null")
    assert eval_arguments("news.2019") == "split=news.2019"  # a dotted split name is not a decoding key


def test_only_splits_scored_by_other_weights_or_another_decoding_are_scored_again():
    best = {"path": "checkpoints/best.pt", "epoch": 3, "step": 30, "weights_sha256": "new"}
    older = {**best, "epoch": 1, "step": 10, "weights_sha256": "old"}
    beam5 = decoding(beam_size=5)
    scored = {"test": {"bleu": 1.0, "split": "test", "decoding": GREEDY, "checkpoint": best},
              "test.beam5": {"bleu": 2.0, "split": "test", "decoding": beam5, "checkpoint": best}}
    # a kill during evaluation: the same best checkpoint, so only what is missing
    assert splits_to_score(scored, ["test", "valid"], best, GREEDY) == {"valid": ("valid", GREEDY)}
    # training moved on: everything the old weights scored, each in its own decoding
    stale = {key: {**entry, "checkpoint": older} for key, entry in scored.items()}
    assert splits_to_score(stale, ["test"], best, GREEDY) == {"test": ("test", GREEDY), "test.beam5": ("test", beam5)}
    # the run's own decoding changed (resumed with eval.beam_size=5): its splits are decoded anew
    assert splits_to_score(scored, ["test"], best, beam5) == {"test": ("test", beam5)}
    # an entry written before scores named their checkpoint: unknown, so scored again
    assert splits_to_score({"test": {"bleu": 1.0}}, ["test"], best, GREEDY) == {"test": ("test", GREEDY)}


def test_a_copy_of_the_tree_without_git_names_its_code_by_a_hash_of_the_source(tmp_path):
    copy = tmp_path / "src"
    shutil.copytree(REPO / "seq2seq", copy / "seq2seq", ignore=shutil.ignore_patterns("__pycache__"))
    script = "import json, seq2seq; from seq2seq.run_dir import run_metadata; print(json.dumps([seq2seq.__file__, run_metadata()]))"

    def metadata() -> tuple[str, dict]:
        env = {**os.environ, "PYTHONPATH": str(copy)}
        result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        return json.loads(result.stdout)

    imported, meta = metadata()
    assert Path(imported).is_relative_to(copy)
    assert meta["git"]["commit"] is None  # no .git above the copy
    assert meta["source_sha256"] == source_sha256(REPO / "seq2seq") == source_sha256(copy / "seq2seq")
    (copy / "seq2seq" / "decoding.py").write_text((REPO / "seq2seq" / "decoding.py").read_text() + "# edited\n")
    assert metadata()[1]["source_sha256"] != source_sha256(REPO / "seq2seq")


@pytest.mark.parametrize("experiment", ["context_loss_multi30k", "context_loss_wmt_ted_h200"])
def test_committed_runs_without_provenance_still_report(experiment, tmp_path):
    """results.json files recorded before checkpoints and decodings were named read as `unknown`, never a crash."""
    markdown = write_report([REPO / "experiments" / experiment], None, tmp_path)
    assert "Decoding: unknown, every run (results.json does not record it)." in markdown


@pytest.mark.parametrize("experiment", ["context_loss", "quick"])
def test_a_committed_run_with_provenance_reports_its_decoding(experiment, tmp_path):
    """experiments/context_loss and quick were scored after each split began to record its decoding."""
    markdown = write_report([REPO / "experiments" / experiment], None, tmp_path)
    assert "Decoding: greedy, every run." in markdown
