"""Scoring: corpus BLEU per source-length bucket equals sacrebleu on that bucket's subset, with counts."""

from __future__ import annotations

import math

import pytest
import sacrebleu

from seq2seq.data.probe.metrics import format_probe_metrics
from seq2seq.scoring.buckets import assign_buckets, bucket_bounds, bucket_label, source_length
from seq2seq.scoring.split import format_results_table, score_split

EDGES = [0, 5, 10, 20]
# (source words, reference, hypothesis); lengths 3, 4 -> bucket 0; 5, 9 -> 1; 25, 30 -> 3; none in [10, 20)
ROWS = [
    ("a b c", "the cat sat on the mat", "the cat sat on a mat"),
    ("a b c d", "there is a dog in the garden", "a dog is in the garden"),
    ("a b c d e", "two men are playing football on the beach", "two men play football on the beach"),
    (" ".join("x" * 9), "a woman in a red dress is walking down the street", "a woman in red walks down the street"),
    (" ".join("y" * 25), "children are swimming in a lake near the mountains", "children swim in a lake near mountains"),
    (" ".join("z" * 30), "an old man is reading a newspaper on a bench", "an old man reads a paper on the bench"),
]
SOURCES = [r[0] for r in ROWS]
REFERENCES = [r[1] for r in ROWS]
HYPOTHESES = [r[2] for r in ROWS]


def test_bucket_bounds_and_labels():
    assert bucket_bounds([0, 10, 20]) == [(0, 10), (10, 20), (20, math.inf)]
    assert [bucket_label(*b) for b in bucket_bounds([0, 10, 20])] == ["0-9", "10-19", "20+"]


@pytest.mark.parametrize("edges", [[], [0, 10, 10], [0, 20, 10], [5, 3]])
def test_bucket_bounds_rejects_edges_that_do_not_increase(edges):
    with pytest.raises(ValueError, match="strictly increasing"):
        bucket_bounds(edges)


def test_assign_buckets_puts_an_edge_in_the_upper_bucket():
    lengths = [0, 4, 5, 9, 10, 19, 20, 1000]
    assert assign_buckets(lengths, [0, 5, 10, 20]) == [0, 0, 1, 1, 2, 2, 3, 3]
    assert assign_buckets([1, 2, 3], [2, 3]) == [None, 0, 1]  # below the first edge: no bucket


def test_source_length_counts_whitespace_words():
    assert source_length("  ein  Hund\tläuft .\n") == 4


def test_scores_by_length_equal_sacrebleu_on_each_subset():
    rows = score_split(HYPOTHESES, REFERENCES, SOURCES, EDGES)["by_length"]
    assert [r["bucket"] for r in rows] == ["0-4", "5-9", "10-19", "20+"]
    assert [(r["low"], r["high"]) for r in rows] == [(0, 5), (5, 10), (10, 20), (20, None)]
    expected_members = {0: [0, 1], 1: [2, 3], 2: [], 3: [4, 5]}
    assert [r["count"] for r in rows] == [2, 2, 0, 2]
    for index, members in expected_members.items():
        row = rows[index]
        if not members:
            assert row["bleu"] is None and row["chrf"] is None
            continue
        hyps = [HYPOTHESES[i] for i in members]
        refs = [REFERENCES[i] for i in members]
        assert row["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score)
        assert row["chrf"] == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs]).score)
    # corpus BLEU of a subset, not the mean of sentence BLEUs
    sentence_mean = sum(sacrebleu.sentence_bleu(HYPOTHESES[i], [REFERENCES[i]]).score for i in (0, 1)) / 2
    assert rows[0]["bleu"] != pytest.approx(sentence_mean)


def test_empty_input_keeps_every_bucket_with_count_zero():
    rows = score_split([], [], [], [0, 10])["by_length"]
    assert [(r["bucket"], r["count"], r["bleu"], r["chrf"]) for r in rows] == [("0-9", 0, None, None), ("10+", 0, None, None)]


def test_score_split_scores_overall_with_signatures():
    result = score_split(HYPOTHESES, REFERENCES, SOURCES, EDGES)
    assert result["bleu"] == pytest.approx(sacrebleu.corpus_bleu(HYPOTHESES, [REFERENCES]).score)
    assert result["chrf"] == pytest.approx(sacrebleu.corpus_chrf(HYPOTHESES, [REFERENCES]).score)
    assert result["bleu_signature"].startswith("nrefs:1|") and "tok:13a" in result["bleu_signature"]
    assert "nc:6" in result["chrf_signature"]
    assert result["sentences"] == 6
    assert sum(r["count"] for r in result["by_length"]) == 6
    table = format_results_table("test", result)
    assert "(6 sentences)" in table and "10-19" in table


def test_perfect_hypotheses_score_100():
    result = score_split(REFERENCES, REFERENCES, SOURCES, EDGES)
    assert result["bleu"] == pytest.approx(100.0)
    assert result["chrf"] == pytest.approx(100.0)
    assert [r["bleu"] for r in result["by_length"]] == [pytest.approx(100.0), pytest.approx(100.0), None, pytest.approx(100.0)]


def test_score_split_rejects_misaligned_inputs():
    with pytest.raises(ValueError, match="5 hypotheses, 6 references, 6 sources"):
        score_split(HYPOTHESES[:5], REFERENCES, SOURCES, EDGES)


def test_results_table_shows_buckets_and_the_probe_adds_verb_accuracy_when_present():
    result = score_split(["a b c d e"] * 2, ["a b c d e"] * 2, ["x"] * 2, [0, 5])
    result["verb_accuracy"] = {
        "overall": {"accuracy": 0.5, "count": 2, "correct": 1},
        "by_distance": [{"bucket": "0-4", "count": 2, "correct": 1, "accuracy": 0.5},
                        {"bucket": "5+", "count": 0, "correct": 0, "accuracy": None}],
    }
    table = [*format_results_table("test", result).splitlines(), *format_probe_metrics(result)]
    assert table[0].startswith("test: BLEU 100.00")
    assert any(line.split() == ["0-4", "2", "100.00", "100.00"] for line in table)
    assert any(line.split() == ["5+", "0", "-", "-"] for line in table)
    assert "main-verb accuracy 50.0%" in "\n".join(table)


def test_lowercased_bleu_sits_beside_the_cased_score_with_its_signature():
    """sacrebleu -lc, as the published Multi30k baselines are scored: case errors cost cased BLEU only."""
    references = ["A Man rides a horse on the beach .", "Two dogs play in the snow ."] * 6
    hypotheses = [r.lower() for r in references]
    sources = ["ein mann reitet ein pferd am strand .", "zwei hunde spielen im schnee ."] * 6
    result = score_split(hypotheses, references, sources, [0, 10])
    assert result["bleu"] < 100 and result["bleu_lc"] == pytest.approx(100.0)
    assert "case:lc" in result["bleu_lc_signature"] and "case:mixed" in result["bleu_signature"]
    assert result["by_length"][0]["bleu_lc"] == pytest.approx(100.0)
    assert "(lowercased 100.00)" in format_results_table("test", result).splitlines()[0]
