"""The throughput benchmarks' own worker: it times the real code on the work it claims to time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

WORKER = Path(__file__).parent.parent / "benchmarks" / "ours_worker.py"


def run_worker(*options: str) -> dict:
    done = subprocess.run([sys.executable, str(WORKER), *options], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_worker_trains_and_decodes_the_workload_it_is_given(tmp_path):
    batch = {"src": [[5, 6, 7], [8, 9]], "tgt": [[10, 11], [12, 13, 14, 15]]}
    decode_batches = [[[5, 6, 7, 8], [9]], [[10, 11]]]
    workload = {"vocab_size": 2000, "batch_tokens": 64, "train_batches": [batch] * 3, "decode_batches": decode_batches}
    path = tmp_path / "workload.json"
    path.write_text(json.dumps(workload))

    trained = run_worker("train", "--preset", "rnn_attention", "--workload", str(path), "--warmup", "1", "--threads", "1")
    assert trained["steps"] == 2
    assert trained["tokens"] == 2 * (3 + 5)  # targets plus EOS, twice
    assert trained["flops"] > 0 and trained["peak_rss_mib"] > 0

    decoded = run_worker("decode", "--preset", "transformer", "--workload", str(path), "--beam", "5", "--threads", "1")
    assert decoded["sentences"] == 3
    # an untrained model (EOS one word in 2,000) runs every batch to its limit, source length with EOS + 1:
    # (5 + 1) + (3 + 1)
    assert decoded["decoder_steps"] == 10
