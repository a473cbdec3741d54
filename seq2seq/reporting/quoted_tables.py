"""Result tables quoted in Markdown from committed reports, never typed: each follows a marker

    <!-- table: experiments/NAME/report.csv split=test measure=bleu view=length -->

and equals the table `seq2seq-report` prints from that report.csv (`wide_table`). `requote` rewrites
them after an experiment is recorded again (python -m seq2seq.reporting.quoted_tables README.md);
tests/test_readme_results.py checks them.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from seq2seq.reporting.sweep import read_report_csv, wide_table

MARKER = re.compile(r"<!-- table: (\S+) split=(\S+) measure=(\S+) view=(\S+)( no-all)? -->")


@dataclass(frozen=True)
class QuotedTable:
    path: str           # the report.csv, relative to the Markdown file's folder
    split: str
    measure: str
    view: str
    with_all: bool      # the overall row first
    start: int          # index of the table's first line
    lines: list[str]    # the table as quoted

    def expected(self, root: Path) -> list[str]:
        rows = [r for r in read_report_csv(root / self.path) if r["split"] == self.split]
        return wide_table(rows, self.measure, self.view, with_all=self.with_all)


def quoted_tables(markdown: str) -> list[QuotedTable]:
    tables, lines = [], markdown.splitlines()
    for number, line in enumerate(lines):
        if (match := MARKER.fullmatch(line.strip())) is None:
            continue
        end = number + 1
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
        path, split, measure, view, no_all = match.groups()
        tables.append(QuotedTable(path, split, measure, view, no_all is None, number + 1, lines[number + 1:end]))
    return tables


def requote(markdown: str, root: Path) -> str:
    """The Markdown with every quoted table regenerated from its report.csv."""
    lines = markdown.splitlines()
    for table in reversed(quoted_tables(markdown)):
        lines[table.start:table.start + len(table.lines)] = table.expected(root)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    for name in sys.argv[1:]:
        path = Path(name)
        path.write_text(requote(path.read_text(encoding="utf-8"), path.resolve().parent), encoding="utf-8")
