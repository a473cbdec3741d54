"""What the machine is and what it can do: CPU model, matmul peak, peak memory of this process.

Imported by the workers of both toolkits, so it needs nothing but torch and the standard library:
the JoeyNMT worker runs in its own virtual environment, without seq2seq installed.
"""

from __future__ import annotations

import os
import platform
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


SPEED_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")  # what sets fp32 and bf16 speed


def cpu_flags() -> list[str]:
    """Which of `SPEED_FLAGS` the CPU has (read as seq2seq's precision check reads them; none where the system
    lists no flags). Imported here for the reason `native_bf16` gives."""
    from seq2seq.training.precision import cpu_flags as listed_flags

    present = listed_flags() or frozenset()
    return [flag for flag in SPEED_FLAGS if flag in present]


def describe(threads: int) -> str:
    """One line naming the CPU, its speed-relevant flags, cores, threads and torch version, for every results table."""
    return (f"{cpu_model()} (flags: {' '.join(cpu_flags()) or 'unknown'}), {os.cpu_count()} cores, {threads} threads, "
            f"torch {torch.__version__}")


@dataclass(frozen=True)
class CpuSample:
    """The machine's busy CPU time and this process's own (with its finished children's), at one moment."""

    busy_seconds: float  # every process on the machine, from /proc/stat
    own_seconds: float  # this process and the workers it has waited for
    wall_seconds: float
    load: tuple[float, float, float]  # 1-, 5- and 15-minute load averages


def cpu_sample() -> CpuSample:
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]  # idle and iowait; the rest up to steal is busy
    own = sum(usage.ru_utime + usage.ru_stime for usage in
              (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)))
    return CpuSample((sum(fields) - idle) / os.sysconf("SC_CLK_TCK"), own, time.monotonic(), os.getloadavg())


class MachineWatch:
    """Whether anything else ran while a benchmark measured: the CPU time the machine spent beyond the
    benchmark's own processes, between `start` and `stop`, and the load averages around them. A ratio of two
    toolkits' speeds means nothing if a third program took cores from one of them."""

    def __init__(self, before: CpuSample | None = None) -> None:
        self.before = before or cpu_sample()
        self.after: CpuSample | None = None

    def stop(self, after: CpuSample | None = None) -> None:
        self.after = after or cpu_sample()

    def other_cores(self) -> float:
        """Cores other processes kept busy on average (kernel threads included), never below 0."""
        before, after = self.before, self.after
        others = (after.busy_seconds - before.busy_seconds) - (after.own_seconds - before.own_seconds)
        return max(0.0, others / max(after.wall_seconds - before.wall_seconds, 1e-9))

    def lines(self) -> list[str]:
        before, after = self.before, self.after
        load = lambda sample: ", ".join(f"{value:.2f}" for value in sample.load)  # noqa: E731
        return [f"Machine state: load average (1, 5, 15 min) {load(before)} before the measurements and {load(after)} "
                f"after; other processes kept {self.other_cores():.3f} cores busy on average over the "
                f"{(after.wall_seconds - before.wall_seconds) / 60:.1f} minutes of measuring (the benchmark's own "
                "processes not counted)."]

    def refusal(self, max_load: float, max_other_cores: float) -> str | None:
        """Why these measurements must not be recorded, or None: a 1-minute load average above `max_load`
        before they started, or other processes busier than `max_other_cores` while they ran."""
        if self.before.load[0] > max_load:
            return (f"the 1-minute load average was {self.before.load[0]:.2f} before the measurements (more than "
                    f"--max-load {max_load:g}): something else was running")
        if self.other_cores() > max_other_cores:
            return (f"other processes kept {self.other_cores():.2f} cores busy during the measurements (more than "
                    f"--max-other-cores {max_other_cores:g})")
        return None


def native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX), as seq2seq's `precision=auto` decides.

    Without it torch emulates bf16 at a small fraction of fp32's speed (a 2048² matmul took about 50 s on
    one such AMD EPYC), so timing bf16 there measures the emulation, not the toolkit. Imported here rather
    than at the top: the JoeyNMT worker imports this module where seq2seq is not installed.
    """
    from seq2seq.training.precision import native_bf16 as device_native_bf16

    return device_native_bf16(torch.device("cpu"))


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
    (tokens trained, decoder steps run), so both workers report the same quantities the same way."""
    start_rss = rss_mib("VmRSS")
    reset_peak_rss()
    count = 0
    start = time.perf_counter()
    for item in items:
        count += run(item)
    seconds = time.perf_counter() - start
    return {"count": count, "seconds": seconds, "peak_rss_mib": rss_mib("VmHWM"), "start_rss_mib": start_rss}


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
