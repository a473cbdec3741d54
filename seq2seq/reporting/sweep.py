"""One report over a sweep: every model's BLEU and chrF by source length, averaged over seeds.

A single training run says little about a model: seeds move BLEU by a point or more. So runs are
grouped by model and each (model, length bucket) gets the mean and the sample standard deviation
over seeds, plotted as BLEU against sentence length in the manner of Bahdanau et al. (2014, Fig. 2).
Failed and unfinished runs are listed, never dropped, so a gap in the sweep is visible.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from seq2seq.errors import UserError
from seq2seq.files import read_records, write_text
from seq2seq.reporting.plots import plot_by_bucket, plot_training_curves
from seq2seq.run_dir import Results, RunDir

METRICS = ("bleu", "chrf")


@dataclass
class Run:
    """What one run directory holds; `status` is finished (results.json), failed (error.txt) or running."""

    path: Path
    name: str
    model: str
    seed: Any
    status: str
    error: str | None = None
    results: Results | None = None
    valid: list[dict[str, Any]] = field(default_factory=list)  # metrics.jsonl's validation records


def _job_order(path: Path) -> tuple[int, str]:
    """Hydra names jobs 0_x, 1_x, ..., 10_x: sort by the number, not the string."""
    number = re.match(r"\d+", path.name)
    return (int(number.group()) if number else 1 << 30, path.name)


def find_run_dirs(paths: list[Path]) -> list[Path]:
    """Each path is a run directory or a directory of them (a multirun); duplicates count once."""
    found: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir():
            raise UserError(f"{path}: no such directory; give run directories or multirun directories")
        candidates = [path] if RunDir(path).is_run() else sorted((p for p in path.iterdir() if p.is_dir()), key=_job_order)
        found += [p for p in candidates if RunDir(p).is_run() and p.resolve() not in {f.resolve() for f in found}]
    if not found:
        raise UserError(f"no runs found under {', '.join(map(str, paths))}: expected directories with config.yaml "
                        "(seq2seq-train run directories, or multirun/DATE/TIME holding them)")
    return found


def load_run(path: Path, name: str) -> Run:
    """A run's state from its files: finished (results), failed (error.txt or damaged results) or running."""
    run_dir = RunDir(path)
    config_path = run_dir.config if run_dir.config.is_file() else run_dir.hydra_config
    config = OmegaConf.load(config_path) if config_path.is_file() else OmegaConf.create({})
    model, seed = OmegaConf.select(config, "model.name"), OmegaConf.select(config, "seed")
    valid = [record for record in read_records(run_dir.metrics) if record.get("kind") == "valid"]
    run = Run(path, name, str(model or "?"), seed, "running", valid=valid)
    try:
        run.results = run_dir.read_results()
    except UserError as error:
        run.status, run.error = "failed", str(error)
        return run
    if run.results is not None:
        run.status, run.model = "finished", str(run.results.model or run.model)
    elif (error := run_dir.read_error()) is not None:
        run.status, run.error = "failed", error
    return run


def collect_runs(paths: list[Path]) -> list[Run]:
    directories = find_run_dirs(paths)
    names = [d.name for d in directories]
    if len(set(names)) < len(names):  # the same job name in two sweeps: tell them apart by path
        names = [str(d) for d in directories]
    return [load_run(d, n) for d, n in zip(directories, names)]


def choose_split(runs: list[Run], split: str | None) -> str | None:
    """The requested split, or the first split of the first finished run (None when none finished)."""
    finished = [r for r in runs if r.status == "finished"]
    available = list(dict.fromkeys(s for r in finished for s in r.results.planned_splits))
    if split is None:
        return next(iter(finished[0].results.planned_splits), None) if finished else None
    if split not in available:
        raise UserError(f"no finished run has split '{split}' (found: {', '.join(available) or 'none'}); "
                        "choose one with --split, or add it with seq2seq-eval RUN split=" + split)
    return split


