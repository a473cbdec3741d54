"""A recorded run's scores computed again from its committed hypotheses and the corpus's references.

`results.json` is written once, when a run is evaluated, and nothing afterwards ties it to the
hypotheses it claims to score. Scoring them again with the run's own evaluation settings and the
function evaluation uses (`scoring.split.score_split`) gives what `results.json` must hold, so a typed
or stale number shows up as a difference. Only what needs no model can be re-derived: BLEU and chrF
with their buckets, intervals and slope, and the probe's main-verb accuracy; the contrastive test
scores the model itself, whose checkpoint is not committed.

The same scoring under other settings (`rescore_run`: other length buckets, another bootstrap) lets a
recorded run whose checkpoint is gone be reported beside runs bucketed differently, as compare-mt
analyses outputs without their models.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from seq2seq.data.parallel import ParallelText
from seq2seq.errors import UserError
from seq2seq.files import write_json
from seq2seq.run_dir import RunDir, code_identity
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


RESCORABLE = ("eval.bucket_edges", "eval.buckets.", "eval.bootstrap.")  # settings that read outputs, not the model
NOT_COPIED = ("checkpoints",)  # a rescored copy scores outputs; the weights stay with the original


def check_rescorable(overrides: list[str]) -> None:
    """Only settings that score the outputs may change: anything else would describe another model or decoding
    than the one that wrote the hypotheses."""
    for item in overrides:
        key = item.split("=", 1)[0]
        if "=" not in item or not key.startswith(RESCORABLE):
            raise UserError(f"'{item}': only eval.bucket_edges, eval.buckets.* and eval.bootstrap.* can change without the "
                            f"model (a decoding setting needs seq2seq-eval with the run's checkpoint)")


def copy_run(source: Path, out: Path) -> None:
    """The run directory without its checkpoints, into a new folder (an existing non-empty one is refused)."""
    if out.exists() and any(out.iterdir()):
        raise UserError(f"{out}: exists and is not empty; choose a new --out")
    shutil.copytree(source, out, ignore=lambda folder, names: [n for n in names if Path(folder) == source and n in NOT_COPIED],
                    dirs_exist_ok=True)


def rescore_run(path: Path, overrides: list[str], data_parent: Path | None, out: Path | None = None) -> dict[str, Any]:
    """Score every decoded split of the run at `path` again from its hypotheses with `overrides` applied to its
    `eval.*` scoring settings, into `out` (a copy without checkpoints) or in place; config.yaml takes the new
    settings and each rescored entry of results.json says so under `rescored`. Returns the rescored entries."""
    check_rescorable(overrides)
    run = RunDir(Path(path))
    results = run.read_results() if run.config.is_file() else None
    if results is None:
        raise UserError(f"{path}: no config.yaml and results.json; is this a finished seq2seq-train run directory?")
    from seq2seq.config import load_run_config

    # Scored with the typed config (eval keys added since the run take their defaults; overrides checked);
    # config.yaml keeps the run's own keys with the overrides.
    settings = load_run_config(run.config, overrides)
    raw = run_config(run)
    raw.merge_with_dotlist(overrides)
    corpus = build_corpus(raw, data_parent)
    if corpus is None:
        raise UserError(f"{path}: the {raw.data.name} references are not here; give the folder that holds "
                        f"{raw.data.name}/ (--data-root or SEQ2SEQ_DATA)")
    if (changed := generator_changed(run, raw, corpus)) is not None:
        raise UserError(f"{changed}: its references cannot be rebuilt, so its hypotheses cannot be scored again")
    missing = [key for key in results.splits if not run.hypotheses(key).is_file()]
    if missing:
        raise UserError(f"{path}: no hypotheses for {', '.join(missing)} (hypotheses/KEY.txt); scores without their "
                        f"outputs cannot be redone")
    rescored = {}
    for key, entry in results.splits.items():
        text, hypotheses = corpus.load(entry.get("split", key)), read_hypotheses(run.hypotheses(key))
        if len(hypotheses) != len(text.tgt):
            raise UserError(f"{run.hypotheses(key)}: {len(hypotheses)} lines for {len(text.tgt)} references")
        rescored[key] = {**entry, **rescore_split(hypotheses, text, settings, corpus),
                         "rescored": {"overrides": list(overrides), "code": code_identity()}}
    target = run if out is None else RunDir(Path(out))
    if out is not None:
        copy_run(run.path, target.path)
    results.splits = rescored
    write_json(target.results_path(), results.to_json())
    OmegaConf.save(raw, target.config)
    return rescored
