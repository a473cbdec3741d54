"""Decoding throughput on test_2016_flickr, greedy and beam 5, ours (fp32 and bf16) beside JoeyNMT 2.3.0 (fp32).

Both toolkits decode the same length-sorted batches (about --batch-tokens source tokens each) of
the same subword ids, in two conditions:

- trained: checkpoints of a short Multi30k training of each preset (--train-minutes; made once
  and kept, see `trained_models.py`). Outputs end at EOS, as they do for users, so batches finish
  early and beam search's bookkeeping counts. Outputs stop at most at our default limit (1.5 ×
  source length + 10), in both toolkits. Each output is scored (sacrebleu BLEU against the
  references), so the table shows that the models decoded are comparable.
- untrained: freshly initialised models, which almost never choose EOS, so every sentence runs to
  the same limit in both toolkits (--max-ratio × source length + --max-offset, by default the
  source length plus one): equal work per sentence, the worst case of early stopping.

Reports sentences per second, with ratios only between equal precisions (ours fp32 over JoeyNMT
fp32, which is all JoeyNMT runs on CPUs; our bf16 over our fp32), the decoder steps run over all
batches and peak resident memory. `rnn` has no JoeyNMT counterpart. Usage:

    benchmarks/setup_joeynmt.sh     # once: JoeyNMT's own virtual environment in .venv-joeynmt
    python benchmarks/decode_throughput.py [--train-minutes 10] [--beams 1 5] [--sentences 1000] [--threads 2] [--rounds 5]
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import (MODEL_SIZES, common_options, interleaved_rounds, joeynmt_python, machine_lines, ratio_cell, record,
                     round_ratios, toolkit_jobs)
from machine import MachineWatch
from joeynmt_config import PRESETS as JOEYNMT_PRESETS
from joeynmt_config import architecture
from side_by_side import TEST_SPLIT, SharedData, prepare_data, recipe
from trained_models import TrainedPreset, train_preset
from training_logs import ValidationPoint
from workload import build_workload, save_workload

from seq2seq.decoding import SearchSettings
from seq2seq.scoring.split import corpus_scores

Key = tuple[str, str]  # (toolkit, precision)
Result = dict[str, Any]  # what a worker printed (and, for the trained condition, its outputs' scores)
OURS_FP32, OURS_BF16, JOEYNMT = ("seq2seq", "fp32"), ("seq2seq", "bf16"), ("JoeyNMT", "fp32")
TRAINED_LIMIT = (SearchSettings().max_length_ratio, SearchSettings().max_length_offset)  # seq2seq-eval's defaults
NO_COUNTERPART = (
    "JoeyNMT has no attention-free decoder and its recurrent encoder fails when unidirectional, so `rnn` has no "
    "JoeyNMT counterpart: it is measured for ours alone."
)


def options() -> argparse.Namespace:
    parser = common_options(__doc__.splitlines()[0], "benchmarks/results/decode_throughput.md")
    parser.add_argument("--conditions", nargs="+", choices=["trained", "untrained"], default=["trained", "untrained"])
    parser.add_argument("--train-minutes", type=float, default=10, help="training budget per trained model")
    parser.add_argument("--train-sentences", type=int, default=None,
                        help="train on the first N pairs only (a smoke test; the table says so)")
    parser.add_argument("--beams", type=int, nargs="+", default=[1, 5], help="beam sizes (1 = greedy)")
    parser.add_argument("--sentences", type=int, default=1000, help="the first N sentences of test_2016_flickr")
    parser.add_argument("--batch-tokens", type=int, default=4096, help="source tokens per decoding batch")
    parser.add_argument("--max-ratio", type=float, default=1.0, help="untrained condition: output limit per source subword")
    parser.add_argument("--max-offset", type=int, default=1, help="untrained condition: output limit offset")
    return parser.parse_args()


def scored(result: Result, workload: dict[str, Any], data: SharedData, references: list[str]) -> Result:
    """The worker's result with the corpus scores of its outputs (detokenized by our subword model, as
    seq2seq-eval does; token ids mean the same subwords in both toolkits)."""
    hypotheses = [""] * len(references)
    for numbers, outputs in zip(workload["decode_sentences"], result["outputs"]):
        for number, text in zip(numbers, data.tokenizer.decode_tgt(outputs)):
            hypotheses[number] = text
    return {**result, **corpus_scores(hypotheses, references)}


def header(with_bleu: bool) -> list[str]:
    each = "ours fp32 / ours bf16 / JoeyNMT"
    columns = ["preset", "search", "sentences/s, ours fp32", "sentences/s, JoeyNMT fp32", "ours fp32 ÷ JoeyNMT fp32 (range)",
               "sentences/s, ours bf16", "ours bf16 ÷ ours fp32 (range)", f"decoder steps, {each}",
               *([f"test BLEU, {each}"] if with_bleu else []), f"peak RSS MiB, {each}",
               f"slowest ÷ fastest pass, {each}"]
    return ["| " + " | ".join(columns) + " |", "|---|---|" + "--:|" * (len(columns) - 2)]


def table_row(preset: str, search: str, runs: dict[Key, Result], with_bleu: bool) -> str:
    """One row: speeds are medians over rounds, ratios the median of the round-by-round ratios with their range,
    only between equal precisions; JoeyNMT's cells say 'no equivalent' where it has no counterpart, 'not measured'
    where it is not installed; bf16's say 'no native bf16' where the CPU lacks it."""
    ours, bf16, joeynmt = runs[OURS_FP32], runs.get(OURS_BF16), runs.get(JOEYNMT)
    missing = "not measured" if preset in JOEYNMT_PRESETS else "no equivalent"

    def speed(result: Result) -> float:
        return result["sentences"] / result["seconds"]

    def joey(show: Callable[[Result], str]) -> str:
        return show(joeynmt) if joeynmt else missing

    def half(show: Callable[[Result], str]) -> str:
        return show(bf16) if bf16 else "no native bf16"

    def each(show: Callable[[Result], str]) -> str:
        return f"{show(ours)} / {half(show)} / {joey(show)}"

    cells = [preset, search, f"{speed(ours):,.1f}", joey(lambda r: f"{speed(r):,.1f}"),
             joey(lambda r: ratio_cell(round_ratios(ours, r, "sentences"))), half(lambda r: f"{speed(r):,.1f}"),
             half(lambda r: ratio_cell(round_ratios(r, ours, "sentences"))),
             each(lambda r: f"{r['decoder_steps']:,}"), *([each(lambda r: f"{r['bleu']:.2f}")] if with_bleu else []),
             each(lambda r: f"{r['peak_rss_mib']:,.0f}"),
             each(lambda r: f"{max(r['round_seconds']) / min(r['round_seconds']):.2f}")]
    return "| " + " | ".join(cells) + " |"


