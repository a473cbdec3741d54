"""What both throughput benchmarks share: options, the workload file, worker processes, the table file.

Each measurement runs in a fresh worker process (ours in this environment, JoeyNMT's in its own),
one after another, so peak memory is per measurement and no two measurements share the CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch
from joeynmt_config import PRESETS as JOEYNMT_PRESETS
from machine import MachineWatch, describe, matmul_peak_flops, native_bf16
from workload import build_workload, save_workload

HERE = Path(__file__).parent
DEFAULT_JOEYNMT_PYTHON = HERE.parent / ".venv-joeynmt" / "bin" / "python"
DEFAULT_DATA_ROOT = Path(os.environ.get("SEQ2SEQ_DATA", HERE.parent.parent / "shared" / "data")) / "multi30k"
PRESETS = ("rnn", "rnn_attention", "transformer")
MIN_ROUNDS = 5  # fewer rounds moved a recorded ratio by a third between two runs of one command (issue 36)
MODEL_SIZES = (
    "rnn: GRU encoder 512 (embeddings 256), GRU decoder 512 fed the summary; "
    "rnn_attention: bidirectional GRU encoder 2×256, GRU decoder 512 with additive attention 512; "
    "transformer: 3+3 pre-norm layers, d=256, ff 1024, 4 heads, tied decoder embeddings; "
    "shared BPE vocabulary of 8,000"
)


def common_options(description: str, out: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data-root", type=Path, default=DEFAULT_DATA_ROOT, help="directory of Multi30k's SPLIT.LANG.gz files")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--presets", nargs="+", choices=PRESETS, default=list(PRESETS))
    parser.add_argument("--joeynmt-python", type=Path, default=Path(os.environ.get("JOEYNMT_PYTHON", DEFAULT_JOEYNMT_PYTHON)),
                        help="python of a virtual environment with joeynmt==2.3.0 (benchmarks/setup_joeynmt.sh makes one)")
    parser.add_argument("--work-dir", type=Path, default=Path("benchmarks/.work"), help="where the workload file goes")
    parser.add_argument("--rounds", type=int, default=MIN_ROUNDS,
                        help=f"measure every configuration this many times, interleaved; report medians and ranges "
                             f"(a table is written only from at least {MIN_ROUNDS})")
    parser.add_argument("--max-load", type=float, default=0.5,
                        help="refuse to record if the 1-minute load average exceeds this before measuring")
    parser.add_argument("--max-other-cores", type=float, default=0.1,
                        help="refuse to record if other processes keep more cores than this busy while measuring")
    parser.add_argument("--out", type=Path, default=Path(out))
    return parser


def prepare_workload(args: argparse.Namespace, decode_batch_tokens: int = 4096, sentences: int = 1000,
                     train_batches: int = 0) -> Path:
    if not args.data_root.is_dir():
        sys.exit(f"--data-root {args.data_root}: directory not found (it should hold Multi30k's train.de.gz, ...)")
    workload = build_workload(args.data_root, args.work_dir / "tokenizer", 4096, train_batches, decode_batch_tokens, sentences)
    path = args.work_dir / "workload.json"
    save_workload(workload, path)
    return path


def joeynmt_python(args: argparse.Namespace) -> Path | None:
    """The JoeyNMT environment's python if it imports joeynmt 2.3.0; else None (with the reason on stderr)."""
    python = args.joeynmt_python
    if not python.exists():
        print(f"JoeyNMT skipped: {python} not found; run benchmarks/setup_joeynmt.sh or pass --joeynmt-python", file=sys.stderr)
        return None
    probe = subprocess.run([str(python), "-c", "import joeynmt; print(joeynmt.__version__)"], capture_output=True, text=True)
    if probe.returncode != 0 or probe.stdout.strip() != "2.3.0":
        print(f"JoeyNMT skipped: {python} has no joeynmt 2.3.0 ({probe.stdout.strip() or probe.stderr.strip()[-200:]})",
              file=sys.stderr)
        return None
    return python


def run_worker(python: Path | str, worker: str, options: list[str]) -> dict[str, Any]:
    """Run benchmarks/WORKER with OPTIONS in a fresh process and return the JSON it prints."""
    command = [str(python), str(HERE / worker), *options]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def interleaved_rounds(jobs: dict[Any, tuple[Path | str, str, list[str]]], rounds: int) -> dict[Any, dict[str, Any]]:
    """Run every job (python, worker, options) `rounds` times, interleaved: round i of every job runs before round
    i + 1 of any, so a slow spell of the machine meets neighbouring measurements of every toolkit alike and the
    rounds pair up (`round_ratios`). Each job's result is `median_round` of its rounds."""
    results: dict[Any, list[dict[str, Any]]] = {key: [] for key in jobs}
    for _ in range(rounds):
        for key, (python, worker, options) in jobs.items():
            results[key].append(run_worker(python, worker, options))
    return {key: median_round(runs) for key, runs in results.items()}


