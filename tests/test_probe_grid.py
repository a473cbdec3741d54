"""The probe's `grid` split: length and subject–verb distance vary independently, cell by cell."""

from __future__ import annotations

import logging
import statistics
from collections import Counter

import pytest

from seq2seq.data.probe import ProbeCorpus
from seq2seq.data.probe.contrast import build_contrasts, has_attractor_contrast
from seq2seq.data.probe.metrics import format_probe_metrics
from seq2seq.data.tokenizer import TokenizerSettings, build_tokenizer
from seq2seq.errors import UserError
from seq2seq.scoring.bootstrap import BootstrapSettings
from test_probe_contrast import KnowsTheAnswer

GRID = {"seed": 3, "splits": {"train": 300, "test": 200}, "grid_per_cell": 12,
        "grid_lengths": [[12, 16], [25, 29]], "grid_distances": [[1, 4], [10, 19], [20, 29]]}


@pytest.fixture(scope="module")
def corpus() -> ProbeCorpus:
    return ProbeCorpus(**GRID)


def test_cells_hold_the_lengths_and_distances_they_claim_in_equal_numbers(corpus, caplog):
    with caplog.at_level(logging.WARNING):
        grid = ProbeCorpus(**GRID).load("grid")
    counts = {}
    for meta in grid.meta:
        lengths, distances = meta["cell"].split()
        low, high = map(int, lengths[1:].split("-"))
        near, far = map(int, distances[1:].split("-"))
        assert low <= meta["length"] <= high and near <= meta["distance"] <= far, meta
        assert len(grid.src[grid.meta.index(meta)].split()) == meta["length"]
        counts[meta["cell"]] = counts.get(meta["cell"], 0) + 1
    fillable = ["L12-16 D1-4", "L12-16 D10-19", "L25-29 D1-4", "L25-29 D10-19", "L25-29 D20-29"]
    assert {cell: counts.get(cell) for cell in fillable} == {cell: 12 for cell in fillable}
    assert "L12-16 D20-29" not in counts  # a distance of 20 needs more than 16 words: reported, not hidden
    assert "probe grid cell L12-16 D20-29: 0 of 12 pairs" in caplog.text
    for band in ("L12-16", "L25-29"):  # cells of a band hold the same lengths: they differ in distance alone
        lengths = {cell: sorted(m["length"] for m in grid.meta if m["cell"] == cell) for cell in fillable if cell.startswith(band)}
        assert len({tuple(found) for found in lengths.values()}) == 1, lengths


def test_length_and_distance_are_decorrelated_and_the_other_splits_unchanged(corpus):
    grid, test = corpus.load("grid"), corpus.load("test")
    plain = ProbeCorpus(**{**GRID, "grid_per_cell": 0})
    assert (plain.load("test").src, plain.load("train").src) == (test.src, corpus.load("train").src)
    assert not set(grid.src) & (set(test.src) | set(corpus.load("train").src))
    r_grid = statistics.correlation([m["length"] for m in grid.meta], [m["distance"] for m in grid.meta])
    r_test = statistics.correlation([m["length"] for m in test.meta], [m["distance"] for m in test.meta])
    assert r_grid < r_test  # the grid is the de-confounded design
    assert plain.fingerprint() == ProbeCorpus(**{k: v for k, v in GRID.items() if not k.startswith("grid")}).fingerprint()
    assert corpus.fingerprint() != plain.fingerprint()


def test_without_grid_per_cell_there_is_no_grid_split_and_the_error_says_how_to_add_it():
    with pytest.raises(UserError, match="grid_per_cell=N adds 'grid'"):
        ProbeCorpus(**{**GRID, "grid_per_cell": 0}).load("grid")


def test_grid_attractor_only_keeps_just_the_pairs_the_paired_distance_test_can_use(corpus, tmp_path):
    strict = ProbeCorpus(**GRID, grid_attractor_only=True)
    grid = strict.load("grid")
    assert all(has_attractor_contrast(meta) for meta in grid.meta)
    assert not all(has_attractor_contrast(meta) for meta in corpus.load("grid").meta)
    assert set(Counter(meta["cell"] for meta in grid.meta).values()) == {12}  # cells still filled, the empty one aside
    tokenizer = build_tokenizer(TokenizerSettings(vocab_size=400), strict.load("train"), tmp_path)
    subwords = lambda sentence: len(tokenizer.encode_tgt([sentence])[0])  # noqa: E731
    attractors = [c for c in build_contrasts(grid, seed=3, subwords=subwords) if c.kind == "attractor"]
    assert len(attractors) == len(grid.src)  # trading two words keeps the subword count: no pair is lost
    assert (strict.load("test").src, strict.load("train").src) == (corpus.load("test").src, corpus.load("train").src)
    assert strict.fingerprint() != corpus.fingerprint()
    with pytest.raises(ValueError, match="grid_attractor_only must be true or false"):
        ProbeCorpus(**GRID, grid_attractor_only="yes")


def test_the_contrastive_test_lists_every_cell_the_empty_one_included(corpus, tmp_path):
    grid = corpus.load("grid")
    tokenizer = build_tokenizer(TokenizerSettings(vocab_size=400), corpus.load("train"), tmp_path)
    model = KnowsTheAnswer(tokenizer, grid.src, grid.tgt)
    result = corpus.targeted_metrics(model, tokenizer, grid, "fp32", BootstrapSettings(resamples=50))["contrastive"]
    cells = result["kinds"]["random"]["by_cell"]
    assert [row["bucket"] for row in cells] == ["L12-16 D1-4", "L12-16 D10-19", "L12-16 D20-29",
                                                "L25-29 D1-4", "L25-29 D10-19", "L25-29 D20-29"]
    assert [row["count"] for row in cells] == [12, 12, 0, 12, 12, 12]
    assert all(row["accuracy"] == 1.0 for row in cells if row["count"]) and cells[2]["accuracy"] is None
    lines = format_probe_metrics({"contrastive": result})
    assert any(line.split()[:3] == ["L12-16", "D20-29", "0"] for line in lines)


def test_a_misspelt_probe_setting_is_named_not_ignored():
    with pytest.raises(UserError, match="data.corpus.max_word: not a probe corpus setting"):
        ProbeCorpus(max_word=20)
