"""Training and beam-5 decoding speed of every attention-family variant, at the sizes the experiment trains them.

`+experiment=attention_family` trains each variant of `seq2seq/conf/variant/` on the probe; this times each one on
the same probe work: training steps on the same batches of the probe's training split (the experiment's
batch size), and beam-5 decoding of the same `test` sentences by a freshly initialised model, which almost never
ends early, so every output runs to the limit (source length + 1 subwords) and every variant decodes equal
lengths. One fresh process per measurement (`ours_worker.py --overrides`), --rounds interleaved rounds, medians,
and ratios to the plain RNN as medians of round-by-round ratios with their range; fp32, every variant alike.
The variants are different architectures, so their work per token differs: the MFLOP column (forward and
backward per target token) says by how much, and a ratio is a speed ratio, not one at equal FLOPs. Usage:

    python benchmarks/variant_throughput.py [--steps 20] [--warmup 3] [--sentences 300] [--threads 2] [--rounds 5]
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from harness import common_options, interleaved_rounds, machine_lines, ratio_cell, record, round_ratios
from hydra import compose, initialize_config_module
from hydra.utils import instantiate
from machine import MachineWatch
from workload import save_workload

from seq2seq.data.batching import make_examples, token_batches
from seq2seq.data.tokenizer import TokenizerSettings, build_tokenizer

EXPERIMENT = "+experiment=attention_family"
VARIANTS_DIR = Path(__file__).parent.parent / "seq2seq" / "conf" / "variant"
BASELINE = "rnn"
BEAM = 5
HEADER = ("| variant | model | parameters | MFLOP per target token | training tok/s | ÷ `rnn` (range) | "
          "beam-5 sentences/s | beam-5 output subwords/s | ÷ `rnn` (range) | peak RSS MiB, training / decoding |")
ALIGNMENT = "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"


def variants() -> list[str]:
    """Every variant of conf/variant/, the plain RNN first: the others' ratios are to it."""
    names = sorted(path.stem for path in VARIANTS_DIR.glob("*.yaml"))
    return [BASELINE] + [name for name in names if name != BASELINE]


def probe_workload(work_dir: Path, batches: int, sentences: int, decode_batch_tokens: int) -> dict[str, Any]:
    """The experiment's probe corpus and subwords: `batches` training batches of its batch size (length-bucketed,
    shuffled with seed 0) and the first `sentences` of `test` in length-sorted decoding batches."""
    with initialize_config_module(config_module="seq2seq.conf", version_base="1.3"):
        config = compose("config", overrides=[EXPERIMENT])
    corpus = instantiate(config.data.corpus)
    train, test = corpus.load(config.data.train_split), corpus.load("test")
    settings = config.tokenizer
    tokenizer = build_tokenizer(TokenizerSettings(settings.model_type, settings.vocab_size, settings.joint,
                                                  settings.character_coverage), train, work_dir / "probe_tokenizer")
    examples = make_examples(tokenizer.encode_src(train.src), tokenizer.encode_tgt(train.tgt), max_len=config.train.max_len)
    groups = token_batches(examples, config.train.batch_tokens, shuffle=True, seed=0)[:batches]
    test_src = tokenizer.encode_src(test.src[:sentences])
    decode_groups = token_batches(make_examples(test_src, [[] for _ in test_src]), decode_batch_tokens, shuffle=False)
    return {"vocab_size": tokenizer.src_vocab_size, "tokenizer_model": str(tokenizer.tgt_model),
            "batch_tokens": config.train.batch_tokens,
            "train_batches": [{"src": [e.src[:-1] for e in g], "tgt": [e.tgt for e in g]} for g in groups],
            "decode_batches": [[test_src[e.index] for e in g] for g in decode_groups]}


def jobs(task: list[str], names: list[str]) -> dict[str, tuple[str, str, list[str]]]:
    return {name: (sys.executable, "ours_worker.py", [*task, "--overrides", f"{EXPERIMENT} +variant={name}"])
            for name in names}


