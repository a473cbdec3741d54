"""Short-sentence parity on real corpora: before a fall with length is read as context loss, every model must
translate short sentences about as well as the best one.

On real data there is no ceiling like the probe's calibration bar (`reporting.calibration`), so the bar is
relative: on sources of up to 14 words, each model's BLEU must reach `PARITY_BAR` of the best model's.
A model below it has not learnt the language as well as the others, and its fall with length mixes that
with context loss (issue 37; on Multi30k's 0-9 words the recorded plain RNN has 73% of the Transformer's).
"""

from __future__ import annotations

from typing import Any

PARITY_BAR = 0.70       # share of the best model's BLEU on the short bucket
SHORT_BUCKET = "0-14"   # source words 0-14: the first bucket of the real-data experiments' edges (0, 15, ...)


def parity_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each model's BLEU on the short bucket (a report row: mean, std or ci), its share of the best model's
    mean, and whether it clears the bar; [] where the split has no such bucket or fewer than two models."""
    short = [r for r in rows if (r["measure"], r["view"], r["bucket"]) == ("bleu", "length", SHORT_BUCKET)
             and r["mean"] is not None]
    if len(short) < 2:
        return []
    best = max(r["mean"] for r in short)
    return [{"model": r["model"], "row": r, "share": r["mean"] / best if best > 0 else None,
             "clears": best > 0 and r["mean"] >= PARITY_BAR * best} for r in short]


def parity_lines(rows: list[dict[str, Any]], cell: Any) -> list[str]:
    """The report's parity section for one split (Markdown), `cell` formatting a row's BLEU with its spread."""
    table = parity_rows(rows)
    if not table:
        return []
    lines = [f"### Short-sentence parity ({SHORT_BUCKET} source words)", "",
             f"A fall with length says something about context only where the model translates short sentences "
             f"about as well as the others: the bar is {PARITY_BAR:.0%} of the best model's BLEU on {SHORT_BUCKET} "
             "source words.", "",
             "| model | BLEU | share of the best | clears the bar |", "|---|--:|--:|---|"]
    for entry in table:
        share = "-" if entry["share"] is None else f"{entry['share']:.0%}"
        lines.append(f"| `{entry['model']}` | {cell(entry['row'])} | {share} | {'yes' if entry['clears'] else '**no**'} |")
    return lines + [""]
