"""The benchmarks' own code: the throughput worker times the real code on the work it claims to time, and the
quality benchmark gives JoeyNMT our recipe, subwords and validation sentences, and reads and tabulates both runs."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"
WORKER = BENCHMARKS / "ours_worker.py"

sys.path.insert(0, str(BENCHMARKS))  # the benchmarks import each other as top-level modules
import ours_worker  # noqa: E402
import quality_vs_joeynmt  # noqa: E402
import side_by_side  # noqa: E402
import train_throughput  # noqa: E402
from harness import DEFAULT_JOEYNMT_PYTHON as JOEYNMT_PYTHON  # noqa: E402
from joeynmt_config import PRESETS as JOEYNMT_PRESETS  # noqa: E402
from training_logs import ValidationPoint, first_reaching, joeynmt_curve, joeynmt_parameters, ours_curve  # noqa: E402


def run_worker(*options: str, python: Path | str = sys.executable, worker: Path = WORKER) -> dict:
    done = subprocess.run([str(python), str(worker), *options], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
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
    assert trained["mflop_per_token"] == pytest.approx(trained["flops"] / trained["tokens"] / 1e6)

    decoded = run_worker("decode", "--preset", "transformer", "--workload", str(path), "--beam", "5", "--threads", "1")
    assert decoded["sentences"] == 3
    # an untrained model (EOS one word in 2,000) runs every batch to its limit, source length with EOS + 1:
    # (5 + 1) + (3 + 1)
    assert decoded["decoder_steps"] == 10


@pytest.mark.skipif(not JOEYNMT_PYTHON.exists(),
                    reason=f"no JoeyNMT environment at {JOEYNMT_PYTHON} (benchmarks/setup_joeynmt.sh makes one)")
def test_joeynmt_counterparts_do_our_work_per_target_token(tmp_path):
    # Multi30k-like sentences (14 subwords a side) over our 8,000 subwords: the FLOPs per token depend on
    # both, through the attention over the source and the projection onto the vocabulary. Equal lengths
    # in the batch, so neither toolkit's handling of padding counts.
    sentences = [[4 + (97 * i + 31 * j) % 7996 for j in range(14)] for i in range(8)]
    workload = {"vocab_size": 8000, "batch_tokens": 256, "decode_batches": [],
                "train_batches": [{"src": sentences, "tgt": [s[::-1][:13] for s in sentences]}]}
    path = tmp_path / "workload.json"
    path.write_text(json.dumps(workload))
    # the workers' own `train` on one thread (a tiny batch gains nothing from more); JoeyNMT's presets in one
    # process of its own, started first: its imports take most of the time
    probe = (
        f"import json, sys; sys.path.insert(0, {str(BENCHMARKS)!r})\n"
        "from argparse import Namespace\n"
        "import joeynmt_worker, torch\n"
        "torch.set_num_threads(1)\n"
        "workload = json.load(open(sys.argv[1]))\n"
        "print(json.dumps({p: joeynmt_worker.train(Namespace(preset=p, warmup=0), workload) for p in sys.argv[2:]}))\n"
    )
    joeynmt = subprocess.Popen([str(JOEYNMT_PYTHON), "-c", probe, str(path), *JOEYNMT_PRESETS],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ours = {preset: ours_worker.train(argparse.Namespace(preset=preset, precision="fp32", warmup=0), workload)
                for preset in JOEYNMT_PRESETS}
    finally:
        torch.set_num_threads(threads)
    stdout, stderr = joeynmt.communicate()
    assert joeynmt.returncode == 0, stderr[-2000:]
    joey = json.loads(stdout.strip().splitlines()[-1])
    for preset in JOEYNMT_PRESETS:
        assert joey[preset]["tokens"] == ours[preset]["tokens"] == 8 * 14  # targets with EOS
        assert joey[preset]["mflop_per_token"] == pytest.approx(ours[preset]["mflop_per_token"], rel=0.05), preset


def timed(tokens: int, seconds: float, mflop_per_token: float, parameters: int, peak_rss_mib: float) -> dict:
    return {"tokens": tokens, "seconds": seconds, "flops": mflop_per_token * 1e6 * tokens,
            "mflop_per_token": mflop_per_token, "parameters": parameters, "peak_rss_mib": peak_rss_mib}


def test_training_table_compares_equal_precisions_and_gives_rnn_no_joeynmt_twin():
    peaks = {"fp32": 100e9, "bf16": 400e9}
    ours = {("seq2seq", "fp32"): timed(3_000, 2.0, 40.0, 10_026_560, 1_400),  # 1,500 tok/s, 60 GFLOP/s
            ("seq2seq", "bf16"): timed(3_000, 1.0, 40.0, 10_026_560, 1_800)}  # 3,000 tok/s, 120 GFLOP/s
    joey = {("JoeyNMT", "fp32"): timed(2_000, 2.0, 41.0, 10_025_344, 2_100)}  # 1,000 tok/s, 41 GFLOP/s

    cells = train_throughput.preset_row("rnn_attention", {**joey, **ours}, peaks).split(" | ")
    header = train_throughput.HEADER.split(" | ")
    row = dict(zip(header, cells))
    assert len(cells) == len(header) == train_throughput.ALIGNMENT.count("|") - 1
    assert row["JoeyNMT counterpart"] == "bi-GRU 2×256, GRU decoder 384, Bahdanau attention, input feeding"
    assert row["MFLOP per target token, ours / JoeyNMT"] == "40.0 / 41.0"
    assert (row["fp32 tok/s, ours"], row["fp32 tok/s, JoeyNMT"]) == ("1,500", "1,000")
    assert row["ours fp32 ÷ JoeyNMT fp32"] == "1.50×"  # fp32 over fp32, not our bf16's 3.00×
    assert row["fp32 % of fp32 matmul peak, ours / JoeyNMT"] == "60% / 41%"
    assert (row["bf16 tok/s, ours"], row["ours bf16 ÷ ours fp32"], row["ours bf16 % of bf16 matmul peak"]) == (
        "3,000", "2.00×", "30%")
    assert row["parameters, ours / JoeyNMT"] == "10.03 M / 10.03 M"

    rnn = train_throughput.preset_row("rnn", ours, peaks)
    assert rnn == ("| rnn | no equivalent | 10.03 M / no equivalent | 40.0 / no equivalent | 1,500 | no equivalent | "
                   "no equivalent | 60% / no equivalent | 3,000 | 2.00× | 30% | 1,400 / 1,800 / no equivalent |")
    # JoeyNMT not installed: its transformer counterpart exists but was not measured
    assert "not measured" in train_throughput.preset_row("transformer", ours, peaks)
    assert "no equivalent" not in train_throughput.preset_row("transformer", ours, peaks)


# ---- the equal-budget quality benchmark against JoeyNMT: everything but the training itself -------------------

JOEYNMT_LOG = """\
2026-01-15 12:00:00,000 - INFO - joeynmt.model - Total params: 9626624
2026-01-15 12:00:05,500 - INFO - joeynmt.training - EPOCH 1
2026-01-15 12:01:05,500 - INFO - joeynmt.prediction - Evaluation result (greedy): bleu:   3.10, loss: 5.1, 2.0[sec]
2026-01-15 12:01:30,000 - INFO - joeynmt.training - EPOCH 2
2026-01-15 12:02:35,500 - INFO - joeynmt.prediction - Evaluation result (greedy): bleu:  12.50, loss: 4.0, 2.0[sec]
2026-01-15 12:04:05,500 - INFO - joeynmt.prediction - Evaluation result (greedy): bleu:  14.00, loss: 3.9, 2.0[sec]
"""
# the third validation is logged but not yet reported: its checkpoint may still be being written
JOEYNMT_VALIDATIONS = (
    "Steps: 100\tloss: 5.1\tbleu: 3.10123\tLR: 0.0005\t*\n"
    "Steps: 200\tloss: 4.0\tbleu: 12.50456\tLR: 0.0007\t*\n"
)


def test_joeynmt_curve_times_finished_validations_from_the_start_of_its_training_loop():
    assert joeynmt_curve(JOEYNMT_LOG, JOEYNMT_VALIDATIONS) == [
        ValidationPoint(60.0, 100, 3.10123), ValidationPoint(150.0, 200, 12.50456)
    ]
    assert joeynmt_curve("2026-01-15 12:00:00,000 - INFO - joeynmt.model - Total params: 5\n", "") == []
    assert joeynmt_parameters(JOEYNMT_LOG) == 9626624


def test_ours_curve_and_the_first_validation_reaching_a_score(tmp_path):
    metrics = tmp_path / "metrics.jsonl"
    records = [{"kind": "train", "step": 20, "loss": 5.0}, {"kind": "valid", "step": 60, "bleu": 11.0, "elapsed_s": 90.0},
               {"kind": "valid", "step": 120, "bleu": 13.0, "elapsed_s": 181.5}]
    metrics.write_text("".join(json.dumps(r) + "\n" for r in records) + '{"kind": "valid", "st')  # cut short by a kill
    curve = ours_curve(metrics)
    assert curve == [ValidationPoint(90.0, 60, 11.0), ValidationPoint(181.5, 120, 13.0)]
    assert first_reaching(curve, 12.5) == curve[1]
    assert first_reaching(curve, 11.0) == curve[0]
    assert first_reaching(curve, 13.5) is None


def test_quality_table_rows_score_both_outputs_alike_and_time_ours_to_joeynmts_last_score(tmp_path):
    references = ["a man rides a red bike .", "two dogs play in the snow .", "a woman is reading a book ."]
    (tmp_path / "ours.txt").write_text("a man rides a red bike .\ntwo dogs play in snow .\na woman reads a book .\n")
    (tmp_path / "joey.txt").write_text("a man rides a bike .\ndogs play in the snow .\na woman is reading .\n")
    ours = quality_vs_joeynmt.ToolkitResult("seq2seq", "bf16", 9_626_624, [
        ValidationPoint(120, 60, 10.0), ValidationPoint(240, 120, 15.0), ValidationPoint(300, 150, 14.0)
    ], tmp_path / "ours.txt")
    joey = quality_vs_joeynmt.ToolkitResult("JoeyNMT", "fp32", 9_626_624, [
        ValidationPoint(200, 50, 8.0), ValidationPoint(330, 100, 12.0)
    ], tmp_path / "joey.txt")
    rows, timing, scores = quality_vs_joeynmt.preset_rows("transformer", (ours, joey), references)
    assert rows[0].startswith("| transformer | seq2seq | bf16 | 9.63 M | 150 | 5.0 | 14.00 | 15.00 (4.0 min) | ")
    assert rows[1].startswith("| transformer | JoeyNMT | fp32 | 9.63 M | 100 | 5.5 | 12.00 | 12.00 (5.5 min) | ")
    ours_bleu, joey_bleu = (float(row.split("|")[-3]) for row in rows)
    assert ours_bleu > joey_bleu
    assert timing == ["| transformer | 12.00 | 5.5 min (update 100) | 4.0 min (update 120) | 1.4× |"]
    assert scores["bleu_signature"].startswith("nrefs:1|case:mixed")
    slower = quality_vs_joeynmt.ToolkitResult("seq2seq", "bf16", 1, [ValidationPoint(300, 150, 11.0)], tmp_path / "ours.txt")
    assert "| not reached | – |" in quality_vs_joeynmt.preset_rows("transformer", (slower, joey), references)[1][0]


def tiny_multi30k(root: Path) -> Path:
    """Multi30k's layout with a few hundred made-up pairs, enough for a subword model and a few batches."""
    root.mkdir()
    words = ["ein", "mann", "hund", "frau", "rot", "läuft", "spielt", "im", "park", "schnee", "kind", "ball"]
    english = ["a", "man", "dog", "woman", "red", "runs", "plays", "in", "park", "snow", "child", "ball"]
    for split, count in (("train", 300), ("val", 40), ("test_2016_flickr", 30)):
        rows = [[(i * 7 + j * 3) % len(words) for j in range(5 + i % 25)] for i in range(count)]
        (root / f"{split}.de").write_text("".join(" ".join(words[k] for k in row) + "\n" for row in rows))
        (root / f"{split}.en").write_text("".join(" ".join(english[k] for k in row) + " .\n" for row in rows))
    return root


