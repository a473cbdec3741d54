"""A report's numbers as rows: every run's scores flattened (measure, view, bucket), averaged over seeds per
model, and the tables and CSV files they make. Reads runs (`reporting.runs`); the Markdown, HTML and plots
render these rows.

A single training run says little about a model: seeds move BLEU by a point or more. So runs are
grouped by model and each (split, measure, bucket) gets the mean and the sample standard deviation
over seeds; every seed's own score and bootstrap interval is kept beside them (runs.csv).
"""

from __future__ import annotations

import csv
import io
import statistics
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from seq2seq.data.probe.factorial import FACTORIAL_CELLS
from seq2seq.reporting.baselines import baseline_rows, published_baselines
from seq2seq.reporting.runs import Run, group_by_model

SOURCE_BLIND = "source-blind"  # the contrastive test's floor, drawn as a reference line, not as a model
METRICS = ("bleu", "bleu_lc", "chrf")  # bleu_lc: lowercased (sacrebleu -lc); runs recorded before it have none

METRIC_TITLES = {"bleu": "BLEU", "bleu_lc": "Lowercased BLEU (sacrebleu -lc)", "chrf": "chrF"}

CONTRASTIVE_VIEWS = ("distance", "length", "cell", "band", "factorial")  # the last two: paired tests, not accuracies

REPORT_CSV = "report.csv"


