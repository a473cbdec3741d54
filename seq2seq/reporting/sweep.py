"""One report over a sweep: every model's scores by source length (and, on the probe, by distance), averaged over seeds.

A single training run says little about a model: seeds move BLEU by a point or more. So runs are
grouped by model and each (split, measure, bucket) gets the mean and the sample standard deviation
over seeds, plotted as BLEU against sentence length in the manner of Bahdanau et al. (2014, Fig. 2);
every seed's own score and bootstrap interval is kept beside them (runs.csv). Failed and unfinished
runs are listed, never dropped, so a gap in the sweep is visible.
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
from seq2seq.provenance import eval_arguments
from seq2seq.reporting.baselines import baseline_rows, published_baselines
from seq2seq.reporting.decodings import decoding_lines, label_by_decoding
from seq2seq.reporting.plots import SOURCE_BLIND, plot_against_published, plot_by_bucket, plot_cells, plot_training_curves
from seq2seq.reporting.parity import parity_lines
from seq2seq.run_dir import Results, RunDir

METRICS = ("bleu", "bleu_lc", "chrf")  # bleu_lc: lowercased (sacrebleu -lc); runs recorded before it have none
METRIC_TITLES = {"bleu": "BLEU", "bleu_lc": "Lowercased BLEU (sacrebleu -lc)", "chrf": "chrF"}
CONTRASTIVE_VIEWS = ("distance", "length", "cell", "band")
REPORT_CSV = "report.csv"


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
    config: Any = None  # config.yaml (or .hydra/config.yaml); empty where neither exists


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
    config = _config(path)
    model, seed = OmegaConf.select(config, "model.name"), OmegaConf.select(config, "seed")
    valid = [record for record in read_records(run_dir.metrics) if record.get("kind") == "valid"]
    run = Run(path, name, str(model or "?"), seed, "running", valid=valid, config=config)
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


def swept_keys(sweep: Path) -> list[str]:
    """The config keys a multirun swept besides the model and the seed (from its multirun.yaml: the sweeper's
    params and comma-separated command-line overrides), e.g. `data.train_max_words` in the -30/-50 sweep."""
    path = sweep / "multirun.yaml"
    if not path.is_file():
        return []
    hydra = OmegaConf.load(path).get("hydra", {})
    keys = list(OmegaConf.select(hydra, "sweeper.params", default=None) or {})
    for override in OmegaConf.select(hydra, "overrides.task", default=None) or []:
        key, _, value = str(override).partition("=")
        if "," in value:
            keys.append(key.lstrip("+~"))
    return [key for key in dict.fromkeys(keys) if key not in ("model", "seed")]


def label_by_swept_keys(runs: list[Run]) -> None:
    """Runs that were trained differently are different systems, not seeds: name each `MODEL KEY=VALUE` (last
    part of the key) for every key that any of the reported sweeps swept and whose value differs among the runs.
    The keys are pooled over the sweeps, so a key that one sweep swept and another held fixed still tells the
    second sweep's runs apart from the first's."""
    keys = dict.fromkeys(key for sweep in dict.fromkeys(run.path.parent for run in runs) for key in swept_keys(sweep))
    for key in keys:
        values = {run.path: OmegaConf.select(run.config, key, default=None) for run in runs}
        if len({str(value) for value in values.values()}) > 1:
            for run in runs:
                run.model = f"{run.model} {key.rsplit('.', 1)[-1]}={values[run.path]}"


def _config(path: Path) -> Any:
    run_dir = RunDir(path)
    config_path = run_dir.config if run_dir.config.is_file() else run_dir.hydra_config
    return OmegaConf.load(config_path) if config_path.is_file() else OmegaConf.create({})


def collect_runs(paths: list[Path]) -> list[Run]:
    directories = find_run_dirs(paths)
    names = [d.name for d in directories]
    if len(set(names)) < len(names):  # the same job name in two sweeps: tell them apart by path
        names = [str(d) for d in directories]
    runs = [load_run(d, n) for d, n in zip(directories, names)]
    label_by_swept_keys(runs)
    return runs


def choose_splits(runs: list[Run], splits: list[str] | None) -> list[str]:
    """The requested splits, or every split a finished run has scored, in the order runs plan them."""
    finished = [r for r in runs if r.status == "finished"]
    available = list(dict.fromkeys(s for r in finished for s in [*r.results.planned_splits, *r.results.splits]))
    if splits is None:
        return [s for s in available if any(s in r.results.splits for r in finished)]
    for split in splits:
        if split not in available:
            raise UserError(f"no finished run has split '{split}' (found: {', '.join(available) or 'none'}); "
                            "choose one with --split, or add it with seq2seq-eval RUN " + eval_arguments(split))
    return list(dict.fromkeys(splits))


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
    contrastive verb test per kind (`contrastive_attractor`, ...) overall and by distance, length and grid cell.
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
        for view in CONTRASTIVE_VIEWS[:-1]:
            scores += [_score(f"contrastive_{kind}", view, row["bucket"], row["accuracy"], row["count"], row.get("ci"))
                       for row in table.get(f"by_{view}", [])]
        scores += [_score(f"contrastive_{kind}", "band", f"{row['band']}: {row['near']} − {row['far']}", row["difference"],
                          row["pairs"], row["ci"]) for row in table.get("distance_effect", [])]
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


def group_by_model(runs: list[Run], split: str) -> dict[str, list[Run]]:
    groups: dict[str, list[Run]] = {}
    for run in runs:
        if run.status == "finished" and split in run.results.splits:
            groups.setdefault(run.model, []).append(run)
    return groups


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
                detail = f"not evaluated on '{split}'; run seq2seq-eval {run.path} {eval_arguments(split)}"
        else:
            continue
        listed.append({"run": run.name, "model": run.model, "status": status, "detail": detail})
    return listed


def runs_left_out(runs: list[Run], splits: list[str]) -> list[dict[str, str]]:
    """`unreported_runs` over every split, each (run, reason) once."""
    missing = [m for split in splits or [None] for m in unreported_runs(runs, split)]
    return list({(m["run"], m["detail"]): m for m in missing}.values())


def _cell(row: dict[str, Any] | None, scale: float = 1.0, digits: int = 2) -> str:
    """mean ± sd over seeds; a single seed shows its bootstrap interval instead; "-" where nothing was scored."""
    if row is None or row["mean"] is None:
        return "-"
    text = f"{scale * row['mean']:.{digits}f}"
    if row["std"] is not None:
        return f"{text} ± {scale * row['std']:.{digits}f}"
    if row["ci"] is not None:
        return f"{text} [{scale * row['ci'][0]:.{digits}f}, {scale * row['ci'][1]:.{digits}f}]"
    return text


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


VIEW_TITLES = {"length": "source words", "distance": "subject–verb distance", "cell": "cell (length × distance)",
               "band": "length band: near − far distance (paired, points)"}


def shown_as(measure: str) -> tuple[float, int]:
    """(scale, digits) a measure is printed with: accuracies in percent with one decimal, scores with two."""
    return (100.0, 1) if measure.startswith("contrastive_") else (1.0, 2)


def wide_table(rows: list[dict[str, Any]], measure: str, view: str, with_all: bool = True) -> list[str]:
    """Models side by side, one line per bucket (the overall score first): the shape a reader compares."""
    scale, digits = shown_as(measure)
    chosen = [r for r in rows if r["measure"] == measure and (r["view"] == view or (with_all and r["view"] == "all"))]
    models = list(dict.fromkeys(r["model"] for r in chosen))
    cells = {(r["bucket"], r["model"]): r for r in chosen}
    count_title = "sentences" if measure in (*METRICS, "length_ratio") else "pairs"
    lines = [f"| {VIEW_TITLES[view]} | {count_title} | " + " | ".join(f"`{m}`" for m in models) + " |",
             "|---|--:|" + "--:|" * len(models)]
    for bucket in dict.fromkeys(r["bucket"] for r in chosen):
        counts = {cells[bucket, m]["count"] for m in models if (bucket, m) in cells} - {None}
        count = str(counts.pop()) if len(counts) == 1 else "-"
        lines.append(f"| {'**all**' if bucket == 'all' else bucket} | {count} | "
                     + " | ".join(_cell(cells.get((bucket, m)), scale, digits) for m in models) + " |")
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
            lines.append(f"| {title} | | " + " | ".join(_cell(found.get(m), scale) for m in models) + " |")
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
        values = [_cell({"mean": row[b]["value"], "std": None, "ci": row[b]["ci"]} if b in row else None, scale, digits)
                  for b in buckets]
        lines.append(f"| {_escape(run)} | {first['model']} | {first['seed']} | " + " | ".join(values) + " |")
    return lines


def split_markdown(split: str, runs: list[Run], rows: list[dict[str, Any]], scores: list[dict[str, Any]]) -> list[str]:
    """One split's section: BLEU and chrF by length, the contrastive test by each view, then every seed."""
    lines = [f"## Split `{split}`", "", *decoding_lines(split, group_by_model(runs, split))]
    tests = [r.results.splits[split]["contrastive"] for r in runs
             if r.status == "finished" and "contrastive" in r.results.splits.get(split, {})]
    if tests and tests[0].get("length_distance_r") is not None:
        lines += [f"Source length and subject–verb distance correlate at r = {tests[0]['length_distance_r']:.2f} "
                  "over this split's contrastive pairs.", ""]
    for metric, title in METRIC_TITLES.items():
        if any(r["measure"] == metric for r in rows):
            lines += [f"### {title} by source length", ""] + wide_table(rows, metric, "length")
            lines += slope_lines(rows) if metric == "bleu" else []
            lines.append("")
            lines += parity_lines(rows, _cell) if metric == "bleu" else []
    if any(r["measure"] == "length_ratio" for r in rows):
        lines += ["### Output length: hypothesis / reference length by source length", "",
                  "BLEU's length ratio (its brevity penalty's input): below 1 a model says less than the reference, as "
                  "one that stops early on long inputs does; a model that mistranslates keeps it near 1.", ""]
        lines += wide_table(rows, "length_ratio", "length") + [""]
    lines += against_published(rows)
    kinds = list(dict.fromkeys(r["measure"] for r in rows if r["measure"].startswith("contrastive_")))
    for measure in kinds:
        kind = measure.removeprefix("contrastive_")
        lines += [f"### Contrastive verb test: `{kind}` (accuracy %, chance 50)", "",
                  "The model scores the reference against a copy " + contrast_description(kind, tests)
                  + ", under teacher forcing; accuracy is the share of pairs where the reference wins."
                  + (f" `{SOURCE_BLIND}` is a word trigram model of the training targets scoring the same pairs without"
                     " the source: the floor a model reaches on English alone." if any(r["model"] == SOURCE_BLIND for r in rows)
                     else ""), ""]
        for view in CONTRASTIVE_VIEWS:
            if any(r["measure"] == measure and r["view"] == view for r in rows):
                if view == "band":
                    lines += ["Distance at fixed length: the nearest against the farthest distance cell of each length "
                              "band, items paired by exact length; the difference in accuracy points (near − far).", ""]
                lines += wide_table(rows, measure, view, with_all=view == "distance") + [""]
        lines += distance_effect_tests(runs, split, kind)
    if scores:
        level = next((r.results.splits[split].get("bootstrap", {}).get("level") for r in runs
                      if r.status == "finished" and split in r.results.splits), None)
        interval = "bootstrap intervals" if level is None else f"{level:.0%} bootstrap intervals"
        lines += [f"### Every seed, with {interval}", "", "BLEU by source length:", ""]
        lines += per_seed_table(scores, "bleu", "length") + [""]
        for measure in kinds:
            lines += [f"Contrastive `{measure.removeprefix('contrastive_')}` accuracy % by subject–verb distance:", ""]
            lines += per_seed_table(scores, measure, "distance") + [""]
    return lines


