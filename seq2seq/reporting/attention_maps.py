"""Attention maps for a report's longest examples, computed from a run's checkpoint once and then cached.

A report is often rebuilt (new runs in the sweep, another split) and often copied without its
checkpoints (a recorded experiment keeps no weights), so each map is a PNG in the report folder named
by the run and a digest of what determines it: the run's meta.json (written when training starts: seed,
data fingerprint, parameters) and the sentence. A cached map is used as it is; delete the folder to
recompute. A run without a checkpoint and without a cached map gets a reason instead of a picture.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from seq2seq.run_dir import RunDir

ATTENTION_FOLDER = "attention"


@dataclass(frozen=True)
class AttentionMap:
    """One sentence's map for one run: a PNG, or why there is none."""

    sentence: str
    path: Path | None
    missing: str | None = None


def has_attention(run: Path) -> bool:
    """Whether the run's decoder attends (its class says so: `Decoder.has_attention`), read from its config alone."""
    from hydra.utils import get_class
    from omegaconf import OmegaConf

    target = OmegaConf.select(OmegaConf.load(RunDir(run).config), "model.decoder._target_")
    return target is not None and bool(getattr(get_class(target), "has_attention", False))


def map_path(run: Path, sentence: str, folder: Path) -> Path:
    meta = RunDir(run).meta
    identity = meta.read_bytes() if meta.is_file() else str(run.resolve()).encode()
    digest = hashlib.sha1(identity + b"\n" + sentence.encode("utf-8")).hexdigest()[:12]
    return folder / ATTENTION_FOLDER / f"{run.name}_{digest}.png"


def attention_maps(run: Path, sentences: list[str], folder: Path) -> list[AttentionMap]:
    """Maps of `sentences` as translated by the run at `run`, from `folder`'s cache or from its checkpoint."""
    paths = [map_path(run, sentence, folder) for sentence in sentences]
    wanted = [(s, p) for s, p in zip(sentences, paths) if not p.is_file()]
    if wanted and not RunDir(run).best_checkpoint.is_file():
        return [AttentionMap(s, p) if p.is_file() else AttentionMap(s, None, f"{run}: no checkpoints/best.pt and no cached map")
                for s, p in zip(sentences, paths)]
    if wanted:
        from seq2seq.pipeline import open_run, save_attention_maps  # torch and the model only when a map is computed

        save_attention_maps(open_run(run, []), [s for s, _ in wanted], [p for _, p in wanted], name=run.name)
    return [AttentionMap(s, p) for s, p in zip(sentences, paths)]