def mean_std(values: list[float]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (None from one value: one seed has no spread)."""
    if not values:
        return None, None
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def _summarise(model: str, bucket: str, runs: list[Run], entries: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, Any]:
    row: dict[str, Any] = {"model": model, "bucket": bucket, "runs": [r.name for r in runs]}
    for key in keys:
        values = [e[key] for e in entries if e.get(key) is not None]
        row[f"{key}_mean"], row[f"{key}_std"] = mean_std(values)
    row["seeds"] = sum(e.get(keys[0]) is not None for e in entries)  # runs with a score here (empty buckets have none)
    counts = {e.get("count", e.get("sentences")) for e in entries}
    row["sentences"] = counts.pop() if len(counts) == 1 else None  # seeds of one model share the data
    midpoints = [e["midpoint"] for e in entries if e.get("midpoint") is not None]
    row["midpoint"] = statistics.fmean(midpoints) if midpoints else None
    row["ci"] = entries[0].get("bleu_ci") if len(entries) == 1 else None  # the band for a single seed
    return row


def _by_bucket(sections: list[list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Entries of several runs' bucket lists, matched by bucket label (first run's order first)."""
    buckets: dict[str, list[dict[str, Any]]] = {}
    for section in sections:
        for entry in section:
            buckets.setdefault(entry["bucket"], []).append(entry)
    return buckets


def group_by_model(runs: list[Run], split: str) -> dict[str, list[Run]]:
    groups: dict[str, list[Run]] = {}
    for run in runs:
        if run.status == "finished" and split in run.results.splits:
            groups.setdefault(run.model, []).append(run)
    return groups


def aggregate(runs: list[Run], split: str) -> list[dict[str, Any]]:
    """One row per (model, bucket), "all" first: seeds, sentences and the mean/std of BLEU and chrF."""
    rows = []
    for model, members in group_by_model(runs, split).items():
        results = [r.results.splits[split] for r in members]
        rows.append(_summarise(model, "all", members, results, METRICS))
        for bucket, entries in _by_bucket([result["by_length"] for result in results]).items():
            rows.append(_summarise(model, bucket, members, entries, METRICS))
    return rows


def aggregate_verbs(runs: list[Run], split: str) -> list[dict[str, Any]]:
    """Main-verb accuracy per (model, subject–verb distance bucket), over the runs that measured it."""
    rows = []
    for model, members in group_by_model(runs, split).items():
        verbs = [r.results.splits[split]["verb_accuracy"] for r in members if "verb_accuracy" in r.results.splits[split]]
        measured = [r for r in members if "verb_accuracy" in r.results.splits[split]]
        for bucket, entries in _by_bucket([v["by_distance"] for v in verbs]).items():
            rows.append(_summarise(model, bucket, measured, entries, ("accuracy",)))
    return rows


def aggregate_contrastive(runs: list[Run], split: str) -> list[dict[str, Any]]:
    """Contrastive verb accuracy per (model, kind, view, bucket), "all" first, over the runs that measured it.

    Views are `distance` (subject–verb), `length` (source words) and, on the grid split, `cell` (length ×
    distance); a single seed keeps its bootstrap interval.
    """
    rows = []
    for model, members in group_by_model(runs, split).items():
        measured = [r for r in members if "contrastive" in r.results.splits[split]]
        tests = [r.results.splits[split]["contrastive"]["kinds"] for r in measured]
        for kind in dict.fromkeys(k for test in tests for k in test):
            tables = [test[kind] for test in tests if kind in test]
            sections = [("all", "all", [table["overall"] for table in tables])]
            for view in ("distance", "length", "cell"):
                sections += [(view, bucket, entries) for bucket, entries in
                             _by_bucket([table[f"by_{view}"] for table in tables if f"by_{view}" in table]).items()]
            for view, bucket, entries in sections:
                row = _summarise(model, bucket, measured, entries, ("accuracy",))
                row.update(kind=kind, view=view, ci=entries[0].get("ci") if len(entries) == 1 else None)
                rows.append(row)
    return rows


def unreported_runs(runs: list[Run], split: str | None) -> list[dict[str, str]]:
    """Runs not in the score tables, each with why: failed, still running, or missing the split."""
    listed = []
    for run in runs:
        status = {"running": "in progress"}.get(run.status, run.status)
        if run.status == "failed":
            detail = run.error or ""
        elif run.status == "running":
            last = run.valid[-1] if run.valid else None
            detail = "no validation yet" if last is None else f"last validation: epoch {last.get('epoch')}, BLEU {last.get('bleu', float('nan')):.2f}"
        elif split is not None and split not in run.results.splits:
            failed = run.results.failed_splits.get(split)
            if failed is not None:
                status, detail = "evaluation failed", f"'{split}': {failed}; fix it, then run seq2seq-eval {run.path}"
            elif split in run.results.pending_splits:
                status, detail = "evaluation unfinished", f"'{split}' not scored yet; run seq2seq-eval {run.path}"
            else:
                detail = f"not evaluated on '{split}'; run seq2seq-eval {run.path} split={split}"
        else:
            continue
        listed.append({"run": run.name, "model": run.model, "status": status, "detail": detail})
    return listed


def _cell(mean: float | None, std: float | None, digits: int = 2) -> str:
    if mean is None:
        return "-"
    return f"{mean:.{digits}f}" + ("" if std is None else f" ± {std:.{digits}f}")


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def report_markdown(split: str | None, runs: list[Run], rows: list[dict[str, Any]], verbs: list[dict[str, Any]],
                    figures: list[str], contrastive: list[dict[str, Any]] | None = None) -> str:
    finished = sum(r.status == "finished" for r in runs)
    failed, running = (sum(r.status == s for r in runs) for s in ("failed", "running"))
    lines = [f"# Report on split `{split}`" if split else "# Report: no finished runs yet", "",
             (f"{len(runs)} runs: {finished} finished, {failed} failed, {running} in progress. "
              "Scores are the mean ± sample standard deviation over a model's seeds (one seed: no deviation)."), ""]
    if rows:
        lines += ["| model | seeds | BLEU | chrF | runs (seed) |", "|---|--:|--:|--:|---|"]
        seeds = {r.name: r.seed for r in runs}
        for row in (r for r in rows if r["bucket"] == "all"):
            names = ", ".join(f"{n} ({seeds[n]})" for n in row["runs"])
            lines.append(f"| {row['model']} | {row['seeds']} | {_cell(row['bleu_mean'], row['bleu_std'])} | "
                         f"{_cell(row['chrf_mean'], row['chrf_std'])} | {_escape(names)} |")
            repeated = len(row["runs"]) - len({seeds[n] for n in row["runs"]})
            if repeated:
                lines.append(f"| ↳ note | | | | {repeated} run(s) repeat a seed: their spread is not seed variance |")
        lines += ["", "## By source length", "", "| model | bucket | sentences | seeds | BLEU | chrF |",
                  "|---|---|--:|--:|--:|--:|"]
        for row in (r for r in rows if r["bucket"] != "all"):
            sentences = "-" if row["sentences"] is None else str(row["sentences"])
            lines.append(f"| {row['model']} | {row['bucket']} | {sentences} | {row['seeds']} | "
                         f"{_cell(row['bleu_mean'], row['bleu_std'])} | {_cell(row['chrf_mean'], row['chrf_std'])} |")
    if verbs:
        lines += ["", "## Main-verb accuracy by subject–verb distance", "", "| model | distance | items | seeds | accuracy |",
                  "|---|---|--:|--:|--:|"]
        for row in verbs:
            items = "-" if row["sentences"] is None else str(row["sentences"])
            lines.append(f"| {row['model']} | {row['bucket']} | {items} | {row['seeds']} | "
                         f"{_cell(row['accuracy_mean'], row['accuracy_std'], 3)} |")
    if contrastive:
        lines += ["", "## Contrastive verb test (chance 50%)", "",
                  "The model prefers the reference over a copy whose main verb is swapped for a relative-clause verb "
                  "(attractor) or a random verb (random), under teacher forcing.", "",
                  "| model | kind | by | bucket | pairs | seeds | accuracy |", "|---|---|---|---|--:|--:|--:|"]
        for row in contrastive:
            pairs = "-" if row["sentences"] is None else str(row["sentences"])
            lines.append(f"| {row['model']} | {row['kind']} | {row['view']} | {row['bucket']} | {pairs} | {row['seeds']} | "
                         f"{_cell(row['accuracy_mean'], row['accuracy_std'], 3)} |")
    missing = unreported_runs(runs, split)
    if missing:
        lines += ["", "## Runs not in the tables", "", "| run | model | status | detail |", "|---|---|---|---|"]
        lines += [f"| {_escape(m['run'])} | {m['model']} | {m['status']} | {_escape(m['detail'])} |" for m in missing]
    if figures:
        lines += ["", "Figures: " + ", ".join(f"`{name}`" for name in figures)]
    return "\n".join(lines) + "\n"


def report_csv(rows: list[dict[str, Any]]) -> str:
    """One row per (model, bucket), the bucket "all" included."""
    return _table_csv(rows, ["model", "bucket", "seeds", "sentences", "midpoint", "bleu_mean", "bleu_std",
                             "chrf_mean", "chrf_std", "runs"])


def contrastive_csv(rows: list[dict[str, Any]]) -> str:
    """One row per (model, kind, view, bucket), the bucket "all" included."""
    return _table_csv(rows, ["model", "kind", "view", "bucket", "seeds", "sentences", "accuracy_mean", "accuracy_std",
                             "runs"])


def _table_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    stream = io.StringIO()
    writer = csv.DictWriter(stream, columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "runs": " ".join(row["runs"])})
    return stream.getvalue()


