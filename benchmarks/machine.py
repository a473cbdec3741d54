"""What the machine is and what it can do: CPU model, matmul peak, peak memory of this process.

Imported by the workers of both toolkits, so it needs nothing but torch and the standard library:
the JoeyNMT worker runs in its own virtual environment, without seq2seq installed.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import torch

Item = TypeVar("Item")


def cpu_model() -> str:
    """The CPU's model name (Linux), else what the platform module knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def describe(threads: int) -> str:
    """One line naming the CPU, cores, threads and torch version, for every results table."""
    return f"{cpu_model()}, {os.cpu_count()} cores, {threads} threads, torch {torch.__version__}"


def native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX), as seq2seq's `precision=auto` decides.

    Without it torch emulates bf16 at a small fraction of fp32's speed (a 2048² matmul took about 50 s on
    one such AMD EPYC), so timing bf16 there measures the emulation, not the toolkit.
    """
    return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


def matmul_peak_flops(dtype: torch.dtype, size: int = 2048, repeats: int = 5) -> float:
    """Best measured FLOP/s of a square matmul: the ceiling any model on this CPU can reach."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    a @ b  # warm-up: thread pool, kernel selection
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def reset_peak_rss() -> None:
    """Start peak-memory accounting afresh (Linux: writing 5 to clear_refs resets VmHWM)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # not Linux or not permitted: the peak then includes start-up


def rss_mib(field: str = "VmHWM") -> float:
    """This process's peak (VmHWM) or current (VmRSS) resident memory in MiB, from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def measure(run: Callable[[Item], int], items: Sequence[Item]) -> dict[str, Any]:
    """Time `run` over `items` with peak-memory accounting reset first; `count` sums what `run` returns
    (tokens trained, decoder steps run), so both workers report the same quantities the same way. Each
    item's own time is kept too, so that rounds can be combined item by item (`harness.best_of_rounds`)."""
    start_rss = rss_mib("VmRSS")
    reset_peak_rss()
    count, item_seconds = 0, []
    start = time.perf_counter()
    for item in items:
        item_start = time.perf_counter()
        count += run(item)
        item_seconds.append(time.perf_counter() - item_start)
    seconds = time.perf_counter() - start
    return {"count": count, "seconds": seconds, "item_seconds": item_seconds, "peak_rss_mib": rss_mib("VmHWM"),
            "start_rss_mib": start_rss}


def training_result(
    step: Callable[[Item], int], backward: Callable[[Item], None], batches: Sequence[Item], warmup: int, parameters: int
) -> dict[str, Any]:
    """What both workers report for training: `step` (one update, returning its target tokens) run
    `warmup` times untimed, then timed over the rest; then the FLOPs of those batches' forward and
    backward (`backward`), counted untimed, in all and per target token: the work per token is what
    makes two toolkits' tokens per second comparable."""
    from torch.utils.flop_counter import FlopCounterMode

    for batch in batches[:warmup]:
        step(batch)
    measured = batches[warmup:]
    timing = measure(step, measured)
    with FlopCounterMode(display=False) as counter:
        for batch in measured:
            backward(batch)
    tokens, flops = timing.pop("count"), counter.get_total_flops()
    return {"tokens": tokens, "steps": len(measured), "flops": flops, "mflop_per_token": flops / tokens / 1e6,
            "parameters": parameters, **timing}


def decoding_result(search: Callable[[Item], int], batches: Sequence[Item], sentences: int, parameters: int) -> dict[str, Any]:
    """What both workers report for decoding: `search` (one batch, returning the decoder steps it ran)
    once untimed on the first batch, then timed over all of them."""
    search(batches[0])
    timing = measure(search, batches)
    return {"sentences": sentences, "decoder_steps": timing.pop("count"), "parameters": parameters, **timing}
