"""Checkpoints on disk: written atomically, so a kill or a full disk never damages the previous one."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch

from seq2seq.errors import UserError
from seq2seq.files import write_atomically


def save_checkpoint(path: Path, checkpoint: dict[str, Any]) -> None:
    """Write a checkpoint atomically; a failed write (a full disk) names the file and leaves the previous one whole."""
    try:
        write_atomically(Path(path), lambda stream: torch.save(checkpoint, stream))
    except OSError as error:
        raise UserError(f"{path}: could not write the checkpoint ({error.strerror or error}); the previous one is "
                        "intact: free space or fix the directory, then rerun with train.resume=true") from None


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Load a checkpoint, turning a missing or damaged file into a clear error."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: checkpoint not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:
        raise UserError(f"{path}: checkpoint is damaged or not a seq2seq checkpoint ({type(error).__name__})") from None


def weights_sha256(weights: dict[str, torch.Tensor]) -> str:
    """A hash of a model's weights (names, dtypes, shapes, values): what a checkpoint translates with, whatever
    else it holds (optimizer, counters, config), so that scores can name the weights that produced them."""
    digest = hashlib.sha256()
    for name in sorted(weights):
        tensor = weights[name].detach().cpu().contiguous()
        digest.update(f"{name}\0{tensor.dtype}\0{tuple(tensor.shape)}\0".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def checkpoint_identity(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The epoch, step and weights of a loaded checkpoint, as results.json records them beside each split's scores."""
    return {"epoch": checkpoint.get("epoch"), "step": checkpoint.get("step"),
            "weights_sha256": weights_sha256(checkpoint["model"])}
