"""Prose numbers tied to recorded files (seq2seq.reporting.quoted_numbers), on a small Markdown file and report."""

from __future__ import annotations

import pytest

from seq2seq.reporting.quoted_numbers import (cell_value, check_numbers, config_value, prose_mask, quote, report_value,
                                              requote_numbers)
from seq2seq.reporting.tables import report_csv

ROWS = [{"split": "test", "measure": "bleu", "view": "length", "bucket": bucket, "model": model, "seeds": 1,
         "count": count, "midpoint": None, "mean": mean, "std": None, "ci": None, "runs": ["0"]}
        for bucket, model, count, mean in [("0-9", "rnn", 10, 30.04), ("10-19", "rnn", 5, 21.5), ("20-29", "rnn", 0, None),
                                           ("0-9", "transformer", 10, 40.0)]]
TEXT = ("# Results\n\nThe plain RNN falls from 30.04 to 21.50 BLEU (15 sentences), beam 5.\n\n"
        "```bash\nseq2seq-train train.max_steps=3000\n```\n\nRun `seq2seq-eval beam=5`; speed 2.50× ([table](speed.md)).\n")


@pytest.fixture
def root(tmp_path):
    (tmp_path / "report.csv").write_text(report_csv(ROWS), encoding="utf-8")
    (tmp_path / "speed.md").write_text("| preset | ratio |\n|---|--:|\n| rnn | 2.50× |\n", encoding="utf-8")
    (tmp_path / "config.yaml").write_text("train:\n  max_steps: 3000\n", encoding="utf-8")
    return tmp_path


QUOTES = [
    quote("falls from {} to {} BLEU ({} sentences)", report_value("report.csv", "test", "bleu", "length", "0-9", "rnn"),
          report_value("report.csv", "test", "bleu", "length", None, "rnn", reduce=min),
          report_value("report.csv", "test", "bleu", "length", None, "rnn", reduce=sum, column="count", fmt="{:.0f}")),
    quote("speed {}×", cell_value("speed.md", 1, {"preset": "rnn"}, "ratio")),
]


def test_code_html_and_link_targets_are_not_prose():
    text = TEXT + "<!-- table: report.csv number=1 -->\n| 1 |\n"
    masked = prose_mask(text)
    assert len(masked) == len(text) and "3000" not in masked and "beam=5" not in masked and "| 1 |" not in masked
    assert "30.04" in masked and "2.50×" in masked


def test_quoted_and_fixed_numbers_pass_and_a_cell_with_nothing_scored_is_passed_over(root):
    assert check_numbers(TEXT, QUOTES, ["beam 5"], root, "R.md", "numbers.py") == []


def test_an_edited_quote_names_its_line_and_file_and_requote_restores_it(root):
    edited = TEXT.replace("21.50", "24.50")
    [problem] = check_numbers(edited, QUOTES, ["beam 5"], root, "R.md", "numbers.py")
    assert problem.startswith("R.md line 3 says 24.50") and "report.csv (split=test" in problem and "gives 21.50" in problem
    assert requote_numbers(edited, QUOTES, root) == TEXT


def test_a_number_neither_quoted_nor_fixed_and_a_vanished_phrase_are_reported(root):
    problems = check_numbers(TEXT.replace("beam 5", "beam 4"), QUOTES, ["beam 5"], root, "R.md", "numbers.py")
    assert problems == ["R.md no longer says the fixed phrase 'beam 5': change or remove it in numbers.py",
                        problems[1]]
    assert problems[1].startswith("R.md line 3: 4 is neither quoted from a recorded file nor a fixed number")


def test_a_value_its_file_lacks_or_that_differs_between_runs_is_reported(root):
    (root / "other.yaml").write_text("train:\n  max_steps: 1500\n", encoding="utf-8")
    quotes = [quote("falls from {} to", report_value("report.csv", "test", "bleu", "length", "0-9", "rnn_attention")),
              quote("max_steps={}", config_value(["config.yaml", "other.yaml"], "train.max_steps"))]
    problems = check_numbers(TEXT.replace("21.50 BLEU", "21.50 BLEU, max_steps=3000"), quotes, [], root, "R.md", "n.py")
    assert "cannot read report.csv" in problems[0] and "for rnn_attention" in problems[0]
    assert "cannot read train.max_steps in config.yaml, other.yaml" in problems[1] and "[3000, 1500]" in problems[1]