def contrast_description(kind: str, tests: list[dict[str, Any]]) -> str:
    """What a contrast of `kind` was in these runs. Runs scored before issue 28 carry no source-blind floor:
    their attractor replaced the main verb alone (a contrast English alone wins more than half the time) and
    a tie counted as a loss, so their report must not describe the contrast of today's code."""
    if tests and all("source_blind" in test for test in tests):
        return ("in which the main verb and a relative-clause verb of the same transitivity trade places"
                if kind == "attractor" else "whose main verb is replaced by a lexicon verb the sentence lacks") + \
            " (a tie counts ½)"
    return ("whose main verb alone is replaced by a verb of one of the sentence's relative clauses (the contrast "
            "before issue 28, which a model of the English alone wins more than half the time; a tie counted as a loss)"
            if kind == "attractor" else "whose main verb is swapped for a random verb (a tie counted as a loss)")


def distance_effect_tests(runs: list[Run], split: str, kind: str) -> list[str]:
    """Each run's paired distance test (`distance_effect`) with its interval and sign-flip p-value."""
    lines = []
    for run in (r for r in runs if r.status == "finished"):
        table = run.results.splits.get(split, {}).get("contrastive", {}).get("kinds", {}).get(kind, {})
        lines += [f"| {_escape(run.name)} | {run.model} | {row['band']} | {row['near']} − {row['far']} | {row['pairs']} | "
                  f"{100 * row['near_accuracy']:.1f} | {100 * row['far_accuracy']:.1f} | "
                  f"{100 * row['difference']:+.1f} [{100 * row['ci'][0]:+.1f}, {100 * row['ci'][1]:+.1f}] | {row['p']:.3g} |"
                  for row in table.get("distance_effect", [])]
    if not lines:
        return []
    return ["Paired distance test per run (bootstrap interval of the difference; two-sided sign-flip p):", "",
            "| run | model | band | cells | pairs | near % | far % | near − far, points | p |",
            "|---|---|---|---|--:|--:|--:|--:|--:|", *lines, ""]


