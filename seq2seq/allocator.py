"""Keep freed memory in the process instead of handing it back to the kernel after every tensor.

glibc serves each block over its mmap threshold (at most 32 MiB by default) with a fresh mmap and
unmaps it when freed, so the next tensor of that size — a [1,640, 8,000] beam step's logits, a
batch's activations — is page-faulted in again, zero-filled 4 KiB at a time, and elementwise
operators on large tensors spend more time faulting than computing (`benchmarks/results/levers.md`
measures the effect on training and decoding). Raising the mmap and trim thresholds lets glibc
reuse its heap; the price is that the process holds on to its peak memory, which the benchmarks'
peak-RSS columns include.

seq2seq's commands call `keep_freed_memory` first; SEQ2SEQ_MALLOC=system leaves glibc's defaults.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from glibc's malloc.h
KEEP_BYTES = 1 << 30  # blocks up to 1 GiB come from the heap; up to 1 GiB freed at its top stays there
OPT_OUT = "SEQ2SEQ_MALLOC"


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds to KEEP_BYTES; False where not glibc, or opted out."""
    if os.environ.get(OPT_OUT) == "system":
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    libc = ctypes.CDLL(name)
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):  # musl, macOS, Windows
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, KEEP_BYTES)) and bool(libc.mallopt(M_TRIM_THRESHOLD, KEEP_BYTES))
