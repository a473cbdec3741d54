"""Report a sweep the moment its last job ends, so one command trains, compares and plots.

Registered as a Hydra callback (`hydra.callbacks`, e.g. in `conf/experiment/quick.yaml`): Hydra calls
`on_multirun_end` in the launching process after every job has returned, whatever the launcher.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from seq2seq.errors import UserError
from seq2seq.reporting.calibration import calibration_warnings
from seq2seq.reporting.markdown import against_published
from seq2seq.reporting.parity import parity_lines
from seq2seq.reporting.runs import Run, collect_runs
from seq2seq.reporting.sweep import write_report
from seq2seq.reporting.tables import REPORT_CSV, format_cell, read_report_csv, slope_lines, wide_table
from seq2seq.reporting.variants import variant_lines

log = logging.getLogger("seq2seq")


MAX_INTERVAL_WIDTH = 0.20  # a contrastive bucket whose 95% interval is wider (in accuracy) says too little to print


def readable_buckets(rows: list[dict[str, Any]], measure: str, view: str) -> tuple[list[dict[str, Any]], int]:
    """The rows of buckets where every interval shown (models and floor) is at most MAX_INTERVAL_WIDTH wide, and
    how many buckets were left out: on a few dozen pairs the main job's accuracies cannot be told from the floor."""
    chosen = [r for r in rows if r["measure"] == measure and r["view"] == view]
    wide = {r["bucket"] for r in chosen if r.get("ci") and r["ci"][1] - r["ci"][0] > MAX_INTERVAL_WIDTH + 1e-9}
    return [r for r in chosen if r["bucket"] not in wide], len(wide)


def headline_markdown(rows: list[dict[str, Any]], split: str) -> list[str]:
    """What the main job ends with: BLEU and the contrastive verb test by source length, models side by side,
    with each model's slope of BLEU on length, absolute and relative. The contrastive buckets are printed only
    where their intervals are narrow enough to read (`readable_buckets`)."""
    lines = [f"BLEU by source length on '{split}' (mean ± sd over seeds; one seed: its bootstrap interval in brackets):", ""]
    lines += wide_table(rows, "bleu", "length") + slope_lines(rows)
    for view in ("length", "distance"):
        if not any(r["measure"] == "contrastive_attractor" and r["view"] == view for r in rows):
            continue
        shown, left_out = readable_buckets(rows, "contrastive_attractor", view)
        by = "source length" if view == "length" else "subject–verb distance"
        lines += ["", f"Contrastive verb test (attractor), accuracy % by {by} (chance 50):", ""]
        lines += wide_table(shown, "contrastive_attractor", view, with_all=False) if shown else []
        if left_out:
            lines += [("" if not shown else "\n") + f"{left_out} bucket(s) by {by} left out: their 95% intervals are wider than "
                      f"{100 * MAX_INTERVAL_WIDTH:.0f} points, too few pairs to tell a model from the source-blind floor "
                      "(report.md has them); the recorded experiment (+experiment=context_loss, docs/probe.md) scores "
                      "enough pairs per bucket"]
    published = against_published(rows)
    return lines + (["", *published] if published else [])


def run_settings(runs: list[Run]) -> list[str]:
    """One line per finished run naming the precision it trained in and its torch threads, which decide its speed
    (and, for bf16, its numbers) but are chosen by the machine unless set."""
    lines = []
    for run in (r for r in runs if r.status == "finished"):
        threads = OmegaConf.select(run.config, "threads", default=None)
        lines.append(f"{run.name} ({run.model}, seed {run.seed}): precision {run.results.precision or 'not recorded'}, "
                     + ("torch's default threads" if threads is None else f"{threads} thread{'s' * (threads != 1)}"))
    return lines


class ReportWhenSweepEnds(Callback):
    """Write seq2seq-report's files into the sweep directory and print the headline tables."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep = Path(config.hydra.sweep.dir)
        written: list[Path] = []
        try:
            write_report([sweep], None, sweep, written=written)
        except UserError as error:
            log.error("no report: %s", error)
            return
        rows = read_report_csv(sweep / REPORT_CSV)  # what the report just computed, not a second pass over the scores
        runs = collect_runs([sweep])  # their precision, threads and short-sentence BLEU, which report.csv leaves out
        lines = [""]
        if rows:
            split = rows[0]["split"]
            lines += headline_markdown([r for r in rows if r["split"] == split], split) + [""]
            lines += run_settings(runs) + calibration_warnings(runs, split) + [""]
            lines += parity_lines([r for r in rows if r["split"] == split], format_cell)
            lines += variant_lines(runs, split)
        lines += [f"Report ({', '.join(path.name for path in written)}) in {sweep}"]
        print("\n".join(lines), flush=True)
