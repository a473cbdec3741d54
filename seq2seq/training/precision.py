"""Mixed precision: bf16 autocast with fp32 master weights, where the hardware computes bf16 natively.

On CPUs with AVX512-BF16 or AMX (and on recent GPUs) a bf16 matmul runs several times faster than
fp32, while the weights, the optimizer state and the loss stay in fp32, so training quality holds.
Elsewhere bf16 would be emulated and slower: `auto` then falls back to fp32. oneDNN's own check is not
enough for that: it also says yes on AVX-512 CPUs without AVX512-BF16, where it converts to and from
bf16 around fp32 arithmetic, slower than fp32 itself, so the CPU's own feature flags decide where the
system lists them.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import ContextManager

import torch

PRECISIONS = ("auto", "bf16", "fp32")


# Feature flags of CPUs that compute bf16 products natively: x86's AVX512-BF16 and AMX, Arm's BF16 extension.
NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str] | None:
    """The CPU's feature flags (x86 `flags`, Arm `Features`), or None where the system does not list them."""
    try:
        lines = cpuinfo.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return None


def native_bf16(device: torch.device) -> bool:
    """Whether `device` computes bf16 natively, rather than emulating it more slowly than fp32."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type != "cpu" or not (torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()):
        return False
    flags = cpu_flags()
    return flags is None or bool(flags & NATIVE_BF16_FLAGS)


def resolve_precision(name: str, device: torch.device) -> str:
    """`auto` -> `bf16` where the device computes it natively, else `fp32`."""
    if name not in PRECISIONS:
        raise ValueError(f"precision={name!r}: choose one of {', '.join(PRECISIONS)}")
    if name == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    return name


def autocast(device: torch.device, precision: str) -> ContextManager:
    """The autocast context for a resolved precision (a no-op for fp32)."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def resolve_device(name: str) -> torch.device:
    """`auto` -> the GPU where there is one, else the CPU; any other name as torch spells it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)
