"""JoeyNMT 2.3.0 configs at the sizes of our presets: the `model:` section, and a whole training config.

Plain dictionaries and only the standard library, so both the throughput worker (in JoeyNMT's
environment) and the quality benchmark (in ours, writing JoeyNMT's YAML) build the same models.
"""

from __future__ import annotations

from pathlib import Path


def rnn_config(encoder_hidden: int, bidirectional: bool) -> dict:
    """Recurrent model: GRU encoder, GRU decoder (512) with Bahdanau attention and input feeding."""
    return {
        "encoder": {"type": "recurrent", "rnn_type": "gru", "hidden_size": encoder_hidden, "bidirectional": bidirectional,
                    "num_layers": 1, "dropout": 0.2, "embeddings": {"embedding_dim": 256}},
        "decoder": {"type": "recurrent", "rnn_type": "gru", "hidden_size": 512, "attention": "bahdanau", "num_layers": 1,
                    "dropout": 0.2, "hidden_dropout": 0.2, "input_feeding": True, "init_hidden": "bridge",
                    "embeddings": {"embedding_dim": 256}},
    }


def transformer_config() -> dict:
    """Pre-norm Transformer, 3+3 layers, d=256, ff 1024, 4 heads, decoder embedding tied to the softmax."""
    def side() -> dict:
        return {"type": "transformer", "num_layers": 3, "num_heads": 4, "hidden_size": 256, "ff_size": 1024,
                "dropout": 0.1, "layer_norm": "pre", "embeddings": {"embedding_dim": 256, "scale": True, "dropout": 0.1}}

    return {"tied_softmax": True, "encoder": side(), "decoder": side()}


# JoeyNMT has no attention-free decoder, and its RecurrentEncoder fails when unidirectional
# (IndexError in RecurrentEncoder.forward), so for `rnn` the nearest model it can build is its rnn_attention one.
PRESETS = {
    "rnn": lambda: rnn_config(256, bidirectional=True),
    "rnn_attention": lambda: rnn_config(256, bidirectional=True),
    "transformer": transformer_config,
}


def training_config(
    preset: str, splits: dict[str, Path], subword_model: Path, vocabulary: Path, model_dir: Path, validation_freq: int, *,
    lr: float, betas: list[float], warmup_steps: int, label_smoothing: float, clip_norm: float, batch_tokens: int,
    max_len: int, beam: int,
) -> dict:
    """JoeyNMT's whole config for training `preset` with our recipe; `splits` maps train, dev and test to
    the path prefixes of their PREFIX.de and PREFIX.en files.

    Our recipe in JoeyNMT's keys: Adam peaking at `lr` after `warmup_steps`, then 1/sqrt decay (its
    `warmupinversesquareroot` is our `noam`), label smoothing, loss per token, gradient-norm
    clipping, batches of `batch_tokens` padded tokens, pairs up to `max_len` subwords. Greedy BLEU on
    the dev set every `validation_freq` updates keeps the best checkpoint. Epochs and the
    learning-rate floor are out of reach: the caller's time budget ends training. Testing decodes
    with `beam` and JoeyNMT's default length penalty (none).
    """
    def side(lang: str) -> dict:
        return {"lang": lang, "level": "bpe", "lowercase": False, "normalize": False, "max_length": max_len,
                "min_length": 1, "voc_file": str(vocabulary), "tokenizer_type": "sentencepiece",
                "tokenizer_cfg": {"model_file": str(subword_model)}}

    return {
        "name": f"quality_{preset}",
        "joeynmt_version": "2.3.0",
        "model_dir": str(model_dir),
        "use_cuda": False,
        "fp16": False,
        "random_seed": 1234,
        "data": {**{split: str(prefix) for split, prefix in splits.items()},
                 "dataset_type": "plain", "src": side("de"), "trg": side("en")},
        "training": {
            "overwrite": True, "optimizer": "adam", "adam_betas": list(betas), "learning_rate": lr,
            "learning_rate_min": 1.0e-8, "scheduling": "warmupinversesquareroot", "learning_rate_warmup": warmup_steps,
            "loss": "crossentropy", "label_smoothing": label_smoothing, "normalization": "tokens",
            "clip_grad_norm": clip_norm, "batch_size": batch_tokens, "batch_type": "token", "epochs": 100_000,
            "shuffle": True, "validation_freq": validation_freq, "logging_freq": validation_freq,
            "early_stopping_metric": "bleu", "keep_best_ckpts": 1, "print_valid_sents": [],
        },
        "testing": {"beam_size": beam, "eval_metrics": ["bleu"], "sacrebleu_cfg": {"tokenize": "13a"}},
        "model": PRESETS[preset](),
    }
