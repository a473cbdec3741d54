"""What each speed lever is worth on its own, one variable changed at a time, on Multi30k batches.

- Batching: length-bucketed token batches (ours) vs the same token budget over shuffled sentences.
- Optimizer: Adam's per-parameter loop (torch's CPU default) vs `foreach` vs `fused`.
- Loss: the output layer at real target positions only and the cross-entropy's hand-written gradient
  (`batch_loss`, commits 4f27a8f and 46248c6) vs the loss before both: every position projected,
  padding included, and `F.cross_entropy`.
- RNN encoder: over the padded batch, each row reversed within its length for the backward direction
  (`run_over_lengths`, commit 5c1779c) vs torch's packed sequences, as before that commit.
- Key/value cache: greedy decoding through `Decoder.step` (cached) vs the same search re-running the
  decoder over the whole prefix at every step, the source encoded and the cross-attention keys and
  values made once per batch in both; in fp32, and in bf16 where the CPU has it natively.
- torch.compile: the transformer's training step compiled vs eager (and the compile time).
- Allocator: glibc's defaults vs freed memory kept for reuse (`seq2seq.allocator`, which seq2seq's
  commands set first), each measurement a fresh `ours_worker.py` process, median of --rounds interleaved;
  training and beam-5 decoding, with each side's peak memory (the setting's price).
- Search: finished sentences leave the batch (`beam_search`) vs the search before that change, which
  kept them in it, scores at -inf, until the whole batch was done; beam 5, outputs checked identical.
- Additive attention: its energy as 2·sigmoid(2x) in cache-sized row blocks (`AdditiveAttention`,
  commit edfe212) vs tanh over one [rows, source, units] buffer, as before; in rnn_attention training
  and beam-5 decoding (with how many outputs are the same).
- A sentence's memory in beam search: one copy read by its k beams (`Memory.beams`; the attention
  decoders attend from the k beams at once) vs k copies, one per beam, as before; beam-5 decoding of
  the trained rnn_attention and Transformer checkpoints, with how many outputs are the same. The
  finished-sentences row keeps k copies on both sides, so that it changes one thing.

Decoding levers other than the key/value cache decode the trained rnn_attention checkpoint and the
workload that `decode_throughput.py --train-minutes 30` leaves in --work-dir (users decode trained
models, whose sentences finish at different steps); without them those rows are left out, saying so.
Everything in this process runs with freed memory kept, as in seq2seq's commands.

Training levers run in bf16 where the CPU has it natively, else in fp32 (emulated bf16 would time the
emulation); the precision is in each row. bf16 against fp32 is in train_throughput.md and
decode_throughput.md. Usage:

    python benchmarks/levers.py [--steps 10] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import torch
import torch.nn.functional as F
from harness import common_options, interleaved_rounds, machine_lines, prepare_workload, write_table
from machine import native_bf16
from hydra import compose, initialize_config_module
from omegaconf import DictConfig
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seq2seq.allocator import keep_freed_memory
from seq2seq.data.batching import Batch, collate, group_by_tokens, make_examples, token_batches
from seq2seq.data.corpora import NamedCorpus
from seq2seq.data.tokenizer import BOS_ID, EOS_ID, PAD_ID, TokenizerSettings, build_tokenizer
from seq2seq.decoding import Hypothesis, beam_search, greedy_search, length_penalty, max_output_lengths, step_limit
from seq2seq.models.attention import AdditiveAttention, masked_softmax
from seq2seq.models.encoder_decoder import EncoderDecoder, build_model
from seq2seq.models.interfaces import Memory, select_rows
from seq2seq.pipeline import open_run
from seq2seq.training.precision import autocast
from seq2seq.training.trainer import Trainer

CPU = torch.device("cpu")
TRAINED = Path("trained/all_pairs/30_minutes/rnn_attention/seq2seq")  # decode_throughput.py --train-minutes 30
SYSTEM_MALLOC = "glibc's defaults (each large tensor mapped afresh, its pages faulted in again)"
KEPT_MALLOC = "freed memory kept for reuse (`seq2seq.allocator`)"
TRAINED_TRANSFORMER = Path("trained/all_pairs/30_minutes/transformer/seq2seq")
COPIED_MEMORY = "a copy per beam, copied again whenever sentences leave the batch"
SHARED_MEMORY = "one copy read by the sentence's k beams (`Memory.beams`)"
TANH_ENERGY = "tanh over one [rows, source, units] buffer"
SIGMOID_ENERGY = "2·sigmoid(2x) in row blocks of 2^19 numbers (`AdditiveAttention`)"
UNCACHED = ("no cache (source encoded, cross-attention keys and values made once per batch; every step re-runs the "
            "decoder over the whole prefix, projecting only its last position onto the vocabulary)")


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
def uncached_greedy(
    model: EncoderDecoder, src: torch.Tensor, src_mask: torch.Tensor, max_ratio: float, max_offset: int
) -> list[list[int]]:
    """`greedy_search` less the key/value cache: the cache's fair baseline. As there, the source is encoded
    and the decoder's memory prepared (`Decoder.prepare`: the cross-attention keys and values) once per
    batch, outputs stop at the same limits, and only the newest position is projected onto the vocabulary;
    but every step runs the decoder over the whole prefix from its initial state instead of one new
    position from the cached state. Returns the output tokens."""
    decoder = model.decoder
    memory = decoder.prepare(model.encode(src, src_mask))
    limits = max_output_lengths(src_mask, max_ratio, max_offset, step_limit(decoder, None))  # [batch]
    prefix = torch.full((src.size(0), 1), BOS_ID, dtype=torch.long, device=src.device)  # [batch, steps so far + 1]
    finished = torch.zeros(src.size(0), dtype=torch.bool, device=src.device)
    for t in range(int(limits.max())):
        last = torch.zeros_like(prefix, dtype=torch.bool)
        last[:, -1] = True
        logits, _ = decoder(prefix, memory, only=last)  # [batch, vocab]: every position computed again, the last projected
        tokens = logits.argmax(dim=-1)
        tokens = torch.where(finished, torch.full_like(tokens, PAD_ID), tokens)
        tokens = torch.where(~finished & (t + 1 >= limits), torch.full_like(tokens, EOS_ID), tokens)
        prefix = torch.cat([prefix, tokens.unsqueeze(1)], dim=1)
        finished |= tokens == EOS_ID
        if bool(finished.all()):
            break
    return [row[:row.index(EOS_ID)] if EOS_ID in row else row for row in prefix[:, 1:].tolist()]


@torch.inference_mode()
def beam_search_keeping_finished(
    model: EncoderDecoder, src: torch.Tensor, src_mask: torch.Tensor, beam_size: int, alpha: float, max_ratio: float,
    max_offset: int
) -> list[list[Hypothesis]]:
    """`beam_search` before finished sentences left the batch: a done sentence's beams stay in it, scores at
    -inf, and every step runs all of them until the last sentence is done (or the longest limit is reached)."""
    batch, k, device = src.size(0), beam_size, src.device
    decoder = model.decoder
    memory = decoder.prepare(model.encode(src, src_mask))
    memory = memory.select(torch.arange(batch, device=device).repeat_interleave(k))
    state = decoder.init_state(memory)
    limits = max_output_lengths(src_mask, max_ratio, max_offset, step_limit(decoder, None)).tolist()
    scores = torch.full((batch, k), float("-inf"), device=device)
    scores[:, 0] = 0.0
    tokens = torch.full((batch * k,), BOS_ID, dtype=torch.long, device=device)
    prefixes = torch.empty(batch * k, 0, dtype=torch.long, device=device)
    finished: list[list[Hypothesis]] = [[] for _ in range(batch)]
    rows = torch.arange(batch, device=device).unsqueeze(1) * k
    for t in range(max(limits)):
        logits, state, _ = decoder.step(tokens, memory, state)
        log_probs = logits.float().log_softmax(dim=-1)
        at_limit = [b * k + j for b, limit in enumerate(limits) if t + 1 >= limit for j in range(k)]
        if at_limit:
            log_probs[at_limit] = float("-inf")
            log_probs[at_limit, EOS_ID] = 0.0
        vocab = log_probs.size(-1)
        top_scores, top_ids = log_probs.add_(scores.view(-1, 1)).view(batch, k * vocab).topk(2 * k, dim=1)
        origins, words = top_ids // vocab, top_ids % vocab
        ends = words == EOS_ID
        for b, j in (ends[:, :k] & torch.isfinite(top_scores[:, :k])).nonzero().tolist():
            if len(finished[b]) < k:
                prefix = prefixes[b * k + origins[b, j]].tolist()
                finished[b].append(Hypothesis(prefix, score=float(top_scores[b, j]) / length_penalty(len(prefix) + 1, alpha)))
        done = torch.tensor([len(f) >= k for f in finished], device=device)
        if bool(done.all()):
            break
        alive = top_scores.masked_fill(ends, float("-inf")).topk(k, dim=1)
        scores = alive.values.masked_fill(done.unsqueeze(1), float("-inf"))
        chosen = (rows + origins.gather(1, alive.indices)).view(-1)
        tokens = words.gather(1, alive.indices).view(-1)
        state = select_rows(state, chosen)
        prefixes = torch.cat([prefixes[chosen], tokens.unsqueeze(1)], dim=1)
    return [sorted(f, key=lambda h: h.score, reverse=True)[:1] for f in finished]


def loss_over_every_position(model: EncoderDecoder, batch: Batch, label_smoothing: float) -> torch.Tensor:
    """The training loss before commits 4f27a8f and 46248c6: every target position, padding included, projected
    onto the vocabulary, then `F.cross_entropy` with the padding masked out."""
    logits, _ = model(batch.src, batch.src_mask, batch.tgt_in)
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), batch.tgt_out.reshape(-1), ignore_index=PAD_ID,
                           label_smoothing=label_smoothing, reduction="sum")


def packed_run(rnn: torch.nn.RNNBase, inputs: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The RNN encoder before commit 5c1779c: packed sequences, padded back with zeros; the last layer's final states."""
    packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
    outputs, final = rnn(packed)
    hidden = final[0] if isinstance(final, tuple) else final
    directions = 2 if rnn.bidirectional else 1
    return pad_packed_sequence(outputs, batch_first=True, total_length=inputs.size(1))[0], hidden[-directions:]


