"""What each speed lever is worth on its own, one variable changed at a time, on Multi30k batches.

- Batching: length-bucketed token batches (ours) vs the same token budget over shuffled sentences.
- Optimizer: Adam's per-parameter loop (torch's CPU default) vs `foreach` vs `fused`.
- Key/value cache: greedy decoding through `Decoder.step` (cached) vs recomputing the prefix.
- torch.compile: the transformer's training step compiled vs eager (and the compile time).

bf16 against fp32 is in train_throughput.md and decode_throughput.md. Usage:

    python benchmarks/levers.py [--steps 10] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import random
import time

import torch
from harness import common_options, machine_lines, write_table
from hydra import compose, initialize_config_module
from omegaconf import DictConfig

from seq2seq.data.batching import Batch, collate, group_by_tokens, make_examples, token_batches
from seq2seq.data.corpora import NamedCorpus
from seq2seq.data.tokenizer import BOS_ID, TokenizerSettings, build_tokenizer
from seq2seq.decoding import greedy_search
from seq2seq.models.encoder_decoder import EncoderDecoder, build_model
from seq2seq.training.precision import autocast
from seq2seq.training.trainer import Trainer

CPU = torch.device("cpu")


def padding_share(batches: list[Batch]) -> float:
    real = sum(int(b.src_mask.sum()) + b.num_tgt_tokens for b in batches)
    padded = sum(b.src.numel() + b.tgt_out.numel() for b in batches)
    return 1 - real / padded


def preset_config(preset: str) -> DictConfig:
    with initialize_config_module(config_module="seq2seq.conf", version_base="1.3"):
        return compose("config", overrides=[f"model={preset}", "data=files"])


def trainer_for(preset: str, vocab: int, precision: str, **adam: bool) -> Trainer:
    config = preset_config(preset)
    torch.manual_seed(0)
    trainer = Trainer(build_model(config.model, vocab, vocab), config.train, CPU, precision)
    if adam:
        settings = config.train
        trainer.optimizer = torch.optim.Adam(trainer.model.parameters(), lr=settings.lr, betas=tuple(settings.betas), **adam)
        trainer.scheduler = torch.optim.lr_scheduler.LambdaLR(trainer.optimizer, lambda step: 1.0)
    return trainer


def train_speed(trainer: Trainer, batches: list[Batch], warmup: int = 2, repeats: int = 3) -> float:
    """Target tokens per second over `batches` after `warmup` untimed steps: the best of `repeats`
    passes, since a pass on a shared 2-core machine is only ever slowed down by others."""
    trainer.model.train()
    for batch in batches[:warmup]:
        trainer.train_step(batch)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for batch in batches[warmup:]:
            trainer.train_step(batch)
        best = min(best, time.perf_counter() - start)
    return sum(b.num_tgt_tokens for b in batches[warmup:]) / best


@torch.inference_mode()
def recompute_greedy(model: EncoderDecoder, src: torch.Tensor, src_mask: torch.Tensor, steps: int) -> torch.Tensor:
    """Greedy decoding without the cache: the whole prefix goes through the decoder at every step."""
    prefix = torch.full((src.size(0), 1), BOS_ID, dtype=torch.long)
    for _ in range(steps):
        logits, _ = model(src, src_mask, prefix)
        prefix = torch.cat([prefix, logits[:, -1].argmax(dim=-1, keepdim=True)], dim=1)
    return prefix


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = common_options(__doc__.splitlines()[0], "benchmarks/results/levers.md")
    parser.add_argument("--steps", type=int, default=10, help="timed training steps per measurement")
    args: argparse.Namespace = parser.parse_args()
    header, _ = machine_lines(args.threads)
    corpus = NamedCorpus("multi30k", ["train", "test_2016_flickr"], root=str(args.data_root))
    train, test = corpus.load("train"), corpus.load("test_2016_flickr")
    tokenizer = build_tokenizer(TokenizerSettings(), train, args.work_dir / "tokenizer")
    vocab = tokenizer.src_vocab_size
    examples = make_examples(tokenizer.encode_src(train.src), tokenizer.encode_tgt(train.tgt), max_len=200)
    count = args.steps + 2
    bucketed = [collate(g) for g in token_batches(examples, 4096, shuffle=True, seed=0)[:count]]
    unsorted = list(examples)
    random.Random(0).shuffle(unsorted)  # no sort by length: the padding that bucketing avoids
    shuffled = [collate(g) for g in group_by_tokens(unsorted, 4096)[:count]]
    rows = []

    def row(lever: str, baseline: str, base: float, variant: str, value: float, unit: str) -> None:
        rows.append(f"| {lever} | {baseline}: {base:,.1f} {unit} | {variant}: {value:,.1f} {unit} | {value / base:.2f}× |")
        print(rows[-1], flush=True)

    for preset in ("rnn_attention", "transformer"):
        random_speed = train_speed(trainer_for(preset, vocab, "bf16"), shuffled)
        bucketed_speed = train_speed(trainer_for(preset, vocab, "bf16"), bucketed)
        row(f"{preset} training, bf16: batching", f"shuffled ({100 * padding_share(shuffled):.0f}% padding)",
            random_speed, f"length-bucketed ({100 * padding_share(bucketed):.0f}% padding)", bucketed_speed, "tok/s")
    speeds = {name: train_speed(trainer_for("transformer", vocab, "bf16", **flags), bucketed)
              for name, flags in {"for-loop": {"foreach": False}, "foreach": {"foreach": True},
                                  "fused": {"fused": True}}.items()}
    for name in ("foreach", "fused"):  # fused is what Trainer uses (make_adam)
        row("transformer training, bf16: Adam", "for-loop (torch's CPU default)", speeds["for-loop"], name, speeds[name],
            "tok/s")
    trainer = trainer_for("transformer", vocab, "bf16")
    eager = train_speed(trainer, bucketed)
    trainer.train_model = torch.compile(trainer.model, dynamic=True)
    compile_seconds = timed(trainer.train_step, bucketed[0])
    row(f"transformer training, bf16: torch.compile (compiling took {compile_seconds:.0f} s)", "eager", eager,
        "compiled", train_speed(trainer, bucketed), "tok/s")

    model = build_model(preset_config("transformer").model, vocab, vocab).eval()
    src_ids = tokenizer.encode_src(test.src[:200])
    groups = token_batches(make_examples(src_ids, [[] for _ in src_ids]), 4096, shuffle=False)
    decode_batches = [collate(g) for g in groups]
    with autocast(CPU, "bf16"):
        cached = sum(timed(greedy_search, model, b.src, b.src_mask, 1.0, 1) for b in decode_batches)
        recomputed = sum(
            timed(recompute_greedy, model, b.src, b.src_mask, int(b.src_mask.sum(dim=1).max()) + 1) for b in decode_batches
        )
    row("transformer greedy decoding, bf16: key/value cache", "recompute the prefix", len(src_ids) / recomputed,
        "cached", len(src_ids) / cached, "sentences/s")

    lines = ["# Speed levers, one at a time", "", *header, "",
             f"Command: `python benchmarks/levers.py --steps {args.steps} --threads {args.threads}`; training: "
             f"best of 3 passes over {args.steps} timed steps on Multi30k batches of about 4,096 tokens, after 2 untimed; "
             "decoding: the first "
             "200 sentences of test_2016_flickr, untrained model, outputs as long as the source plus one.", "",
             "| lever | without | with | speed-up |", "|---|--:|--:|--:|", *rows]
    write_table(args.out, lines)


if __name__ == "__main__":
    os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")
    main()
