"""Attention heatmaps: where the decoder looked in the source while writing each target subword.

For an attention model trained well the map shows the alignment (mostly monotonic for German→English,
with jumps where the word order differs, e.g. the verb-final German relative clause).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
from torch import Tensor  # noqa: E402


def plot_attention(
    weights: Tensor, source_tokens: list[str], target_tokens: list[str], path: Path, title: str = ""
) -> None:
    """Save weights [len(target_tokens), len(source_tokens)] as a labelled heatmap PNG."""
    if tuple(weights.shape) != (len(target_tokens), len(source_tokens)):
        raise ValueError(
            f"attention of shape {tuple(weights.shape)} does not match {len(target_tokens)} target × {len(source_tokens)} source tokens"
        )
    width = max(4.0, 0.35 * len(source_tokens) + 1.5)
    height = max(3.0, 0.35 * len(target_tokens) + 1.5)
    figure, axes = plt.subplots(figsize=(width, height))
    image = axes.imshow(weights.numpy(), cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    axes.set_xticks(range(len(source_tokens)), source_tokens, rotation=90, fontsize=8)
    axes.set_yticks(range(len(target_tokens)), target_tokens, fontsize=8)
    axes.set_xlabel("source (German subwords)")
    axes.set_ylabel("output (English subwords)")
    if title:
        axes.set_title(textwrap.fill(title, width=int(width * 12)), fontsize=9)
    figure.colorbar(image, ax=axes, fraction=0.03)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