def tanh_attention(
    self: AdditiveAttention, query: torch.Tensor, projected_keys: torch.Tensor, values: torch.Tensor,
    mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """`AdditiveAttention.forward` before commit edfe212: v^T tanh(W s + U h_j) over one [B, T, S, A] buffer."""
    single_step = query.dim() == 2
    if single_step:
        query = query.unsqueeze(1)
    hidden = (self.query_proj(query).unsqueeze(2) + projected_keys.unsqueeze(1)).tanh_()
    weights = masked_softmax(self.energy(hidden).squeeze(-1), None if mask is None else mask.unsqueeze(1))
    context = weights @ values
    return (context.squeeze(1), weights.squeeze(1)) if single_step else (context, weights)


@dataclass
class CopiedMemory(Memory):
    """Beam search's memory before `Memory.beams`: k copies of each sentence's rows, one per beam, which
    every selection of sentences copies again."""

    copies: int = 1

    def select(self, index: torch.Tensor) -> "CopiedMemory":
        rows = (index * self.copies).repeat_interleave(self.copies) + torch.arange(self.copies).repeat(len(index))
        return CopiedMemory(**vars(super().select(rows)), copies=self.copies)


def copied(memory: Memory, beams: int) -> Memory:
    """`Memory.with_beams` as beam search had it before `Memory.beams`: k copies of every row."""
    if isinstance(memory, CopiedMemory):
        return memory
    return CopiedMemory(**vars(memory.select(torch.arange(memory.mask.size(0)).repeat_interleave(beams))), copies=beams)


def with_copied_memory(search: Search) -> Search:
    def run(batch: Batch) -> list[list[int]]:
        with mock.patch.object(Memory, "with_beams", copied):
            return search(batch)
    return run


def allocator_jobs(task: list[str]) -> dict[bool, tuple[str, str, list[str]]]:
    """`ours_worker.py` jobs for `interleaved_rounds`, keyed by whether freed memory is kept."""
    return {kept: (sys.executable, "ours_worker.py", [*task, *([] if kept else ["--system-malloc"])]) for kept in (False, True)}


Search = Callable[[Batch], list[list[int]]]


def beam_5(model: EncoderDecoder, search: Callable[..., list[list[Hypothesis]]] = beam_search) -> Search:
    """A batch's best beam-5 outputs, as decode_throughput.py searches (length penalty 0.6, 1.5 × source + 10)."""
    return lambda batch: [found[0].tokens for found in search(model, batch.src, batch.src_mask, 5, 0.6, 1.5, 10)]


def with_tanh_attention(search: Search) -> Search:
    def run(batch: Batch) -> list[list[int]]:
        with mock.patch.object(AdditiveAttention, "forward", tanh_attention):
            return search(batch)
    return run


def search_speeds(searches: list[Search], batches: list[Batch], passes: int) -> tuple[list[float], list[list[int]]]:
    """Sentences per second of each search, the best of `passes` alternating passes, and its outputs."""
    outputs = [[tokens for b in batches for tokens in search(b)] for search in searches]
    best = [float("inf")] * len(searches)
    for _ in range(passes):
        for i, search in enumerate(searches):
            best[i] = min(best[i], sum(timed(search, b) for b in batches))
    sentences = sum(b.src.size(0) for b in batches)
    return [sentences / seconds for seconds in best], outputs


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = common_options(__doc__.splitlines()[0], "benchmarks/results/levers.md")
    parser.add_argument("--steps", type=int, default=10, help="timed training steps per measurement")
    args: argparse.Namespace = parser.parse_args()
    keep_freed_memory()  # as seq2seq's commands do
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

    training = "bf16" if native_bf16() else "fp32"
    for preset in ("rnn_attention", "transformer"):
        random_speed = train_speed(trainer_for(preset, vocab, training), shuffled)
        bucketed_speed = train_speed(trainer_for(preset, vocab, training), bucketed)
        row(f"{preset} training, {training}: batching", f"shuffled ({100 * padding_share(shuffled):.0f}% padding)",
            random_speed, f"length-bucketed ({100 * padding_share(bucketed):.0f}% padding)", bucketed_speed, "tok/s")
    for preset in ("rnn_attention", "transformer"):
        with mock.patch("seq2seq.training.trainer.batch_loss", loss_over_every_position):
            every_position = train_speed(trainer_for(preset, vocab, training), bucketed)
        real_positions = train_speed(trainer_for(preset, vocab, training), bucketed)
        row(f"{preset} training, {training}: output layer and loss", "every target position, padding included; "
            "F.cross_entropy", every_position, "real target positions only; hand-written gradient", real_positions,
            "tok/s")
    for preset in ("rnn", "rnn_attention"):
        with mock.patch("seq2seq.models.encoders.run_over_lengths", packed_run):
            packed = train_speed(trainer_for(preset, vocab, training), bucketed)
        unpacked = train_speed(trainer_for(preset, vocab, training), bucketed)
        row(f"{preset} training, {training}: RNN encoder", "packed sequences (pack_padded_sequence)", packed,
            "padded batch, backward direction reversed within lengths", unpacked, "tok/s")
    with mock.patch.object(AdditiveAttention, "forward", tanh_attention):
        tanh_speed = train_speed(trainer_for("rnn_attention", vocab, training), bucketed)
    blocked_speed = train_speed(trainer_for("rnn_attention", vocab, training), bucketed)
    row(f"rnn_attention training, {training}: additive attention", TANH_ENERGY, tanh_speed, SIGMOID_ENERGY,
        blocked_speed, "tok/s")
    speeds = {name: train_speed(trainer_for("transformer", vocab, training, **flags), bucketed)
              for name, flags in {"for-loop": {"foreach": False}, "foreach": {"foreach": True},
                                  "fused": {"fused": True}}.items()}
    for name in ("foreach", "fused"):  # fused is what Trainer uses (make_adam)
        row(f"transformer training, {training}: Adam", "for-loop (torch's CPU default)", speeds["for-loop"], name,
            speeds[name], "tok/s")
    trainer = trainer_for("transformer", vocab, training)
    eager = train_speed(trainer, bucketed)
    trainer.train_model = torch.compile(trainer.model, dynamic=True)
    compile_seconds = timed(trainer.train_step, bucketed[0])
    row(f"transformer training, {training}: torch.compile (compiling took {compile_seconds:.0f} s)", "eager", eager,
        "compiled", train_speed(trainer, bucketed), "tok/s")

    model = build_model(preset_config("transformer").model, vocab, vocab).eval()
    src_ids = tokenizer.encode_src(test.src[:200])
    groups = token_batches(make_examples(src_ids, [[] for _ in src_ids]), 4096, shuffle=False)
    decode_batches = [collate(g) for g in groups]
    for precision in ("fp32", "bf16") if native_bf16() else ("fp32",):  # emulated bf16 would time the emulation
        with autocast(CPU, precision):
            cached = sum(timed(greedy_search, model, b.src, b.src_mask, 1.0, 1) for b in decode_batches)
            uncached = sum(timed(uncached_greedy, model, b.src, b.src_mask, 1.0, 1) for b in decode_batches)
        row(f"transformer greedy decoding, {precision}: key/value cache", UNCACHED, len(src_ids) / uncached,
            "cached (`Decoder.step`: one new position per step)", len(src_ids) / cached, "sentences/s")

    def peak(result: dict) -> str:
        return f"peak {result['peak_rss_mib']:,.0f} MiB"

    workload = prepare_workload(args, train_batches=args.steps + 2)
    for preset in ("rnn_attention", "transformer"):
        task = ["train", "--preset", preset, "--workload", str(workload), "--threads", str(args.threads), "--warmup", "2",
                "--precision", training]
        runs = interleaved_rounds(allocator_jobs(task), args.rounds)
        row(f"{preset} training, {training}: allocator", f"{SYSTEM_MALLOC}, {peak(runs[False])}",
            runs[False]["tokens"] / runs[False]["seconds"], f"{KEPT_MALLOC}, {peak(runs[True])}",
            runs[True]["tokens"] / runs[True]["seconds"], "tok/s")
    notes = []
    trained, decode_workload = args.work_dir / TRAINED, args.work_dir / "decode_workload.json"
    if trained.is_dir() and decode_workload.is_file():
        task = ["decode", "--preset", "rnn_attention", "--beam", "5", "--workload", str(decode_workload), "--threads",
                str(args.threads), "--max-ratio", "1.5", "--max-offset", "10", "--checkpoint", str(trained)]
        runs = interleaved_rounds(allocator_jobs(task), args.rounds)
        row("rnn_attention beam-5 decoding of the trained model, fp32: allocator", f"{SYSTEM_MALLOC}, {peak(runs[False])}",
            runs[False]["sentences"] / runs[False]["seconds"], f"{KEPT_MALLOC}, {peak(runs[True])}",
            runs[True]["sentences"] / runs[True]["seconds"], "sentences/s")
        model = open_run(trained, ["device=cpu"]).model.eval()
        batches = [collate(make_examples(src, [[] for _ in src])) for src in json.loads(decode_workload.read_text())["decode_batches"]]
        searches = [beam_5(model, beam_search_keeping_finished), with_copied_memory(beam_5(model))]  # copies in both
        (staying, leaving), (kept_outputs, outputs) = search_speeds(searches, batches, max(3, args.rounds))
        if kept_outputs != outputs:
            raise RuntimeError("beam search finds other outputs once finished sentences leave the batch")
        row("rnn_attention beam-5 decoding of the trained model, fp32: finished sentences",
            "kept in the batch, scores at -inf, until all are done", staying,
            "leave the batch (`beam_search`; the same outputs)", leaving, "sentences/s")
        models = {"rnn_attention": model}
        if (args.work_dir / TRAINED_TRANSFORMER).is_dir():
            models["transformer"] = open_run(args.work_dir / TRAINED_TRANSFORMER, ["device=cpu"]).model.eval()
        for preset, trained_model in models.items():
            search = beam_5(trained_model)
            (copies_speed, shared_speed), (copies_outputs, outputs) = search_speeds(
                [with_copied_memory(search), search], batches, max(3, args.rounds))
            same = sum(a == b for a, b in zip(copies_outputs, outputs))
            row(f"{preset} beam-5 decoding of the trained model, fp32: a sentence's memory", COPIED_MEMORY,
                copies_speed, f"{SHARED_MEMORY} ({same:,} of {len(outputs):,} outputs the same)", shared_speed,
                "sentences/s")
        (tanh_speed, blocked_speed), (tanh_outputs, outputs) = search_speeds(
            [with_tanh_attention(beam_5(model)), beam_5(model)], batches, max(3, args.rounds))
        same = sum(a == b for a, b in zip(tanh_outputs, outputs))
        row("rnn_attention beam-5 decoding of the trained model, fp32: additive attention", TANH_ENERGY, tanh_speed,
            f"{SIGMOID_ENERGY} ({same:,} of {len(outputs):,} outputs the same)", blocked_speed, "sentences/s")
        decoding = (f"trained-model decoding: the 30-minute rnn_attention checkpoint of `decode_throughput.py` on its "
                    f"workload ({sum(b.src.size(0) for b in batches):,} sentences of test_2016_flickr), outputs ending at "
                    "EOS or 1.5 × source length + 10; ")
    else:
        decoding = ""
        notes = ["", f"Trained-model decoding rows left out: {trained} or {decode_workload} not found (run "
                     "`python benchmarks/decode_throughput.py --train-minutes 30` first)."]

    lines = ["# Speed levers, one at a time", "", *header, "",
             f"Command: `python benchmarks/levers.py --steps {args.steps} --threads {args.threads} --rounds {args.rounds}`; "
             f"training: best of 3 passes over {args.steps} timed steps on Multi30k batches of about 4,096 tokens, after "
             f"2 untimed (allocator: median of {args.rounds} interleaved processes); key/value cache: the first 200 "
             f"sentences of test_2016_flickr, untrained model, outputs as long as the source plus one; {decoding}"
             f"allocator: median of {args.rounds} interleaved processes; finished sentences: best of "
             f"{max(3, args.rounds)} alternating passes (also the additive attention's and the memory's decoding rows, "
             "the memory's on each preset's checkpoint of `decode_throughput.py`). Everything but "
             "the allocator's baseline runs with freed memory kept, as seq2seq's commands run.", "",
             "| lever | without | with | speed-up |", "|---|--:|--:|--:|", *rows, *notes]
    write_table(args.out, lines)


if __name__ == "__main__":
    os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")
    main()
