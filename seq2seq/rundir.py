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
    """Write a checkpoint atomically; a failed write (a full disk) names the file and leaves the previous one whole."""
    try:
        write_atomically(Path(path), lambda stream: torch.save(checkpoint, stream))
    except OSError as error:
        raise UserError(f"{path}: could not write the checkpoint ({error.strerror or error}); the previous one is "
                        "intact: free space or fix the directory, then rerun with train.resume=true") from None


def remove_partial_writes(directory: Path) -> None:
    """Delete the temporary files (`.NAME.XXXX`) that a process killed mid-write leaves beside NAME."""
    for path in Path(directory).glob(".*"):
        if path.is_file():
            path.unlink(missing_ok=True)


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


def read_records(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON-lines log (none if it is missing); a last line cut short by a kill is skipped."""
    path = Path(path)
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def trim_metrics(path: Path, epoch: int, step: int) -> None:
    """Keep the metric records up to a checkpoint's epoch and step: a resumed run logs the rest again."""
    if Path(path).is_file():
        kept = [r for r in read_records(path) if r.get("step", 0) <= step and r.get("epoch", 0) <= epoch]
        write_text(path, "".join(json.dumps(record) + "\n" for record in kept))


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
