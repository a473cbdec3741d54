"""seq2seq-compare's contrastive section: each run's contrastive verb test side by side, read from results.json."""

from __future__ import annotations

import json

from test_report import contrastive_result

from seq2seq.reporting.compare import contrastive_markdown


def test_contrastive_tests_of_the_runs_are_tabled_side_by_side_and_absent_ones_skipped(tmp_path):
    runs = {}
    for name, attractor in (("rnn", [0.9, 0.6]), ("rnn_attention", [1.0, 0.95]), ("files_run", None)):
        (tmp_path / name).mkdir()
        split = {"bleu": 1.0} if attractor is None else {"bleu": 1.0, "contrastive": contrastive_result(attractor)}
        (tmp_path / name / "results.json").write_text(json.dumps({"model": name, "data": "probe", "splits": {"test": split}}))
        runs[name] = tmp_path / name
    lines = contrastive_markdown("test", runs).splitlines()
    assert "| run | kind | by | bucket | pairs | accuracy % | 95% CI |" in lines  # percent, as the report prints it
    assert "| rnn | attractor | distance | 5-9 | 20 | 60.0 | [50.0, 70.0] |" in lines
    assert "| rnn_attention | attractor | all | all | 40 | 97.5 | [40.0, 90.0] |" in lines
    assert not any(line.startswith("| files_run ") for line in lines)
    assert contrastive_markdown("test", {"files_run": runs["files_run"]}) == ""
