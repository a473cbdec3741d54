"""Training throughput of the three presets, ours (fp32 and bf16) beside JoeyNMT 2.3.0 (fp32).

Both toolkits train on the same Multi30k batches (about 4,096 padded tokens each, length-bucketed),
at the same model sizes, one measurement per fresh process; the first --warmup steps are not
timed. Reports target tokens per second, the ratio to JoeyNMT, achieved FLOP/s (forward and
backward matmuls counted by torch's FlopCounterMode) against the machine's matmul peak, and peak
resident memory during the timed steps. Usage:

    benchmarks/setup_joeynmt.sh     # once: JoeyNMT's own virtual environment in .venv-joeynmt
    python benchmarks/train_throughput.py [--steps 20] [--warmup 3] [--threads 2]
"""

from __future__ import annotations

from harness import (
    MODEL_SIZES,
    common_options,
    joeynmt_python,
    machine_lines,
    measure_toolkits,
    prepare_workload,
    write_table,
)

JOEYNMT_NOTE = (
    "JoeyNMT has no attention-free decoder and its recurrent encoder fails when unidirectional, so its `rnn` row is "
    "its rnn_attention model: that ratio compares architectures, not implementations."
)


def main() -> None:
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
        f"Workload: {args.steps} timed steps after {args.warmup} untimed, best of {args.rounds} interleaved rounds, "
        f"on the same Multi30k batches of about 4,096 "
        f"padded tokens for both toolkits; label smoothing 0.1, clipping 1.0, Adam. Sizes: {MODEL_SIZES}.",
        "",
        f"Command: `python benchmarks/train_throughput.py --steps {args.steps} --warmup {args.warmup} --rounds {args.rounds} "
        f"--threads {args.threads}`",
        "",
        "| preset | toolkit | precision | parameters | target tok/s | × JoeyNMT | GFLOP/s | % of matmul peak | peak RSS MiB |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    print("\n".join(lines), flush=True)
    options = ["--workload", str(workload), "--threads", str(args.threads), "--warmup", str(args.warmup)]
    for preset in args.presets:
        task = ["train", "--preset", preset, *options]
        for toolkit, precision, result, speed, ratio in measure_toolkits(joey, task, args.rounds, "tokens"):
            achieved = result["flops"] / result["seconds"]
            lines.append(
                f"| {preset} | {toolkit} | {precision} | {result['parameters'] / 1e6:.2f} M | {speed:,.0f} | {ratio} | "
                f"{achieved / 1e9:,.0f} | {100 * achieved / peaks[precision]:.0f}% | {result['peak_rss_mib']:,.0f} |"
            )
            print(lines[-1], flush=True)
    lines += ["", JOEYNMT_NOTE] if joey and "rnn" in args.presets else []
    write_table(args.out, lines)


if __name__ == "__main__":
    main()
