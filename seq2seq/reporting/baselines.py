"""Published scores beside ours: the numbers a corpus's users hold the presets against.

A corpus's config names them (`data.baselines`: who published them and how they were scored, then
split -> measure -> preset -> score). Runs saved before that key existed take them from the packaged
config of their corpus, so an older sweep's report shows the comparison too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

PACKAGED_DATA_CONFIGS = Path(__file__).resolve().parents[1] / "conf" / "data"


def published_baselines(config: Any) -> dict[str, Any]:
    """A run's `data.baselines` as a plain dict ({} where its corpus has none)."""
    baselines = OmegaConf.select(config, "data.baselines", default=None)
    if baselines is None:
        packaged = PACKAGED_DATA_CONFIGS / f"{OmegaConf.select(config, 'data.name', default='')}.yaml"
        baselines = OmegaConf.load(packaged).get("baselines") if packaged.is_file() else None
    return OmegaConf.to_container(baselines) if baselines is not None else {}


def baseline_rows(models: dict[str, tuple[str, dict[str, Any]]], split: str) -> list[dict[str, Any]]:
    """Report rows `published_MEASURE` for each reported model whose preset has a published score on `split`.

    `models` maps a report label (e.g. `rnn lr=0.003`) to its preset's name and its runs' baselines.
    """
    rows = []
    for label, (preset, baselines) in models.items():
        for measure, scores in (baselines.get("scores", {}).get(split) or {}).items():
            if preset in scores:
                rows.append({"split": split, "measure": f"published_{measure}", "view": "all", "bucket": "all",
                             "model": label, "seeds": 0, "count": None, "midpoint": None, "mean": float(scores[preset]),
                             "std": None, "ci": None, "runs": [], "source": baselines.get("source")})
    return rows
