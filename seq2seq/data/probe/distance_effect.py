"""Does distance itself cost accuracy? Paired tests at fixed length, on the grid and on the factorial split.

Two cells of a grid length band hold sentences of the same lengths (`corpus.length_quotas`), so their
accuracies differ by distance, not length. `distance_effect` pairs each item of the nearest cell with
one of the farthest cell of exactly its length; `factorial_effects` pairs an item's own four sentences
(`factorial.FACTORIAL_CELLS`), which separates distance from an intervening attractor. Each difference
gets a bootstrap interval over pairs and a two-sided sign-flip permutation p-value (under "the factor
does not matter", each pair's difference is as likely negative as positive).
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


def paired_test(differences: np.ndarray, bootstrap: BootstrapSettings) -> dict[str, Any]:
    """Mean of per-pair differences, its percentile-bootstrap interval and two-sided sign-flip p-value."""
    count = len(differences)
    rng = np.random.default_rng(bootstrap.seed)
    resampled = resample_counts(count, bootstrap.resamples, rng) @ differences / count  # [resamples]
    signs = rng.choice([-1.0, 1.0], size=(bootstrap.resamples, count))
    observed = abs(differences.mean())
    as_large = int((np.abs(signs @ differences / count) >= observed - 1e-12).sum())
    return {"pairs": count, "difference": float(differences.mean()), "ci": percentile_interval(resampled, bootstrap.level),
            "p": (1 + as_large) / (1 + bootstrap.resamples)}


def paired_difference(near: np.ndarray, far: np.ndarray, bootstrap: BootstrapSettings) -> dict[str, Any]:
    """Mean of near − far over pairs with `paired_test`'s interval and p-value, and each side's accuracy."""
    return {"near_accuracy": float(near.mean()), "far_accuracy": float(far.mean()), **paired_test(near - far, bootstrap)}


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


# (name, weights on the cells' outcomes in FACTORIAL_CELLS order: near-between, near-after, far-between, far-after).
# Positive: accuracy lost to distance (near − far) or to an intervening attractor (after − between).
FACTORIAL_EFFECTS = (
    ("distance, attractor between", (1, 0, -1, 0)),
    ("distance, attractor after", (0, 1, 0, -1)),
    ("attractor, near", (-1, 1, 0, 0)),
    ("attractor, far", (0, 0, -1, 1)),
    ("distance", (0.5, 0.5, -0.5, -0.5)),
    ("attractor", (-0.5, 0.5, -0.5, 0.5)),
    ("interaction", (1, -1, -1, 1)),  # distance's cost with the attractor between, minus with it after
)


def factorial_effects(
    correct: np.ndarray, labels: list[str | None], groups: list[int], cells: list[str], bootstrap: BootstrapSettings,
) -> list[dict[str, Any]]:
    """Each of `FACTORIAL_EFFECTS` as a paired test (`paired_test`) over the items that have every cell it weighs.

    `correct` holds each contrast's outcome, `labels` its pair's cell, `groups` its pair's item (an item's four
    pairs share one); `cells` is `FACTORIAL_CELLS`. A simple or main effect's row also gives the mean accuracy
    of its two sides over those items (`accuracy_a` weighed positive, `accuracy_b` negative); the interaction,
    a difference of differences, has none."""
    outcome = {(group, label): value for group, label, value in zip(groups, labels, correct)}
    rows = []
    for name, weights in FACTORIAL_EFFECTS:
        used = [cell for cell, weight in zip(cells, weights) if weight]
        items = sorted({g for g in groups if all((g, cell) in outcome for cell in used)})
        if not items:
            continue
        table = np.array([[outcome[g, cell] if (g, cell) in outcome else 0.0 for cell in cells] for g in items])
        weights = np.array(weights, dtype=float)
        positive, negative = np.clip(weights, 0, None), np.clip(-weights, 0, None)
        sides = {} if positive.sum() != 1 else {"accuracy_a": float((table @ positive).mean()),
                                                 "accuracy_b": float((table @ negative).mean())}
        rows.append({"effect": name, **sides, **paired_test(table @ weights, bootstrap)})
    return rows
