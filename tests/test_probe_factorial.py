"""The factorial split: each item is the same words in four cells of distance × attractor, built so that only the
two factors differ; the training grammar makes its subjects; the paired effects recover known differences and a
model of the English alone sits at 50% in every cell."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from seq2seq.data.probe import ProbeCorpus
from seq2seq.data.probe.contrast import CONTRAST_KINDS, attractor_verb, build_contrasts, kind_tables, trade_verbs
from seq2seq.data.probe.distance_effect import FACTORIAL_EFFECTS, factorial_effects
from seq2seq.data.probe.factorial import FACTORIAL_CELLS, NEAR_DISTANCE, SUBJECT_PIECES, factorial_item, item_groups
from seq2seq.data.probe.grammar import NP, Clause, sample_clause
from seq2seq.data.probe.metrics import format_probe_metrics
from seq2seq.data.tokenizer import TokenizerSettings, build_tokenizer
from seq2seq.errors import UserError
from seq2seq.scoring.bootstrap import BootstrapSettings
from test_probe_contrast import KnowsTheAnswer

FILLERS = 2
CONFIG = {"seed": 5, "splits": {"train": 6000, "test": 100}, "stratified_splits": ["test"], "max_pp_chain": 4,
          "factorial_items": 1000, "factorial_fillers": FILLERS}


@pytest.fixture(scope="module")
def items() -> list[list]:
    rng = random.Random(1)
    return [factorial_item(rng, FILLERS) for _ in range(200)]


@pytest.fixture(scope="module")
def corpus() -> ProbeCorpus:
    return ProbeCorpus(**CONFIG)


def words(sentence: str) -> Counter:
    return Counter(word.strip(",.").lower() for word in sentence.split())


def test_an_item_is_the_same_words_in_every_cell(items):
    for item in items:
        assert [pair.meta["cell"] for pair in item] == list(FACTORIAL_CELLS)
        assert len({pair.src for pair in item}) == 4
        assert all(words(pair.src) == words(item[0].src) for pair in item), [p.src for p in item]
        assert all(words(pair.tgt) == words(item[0].tgt) for pair in item), [p.tgt for p in item]
        assert len({pair.meta["length"] for pair in item}) == 1


def hosts(pair) -> list[str]:
    """The noun each relative clause of a pair hangs on (its pronoun's antecedent)."""
    return [word.head for word in pair.words if word.pos == "REL"]


def test_the_attractor_never_hangs_on_the_subject_and_the_same_noun_hosts_it_at_both_distances(items):
    """Between the subject and its verb, R hangs on A's noun at either distance, so near and far differ in distance
    alone; a relative clause on the subject would share the main verb's subject."""
    for near_between, near_after, far_between, far_after in items:
        assert hosts(near_between) == hosts(far_between) != [near_between.meta["subject_de"]]
        assert hosts(near_after) == hosts(far_after) != hosts(near_between)


def test_distance_and_the_attractor_move_and_nothing_else(items):
    """Near cells put the verb 9 words after the subject, far cells as far again as the fillers; the attractor, the
    sentence's one relative-clause verb and its contrast, stands right before the main verb or equally far after
    it at both distances; the English main verb moves with distance only."""
    far_distances = set()
    for near_between, near_after, far_between, far_after in ([p.meta for p in item] for item in items):
        assert near_between["distance"] == near_after["distance"] == NEAR_DISTANCE
        assert far_between["distance"] == far_after["distance"] >= NEAR_DISTANCE + 3 * FILLERS
        far_distances.add(far_between["distance"])
        assert near_between["attractor_offset"] == far_between["attractor_offset"] == -1
        assert near_after["attractor_offset"] == far_after["attractor_offset"] >= 6
        assert near_between["main_verb_word"] == near_after["main_verb_word"]
        assert far_between["main_verb_word"] == far_after["main_verb_word"] > near_between["main_verb_word"]
        for meta in (near_between, near_after, far_between, far_after):
            [relative] = meta["relative_verbs"]
            assert meta["main_verb_transitive"] and relative["transitive"]
            assert attractor_verb(meta, lambda verb: True) == relative["en"] != meta["main_verb"]
            between = meta["subject_index"] < relative["index"] < meta["verb_index"]
            assert between == meta["attractor_between"] == meta["cell"].endswith("between")
    assert far_distances == set(range(NEAR_DISTANCE + 3 * FILLERS, NEAR_DISTANCE + 4 * FILLERS + 1))  # 3 or 4 words each


def chain(np: NP) -> int:
    """The longest chain of noun PPs below `np`."""
    return 0 if np.pp is None else 1 + chain(np.pp.np)


def longest_subject_chain(max_pp_chain: int, sentences: int = 3000) -> int:
    rng, longest = random.Random(0), 0
    for _ in range(sentences):
        clause: Clause | None = sample_clause(rng, rng.randint(15, 40), 0, 40, max_pp_chain)
        if clause is not None:
            longest = max(longest, chain(clause.subject))
    return longest


def test_training_subjects_chain_as_many_pps_as_the_far_after_cell():
    assert longest_subject_chain(2) == 2
    assert longest_subject_chain(FILLERS + SUBJECT_PIECES) == FILLERS + SUBJECT_PIECES


def test_the_split_is_made_in_item_order_apart_from_the_others_and_again_the_same(corpus):
    text = corpus.load("factorial")
    assert len(text) == 4 * CONFIG["factorial_items"]
    assert [meta["cell"] for meta in text.meta[:8]] == list(FACTORIAL_CELLS) * 2
    assert item_groups([0, 3, 4, 3999]) == [0, 0, 1, 999]
    others = {s for name in CONFIG["splits"] for s in corpus.load(name).src}
    assert not others & set(text.src)
    again = ProbeCorpus(**CONFIG)
    assert again.load("factorial").src == text.src and again.fingerprint() == corpus.fingerprint()
    assert ProbeCorpus(**{**CONFIG, "factorial_items": 0}).fingerprint() != corpus.fingerprint()


def test_fillers_longer_than_the_training_chains_are_refused():
    with pytest.raises(ValueError, match="factorial_fillers=2 chains 4 PPs.*max_pp_chain=3"):
        ProbeCorpus(**{**CONFIG, "max_pp_chain": 3})
    with pytest.raises(UserError, match="data.corpus.factorial_items=N adds 'factorial'"):
        ProbeCorpus(**{**CONFIG, "factorial_items": 0}).load("factorial")


def outcomes_with(effects: dict[str, float], items: int, seed: int = 0) -> tuple[np.ndarray, list[str], list[int]]:
    """Outcomes of `items` items whose cells' accuracies are set by `effects` (cell -> probability), drawn at random."""
    rng = np.random.default_rng(seed)
    labels = [cell for _ in range(items) for cell in FACTORIAL_CELLS]
    correct = np.array([float(rng.random() < effects[cell]) for cell in labels])
    return correct, labels, item_groups(list(range(len(labels))))


def test_paired_effects_find_an_attractor_that_costs_only_when_far():
    truth = {"near-between": 0.9, "near-after": 0.9, "far-between": 0.6, "far-after": 0.9}
    correct, labels, groups = outcomes_with(truth, 400)
    rows = {row["effect"]: row for row in factorial_effects(correct, labels, groups, list(FACTORIAL_CELLS),
                                                            BootstrapSettings(resamples=2000))}
    assert list(rows) == [name for name, _ in FACTORIAL_EFFECTS]
    cell = {label: correct[[i for i, l in enumerate(labels) if l == label]].mean() for label in FACTORIAL_CELLS}
    assert rows["distance, attractor between"]["difference"] == pytest.approx(cell["near-between"] - cell["far-between"])
    assert rows["attractor, far"]["accuracy_a"] == pytest.approx(cell["far-after"])
    assert rows["interaction"]["difference"] == pytest.approx(
        (cell["near-between"] - cell["far-between"]) - (cell["near-after"] - cell["far-after"]))
    assert "accuracy_a" not in rows["interaction"]
    for name in ("distance, attractor between", "attractor, far", "distance", "attractor", "interaction"):
        assert rows[name]["p"] < 0.001 and rows[name]["ci"][0] > 0, name
    for name in ("distance, attractor after", "attractor, near"):
        assert rows[name]["ci"][0] < 0 < rows[name]["ci"][1], name


def test_an_item_missing_a_cell_leaves_only_the_effects_that_need_it():
    correct, labels, groups = outcomes_with(dict.fromkeys(FACTORIAL_CELLS, 0.5), 10)
    keep = [i for i, (label, group) in enumerate(zip(labels, groups)) if not (group == 0 and label == "far-after")]
    rows = {row["effect"]: row["pairs"] for row in factorial_effects(
        correct[keep], [labels[i] for i in keep], [groups[i] for i in keep], list(FACTORIAL_CELLS),
        BootstrapSettings(resamples=10))}
    assert rows == {"distance, attractor between": 10, "distance, attractor after": 9, "attractor, near": 10,
                    "attractor, far": 9, "distance": 9, "attractor": 9, "interaction": 9}


def test_a_source_blind_model_sits_at_50_percent_in_every_factorial_cell(corpus):
    """Bonferroni-corrected intervals over every cell and kind all hold 50%; the attractor contrast exists for
    every pair, and the floor's paired effects hold 0 too."""
    text = corpus.load("factorial")
    contrasts = build_contrasts(text, corpus.config.seed)
    assert sum(c.kind == "attractor" for c in contrasts) == len(text)
    blind = corpus.source_blind().scores(text.tgt + [c.tgt for c in contrasts])
    level = 1 - 0.05 / (len(CONTRAST_KINDS) * len(FACTORIAL_CELLS) + len(FACTORIAL_EFFECTS))
    tables = kind_tables(text, contrasts, blind[: len(text)], blind[len(text):], corpus.config.distance_edges,
                         [0, 10, 20, 30], BootstrapSettings(resamples=4000, level=level), list(FACTORIAL_CELLS))
    rows = [(kind, row["bucket"], row) for kind in CONTRAST_KINDS for row in tables[kind]["by_cell"]]
    assert all(row["count"] >= 900 for _, _, row in rows)
    missed = [(kind, cell, row["accuracy"], row["ci"]) for kind, cell, row in rows if not row["ci"][0] <= 0.5 <= row["ci"][1]]
    assert not missed
    effects = tables["attractor"]["factorial_effects"]
    assert len(effects) == len(FACTORIAL_EFFECTS) and all(row["pairs"] == CONFIG["factorial_items"] for row in effects)
    assert all(row["ci"][0] <= 0 <= row["ci"][1] for row in effects), effects


def test_a_model_that_loses_the_subject_only_past_a_far_attractor_shows_as_the_interaction(tmp_path):
    """A stand-in that prefers the attractor contrast in the far-between cell alone: distance costs nothing
    with the attractor after the verb, everything with it between; the tables rebuild from the contrast records."""
    corpus = ProbeCorpus(seed=2, splits={"train": 300, "test": 50}, stratified_splits=["test"], max_pp_chain=4,
                         factorial_items=20)
    text = corpus.load("factorial")
    tokenizer = build_tokenizer(TokenizerSettings(vocab_size=400), corpus.load("train"), tmp_path)
    answers = [trade_verbs(tgt, meta, meta["relative_verbs"][0]["en"]) if meta["cell"] == "far-between" else tgt
               for tgt, meta in zip(text.tgt, text.meta)]
    items: list[dict] = []
    result = corpus.targeted_metrics(KnowsTheAnswer(tokenizer, text.src, answers), tokenizer, text, "fp32",
                                     BootstrapSettings(resamples=200), items=items)["contrastive"]
    attractor = result["kinds"]["attractor"]
    assert [(row["bucket"], row["count"], row["accuracy"]) for row in attractor["by_cell"]] == [
        ("near-between", 20, 1.0), ("near-after", 20, 1.0), ("far-between", 20, 0.0), ("far-after", 20, 1.0)]
    assert {row["effect"]: row["difference"] for row in attractor["factorial_effects"]} == {
        "distance, attractor between": 1.0, "distance, attractor after": 0.0, "attractor, near": 0.0,
        "attractor, far": 1.0, "distance": 0.5, "attractor": 0.5, "interaction": 1.0}
    assert corpus.tables_from_items(items, BootstrapSettings(resamples=200))["kinds"] == result["kinds"]
    assert "  attractor contrasts, interaction: +100.0 points over 20 items" in "\n".join(format_probe_metrics({"contrastive": result}))
