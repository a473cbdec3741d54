"""A label naming the run on each console log line, so interleaved lines of a sweep can be told apart.

Hydra's joblib launcher runs several jobs at once and their console lines interleave; Hydra's own
format names the logger, not the run. `RunLabel` is a logging filter that Hydra's job logging
(`conf/hydra/job_logging/labelled.yaml`) attaches to the console handler: it gives every record a
`run_label`, e.g. `0_rnn s1234` (the job's number and model, as its run directory is named, and
its seed), which the console format prints.
"""

from __future__ import annotations

import logging

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import OmegaConf


def run_label(model: str, seed: int, job: int | None = None) -> str:
    """`0_rnn s1234` for job 0 of a sweep (its run directory's name), `rnn s1234` for a single run."""
    return f"{model if job is None else f'{job}_{model}'} s{seed}"


def current_run_label(model: str, seed: int) -> str:
    """The label of the run this process is: with the job's number when Hydra runs it as part of a multirun."""
    job = None
    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        job = OmegaConf.select(HydraConfig.get(), "job.num", default=None)
    return run_label(model, seed, job)


def labelled(text: str, label: str) -> str:
    """Each line of `text` led by `[label]`, as log lines carry it: printed tables of jobs running side by side
    interleave line by line."""
    return "\n".join(f"[{label}] {line}" for line in text.splitlines())


class RunLabel(logging.Filter):
    """Sets `record.run_label`; lets every record through."""

    def __init__(self, model: str, seed: int, job: int | None = None) -> None:
        super().__init__()
        self.label = run_label(model, seed, job)

    def filter(self, record: logging.LogRecord) -> bool:
        record.run_label = self.label
        return True
