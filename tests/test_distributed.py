"""Two processes under torchrun on CPU (gloo): replicas stay identical, the loss falls, rank 0 alone writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from test_cli import REPO, SMALL_MODEL, files_overrides, write_corpus

from seq2seq.training.distributed import Distributed, shard


def test_every_rank_gets_an_equal_share_and_no_batch_is_dropped():
    batches = list(range(11))
    shares = [shard(batches, Distributed(rank, 3)) for rank in range(3)]
    assert shares == [[0, 3, 6, 9], [1, 4, 7, 10], [2, 5, 8, 0]]  # the remainder is padded with the first batch
    assert sorted(set(sum(shares, []))) == batches
    assert [shard(list(range(6)), Distributed(rank, 3)) for rank in range(3)] == [[0, 3], [1, 4], [2, 5]]
    assert shard(batches, Distributed()) == batches


def test_two_process_ddp_keeps_replicas_identical_and_learns(tmp_path):
    files = write_corpus(tmp_path / "data")
    run_dir = tmp_path / "run"
    env = {**os.environ, "SEQ2SEQ_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "seq2seq", *files_overrides(files), *SMALL_MODEL, "train.max_epochs=4",
               "train.log_every=1", f"hydra.run.dir={run_dir}"]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]

    results = json.loads((run_dir / "results.json").read_text())
    checksums = results["distributed"]["replica_checksums"]
    assert results["distributed"]["world_size"] == 2 and len(checksums) == 2 and checksums[0] == checksums[1]
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    valid = [r for r in records if r["kind"] == "valid"]
    assert [r["epoch"] for r in valid] == [1, 2, 3, 4]  # written once, by rank 0
    steps = [r["step"] for r in records if r["kind"] == "train"]
    assert steps == sorted(set(steps))
    losses = [r["loss"] for r in records if r["kind"] == "train"]
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3  # the loss falls
    assert valid[-1]["loss"] < valid[0]["loss"]
