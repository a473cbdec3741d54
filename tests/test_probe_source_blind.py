"""The contrastive test's floor: a model of the English alone sits at 50% on every contrast kind, in
every bucket and grid cell, where the earlier attractor contrast (main verb replaced by a relative
clause's) let it win; the Kneser–Ney model is a proper distribution; the grid's distance effect pairs
items of equal length and tests their difference."""

from __future__ import annotations

import math
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest

from seq2seq.data.probe import ProbeCorpus
from seq2seq.data.probe.contrast import CONTRAST_KINDS, build_contrasts, kind_tables, outcomes, swap_main_verb
from seq2seq.data.probe.corpus import grid_cells
from seq2seq.data.probe.distance_effect import distance_effect, matched_pairs
from seq2seq.data.probe.source_blind import KneserNeyLM
from seq2seq.reporting.tables import SOURCE_BLIND, read_report_csv
from seq2seq.scoring.bootstrap import BootstrapSettings

CONFIG = {"seed": 11, "splits": {"train": 6000, "test": 1200}, "stratified_splits": ["test"], "grid_per_cell": 40}
MIN_BUCKET = 20  # smaller buckets' percentile intervals are too coarse to test against


@pytest.fixture(scope="module")
def corpus() -> ProbeCorpus:
    return ProbeCorpus(**CONFIG)


def test_kneser_ney_probabilities_sum_to_one_in_seen_and_unseen_contexts():
    lm = KneserNeyLM(["The cat sat on the mat.", "The dog sat.", "A cat saw the dog, which slept."])
    vocabulary = list(lm.tables[1][()])
    for context in [("<s>", "<s>"), ("<s>", "The"), ("the", "cat"), ("dog", "which"), ("never", "seen")]:
        total = sum(lm.probability(word, context) for word in vocabulary) + lm.probability("unknown-word", context)
        assert total == pytest.approx(1.0, abs=1e-12), context
    assert lm.log_prob("The cat sat.") > lm.log_prob("The sat cat.")
    assert lm.log_prob("The cat sat.") == pytest.approx(sum(math.log(lm.probability(w, c)) for w, c in [
        ("The", ("<s>", "<s>")), ("cat", ("<s>", "The")), ("sat", ("The", "cat")), (".", ("cat", "sat")),
        ("</s>", ("sat", "."))]))


def old_attractors(text) -> list[tuple[int, str]]:
    """The attractor contrast used before issue 28: the main verb alone replaced by the nearest
    relative-clause verb, preferring its transitivity, so the attractor then occurs twice."""
    contrasts = []
    for item, meta in enumerate(text.meta):
        verbs = [v for v in meta["relative_verbs"] if v["en"] != meta["main_verb"]]
        if verbs:
            verbs.sort(key=lambda v: (v["transitive"] != meta["main_verb_transitive"],
                                      not meta["subject_index"] < v["index"] < meta["verb_index"],
                                      abs(v["index"] - meta["verb_index"])))
            contrasts.append((item, swap_main_verb(text.tgt[item], meta, verbs[0]["en"])))
    return contrasts


def floor_intervals(corpus: ProbeCorpus, split: str, level: float) -> list[tuple[str, dict]]:
    """(where, summary) of every bucket and cell of the source-blind model's tables on `split`."""
    text = corpus.load(split)
    contrasts = build_contrasts(text, corpus.config.seed)
    blind = corpus.source_blind().scores(text.tgt + [c.tgt for c in contrasts])
    cells = [cell for cell, _, _ in grid_cells(corpus.config)] if split == "grid" else None
    tables = kind_tables(text, contrasts, blind[: len(text)], blind[len(text):], corpus.config.distance_edges,
                         [0, 10, 20, 30, 40, 50, 60, 70], BootstrapSettings(resamples=4000, level=level), cells)
    return [(f"{split} {kind} {view} {row.get('bucket', 'all')}", row) for kind in CONTRAST_KINDS
            for view in ("overall", "by_distance", "by_length", "by_cell")
            for row in ([tables[kind][view]] if view == "overall" else tables[kind].get(view, []))]


