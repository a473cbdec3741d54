"""Where training time goes: torch.profiler's top operators per preset, on the throughput benchmark's batches.

Each preset is profiled in a fresh process (this script calling itself with --preset), over the same
Multi30k batches `train_throughput.py` times, after untimed warm-up steps. The table ranks operators
by self CPU time (time inside the operator, not in the operators it calls) as a share of all
operators' self time, so the shares of one preset add up to at most 100%. Usage:

    python benchmarks/profile_training.py [--steps 10] [--warmup 3] [--threads 2] [--precision fp32]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import torch
from harness import PRESETS, common_options, machine_lines, prepare_workload, run_worker, write_table

TOP = 5


def profile_preset(preset: str, workload: Path, precision: str, warmup: int, threads: int) -> dict:
    """Train on the workload's batches under the profiler; the top operators by self CPU time."""
    from hydra import compose, initialize_config_module
    from torch.profiler import ProfilerActivity, profile

    from seq2seq.allocator import keep_freed_memory
    from seq2seq.data.batching import collate, make_examples
    from seq2seq.models.encoder_decoder import build_model
    from seq2seq.training.trainer import Trainer

    keep_freed_memory()  # as seq2seq-train does
    torch.set_num_threads(threads)
    with initialize_config_module(config_module="seq2seq.conf", version_base="1.3"):
        config = compose("config", overrides=[f"model={preset}", "data=files"])
    data = json.loads(workload.read_text())
    torch.manual_seed(0)
    model = build_model(config.model, data["vocab_size"], data["vocab_size"])
    trainer = Trainer(model, config.train, torch.device("cpu"), precision)
    batches = [collate(make_examples(b["src"], b["tgt"])) for b in data["train_batches"]]
    model.train()
    for batch in batches[:warmup]:
        trainer.train_step(batch)
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        for batch in batches[warmup:]:
            trainer.train_step(batch)
    return {"preset": preset, "precision": precision, "steps": len(batches) - warmup, **top_operators(profiler)}


def top_operators(profiler: Any) -> dict:
    """All operators' self CPU time and the TOP operators by it: calls, self time, share of the total."""
    events = [e for e in profiler.key_averages() if e.self_cpu_time_total > 0]
    total = sum(e.self_cpu_time_total for e in events)
    top = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[:TOP]
    return {"total_ms": total / 1000, "top": [{"op": e.key, "calls": e.count, "self_ms": e.self_cpu_time_total / 1000,
                                              "share": e.self_cpu_time_total / total} for e in top]}


def table_rows(result: dict) -> list[str]:
    per_step = result["total_ms"] / result["steps"]
    return [f"| {result['preset']} | {rank} | `{op['op']}` | {op['calls'] / result['steps']:,.0f} | "
            f"{op['self_ms'] / result['steps']:,.1f} | {100 * op['share']:.1f}% |"
            for rank, op in enumerate(result["top"], start=1)] + [
        f"| {result['preset']} | | all operators | | {per_step:,.1f} | 100% |"]


def main() -> None:
    parser = common_options(__doc__.splitlines()[0], "benchmarks/results/profile.md")
    parser.add_argument("--steps", type=int, default=10, help="profiled training steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--preset", choices=PRESETS, help=argparse.SUPPRESS)  # the worker side: one preset
    parser.add_argument("--workload", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.preset:
        print(json.dumps(profile_preset(args.preset, args.workload, args.precision, args.warmup, args.threads)))
        return
    workload = prepare_workload(args, train_batches=args.warmup + args.steps)
    header, _ = machine_lines(args.threads)
    command = (f"python benchmarks/profile_training.py --steps {args.steps} --warmup {args.warmup} "
               f"--threads {args.threads} --precision {args.precision}")
    lines = ["# Where training time goes: top operators by self CPU time", "", *header, "",
             f"Command: `{command}`; torch.profiler over {args.steps} training steps (forward, loss, backward, "
             f"clipping, Adam) after {args.warmup} untimed, on the Multi30k batches of `train_throughput.py`, "
             f"{args.precision}, each preset in a fresh process. Self time excludes the operators an operator calls.",
             "", "| preset | rank | operator | calls per step | self ms per step | share of all self time |",
             "|---|--:|---|--:|--:|--:|"]
    for preset in args.presets:
        lines += table_rows(run_worker(sys.executable, Path(__file__).name, [
            "--preset", preset, "--workload", str(workload), "--precision", args.precision, "--warmup", str(args.warmup),
            "--threads", str(args.threads)]))
        print("\n".join(lines[-TOP - 1:]), flush=True)
    write_table(args.out, lines)


if __name__ == "__main__":
    main()
