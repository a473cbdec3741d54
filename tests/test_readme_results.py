"""The documentation's results (README.md and docs/*.md) are quoted from committed files, never typed. Each
result table follows a marker

    <!-- table: experiments/NAME/report.csv split=test measure=bleu view=length -->

and must equal the table `seq2seq-report` prints from that report.csv (`wide_table`), number for number;
every number of the prose is a quote read from its file or a fixed phrase (tests/readme_numbers.py).
tests/test_recorded_reports.py ties the reports themselves to the runs and the runs to their hypotheses.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from readme_numbers import FIXED, PAGES, QUOTES
from seq2seq.reporting.quoted_numbers import PROSE_NUMBER, Value, check_numbers, check_pages, prose_mask, quote
from seq2seq.reporting.quoted_tables import MARKER, quoted_tables, requote
from seq2seq.reporting.tables import read_report_csv

ROOT = Path(__file__).resolve().parent.parent
TEXTS = {str(page.relative_to(ROOT)): page.read_text(encoding="utf-8") for page in PAGES}
README = TEXTS["README.md"]
TABLES = [(name, table) for name, text in TEXTS.items() for table in quoted_tables(text)]
README_TABLES = quoted_tables(README)
REGISTRY = "tests/readme_numbers.py"


@pytest.mark.parametrize("name,table", TABLES, ids=[f"{name}:{t.path}:{t.selection}" for name, t in TABLES])
def test_every_quoted_table_matches_its_report(name, table):
    assert (ROOT / table.path).is_file(), f"{name} quotes {table.path}, which is not committed"
    assert table.lines == table.expected(ROOT), f"{name}: table from {table.path} differs"


@pytest.mark.parametrize("name", TEXTS)
def test_every_result_table_of_the_documentation_is_quoted_from_a_report(name):
    """A table of model columns (`rnn` ...) or of speeds (tok/s, sentences/s) without a marker would be typed by hand."""
    markdown = TEXTS[name].splitlines()
    for number, line in enumerate(markdown):
        results = any(word in line for word in ("`rnn`", "tok/s", "sentences/s"))
        if line.startswith("|") and results and (number == 0 or not markdown[number - 1].startswith("|")):
            assert MARKER.fullmatch(markdown[number - 1].strip()), f"{name} line {number + 1}: a result table without a marker"


def test_every_number_of_the_documentations_prose_is_quoted_from_a_recorded_file_or_a_fixed_phrase():
    problems = check_pages(TEXTS, QUOTES, FIXED, ROOT, REGISTRY)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", TEXTS)
def test_any_number_of_the_prose_edited_by_one_digit_fails_on_its_line(name):
    """The check is real for every number, not just a sample: each is edited in turn (its last digit)."""
    read_once = [quote(q.template, *(Value(v.source, lambda _, text=v.compute(ROOT): text) for v in q.values))
                 for q in QUOTES]
    text = TEXTS[name]
    for number in PROSE_NUMBER.finditer(prose_mask(text)):
        end, line = number.end(), text.count("\n", 0, number.start()) + 1
        edited = text[:end - 1] + str((int(text[end - 1]) + 1) % 10) + text[end:]
        problems = check_numbers(edited, read_once, FIXED, ROOT, name, REGISTRY, require_all=False)
        assert any(re.match(rf"{re.escape(name)} line {line}\b", problem) for problem in problems), (number.group(), line)


def test_the_check_covers_more_than_a_handful_of_numbers():
    assert sum(len(list(PROSE_NUMBER.finditer(prose_mask(text)))) for text in TEXTS.values()) > 100


def test_a_quote_no_page_says_any_more_fails():
    problems = check_pages({"README.md": README}, QUOTES, FIXED, ROOT, REGISTRY)
    assert any(problem.startswith("no page says") for problem in problems), "the other pages' quotes are missing"


def test_a_typed_result_table_or_sentence_fails():
    table = "\n| model | BLEU |\n|---|--:|\n| `rnn` | 25.86 |\n"
    sentence = "\nOn Multi30k the plain RNN reaches 26.1 BLEU.\n"
    for typed in (table, sentence):
        problems = check_numbers(README + typed, QUOTES, FIXED, ROOT, "README.md", REGISTRY, require_all=False)
        assert len(problems) == 1 and "is neither quoted from a recorded file nor a fixed number" in problems[0], problems


def test_a_results_table_is_quoted_as_the_benchmark_wrote_it(tmp_path):
    (tmp_path / "speed.md").write_text("# Speed\n\n| a | b |\n|---|--:|\n| x | 1.50× |\n\nnote\n\n| c |\n|---|\n| y |\n")
    quoted = "intro\n<!-- table: speed.md number=2 -->\n| c |\n|---|\n| y |\n\nafter\n"
    [table] = quoted_tables(quoted)
    assert (table.path, table.selection, table.lines) == ("speed.md", "number=2", ["| c |", "|---|", "| y |"])
    assert table.lines == table.expected(tmp_path)
    stale = quoted.replace("number=2", "number=1")
    assert requote(stale, tmp_path) == stale.replace("| c |\n|---|\n| y |", "| a | b |\n|---|--:|\n| x | 1.50× |")
    with pytest.raises(ValueError, match="speed.md has 2 Markdown table"):
        quoted_tables(quoted.replace("number=2", "number=3"))[0].expected(tmp_path)


def test_an_edited_number_fails_and_requote_restores_it():
    """The check is real: change one digit of a quoted table and it no longer matches; requote rewrites it."""
    if not README_TABLES:
        pytest.skip("the README quotes no report yet")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = README_TABLES[0]
    row = table.lines[-1]
    last = max(i for i, char in enumerate(row) if char.isdigit())  # the last digit of the last model's score
    edited_row = row[:last] + str((int(row[last]) + 1) % 10) + row[last + 1:]
    lines = readme.splitlines()
    lines[table.start + len(table.lines) - 1] = edited_row
    edited = "\n".join(lines) + "\n"
    assert quoted_tables(edited)[0].lines != table.expected(ROOT)
    assert requote(edited, ROOT) == readme


def test_the_recorded_probe_meets_the_calibration_targets_the_readme_says_it_meets():
    """Issue 14's instrument check, on the committed experiments/context_loss/report.csv (mean over seeds),
    as the README states it: every preset learns the task on short sentences (>= 80 BLEU on 0-9 words,
    >= 90% on the random-verb contrast at subject–verb distance 0-4); the attention RNN and the Transformer
    also place the verb in its clause (>= 90% on the attractor contrast at 0-4), and the plain RNN does not."""
    path = ROOT / "experiments" / "context_loss" / "report.csv"
    rows = {(r["split"], r["measure"], r["view"], r["bucket"], r["model"]): r["mean"] for r in read_report_csv(path)}
    for model in ("rnn", "rnn_attention", "transformer"):
        assert rows["test", "bleu", "length", "0-9", model] >= 80, model
        assert rows["test", "contrastive_random", "distance", "0-4", model] >= 0.9, model
    for model in ("rnn_attention", "transformer"):
        assert rows["test", "contrastive_attractor", "distance", "0-4", model] >= 0.9, model
    assert rows["test", "contrastive_attractor", "distance", "0-4", "rnn"] < 0.9


@pytest.mark.xfail(strict=True, reason="issue 37, open: in the debian_docs record the plain RNN is under the bar (its dev "
                   "BLEU levelled off within one session's budget, a larger one learnt more slowly; see "
                   "experiments/context_loss_debian_docs/README.md); strict, so that this marker goes once the bar holds")
def test_the_recorded_debian_docs_presets_clear_short_sentence_parity():
    """Issue 37: before any length claim on real data, every preset's BLEU on 0-14 source words reaches 70% of the
    best preset's, in the committed report of experiments/context_loss_debian_docs (each split, beam and greedy)."""
    from seq2seq.reporting.parity import PARITY_BAR, parity_rows

    path = ROOT / "experiments" / "context_loss_debian_docs" / "report.csv"
    if not path.is_file():
        pytest.skip("experiments/context_loss_debian_docs is not recorded yet (issue 37)")
    rows = read_report_csv(path)
    for split in dict.fromkeys(row["split"] for row in rows):
        table = parity_rows([row for row in rows if row["split"] == split and "train_max_words" not in row["model"]])
        assert len(table) == 3, f"{split}: the three presets' 0-14-word BLEU"
        below = [f"{entry['model']} {entry['share']:.0%}" for entry in table if not entry["clears"]]
        assert not below, f"{split}: under {PARITY_BAR:.0%} of the best preset's BLEU on 0-14 words: {below}"
