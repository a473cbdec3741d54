"""Figures: attention heatmaps, scores by length bucket with their bands, scores against published
baselines, and training curves.

An attention map shows where the decoder looked in the source while writing each target subword;
for an attention model trained well it shows the alignment (mostly monotonic for German→English,
with jumps where the word order differs, e.g. the verb-final German relative clause). Scores by
bucket are drawn in the manner of Bahdanau et al. (2014, Fig. 2). Every PNG is written atomically.
"""

from __future__ import annotations

import logging
import math
import re
import textwrap
from pathlib import Path
from typing import Any

# Matplotlib announces building its font cache at INFO ("generated new fontManager"), the first line a new user
# saw under Hydra's logging; only its warnings concern a run.
logging.getLogger("matplotlib").setLevel(logging.WARNING)
import matplotlib  # noqa: E402

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
from torch import Tensor  # noqa: E402

from seq2seq.files import write_atomically  # noqa: E402
from seq2seq.reporting.tables import SOURCE_BLIND  # noqa: E402


FLOOR_STYLE = {"color": "black", "linestyle": "--"}

MAP_INCHES_PER_TOKEN = 0.35  # room for each subword's 8-point label
MAP_MARGIN_INCHES = 1.5
# A multi-sentence segment of 400 German words with an output of 600 subwords would be a figure of gigapixels at
# 0.35 inches a token (a report drawing one was stopped before it ran the machine out of memory), so a side stops
# growing here and labels only every k-th token.
MAP_MAX_INCHES = 40.0
LABEL_INCHES = 0.14  # the least room an 8-point label needs beside the next


def map_side(tokens: int, least: float) -> float:
    """Inches of an attention map's side that shows `tokens` subwords."""
    return min(MAP_MAX_INCHES, max(least, MAP_INCHES_PER_TOKEN * tokens + MAP_MARGIN_INCHES))


def label_step(tokens: int, side: float) -> int:
    """Label every k-th token, so that labels never overlap on a side of `side` inches."""
    room = max(side - MAP_MARGIN_INCHES, LABEL_INCHES)
    return max(1, math.ceil(tokens * LABEL_INCHES / room))


def plot_attention(
    weights: Tensor, source_tokens: list[str], target_tokens: list[str], path: Path, title: str = ""
) -> None:
    """Save weights [len(target_tokens), len(source_tokens)] as a labelled heatmap PNG."""
    if tuple(weights.shape) != (len(target_tokens), len(source_tokens)):
        raise ValueError(
            f"attention of shape {tuple(weights.shape)} does not match {len(target_tokens)} target × {len(source_tokens)} source tokens"
        )
    width, height = map_side(len(source_tokens), 4.0), map_side(len(target_tokens), 3.0)
    figure, axes = plt.subplots(figsize=(width, height))
    image = axes.imshow(weights.numpy(), cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    every = label_step(len(source_tokens), width)
    axes.set_xticks(range(0, len(source_tokens), every), source_tokens[::every], rotation=90, fontsize=8)
    every = label_step(len(target_tokens), height)
    axes.set_yticks(range(0, len(target_tokens), every), target_tokens[::every], fontsize=8)
    axes.set_xlabel("source (German subwords)")
    axes.set_ylabel("output (English subwords)")
    if title:
        axes.set_title(textwrap.fill(title, width=int(width * 12)), fontsize=9)
    figure.colorbar(image, ax=axes, fraction=0.03)
    figure.tight_layout()
    save_figure(figure, path)


def save_figure(figure: Any, path: Path) -> None:
    """Write the PNG atomically: a reader never sees half a figure."""
    try:
        write_atomically(path, lambda stream: figure.savefig(stream, dpi=120, format="png"))
    finally:
        plt.close(figure)


def _band(points: list[dict[str, Any]]) -> tuple[list[float], list[float]] | None:
    """±1 std over seeds, else a single seed's bootstrap CI, else nothing."""
    if all(p["std"] is not None for p in points):
        return [p["mean"] - p["std"] for p in points], [p["mean"] + p["std"] for p in points]
    if all(p["ci"] is not None for p in points):
        return [p["ci"][0] for p in points], [p["ci"][1] for p in points]
    return None


def plot_by_bucket(rows: list[dict[str, Any]], path: Path, xlabel: str, ylabel: str, title: str,
                   chance: float | None = None) -> None:
    """Mean per bucket per model, with a ±1 std band over seeds (or a single seed's bootstrap CI in `ci`)."""
    rows = [r for r in rows if r["bucket"] != "all" and r["mean"] is not None]
    labels = list(dict.fromkeys(r["bucket"] for r in rows))
    by_midpoint = all(r["midpoint"] is not None for r in rows)
    figure, axes = plt.subplots(figsize=(6.5, 4.0))
    for model in dict.fromkeys(r["model"] for r in rows):
        points = [r for r in rows if r["model"] == model]
        x = [p["midpoint"] if by_midpoint else labels.index(p["bucket"]) for p in points]
        seeds = max(p["seeds"] for p in points)
        style = FLOOR_STYLE if model == SOURCE_BLIND else {}
        label = f"{model} (no source)" if model == SOURCE_BLIND else f"{model} ({seeds} seed{'s' * (seeds != 1)})"
        line, = axes.plot(x, [p["mean"] for p in points], marker="o", label=label, **style)
        if (band := _band(points)) is not None:
            axes.fill_between(x, *band, color=line.get_color(), alpha=0.2, linewidth=0)
    if chance is not None:
        axes.axhline(chance, color="grey", linestyle="--", linewidth=1, label="chance")
    if not by_midpoint:
        axes.set_xticks(range(len(labels)), labels)
    axes.set_xlabel(xlabel + (" (bucket midpoint)" if by_midpoint else " (bucket)"))
    axes.set_ylabel(ylabel)
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    save_figure(figure, path)


def plot_against_published(pairs: list[tuple[dict[str, Any], dict[str, Any]]], path: Path, title: str) -> None:
    """Each model's overall score (a bar, with ±1 std over seeds or a single seed's bootstrap CI) beside the
    published score of its preset (a black tick), one pair per (ours, published) row of the same measure.
    Bars lie horizontally so that long model labels (a sweep's swept keys) stay readable."""
    measures = list(dict.fromkeys(ours["measure"] for ours, _ in pairs))
    figure, axes = plt.subplots(figsize=(7.5, 1.8 + 0.4 * len(pairs)))
    for y, (ours, published) in enumerate(pairs):
        band = _band([ours])
        error = None if band is None else [[ours["mean"] - band[0][0]], [band[1][0] - ours["mean"]]]
        axes.barh(y, ours["mean"], height=0.6, xerr=error, capsize=3, color=f"C{y % 10}", alpha=0.8)
        axes.vlines(published["mean"], y - 0.4, y + 0.4, color="black", linewidth=2, label="published" if y == 0 else None)
    labels = [ours["model"] if len(measures) == 1 else f"{ours['model']} ({ours['measure']})" for ours, _ in pairs]
    axes.set_yticks(range(len(pairs)), labels, fontsize=8)
    axes.invert_yaxis()  # the first model on top, as in the tables
    axes.set_xlabel(measures[0] if len(measures) == 1 else "score")
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3, axis="x")
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: bars reach any length
    figure.tight_layout()
    save_figure(figure, path)


