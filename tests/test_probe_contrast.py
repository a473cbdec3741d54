"""The contrastive verb test: contrasts differ from the reference in the main verb only, the scorer is
the training loss, and its accuracy is 100% for a model that knows the answer, 50% for one that does
not, with intervals and buckets that hold what they claim."""

from __future__ import annotations

import logging
import re
import statistics

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_module
from torch import nn

from seq2seq.data.batching import Example, collate
from seq2seq.data.parallel import ParallelText
from seq2seq.data.probe import ProbeCorpus
from seq2seq.data.probe.contrast import (
    CONTRAST_KINDS, build_contrasts, contrast_table, outcomes, sequence_log_probs,
)
from seq2seq.data.probe.lexicon import INTRANSITIVE, TRANSITIVE, VERBS
from seq2seq.data.probe.metrics import format_probe_metrics, verb_chance
from seq2seq.data.tokenizer import EOS_ID, Tokenizer, TokenizerSettings, build_tokenizer
from seq2seq.models.encoder_decoder import build_model
from seq2seq.scoring.bootstrap import BootstrapSettings
from seq2seq.scoring.split import format_results_table, score_split
from seq2seq.training.trainer import batch_loss

CONFIG = {"seed": 7, "splits": {"train": 300, "test": 600}, "stratified_splits": ["test"]}
VERB_DE = {verb.de: verb for verb in VERBS}
FEW_RESAMPLES = BootstrapSettings(resamples=200)


@pytest.fixture(scope="module")
def corpus() -> ProbeCorpus:
    return ProbeCorpus(**CONFIG)


@pytest.fixture(scope="module")
def test_split(corpus):
    return corpus.load("test")


@pytest.fixture(scope="module")
def tokenizer(corpus, tmp_path_factory) -> Tokenizer:
    return build_tokenizer(TokenizerSettings(vocab_size=400), corpus.load("train"), tmp_path_factory.mktemp("spm"))


def test_new_metadata_leaves_the_corpus_byte_identical():
    """Pinned from the generator before the contrastive metadata was added."""
    corpus = ProbeCorpus(seed=7, splits={"train": 1500, "valid": 120, "test": 600})
    assert corpus.fingerprint() == "36a2c12657b39e0f5630b3dd28b8076e4c2cb91c90080ad11407e1c06437d578"


def test_random_contrasts_differ_from_the_reference_in_the_main_verb_only(test_split):
    contrasts = build_contrasts(test_split, seed=1)
    assert {c.kind for c in contrasts} == set(CONTRAST_KINDS)
    english_verbs = {verb.en for verb in VERBS}
    for contrast in (c for c in contrasts if c.kind == "random"):
        meta = test_split.meta[contrast.item]
        reference, swapped = test_split.tgt[contrast.item].split(), contrast.tgt.split()
        assert len(reference) == len(swapped), contrast
        differing = [i for i, (a, b) in enumerate(zip(reference, swapped)) if a != b]
        assert differing == [meta["main_verb_word"]], (reference, swapped)
        position = differing[0]
        assert reference[position].rstrip(",.") == meta["main_verb"]
        assert reference[position][len(meta["main_verb"]):] == swapped[position][len(swapped[position].rstrip(",.")):]
        assert swapped[position].rstrip(",.") in english_verbs  # a simple past of the lexicon, like every verb


def test_an_attractor_contrast_is_a_sentence_the_grammar_makes_as_often_as_the_reference(test_split):
    """The main verb and one relative-clause verb trade places: same words, same transitivities, the
    attractor in one clause only, so the contrast obeys every rule the generator follows and a model of
    the English alone has no reason to prefer either."""
    transitive = {verb.en for verb in TRANSITIVE}
    attractors = [c for c in build_contrasts(test_split, seed=1) if c.kind == "attractor"]
    assert len(attractors) > 300
    for contrast in attractors:
        meta = test_split.meta[contrast.item]
        reference, swapped = test_split.tgt[contrast.item].split(), contrast.tgt.split()
        differing = [i for i, (a, b) in enumerate(zip(reference, swapped)) if a != b]
        assert len(reference) == len(swapped) and len(differing) == 2 and meta["main_verb_word"] in differing
        main, other = meta["main_verb_word"], next(i for i in differing if i != meta["main_verb_word"])
        attractor = reference[other].rstrip(",.")
        assert swapped[main] == attractor + reference[main][len(meta["main_verb"]):]
        assert swapped[other] == meta["main_verb"] + reference[other][len(attractor):]
        assert (attractor in transitive) == meta["main_verb_transitive"]
        relative = [verb["en"] for verb in meta["relative_verbs"]]
        assert relative.count(attractor) == 1 and meta["main_verb"] not in relative
        assert [w.rstrip(",.") for w in reference].count(attractor) == 1


