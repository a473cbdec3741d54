"""Every run recorded in experiments/attention_family is what `+experiment=attention_family` composes for its variant
and seed. Nine of them were trained in the context_loss sweep and rescored into these buckets (seq2seq-rescore):
this is what shows they are the runs this experiment would train, and it fails once either experiment changes."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from test_experiments import composed as with_hydra

RECORD = Path(__file__).resolve().parent.parent / "experiments" / "attention_family"
RUNS = sorted(p.parent.name for p in RECORD.glob("*/config.yaml"))
# Where a run was made, not what it is: threads (the launcher's share of the cores), the tokenizer cache's
# path, and whether training was resumed. A run recorded with `precision: auto` is compared by the precision
# that results.json says it trained in.
ENVIRONMENT = {"threads", "tokenizer.cache_dir", "train.resume"}


def flat(tree: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in tree.items():
        out.update(flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return out


def composed(*overrides: str) -> dict:
    with initialize_config_module(config_module="seq2seq.conf", version_base="1.3"):
        return flat(OmegaConf.to_container(compose("config", overrides=list(overrides)), resolve=True))


@functools.cache
def variants() -> dict[str, str]:
    """Each variant's model name (what a run's config records) to the variant that sets it."""
    listed = with_hydra("+experiment=attention_family").hydra.sweeper.params["+variant"].split(",")
    return {composed("+experiment=attention_family", f"+variant={v}")["model.name"]: v for v in listed}


def test_the_record_holds_runs():
    assert RUNS, "experiments/attention_family holds no run"


@pytest.mark.parametrize("run", RUNS)
def test_a_recorded_run_is_what_the_experiment_composes_for_its_variant_and_seed(run):
    recorded = flat(OmegaConf.to_container(OmegaConf.load(RECORD / run / "config.yaml"), resolve=True))
    if recorded["precision"] == "auto":  # what `auto` chose on the machine that trained it
        recorded["precision"] = json.loads((RECORD / run / "results.json").read_text(encoding="utf-8"))["precision"]
    variant = variants()[recorded["model.name"]]
    expected = composed("+experiment=attention_family", f"+variant={variant}", f"seed={recorded['seed']}")
    differing = sorted(key for key in set(recorded) | set(expected)
                       if key not in ENVIRONMENT and recorded.get(key, "<absent>") != expected.get(key, "<absent>"))
    assert not differing, (f"experiments/attention_family/{run} is not what +experiment=attention_family "
                           f"+variant={variant} seed={recorded['seed']} composes: "
                           + "; ".join(f"{k}: {recorded.get(k, '<absent>')} != {expected.get(k, '<absent>')}"
                                       for k in differing[:5]))