def median_round(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One job's rounds as one result: the median time (`seconds`), every round's time in order (`round_seconds`),
    the highest peak memory of any round, and the rest (outputs, counts) from the round of median time (the lower
    middle one for an even count)."""
    seconds = [run["seconds"] for run in runs]
    middle = sorted(runs, key=lambda run: run["seconds"])[(len(runs) - 1) // 2]
    return {**middle, "seconds": statistics.median(seconds), "round_seconds": seconds,
            "peak_rss_mib": max(run["peak_rss_mib"] for run in runs)}


def round_ratios(faster: dict[str, Any], slower: dict[str, Any], work: str) -> list[float]:
    """Round by round, `faster`'s speed over `slower`'s (`work` — tokens, sentences — per second): the
    measurements of one round ran next to each other."""
    return [(faster[work] / a) / (slower[work] / b) for a, b in zip(faster["round_seconds"], slower["round_seconds"], strict=True)]


def ratio_cell(ratios: list[float]) -> str:
    """A speed ratio as a table cell: the median over rounds and, in parentheses, its range over rounds."""
    return f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}–{max(ratios):.2f})"


def toolkit_jobs(joey: Path | None, task: list[str], checkpoints: dict[str, Path | None] | None = None
                 ) -> dict[tuple[str, str], tuple[Path | str, str, list[str]]]:
    """Jobs for `interleaved_rounds`, keyed by (toolkit, precision): ours in fp32 and, where the CPU has it
    natively, bf16 on one worker task (which names its preset with --preset), and JoeyNMT in fp32 where
    it is installed and has a counterpart of that preset (it trains only in fp32 on CPUs). With
    `checkpoints` (toolkit -> trained model), each toolkit's worker gets its own with --checkpoint, and a
    toolkit without one has no job."""
    preset = task[task.index("--preset") + 1]

    def task_of(toolkit: str) -> list[str] | None:
        if checkpoints is None:
            return task
        return None if checkpoints.get(toolkit) is None else [*task, "--checkpoint", str(checkpoints[toolkit])]

    jobs = {}
    if joey and preset in JOEYNMT_PRESETS and (joey_task := task_of("JoeyNMT")) is not None:
        jobs[("JoeyNMT", "fp32")] = (joey, "joeynmt_worker.py", joey_task)
    if (ours := task_of("seq2seq")) is not None:
        for precision in ("fp32", "bf16") if native_bf16() else ("fp32",):
            jobs[("seq2seq", precision)] = (sys.executable, "ours_worker.py", [*ours, "--precision", precision])
    return jobs


def machine_lines(threads: int) -> tuple[list[str], dict[str, float]]:
    """The results table's header lines about the machine, and its matmul peaks (FLOP/s) by precision."""
    torch.set_num_threads(threads)
    fp32 = matmul_peak_flops(torch.float32)
    if not native_bf16():
        return [f"Machine: {describe(threads)}.",
                f"Measured matmul peak (2048², best of 5): fp32 {fp32 / 1e9:,.0f} GFLOP/s; no native bf16 (no "
                "AVX512-BF16 or AMX), so bf16 is not measured on this machine."], {"fp32": fp32}
    bf16 = matmul_peak_flops(torch.bfloat16)
    return [
        f"Machine: {describe(threads)}.",
        f"Measured matmul peak (2048², best of 5): fp32 {fp32 / 1e9:,.0f} GFLOP/s, bf16 {bf16 / 1e9:,.0f} GFLOP/s.",
    ], {"fp32": fp32, "bf16": bf16}


def write_table(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    print(f"written to {path}")


def record(args: argparse.Namespace, lines: list[str], watch: MachineWatch) -> None:
    """Write the table with the machine's state during the measurements, unless they cannot stand as a record:
    fewer than MIN_ROUNDS rounds (printed, not written) or a machine that was busy with something else (refused,
    exit status 1)."""
    watch.stop()
    lines += ["", *watch.lines()]
    print(lines[-1], flush=True)
    if args.rounds < MIN_ROUNDS:
        print(f"not written to {args.out}: {args.rounds} rounds; a record needs --rounds {MIN_ROUNDS} or more", file=sys.stderr)
        return
    refusal = watch.refusal(args.max_load, args.max_other_cores)
    if refusal:
        sys.exit(f"not written to {args.out}: {refusal}; measure again on an idle machine")
    write_table(args.out, lines)