def test_the_attractor_comes_from_a_relative_clause_of_the_same_sentence(test_split):
    contrasts = build_contrasts(test_split, seed=1)
    attractors = {c.item: c.tgt.split()[test_split.meta[c.item]["main_verb_word"]].rstrip(",.")
                  for c in contrasts if c.kind == "attractor"}
    transitive = {verb.en for verb in TRANSITIVE}
    intervening = 0
    for item, (src, tgt, meta) in enumerate(zip(test_split.src, test_split.tgt, test_split.meta)):
        # Read from the German, independently of the metadata: every verb but the main one ends a relative clause.
        german = [word.rstrip(",.") for word in src.split()]
        relative = [(VERB_DE[w].en, i) for i, w in enumerate(german) if w in VERB_DE and i != meta["verb_index"]]
        names = [verb for verb, _ in relative]
        qualifying = {verb: i for verb, i in relative
                      if names.count(verb) == 1 and (verb in transitive) == meta["main_verb_transitive"]}
        assert (item in attractors) == bool(qualifying), src
        if item in attractors:
            assert attractors[item] in qualifying and attractors[item] in re.findall(r"\w+", tgt)
            intervening += meta["subject_index"] < qualifying[attractors[item]] < meta["verb_index"]
    assert len(attractors) > 300 and intervening > 100


def test_random_contrasts_are_seeded_verbs_of_the_same_transitivity_absent_from_the_sentence(test_split):
    first, again, other = (build_contrasts(test_split, seed) for seed in (1, 1, 2))
    assert first == again and first != other
    transitive = {verb.en for verb in TRANSITIVE}
    for contrast in (c for c in first if c.kind == "random"):
        meta = test_split.meta[contrast.item]
        verb = contrast.tgt.split()[meta["main_verb_word"]].rstrip(",.")
        assert verb not in re.findall(r"\w+", test_split.tgt[contrast.item])
        assert (verb in transitive) == meta["main_verb_transitive"] == (meta["main_verb"] in transitive)
        assert verb in {v.en for v in TRANSITIVE + INTRANSITIVE}


def test_contrasts_can_keep_the_reference_subword_count(test_split, tokenizer):
    """A sum of log-probabilities favours shorter sequences; equal counts keep chance at 50%."""
    def subwords(sentence: str) -> int:
        return len(tokenizer.encode_tgt([sentence])[0])

    matched, free = build_contrasts(test_split, 1, subwords), build_contrasts(test_split, 1)
    assert all(subwords(c.tgt) == subwords(test_split.tgt[c.item]) for c in matched)
    assert sum(subwords(c.tgt) != subwords(test_split.tgt[c.item]) for c in free) > 100  # 400 subwords: verbs split
    assert {c.item for c in matched if c.kind == "random"} == set(range(len(test_split)))
    assert 0.4 * len(test_split) < sum(c.kind == "attractor" for c in matched) <= sum(c.kind == "attractor" for c in free)


class KnowsTheAnswer(nn.Module):
    """A stand-in model that knows one English sentence per source and gives its next subword a
    logit of 20 (every other subword 0), so that sentence scores near log 1 and any other far below."""

    def __init__(self, tokenizer: Tokenizer, sources: list[str], answers: list[str]) -> None:
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(()))  # only so the scorer can find the device
        ids = tokenizer.encode_src(sources)
        self.answers = {tuple(s): t + [EOS_ID] for s, t in zip(ids, tokenizer.encode_tgt(answers))}
        self.vocab = tokenizer.tgt_vocab_size

    def forward(self, src, src_mask, tgt_in):
        logits = torch.zeros(*tgt_in.shape, self.vocab)  # [batch, tgt_len, vocab]
        for row in range(src.size(0)):
            answer = self.answers[tuple(src[row][src_mask[row]].tolist()[:-1])]
            for position, token in enumerate(answer[: tgt_in.size(1)]):
                logits[row, position, token] = 20.0
        return logits, None


