"""A recorded run the test suite trains again (issue 33): experiments/reproduce/run, one tiny attention RNN on a
small probe in fp32 on one thread, made by `seq2seq-train +experiment=reproduce`. Trained again here, its
hypotheses and its per-contrast records must be the committed ones byte for byte, and its scores equal:
the recording pipeline writes what the model did, and nothing was typed or edited afterwards.

fp32 kernels sum in a different order on processors with other vector units, so the exact comparison holds on
the kind of processor the record was made on (experiments/reproduce/cpu_flags.txt); elsewhere it is skipped,
saying so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_cli import run

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "experiments" / "reproduce" / "run"
FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")  # the units fp32 and bf16 kernels choose by


def cpu_flags() -> str:
    present = set(Path("/proc/cpuinfo").read_text().split()) if Path("/proc/cpuinfo").is_file() else set()
    return " ".join(flag for flag in FLAGS if flag in present)


def test_the_recorded_tiny_run_trains_again_to_the_same_outputs_byte_for_byte(tmp_path):
    recorded_flags = (RECORD.parent / "cpu_flags.txt").read_text().strip()
    if cpu_flags() != recorded_flags:
        pytest.skip(f"recorded on a processor with [{recorded_flags}], this one has [{cpu_flags()}]: fp32 kernels differ")
    again = tmp_path / "run"
    result = run("seq2seq-train", "+experiment=reproduce", f"hydra.run.dir={again}", cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("hypotheses/test.txt", "contrasts/test.tsv"):
        assert (again / name).read_bytes() == (RECORD / name).read_bytes(), f"{name} differs from the record"
    recorded, trained = (json.loads((d / "results.json").read_text())["splits"]["test"] for d in (RECORD, again))
    for key in ("bleu", "chrf", "by_length", "contrastive", "verb_accuracy"):
        assert trained.get(key) == recorded.get(key), key
    assert json.loads((again / "results.json").read_text())["training"]["steps"] == 500
