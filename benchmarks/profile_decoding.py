"""Where decoding time goes: torch.profiler's top operators per preset and search, on trained checkpoints.

Decodes the workload and the trained checkpoints that `decode_throughput.py --train-minutes N` leaves
in --work-dir (the first 1,000 sentences of test_2016_flickr, length-sorted batches of about 4,096
source tokens; outputs end at EOS or 1.5 × source length + 10, as seq2seq-eval's). Each preset and
search runs in a fresh process (this script calling itself), with freed memory kept as seq2seq's
commands keep it: one untimed pass over the batches, then one under the profiler. The first table
ranks operators by self CPU time as a share of all operators' self time; the second says how fast the
matrix products ran (the FLOPs torch.profiler counts for them over their self time) against the
machine's measured matmul peak: what is left once they run near it is the arithmetic the model
defines. Usage:

    python benchmarks/decode_throughput.py --train-minutes 30     # first: the checkpoints and workload
    python benchmarks/profile_decoding.py [--train-minutes 30] [--beams 1 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import torch
from harness import PRESETS, common_options, machine_lines, run_worker, write_table
from profile_training import TOP, top_operators

LIMIT = (1.5, 10)  # seq2seq-eval's output limit: 1.5 × source length + 10


def checkpoint(work_dir: Path, minutes: float, preset: str) -> Path:
    return work_dir / "trained" / "all_pairs" / f"{minutes:g}_minutes" / preset / "seq2seq"


def profile_search(preset: str, beam: int, run: Path, workload: Path, threads: int) -> dict:
    """Decode the workload's batches once untimed, then once under the profiler; the top operators."""
    from torch.profiler import ProfilerActivity, profile

    from seq2seq.allocator import keep_freed_memory
    from seq2seq.data.batching import collate, make_examples
    from seq2seq.decoding import beam_search, greedy_search
    from seq2seq.pipeline import open_run

    keep_freed_memory()
    torch.set_num_threads(threads)
    model = open_run(run, ["device=cpu"]).model.eval()
    batches = [collate(make_examples(src, [[] for _ in src])) for src in json.loads(workload.read_text())["decode_batches"]]

    def decode() -> None:
        for batch in batches:
            if beam == 1:
                greedy_search(model, batch.src, batch.src_mask, *LIMIT)
            else:
                beam_search(model, batch.src, batch.src_mask, beam, 0.6, *LIMIT)

    decode()
    with profile(activities=[ProfilerActivity.CPU], with_flops=True) as profiler:
        decode()
    return {"preset": preset, "search": "greedy" if beam == 1 else f"beam {beam}",
            "sentences": sum(b.src.size(0) for b in batches), **top_operators(profiler), **matrix_products(profiler)}


MATRIX_PRODUCTS = ("aten::addmm", "aten::mm", "aten::bmm", "aten::baddbmm")


def matrix_products(profiler: Any) -> dict:
    """The self time of the matrix products and the FLOPs torch.profiler counts for them."""
    counted = [e for e in profiler.key_averages() if e.key in MATRIX_PRODUCTS and e.flops > 0]
    return {"matmul_ms": sum(e.self_cpu_time_total for e in counted) / 1000, "matmul_flops": sum(e.flops for e in counted),
            "matmul_ops": sorted(e.key for e in counted)}


def throughput_row(result: dict, peak: float) -> str:
    flops_per_s = result["matmul_flops"] / (result["matmul_ms"] / 1000)
    return (f"| {result['preset']} | {result['search']} | {', '.join(f'`{op}`' for op in result['matmul_ops'])} | "
            f"{100 * result['matmul_ms'] / result['total_ms']:.1f}% | {flops_per_s / 1e9:,.0f} | {100 * flops_per_s / peak:.0f}% |")


def table_rows(result: dict) -> list[str]:
    name = f"{result['preset']} | {result['search']}"
    return [f"| {name} | {rank} | `{op['op']}` | {op['calls']:,} | {op['self_ms']:,.1f} | {100 * op['share']:.1f}% |"
            for rank, op in enumerate(result["top"], start=1)] + [
        f"| {name} | | all operators | | {result['total_ms']:,.1f} | 100% |"]


def main() -> None:
    parser = common_options(__doc__.splitlines()[0], "benchmarks/results/profile_decoding.md")
    parser.add_argument("--train-minutes", type=float, default=30, help="the checkpoints' training budget")
    parser.add_argument("--beams", type=int, nargs="+", default=[1, 5], help="beam sizes (1 = greedy)")
    parser.add_argument("--preset", choices=PRESETS, help=argparse.SUPPRESS)  # the worker side: one preset and beam
    parser.add_argument("--beam", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    workload = args.work_dir / "decode_workload.json"
    if args.preset:
        run = checkpoint(args.work_dir, args.train_minutes, args.preset)
        print(json.dumps(profile_search(args.preset, args.beam, run, workload, args.threads)))
        return
    missing = [p for p in [workload, *(checkpoint(args.work_dir, args.train_minutes, p) for p in args.presets)] if not p.exists()]
    if missing:
        sys.exit(f"{', '.join(map(str, missing))} not found: run `python benchmarks/decode_throughput.py --train-minutes "
                 f"{args.train_minutes:g}` first (with the same --work-dir)")
    header, peaks = machine_lines(args.threads)
    command = (f"python benchmarks/profile_decoding.py --train-minutes {args.train_minutes:g} "
               f"--beams {' '.join(map(str, args.beams))} --threads {args.threads}"
               + ("" if args.presets == list(PRESETS) else f" --presets {' '.join(args.presets)}"))
    lines = ["# Where decoding time goes: top operators by self CPU time", "", *header, "",
             f"Command: `{command}`; torch.profiler over one pass of `greedy_search` or `beam_search` (length penalty "
             f"0.6) over the workload of `decode_throughput.py`, after one untimed pass, on the checkpoints its trained "
             f"condition made ({args.train_minutes:g} minutes of training each); outputs end at EOS or "
             f"{LIMIT[0]:g} × source length + {LIMIT[1]}; fp32, freed memory kept as in seq2seq's commands, each preset "
             "and search in a fresh process. Self time excludes the operators an operator calls.",
             "", "| preset | search | rank | operator | calls | self ms | share of all self time |",
             "|---|---|--:|---|--:|--:|--:|"]
    throughput = ["", "How fast the matrix products ran: the FLOPs torch.profiler counts for them over their self time, "
                  "against the measured fp32 matmul peak above.", "",
                  "| preset | search | operators | share of all self time | GFLOP/s | % of the fp32 matmul peak |",
                  "|---|---|---|--:|--:|--:|"]
    for preset in args.presets:
        for beam in args.beams:
            result = run_worker(sys.executable, Path(__file__).name, [
                "--preset", preset, "--beam", str(beam), "--work-dir", str(args.work_dir),
                "--train-minutes", str(args.train_minutes), "--threads", str(args.threads)])
            lines += table_rows(result)
            throughput.append(throughput_row(result, peaks["fp32"]))
            print("\n".join([*lines[-TOP - 1:], throughput[-1]]), flush=True)
    write_table(args.out, lines + throughput)


if __name__ == "__main__":
    main()
