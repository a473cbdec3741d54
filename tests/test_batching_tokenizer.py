"""Token-budget batching and teacher-forcing tensors; sentencepiece training, caching and special ids."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from seq2seq.data import tokenizer as tokenizer_module
from seq2seq.data.batching import Example, collate, group_by_tokens, make_examples, token_batches
from seq2seq.data.parallel import ParallelText
from seq2seq.data.tokenizer import BOS_ID, EOS_ID, PAD_ID, UNK_ID, TokenizerSettings, build_tokenizer
from seq2seq.errors import UserError


def random_examples(count: int = 300, seed: int = 0) -> list[Example]:
    rng = random.Random(seed)
    return [
        Example(i, [rng.randrange(4, 50) for _ in range(rng.randint(1, 30))] + [EOS_ID],
                [rng.randrange(4, 50) for _ in range(rng.randint(1, 30))])
        for i in range(count)
    ]


def padded_size(batch: list[Example]) -> int:
    return len(batch) * max(max(len(e.src), len(e.tgt) + 1) for e in batch)


@pytest.mark.parametrize("shuffle", [False, True])
def test_token_batches_cover_every_example_once_within_budget(shuffle):
    examples = random_examples()
    batches = token_batches(examples, max_tokens=200, shuffle=shuffle, seed=3)
    indices = [e.index for batch in batches for e in batch]
    assert sorted(indices) == list(range(len(examples)))
    assert all(padded_size(batch) <= 200 for batch in batches)
    assert len(batches) > 10  # the budget really splits the data


def test_over_long_example_goes_alone():
    examples = random_examples(50) + [Example(50, list(range(4, 104)) + [EOS_ID], [5] * 80)]
    batches = token_batches(examples, max_tokens=60, shuffle=True, seed=1)
    oversized = [batch for batch in batches if padded_size(batch) > 60]
    assert [[e.index for e in batch] for batch in oversized] == [[50]]


def test_token_batches_group_similar_lengths_without_shuffle():
    batches = token_batches(random_examples(), max_tokens=200, shuffle=False)
    keys = [(len(e.src), len(e.tgt)) for batch in batches for e in batch]
    assert keys == sorted(keys)


def test_unsorted_batches_keep_the_given_order_and_pad_more():
    examples = random_examples()
    unsorted = group_by_tokens(examples, max_tokens=200)
    assert [e.index for batch in unsorted for e in batch] == list(range(len(examples)))
    assert all(padded_size(batch) <= 200 for batch in unsorted)
    sorted_batches = token_batches(examples, max_tokens=200, shuffle=False)
    assert len(unsorted) > len(sorted_batches)  # the same budget holds fewer sentences when lengths mix


def test_token_batches_are_repeatable_per_seed():
    examples = random_examples()

    def order(seed: int) -> list[list[int]]:
        return [[e.index for e in batch] for batch in token_batches(examples, 200, shuffle=True, seed=seed)]

    assert order(7) == order(7)
    assert order(7) != order(8)


def test_make_examples_appends_eos_and_drops_long_pairs():
    examples = make_examples([[5, 6], [5] * 9, [7]], [[8], [9, 9], [8] * 9], max_len=5)
    assert [(e.index, e.src, e.tgt) for e in examples] == [(0, [5, 6, EOS_ID], [8])]


def test_make_examples_can_truncate_long_pairs_to_fit_instead():
    examples = make_examples([[5, 6], [5] * 9, [7]], [[8], [9, 9], [8] * 9], max_len=5, long_sentences="truncate")
    assert [(e.index, e.src, e.tgt) for e in examples] == [
        (0, [5, 6, EOS_ID], [8]), (1, [5, 5, 5, 5, EOS_ID], [9, 9]), (2, [7, EOS_ID], [8, 8, 8, 8])]
    assert all(len(e.src) <= 5 and len(e.tgt) + 1 <= 5 for e in examples)
    with pytest.raises(ValueError, match="train.long_sentences='cut'"):
        make_examples([[5]], [[6]], max_len=5, long_sentences="cut")


def test_collate_pads_masks_and_shifts_targets():
    examples = [Example(4, [10, 11, 12, EOS_ID], [20, 21]), Example(9, [13, EOS_ID], [22, 23, 24, 25])]
    batch = collate(examples)
    assert batch.indices == [4, 9]
    assert batch.src.tolist() == [[10, 11, 12, EOS_ID], [13, EOS_ID, PAD_ID, PAD_ID]]
    assert batch.src_mask.tolist() == [[True] * 4, [True, True, False, False]]
    assert torch.equal(batch.src_mask, batch.src != PAD_ID)
    assert batch.tgt_in.tolist() == [[BOS_ID, 20, 21, PAD_ID, PAD_ID], [BOS_ID, 22, 23, 24, 25]]
    assert batch.tgt_out.tolist() == [[20, 21, EOS_ID, PAD_ID, PAD_ID], [22, 23, 24, 25, EOS_ID]]
    # teacher forcing: the output is the input shifted left by one, wherever the input is real
    real = batch.tgt_in[:, 1:] != PAD_ID
    assert torch.equal(batch.tgt_in[:, 1:][real], batch.tgt_out[:, :-1][real])
    assert batch.num_tgt_tokens == 3 + 5


NUMBERS = [("eins", "one"), ("zwei", "two"), ("drei", "three"), ("vier", "four"), ("fünf", "five"),
           ("sechs", "six"), ("sieben", "seven"), ("acht", "eight"), ("neun", "nine"), ("zehn", "ten")]


def synthetic_corpus(count: int = 300, seed: int = 0) -> ParallelText:
    rng = random.Random(seed)
    src, tgt = [], []
    for _ in range(count):
        words = [rng.choice(NUMBERS) for _ in range(rng.randint(2, 6))]
        src.append("ich zähle " + " ".join(de for de, _ in words) + " .")
        tgt.append("i count " + " ".join(en for _, en in words) + " .")
    return ParallelText("train", src, tgt)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SEQ2SEQ_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "sentencepiece"


def test_build_tokenizer_reuses_cache_and_retrains_on_new_settings(cache_dir, monkeypatch):
    corpus = synthetic_corpus()
    settings = TokenizerSettings(vocab_size=60)
    first = build_tokenizer(settings, corpus, cache_dir)
    assert first.src_model.parent.parent == cache_dir
    assert first.src_model == first.src_model.parent / "src.model"

    def no_training(*args, **kwargs):
        raise AssertionError("retrained although a cached model exists")

    with monkeypatch.context() as patch:
        patch.setattr(tokenizer_module, "_train_model", no_training)
        second = build_tokenizer(TokenizerSettings(vocab_size=60), synthetic_corpus(), cache_dir)
    assert second.src_model == first.src_model
    assert second.encode_src(corpus.src[:5]) == first.encode_src(corpus.src[:5])

    other = build_tokenizer(TokenizerSettings(vocab_size=70), corpus, cache_dir)
    assert other.src_model.parent != first.src_model.parent
    changed = ParallelText("train", corpus.src, corpus.tgt[:-1] + ["i count nothing ."])
    assert build_tokenizer(settings, changed, cache_dir).src_model.parent not in {
        first.src_model.parent, other.src_model.parent}
    assert not list(cache_dir.glob(".tmp-*"))  # staging directories were renamed into place


def test_joint_tokenizer_shares_one_model(cache_dir):
    tokenizer = build_tokenizer(TokenizerSettings(vocab_size=60, joint=True), synthetic_corpus(), cache_dir)
    assert tokenizer.src_model.read_bytes() == tokenizer.tgt_model.read_bytes()
    assert tokenizer.src.encode("eins") == tokenizer.tgt.encode("eins")


def test_separate_tokenizers_per_language(cache_dir):
    tokenizer = build_tokenizer(TokenizerSettings(vocab_size=40, joint=False), synthetic_corpus(), cache_dir)
    assert tokenizer.src_model.read_bytes() != tokenizer.tgt_model.read_bytes()
    src_pieces = {tokenizer.src.id_to_piece(i) for i in range(tokenizer.src_vocab_size)}
    tgt_pieces = {tokenizer.tgt.id_to_piece(i) for i in range(tokenizer.tgt_vocab_size)}
    assert "ü" in "".join(src_pieces) and "ü" not in "".join(tgt_pieces)  # only German has umlauts


@pytest.mark.parametrize("model_type", ["bpe", "unigram"])
def test_tokenizer_round_trips_and_uses_fixed_special_ids(cache_dir, model_type, tmp_path):
    corpus = synthetic_corpus()
    tokenizer = build_tokenizer(TokenizerSettings(model_type=model_type, vocab_size=60), corpus, cache_dir)
    for processor in (tokenizer.src, tokenizer.tgt):
        assert (processor.pad_id(), processor.unk_id(), processor.bos_id(), processor.eos_id()) == (
            PAD_ID, UNK_ID, BOS_ID, EOS_ID) == (0, 1, 2, 3)
    sentences = corpus.tgt[:20]
    ids = tokenizer.encode_tgt(sentences)
    assert all(PAD_ID not in row and EOS_ID not in row and UNK_ID not in row for row in ids)
    assert tokenizer.decode_tgt(ids) == sentences
    assert tokenizer.src.decode(tokenizer.encode_src(corpus.src[:20])) == corpus.src[:20]

    tokenizer.save(tmp_path / "run" / "tokenizer")
    reloaded = type(tokenizer).load(tmp_path / "run" / "tokenizer")
    assert reloaded.encode_src(corpus.src[:20]) == tokenizer.encode_src(corpus.src[:20])


def test_too_small_vocabulary_is_a_user_error_and_leaves_no_staging_dir(cache_dir):
    with pytest.raises(UserError, match=r"tokenizer\.vocab_size=10: .*Vocabulary size is smaller"):
        build_tokenizer(TokenizerSettings(vocab_size=10), synthetic_corpus(), cache_dir)
    assert list(cache_dir.iterdir()) == []
