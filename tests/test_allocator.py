"""The commands' allocator setting: glibc serves large tensors from its heap, where freed memory is reused,
instead of mapping each one afresh (and faulting its pages in again) and unmapping it when freed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

WHERE_A_LARGE_TENSOR_LIVES = """
import ctypes, ctypes.util, torch
from seq2seq.allocator import keep_freed_memory

class MallInfo2(ctypes.Structure):  # glibc >= 2.33
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.mallinfo2.restype = MallInfo2
kept = keep_freed_memory()
before = libc.mallinfo2()
tensor = torch.empty(16 << 20).fill_(1.0)  # 64 MiB: over glibc's largest default mmap threshold (32 MiB)
during = libc.mallinfo2()
print(kept, during.hblkhd - before.hblkhd >= 64 << 20, during.uordblks - before.uordblks >= 64 << 20)
"""


def where_a_large_tensor_lives(malloc: str | None) -> tuple[bool, bool, bool]:
    """(whether the setting took, whether a 64 MiB tensor got its own mapping, whether it came from the heap)."""
    env = {key: value for key, value in os.environ.items() if key != "SEQ2SEQ_MALLOC"}
    if malloc:
        env["SEQ2SEQ_MALLOC"] = malloc
    done = subprocess.run([sys.executable, "-c", WHERE_A_LARGE_TENSOR_LIVES], capture_output=True, text=True, env=env,
                          check=True)
    return tuple(word == "True" for word in done.stdout.split())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt and mallinfo2 are glibc's, on Linux")
def test_large_tensors_come_from_the_heap_unless_opted_out():
    assert where_a_large_tensor_lives(None) == (True, False, True)
    assert where_a_large_tensor_lives("system") == (False, True, False)
