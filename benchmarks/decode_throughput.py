"""Decoding throughput on test_2016_flickr, greedy and beam 5, ours (fp32 and bf16) beside JoeyNMT 2.3.0.

Both toolkits decode the same length-sorted batches (about --batch-tokens source tokens each) with
freshly initialised models of the same sizes. Untrained models almost never choose EOS, so every
sentence runs to the same length limit in both toolkits (--max-ratio × source length + --max-offset,
by default the source length plus one, about a reference translation's length): equal work per
sentence, the worst case of early stopping. Reports sentences per second, the ratio to JoeyNMT,
the decoder steps run over all batches (equal steps: equal work) and peak resident memory. Usage:

    benchmarks/setup_joeynmt.sh     # once: JoeyNMT's own virtual environment in .venv-joeynmt
    python benchmarks/decode_throughput.py [--beams 1 5] [--sentences 1000] [--threads 2]
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
from train_throughput import JOEYNMT_NOTE


def main() -> None:
    parser = common_options(__doc__.splitlines()[0], "benchmarks/results/decode_throughput.md")
    parser.add_argument("--beams", type=int, nargs="+", default=[1, 5], help="beam sizes (1 = greedy)")
    parser.add_argument("--sentences", type=int, default=1000, help="the first N sentences of test_2016_flickr")
    parser.add_argument("--batch-tokens", type=int, default=4096, help="source tokens per decoding batch")
    parser.add_argument("--max-ratio", type=float, default=1.0)
    parser.add_argument("--max-offset", type=int, default=1)
    args = parser.parse_args()
    workload = prepare_workload(args, decode_batch_tokens=args.batch_tokens, sentences=args.sentences)
    header, _ = machine_lines(args.threads)
    joey = joeynmt_python(args)
    lines = [
        "# Decoding throughput: seq2seq vs JoeyNMT 2.3.0",
        "",
        *header,
        "",
        f"Workload: the first {args.sentences} sentences of Multi30k test_2016_flickr, in the same length-sorted batches "
        f"of about {args.batch_tokens} source tokens for both toolkits; untrained models, so every output runs to "
        f"{args.max_ratio} × source length + {args.max_offset} tokens; best of {args.rounds} interleaved rounds; "
        f"beam search with length penalty 0.6. "
        f"Sizes: {MODEL_SIZES}.",
        "",
        f"Command: `python benchmarks/decode_throughput.py --beams {' '.join(map(str, args.beams))} "
        f"--sentences {args.sentences} --rounds {args.rounds} --threads {args.threads}`",
        "",
        "| preset | search | toolkit | precision | sentences/s | × JoeyNMT | decoder steps | peak RSS MiB |",
        "|---|---|---|---|--:|--:|--:|--:|",
    ]
    print("\n".join(lines), flush=True)
    options = ["--workload", str(workload), "--threads", str(args.threads),
               "--max-ratio", str(args.max_ratio), "--max-offset", str(args.max_offset)]
    for preset in args.presets:
        for beam in args.beams:
            search = "greedy" if beam == 1 else f"beam {beam}"
            task = ["decode", "--preset", preset, "--beam", str(beam), *options]
            for toolkit, precision, result, speed, ratio in measure_toolkits(joey, task, args.rounds, "sentences"):
                lines.append(
                    f"| {preset} | {search} | {toolkit} | {precision} | {speed:,.1f} | {ratio} | "
                    f"{result['decoder_steps']} | {result['peak_rss_mib']:,.0f} |"
                )
                print(lines[-1], flush=True)
    lines += ["", JOEYNMT_NOTE] if joey and "rnn" in args.presets else []
    write_table(args.out, lines)


if __name__ == "__main__":
    main()
