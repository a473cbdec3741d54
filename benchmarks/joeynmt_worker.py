"""Times JoeyNMT 2.3.0 on the shared workload, as the counterparts of our presets in joeynmt_config.py.

Runs in JoeyNMT's own virtual environment (see benchmarks/README.md), so it imports nothing from
seq2seq; the command line mirrors `ours_worker.py`. A training step is what JoeyNMT's
`TrainManager` does per batch: `Batch` sorted by source length, loss through
`model(return_type="loss")` with label smoothing 0.1, normalised by tokens, backward, clipping at
1.0, Adam, zero_grad. Decoding calls `joeynmt.search.search`, as `joeynmt translate` does, under
`torch.no_grad()`, on a freshly initialised model or on the trained weights of --checkpoint (a
JoeyNMT model directory, or a checkpoint in one), built as `joeynmt test` builds it. JoeyNMT trains
in fp32 on CPUs (it turns `fp16` off there), so there is no precision switch.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from types import SimpleNamespace

import torch
from joeynmt.batch import Batch
from joeynmt.config import load_config
from joeynmt.helpers import load_checkpoint, read_list_from_file
from joeynmt.model import Model, build_model
from joeynmt.search import search
from joeynmt.vocabulary import Vocabulary

sys.path.insert(0, str(Path(__file__).parent))
from joeynmt_config import PRESETS
from machine import decoding_result, training_result

UNK, PAD, BOS, EOS = 0, 1, 2, 3  # JoeyNMT's default special ids; ids from 4 are tokens in both toolkits
WORKLOAD_UNK = 1  # the workload's (our sentencepiece model's) unknown id
SPECIALS = SimpleNamespace(unk_token="<unk>", pad_token="<pad>", bos_token="<s>", eos_token="</s>", sep_token=None,
                           lang_tags=[], unk_id=UNK, pad_id=PAD, bos_id=BOS, eos_id=EOS)
CPU = torch.device("cpu")


def vocabulary(size: int) -> Vocabulary:
    return Vocabulary([f"t{i}" for i in range(4, size)], SPECIALS)


def make_batch(src: list[list[int]], tgt: list[list[int]] | None) -> Batch:
    """A JoeyNMT `Batch` as its collate function builds it: EOS after sources, BOS ... EOS around targets."""
    def padded(rows: list[list[int]]) -> torch.Tensor:
        width = max(len(r) for r in rows)
        return torch.tensor([r + [PAD] * (width - len(r)) for r in rows], dtype=torch.long)

    sources = [s + [EOS] for s in src]
    targets = padded([[BOS] + t + [EOS] for t in tgt]) if tgt is not None else None
    return Batch(padded(sources), torch.tensor([len(s) for s in sources]), None, targets, None,
                 torch.arange(len(src)), CPU, PAD, EOS, is_train=tgt is not None)


def build(preset: str, size: int) -> torch.nn.Module:
    torch.manual_seed(0)
    vocab = vocabulary(size)
    assert len(vocab) == size, (len(vocab), size)
    model = build_model(PRESETS[preset](), vocab, vocab)
    model.loss_function = ("crossentropy", 0.1)
    return model


def train(args: argparse.Namespace, workload: dict) -> dict:
    model = build(args.preset, workload["vocab_size"])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.98))
    batches = [make_batch(b["src"], b["tgt"]) for b in workload["train_batches"]]

    def step(batch: Batch) -> int:
        model.train()
        batch.sort_by_src_length()
        loss, _, _, _ = model(return_type="loss", **vars(batch))
        (loss / batch.ntokens).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        model.zero_grad()
        return batch.ntokens

    def backward(batch: Batch) -> None:
        model(return_type="loss", **vars(batch))[0].backward()

    return training_result(step, backward, batches, args.warmup, sum(p.numel() for p in model.parameters()))


def trained(path: Path, size: int) -> Model:
    """The model a JoeyNMT training saved: its config's model, its vocabularies, the weights of best.ckpt (or
    of the checkpoint named)."""
    model_dir, checkpoint = (path.parent, path) if path.is_file() else (path, path / "best.ckpt")
    src_vocab, trg_vocab = (Vocabulary(read_list_from_file(model_dir / f"{side}_vocab.txt"), SPECIALS)
                            for side in ("src", "trg"))
    if len(src_vocab) != size or len(trg_vocab) != size:
        sys.exit(f"--checkpoint {path}: vocabularies of {len(src_vocab)} and {len(trg_vocab)}; the workload has {size}")
    model = build_model(load_config(model_dir / "config.yaml")["model"], src_vocab, trg_vocab)
    model.load_state_dict(load_checkpoint(checkpoint, CPU)["model_state"])
    return model


def workload_ids(row: list[int]) -> list[int]:
    """One output up to its EOS, in the workload's ids: tokens (from 4) are the same, JoeyNMT's UNK is not."""
    tokens = row[:row.index(EOS)] if EOS in row else row
    return [WORKLOAD_UNK if token == UNK else token for token in tokens]


def decode(args: argparse.Namespace, workload: dict) -> dict:
    model = (trained(args.checkpoint, workload["vocab_size"]) if args.checkpoint
             else build(args.preset, workload["vocab_size"])).eval()
    batches = [make_batch(src, None) for src in workload["decode_batches"]]
    outputs: dict[int, list[list[int]]] = {}
    calls = [0]  # decoder steps run: search calls the decoder once per step

    def count_step(*_) -> None:
        calls[0] += 1

    model.decoder.register_forward_hook(count_step)

    def run(numbered: tuple[int, Batch]) -> int:
        number, batch = numbered
        before = calls[0]
        batch.sort_by_src_length()
        # the same length limit as ours: ratio × source length (with EOS) + offset, for the longest source
        limit = int(int(batch.src_length.max()) * args.max_ratio) + args.max_offset
        with torch.no_grad():
            output, _, _ = search(model, batch, max_output_length=limit, beam_size=args.beam, beam_alpha=0.6)
        rows = dict(zip(batch.indices.tolist(), output.tolist()))  # sorted rows back in the workload's order
        outputs[number] = [workload_ids(rows[i]) for i in range(len(rows))]
        return calls[0] - before

    sentences = sum(b.nseqs for b in batches)
    result = decoding_result(run, list(enumerate(batches)), sentences, sum(p.numel() for p in model.parameters()))
    return {**result, "outputs": [outputs[number] for number in range(len(batches))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=["train", "decode"])
    parser.add_argument("--preset", required=True, choices=sorted(PRESETS))
    parser.add_argument("--workload", type=Path, required=True)
    parser.add_argument("--precision", choices=["fp32"], default="fp32")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--beam", type=int, default=1)
    parser.add_argument("--max-ratio", type=float, default=1.0)
    parser.add_argument("--max-offset", type=int, default=1)
    parser.add_argument("--checkpoint", type=Path, help="decode: a JoeyNMT model directory (or a checkpoint in one)")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    torch.set_num_threads(args.threads)
    workload = json.loads(args.workload.read_text())
    print(json.dumps(train(args, workload) if args.task == "train" else decode(args, workload)))


if __name__ == "__main__":
    main()