@pytest.fixture(scope="module")
def joeynmt_setup(tmp_path_factory):
    """The shared data and JoeyNMT's configs for the transformer, as the benchmark prepares them."""
    work = tmp_path_factory.mktemp("quality")
    config = side_by_side.recipe("transformer")
    data = side_by_side.prepare_data(tiny_multi30k(work / "multi30k"), work, 200, config)
    train_config, test_config = side_by_side.write_joeynmt_configs("transformer", data, config, work)
    return data, config, yaml.safe_load(train_config.read_text()), yaml.safe_load(test_config.read_text())


def test_joeynmt_trains_with_our_recipe_subwords_and_validation_sentences(joeynmt_setup):
    data, config, joey, test = joeynmt_setup
    assert len(data.train) == 200  # --train-sentences
    training = joey["training"]
    assert (training["learning_rate"], training["learning_rate_warmup"], training["adam_betas"]) == (
        config.train.lr, config.train.warmup_steps, list(config.train.betas))
    assert (training["label_smoothing"], training["clip_grad_norm"], training["batch_size"]) == (
        config.train.label_smoothing, config.train.clip_norm, config.train.batch_tokens)
    assert training["validation_freq"] == side_by_side.updates_per_epoch(data, config) > 1
    for side in ("src", "trg"):
        assert Path(joey["data"][side]["tokenizer_cfg"]["model_file"]) == data.tokenizer.tgt_model
        vocabulary = Path(joey["data"][side]["voc_file"]).read_text(encoding="utf-8").splitlines()
        assert vocabulary == [data.tokenizer.tgt.id_to_piece(i) for i in range(data.tokenizer.tgt_vocab_size)]
    assert Path(joey["data"]["dev"] + ".en").read_text().splitlines() == (data.root / "val.en").read_text().splitlines()[
        :config.train.valid_max_sentences]
    assert "dev" not in test["data"] and test["testing"]["beam_size"] == 5
    command = side_by_side.ours_command("transformer", data, Path("RUN"), 30, "fp32")
    assert f"tokenizer.cache_dir={data.tokenizer_cache}" in command and "train.max_minutes=30" in command