def write_report(paths: list[Path], split: str | None, out: Path) -> str:
    """Collect the runs under `paths`, write report.md, report.csv and the figures into `out`; returns the Markdown."""
    runs = collect_runs(paths)
    split = choose_split(runs, split)
    rows = aggregate(runs, split) if split else []
    verbs = aggregate_verbs(runs, split) if split else []
    figures = []
    if rows:
        unit = next(r.results.splits[split] for r in runs if r.status == "finished" and split in r.results.splits)
        unit = unit.get("buckets", {}).get("unit", "words")
        plot_by_bucket(rows, "bleu", out / "bleu_by_length.png", f"source sentence length in {unit}", "BLEU",
                       f"BLEU by source length on '{split}': mean ± 1 sd over seeds "
                       "(one seed: its bootstrap CI)")
        figures.append("bleu_by_length.png")
    if any(r.valid for r in runs):
        plot_training_curves(runs, out / "training_curves.png")
        figures.append("training_curves.png")
    if verbs:
        verb_rows = [{**r, "ci": None} for r in verbs]
        plot_by_bucket(verb_rows, "accuracy", out / "verb_accuracy.png", "subject–verb distance", "main-verb accuracy",
                       f"Main-verb accuracy on '{split}': mean ± 1 sd over seeds")
        figures.append("verb_accuracy.png")
    contrastive = aggregate_contrastive(runs, split) if split else []
    if contrastive:
        attractor = [r for r in contrastive if r["kind"] == "attractor" and r["view"] == "distance"]
        plot_by_bucket(attractor, "accuracy", out / "contrastive_accuracy.png", "subject–verb distance",
                       "contrastive accuracy (attractor)", f"Contrastive verb test on '{split}': mean ± 1 sd over seeds\n"
                       "(one seed: its bootstrap CI)", chance=0.5)
        figures.append("contrastive_accuracy.png")
        write_text(out / "contrastive.csv", contrastive_csv(contrastive))
    markdown = report_markdown(split, runs, rows, verbs, figures, contrastive)
    write_text(out / "report.md", markdown)
    write_text(out / "report.csv", report_csv(rows))
    return markdown