def test_a_source_blind_model_sits_at_50_percent_in_every_bucket_and_cell(corpus):
    """Simultaneous 95% intervals (Bonferroni over every bucket tested) all hold 50%: with ~50 intervals
    at 95% each, two or three would miss by chance alone."""
    tested = [row for split in ("test", "grid") for _, row in floor_intervals(corpus, split, 0.95) if row["count"] >= MIN_BUCKET]
    level = 1 - 0.05 / len(tested)
    rows = [(where, row) for split in ("test", "grid") for where, row in floor_intervals(corpus, split, level)
            if row["count"] >= MIN_BUCKET]
    assert len(rows) == len(tested) > 30
    missed = [(where, row["count"], round(row["accuracy"], 3), row["ci"]) for where, row in rows
              if not row["ci"][0] <= 0.5 <= row["ci"][1]]
    assert not missed, missed


def test_the_earlier_attractor_contrast_is_won_without_the_source(corpus):
    """The power behind the test above: the same model beats the contrast issue 28 replaced."""
    text = corpus.load("test")
    contrasts = old_attractors(text)
    lm = corpus.source_blind()
    won = outcomes(lm.scores([text.tgt[item] for item, _ in contrasts]), lm.scores([tgt for _, tgt in contrasts]))
    assert len(won) > 700 and won.mean() > 0.55, won.mean()


def test_the_corpus_reports_the_floor_on_the_models_own_contrasts(corpus, tmp_path):
    from seq2seq.data.tokenizer import TokenizerSettings, build_tokenizer
    from test_probe_contrast import Indifferent

    grid = corpus.load("grid")
    tokenizer = build_tokenizer(TokenizerSettings(vocab_size=400), corpus.load("train"), tmp_path)
    result = corpus.targeted_metrics(Indifferent(tokenizer.tgt_vocab_size), tokenizer, grid, "fp32",
                                     BootstrapSettings(resamples=100))["contrastive"]
    blind = result["source_blind"]
    assert blind["model"].startswith("word 3-gram Kneser-Ney LM of the 6000 English targets of train")
    for kind in CONTRAST_KINDS:
        own, floor = result["kinds"][kind], blind["kinds"][kind]
        assert [r["count"] for r in own["by_cell"]] == [r["count"] for r in floor["by_cell"]]
        assert own["overall"]["count"] == floor["overall"]["count"] > 100
        assert [(r["band"], r["near"], r["far"], r["pairs"]) for r in own["distance_effect"]] == \
            [(r["band"], r["near"], r["far"], r["pairs"]) for r in floor["distance_effect"]]
    bands = [row["band"] for row in result["kinds"]["random"]["distance_effect"]]
    assert bands == ["L15-19", "L25-29", "L35-39"]
    assert [row["far"] for row in result["kinds"]["random"]["distance_effect"]] == ["D10-19", "D20-29", "D20-29"]


def test_distance_effect_pairs_equal_lengths_and_tests_the_difference():
    cells = ["L10-12 D1-4", "L10-12 D5-9", "L10-12 D20-29", "L30-32 D1-4", "L30-32 D20-29"]
    labels = ["L10-12 D1-4"] * 30 + ["L10-12 D20-29"] * 32 + ["L30-32 D1-4"] * 40 + ["L30-32 D20-29"] * 40
    lengths = [10, 11, 12] * 10 + [10, 11, 12] * 10 + [12, 12] + [30, 31] * 20 + [30, 31] * 20
    correct = np.array([1.0] * 30 + [0.0] * 32 + [1.0, 0.0] * 20 + [1.0, 0.0] * 20)
    near_far = distance_effect(correct, labels, lengths, cells, BootstrapSettings(resamples=2000))
    first, second = near_far
    assert (first["band"], first["near"], first["far"], first["pairs"]) == ("L10-12", "D1-4", "D20-29", 30)
    assert first["difference"] == 1.0 and first["ci"] == [1.0, 1.0] and first["p"] < 0.001
    assert (second["pairs"], second["difference"], second["p"]) == (40, 0.0, 1.0)
    # pairs hold equal lengths, in item order at each length, and the extras at length 12 go unpaired
    pairs = matched_pairs(list(range(30)), list(range(30, 62)), lengths)
    assert len(pairs) == 30 and all(lengths[a] == lengths[b] for a, b in pairs) and (60, 61) not in pairs
    one_cell = distance_effect(correct[:30], labels[:30], lengths[:30], cells, BootstrapSettings(resamples=10))
    assert one_cell == []  # a band needs two non-empty cells


