"""Training throughput of the three presets, ours (fp32 and bf16) beside JoeyNMT 2.3.0 (fp32), at equal work.

Both toolkits train on the same Multi30k batches (about 4,096 padded tokens each, length-bucketed),
one measurement per fresh process, --rounds interleaved rounds of every configuration (speeds are medians
over rounds; ratios are medians of the round-by-round ratios, with their range); the first --warmup steps
are not timed. Each of our presets is
set against the JoeyNMT model that does the same forward and backward FLOPs per target token
(`joeynmt_config.PRESETS`; `rnn` has none), and every ratio compares one precision with itself:
ours in fp32 against JoeyNMT in fp32, which is all it trains in on CPUs, and our bf16 against our
fp32. Reports target tokens per second, the MFLOP per target token that make them comparable
(forward and backward, counted by torch's FlopCounterMode), achieved FLOP/s against the machine's
matmul peak of that precision, and peak resident memory during the timed steps. The table is written only
from at least 5 rounds on a machine nothing else kept busy (`harness.record`). Usage:

    benchmarks/setup_joeynmt.sh     # once: JoeyNMT's own virtual environment in .venv-joeynmt
    python benchmarks/train_throughput.py [--steps 20] [--warmup 3] [--threads 2] [--rounds 5]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness import (
    MODEL_SIZES,
    common_options,
    interleaved_rounds,
    joeynmt_python,
    machine_lines,
    prepare_workload,
    ratio_cell,
    record,
    round_ratios,
    toolkit_jobs,
)
from machine import MachineWatch
from joeynmt_config import PRESETS as JOEYNMT_PRESETS
from joeynmt_config import architecture

JOEYNMT_NOTE = (
    "JoeyNMT has no attention-free decoder and its recurrent encoder fails when unidirectional, so `rnn` has no "
    "JoeyNMT counterpart: it is measured for ours alone."
)
HEADER = (
    "| preset | JoeyNMT counterpart | parameters, ours / JoeyNMT | MFLOP per target token, ours / JoeyNMT | "
    "fp32 tok/s, ours | fp32 tok/s, JoeyNMT | ours fp32 ÷ JoeyNMT fp32 (range) | fp32 % of fp32 matmul peak, ours / JoeyNMT | "
    "bf16 tok/s, ours | ours bf16 ÷ ours fp32 (range) | ours bf16 % of bf16 matmul peak | "
    "peak RSS MiB, ours fp32 / ours bf16 / JoeyNMT |"
)
ALIGNMENT = "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"

Runs = dict[tuple[str, str], dict[str, Any]]


def preset_row(preset: str, runs: Runs, peaks: dict[str, float]) -> str:
    """One table row from `toolkit_jobs`' results, keyed by (toolkit, precision): speeds are medians over rounds,
    ratios the median of the round-by-round ratios with their range, only between equal precisions; JoeyNMT's cells
    'no equivalent' where it has no counterpart, 'not measured' where it is not installed."""
    ours, bf16 = runs["seq2seq", "fp32"], runs.get(("seq2seq", "bf16"))
    joey = runs.get(("JoeyNMT", "fp32"))
    missing = "not measured" if preset in JOEYNMT_PRESETS else "no equivalent"

    def speed(result: dict[str, Any]) -> float:
        return result["tokens"] / result["seconds"]

    def peak_share(result: dict[str, Any], precision: str) -> str:
        return f"{100 * result['flops'] / result['seconds'] / peaks[precision]:.0f}%"

    def joey_cell(show: Callable[[dict[str, Any]], str]) -> str:
        return show(joey) if joey else missing

    def bf16_cell(show: Callable[[dict[str, Any]], str]) -> str:
        return show(bf16) if bf16 else "no native bf16"

    counterpart = architecture(JOEYNMT_PRESETS[preset]()) if preset in JOEYNMT_PRESETS else "no equivalent"
    cells = [
        preset,
        counterpart,
        f"{ours['parameters'] / 1e6:.2f} M / " + joey_cell(lambda r: f"{r['parameters'] / 1e6:.2f} M"),
        f"{ours['mflop_per_token']:.1f} / " + joey_cell(lambda r: f"{r['mflop_per_token']:.1f}"),
        f"{speed(ours):,.0f}",
        joey_cell(lambda r: f"{speed(r):,.0f}"),
        joey_cell(lambda r: ratio_cell(round_ratios(ours, r, "tokens"))),
        f"{peak_share(ours, 'fp32')} / " + joey_cell(lambda r: peak_share(r, "fp32")),
        bf16_cell(lambda r: f"{speed(r):,.0f}"),
        bf16_cell(lambda r: ratio_cell(round_ratios(r, ours, "tokens"))),
        bf16_cell(lambda r: peak_share(r, "bf16")),
        f"{ours['peak_rss_mib']:,.0f} / " + bf16_cell(lambda r: f"{r['peak_rss_mib']:,.0f}") + " / "
        + joey_cell(lambda r: f"{r['peak_rss_mib']:,.0f}"),
    ]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    watch = MachineWatch()  # first: the load before anything of ours ran
    parser = common_options(__doc__.splitlines()[0], "benchmarks/results/train_throughput.md")
    parser.add_argument("--steps", type=int, default=20, help="timed training steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    args = parser.parse_args()
    workload = prepare_workload(args, train_batches=args.warmup + args.steps)
    header, peaks = machine_lines(args.threads)
    joey = joeynmt_python(args)
    lines = [
        "# Training throughput: seq2seq vs JoeyNMT 2.3.0",
        "",
        *header,
        "",
        f"Workload: {args.steps} timed steps after {args.warmup} untimed, median of {args.rounds} interleaved rounds "
        "(each ratio: the median of the round-by-round ratios, its range over rounds in parentheses; peak memory: "
        "the highest of any round), "
        f"on the same Multi30k batches of about 4,096 "
        f"padded tokens for both toolkits; label smoothing 0.1, clipping 1.0, Adam. Sizes: {MODEL_SIZES}.",
        "",
        "Equal work: each JoeyNMT counterpart is sized to do our preset's forward and backward FLOPs per target "
        "token (the MFLOP column, counted by FlopCounterMode over the timed steps), and every ratio compares one "
        "precision with itself: ours fp32 with JoeyNMT fp32 (JoeyNMT trains only in fp32 on CPUs), our bf16 with "
        "our fp32.",
        "",
        f"Command: `python benchmarks/train_throughput.py --steps {args.steps} --warmup {args.warmup} --rounds {args.rounds} "
        f"--threads {args.threads}`",
        "",
        HEADER,
        ALIGNMENT,
    ]
    print("\n".join(lines), flush=True)
    options = ["--workload", str(workload), "--threads", str(args.threads), "--warmup", str(args.warmup)]
    for preset in args.presets:
        runs = interleaved_rounds(toolkit_jobs(joey, ["train", "--preset", preset, *options]), args.rounds)
        lines.append(preset_row(preset, runs, peaks))
        print(lines[-1], flush=True)
    lines += ["", JOEYNMT_NOTE] if "rnn" in args.presets else []
    record(args, lines, watch)


if __name__ == "__main__":
    main()
