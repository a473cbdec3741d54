"""A run directory: the one place that names its files, and the typed `results.json` it holds.

Training, evaluation, reports, comparisons and reproductions all ask `RunDir` where a file lives,
so the layout can change in one place. No torch here (checkpoints are written by
`training.checkpoint`): reports read many runs without loading it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import seq2seq
from seq2seq.errors import UserError
from seq2seq.files import read_records, write_json, write_text


@dataclass
class Results:
    """What `results.json` holds: the training outcome, and per split the scores written by evaluation.

    `pending_splits` are still to be scored and `failed_splits` map a split to why its evaluation
    failed; both are empty once evaluation is complete. Each split's entry is the dict that
    `scoring.split.score_split` returns.
    """

    model: str
    data: str
    encoder: str | None = None
    decoder: str | None = None
    checkpoint: str | None = None
    training: dict[str, Any] | None = None
    precision: str | None = None
    splits: dict[str, dict[str, Any]] = field(default_factory=dict)
    distributed: dict[str, Any] | None = None
    pending_splits: list[str] = field(default_factory=list)
    failed_splits: dict[str, str] = field(default_factory=dict)

    ORDER = ("model", "encoder", "decoder", "data", "checkpoint", "training", "precision", "splits", "distributed",
             "pending_splits", "failed_splits")

    def to_json(self) -> dict[str, Any]:
        """The file's content: keys in a fixed order, unset optional parts left out."""
        values = asdict(self)
        optional = ("encoder", "decoder", "checkpoint", "training", "precision", "distributed")
        return {key: values[key] for key in self.ORDER if not (key in optional and values[key] is None)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Results":
        return cls(**{key: value for key, value in data.items() if key in cls.ORDER})

    @property
    def planned_splits(self) -> list[str]:
        """The splits the run was asked to score: scored, still pending, or failed."""
        return list(dict.fromkeys([*self.splits, *self.pending_splits, *self.failed_splits]))


@dataclass(frozen=True)
class RunDir:
    """The layout of one run's directory (a Hydra job's output directory)."""

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    @property
    def config(self) -> Path:
        return self.path / "config.yaml"

    @property
    def hydra_config(self) -> Path:
        """The config as Hydra composed it, before our checks resolved paths (present under Hydra)."""
        return self.path / ".hydra" / "config.yaml"

    @property
    def meta(self) -> Path:
        return self.path / "meta.json"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def tensorboard(self) -> Path:
        """Where TensorBoard's event files go (`train.tensorboard=true`): the run directory itself, so that
        `tensorboard --logdir SWEEP` names each run after its job's directory."""
        return self.path

    @property
    def error(self) -> Path:
        return self.path / "error.txt"

    @property
    def tokenizer(self) -> Path:
        return self.path / "tokenizer"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def best_checkpoint(self) -> Path:
        return self.checkpoints / "best.pt"

    @property
    def last_checkpoint(self) -> Path:
        return self.checkpoints / "last.pt"

    def hypotheses(self, split: str) -> Path:
        return self.path / "hypotheses" / f"{split}.txt"

    def contrasts(self, split: str) -> Path:
        """The probe's contrast records of a split (`probe.contrast.items_tsv`): every contrastive number's source."""
        return self.path / "contrasts" / f"{split}.tsv"

    def results_path(self, checkpoint: Path | None = None) -> Path:
        """`results.json` for the best checkpoint; `results-NAME.json` for any other one."""
        if checkpoint is None or Path(checkpoint).name == self.best_checkpoint.name:
            return self.path / "results.json"
        return self.path / f"results-{Path(checkpoint).stem}.json"

    def checkpoint_reference(self, checkpoint: Path) -> str:
        """A checkpoint as results.json names it: relative to the run directory when inside it."""
        try:
            return str(Path(checkpoint).resolve().relative_to(self.path.resolve()))
        except ValueError:
            return str(Path(checkpoint).resolve())

    def is_run(self) -> bool:
        """Whether this looks like a seq2seq-train run directory (finished, failed or still running)."""
        return self.config.is_file() or self.hydra_config.parent.is_dir()

    def read_results(self, checkpoint: Path | None = None) -> Results | None:
        """The results file, or None where none was written yet; a damaged one is a UserError."""
        path = self.results_path(checkpoint)
        if not path.is_file():
            return None
        try:
            return Results.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, TypeError) as error:
            raise UserError(f"{path} is not a valid results file ({error})") from None

    def write_results(self, results: Results, checkpoint: Path | None = None) -> None:
        write_json(self.results_path(checkpoint), results.to_json())

    def trim_metrics(self, epoch: int, step: int) -> None:
        """Keep the metric records up to a checkpoint's epoch and step: a resumed run logs the rest again."""
        if self.metrics.is_file():
            kept = [r for r in read_records(self.metrics) if r.get("step", 0) <= step and r.get("epoch", 0) <= epoch]
            write_text(self.metrics, "".join(json.dumps(record) + "\n" for record in kept))

    def read_error(self) -> str | None:
        """The one-line reason a sweep job failed (error.txt), or None."""
        if not self.error.is_file():
            return None
        return " ".join(self.error.read_text(encoding="utf-8").split()) or "(error.txt is empty)"


def locate_run(path: Path) -> tuple[RunDir, Path]:
    """A run directory or a checkpoint inside one -> (run directory, checkpoint)."""
    path = Path(path)
    if path.is_file():
        return RunDir(path.parent.parent), path
    if not path.is_dir():
        raise UserError(f"{path}: no such run directory or checkpoint")
    run = RunDir(path)
    if not run.best_checkpoint.is_file():
        raise UserError(f"{path}: no checkpoints/best.pt; is this a finished seq2seq-train run directory?")
    return run, run.best_checkpoint


def source_sha256(package: Path | None = None) -> str:
    """A hash of the package's source (its .py and .yaml files: sorted relative paths and their bytes): the code that ran.

    A commit names the code only in a clean git checkout; a copy of the tree without .git, an
    installed wheel or uncommitted edits still get a name, and two runs with equal hashes ran the same code.
    """
    package = Path(seq2seq.__file__).resolve().parent if package is None else Path(package)
    digest = hashlib.sha256()
    files = (path for suffix in ("*.py", "*.yaml") for path in package.rglob(suffix) if path.is_file())
    for path in sorted(files, key=lambda path: path.relative_to(package).as_posix()):
        content = path.read_bytes()
        digest.update(f"{path.relative_to(package).as_posix()}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


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


def code_identity() -> dict[str, Any]:
    """The code that is scoring now (git state and source hash), recorded beside each split's scores: a
    split re-scored by `seq2seq-eval` after the code changed says so, while meta.json names the code that trained."""
    return {"git": git_state(), "source_sha256": source_sha256()}


def run_metadata() -> dict[str, Any]:
    """Versions and machine, so a result can be traced to the code and hardware that made it: the git commit
    where there is one, and always the hash of the package's source (`source_sha256`)."""
    try:
        torch_version = version("torch")
    except PackageNotFoundError:
        torch_version = None
    return {
        "seq2seq_version": seq2seq.__version__,
        "git": git_state(),
        "source_sha256": source_sha256(),
        "torch_version": torch_version,
        "python": platform.python_version(),
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count()},
    }
