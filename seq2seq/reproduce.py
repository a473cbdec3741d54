"""Re-run a finished run from its saved config and say whether the numbers came out the same.

A run directory's `config.yaml` is fully resolved (data, model, training, evaluation, seed), so it
is all a colleague needs: training again from it on the same kind of machine must give the same
scores. `compare_results` lists every split's BLEU and chrF, old and new, and flags differences
beyond a tolerance (0.1 BLEU by default).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from seq2seq.errors import UserError
from seq2seq.runner import train_run


def compare_results(recorded: dict[str, Any], reproduced: dict[str, Any], tolerance: float) -> list[dict[str, Any]]:
    """One row per (split, metric): recorded and reproduced score, difference, and whether it is within tolerance."""
    rows = []
    for split, old in recorded["splits"].items():
        new = reproduced["splits"].get(split)
        for metric in ("bleu", "chrf"):
            after = None if new is None else new[metric]
            difference = None if after is None else after - old[metric]
            rows.append({"split": split, "metric": metric, "recorded": old[metric], "reproduced": after,
                         "difference": difference, "same": difference is not None and abs(difference) <= tolerance})
    return rows


def format_comparison(rows: list[dict[str, Any]], tolerance: float) -> str:
    lines = [f"{'split':<20} {'metric':<6} {'recorded':>9} {'reproduced':>10} {'diff':>7}"]
    for row in rows:
        reproduced = "missing" if row["reproduced"] is None else f"{row['reproduced']:.2f}"
        difference = "" if row["difference"] is None else f"{row['difference']:+.2f}"
        flag = "" if row["same"] else f"  <- differs by more than {tolerance}"
        lines.append(f"{row['split']:<20} {row['metric']:<6} {row['recorded']:>9.2f} {reproduced:>10} {difference:>7}{flag}")
    return "\n".join(lines)


def reproduce_run(run_dir: Path, out_dir: Path, tolerance: float = 0.1) -> tuple[list[dict[str, Any]], str]:
    """Train again from `run_dir/config.yaml` into `out_dir`; returns the comparison rows and their table."""
    config_path, results_path = run_dir / "config.yaml", run_dir / "results.json"
    if not config_path.is_file() or not results_path.is_file():
        raise UserError(f"{run_dir}: needs config.yaml and results.json; is it a finished seq2seq-train run directory?")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise UserError(f"{out_dir} is not empty; pass --out with a new directory")
    config = OmegaConf.load(config_path)
    config.train.resume = False
    reproduced = train_run(config, out_dir)
    rows = compare_results(json.loads(results_path.read_text()), reproduced, tolerance)
    return rows, format_comparison(rows, tolerance)