def training_line(preset: str, trained: TrainedPreset) -> str:
    def reached(curve: list[ValidationPoint]) -> str:
        if not curve:
            return "no validation"
        best = max(point.bleu for point in curve)
        return f"{curve[-1].seconds / 60:.1f} min, {curve[-1].step:,} updates, best validation BLEU {best:.2f}"

    joeynmt = f"; JoeyNMT {reached(trained.joeynmt_curve)}" if trained.joeynmt else ""
    return f"- {preset}: ours {reached(trained.ours_curve)}{joeynmt}"


def say(lines: list[str], *new: str) -> None:
    """Add lines to the results file and print them at once, so a long run shows its progress."""
    lines.extend(new)
    print("\n".join(new), flush=True)


def measure(args: argparse.Namespace, workload: Path, joey: Path | None, limit: tuple[float, int],
            models: dict[str, TrainedPreset] | None, score: Callable[[Result], Result] | None,
            lines: list[str]) -> list[Result]:
    """One condition's table rows (every preset and beam, medians of --rounds interleaved rounds) into `lines`;
    returns every result, scored by `score` for the trained condition."""
    results = []
    options = ["--workload", str(workload), "--threads", str(args.threads),
               "--max-ratio", str(limit[0]), "--max-offset", str(limit[1])]
    for preset in args.presets:
        for beam in args.beams:
            task = ["decode", "--preset", preset, "--beam", str(beam), *options]
            trained = models[preset] if models else None
            checkpoints = {"seq2seq": trained.ours, "JoeyNMT": trained.joeynmt} if trained else None
            runs = interleaved_rounds(toolkit_jobs(joey, task, checkpoints), args.rounds)
            runs = {key: score(result) for key, result in runs.items()} if score else runs
            say(lines, table_row(preset, "greedy" if beam == 1 else f"beam {beam}", runs, models is not None))
            results += runs.values()
    return results


