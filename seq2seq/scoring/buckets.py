"""Source-length buckets in one place: edges, labels, membership, midpoints; fixed or by quantile, in words or subwords.

Every score by length (BLEU by bucket, intervals, the length-sensitivity slope, paired tests,
reports) asks this module which sentences fall where, so a bucket means the same everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from omegaconf import OmegaConf

BUCKET_MODES = ("fixed", "quantile")
BUCKET_UNITS = ("words", "subwords")


def settings_from_config(cls: type, config: Any) -> Any:
    """A settings dataclass from its config node (None: the defaults), the dataclass serving as the node's schema.

    A node of a composed run config is already typed; one read from a file without its schema (an old
    run's config.yaml) gets OmegaConf's error for an unknown key or a wrong type here.
    """
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(cls), config or {}))


@dataclass
class BucketSettings:
    """`eval.buckets`: fixed edges (`eval.bucket_edges`) or `quantiles` equal-count buckets, in words or subwords."""

    mode: str = "fixed"
    quantiles: int = 5
    unit: str = "words"

    @classmethod
    def from_config(cls, config: Any) -> "BucketSettings":
        settings = settings_from_config(cls, config)
        if settings.mode not in BUCKET_MODES:
            raise ValueError(f"mode={settings.mode} is unknown; choose one of {', '.join(BUCKET_MODES)}")
        if settings.unit not in BUCKET_UNITS:
            raise ValueError(f"unit={settings.unit} is unknown; choose one of {', '.join(BUCKET_UNITS)}")
        if settings.quantiles < 1:
            raise ValueError(f"quantiles={settings.quantiles} must be a whole number >= 1 (e.g. 5)")
        return settings


def source_length(sentence: str) -> int:
    """Source length in whitespace-separated words (tokenizer-independent, comparable across runs)."""
    return len(sentence.split())


def bucket_bounds(edges: list[int], open_end: bool = True) -> list[tuple[int, float]]:
    """Edges [e0, e1, ..., en] -> buckets [e0, e1), ..., [e_{n-1}, e_n), and with `open_end` [e_n, inf).

    Source lengths use an open last bucket (no sentence is left out); measures with a natural
    range, such as the probe's subject–verb distance, close it at the last edge.
    """
    if len(edges) < (1 if open_end else 2) or any(b <= a for a, b in zip(edges, edges[1:])):
        size = "non-empty" if open_end else "two or more,"
        raise ValueError(f"bucket edges must be a {size} strictly increasing list, got {list(edges)}")
    return list(zip(edges, list(edges[1:]) + ([math.inf] if open_end else [])))


def bucket_label(low: int, high: float) -> str:
    return f"{low}+" if math.isinf(high) else f"{low}-{int(high) - 1}"


def assign_buckets(lengths: list[int], edges: list[int], open_end: bool = True) -> list[int | None]:
    """Index of each length's bucket (None for lengths outside every bucket)."""
    bounds = bucket_bounds(edges, open_end)
    return [next((i for i, (low, high) in enumerate(bounds) if low <= n < high), None) for n in lengths]


def quantile_edges(lengths: list[int], buckets: int) -> list[int]:
    """Edges [0, e1, ...] giving `buckets` buckets of roughly equal size; ties on one length merge buckets.

    e_k is the length at rank floor(k·N/buckets), so at most k·N/buckets sentences fall below it.
    """
    ordered = sorted(lengths)
    cuts = [ordered[k * len(ordered) // buckets] for k in range(1, buckets)] if ordered else []
    return sorted({0, *(int(c) for c in cuts)})


def bucket_members(lengths: list[int], edges: list[int], open_end: bool = True) -> list[np.ndarray]:
    """Sentence indices of each bucket, empty buckets included."""
    assigned = assign_buckets(lengths, edges, open_end)
    return [np.array([i for i, b in enumerate(assigned) if b == index], dtype=int)
            for index in range(len(bucket_bounds(edges, open_end)))]


def bucket_midpoints(lengths: list[int], edges: list[int], members: list[np.ndarray]) -> list[float | None]:
    """Midpoint of each closed bucket's integer range; the open last bucket uses its sentences' mean length."""
    midpoints: list[float | None] = []
    for (low, high), rows in zip(bucket_bounds(edges), members):
        if not math.isinf(high):
            midpoints.append((low + high - 1) / 2)
        else:
            midpoints.append(float(np.mean([lengths[i] for i in rows])) if len(rows) else None)
    return midpoints


def bucketed_lengths(
    sources: list[str], edges: list[int], settings: BucketSettings, source_subwords: list[int] | None = None,
) -> tuple[list[int], list[int]]:
    """Each sentence's length in the configured unit, and the bucket edges to use (fixed, or quantiles of those lengths)."""
    if settings.unit == "subwords":
        if source_subwords is None or len(source_subwords) != len(sources):
            raise ValueError("unit=subwords needs one source subword count per sentence")
        lengths = list(source_subwords)
    else:
        lengths = [source_length(s) for s in sources]
    return lengths, quantile_edges(lengths, settings.quantiles) if settings.mode == "quantile" else list(edges)
