"""Named experiments and launchers compose from the packaged configs, without running anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

REPO = Path(__file__).resolve().parents[1]


def composed(*overrides: str):
    with initialize_config_module(config_module="seq2seq.conf", version_base="1.3"):
        return compose("config", overrides=list(overrides), return_hydra_config=True)


@pytest.mark.parametrize(
    "experiment,data,budget,sweep",
    [
        ("context_loss", "probe", {"max_steps": 3000}, {"model": "rnn,rnn_attention,transformer", "seed": "1,2,3"}),
        ("context_loss_30_50", "probe", {"max_steps": 3000}, {"model": "rnn,rnn_attention", "data.train_max_words": "30,50"}),
        ("context_loss_multi30k", "multi30k", {"max_minutes": 60, "patience": 5}, {"model": "rnn,rnn_attention,transformer"}),
        ("quick", "probe", {"max_steps": 5000, "max_minutes": 8}, {"model": "rnn,rnn_attention"}),
        ("context_loss_wmt_ted", "wmt_ted", {"valid_every": 500, "patience": 6}, {"model": "rnn,rnn_attention,transformer"}),
        ("context_loss_debian_docs", "debian_docs", {"valid_every": 500, "patience": 6},
         {"model": "rnn,rnn_attention,transformer"}),
        ("attention_family", "probe", {"max_steps": 3000},
         {"+variant": "rnn,rnn_reversed,rnn_birnn,rnn_lstm,additive,dot,general,multihead,transformer,transformer_1head,"
                      "decoder_only", "seed": "1,2,3"}),
    ],
)
def test_experiments_pick_data_training_and_the_sweep(experiment, data, budget, sweep):
    config = composed(f"+experiment={experiment}")
    assert config.data.name == data
    assert {key: config.train[key] for key in budget} == budget
    assert dict(config.hydra.sweeper.params) == sweep


def test_each_corpus_brings_its_training_recipe_and_model_sizes():
    """train: ${data}, recipe@train and sizes@model: ${data}_${model} in config.yaml: the probe's small,
    dropout-free models, and more updates for the plain RNN than for the attention models."""
    probe, multi30k = composed("model=rnn"), composed("model=rnn", "data=multi30k")
    assert (probe.train.max_steps, probe.train.schedule, probe.model.encoder.hidden_size) == (5000, "constant", 256)
    assert composed("model=rnn_attention").train.max_steps == composed("model=transformer").train.max_steps == 3000
    assert (multi30k.train.max_steps, multi30k.train.schedule, multi30k.model.encoder.hidden_size) == (None, "noam", 512)
    assert composed("model=rnn", "train=tiny").train.max_epochs == 2  # an explicit preset still wins


def test_the_main_job_and_the_recorded_experiments_report_when_the_sweep_ends():
    for experiment in ("quick", "context_loss", "context_loss_30_50", "context_loss_wmt_ted", "context_loss_debian_docs",
                       "attention_family"):
        callbacks = composed(f"+experiment={experiment}").hydra.callbacks
        assert callbacks.report._target_ == "seq2seq.reporting.callback.ReportWhenSweepEnds", experiment


def test_an_experiment_still_takes_command_line_overrides():
    config = composed("+experiment=context_loss", "train.max_epochs=1", "data.corpus.splits.train=100")
    assert config.train.max_epochs == 1 and config.data.corpus.splits.train == 100


@pytest.mark.parametrize(
    "launcher,target",
    [("joblib", "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"),
     ("submitit_slurm", "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher")],
)
def test_sweep_launchers_compose_without_a_cluster(launcher, target):
    pytest.importorskip(f"hydra_plugins.hydra_{launcher.split('_')[0]}_launcher")
    config = composed("+experiment=quick", f"hydra/launcher={launcher}")
    assert config.hydra.launcher._target_ == target


def test_parallel_joblib_jobs_split_the_cores_and_other_launchers_leave_threads_alone():
    from seq2seq.cli import threads_for_launcher

    joblib = "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"
    assert threads_for_launcher({"_target_": joblib, "n_jobs": 2}, cores=2) == 1
    assert threads_for_launcher({"_target_": joblib, "n_jobs": 2}, cores=16) == 8
    assert threads_for_launcher({"_target_": joblib, "n_jobs": -1}, cores=4) == 1
    assert threads_for_launcher({"_target_": joblib, "n_jobs": 1}, cores=4) == 4
    basic = "hydra._internal.core_plugins.basic_launcher.BasicLauncher"
    assert threads_for_launcher({"_target_": basic}, cores=4) is None


def test_the_readme_slurm_command_composes():
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    config = composed("+experiment=context_loss", "hydra/launcher=submitit_slurm", "hydra.launcher.partition=gpu",
                      "hydra.launcher.timeout_min=240", "hydra.launcher.gpus_per_node=1", "device=cuda")
    launcher = config.hydra.launcher
    assert (launcher.partition, launcher.timeout_min, launcher.gpus_per_node, config.device) == ("gpu", 240, 1, "cuda")


def test_the_wmt_ted_experiment_scores_both_splits_in_quantile_buckets():
    config = composed("+experiment=context_loss_wmt_ted")
    assert list(config.data.test_splits) == ["test", "long"]
    assert (config.eval.buckets.mode, config.eval.buckets.quantiles) == ("quantile", 8)


@pytest.mark.parametrize("data,valid", [("probe", "valid"), ("multi30k", "val")])
def test_a_recipe_search_decodes_the_validation_split_only(data, valid):
    """Issue 28: the Multi30k recipe trials decoded the headline test set for every recipe; a search must not."""
    from seq2seq.config import test_split_names

    config = composed("+experiment=recipe_search", f"data={data}")
    assert test_split_names(config) == [valid] == [config.data.valid_split]
    assert dict(config.hydra.sweeper.params) == {"model": "rnn,rnn_attention,transformer"}


def test_the_recipe_trial_scripts_search_on_validation():
    """Every seq2seq sweep the committed trial scripts launch goes through +experiment=recipe_search, and none
    names the splits to decode itself."""
    checked = 0
    for script in sorted((REPO / "experiments").glob("*_trials/**/*.sh")):
        lines = script.read_text().replace("\\\n", " ").splitlines()  # one line per command
        launched = " ".join(line for line in lines if "-m seq2seq" in line or line.startswith("common="))
        if launched:
            assert "+experiment=recipe_search" in launched and "eval.splits" not in launched, script
            checked += 1
    assert checked == 2  # gpu_recipes/round1.sh and round2.sh


REAL_DATA_TRIALS = sorted((REPO / "experiments").glob("*_trials/round*/**/results.json"))


def test_the_real_data_recipe_trials_decoded_dev_alone():
    """Issue 37: the committed trial runs that chose the debian_docs and wmt_ted recipes decoded their corpus's
    validation split and nothing else, so no recipe was chosen by a test score."""
    import json

    from omegaconf import OmegaConf

    corpora = set()
    for results_file in REAL_DATA_TRIALS:
        run = results_file.parent
        config = OmegaConf.load(run / "config.yaml")
        decoded = {path.name.split(".")[0] for path in (run / "hypotheses").iterdir()}
        assert set(json.loads(results_file.read_text())["splits"]) == decoded == {config.data.valid_split}, run
        corpora.add(config.data.name)
    assert corpora == {"debian_docs", "wmt_ted"}


@pytest.mark.parametrize("variant,name,budget", [
    ("rnn", "rnn", 5000), ("rnn_reversed", "rnn_reversed", 5000), ("rnn_birnn", "rnn_birnn", 5000),
    ("rnn_lstm", "rnn_lstm", 5000), ("additive", "rnn_attention", 3000), ("dot", "rnn_attention_dot", 3000),
    ("general", "rnn_attention_general", 3000), ("multihead", "rnn_attention_multihead", 3000),
    ("transformer", "transformer", 3000), ("transformer_1head", "transformer_1head", 3000),
    ("decoder_only", "decoder_only", 3000),
])
def test_each_attention_family_variant_is_its_own_model_with_its_presets_recipe_and_sizes(variant, name, budget):
    """Issue 34: a variant names itself (the report groups runs by model.name, so variants are never averaged as
    seeds of one model) and trains with its preset's probe recipe and sizes, as +experiment=context_loss does."""
    config = composed("+experiment=attention_family", f"+variant={variant}")
    assert (config.model.name, config.train.max_steps) == (name, budget)
    width = config.model.encoder.get("d_model") or config.model.encoder.hidden_size * (
        2 if config.model.encoder.bidirectional else 1)
    assert width in (128, 256), "the probe's sizes (conf/sizes/probe_*.yaml), not the defaults"