def mean_std(values: list[float]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (None from one value: one seed has no spread)."""
    if not values:
        return None, None
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def _score(measure: str, view: str, bucket: str, value: float | None, count: int | None,
           ci: list[float] | None = None, midpoint: float | None = None) -> dict[str, Any]:
    return {"measure": measure, "view": view, "bucket": bucket, "value": value, "count": count, "ci": ci,
            "midpoint": midpoint}


def run_scores(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One split of one run as flat scores (measure, view, bucket): what the report averages over seeds.

    BLEU and chrF overall and by source length (and the output's length ratio), the BLEU-per-word slope, and the
    contrastive verb test per kind (`contrastive_attractor`, ...) overall and by distance, length and cell, with the
    paired tests of a grid (`band`: near − far per length band) or of the factorial split (`factorial`: each effect).
    """
    scores = []
    for metric in (m for m in METRICS if m in result):
        scores.append(_score(metric, "all", "all", result.get(metric), result.get("sentences"), result.get(f"{metric}_ci")))
        scores += [_score(metric, "length", row["bucket"], row.get(metric), row.get("count"), row.get(f"{metric}_ci"),
                          row.get("midpoint")) for row in result.get("by_length", [])]
    if result.get("length_ratio") is not None:  # runs scored before it existed have none
        scores.append(_score("length_ratio", "all", "all", result["length_ratio"], result.get("sentences")))
        scores += [_score("length_ratio", "length", row["bucket"], row.get("length_ratio"), row.get("count"),
                          midpoint=row.get("midpoint")) for row in result.get("by_length", [])]
    slope = result.get("length_sensitivity") or {}
    if slope.get("slope") is not None:
        scores.append(_score("bleu_slope", "all", "all", slope["slope"], result.get("sentences"), slope.get("slope_ci")))
    if slope.get("relative_slope") is not None:  # runs scored before it existed have none
        scores.append(_score("bleu_relative_slope", "all", "all", slope["relative_slope"], result.get("sentences"),
                             slope.get("relative_slope_ci")))
    for kind, table in result.get("contrastive", {}).get("kinds", {}).items():
        scores.append(_score(f"contrastive_{kind}", "all", "all", table["overall"]["accuracy"],
                             table["overall"]["count"], table["overall"].get("ci")))
        for view in CONTRASTIVE_VIEWS[:3]:
            scores += [_score(f"contrastive_{kind}", view, row["bucket"], row["accuracy"], row["count"], row.get("ci"))
                       for row in table.get(f"by_{view}", [])]
        scores += [_score(f"contrastive_{kind}", "band", f"{row['band']}: {row['near']} − {row['far']}", row["difference"],
                          row["pairs"], row["ci"]) for row in table.get("distance_effect", [])]
        scores += [_score(f"contrastive_{kind}", "factorial", row["effect"], row["difference"], row["pairs"], row["ci"])
                   for row in table.get("factorial_effects", [])]
    return scores


def source_blind_rows(runs: list[Run], split: str) -> list[dict[str, Any]]:
    """The contrastive test's floor as a model of its own (`SOURCE_BLIND`): one row per measure, view and
    bucket, with its bootstrap interval. Every run on the same data holds the same floor; runs that
    disagree (other data) show none, rather than one run's floor beside another's scores."""
    floors = [r.results.splits[split]["contrastive"]["source_blind"] for r in runs if r.status == "finished"
              and "source_blind" in r.results.splits.get(split, {}).get("contrastive", {})]
    if not floors or any(floor != floors[0] for floor in floors):
        return []
    return [{"split": split, **score, "model": SOURCE_BLIND, "seeds": int(score["value"] is not None),
             "mean": score["value"], "std": None, "runs": []}
            for score in run_scores({"contrastive": floors[0]})]


def training_scores(training: dict[str, Any] | None) -> list[dict[str, Any]]:
    """What a score was bought with: minutes of training (validations included, as `train.max_minutes`
    counts them) and updates, so a budget that was met, or not, stands beside the scores; and how fast the
    updates went (real target tokens per second, validation excluded) with the share of padding (%)."""
    training = training or {}
    seconds, steps = training.get("seconds"), training.get("steps")
    values = {"train_minutes": None if seconds is None else seconds / 60, "train_updates": steps,
              "train_tokens_per_s": training.get("tgt_tokens_per_s"),  # runs trained before it was counted: none
              "train_padding": None if training.get("padding") is None else 100 * training["padding"]}
    return [_score(measure, "all", "all", value, None) for measure, value in values.items() if value is not None]


def per_run_scores(runs: list[Run], split: str) -> list[dict[str, Any]]:
    """Every finished run's scores on `split` and its training budget, each tagged with the run, its model
    and seed (runs.csv)."""
    return [{**score, "split": split, "model": model, "run": run.name, "seed": run.seed}
            for model, members in group_by_model(runs, split).items()
            for run in members
            for score in [*run_scores(run.results.splits[split]), *training_scores(run.results.training)]]


def aggregate(runs: list[Run], split: str) -> list[dict[str, Any]]:
    """One row per (measure, view, bucket, model): mean and sample std over the model's seeds.

    `seeds` counts runs with a score there (an empty bucket has none); a single seed keeps its
    bootstrap interval in `ci`. Rows keep the order of the first run's scores, models in run order.
    """
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for score in per_run_scores(runs, split):
        groups.setdefault((score["measure"], score["view"], score["bucket"], score["model"]), []).append(score)
    rows = []
    for (measure, view, bucket, model), scores in groups.items():
        mean, std = mean_std([s["value"] for s in scores if s["value"] is not None])
        counts = {s["count"] for s in scores}
        midpoints = [s["midpoint"] for s in scores if s["midpoint"] is not None]
        rows.append({"split": split, "measure": measure, "view": view, "bucket": bucket, "model": model,
                     "seeds": sum(s["value"] is not None for s in scores),
                     "count": counts.pop() if len(counts) == 1 else None,  # seeds of one model share the data
                     "midpoint": statistics.fmean(midpoints) if midpoints else None, "mean": mean, "std": std,
                     "ci": scores[0]["ci"] if len(scores) == 1 else None, "runs": [s["run"] for s in scores]})
    floor = [row for row in source_blind_rows(runs, split) if (row["measure"], row["view"], row["bucket"]) in
             {key[:3] for key in groups}]
    rows += [{key: row.get(key) for key in rows[0]} for row in floor] if rows else []
    places = {key: n for n, key in enumerate(dict.fromkeys(key[:3] for key in groups))}
    models = list(dict.fromkeys([key[3] for key in groups] + [SOURCE_BLIND]))
    return sorted(rows, key=lambda r: (places[r["measure"], r["view"], r["bucket"]], models.index(r["model"])))


def format_cell(row: dict[str, Any] | None, scale: float = 1.0, digits: int = 2) -> str:
    """mean ± sd over seeds; a single seed shows its bootstrap interval instead; "-" where nothing was scored."""
    if row is None or row["mean"] is None:
        return "-"
    text = f"{scale * row['mean']:.{digits}f}"
    if row["std"] is not None:
        return f"{text} ± {scale * row['std']:.{digits}f}"
    if row["ci"] is not None:
        return f"{text} [{scale * row['ci'][0]:.{digits}f}, {scale * row['ci'][1]:.{digits}f}]"
    return text


def escape_cell(text: str) -> str:
    return text.replace("|", "\\|")


VIEW_TITLES = {"length": "source words", "distance": "subject–verb distance", "cell": "cell (length × distance)",
               "band": "length band: near − far distance (paired, points)",
               "factorial": "effect (paired over items, points)"}
FACTORIAL_CELL_TITLE = "cell (distance-attractor)"


def shown_as(measure: str) -> tuple[float, int]:
    """(scale, digits) a measure is printed with: accuracies in percent with one decimal, scores with two."""
    return (100.0, 1) if measure.startswith("contrastive_") else (1.0, 2)


def wide_table(rows: list[dict[str, Any]], measure: str, view: str, with_all: bool = True) -> list[str]:
    """Models side by side, one line per bucket (the overall score first): the shape a reader compares."""
    scale, digits = shown_as(measure)
    chosen = [r for r in rows if r["measure"] == measure and (r["view"] == view or (with_all and r["view"] == "all"))]
    models = list(dict.fromkeys(r["model"] for r in chosen))
    cells = {(r["bucket"], r["model"]): r for r in chosen}
    count_title = "sentences" if measure in (*METRICS, "length_ratio") else "items" if view == "factorial" else "pairs"
    title = FACTORIAL_CELL_TITLE if view == "cell" and {r["bucket"] for r in chosen if r["view"] == "cell"} <= set(
        FACTORIAL_CELLS) else VIEW_TITLES[view]
    lines = [f"| {title} | {count_title} | " + " | ".join(f"`{m}`" for m in models) + " |",
             "|---|--:|" + "--:|" * len(models)]
    for bucket in dict.fromkeys(r["bucket"] for r in chosen):
        counts = {cells[bucket, m]["count"] for m in models if (bucket, m) in cells} - {None}
        count = str(counts.pop()) if len(counts) == 1 else "-"
        lines.append(f"| {'**all**' if bucket == 'all' else bucket} | {count} | "
                     + " | ".join(format_cell(cells.get((bucket, m)), scale, digits) for m in models) + " |")
    return lines


SLOPES = {"bleu_slope": ("slope (BLEU per word)", 1.0),  # measure: (row title, scale)
          "bleu_relative_slope": ("relative slope (% of own BLEU per word)", 100.0)}


def slope_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The last lines of `wide_table(rows, "bleu", "length")`: each model's slope of BLEU on source length, then
    that slope as a share of the model's own BLEU (seq2seq-compare's relative slope), on which models of
    different quality compare."""
    models = list(dict.fromkeys(r["model"] for r in rows if r["measure"] == "bleu"))
    lines = []
    for measure, (title, scale) in SLOPES.items():
        found = {r["model"]: r for r in rows if r["measure"] == measure}
        if found:
            lines.append(f"| {title} | | " + " | ".join(format_cell(found.get(m), scale) for m in models) + " |")
    return lines


def per_seed_table(scores: list[dict[str, Any]], measure: str, view: str) -> list[str]:
    """One line per run, buckets across: each seed's score with its bootstrap interval."""
    scale, digits = shown_as(measure)
    chosen = [s for s in scores if s["measure"] == measure and s["view"] in (view, "all")]
    buckets = list(dict.fromkeys(s["bucket"] for s in chosen))
    by_run: dict[str, dict[str, dict[str, Any]]] = {}
    for score in chosen:
        by_run.setdefault(score["run"], {})[score["bucket"]] = score
    lines = ["| run | model | seed | " + " | ".join(buckets) + " |", "|---|---|--:|" + "--:|" * len(buckets)]
    for run, row in by_run.items():
        first = next(iter(row.values()))
        values = [format_cell({"mean": row[b]["value"], "std": None, "ci": row[b]["ci"]} if b in row else None, scale, digits)
                  for b in buckets]
        lines.append(f"| {escape_cell(run)} | {first['model']} | {first['seed']} | " + " | ".join(values) + " |")
    return lines