def output_subwords(result: dict[str, Any]) -> int:
    return sum(len(tokens) for batch in result["outputs"] for tokens in batch)


def variant_row(name: str, model: str, trained: dict[str, Any], decoded: dict[str, Any],
                baseline: tuple[dict[str, Any], dict[str, Any]]) -> str:
    """One variant's row: medians over rounds, and speed ratios to the plain RNN round by round."""
    base_trained, base_decoded = baseline
    decoded = {**decoded, "subwords": output_subwords(decoded)}
    base_decoded = {**base_decoded, "subwords": output_subwords(base_decoded)}
    cells = [f"`{name}`", model, f"{trained['parameters'] / 1e6:.2f} M", f"{trained['mflop_per_token']:.1f}",
             f"{trained['tokens'] / trained['seconds']:,.0f}", ratio_cell(round_ratios(trained, base_trained, "tokens")),
             f"{decoded['sentences'] / decoded['seconds']:,.1f}", f"{decoded['subwords'] / decoded['seconds']:,.0f}",
             ratio_cell(round_ratios(decoded, base_decoded, "subwords")),
             f"{trained['peak_rss_mib']:,.0f} / {decoded['peak_rss_mib']:,.0f}"]
    return "| " + " | ".join(cells) + " |"


def model_name(name: str) -> str:
    with initialize_config_module(config_module="seq2seq.conf", version_base="1.3"):
        return compose("config", overrides=[EXPERIMENT, f"+variant={name}"]).model.name


def main() -> None:
    watch = MachineWatch()  # first: the load before anything of ours ran
    parser = common_options(__doc__.splitlines()[0], "benchmarks/results/variant_throughput.md")
    parser.add_argument("--steps", type=int, default=20, help="timed training steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--sentences", type=int, default=300, help="the first N sentences of the probe's test split")
    parser.add_argument("--batch-tokens", type=int, default=4096, help="source tokens per decoding batch")
    parser.add_argument("--variants", nargs="+", default=None, help="a subset (the plain RNN is always measured)")
    args: argparse.Namespace = parser.parse_args()
    names = variants() if args.variants is None else [BASELINE] + [v for v in args.variants if v != BASELINE]
    workload = probe_workload(args.work_dir, args.warmup + args.steps, args.sentences, args.batch_tokens)
    path = args.work_dir / "probe_workload.json"
    save_workload(workload, path)
    header, _ = machine_lines(args.threads)
    lines = ["# Attention-family variants: training and beam-5 decoding speed", "", *header, "",
             f"Workload: the probe of `{EXPERIMENT}` ({workload['batch_tokens']:,}-token training batches, "
             f"{args.steps} timed steps after {args.warmup} untimed; beam-5 decoding of the first {args.sentences} "
             f"`test` sentences in batches of about {args.batch_tokens:,} source tokens, freshly initialised models, "
             "outputs to source length + 1 subwords, length penalty 0.6), fp32, median of "
             f"{args.rounds} interleaved rounds, each measurement a fresh process. Ratios: the median of the "
             "round-by-round ratios to `rnn`, range over rounds in parentheses; the variants do different work per "
             "token (MFLOP column), so a ratio is a speed ratio, not one at equal FLOPs.", "",
             f"Command: `python benchmarks/variant_throughput.py {shlex.join(sys.argv[1:])}`", "", HEADER, ALIGNMENT]
    print("\n".join(lines), flush=True)
    common = ["--workload", str(path), "--threads", str(args.threads), "--precision", "fp32"]
    trained = interleaved_rounds(jobs(["train", *common, "--warmup", str(args.warmup)], names), args.rounds)
    decoded = interleaved_rounds(jobs(["decode", *common, "--beam", str(BEAM), "--max-ratio", "1", "--max-offset", "1"],
                                      names), args.rounds)
    for name in names:
        lines.append(variant_row(name, model_name(name), trained[name], decoded[name], (trained[BASELINE], decoded[BASELINE])))
        print(lines[-1], flush=True)
    record(args, lines, watch)


if __name__ == "__main__":
    main()
