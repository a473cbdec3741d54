"""The runs a report reads: each run directory's config, results and validation records, found under the
paths given (run directories or multiruns), named, grouped by model, and listed with why where they have
no scores. The first layer of the reporting package: everything else reads runs through it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from seq2seq.errors import UserError
from seq2seq.files import read_records
from seq2seq.provenance import eval_arguments
from seq2seq.run_dir import Results, RunDir


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


def group_by_model(runs: list[Run], split: str) -> dict[str, list[Run]]:
    groups: dict[str, list[Run]] = {}
    for run in runs:
        if run.status == "finished" and split in run.results.splits:
            groups.setdefault(run.model, []).append(run)
    return groups


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
