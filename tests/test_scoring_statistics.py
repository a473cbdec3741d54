"""Statistics: bootstrap intervals behave like intervals, paired tests tell systems apart, the slope sees context loss."""

from __future__ import annotations

import random

import numpy as np
import pytest
import sacrebleu
from hydra import compose, initialize_config_module
from omegaconf.errors import ConfigKeyError

from seq2seq.errors import UserError
from seq2seq.config import check_eval_config
from seq2seq.config_schema import typed_config
from seq2seq.scoring.bootstrap import (
    BootstrapSettings,
    corpus_interval,
    length_sensitivity,
    resample_counts,
    resampled_length_fits,
    resampled_scores,
    sentence_statistics,
    slope_difference,
)
from seq2seq.scoring.buckets import BucketSettings, bucket_members, quantile_edges
from seq2seq.scoring.significance import MIN_TEST_SENTENCES, paired_by_bucket, paired_scores, paired_test
from seq2seq.scoring.split import format_results_table, score_split

WORDS = "the a cat dog man woman child sat ran walked on in under near park mat house river red blue old".split()
FAST = BootstrapSettings(resamples=300, level=0.95, seed=7)


def sentences(count: int, seed: int = 0, lengths: tuple[int, int] = (3, 40)) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(*lengths))) for _ in range(count)]


def corrupt(sentence: str, probability: float, rng: random.Random) -> str:
    """Replace each word with a random one with this probability."""
    return " ".join(rng.choice(WORDS) if rng.random() < probability else w for w in sentence.split())