def published_pairs(rows: list[dict[str, Any]]) -> list[tuple[dict[str, Any] | None, dict[str, Any]]]:
    """Each `published_*` row with our overall row of the same measure and model (None where not scored)."""
    pairs = []
    for row in (r for r in rows if r["measure"].startswith("published_")):
        measure = row["measure"].removeprefix("published_")
        ours = next((r for r in rows if (r["measure"], r["view"], r["model"]) == (measure, "all", row["model"])), None)
        pairs.append((ours, row))
    return pairs


def published_rows(runs: list[Run], split: str) -> list[dict[str, Any]]:
    """The published baselines of the models scored on `split` (see seq2seq.reporting.baselines)."""
    models = {}
    for label, members in group_by_model(runs, split).items():
        config = members[0].config
        models[label] = (str(OmegaConf.select(config, "model.name", default=label)), published_baselines(config))
    return baseline_rows(models, split)


def _ci_columns(row: dict[str, Any]) -> dict[str, Any]:
    low, high = row["ci"] if row.get("ci") else (None, None)
    return {"ci_low": low, "ci_high": high, **({"runs": " ".join(row["runs"])} if "runs" in row else {})}


def report_csv(rows: list[dict[str, Any]]) -> str:
    """report.csv: one row per (split, measure, view, bucket, model), mean and std over seeds."""
    return _table_csv([{**r, **_ci_columns(r)} for r in rows],
                      ["split", "measure", "view", "bucket", "model", "seeds", "count", "midpoint", "mean", "std",
                       "ci_low", "ci_high", "runs"])


def read_report_csv(path: Path) -> list[dict[str, Any]]:
    """report.csv back into the rows `wide_table` prints, so a table quoted elsewhere can be checked against it."""
    def number(text: str) -> float | None:
        return None if text == "" else float(text)

    rows = []
    with open(path, encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            ci = None if row["ci_low"] == "" else [float(row["ci_low"]), float(row["ci_high"])]
            rows.append({**row, "seeds": int(row["seeds"]), "count": None if row["count"] == "" else int(row["count"]),
                         "midpoint": number(row["midpoint"]), "mean": number(row["mean"]), "std": number(row["std"]),
                         "ci": ci, "runs": row["runs"].split()})
    return rows


def runs_csv(scores: list[dict[str, Any]]) -> str:
    """runs.csv: every run's own scores with their bootstrap intervals."""
    return _table_csv([{**s, **_ci_columns(s)} for s in scores],
                      ["split", "measure", "view", "bucket", "model", "run", "seed", "count", "value", "ci_low", "ci_high"])


def _table_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    stream = io.StringIO()
    writer = csv.DictWriter(stream, columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return stream.getvalue()
