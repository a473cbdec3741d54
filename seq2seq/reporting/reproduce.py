"""Re-run a finished run from its saved config and say whether the numbers came out the same.

A run directory's `config.yaml` is fully resolved (data, model, training, evaluation, seed), so it
is all a colleague needs: training again from it on the same kind of machine must give the same
scores. A run stopped by its time budget (`train.max_minutes`) made as many updates as its machine
managed in those minutes, so the re-run trains exactly the recorded number of updates instead, whatever
its own clock says (`pinned_budget`). `score_differences` lists every split's BLEU and chrF, old and new, and flags differences
beyond a tolerance (0.1 BLEU by default). Re-decodings added later (`test.beam5`) are not part of the
training run, so they are not compared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from omegaconf import DictConfig, OmegaConf

from seq2seq.errors import UserError
from seq2seq.provenance import data_split
from seq2seq.run_dir import Results, RunDir


def score_differences(recorded: Results, reproduced: Results, tolerance: float) -> list[dict[str, Any]]:
    """One row per (split, metric): recorded and reproduced score, difference, and whether it is within tolerance."""
    rows = []
    for split, old in ((key, entry) for key, entry in recorded.splits.items() if data_split(key, entry) == key):
        new = reproduced.splits.get(split)
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


def pinned_budget(config: DictConfig, recorded: Results) -> str | None:
    """Replace a time budget by the updates it bought: `train.max_steps` = the recorded updates, no
    `train.max_minutes`. Returns the line that says so, or None where the run had no time budget."""
    steps = (recorded.training or {}).get("steps")
    minutes = OmegaConf.select(config, "train.max_minutes", default=None)
    if minutes is None or steps is None:
        return None
    config.train.max_steps, config.train.max_minutes = steps, None
    return (f"the recorded run had a time budget (train.max_minutes={minutes:g}) and made {steps:,} updates "
            f"(stopped by {(recorded.training or {}).get('stopped_by') or 'a limit not recorded'}): "
            f"training exactly {steps:,} updates instead (train.max_steps={steps}, train.max_minutes=null)")


def reproduce_run(
    run_dir: Path, out_dir: Path, train: Callable[[DictConfig, Path], Results | None], tolerance: float = 0.1,
) -> tuple[list[dict[str, Any]], str]:
    """Train again with `train` (the pipeline's) from the run's config into `out_dir`; returns the rows and their table."""
    run = RunDir(run_dir)
    recorded = run.read_results() if run.config.is_file() else None
    if recorded is None:
        raise UserError(f"{run_dir}: needs config.yaml and results.json; is it a finished seq2seq-train run directory?")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise UserError(f"{out_dir} is not empty; pass --out with a new directory")
    config = OmegaConf.load(run.config)
    config.train.resume = False
    pinned = pinned_budget(config, recorded)
    rows = score_differences(recorded, train(config, out_dir), tolerance)
    return rows, (f"{pinned}\n" if pinned else "") + format_comparison(rows, tolerance)