class Indifferent(nn.Module):
    """A stand-in model with no preference: the logits at each step are random but fixed by the
    source and the target prefix, as for any model, so a contrast is a coin flip."""

    def __init__(self, vocab: int) -> None:
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(()))
        self.vocab = vocab

    def forward(self, src, src_mask, tgt_in):
        logits = torch.zeros(*tgt_in.shape, self.vocab)  # [batch, tgt_len, vocab]
        for row in range(src.size(0)):
            source = tuple(src[row][src_mask[row]].tolist())
            for position in range(tgt_in.size(1)):
                seed = hash((source, tuple(tgt_in[row, : position + 1].tolist()))) % 2**62
                logits[row, position] = torch.randn(self.vocab, generator=torch.Generator().manual_seed(seed))
        return logits, None


def test_a_model_that_knows_the_true_verb_scores_100_percent(corpus, test_split, tokenizer):
    model = KnowsTheAnswer(tokenizer, test_split.src, test_split.tgt)
    result = corpus.targeted_metrics(model, tokenizer, test_split, "fp32", FEW_RESAMPLES)["contrastive"]
    for kind in CONTRAST_KINDS:
        overall = result["kinds"][kind]["overall"]
        assert overall["accuracy"] == 1.0 and overall["ci"] == [1.0, 1.0]
        assert all(row["accuracy"] in (None, 1.0) for row in result["kinds"][kind]["by_distance"])
    assert result["kinds"]["random"]["overall"]["count"] == len(test_split) == result["pairs"]


@pytest.mark.parametrize("kind", CONTRAST_KINDS)
def test_a_model_drawn_to_the_contrast_scores_0_percent(corpus, test_split, tokenizer, kind):
    """Built from the same contrasts the corpus scores (same seed), so the scorer cannot favour references."""
    contrasts = build_contrasts(test_split, CONFIG["seed"], lambda sentence: len(tokenizer.encode_tgt([sentence])[0]))
    swapped = {c.item: c.tgt for c in contrasts if c.kind == kind}
    answers = [swapped.get(item, tgt) for item, tgt in enumerate(test_split.tgt)]
    model = KnowsTheAnswer(tokenizer, test_split.src, answers)
    result = corpus.targeted_metrics(model, tokenizer, test_split, "fp32", FEW_RESAMPLES)["contrastive"]
    assert result["kinds"][kind]["overall"]["accuracy"] == 0.0


def test_a_model_without_preference_scores_50_percent_at_every_length(corpus, test_split, tokenizer):
    model = Indifferent(tokenizer.tgt_vocab_size)
    result = corpus.targeted_metrics(model, tokenizer, test_split, "fp32", FEW_RESAMPLES)["contrastive"]
    pooled = [result["kinds"][kind]["overall"] for kind in CONTRAST_KINDS]
    accuracy = sum(o["correct"] for o in pooled) / sum(o["count"] for o in pooled)
    assert abs(accuracy - 0.5) < 0.05, pooled  # about 1,100 coin flips: sd 1.5 points
    for kind in CONTRAST_KINDS:
        overall = result["kinds"][kind]["overall"]
        assert abs(overall["accuracy"] - 0.5) < 0.08 and overall["ci"][0] < 0.5 < overall["ci"][1]  # 340-600 items
        for row in result["kinds"][kind]["by_length"]:
            if row["count"] >= 60:
                assert abs(row["accuracy"] - 0.5) < 0.2, row
    lengths = [m["length"] for m in test_split.meta]
    distances = [m["distance"] for m in test_split.meta]
    assert result["length_distance_r"] == pytest.approx(statistics.correlation(lengths, distances))


@pytest.fixture(scope="module")
def tiny_model(tokenizer):
    overrides = ["model/encoder=rnn", "model/decoder=rnn_attention", "data=files", "model.encoder.embedding_dim=16",
                 "model.encoder.hidden_size=24", "model.decoder.embedding_dim=16", "model.decoder.hidden_size=20",
                 "model.decoder.attention_size=12"]
    with initialize_config_module(config_module="seq2seq.conf", version_base="1.3"):
        config = compose("config", overrides=overrides)
    torch.manual_seed(0)
    return build_model(config.model, tokenizer.src_vocab_size, tokenizer.tgt_vocab_size)


def test_scores_are_the_training_loss_of_each_sentence_in_any_batch_order(test_split, tokenizer, tiny_model):
    sources, targets = test_split.src[:12], test_split.tgt[:12]
    scores = sequence_log_probs(tiny_model, tokenizer, sources, targets, "fp32", batch_tokens=150)
    assert tiny_model.training  # the scorer puts the model back as it found it
    tiny_model.eval()
    for source, target, score in zip(tokenizer.encode_src(sources), tokenizer.encode_tgt(targets), scores):
        with torch.no_grad():
            loss = batch_loss(tiny_model, collate([Example(0, source + [EOS_ID], target)]), 0.0)
        assert score == pytest.approx(-float(loss), rel=1e-4, abs=1e-3)
    tiny_model.train()


