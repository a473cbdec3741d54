"""Times seq2seq on the shared workload, in a process of its own so its peak memory is its own.

    python benchmarks/ours_worker.py train  --preset rnn --workload W.json --precision bf16 [--threads 2] [--warmup 3]
    python benchmarks/ours_worker.py decode --preset rnn --workload W.json --precision bf16 --beam 5 [--checkpoint RUN]
    python benchmarks/ours_worker.py train --overrides "+experiment=attention_family +variant=dot" --workload W.json

Training runs `Trainer.train_step`, the code `seq2seq-train` runs, with the default training preset
(label smoothing 0.1, clipping 1.0, Adam, noam schedule); decoding runs `greedy_search` and
`beam_search` as `seq2seq-eval` does, on a freshly initialised model or on the trained weights of
--checkpoint, opened as `seq2seq-eval` opens them; like seq2seq's commands, it first keeps freed memory
for reuse (`seq2seq.allocator`; --system-malloc leaves glibc's defaults). Prints one JSON object; a decoding one also holds
the outputs' token ids, batch by batch, so that the caller can score them.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import sys
from pathlib import Path

import torch
from hydra import compose, initialize_config_module

sys.path.insert(0, str(Path(__file__).parent))
from machine import decoding_result, training_result

from seq2seq.allocator import keep_freed_memory
from seq2seq.data.batching import Batch, collate, make_examples
from seq2seq.decoding import Hypothesis, beam_search, greedy_search
from seq2seq.models.encoder_decoder import EncoderDecoder, build_model
from seq2seq.pipeline import open_run
from seq2seq.training.precision import autocast
from seq2seq.training.trainer import Trainer, batch_loss

CPU = torch.device("cpu")


def compose_config(args: argparse.Namespace):
    """The configuration `seq2seq-train` would compose: the preset's (training preset included), or that of
    --overrides (an experiment and variant: its model sizes and training settings)."""
    overrides = args.overrides.split() if args.overrides else [f"model={args.preset}", "data=files"]
    with initialize_config_module(config_module="seq2seq.conf", version_base="1.3"):
        return compose("config", overrides=overrides)


def train(args: argparse.Namespace, workload: dict) -> dict:
    config = compose_config(args)
    torch.manual_seed(0)
    model = build_model(config.model, workload["vocab_size"], workload["vocab_size"])
    batches = [collate(make_examples(b["src"], b["tgt"])) for b in workload["train_batches"]]
    trainer = Trainer(model, config.train, CPU, args.precision)
    model.train()

    def step(batch: Batch) -> int:
        trainer.train_step(batch)
        return batch.num_tgt_tokens

    def backward(batch: Batch) -> None:
        with autocast(CPU, args.precision):
            batch_loss(model, batch, config.train.label_smoothing).backward()

    parameters = sum(p.numel() for p in model.parameters())
    return training_result(step, backward, batches, args.warmup, parameters)


def decoding_model(args: argparse.Namespace, workload: dict) -> EncoderDecoder:
    """The trained model of --checkpoint, else a freshly initialised one of the preset."""
    if args.checkpoint is None:
        torch.manual_seed(0)
        return build_model(compose_config(args).model, workload["vocab_size"], workload["vocab_size"]).eval()
    trained = open_run(args.checkpoint, ["device=cpu"])
    if args.preset and trained.config.model.name != args.preset:
        sys.exit(f"--checkpoint {args.checkpoint}: a {trained.config.model.name} run, not {args.preset}")
    for model in (trained.tokenizer.src_model, trained.tokenizer.tgt_model):
        if not filecmp.cmp(model, workload["tokenizer_model"], shallow=False):
            sys.exit(f"--checkpoint {args.checkpoint}: trained on other subwords than the workload's "
                     f"({workload['tokenizer_model']}), so its ids mean other pieces")
    return trained.model


def decode(args: argparse.Namespace, workload: dict) -> dict:
    model = decoding_model(args, workload)
    batches = [collate(make_examples(src, [[] for _ in src])) for src in workload["decode_batches"]]
    outputs: dict[int, list[list[int]]] = {}
    calls = [0]  # decoder steps run: `decoder.output` makes each step's logits, once per step

    def count_step(*_) -> None:
        calls[0] += 1

    model.decoder.output.register_forward_hook(count_step)

    def search(batch: Batch) -> list[Hypothesis]:
        with autocast(CPU, args.precision):
            if args.beam == 1:
                return greedy_search(model, batch.src, batch.src_mask, args.max_ratio, args.max_offset)
            found = beam_search(model, batch.src, batch.src_mask, args.beam, 0.6, args.max_ratio, args.max_offset)
            return [best[0] for best in found]

    def decoder_steps(numbered: tuple[int, Batch]) -> int:
        number, batch = numbered
        before = calls[0]
        outputs[number] = [h.tokens for h in search(batch)]
        return calls[0] - before

    sentences = sum(b.src.size(0) for b in batches)
    result = decoding_result(decoder_steps, list(enumerate(batches)), sentences, sum(p.numel() for p in model.parameters()))
    return {**result, "outputs": [outputs[number] for number in range(len(batches))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=["train", "decode"])
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument("--preset", choices=["rnn", "rnn_attention", "transformer"])
    model.add_argument("--overrides", help="Hydra overrides that compose the model and training settings instead")
    parser.add_argument("--workload", type=Path, required=True)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--warmup", type=int, default=3, help="training steps run before timing starts")
    parser.add_argument("--beam", type=int, default=1)
    parser.add_argument("--max-ratio", type=float, default=1.0)
    parser.add_argument("--max-offset", type=int, default=1)
    parser.add_argument("--checkpoint", type=Path, help="decode: a seq2seq-train run directory (or a checkpoint in one)")
    parser.add_argument("--system-malloc", action="store_true", help="leave glibc's allocator settings as they are")
    args = parser.parse_args()
    if not args.system_malloc:
        keep_freed_memory()
    torch.set_num_threads(args.threads)
    workload = json.loads(args.workload.read_text())
    print(json.dumps(train(args, workload) if args.task == "train" else decode(args, workload)))


if __name__ == "__main__":
    main()
