"""A recorded run's scores computed again from its committed hypotheses and the corpus's references.

`results.json` is written once, when a run is evaluated, and nothing afterwards ties it to the
hypotheses it claims to score. Scoring them again with the run's own evaluation settings and the
function evaluation uses (`scoring.split.score_split`) gives what `results.json` must hold, so a typed
or stale number shows up as a difference. Only what needs no model can be re-derived: BLEU and chrF
with their buckets, intervals and slope, and the probe's main-verb accuracy; the contrastive test
scores the model itself, whose checkpoint is not committed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from seq2seq.data.parallel import ParallelText
from seq2seq.errors import UserError
from seq2seq.run_dir import RunDir
from seq2seq.scoring.bootstrap import BootstrapSettings
from seq2seq.scoring.buckets import BucketSettings
from seq2seq.scoring.split import score_split

TOLERANCE = 1e-6  # relative: far below the last printed digit, above float noise between machines


def run_config(run: RunDir) -> DictConfig:
    return OmegaConf.load(run.config)


def build_corpus(config: DictConfig, data_parent: Path | None) -> Any | None:
    """The run's corpus. A corpus read from files (it has a `root`) is read from `data_parent/NAME` instead of
    the recording machine's path; None where that folder is missing, so nothing is fetched from the hub."""
    corpus = OmegaConf.to_container(config.data.corpus)
    if "root" in corpus:
        local = None if data_parent is None else data_parent / corpus["name"]
        if local is None or not local.is_dir():
            return None
        corpus["root"] = str(local)
    return instantiate(corpus)


def generator_changed(run: RunDir, config: DictConfig, corpus: Any) -> str | None:
    """Why today's code may not rebuild a generated corpus (one with no files, such as the probe) as the run saw
    it, or None: its fingerprint now differs from the one the run's meta.json recorded, so the generator changed
    since, and a difference in scores then says nothing about results.json. Corpora read from files never change."""
    if "root" in config.data.corpus or not run.meta.is_file():
        return None
    recorded = json.loads(run.meta.read_text(encoding="utf-8")).get("data_fingerprint")
    today = corpus.fingerprint()
    if recorded == today:
        return None
    return (f"{run.path}: the {config.data.name} corpus this code generates (fingerprint {today[:12]}) is not the one "
            f"the run was scored on ({str(recorded)[:12]} in meta.json)")


def read_hypotheses(path: Path) -> list[str]:
    """One output per line, as evaluation wrote them (each followed by a newline; empty outputs kept)."""
    text = path.read_text(encoding="utf-8")
    return text.split("\n")[:-1] if text else []


def rescore_split(hypotheses: list[str], text: ParallelText, config: DictConfig, corpus: Any) -> dict[str, Any]:
    """What evaluation records for a split's hypotheses, with the run's `eval.*` settings (see
    `pipeline.score_split_of_run`), plus the corpus's own metrics that read only the outputs."""
    buckets = BucketSettings.from_config(config.eval.buckets)
    if buckets.unit == "subwords":
        raise UserError("eval.buckets.unit=subwords: re-scoring needs the run's tokenizer, which is not committed")
    result = score_split(hypotheses, text.tgt, text.src, list(config.eval.bucket_edges), buckets=buckets,
                         bootstrap=BootstrapSettings.from_config(config.eval.bootstrap))
    if text.meta is not None and hasattr(corpus, "extra_metrics"):
        result.update(corpus.extra_metrics(text, hypotheses))
    return result


def differences(recorded: Any, rescored: Any, where: str = "") -> list[str]:
    """Where `recorded` differs from `rescored`, as 'key.path: recorded X, re-scored Y'. Keys only the re-scoring
    has are skipped: a run recorded before a measure existed (e.g. `bleu_lc`) does not hold it."""
    if isinstance(recorded, dict) and isinstance(rescored, dict):
        return [line for key in rescored if key in recorded
                for line in differences(recorded[key], rescored[key], f"{where}.{key}" if where else key)]
    if isinstance(recorded, list) and isinstance(rescored, list) and len(recorded) == len(rescored):
        return [line for n, (a, b) in enumerate(zip(recorded, rescored)) for line in differences(a, b, f"{where}[{n}]")]
    if isinstance(recorded, (int, float)) and isinstance(rescored, (int, float)) and not isinstance(recorded, bool):
        same = math.isclose(recorded, rescored, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    else:
        same = recorded == rescored
    return [] if same else [f"{where}: recorded {recorded!r}, re-scored {rescored!r}"]
