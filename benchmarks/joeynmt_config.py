"""JoeyNMT 2.3.0 configs doing the work of our presets: the `model:` section, and a whole training config.

Plain dictionaries and only the standard library, so both the throughput worker (in JoeyNMT's
environment) and the quality benchmark (in ours, writing JoeyNMT's YAML) build the same models.
Each counterpart does the forward and backward FLOPs per target token of our preset (within 5%,
checked by tests/test_benchmarks.py), so that speed ratios and equal-time quality compare equal work.
"""

from __future__ import annotations

from pathlib import Path

# JoeyNMT's recurrent decoder feeds its attentional vector back as input (Luong's input feeding) and
# puts a decoder-wide attentional layer before the softmax; at our decoder's 512 that costs 48.4 MFLOP
# per target token against our rnn_attention's 34.3 (FlopCounterMode, forward and backward, the first
# 4 training batches of the throughput workload: 15,959 target tokens, 8,000 subwords). A 384-wide
# decoder does 35.0 (+2%; +1% on sentences of 14 subwords, +3% on 19-21) with our parameter count
# (10.03 M both); 376 would match to 0.1%, but 384 keeps a multiple of 128, so neither toolkit gets
# an awkward matrix shape.
DECODER_HIDDEN = 384


def rnn_attention_config() -> dict:
    """Bidirectional GRU encoder 2×256, GRU decoder (DECODER_HIDDEN) with Bahdanau attention of its width,
    input feeding and a bridge from the encoder's last states; embeddings 256."""
    return {
        "encoder": {"type": "recurrent", "rnn_type": "gru", "hidden_size": 256, "bidirectional": True,
                    "num_layers": 1, "dropout": 0.2, "embeddings": {"embedding_dim": 256}},
        "decoder": {"type": "recurrent", "rnn_type": "gru", "hidden_size": DECODER_HIDDEN, "attention": "bahdanau",
                    "num_layers": 1, "dropout": 0.2, "hidden_dropout": 0.2, "input_feeding": True,
                    "init_hidden": "bridge", "embeddings": {"embedding_dim": 256}},
    }


def transformer_config() -> dict:
    """Pre-norm Transformer, 3+3 layers, d=256, ff 1024, 4 heads, decoder embedding tied to the softmax: our
    preset's sizes and parameter count (9.63 M), and its work: 46.0 MFLOP per target token against our 45.7
    (+0.7%) on the batches measured for DECODER_HIDDEN."""
    def side() -> dict:
        return {"type": "transformer", "num_layers": 3, "num_heads": 4, "hidden_size": 256, "ff_size": 1024,
                "dropout": 0.1, "layer_norm": "pre", "embeddings": {"embedding_dim": 256, "scale": True, "dropout": 0.1}}

    return {"tied_softmax": True, "encoder": side(), "decoder": side()}


# Our presets that JoeyNMT can match. It has no attention-free decoder, and its RecurrentEncoder fails
# when unidirectional (IndexError in RecurrentEncoder.forward), so `rnn` has no counterpart.
PRESETS = {
    "rnn_attention": rnn_attention_config,
    "transformer": transformer_config,
}


def architecture(model: dict) -> str:
    """The counterpart's architecture in a few words, read from its config so a table cannot drift from it."""
    encoder, decoder = model["encoder"], model["decoder"]
    if decoder["type"] == "recurrent":
        return (f"bi-GRU 2×{encoder['hidden_size']}, GRU decoder {decoder['hidden_size']}, Bahdanau attention, "
                f"input feeding")
    return (f"transformer {encoder['num_layers']}+{decoder['num_layers']}, d={decoder['hidden_size']}, "
            f"ff {decoder['ff_size']}, {decoder['num_heads']} heads")


def training_config(
    preset: str, splits: dict[str, Path], subword_model: Path, vocabulary: Path, model_dir: Path, validation_freq: int, *,
    lr: float, betas: list[float], warmup_steps: int, label_smoothing: float, clip_norm: float, batch_tokens: int,
    max_len: int, beam: int, logging_freq: int | None = None,
) -> dict:
    """JoeyNMT's whole config for training `preset` with our recipe; `splits` maps train, dev and test to
    the path prefixes of their PREFIX.de and PREFIX.en files.

    Our recipe in JoeyNMT's keys: Adam peaking at `lr` after `warmup_steps`, then 1/sqrt decay (its
    `warmupinversesquareroot` is our `noam`), label smoothing, loss per token, gradient-norm
    clipping, batches of `batch_tokens` padded tokens, pairs up to `max_len` subwords. Greedy BLEU on
    the dev set every `validation_freq` updates keeps the best checkpoint; progress lines every
    `logging_freq` updates (default: at each validation). Epochs and the
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
            "shuffle": True, "validation_freq": validation_freq, "logging_freq": logging_freq or validation_freq,
            "early_stopping_metric": "bleu", "keep_best_ckpts": 1, "print_valid_sents": [],
        },
        "testing": {"beam_size": beam, "eval_metrics": ["bleu"], "sacrebleu_cfg": {"tokenize": "13a"}},
        "model": PRESETS[preset](),
    }