@pytest.mark.skipif(not JOEYNMT_PYTHON.exists(),
                    reason=f"no JoeyNMT environment at {JOEYNMT_PYTHON} (benchmarks/setup_joeynmt.sh makes one)")
def test_joeynmt_reads_the_config_and_splits_sentences_into_our_subwords(joeynmt_setup, tmp_path):
    data, _, joey, _ = joeynmt_setup
    config = tmp_path / "joeynmt.yaml"
    config.write_text(yaml.safe_dump(joey))
    sentence = (data.root / "val.de").read_text().splitlines()[0]
    probe = (
        "import sys, yaml\n"
        "from joeynmt.config import parse_global_args\n"
        "from joeynmt.data import load_data\n"
        "args = parse_global_args(yaml.safe_load(open(sys.argv[1])), mode='train')\n"
        "src_vocab, _, train, _, _ = load_data(args.data, datasets=['train'])\n"
        "print(len(src_vocab), ' '.join(train.tokenizer['de'](sys.argv[2])))\n"
    )
    done = subprocess.run([str(JOEYNMT_PYTHON), "-c", probe, str(config), sentence], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    size, pieces = done.stdout.strip().splitlines()[-1].split(" ", 1)
    assert int(size) == data.tokenizer.tgt_vocab_size
    assert pieces == " ".join(data.tokenizer.src_pieces(sentence))


def test_quality_report_names_the_command_settings_and_every_row(joeynmt_setup, tmp_path):
    data, config, _, _ = joeynmt_setup
    references = (data.root / "test_2016_flickr.en").read_text().splitlines()
    (tmp_path / "hypotheses.txt").write_text("".join(line + "\n" for line in references))
    curve = [ValidationPoint(60, 10, 5.0), ValidationPoint(120, 20, 9.0)]
    ours, joey = (quality_vs_joeynmt.ToolkitResult(toolkit, precision, 9_626_624, curve, tmp_path / "hypotheses.txt")
                  for toolkit, precision in (("seq2seq", "bf16"), ("JoeyNMT", "fp32")))
    args = quality_vs_joeynmt.options(["--minutes", "2", "--presets", "transformer", "--train-sentences", "200"])
    command = "python benchmarks/quality_vs_joeynmt.py --minutes 2 --presets transformer --train-sentences 200"
    lines = quality_vs_joeynmt.report(args, config, data, {"transformer": (ours, joey)}, command, 0.5)
    assert f"Command: `{command}`" in lines
    budget = next(line for line in lines if line.startswith("Budget: 2 minutes"))
    assert "200 training pairs (the first ones only: a smoke test)" in budget
    assert f"batches of {config.train.batch_tokens:,} padded tokens" in budget and "beam 5" in budget
    assert [line for line in lines if line.startswith("| transformer |")] == [
        "| transformer | seq2seq | bf16 | 9.63 M | 20 | 2.0 | 9.00 | 9.00 (2.0 min) | 100.00 | 100.00 |",
        "| transformer | JoeyNMT | fp32 | 9.63 M | 20 | 2.0 | 9.00 | 9.00 (2.0 min) | 100.00 | 100.00 |",
        "| transformer | 9.00 | 2.0 min (update 20) | 2.0 min (update 20) | 1.0× |",
    ]
    assert "- transformer, JoeyNMT: 1.0: 5.00, 2.0: 9.00" in lines and lines[-1] == quality_vs_joeynmt.CAVEATS