def test_a_real_model_gets_a_complete_result_and_console_table(corpus, test_split, tokenizer, tiny_model):
    few = ParallelText("test", test_split.src[:100], test_split.tgt[:100], test_split.meta[:100])
    result = corpus.targeted_metrics(tiny_model, tokenizer, few, "fp32", FEW_RESAMPLES)
    contrastive = result["contrastive"]
    for kind in CONTRAST_KINDS:
        table = contrastive["kinds"][kind]
        assert sum(row["count"] for row in table["by_length"]) == table["overall"]["count"]
        assert sum(row["count"] for row in table["by_distance"]) == table["overall"]["count"]
    assert [row["bucket"] for row in contrastive["kinds"]["random"]["by_length"]] == \
        ["0-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60+"]  # as the BLEU tables label them (issue 35)
    scored = {**score_split(few.tgt, few.tgt, few.src, [0, 10, 20]), **result}
    lines = [*format_results_table("test", scored).splitlines(), *format_probe_metrics(scored)]
    assert any(line.startswith("  contrastive verb accuracy % (chance 50), 95% CI: attractor") for line in lines)
    random_overall = contrastive["kinds"]["random"]["overall"]
    assert f"random {100 * random_overall['accuracy']:.1f}" in "\n".join(lines)
    row = next(line.split() for line in lines if line.split()[:1] == ["0-4"])
    first = contrastive["kinds"]["attractor"]["by_distance"][0]
    assert row[1:3] == [str(first["count"]), f"{100 * first['accuracy']:.1f}"]


def test_accuracy_counts_ties_as_half_and_buckets_hold_what_they_claim():
    rng = np.random.default_rng(0)
    lengths, distances = rng.integers(4, 61, 3000), rng.integers(1, 50, 3000)
    reference, contrast = rng.normal(size=3000), rng.normal(size=3000)
    contrast[:100] = reference[:100]  # ties
    table = contrast_table(outcomes(reference, contrast), lengths, distances, [0, 5, 10, 20, 60], [0, 10, 30],
                           BootstrapSettings(resamples=500))
    expected = ((reference > contrast) + 0.5 * (reference == contrast)).mean()
    assert table["overall"]["accuracy"] == pytest.approx(expected) and abs(expected - 0.5) < 0.04
    assert table["overall"]["ci"][0] < expected < table["overall"]["ci"][1]
    assert table["overall"]["ci"][1] - table["overall"]["ci"][0] == pytest.approx(2 * 1.96 * 0.5 / 3000 ** 0.5, rel=0.25)
    for view, values in (("by_distance", distances), ("by_length", lengths)):
        for row in table[view]:
            members = (values >= row["low"]) & (values < row["high"])
            assert row["count"] == members.sum()
            wins = (reference[members] > contrast[members]) + 0.5 * (reference[members] == contrast[members])
            assert row["accuracy"] == pytest.approx(wins.mean())
            assert row["ci"][0] <= row["accuracy"] <= row["ci"][1]
    perfect = contrast_table(outcomes(reference + 1e-9, reference), lengths, distances, [0, 100, 200], [0, 100],
                             FEW_RESAMPLES)
    assert perfect["overall"]["accuracy"] == 1.0 and perfect["by_distance"][1] == {
        "bucket": "100-199", "low": 100, "high": 200, "count": 0, "correct": 0, "accuracy": None, "ci": None}
    tied = contrast_table(outcomes(reference, reference), lengths, distances, [0, 100], [0, 100], FEW_RESAMPLES)
    assert tied["overall"]["accuracy"] == 0.5  # no preference: chance


def test_verb_chance_checks_each_hypothesis_for_a_length_neighbours_verb():
    meta = [{"main_verb": "jumped", "distance": 1, "length": 5}, {"main_verb": "sat", "distance": 2, "length": 6},
            {"main_verb": "sat", "distance": 30, "length": 40}, {"main_verb": "ran", "distance": 31, "length": 41}]
    hypotheses = ["the cat jumped", "the dog that jumped sat", "the cat that ran sat", "the dog that sat ran"]
    chance = verb_chance(hypotheses, meta, [0, 5, 40])
    # Neighbours with another verb: 0 -> 1 (sat), 1 -> 0 (jumped), 2 -> 3 (ran), 3 -> 2 (sat).
    assert chance["overall"] == {"accuracy": 0.75, "count": 4, "correct": 3}
    assert [row["accuracy"] for row in chance["by_distance"]] == [0.5, 1.0]


