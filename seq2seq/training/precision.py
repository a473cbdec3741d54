"""Mixed precision: bf16 autocast with fp32 master weights, where the hardware computes bf16 natively.

On CPUs with AVX512-BF16 or AMX (and on recent GPUs) a bf16 matmul runs several times faster than
fp32, while the weights, the optimizer state and the loss stay in fp32, so training quality holds.
Elsewhere bf16 would be emulated and slower: `auto` then falls back to fp32.
"""

from __future__ import annotations

import contextlib
from typing import ContextManager

import torch

PRECISIONS = ("auto", "bf16", "fp32")


def native_bf16(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


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