RECORDED = Path(__file__).resolve().parent.parent / "experiments" / "context_loss" / "report.csv"


def test_the_recorded_experiments_floor_sits_at_chance_in_every_bucket_and_cell():
    """The committed context_loss report: every source-blind accuracy holds 50%, and every paired
    difference (the grid's distance tests, the factorial's effects) holds 0, within simultaneous 95% intervals
    (each recorded 95% bootstrap interval widened to the Bonferroni level over all of them)."""
    rows = [row for row in read_report_csv(RECORDED) if row["model"] == SOURCE_BLIND
            and row["measure"].startswith("contrastive_") and (row["count"] or 0) >= MIN_BUCKET]
    splits, views = {row["split"] for row in rows}, {row["view"] for row in rows}
    assert splits in ({"test", "grid"}, {"test", "factorial"}) and views >= {"distance", "cell"} and views & {"band", "factorial"}
    widen = NormalDist().inv_cdf(1 - 0.025 / len(rows)) / NormalDist().inv_cdf(0.975)
    missed = []
    for row in rows:
        null = 0.0 if row["view"] in ("band", "factorial") else 0.5
        half = widen * (row["ci"][1] - row["ci"][0]) / 2
        if abs(row["mean"] - null) > max(half, 1e-9):
            missed.append((row["split"], row["measure"], row["bucket"], row["count"], row["mean"], row["ci"]))
    assert not missed, missed


def test_the_recorded_floor_is_rebuilt_from_the_corpus_alone(tmp_path):
    """Issue 33: the source-blind floor needs no trained model, so it is made again here from nothing but the
    recorded run's config: the probe generated anew, the tokenizer trained anew (it decides which contrasts
    keep the reference's subword count), the trigram model of the training targets, the same contrasts. Its
    tables must be the committed ones (by length excepted: that run labelled its last length bucket 60-69)."""
    from seq2seq.data.tokenizer import TokenizerSettings, build_tokenizer
    from seq2seq.reporting.rescore import build_corpus, generator_changed, run_config
    from seq2seq.run_dir import RunDir

    run_dir = RunDir(RECORDED.parent / "0_rnn")
    config = run_config(run_dir)
    corpus = build_corpus(config, None)
    if (changed := generator_changed(run_dir, config, corpus)) is not None:
        pytest.skip(changed)
    settings = config.tokenizer
    tokenizer = build_tokenizer(TokenizerSettings(settings.model_type, settings.vocab_size, settings.joint,
                                                  settings.character_coverage), corpus.load("train"), tmp_path)
    recorded = run_dir.read_results().splits
    bootstrap = BootstrapSettings.from_config(config.eval.bootstrap)
    for split in [name for name in recorded if "contrastive" in recorded[name]]:
        text = corpus.load(split)
        contrasts = build_contrasts(text, corpus.config.seed, lambda s: len(tokenizer.encode_tgt([s])[0]))
        blind = corpus.source_blind().scores(text.tgt + [c.tgt for c in contrasts])
        distance_edges, length_edges, cells = corpus.contrast_views({meta.get("cell", "") for meta in text.meta})
        tables = kind_tables(text, contrasts, blind[: len(text)], blind[len(text):], distance_edges, length_edges,
                             bootstrap, cells)
        floor = recorded[split]["contrastive"]["source_blind"]["kinds"]
        for kind in CONTRAST_KINDS:
            for view in ("overall", "by_distance", "by_cell", "distance_effect", "factorial_effects"):
                assert tables[kind].get(view) == floor[kind].get(view), (split, kind, view)