def test_pairs_longer_than_a_transformers_positions_are_left_out_counted_and_named_not_a_lost_split(
    corpus, test_split, tokenizer, caplog
):
    """Issue 35: a Transformer with max_positions shorter than a reference failed the whole `test` split after
    training. The pairs it cannot read are left out of the model's tables and the floor's alike, and counted."""
    overrides = ["model/encoder=transformer", "model/decoder=transformer", "data=files", "model.encoder.d_model=16",
                 "model.encoder.num_heads=2", "model.encoder.num_layers=1", "model.encoder.ff_size=32",
                 "model.decoder.d_model=16", "model.decoder.num_heads=2", "model.decoder.num_layers=1",
                 "model.decoder.ff_size=32", "model.encoder.max_positions=24", "model.decoder.max_positions=24"]
    with initialize_config_module(config_module="seq2seq.conf", version_base="1.3"):
        config = compose("config", overrides=overrides)
    torch.manual_seed(0)
    model = build_model(config.model, tokenizer.src_vocab_size, tokenizer.tgt_vocab_size)
    few = ParallelText("test", test_split.src[:60], test_split.tgt[:60], test_split.meta[:60])
    too_long = {i for i, (s, t) in enumerate(zip(tokenizer.encode_src(few.src), tokenizer.encode_tgt(few.tgt)))
                if len(s) + 1 > 24 or len(t) + 1 > 24}
    assert 0 < len(too_long) < 60, "precondition: some pairs fit and some do not"
    with caplog.at_level(logging.WARNING):
        result = corpus.targeted_metrics(model, tokenizer, few, "fp32", FEW_RESAMPLES)["contrastive"]
    assert result["beyond_positions"] == len(too_long)
    assert f"{len(too_long)} of 60 pairs are longer than the model's positions" in caplog.text
    fitting = ParallelText("test", *[[x for i, x in enumerate(column) if i not in too_long]
                                     for column in (few.src, few.tgt, few.meta)])
    alone = corpus.targeted_metrics(model, tokenizer, fitting, "fp32", FEW_RESAMPLES)["contrastive"]
    for kind in CONTRAST_KINDS:  # the same tables as for the fitting pairs alone, floor included
        assert result["kinds"][kind]["overall"] == alone["kinds"][kind]["overall"]
        assert result["source_blind"]["kinds"][kind]["overall"] == alone["source_blind"]["kinds"][kind]["overall"]


def test_every_contrastive_table_is_rebuilt_exactly_from_the_contrast_records(corpus, test_split, tokenizer, tiny_model,
                                                                              tmp_path):
    """Issue 33: each split's contrast records (pair, kind, length, distance, cell, the reference's and the
    contrast's log-probabilities under the model and under the floor) rebuild every accuracy, interval and
    paired test of results.json, through the file a run writes."""
    from seq2seq.data.probe.contrast import items_tsv, read_items

    few = ParallelText("test", test_split.src[:120], test_split.tgt[:120], test_split.meta[:120])
    items: list = []
    result = corpus.targeted_metrics(tiny_model, tokenizer, few, "fp32", FEW_RESAMPLES, items=items)["contrastive"]
    assert {r["kind"] for r in items} == set(CONTRAST_KINDS) and len(items) == sum(
        table["overall"]["count"] for table in result["kinds"].values())
    (tmp_path / "test.tsv").write_text(items_tsv(items), encoding="utf-8")
    rebuilt = corpus.tables_from_items(read_items(tmp_path / "test.tsv"), FEW_RESAMPLES)
    assert rebuilt["kinds"] == result["kinds"]
    assert rebuilt["source_blind"]["kinds"] == result["source_blind"]["kinds"]
    first = items[0]  # its outcome flipped: the reference now loses where it won, and wins where it lost
    flipped = first["reference"] + (1.0 if first["reference"] >= first["contrast"] else -1.0)
    edited = items_tsv([{**first, "contrast": flipped}, *items[1:]])
    (tmp_path / "edited.tsv").write_text(edited, encoding="utf-8")
    assert corpus.tables_from_items(read_items(tmp_path / "edited.tsv"), FEW_RESAMPLES)["kinds"] != result["kinds"]
