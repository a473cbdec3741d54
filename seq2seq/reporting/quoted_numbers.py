"""Numbers in Markdown prose tied to the recorded files they come from.

Quoted tables (`quoted_tables`) cover a README's tables, but a sentence such as "92.9% at distance 1–4
to 84.0% at 20–29" carries results too, and a typed number is as easy to get wrong there. So every
number of the prose must be accounted for: it lies in a `Quote`, a phrase whose `{}` fields are
computed from recorded files (a report.csv, a results table, a run's config), or in a *fixed* phrase, a
setting, citation or definition that no run records. A number in neither, a quoted field that differs
from its file, and a listed phrase no longer in the text are each reported with their line and what to
do; `requote_numbers` rewrites the quoted fields from the files. Code (fenced or inline), HTML, link
targets and quoted tables are not prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from omegaconf import OmegaConf

from seq2seq.reporting.quoted_tables import markdown_tables, quoted_tables
from seq2seq.reporting.tables import read_report_csv

NUMBER = r"[-+−]?\d+(?:,\d{3})*(?:\.\d+)?"
PROSE_NUMBER = re.compile(rf"(?<![\w.,]){NUMBER}")
NOT_PROSE = re.compile(r"<!--.*?-->|</?[A-Za-z][^>\n]*>|`[^`\n]*`|\]\([^)\n]*\)", re.DOTALL)
Format = Callable[[float], str]


@dataclass(frozen=True)
class Value:
    """One field of a quote: the text its recorded file gives, and that file named for a reader (`source`)."""

    source: str
    compute: Callable[[Path], str]  # from the repository root


@dataclass(frozen=True)
class Quote:
    """A phrase of the prose, `{}` where a value from a recorded file stands; spaces match any line breaks."""

    template: str
    values: tuple[Value, ...]

    def pattern(self) -> re.Pattern[str]:
        parts = self.template.split("{}")
        if len(parts) != len(self.values) + 1:
            raise ValueError(f"quote {self.template!r} has {len(parts) - 1} fields for {len(self.values)} values")
        return re.compile(f"({NUMBER})".join(_literal(part) for part in parts))


def quote(template: str, *values: Value) -> Quote:
    return Quote(template, values)


def _literal(text: str) -> str:
    return r"\s+".join(re.escape(word) for word in text.split(" "))


def _formatted(number: float, fmt: str | Format) -> str:
    return fmt(number) if callable(fmt) else fmt.format(number)


def report_value(path: str, split: str, measure: str, view: str, buckets: str | Sequence[str] | None,
                 models: str | Sequence[str] | None, *, reduce: Callable[[list[float]], float] | None = None,
                 column: str = "mean", scale: float = 1.0, fmt: str | Format = "{:.2f}") -> Value:
    """A report.csv cell as the prose prints it, or `reduce` (the lowest, a sum) over several: `buckets` and
    `models` name one or some, None every one the report has; cells with nothing scored are passed over."""
    buckets, models = (None if b is None else [b] if isinstance(b, str) else list(b) for b in (buckets, models))

    def compute(root: Path) -> str:
        rows = [r for r in read_report_csv(root / path) if (r["split"], r["measure"], r["view"]) == (split, measure, view)]
        missing = ([b for b in buckets or [] if b not in {r["bucket"] for r in rows}]
                   + [m for m in models or [] if m not in {r["model"] for r in rows}])
        numbers = [float(r[column]) for r in rows if r[column] not in (None, "")  # ci_low/ci_high are read as text
                   and (buckets is None or r["bucket"] in buckets) and (models is None or r["model"] in models)]
        if missing or not numbers:
            raise ValueError(f"{path} has no {column} at split={split} measure={measure} view={view} "
                             f"for {', '.join(missing) or 'any bucket and model'}")
        return _formatted(scale * (reduce or _only)(numbers), fmt)

    return Value(f"{path} (split={split} measure={measure} view={view} bucket={'/'.join(buckets or ['any'])} "
                 f"model={'/'.join(models or ['any'])} {column})", compute)


def table_rows(path: Path, number: int) -> list[dict[str, str]]:
    """The `number`th Markdown table of a file as one dict per row, header to cell text."""
    table = markdown_tables(path.read_text(encoding="utf-8"))[number - 1]
    header, _, *rows = ([cell.strip() for cell in line.strip().strip("|").split("|")] for line in table)
    return [dict(zip(header, row)) for row in rows]


def cell_value(path: str, number: int, row: dict[str, str], column: str) -> Value:
    """A cell of a results table as the table prints its number (the unit, × or %, left to the phrase)."""
    def compute(root: Path) -> str:
        matches = [r for r in table_rows(root / path, number) if all(r.get(k) == v for k, v in row.items())]
        if len(matches) != 1:
            raise ValueError(f"{path} table {number} has {len(matches)} rows where {row}")
        cell = matches[0][column]
        found = re.search(NUMBER, cell)
        if found is None:
            raise ValueError(f"{path} table {number}, {row}, column {column!r}: {cell!r} holds no number")
        return found.group()

    return Value(f"{path} table {number}, row {row}, column {column!r}", compute)


def config_value(paths: str | Sequence[str], key: str, fmt: str | Format = "{}") -> Value:
    """A setting the recorded runs shared (every run's config.yaml must agree)."""
    paths = [paths] if isinstance(paths, str) else list(paths)

    def compute(root: Path) -> str:
        return _formatted(_only([OmegaConf.select(OmegaConf.load(root / p), key) for p in paths]), fmt)

    return Value(f"{key} in {', '.join(paths)}", compute)


def _only(values: list[Any]) -> Any:
    if len(set(values)) != 1:
        raise ValueError(f"the values differ ({values}): say which one, or give a reduce")
    return values[0]


def prose_mask(markdown: str) -> str:
    """The Markdown with everything that is not prose blanked (same length, line breaks kept): fenced code,
    inline code, HTML comments and tags, link targets, and the tables that follow a quote marker."""
    lines = markdown.split("\n")
    quoted = {table.start + n for table in quoted_tables(markdown) for n in range(len(table.lines))}
    fenced = False
    for number, line in enumerate(lines):
        fence = line.lstrip().startswith("```")
        if fenced or fence or number in quoted:
            lines[number] = " " * len(line)
        fenced ^= fence
    masked = "\n".join(lines)
    return NOT_PROSE.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), masked)


