"""seq2seq-rescore: a recorded run's hypotheses scored again under other length buckets, without its checkpoint,
give the same corpus scores, the new buckets, and back under the old buckets exactly what results.json held."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seq2seq.cli import rescore

RECORDED = Path(__file__).resolve().parent.parent / "experiments" / "reproduce" / "run"


def splits(run: Path) -> dict:
    return json.loads((run / "results.json").read_text(encoding="utf-8"))["splits"]


def files(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


def test_new_buckets_keep_the_corpus_scores_and_the_contrastive_test_and_leave_the_original_as_it_was(tmp_path, capsys):
    before = files(RECORDED)
    rescore([str(RECORDED), "eval.bucket_edges=[0,5,10]", "--out", str(tmp_path / "copy")])
    assert files(RECORDED) == before
    old, new = splits(RECORDED)["test"], splits(tmp_path / "copy")["test"]
    assert [row["bucket"] for row in new["by_length"]] == ["0-4", "5-9", "10+"]
    assert sum(row["count"] for row in new["by_length"]) == new["sentences"] == old["sentences"]
    for key in ("bleu", "chrf", "bleu_ci", "chrf_ci", "length_ratio", "contrastive", "verb_accuracy", "decoding",
                "checkpoint", "code"):
        assert new[key] == old[key], key
    assert new["by_length"] != old["by_length"]
    assert new["rescored"]["overrides"] == ["eval.bucket_edges=[0,5,10]"]
    assert "eval:\n" in (tmp_path / "copy" / "config.yaml").read_text() and "bucket_edges:\n  - 0\n  - 5\n  - 10\n" in (
        tmp_path / "copy" / "config.yaml").read_text()
    assert not (tmp_path / "copy" / "checkpoints").exists()
    assert "test: BLEU 18.31; by length: 0-4 " in capsys.readouterr().out


def test_rescoring_with_the_run_s_own_buckets_gives_back_what_results_json_held(tmp_path):
    """The copy rescored in place under the original edges: every recorded number comes back, so rescoring
    changes what the buckets are, never how a bucket is scored."""
    rescore([str(RECORDED), "eval.bucket_edges=[0,5,10]", "--out", str(tmp_path / "copy")])
    original = splits(RECORDED)["test"]
    edges = original["buckets"]["edges"]
    rescore([str(tmp_path / "copy"), f"eval.bucket_edges=[{','.join(map(str, edges))}]"])
    back = splits(tmp_path / "copy")["test"]
    back.pop("rescored")
    assert back == original


@pytest.mark.parametrize("override, named", [
    ("eval.beam_size=5", "'eval.beam_size=5': only eval.bucket_edges"),
    ("model.decoder.hidden_size=8", "'model.decoder.hidden_size=8': only"),
    ("eval.bucket_edges=[10,5]", "eval.bucket_edges:"),
])
def test_what_the_outputs_cannot_answer_is_refused_by_name(tmp_path, capsys, override, named):
    with pytest.raises(SystemExit) as ended:
        rescore([str(RECORDED), override, "--out", str(tmp_path / "copy")])
    assert ended.value.code == 2
    assert named in capsys.readouterr().err
    assert not (tmp_path / "copy").exists()


def test_a_run_without_its_hypotheses_or_into_a_used_folder_is_refused(tmp_path, capsys):
    used = tmp_path / "used"
    used.mkdir()
    (used / "x").write_text("kept")
    with pytest.raises(SystemExit):
        rescore([str(RECORDED), "eval.bucket_edges=[0,5]", "--out", str(used)])
    assert "exists and is not empty" in capsys.readouterr().err and (used / "x").read_text() == "kept"
    bare = tmp_path / "bare"
    rescore([str(RECORDED), "eval.bucket_edges=[0,5]", "--out", str(bare)])
    (bare / "hypotheses" / "test.txt").unlink()
    with pytest.raises(SystemExit):
        rescore([str(bare), "eval.bucket_edges=[0,10]"])
    assert "no hypotheses for test (hypotheses/KEY.txt)" in capsys.readouterr().err