def published_pairs(rows: list[dict[str, Any]]) -> list[tuple[dict[str, Any] | None, dict[str, Any]]]:
    """Each `published_*` row with our overall row of the same measure and model (None where not scored)."""
    pairs = []
    for row in (r for r in rows if r["measure"].startswith("published_")):
        measure = row["measure"].removeprefix("published_")
        ours = next((r for r in rows if (r["measure"], r["view"], r["model"]) == (measure, "all", row["model"])), None)
        pairs.append((ours, row))
    return pairs


def against_published(rows: list[dict[str, Any]]) -> list[str]:
    """Each model's overall score beside its preset's published one (`published_*` rows), with the difference."""
    pairs = published_pairs(rows)
    if not pairs:
        return []
    published = [row for _, row in pairs]
    sources = list(dict.fromkeys(r["source"] for r in published if r.get("source")))
    lines = ["### Against published baselines", ""]
    lines += [f"Published: {'; '.join(sources)}.", ""] if sources else []
    lines += ["| model | measure | ours | published | ours − published |", "|---|---|--:|--:|--:|"]
    for ours, row in pairs:
        measure = row["measure"].removeprefix("published_")
        difference = "-" if ours is None or ours["mean"] is None else f"{ours['mean'] - row['mean']:+.2f}"
        lines.append(f"| {row['model']} | {METRIC_TITLES.get(measure, measure)} | {_cell(ours)} | {row['mean']:.2f} | {difference} |")
    return lines + [""]


