"""Files written so that a kill at any moment never leaves a half-written one.

Every whole-file write goes to a temporary file in the same directory and is renamed over the
target (atomic on POSIX); logs are appended line by line and flushed, and a reader skips a last
line that a kill cut short. No torch here: reporting reads runs without loading it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, BinaryIO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(path: Path, write: Callable[[BinaryIO], Any]) -> None:
    """Call `write(binary_stream)` on a temporary file beside `path`, then rename it over `path`."""
    path = Path(path)
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


def remove_partial_writes(directory: Path) -> None:
    """Delete the temporary files (`.NAME.XXXX`) that a process killed mid-write leaves beside NAME."""
    for path in Path(directory).glob(".*"):
        if path.is_file():
            path.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    write_atomically(Path(path), lambda stream: stream.write(text.encode("utf-8")))


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


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
