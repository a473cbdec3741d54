"""One report over a sweep: every model's scores by source length (and, on the probe, by distance), averaged over seeds.

A single training run says little about a model: seeds move BLEU by a point or more. So runs are
grouped by model and each (split, measure, bucket) gets the mean and the sample standard deviation
over seeds, plotted as BLEU against sentence length in the manner of Bahdanau et al. (2014, Fig. 2);
every seed's own score and bootstrap interval is kept beside them (runs.csv). Failed and unfinished
runs are listed, never dropped, so a gap in the sweep is visible.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seq2seq.data.probe.factorial import FACTORIAL_CELLS
from seq2seq.files import write_text
from seq2seq.reporting.decodings import label_by_decoding
from seq2seq.reporting.html_report import sweep_page
from seq2seq.reporting.markdown import report_markdown, split_markdown
from seq2seq.reporting.plots import (plot_against_published, plot_by_bucket, plot_cells, plot_factorial,
                                     plot_training_curves)
from seq2seq.reporting.runs import Run, choose_splits, collect_runs, group_by_model, runs_left_out
from seq2seq.reporting.tables import REPORT_CSV, aggregate, per_run_scores, published_pairs, published_rows, report_csv, runs_csv


def split_figures(split: str, rows: list[dict[str, Any]], unit: str, out: Path, prefix: str) -> list[str]:
    """The split's PNGs: BLEU by length, ours against published baselines (where the corpus names some),
    contrastive accuracy by distance and, on a grid or the factorial split, by cell."""
    figures = []
    bleu = [r for r in rows if r["measure"] == "bleu" and r["view"] == "length"]
    if bleu:
        plot_by_bucket(bleu, out / f"{prefix}bleu_by_length.png", f"source sentence length in {unit}", "BLEU",
                       f"BLEU by source length on '{split}': mean ± 1 sd over seeds (one seed: its bootstrap CI)")
        figures.append(f"{prefix}bleu_by_length.png")
    attractor = [r for r in rows if r["measure"] == "contrastive_attractor" and r["view"] == "distance"]
    if attractor:
        plot_by_bucket(attractor, out / f"{prefix}contrastive_accuracy.png", "subject–verb distance",
                       "contrastive accuracy (attractor)", f"Contrastive verb test on '{split}': mean ± 1 sd over seeds\n"
                       "(one seed: its bootstrap CI)", chance=0.5)
        figures.append(f"{prefix}contrastive_accuracy.png")
    scored = [(ours, published) for ours, published in published_pairs(rows) if ours is not None and ours["mean"] is not None]
    if scored:
        plot_against_published(scored, out / f"{prefix}against_published.png",
                               f"Ours on '{split}' against published baselines (black)\n"
                               "bars: mean ± 1 sd over seeds (one seed: its bootstrap CI)")
        figures.append(f"{prefix}against_published.png")
    cells = [r for r in rows if r["measure"] == "contrastive_attractor" and r["view"] == "cell"]
    if cells and {r["bucket"] for r in cells} <= set(FACTORIAL_CELLS):
        plot_factorial(cells, out / f"{prefix}contrastive_by_cell.png",
                       f"Attractor contrasts on '{split}': distance × attractor, mean over seeds")
        figures.append(f"{prefix}contrastive_by_cell.png")
    elif cells:
        plot_cells(cells, out / f"{prefix}contrastive_by_cell.png",
                   f"Contrastive verb test (attractor) on '{split}': distance at fixed length")
        figures.append(f"{prefix}contrastive_by_cell.png")
    return figures


def write_report(paths: list[Path], splits: list[str] | None, out: Path, html: bool = False,
                 mixed_decodings: bool = False, written: list[Path] | None = None) -> str:
    """Collect the runs under `paths`; write report.md, report.csv, runs.csv and the figures into `out`
    (with `html`, also report.html).

    Every split is reported (`splits` chooses some); the first split's figures keep plain names, later
    ones are prefixed with the split's name. Runs that decoded a split differently are refused unless
    `mixed_decodings` (see `reporting.decodings`). Returns the Markdown; `written`, where given, gets the paths
    of every file written, so that the caller can say where they are.
    """
    runs = collect_runs(paths)
    splits = choose_splits(runs, splits)
    label_by_decoding(runs, splits, mixed_decodings)
    rows = [row for split in splits for row in [*aggregate(runs, split), *published_rows(runs, split)]]
    scores = [score for split in splits for score in per_run_scores(runs, split)]
    figures: dict[str, list[str]] = {}
    for number, split in enumerate(splits):
        scored = [r.results.splits[split] for r in runs if r.status == "finished" and split in r.results.splits]
        unit = scored[0].get("buckets", {}).get("unit", "words") if scored else "words"  # none scored: no figures
        figures[split] = split_figures(split, [r for r in rows if r["split"] == split], unit, out,
                                       "" if number == 0 else f"{split}_")
    every_figure = [name for names in figures.values() for name in names]
    if any(r.valid for r in runs):
        plot_training_curves(runs, out / "training_curves.png")
        every_figure.append("training_curves.png")
    markdown = report_markdown(splits, runs, rows, scores, every_figure)
    write_text(out / "report.md", markdown)
    write_text(out / REPORT_CSV, report_csv(rows))
    write_text(out / "runs.csv", runs_csv(scores))
    if html:
        write_text(out / "report.html", report_html(splits, runs, rows, scores, figures, out))
    if written is not None:
        written += [out / name for name in ("report.md", REPORT_CSV, "runs.csv", *every_figure)]
        written += [out / "report.html"] if html else []
    return markdown


def report_html(splits: list[str], runs: list[Run], rows: list[dict[str, Any]], scores: list[dict[str, Any]],
                figures: dict[str, list[str]], out: Path) -> str:
    """The report as one page: the Markdown's tables, the figures, and per bucket paired tests, examples and maps."""
    sections = {split: split_markdown(split, runs, [r for r in rows if r["split"] == split],
                                      [s for s in scores if s["split"] == split])[2:] for split in splits}
    representatives = {split: {model: members[0].path for model, members in group_by_model(runs, split).items()}
                       for split in splits}
    curves = out / "training_curves.png" if any(r.valid for r in runs) else None
    return sweep_page(splits, sections, {split: [out / name for name in names] for split, names in figures.items()},
                      curves, representatives, {r.name: r.path for r in runs}, runs_left_out(runs, splits), out)
