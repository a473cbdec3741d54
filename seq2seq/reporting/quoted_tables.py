"""Result tables quoted in Markdown from committed reports, never typed: each follows a marker, either

    <!-- table: experiments/NAME/report.csv split=test measure=bleu view=length -->

for the table `seq2seq-report` prints from that report.csv (`wide_table`), or

    <!-- table: benchmarks/results/NAME.md number=1 -->

for the first (second, ...) Markdown table of a results file, as the benchmark wrote it. `requote`
rewrites them after an experiment or benchmark is recorded again
(python -m seq2seq.reporting.quoted_tables README.md); tests/test_readme_results.py checks them.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from seq2seq.reporting.tables import read_report_csv, wide_table

MARKER = re.compile(r"<!-- table: (\S+) (split=\S+ measure=\S+ view=\S+(?: no-all)?|number=\d+) -->")
REPORT_SELECTION = re.compile(r"split=(\S+) measure=(\S+) view=(\S+)( no-all)?")


@dataclass(frozen=True)
class QuotedTable:
    path: str           # the report.csv or results .md file, relative to the Markdown file's folder
    selection: str      # what of it: "split=S measure=M view=V[ no-all]" of a report, "number=N" of a results file
    start: int          # index of the table's first line
    lines: list[str]    # the table as quoted

    def expected(self, root: Path) -> list[str]:
        source = root / self.path
        if (report := REPORT_SELECTION.fullmatch(self.selection)) is not None:
            split, measure, view, no_all = report.groups()
            rows = [r for r in read_report_csv(source) if r["split"] == split]
            return wide_table(rows, measure, view, with_all=no_all is None)
        number = int(self.selection.removeprefix("number="))
        tables = markdown_tables(source.read_text(encoding="utf-8"))
        if not 1 <= number <= len(tables):
            raise ValueError(f"{self.path} has {len(tables)} Markdown table(s), not a table number {number}")
        return tables[number - 1]


def markdown_tables(markdown: str) -> list[list[str]]:
    """Every run of lines starting with '|', in order."""
    tables: list[list[str]] = []
    previous = ""
    for line in markdown.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append(line)
        previous = line
    return tables


def quoted_tables(markdown: str) -> list[QuotedTable]:
    tables, lines = [], markdown.splitlines()
    for number, line in enumerate(lines):
        if (match := MARKER.fullmatch(line.strip())) is None:
            continue
        end = number + 1
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
        tables.append(QuotedTable(*match.groups(), number + 1, lines[number + 1:end]))
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