def published_rows(runs: list[Run], split: str) -> list[dict[str, Any]]:
    """The published baselines of the models scored on `split` (see seq2seq.reporting.baselines)."""
    models = {}
    for label, members in group_by_model(runs, split).items():
        config = members[0].config
        models[label] = (str(OmegaConf.select(config, "model.name", default=label)), published_baselines(config))
    return baseline_rows(models, split)


def report_markdown(splits: list[str], runs: list[Run], rows: list[dict[str, Any]], scores: list[dict[str, Any]],
                    figures: list[str]) -> str:
    finished = sum(r.status == "finished" for r in runs)
    failed, running = (sum(r.status == s for r in runs) for s in ("failed", "running"))
    lines = ["# Report" if splits else "# Report: no finished runs yet", "",
             (f"{len(runs)} runs: {finished} finished, {failed} failed, {running} in progress. "
              "Scores are the mean ± sample standard deviation over a model's seeds; a model with a single seed "
              "shows its bootstrap interval in brackets instead."), ""]
    seeds = {r.name: r.seed for r in runs}
    if splits:
        budget = {(r["measure"], r["model"]): r for r in rows if r["split"] == splits[0] and r["measure"].startswith("train_")}
        speed = [("train_tokens_per_s", 0), ("train_padding", 1)] if any(m == "train_tokens_per_s" for m, _ in budget) else []
        lines += ["| model | seeds | minutes of training | updates |"
                  + (" target tokens/s | padding % |" if speed else "") + " runs (seed) |",
                  "|---|--:|--:|--:|" + "--:|" * len(speed) + "---|"]
        for model, members in group_by_model(runs, splits[0]).items():
            names = ", ".join(f"{r.name} ({r.seed})" for r in members)
            repeated = len(members) - len({seeds[r.name] for r in members})
            note = f"; {repeated} run(s) repeat a seed: their spread is not seed variance" if repeated else ""
            cells = [_cell(budget.get((measure, model)), digits=digits)
                     for measure, digits in (("train_minutes", 1), ("train_updates", 0), *speed)]
            lines.append(f"| {model} | {len(members)} | {' | '.join(cells)} | {_escape(names + note)} |")
        lines.append("")
    for split in splits:
        lines += split_markdown(split, runs, [r for r in rows if r["split"] == split],
                                [s for s in scores if s["split"] == split])
    missing = runs_left_out(runs, splits)
    if missing:
        lines += ["## Runs not in the tables", "", "| run | model | status | detail |", "|---|---|---|---|"]
        lines += [f"| {_escape(m['run'])} | {m['model']} | {m['status']} | {_escape(m['detail'])} |" for m in missing]
        lines.append("")
    if figures:
        lines += ["Figures: " + ", ".join(f"`{name}`" for name in figures)]
    return "\n".join(lines).rstrip("\n") + "\n"


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


def split_figures(split: str, rows: list[dict[str, Any]], unit: str, out: Path, prefix: str) -> list[str]:
    """The split's PNGs: BLEU by length, ours against published baselines (where the corpus names some),
    contrastive accuracy by distance and, on a grid, by cell."""
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
    if cells:
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
    from seq2seq.reporting.html_report import sweep_page

    sections = {split: split_markdown(split, runs, [r for r in rows if r["split"] == split],
                                      [s for s in scores if s["split"] == split])[2:] for split in splits}
    representatives = {split: {model: members[0].path for model, members in group_by_model(runs, split).items()}
                       for split in splits}
    curves = out / "training_curves.png" if any(r.valid for r in runs) else None
    return sweep_page(splits, sections, {split: [out / name for name in names] for split, names in figures.items()},
                      curves, representatives, {r.name: r.path for r in runs}, runs_left_out(runs, splits), out)
