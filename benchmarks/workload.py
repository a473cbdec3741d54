"""The fixed work both toolkits are timed on: Multi30k subword ids, grouped into batches once.

Both workers read the same JSON file, so they see the same sentences in the same batches; each
adds its own special tokens (BOS, EOS, padding) the way its toolkit does. Token ids start at 4
in both toolkits (ids 0-3 are the four specials), so the ids carry over unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seq2seq.data.batching import make_examples, token_batches
from seq2seq.data.corpora import NamedCorpus
from seq2seq.data.tokenizer import TokenizerSettings, build_tokenizer


def build_workload(
    data_root: Path, cache_dir: Path, batch_tokens: int, train_batches: int, decode_batch_tokens: int, sentences: int
) -> dict[str, Any]:
    """Training batches of about `batch_tokens` padded tokens (length-bucketed, shuffled with seed 0)
    and the first `sentences` of test_2016_flickr in length-sorted decoding batches."""
    corpus = NamedCorpus("multi30k", ["train", "test_2016_flickr"], root=str(data_root))
    train, test = corpus.load("train"), corpus.load("test_2016_flickr")
    tokenizer = build_tokenizer(TokenizerSettings(), train, cache_dir)
    groups = []
    if train_batches:  # the decoding benchmark needs only the tokenizer from the training set
        examples = make_examples(tokenizer.encode_src(train.src), tokenizer.encode_tgt(train.tgt), max_len=200)
        groups = token_batches(examples, batch_tokens, shuffle=True, seed=0)[:train_batches]
    test_src = tokenizer.encode_src(test.src[:sentences])
    decode_groups = token_batches(make_examples(test_src, [[] for _ in test_src]), decode_batch_tokens, shuffle=False)
    return {
        "vocab_size": tokenizer.src_vocab_size,
        "tokenizer_model": str(tokenizer.tgt_model),  # whose ids these are: trained checkpoints must share it
        "batch_tokens": batch_tokens,
        # without specials: each worker appends EOS to sources and wraps targets in BOS ... EOS
        "train_batches": [{"src": [e.src[:-1] for e in g], "tgt": [e.tgt for e in g]} for g in groups],
        "decode_batches": [[test_src[e.index] for e in g] for g in decode_groups],
        "decode_sentences": [[e.index for e in g] for g in decode_groups],  # line numbers in test_2016_flickr
    }


def save_workload(workload: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(workload))
