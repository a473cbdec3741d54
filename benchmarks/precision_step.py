"""Training-step throughput of the three presets in fp32 and under bf16 autocast.

Times full training steps (forward, backward, Adam) on random batches shaped like Multi30k
(256 sentences × 16 subwords, vocabulary 8,000) with the presets' default sizes, and prints a
Markdown table of target tokens per second. Usage:

    python benchmarks/precision_step.py [--threads 2] [--steps 4] [--out benchmarks/results/precision_step.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_module

from seq2seq.models.encoder_decoder import build_model
from seq2seq.precision import autocast

VOCAB, BATCH, LENGTH = 8000, 256, 16


def tokens_per_second(preset: str, precision: str, steps: int) -> float:
    with initialize_config_module(config_module="seq2seq.conf", version_base="1.3"):
        config = compose("config", overrides=[f"model={preset}", "data=files"])
    torch.manual_seed(0)
    model = build_model(config.model, VOCAB, VOCAB)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    src = torch.randint(4, VOCAB, (BATCH, LENGTH))
    tgt = torch.randint(4, VOCAB, (BATCH, LENGTH))
    mask = torch.ones(BATCH, LENGTH, dtype=torch.bool)
    device = torch.device("cpu")
    times = []
    for _ in range(steps + 1):  # the first step warms up and is not counted
        start = time.perf_counter()
        with autocast(device, precision):
            logits, _ = model(src, mask, tgt)
            loss = F.cross_entropy(logits.reshape(-1, VOCAB).float(), tgt.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    return BATCH * LENGTH / min(times[1:])


def cpu_model() -> str:
    """The CPU's model name (Linux), else what the platform module knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/precision_step.md"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    lines = [
        f"# Training-step throughput, fp32 vs bf16 autocast ({cpu_model()}, "
        f"{os.cpu_count()} cores, {args.threads} threads, torch {torch.__version__})",
        "",
        f"Random batches of {BATCH} × {LENGTH} tokens, vocabulary {VOCAB}, preset default sizes; best of {args.steps} steps.",
        "",
        "| preset | fp32 tok/s | bf16 tok/s | speed-up |",
        "|---|--:|--:|--:|",
    ]
    for preset in ("rnn", "rnn_attention", "transformer"):
        fp32, bf16 = tokens_per_second(preset, "fp32", args.steps), tokens_per_second(preset, "bf16", args.steps)
        lines.append(f"| {preset} | {fp32:,.0f} | {bf16:,.0f} | {bf16 / fp32:.2f}× |")
        print(lines[-1], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
