"""Does distance itself cost accuracy? The grid's near and far cells compared at fixed length.

Two cells of a length band hold sentences of the same lengths (`corpus.length_quotas`), so their
accuracies differ by distance, not length. The comparison pairs each item of the nearest cell with
one of the farthest cell of exactly its length, and tests the mean paired difference: a bootstrap
interval over pairs and a two-sided sign-flip permutation p-value (under "distance does not
matter", each pair's two outcomes are exchangeable).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seq2seq.scoring.bootstrap import BootstrapSettings, percentile_interval, resample_counts


def matched_pairs(near: list[int], far: list[int], lengths: list[int]) -> list[tuple[int, int]]:
    """(near item, far item) pairs of equal length: at each length, the first items of each side in order."""
    pairs = []
    for length in sorted({lengths[i] for i in near}):
        at_near = [i for i in near if lengths[i] == length]
        at_far = [i for i in far if lengths[i] == length]
        pairs += list(zip(at_near, at_far))
    return pairs


def paired_difference(near: np.ndarray, far: np.ndarray, bootstrap: BootstrapSettings) -> dict[str, Any]:
    """Mean of near − far over pairs, its percentile-bootstrap interval and sign-flip p-value."""
    differences = near - far
    count = len(differences)
    rng = np.random.default_rng(bootstrap.seed)
    resampled = resample_counts(count, bootstrap.resamples, rng) @ differences / count  # [resamples]
    signs = rng.choice([-1.0, 1.0], size=(bootstrap.resamples, count))
    observed = abs(differences.mean())
    as_large = int((np.abs(signs @ differences / count) >= observed - 1e-12).sum())
    return {"pairs": count, "near_accuracy": float(near.mean()), "far_accuracy": float(far.mean()),
            "difference": float(differences.mean()), "ci": percentile_interval(resampled, bootstrap.level),
            "p": (1 + as_large) / (1 + bootstrap.resamples)}


def distance_effect(
    correct: np.ndarray, labels: list[str | None], lengths: list[int], cells: list[str], bootstrap: BootstrapSettings,
) -> list[dict[str, Any]]:
    """Per length band of the grid, the nearest against the farthest non-empty distance cell, paired
    by exact length (`paired_difference`); a band without two non-empty cells or any equal-length
    pair gets no row.

    `correct` holds each contrast's outcome, `labels` its pair's cell ("L35-39 D1-4"), `lengths` its
    pair's German length; `cells` lists the grid's cells, distances in order within each band.
    """
    bands: dict[str, list[str]] = {}
    for cell in cells:
        bands.setdefault(cell.split()[0], []).append(cell)
    rows = []
    for band, band_cells in bands.items():
        members = {cell: [j for j, label in enumerate(labels) if label == cell] for cell in band_cells}
        filled = [cell for cell in band_cells if members[cell]]
        if len(filled) < 2:
            continue
        near, far = filled[0], filled[-1]
        pairs = matched_pairs(members[near], members[far], lengths)
        if pairs:
            rows.append({"band": band, "near": near.split()[1], "far": far.split()[1], **paired_difference(
                correct[[a for a, _ in pairs]], correct[[b for _, b in pairs]], bootstrap)})
    return rows
