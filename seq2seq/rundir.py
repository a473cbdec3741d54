"""The run directory's files, written so that a kill at any moment never leaves a half-written one.

Every whole-file write goes to a temporary file in the same directory and is renamed over the
target (atomic on POSIX); metric logs are appended line by line and flushed.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import torch

import seq2seq
from seq2seq.errors import UserError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(path: Path, write: Any) -> None:
    """Call `write(binary_stream)` on a temporary file beside `path`, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.chmod(temporary, 0o666 & ~_umask())  # the permissions a plain open() would give, not mkstemp's 0600
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    write_atomically(Path(path), lambda stream: stream.write(text.encode("utf-8")))


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def save_checkpoint(path: Path, checkpoint: dict[str, Any]) -> None:
    write_atomically(Path(path), lambda stream: torch.save(checkpoint, stream))


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Load a checkpoint, turning a missing or damaged file into a clear error."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: checkpoint not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:
        raise UserError(f"{path}: checkpoint is damaged or not a seq2seq checkpoint ({type(error).__name__})") from None


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as stream:
        stream.write(json.dumps(record) + "\n")
        stream.flush()


def git_state() -> dict[str, Any]:
    """Commit and dirtiness of the source tree the package runs from (None outside a git checkout)."""
    source = Path(seq2seq.__file__).resolve().parent.parent

    def git(*args: str) -> str | None:
        try:
            result = subprocess.run(["git", *args], cwd=source, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return result.stdout.strip() if result.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if commit is None else bool(dirty)}


def run_metadata() -> dict[str, Any]:
    """Versions and machine, so a result can be traced to the code and hardware that made it."""
    return {
        "seq2seq_version": seq2seq.__version__,
        "git": git_state(),
        "torch_version": torch.__version__,
        "python": platform.python_version(),
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count()},
    }