def trained_section(args: argparse.Namespace, data: SharedData, workload: dict[str, Any], workload_path: Path,
                    joey: Path | None, lines: list[str]) -> None:
    """Train (or find) every preset's checkpoints, then time and score their decoding."""
    work = args.work_dir / "trained" / pairs_name(args) / f"{args.train_minutes:g}_minutes"
    models = {preset: train_preset(preset, data, args.train_minutes, work / preset, joey) for preset in args.presets}
    subset = f" (the first {args.train_sentences:,} training pairs only: a smoke test)" if args.train_sentences else ""
    say(lines,
        "", f"## Trained ({args.train_minutes:g} minutes of training)", "",
        f"Each preset trained for {args.train_minutes:g} minutes on Multi30k{subset} in fp32 on one thread: ours with "
        "`seq2seq-train`, JoeyNMT beside it with our recipe, subwords and vocabulary (`side_by_side.py`; it stops when "
        "its training clock reaches the budget). Each toolkit's best checkpoint decodes; outputs end at EOS, or at "
        f"{TRAINED_LIMIT[0]:g} × source length + {TRAINED_LIMIT[1]} subwords, so the decoder steps differ as far as "
        "the two toolkits' models translate differently (the BLEU column shows how far). Training reached:", "",
        *(training_line(preset, trained) for preset, trained in models.items()), "",
        *header(with_bleu=True))
    references = (data.root / f"{TEST_SPLIT}.en").read_text(encoding="utf-8").splitlines()[:args.sentences]
    results = measure(args, workload_path, joey, TRAINED_LIMIT, models,
                      lambda result: scored(result, workload, data, references), lines)
    say(lines, "", f"Test BLEU: sacrebleu {results[0]['bleu_signature']}, of the outputs detokenized by the shared "
                   "subword model, so that each speed is read beside the quality of what was decoded.")


def untrained_section(args: argparse.Namespace, workload_path: Path, joey: Path | None, lines: list[str]) -> None:
    say(lines,
        "", "## Untrained: every output to the limit (worst case)", "",
        "Freshly initialised models almost never choose EOS, so every output runs to "
        f"{args.max_ratio:g} × source length + {args.max_offset} subwords in both toolkits: equal work, which the "
        "decoder steps show.", "",
        *header(with_bleu=False))
    measure(args, workload_path, joey, (args.max_ratio, args.max_offset), None, None, lines)


def pairs_name(args: argparse.Namespace) -> str:
    return f"first_{args.train_sentences}_pairs" if args.train_sentences else "all_pairs"


def main() -> None:
    watch = MachineWatch()  # first: the load before anything of ours ran
    args = options()
    if not args.data_root.is_dir():
        sys.exit(f"--data-root {args.data_root}: directory not found (it should hold Multi30k's train.de.gz, ...)")
    joey = joeynmt_python(args)
    header_lines, _ = machine_lines(args.threads)
    # the data copy and its subword model, shared by the workload and every trained checkpoint
    data = prepare_data(args.data_root, args.work_dir / "trained" / pairs_name(args), args.train_sentences,
                        recipe(args.presets[0]))
    workload = build_workload(data.root, data.tokenizer_cache, 4096, 0, args.batch_tokens, args.sentences)
    workload_path = args.work_dir / "decode_workload.json"
    save_workload(workload, workload_path)
    counterparts = "; ".join(f"{preset}: {architecture(JOEYNMT_PRESETS[preset]())}"
                             for preset in args.presets if preset in JOEYNMT_PRESETS)
    lines: list[str] = []
    say(lines,
        "# Decoding throughput: seq2seq vs JoeyNMT 2.3.0",
        "",
        *header_lines,
        "",
        f"Workload: the first {args.sentences} sentences of Multi30k {TEST_SPLIT}, in the same length-sorted batches "
        f"of about {args.batch_tokens} source tokens for both toolkits, as the same subword ids "
        f"({data.tokenizer.tgt_vocab_size:,} shared BPE subwords); {args.rounds} interleaved rounds of whole passes: a "
        "speed is the sentences over the median pass time, a ratio the median of the round-by-round ratios with its "
        "range over rounds in parentheses (the last column shows how far passes varied); beam "
        f"search with length penalty 0.6 in both. Sizes: {MODEL_SIZES}. JoeyNMT's counterparts (equal training FLOPs "
        f"per target token, `joeynmt_config.py`): {counterparts or 'none among these presets'}. Ratios compare equal "
        "precisions only: ours fp32 with JoeyNMT fp32 (all JoeyNMT runs on CPUs), our bf16 with our fp32. Decoder "
        "steps: the decoder calls each search made, over all batches.",
        "",
        f"Command: `python benchmarks/decode_throughput.py {shlex.join(sys.argv[1:])}`")
    if "trained" in args.conditions:
        trained_section(args, data, workload, workload_path, joey, lines)
    if "untrained" in args.conditions:
        untrained_section(args, workload_path, joey, lines)
    if "rnn" in args.presets:
        say(lines, "", NO_COUNTERPART)
    record(args, lines, watch)


if __name__ == "__main__":
    main()
