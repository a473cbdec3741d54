"""`precision: auto` picks bf16 only where the CPU computes it natively, never where it would be emulated."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from seq2seq.training import precision

X86_AVX512_ONLY = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512bw avx512vl avx512_vnni\n"
X86_SAPPHIRE_RAPIDS = "processor\t: 0\nflags\t\t: fpu avx512f avx512_bf16 amx_bf16 amx_tile\n"
ARM_GRAVITON3 = "processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n"


@pytest.mark.parametrize(
    ("cpuinfo", "flags"),
    [
        (X86_AVX512_ONLY, {"fpu", "sse2", "avx2", "avx512f", "avx512bw", "avx512vl", "avx512_vnni"}),
        (ARM_GRAVITON3, {"fp", "asimd", "sve", "bf16", "i8mm"}),
        ("processor\t: 0\n", None),
    ],
)
def test_cpu_flags_reads_x86_and_arm_cpuinfo(tmp_path: Path, cpuinfo: str, flags: set[str] | None):
    path = tmp_path / "cpuinfo"
    path.write_text(cpuinfo)
    assert precision.cpu_flags(path) == (None if flags is None else frozenset(flags))


def test_cpu_flags_without_cpuinfo_is_unknown(tmp_path: Path):
    assert precision.cpu_flags(tmp_path / "missing") is None


@pytest.mark.parametrize(
    ("cpuinfo", "native"),
    [(X86_AVX512_ONLY, False), (X86_SAPPHIRE_RAPIDS, True), (ARM_GRAVITON3, True)],
)
def test_auto_takes_bf16_only_with_a_native_bf16_flag(monkeypatch, tmp_path: Path, cpuinfo: str, native: bool):
    """oneDNN says yes on every AVX-512 CPU (it converts around fp32 arithmetic there, several times slower than
    fp32); the CPU's flags decide."""
    path = tmp_path / "cpuinfo"
    path.write_text(cpuinfo)
    read_flags = precision.cpu_flags
    monkeypatch.setattr(precision, "cpu_flags", lambda: read_flags(path))
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: True)
    cpu = torch.device("cpu")
    assert precision.native_bf16(cpu) is native
    assert precision.resolve_precision("auto", cpu) == ("bf16" if native else "fp32")
    assert precision.resolve_precision("fp32", cpu) == "fp32"


def test_auto_is_fp32_where_onednn_has_no_bf16(monkeypatch):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    assert precision.resolve_precision("auto", torch.device("cpu")) == "fp32"


def test_unknown_precision_is_named():
    with pytest.raises(ValueError, match="precision='fp16'"):
        precision.resolve_precision("fp16", torch.device("cpu"))