def plot_cells(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    """Grid-split accuracy: one panel per length band, distance across, one line per model, chance at 0.5.

    Cells are labelled "L<length> D<distance>"; empty cells (no pairs) leave a gap in the line.
    """
    cells = [(r, re.fullmatch(r"L(\S+) D(\S+)", r["bucket"])) for r in rows]
    cells = [(r, m.group(1), m.group(2)) for r, m in cells if m is not None]
    lengths = list(dict.fromkeys(length for _, length, _ in cells))
    distances = list(dict.fromkeys(distance for _, _, distance in cells))
    figure, panels = plt.subplots(1, len(lengths), figsize=(3.2 * len(lengths) + 0.5, 3.6), sharey=True, squeeze=False)
    for panel, length in zip(panels[0], lengths):
        for number, model in enumerate(dict.fromkeys(r["model"] for r, _, _ in cells)):
            points = {distance: r for r, l, distance in cells if l == length and r["model"] == model}
            mean = [points[d]["mean"] if d in points and points[d]["mean"] is not None else float("nan") for d in distances]
            style = FLOOR_STYLE if model == SOURCE_BLIND else {"color": f"C{number}"}
            panel.plot(range(len(distances)), mean, marker="o", label=model, **style)
        panel.axhline(0.5, color="grey", linestyle="--", linewidth=1)
        panel.set_xticks(range(len(distances)), distances)
        panel.set_title(f"{length} source words", fontsize=9)
        panel.set_xlabel("subject–verb distance")
        panel.grid(alpha=0.3)
    panels[0][0].set_ylabel("contrastive accuracy (chance 0.5)")
    panels[0][0].legend(fontsize=7)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    save_figure(figure, path)


def plot_factorial(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    """Factorial-split accuracy as an interaction plot: distance across (near, far), one colour per model, a solid
    line with the attractor between subject and verb and a dashed one with it after the verb; chance at 0.5.
    Parallel lines: the two factors add up; lines that part: they interact."""
    figure, axes = plt.subplots(figsize=(6.5, 4.0))
    for number, model in enumerate(dict.fromkeys(r["model"] for r in rows)):
        colour = "black" if model == SOURCE_BLIND else f"C{number}"
        for attractor, style in (("between", "-"), ("after", "--")):
            points = {r["bucket"].split("-")[0]: r["mean"] for r in rows
                      if r["model"] == model and r["bucket"].endswith(attractor)}
            axes.plot([0, 1], [points.get(d) if points.get(d) is not None else float("nan") for d in ("near", "far")],
                      style, marker="o", color=colour, label=f"{model}, attractor {attractor}")
    axes.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    axes.set_xticks([0, 1], ["near", "far"])
    axes.set_xlabel("subject–verb distance")
    axes.set_ylabel("contrastive accuracy (chance 0.5)")
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=6, ncol=2)
    figure.tight_layout()
    save_figure(figure, path)


def plot_training_curves(runs: list[Any], path: Path) -> None:
    """Validation BLEU per epoch, one line per run, one colour per model."""
    figure, axes = plt.subplots(figsize=(6.5, 4.0))
    colours = {model: f"C{i}" for i, model in enumerate(dict.fromkeys(r.model for r in runs))}
    for run in runs:
        points = [(r["epoch"], r["bleu"]) for r in run.valid if r.get("bleu") is not None]
        if points:
            style = "-" if run.status == "finished" else ":"
            axes.plot(*zip(*points), style, marker=".", color=colours[run.model], label=f"{run.name} ({run.model})")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_xlabel("epoch")
    axes.set_ylabel("validation BLEU")
    axes.set_title("Validation BLEU per epoch (dotted: unfinished)", fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7)
    figure.tight_layout()
    save_figure(figure, path)
