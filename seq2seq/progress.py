"""Progress where no bar can be drawn: a terminal shows tqdm's bar, but a run under the joblib launcher or with
its output sent to a file has no terminal, and minutes without a line look like a hang (issue 35)."""

from __future__ import annotations

import time

PROGRESS_SECONDS = 60.0  # between lines while decoding (training: train.progress_seconds)


class ProgressLines:
    """When a progress line is due: every `seconds` (0: every time it is asked), only where no bar is drawn (no terminal,
    as under the joblib launcher or with the output sent to a file), so that the log shows a run is alive."""

    def __init__(self, seconds: float, enabled: bool) -> None:
        self.seconds, self.enabled = seconds, enabled
        self.last = time.perf_counter()

    def due(self) -> bool:
        if not self.enabled or time.perf_counter() - self.last < self.seconds:
            return False
        self.last = time.perf_counter()
        return True


def minutes_left(done: float, total: float, started: float) -> float | None:
    """Minutes to go at the mean rate so far (None before anything is done)."""
    elapsed = time.perf_counter() - started
    return (total - done) * elapsed / done / 60 if done else None