def noisy(references: list[str], probability: float = 0.25, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [corrupt(r, probability, rng) for r in references]


def width(interval: list[float]) -> float:
    return interval[1] - interval[0]


# ---- bootstrap intervals --------------------------------------------------------------------------

def test_resampled_scores_are_sacrebleus_corpus_scores():
    refs = sentences(40)
    hyps = noisy(refs)
    for metric, score in (("bleu", sacrebleu.corpus_bleu), ("chrf", sacrebleu.corpus_chrf)):
        stats = sentence_statistics(metric, hyps, refs)
        everyone_once = np.ones((1, len(refs)), dtype=int)
        assert resampled_scores(metric, stats, everyone_once)[0] == pytest.approx(score(hyps, [refs]).score)
        counts = resample_counts(len(refs), 5, np.random.default_rng(0))
        assert (counts.sum(1) == len(refs)).all()
        picked = [i for i in range(len(refs)) for _ in range(counts[0, i])]  # the first resample, written out
        expected = score([hyps[i] for i in picked], [[refs[i] for i in picked]]).score
        assert resampled_scores(metric, stats, counts)[0] == pytest.approx(expected)


@pytest.mark.parametrize("metric, score", [("bleu", sacrebleu.corpus_bleu), ("chrf", sacrebleu.corpus_chrf)])
def test_interval_contains_the_estimate_and_shrinks_with_more_sentences(metric, score):
    refs = sentences(50)
    hyps = noisy(refs)
    small = corpus_interval(metric, hyps, refs, FAST)
    point = score(hyps, [refs]).score
    assert small[0] < point < small[1]
    large = corpus_interval(metric, hyps * 8, refs * 8, FAST)  # the same sentences, 8 times as many
    assert large[0] < score(hyps * 8, [refs * 8]).score < large[1]
    assert width(large) < 0.6 * width(small)  # about 1/sqrt(8) = 0.35 of the width


def test_interval_is_reproducible_for_a_seed_and_varies_with_it():
    refs = sentences(60)
    hyps = noisy(refs)
    first = corpus_interval("bleu", hyps, refs, FAST)
    assert corpus_interval("bleu", hyps, refs, FAST) == first
    assert corpus_interval("bleu", hyps, refs, BootstrapSettings(300, 0.95, seed=8)) != first
    narrower = corpus_interval("bleu", hyps, refs, BootstrapSettings(300, 0.5, seed=7))
    assert first[0] < narrower[0] < narrower[1] < first[1]


# ---- paired significance --------------------------------------------------------------------------

@pytest.mark.parametrize("test", ["bs", "ar"])
def test_paired_test_finds_no_difference_between_identical_systems(test):
    refs = sentences(80)
    hyps = noisy(refs)
    result = paired_test(hyps, list(hyps), refs, test=test, resamples=500)
    assert result == {metric: {"p": 1.0, "significant": False} for metric in ("bleu", "bleu_lc", "chrf")}


@pytest.mark.parametrize("test", ["bs", "ar"])
def test_paired_test_tells_a_system_from_its_shuffled_hypotheses(test):
    refs = sentences(80)
    hyps = noisy(refs)
    shuffled = hyps[1:] + hyps[:1]  # every hypothesis now belongs to another sentence
    result = paired_test(hyps, shuffled, refs, test=test, resamples=500)
    for metric in ("bleu", "chrf"):
        assert result[metric]["significant"] and result[metric]["p"] < 0.01
    # two systems equally good (same noise level, different noise) on 30 sentences: no difference found
    twin = paired_test(noisy(refs[:30], seed=2), noisy(refs[:30], seed=3), refs[:30], test=test, resamples=500)
    assert not twin["bleu"]["significant"] and not twin["chrf"]["significant"]


def test_paired_test_per_bucket_reports_empty_buckets_as_none():
    refs = sentences(40, lengths=(3, 15))
    hyps = noisy(refs)
    lengths = [len(r.split()) for r in refs]
    members = bucket_members(lengths, [0, 10, 20])
    assert len(members[2]) == 0
    results = paired_by_bucket(hyps, hyps[1:] + hyps[:1], refs, members, test="bs", resamples=200)
    assert results[2] == {metric: {"p": None, "significant": None} for metric in ("bleu", "bleu_lc", "chrf")}
    assert results[0]["bleu"]["p"] is not None


# ---- length sensitivity ---------------------------------------------------------------------------

def degrading(refs: list[str], seed: int = 3) -> list[str]:
    """Perfect up to 10 words, then ever more words replaced (half of them at 40 words)."""
    rng = random.Random(seed)
    return [corrupt(r, min(0.9, max(0.0, (len(r.split()) - 10) / 60)), rng) for r in refs]


def test_a_system_that_degrades_on_long_sentences_has_a_negative_slope():
    refs = sentences(300, lengths=(2, 45))
    lengths = [len(r.split()) for r in refs]
    edges = [0, 10, 20, 30, 40]
    result = length_sensitivity(sentence_statistics("bleu", degrading(refs), refs), lengths, edges, FAST)
    assert result["slope"] < -0.5
    assert result["slope_ci"][0] < result["slope"] < result["slope_ci"][1] < 0  # excludes 0
    assert result["long_short_ratio"] < 0.6

    uniform = length_sensitivity(sentence_statistics("bleu", noisy(refs), refs), lengths, edges, FAST)
    low, high = uniform["slope_ci"]
    assert low < 0 < high or abs(uniform["slope"]) < 0.1
    assert abs(uniform["slope"]) < abs(result["slope"]) / 5


def test_slope_is_a_count_weighted_least_squares_fit_over_bucket_midpoints():
    refs = sentences(200, lengths=(2, 45))
    hyps = degrading(refs)
    result = score_split(hyps, refs, refs, [0, 10, 20, 30, 40])
    rows = result["by_length"]
    assert [r["midpoint"] for r in rows[:4]] == [4.5, 14.5, 24.5, 34.5]
    long = [len(r.split()) for r in refs if len(r.split()) >= 40]
    assert rows[4]["midpoint"] == pytest.approx(np.mean(long))  # the open bucket: its sentences' mean length
    x = [r["midpoint"] for r in rows if r["count"]]
    y = [r["bleu"] for r in rows if r["count"]]
    counts = [r["count"] for r in rows if r["count"]]
    expected = np.polyfit(x, y, 1, w=np.sqrt(counts))[0]  # polyfit weights residuals, so sqrt(count)
    assert result["length_sensitivity"]["slope"] == pytest.approx(expected)
    assert result["length_sensitivity"]["long_short_ratio"] == pytest.approx(y[-1] / y[0])
    assert result["length_sensitivity"]["slope_ci"] is None  # no bootstrap settings, no resampling


def test_length_ratio_is_output_over_reference_length_in_bleus_tokens():
    refs = sentences(80, lengths=(4, 30))
    halves = [" ".join(r.split()[: len(r.split()) // 2]) for r in refs]
    result = score_split(halves, refs, refs, [0, 10, 20])
    assert result["length_ratio"] == pytest.approx(sacrebleu.corpus_bleu(halves, [refs]).sys_len
                                                   / sacrebleu.corpus_bleu(halves, [refs]).ref_len)
    assert all(0.3 < row["length_ratio"] < 0.55 for row in result["by_length"] if row["count"])  # half of each
    assert score_split(refs, refs, refs, [0])["length_ratio"] == 1.0


def test_relative_slope_divides_by_the_count_weighted_mean_bucket_bleu():
    refs = sentences(300, lengths=(2, 45))
    lengths, edges = [len(r.split()) for r in refs], [0, 10, 20, 30, 40]
    result = score_split(degrading(refs), refs, refs, edges)
    rows = [r for r in result["by_length"] if r["count"]]
    mean = np.average([r["bleu"] for r in rows], weights=[r["count"] for r in rows])
    sensitivity = result["length_sensitivity"]
    assert sensitivity["relative_slope"] == pytest.approx(sensitivity["slope"] / mean)
    with_ci = length_sensitivity(sentence_statistics("bleu", degrading(refs), refs), lengths, edges, FAST)
    low, high = with_ci["relative_slope_ci"]
    assert low < with_ci["relative_slope"] < high < 0


def paired_slopes(base: np.ndarray, other: np.ndarray, lengths: list[int], edges: list[int]) -> dict:
    """`slope_difference` of two systems' BLEU statistics, from their sensitivities and refits as paired_scores makes them."""
    sensitivities = [length_sensitivity(stats, lengths, edges, FAST) for stats in (base, other)]
    fits = [resampled_length_fits(stats, lengths, edges, FAST) for stats in (base, other)]
    return slope_difference(*sensitivities, *fits, FAST.level)


def test_slope_difference_is_paired_and_tells_a_degrading_system_from_a_uniform_one():
    refs = sentences(300, lengths=(2, 45))
    lengths, edges = [len(r.split()) for r in refs], [0, 10, 20, 30, 40]
    uniform = sentence_statistics("bleu", noisy(refs, 0.3), refs)
    falling = sentence_statistics("bleu", degrading(refs), refs)
    result = paired_slopes(uniform, falling, lengths, edges)
    each = [length_sensitivity(stats, lengths, edges, None) for stats in (uniform, falling)]
    assert result["slope_difference"] == pytest.approx(each[1]["slope"] - each[0]["slope"])
    assert result["relative_slope_difference"] == pytest.approx(each[1]["relative_slope"] - each[0]["relative_slope"])
    low, high = result["slope_difference_ci"]
    assert low < result["slope_difference"] < high < 0  # falls faster, and the interval says so
    assert result["relative_slope_difference_ci"][1] < 0

    same = paired_slopes(falling, falling, lengths, edges)  # paired: what both share cancels exactly
    assert same["slope_difference"] == 0 and same["slope_difference_ci"] == [0.0, 0.0]
    # pairing cancels what two similar systems share: a system that differs from `falling` on a fifth of the
    # sentences gets a difference interval far narrower than two independent slope estimates would give
    hypotheses, other = degrading(refs), degrading(refs, seed=4)
    similar = sentence_statistics("bleu", [o if i % 5 == 0 else h for i, (h, o) in enumerate(zip(hypotheses, other))], refs)
    paired = paired_slopes(falling, similar, lengths, edges)["slope_difference_ci"]
    own = [width(length_sensitivity(stats, lengths, edges, FAST)["slope_ci"]) for stats in (falling, similar)]
    assert width(paired) < 0.5 * np.hypot(*own)


def test_paired_scores_carry_each_systems_slope_difference_from_the_baseline():
    refs = sentences(120, lengths=(2, 45))
    systems = {"base": noisy(refs, 0.3), "falling": degrading(refs)}
    table = paired_scores(systems, refs, [len(r.split()) for r in refs], [0, 10, 20, 30, 40], FAST)
    assert "against_baseline" not in table["length_sensitivity"]["base"]
    own = length_sensitivity(sentence_statistics("bleu", systems["base"], refs), [len(r.split()) for r in refs],
                             [0, 10, 20, 30, 40], FAST)  # the refits computed once give the same intervals
    assert table["length_sensitivity"]["base"]["slope_ci"] == own["slope_ci"]
    against = table["length_sensitivity"]["falling"]["against_baseline"]
    assert against["slope_difference"] == pytest.approx(
        table["length_sensitivity"]["falling"]["slope"] - table["length_sensitivity"]["base"]["slope"])


# ---- buckets --------------------------------------------------------------------------------------

def test_quantile_buckets_hold_about_equal_counts():
    lengths = list(range(1, 101))
    edges = quantile_edges(lengths, 5)
    assert edges == [0, 21, 41, 61, 81]
    assert [len(m) for m in bucket_members(lengths, edges)] == [20, 20, 20, 20, 20]
    refs = sentences(333, lengths=(1, 50))
    result = score_split(refs, refs, refs, [0], buckets=_buckets(mode="quantile", quantiles=4))
    counts = [r["count"] for r in result["by_length"]]
    assert len(counts) == 4 and sum(counts) == 333 and max(counts) - min(counts) < 0.2 * 333 / 4
    assert result["buckets"]["edges"] == quantile_edges([len(r.split()) for r in refs], 4)
    assert quantile_edges([5] * 10 + [9] * 10, 4) == [0, 5, 9]  # ties merge buckets instead of leaving empty ones


def test_subword_unit_buckets_by_the_given_counts():
    refs = ["a b", "a b c", "a", "a b c d"]
    subwords = [30, 2, 15, 25]  # deliberately unlike the word counts
    result = score_split(refs, refs, refs, [0, 10, 20], buckets=_buckets(unit="subwords"), source_subwords=subwords)
    assert [r["count"] for r in result["by_length"]] == [1, 1, 2]
    assert result["buckets"] == {"mode": "fixed", "unit": "subwords", "edges": [0, 10, 20]}
    assert result["length_sensitivity"]["unit"] == "BLEU per source subword"
    with pytest.raises(ValueError, match="subword count"):
        score_split(refs, refs, refs, [0, 10], buckets=_buckets(unit="subwords"))


def test_score_split_adds_intervals_and_reports_empty_buckets():
    refs = sentences(60, lengths=(2, 18))
    hyps = noisy(refs)
    result = score_split(hyps, refs, refs, [0, 10, 20, 30], bootstrap=FAST)
    assert result["bleu_ci"][0] < result["bleu"] < result["bleu_ci"][1]
    assert result["chrf_ci"][0] < result["chrf"] < result["chrf_ci"][1]
    for row in result["by_length"][:2]:
        assert row["bleu_ci"][0] <= row["bleu"] <= row["bleu_ci"][1]
        assert row["chrf_ci"][0] <= row["chrf"] <= row["chrf_ci"][1]
    empty = result["by_length"][2:]
    assert [(r["count"], r["bleu"], r["bleu_ci"], r["chrf_ci"]) for r in empty] == [(0, None, None, None)] * 2
    assert result["bootstrap"] == {"resamples": 300, "level": 0.95, "seed": 7}
    table = format_results_table("test", result)
    low, high = result["by_length"][0]["bleu_ci"]
    assert f"[{low:.1f},{high:.1f}]" in table and "length sensitivity" in table


def test_compare_marks_only_real_differences():
    refs = sentences(120)
    good = noisy(refs)
    systems = {"base": good, "same": list(good), "shuffled": good[1:] + good[:1]}
    lengths = [len(r.split()) for r in refs]
    result = paired_scores(systems, refs, lengths, [0, 20, 50], FAST)
    rows = {(r["run"], r["bucket"]): r for r in result["rows"]}
    assert len(result["rows"]) == 3 * 4  # "all" plus three buckets per run
    assert rows[("base", "all")]["bleu_p"] is None
    assert rows[("same", "all")]["bleu_significant"] is False
    assert rows[("shuffled", "all")]["bleu_significant"] and rows[("shuffled", "0-19")]["chrf_significant"]
    assert rows[("shuffled", "50+")]["count"] == 0 and rows[("shuffled", "50+")]["bleu_p"] is None


# ---- configuration --------------------------------------------------------------------------------

def _buckets(**values):
    return BucketSettings(**values)


@pytest.mark.parametrize("override, message", [
    ("eval.bootstrap.level=1.5", "eval.bootstrap.level=1.5 must lie strictly between 0 and 1"),
    ("eval.bootstrap.level=0", "eval.bootstrap.level=0 must lie strictly between 0 and 1"),
    ("eval.bootstrap.resamples=0", "eval.bootstrap.resamples=0 must be a whole number >= 1"),
    ("eval.buckets.mode=median", "eval.buckets.mode=median is unknown; choose one of fixed, quantile"),
    ("eval.buckets.unit=chars", "eval.buckets.unit=chars is unknown; choose one of words, subwords"),
    ("eval.buckets.quantiles=0", "eval.buckets.quantiles=0 must be a whole number >= 1"),
])
def test_bad_statistics_settings_are_one_line_errors_naming_the_key(override, message):
    with initialize_config_module("seq2seq.conf", version_base="1.3"):
        check_eval_config(compose("config"))  # the defaults are valid
        with pytest.raises(UserError) as error:
            check_eval_config(compose("config", overrides=[override]))
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_a_misspelt_statistics_setting_is_refused_naming_the_key():
    """The schema (BootstrapSettings) rejects it; `+KEY` gets past Hydra's composition, not `typed_config`."""
    with initialize_config_module("seq2seq.conf", version_base="1.3"):
        config = compose("config", overrides=["+eval.bootstrap.samples=5"])
    with pytest.raises(ConfigKeyError, match="Key 'samples' not in 'BootstrapSettings'") as error:
        typed_config(config)
    assert "full_key: eval.bootstrap.samples" in str(error.value)


def test_sets_too_small_to_test_get_no_p_value_even_when_they_differ():
    refs = sentences(MIN_TEST_SENTENCES, lengths=(3, 8))
    shuffled = refs[1:] + refs[:1]
    few = paired_test(refs[: MIN_TEST_SENTENCES - 1], shuffled[: MIN_TEST_SENTENCES - 1], refs[: MIN_TEST_SENTENCES - 1])
    assert few == {metric: {"p": None, "significant": None} for metric in ("bleu", "bleu_lc", "chrf")}
    enough = paired_test(refs, shuffled, refs, resamples=200)
    assert enough["bleu"]["p"] is not None


@pytest.mark.parametrize("test", ["bs", "ar"])
def test_paired_test_gives_sacrebleus_p_values(test, monkeypatch):
    """The same algorithm and draws as sacrebleu's PairedTest under its default seed (12345)."""
    from sacrebleu.metrics import BLEU, CHRF
    from sacrebleu.significance import PairedTest

    monkeypatch.delenv("SACREBLEU_SEED", raising=False)
    refs = sentences(60)
    baseline, system = noisy(refs, seed=4), noisy(refs, seed=5)
    ours = paired_test(baseline, system, refs, test=test, resamples=300, seed=12345)
    _, scores = PairedTest([("baseline", baseline), ("system", system)], {"bleu": BLEU(), "chrf": CHRF()}, [refs],
                           test_type=test, n_samples=300)()
    assert ours["bleu"]["p"] == pytest.approx(scores["BLEU"][1].p_value)
    assert ours["chrf"]["p"] == pytest.approx(scores["chrF2"][1].p_value)


@pytest.mark.parametrize("test", ["bs", "ar"])
def test_paired_test_repeats_its_p_values_for_every_seed_including_zero(test):
    refs = sentences(60)
    baseline, system = noisy(refs, seed=4), noisy(refs, seed=5)
    for seed in (0, 7):
        first, second = (paired_test(baseline, system, refs, test=test, resamples=200, seed=seed) for _ in range(2))
        assert first == second