def check_pages(pages: dict[str, str], quotes: Sequence[Quote], fixed: Sequence[str], root: Path,
                registry: str) -> list[str]:
    """`check_numbers` over several pages (name -> Markdown): each page's numbers against the quotes and fixed
    phrases it holds, and every quote and phrase held by at least one page."""
    problems = [problem for name, markdown in pages.items()
                for problem in check_numbers(markdown, quotes, fixed, root, name, registry, require_all=False)]
    text = "\n".join(pages.values())
    problems += [f"no page says {item.template!r} any more: change the quote in {registry} to what a page says"
                 for item in quotes if not item.pattern().search(text)]
    problems += [f"no page says the fixed phrase {phrase!r} any more: change or remove it in {registry}"
                 for phrase in fixed if not re.search(_literal(phrase), text)]
    return problems


def check_numbers(markdown: str, quotes: Sequence[Quote], fixed: Sequence[str], root: Path, name: str,
                  registry: str, require_all: bool = True) -> list[str]:
    """Every problem with the prose's numbers, one line each naming the line of `name` and what to do; with
    `require_all`, also each quote and fixed phrase the page no longer says (`check_pages` asks it of all pages)."""
    problems, covered = [], []

    def line_of(offset: int) -> int:
        return markdown.count("\n", 0, offset) + 1

    for item in quotes:
        matches = list(item.pattern().finditer(markdown))
        if not matches and require_all:
            problems.append(f"{name} no longer says {item.template!r}: change the quote in {registry} to what it says")
        covered += [match.span() for match in matches]
        for field, value in enumerate(item.values, 1):
            try:
                expected = value.compute(root)
            except (OSError, ValueError, KeyError, IndexError) as error:
                problems.append(f"{name}: cannot read {value.source} for {item.template!r}: {error}")
                continue
            problems += [f"{name} line {line_of(match.start(field))} says {match.group(field)} in {item.template!r} "
                         f"where {value.source} gives {expected}: requote (python {registry}) if the file is right, "
                         "and reread the sentence" for match in matches if match.group(field) != expected]
    for phrase in fixed:
        matches = list(re.finditer(_literal(phrase), markdown))
        if not matches and require_all:
            problems.append(f"{name} no longer says the fixed phrase {phrase!r}: change or remove it in {registry}")
        covered += [match.span() for match in matches]
    for number in PROSE_NUMBER.finditer(prose_mask(markdown)):
        if not any(start <= number.start() and number.end() <= end for start, end in covered):
            line = line_of(number.start())
            problems.append(f"{name} line {line}: {number.group()} is neither quoted from a recorded file nor a fixed "
                            f"number ({markdown.split(chr(10))[line - 1].strip()[:100]!r}): if it is a result, quote it "
                            f"in a quoted table or add a quote naming its file to {registry}; if it is a setting, a "
                            f"citation or a definition, add its phrase to the fixed phrases there")
    return problems


def requote_numbers(markdown: str, quotes: Sequence[Quote], root: Path) -> str:
    """The Markdown with every quoted field rewritten from its file (the words around it are the author's)."""
    edits = []
    for item in quotes:
        expected = [value.compute(root) for value in item.values]
        for match in item.pattern().finditer(markdown):
            edits += [(match.start(field), match.end(field), text) for field, text in enumerate(expected, 1)]
    for start, end, text in sorted(edits, reverse=True):
        markdown = markdown[:start] + text + markdown[end:]
    return markdown
