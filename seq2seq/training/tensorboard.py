"""Training curves for TensorBoard: the records of metrics.jsonl, written as scalars as they come.

With `train.tensorboard=true`, `tensorboard --logdir multirun/DATE/TIME` shows every job of a sweep
while it trains, one run per job directory. metrics.jsonl stays the record that reports read; the
event files are a live view of the same numbers, tagged `KIND/KEY` (`train/loss`, `valid/bleu`)
against the update step. `tensorboard` is an optional extra, so it is imported only when asked for.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import TracebackType
from typing import Any

from seq2seq.errors import UserError

NOT_SCALARS = ("kind", "epoch", "step")  # the record's labels: the step is the x axis, not a curve


def require_tensorboard() -> None:
    """Fail before training when `train.tensorboard=true` cannot be honoured (UserError with the fix)."""
    try:
        importlib.import_module("tensorboard")
    except ImportError:
        raise UserError("train.tensorboard=true needs the tensorboard package: pip install -e '.[tensorboard]' "
                        "(or set train.tensorboard=false)") from None


def scalars(record: dict[str, Any]) -> dict[str, float]:
    """A metrics record's numbers by TensorBoard tag (`train/lr`, `valid/ppl`); flags such as `best` are left out."""
    return {f"{record['kind']}/{key}": float(value) for key, value in record.items()
            if key not in NOT_SCALARS and isinstance(value, (int, float)) and not isinstance(value, bool)}


class TrainingCurves:
    """An event file in `directory` that receives each metrics record; use it as a context manager.

    A resumed run starts at `first_step`: TensorBoard then hides what an earlier, interrupted attempt
    wrote from that step on, as the run directory's metrics.jsonl drops those records. Validation
    records are flushed at once; leaving the context closes the file, also when training fails.
    """

    def __init__(self, directory: Path, first_step: int) -> None:
        from torch.utils.tensorboard import SummaryWriter  # needs the optional tensorboard package

        # flushed every 30 s, TensorBoard's own reload interval, so training curves are as live as the page
        self.writer = SummaryWriter(log_dir=str(directory), purge_step=first_step, flush_secs=30)

    def write(self, record: dict[str, Any]) -> None:
        for tag, value in scalars(record).items():
            self.writer.add_scalar(tag, value, global_step=record["step"])
        if record["kind"] == "valid":
            self.writer.flush()

    def __enter__(self) -> TrainingCurves:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.writer.close()
