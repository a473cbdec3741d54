"""HTML building blocks for pages that open offline: inline CSS, PNGs inlined as data URIs, no scripts or fonts.

A report is copied, mailed and committed; a page that fetched anything would break the first time it
left the machine it was written on, so everything it shows is inside the one file.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 80em; padding: 0 1em; color: #222; line-height: 1.4; }
h1, h2, h3 { font-weight: 600; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: 90%; }
th, td { border: 1px solid #ccc; padding: .25em .6em; vertical-align: top; }
th { background: #f3f3f3; } td.number { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; border: 1px solid #eee; }
figure { display: inline-block; margin: .5em 1em .5em 0; vertical-align: top; }
mark { background: #ffd6a5; } .significant { font-weight: 700; } .note { color: #555; font-size: 90%; }
.example { border-left: 3px solid #ccc; margin: .8em 0; padding: .2em .8em; }
.example .reason { color: #555; font-size: 85%; } .example td { border: none; padding: .1em .6em .1em 0; }
.missing { color: #a00; } pre { background: #f7f7f7; padding: .6em; overflow-x: auto; font-size: 85%; }
"""


def escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def page(title: str, body: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def heading(level: int, text: str, anchor: str | None = None) -> str:
    ident = f' id="{escape(anchor)}"' if anchor else ""
    return f"<h{level}{ident}>{escape(text)}</h{level}>"


def paragraph(text: str, css: str | None = None) -> str:
    return f'<p class="{css}">{escape(text)}</p>' if css else f"<p>{escape(text)}</p>"


def table(header: list[str], rows: list[list[str]], numeric_from: int = 1) -> str:
    """A table of text cells (escaped); columns from `numeric_from` on are right-aligned numbers."""
    def cell(index: int, text: str) -> str:
        css = ' class="number"' if index >= numeric_from else ""
        return f"<td{css}>{escape(text)}</td>"

    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(i, c) for i, c in enumerate(row)) + "</tr>\n" for row in rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"


def markdown_table(lines: list[str]) -> str:
    """A Markdown pipe table (as the reports write them) as HTML: one source of numbers for both formats."""
    def cells(line: str) -> list[str]:
        parts = line.strip().replace("\\|", "\0").strip("|").split("|")
        return [p.strip().replace("\0", "|").replace("`", "").replace("**", "") for p in parts]

    return table(cells(lines[0]), [cells(line) for line in lines[2:]])


def image(path: Path, alt: str, caption: str | None = None) -> str:
    """A PNG inlined as a data URI, in a figure with an optional caption."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    picture = f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'
    return f"<figure>{picture}" + (f"<figcaption>{escape(caption)}</figcaption>" if caption else "") + "</figure>"


def details(summary: str, content: str) -> str:
    return f"<details><summary>{escape(summary)}</summary>\n{content}\n</details>"


def preformatted(text: str) -> str:
    return f"<pre>{escape(text)}</pre>"


def marked_words(words: list[tuple[str, bool]]) -> str:
    """Words joined by spaces, those flagged True inside <mark>."""
    return " ".join(f"<mark>{escape(w)}</mark>" if flagged else escape(w) for w, flagged in words)
