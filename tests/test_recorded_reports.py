"""Every recorded number goes back to its runs: each experiment's report.md, report.csv and runs.csv equal what
`seq2seq-report` writes from its committed run directories, and each run's results.json equals its committed
hypotheses scored again against the references (the probe's generated from the run's config.yaml; Multi30k's
and wmt_ted's read from $SEQ2SEQ_DATA). A number typed into a report, or into results.json, fails here.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from seq2seq.reporting.rescore import (build_corpus, differences, generator_changed, read_hypotheses, rescore_split,
                                       run_config)
from seq2seq.reporting.sweep import write_report
from seq2seq.run_dir import RunDir

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS = ROOT / "experiments"
REPORT_FILES = ("report.md", "report.csv", "runs.csv")
# A report written from other folders than its own, with the command its README gives: (sweeps, --split).
REPORT_SOURCES = {
    "multi30k_trials/gpu_recipes": (["round1", "round2_batch2048", "round2_batch1024"], ["test_2016_flickr"]),
}
REPORTS = sorted(str(p.parent.relative_to(EXPERIMENTS)) for p in EXPERIMENTS.rglob("report.csv"))
RUNS = sorted(str(p.parent.relative_to(EXPERIMENTS)) for p in EXPERIMENTS.rglob("results.json"))
CONTRAST_FILES = sorted(str(p.relative_to(EXPERIMENTS)) for p in EXPERIMENTS.rglob("contrasts/*.tsv"))


@pytest.mark.parametrize("report", REPORTS)
def test_a_recorded_report_is_what_seq2seq_report_writes_from_its_runs(report, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # run names in a report of several sweeps are their paths as given
    folder = Path("experiments") / report
    sweeps, splits = REPORT_SOURCES.get(report, (["."], None))
    write_report([folder / sweep for sweep in sweeps], splits, tmp_path)
    for name in REPORT_FILES:
        recorded, regenerated = (folder / name).read_text(encoding="utf-8"), (tmp_path / name).read_text(encoding="utf-8")
        if recorded != regenerated:
            first = next(n for n, (a, b) in enumerate(zip([*recorded.splitlines(), ""], regenerated.splitlines()), 1) if a != b)
            pytest.fail(f"{folder / name} line {first} is not what seq2seq-report writes from the runs: "
                        f"{recorded.splitlines()[first - 1:first]} != {regenerated.splitlines()[first - 1:first]}; "
                        f"a number was typed, or the runs changed: run seq2seq-report "
                        f"{' '.join(str(folder / s) for s in sweeps)} --out {folder}"
                        + (f" --split {' --split '.join(splits)}" if splits else ""))


@functools.cache
def corpus_of(corpus_yaml: str, data_parent: str | None):
    """One corpus per distinct config: the probe's 60,000 training pairs are generated once for nine runs."""
    config = OmegaConf.create({"data": {"corpus": OmegaConf.create(corpus_yaml)}})
    return build_corpus(config, None if data_parent is None else Path(data_parent))


@pytest.mark.parametrize("run", RUNS)
def test_a_recorded_run_scores_its_committed_hypotheses_as_results_json_says(run):
    run_dir = RunDir(EXPERIMENTS / run)
    config = run_config(run_dir)
    recorded = run_dir.read_results().splits
    splits = [split for split in recorded if run_dir.hypotheses(split).is_file()]
    if not splits:
        pytest.skip(f"experiments/{run} keeps no hypotheses, so results.json cannot be scored again")
    corpus = corpus_of(OmegaConf.to_yaml(config.data.corpus), os.environ.get("SEQ2SEQ_DATA"))
    if corpus is None:
        pytest.skip(f"the {config.data.name} references are not here: set SEQ2SEQ_DATA to a folder holding "
                    f"{config.data.name}/ to score experiments/{run} again")
    unchecked = []
    for split in splits:
        text = corpus.load(recorded[split].get("split", split))  # test.greedy: a second decoding of `test`
        hypotheses = read_hypotheses(run_dir.hypotheses(split))
        found = ([f"{len(hypotheses)} hypotheses for {len(text.tgt)} references"] if len(hypotheses) != len(text.tgt)
                 else differences(recorded[split], rescore_split(hypotheses, text, config, corpus)))
        if found and (changed := generator_changed(run_dir, config, corpus)) is not None:
            unchecked.append(split)
            continue
        assert not found, (f"experiments/{run}/results.json, split '{split}', is not what its hypotheses score: "
                           + "; ".join(found[:5]) + f" ({len(found)} differences)")
    if unchecked:
        pytest.skip(f"{changed}; split(s) {', '.join(unchecked)} left unchecked (the others match): re-record the experiment")


@pytest.mark.parametrize("path", CONTRAST_FILES)
def test_a_recorded_runs_contrastive_numbers_are_rebuilt_from_its_contrast_records(path):
    """Issue 33: every contrastive accuracy, interval and paired distance test of a recorded run (and its
    source-blind floor) is recomputed from the run's per-contrast records, not only cross-checked."""
    from seq2seq.data.probe.contrast import read_items
    from seq2seq.scoring.bootstrap import BootstrapSettings

    file = EXPERIMENTS / path
    run_dir = RunDir(file.parent.parent)
    config = run_config(run_dir)
    corpus = build_corpus(config, None)
    recorded = run_dir.read_results().splits[file.stem]["contrastive"]
    rebuilt = corpus.tables_from_items(read_items(file), BootstrapSettings.from_config(config.eval.bootstrap))
    assert rebuilt["kinds"] == recorded["kinds"], f"experiments/{path} does not rebuild its results.json"
    assert rebuilt["source_blind"]["kinds"] == recorded["source_blind"]["kinds"]
