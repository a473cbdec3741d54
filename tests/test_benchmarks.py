"""The benchmarks' own code: the throughput worker times the real code on the work it claims to time, and the
quality benchmark gives JoeyNMT our recipe, subwords and validation sentences, and reads and tabulates both runs."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from unittest import mock

import pytest
import torch
import yaml

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"
WORKER = BENCHMARKS / "ours_worker.py"

sys.path.insert(0, str(BENCHMARKS))  # the benchmarks import each other as top-level modules
import decode_throughput  # noqa: E402
import levers  # noqa: E402
import ours_worker  # noqa: E402
import quality_vs_joeynmt  # noqa: E402
import real_tokens  # noqa: E402
import side_by_side  # noqa: E402
import train_throughput  # noqa: E402
import training_logs  # noqa: E402
import variant_throughput  # noqa: E402
import harness  # noqa: E402
import machine  # noqa: E402
from harness import DEFAULT_JOEYNMT_PYTHON as JOEYNMT_PYTHON  # noqa: E402
from joeynmt_config import PRESETS as JOEYNMT_PRESETS  # noqa: E402
from trained_models import check_same_ids  # noqa: E402
from training_logs import ValidationPoint, first_reaching, joeynmt_curve, joeynmt_parameters, ours_curve  # noqa: E402
from workload import build_workload, save_workload  # noqa: E402

from seq2seq.data.batching import Example, collate, make_examples  # noqa: E402
from seq2seq.data.tokenizer import Tokenizer  # noqa: E402
from seq2seq.decoding import beam_search, greedy_search  # noqa: E402
from seq2seq.models.attention import AdditiveAttention  # noqa: E402
from seq2seq.models.encoder_decoder import build_model  # noqa: E402
from seq2seq.models.interfaces import Memory  # noqa: E402


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
        ours = {preset: ours_worker.train(argparse.Namespace(preset=preset, overrides=None, precision="fp32", warmup=0), workload)
                for preset in JOEYNMT_PRESETS}
    finally:
        torch.set_num_threads(threads)
    stdout, stderr = joeynmt.communicate()
    assert joeynmt.returncode == 0, stderr[-2000:]
    joey = json.loads(stdout.strip().splitlines()[-1])
    for preset in JOEYNMT_PRESETS:
        assert joey[preset]["tokens"] == ours[preset]["tokens"] == 8 * 14  # targets with EOS
        assert joey[preset]["mflop_per_token"] == pytest.approx(ours[preset]["mflop_per_token"], rel=0.05), preset


def timed(tokens: int, seconds: float, mflop_per_token: float, parameters: int, peak_rss_mib: float,
          rounds: tuple[float, ...] = (0.9, 1.0, 1.2)) -> dict:
    """A combined result (`harness.median_round`) whose rounds took `seconds` times each of `rounds`."""
    return {"tokens": tokens, "seconds": seconds, "flops": mflop_per_token * 1e6 * tokens,
            "mflop_per_token": mflop_per_token, "parameters": parameters, "peak_rss_mib": peak_rss_mib,
            "round_seconds": [seconds * factor for factor in rounds]}


def test_training_table_compares_equal_precisions_and_gives_rnn_no_joeynmt_twin():
    peaks = {"fp32": 100e9, "bf16": 400e9}
    ours = {("seq2seq", "fp32"): timed(3_000, 2.0, 40.0, 10_026_560, 1_400),  # 1,500 tok/s, 60 GFLOP/s
            ("seq2seq", "bf16"): timed(3_000, 1.0, 40.0, 10_026_560, 1_800)}  # 3,000 tok/s, 120 GFLOP/s
    joey = {("JoeyNMT", "fp32"): timed(2_000, 2.0, 41.0, 10_025_344, 2_100, (1.0, 1.0, 1.0))}  # 1,000 tok/s, 41 GFLOP/s

    cells = train_throughput.preset_row("rnn_attention", {**joey, **ours}, peaks).split(" | ")
    header = train_throughput.HEADER.split(" | ")
    row = dict(zip(header, cells))
    assert len(cells) == len(header) == train_throughput.ALIGNMENT.count("|") - 1
    assert row["JoeyNMT counterpart"] == "bi-GRU 2×256, GRU decoder 384, Bahdanau attention, input feeding"
    assert row["MFLOP per target token, ours / JoeyNMT"] == "40.0 / 41.0"
    assert (row["fp32 tok/s, ours"], row["fp32 tok/s, JoeyNMT"]) == ("1,500", "1,000")
    # fp32 over fp32, not our bf16's 3.00×; round by round 1.5 / 0.9, 1.5 / 1.0 and 1.5 / 1.2
    assert row["ours fp32 ÷ JoeyNMT fp32 (range)"] == "1.50× (1.25–1.67)"
    assert row["fp32 % of fp32 matmul peak, ours / JoeyNMT"] == "60% / 41%"
    assert (row["bf16 tok/s, ours"], row["ours bf16 ÷ ours fp32 (range)"], row["ours bf16 % of bf16 matmul peak"]) == (
        "3,000", "2.00× (2.00–2.00)", "30%")
    assert row["parameters, ours / JoeyNMT"] == "10.03 M / 10.03 M"

    rnn = train_throughput.preset_row("rnn", ours, peaks)
    assert rnn == ("| rnn | no equivalent | 10.03 M / no equivalent | 40.0 / no equivalent | 1,500 | no equivalent | "
                   "no equivalent | 60% / no equivalent | 3,000 | 2.00× (2.00–2.00) | 30% | 1,400 / 1,800 / no equivalent |")
    # JoeyNMT not installed: its transformer counterpart exists but was not measured
    assert "not measured" in train_throughput.preset_row("transformer", ours, peaks)
    assert "no equivalent" not in train_throughput.preset_row("transformer", ours, peaks)
    # a CPU without native bf16: no bf16 run, its cells say why
    fp32_only = train_throughput.preset_row("rnn", {("seq2seq", "fp32"): ours["seq2seq", "fp32"]}, {"fp32": 100e9})
    assert fp32_only.endswith("| no native bf16 | no native bf16 | no native bf16 | 1,400 / no native bf16 / no equivalent |")


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


def test_quality_table_rows_score_both_outputs_alike_and_time_ours_to_joeynmts_chosen_run(tmp_path):
    references = ["a man rides a red bike .", "two dogs play in the snow .", "a woman is reading a book ."]
    (tmp_path / "ours.txt").write_text("a man rides a red bike .\ntwo dogs play in snow .\na woman reads a book .\n")
    (tmp_path / "joey.txt").write_text("a man rides a bike .\ndogs play in the snow .\na woman is reading .\n")
    ours = quality_vs_joeynmt.ToolkitResult("seq2seq", "bf16", 9_626_624, [
        ValidationPoint(120, 60, 10.0), ValidationPoint(240, 120, 15.0), ValidationPoint(300, 150, 14.0)
    ], tmp_path / "ours.txt", 0.002)
    joey = quality_vs_joeynmt.ToolkitResult("JoeyNMT", "fp32", 9_626_624, [
        ValidationPoint(200, 50, 8.0), ValidationPoint(330, 100, 12.0)
    ], tmp_path / "joey.txt", 0.004)
    rejected = quality_vs_joeynmt.ToolkitResult("JoeyNMT", "fp32", 9_626_624, [ValidationPoint(310, 100, 7.0)], None, 0.001)
    rows, timing, scores = quality_vs_joeynmt.preset_rows("transformer", ours, [rejected, joey], references)
    assert rows[0].startswith("| transformer | seq2seq | 0.002 | bf16 | 9.63 M | 150 | 5.0 | 14.00 | 15.00 (4.0 min) | ")
    assert rows[1] == ("| transformer | JoeyNMT | 0.001 | fp32 | 9.63 M | 100 | 5.2 | 7.00 | 7.00 (5.2 min) | "
                       "not decoded | not decoded |")
    assert rows[2].startswith("| transformer | JoeyNMT | 0.004 | fp32 | 9.63 M | 100 | 5.5 | 12.00 | 12.00 (5.5 min) | ")
    ours_bleu, joey_bleu = (float(row.split("|")[-3]) for row in (rows[0], rows[2]))
    assert ours_bleu > joey_bleu
    assert timing == ["| transformer | 0.004 | 12.00 | 5.5 min (update 100) | 4.0 min (update 120) | 1.4× |"]
    assert scores["bleu_signature"].startswith("nrefs:1|case:mixed")
    slower = quality_vs_joeynmt.ToolkitResult("seq2seq", "bf16", 1, [ValidationPoint(300, 150, 11.0)], tmp_path / "ours.txt")
    assert "| not reached | – |" in quality_vs_joeynmt.preset_rows("transformer", slower, [joey], references)[1][0]


def test_joeynmts_sampler_replayed_closes_a_batch_once_rows_times_the_longest_reach_the_budget():
    # in order 0..5 (seed-free check through a sorted 'shuffle'): sizes 3,5,2,4,6,1 at a budget of 10:
    # [3,5] -> 2×5=10 closes; [2,4] -> 2×4=8, [2,4,6] -> 3×6=18 closes; [1] is left over and still a batch
    sizes = [3, 5, 2, 4, 6, 1]
    with mock.patch.object(real_tokens.random.Random, "shuffle", lambda self, order: None):
        assert real_tokens.joeynmt_batch_count(sizes, 10, seed=0) == 3
        assert real_tokens.joeynmt_batch_count(sizes, 100, seed=0) == 1


def test_equal_real_tokens_budget_gives_joeynmt_no_more_batches_than_ours_and_is_the_smallest_such():
    lengths = [(3 + (i * 7) % 40, 3 + (i * 11) % 45) for i in range(3000)]  # long and short pairs mixed
    examples = [Example(i, [5] * s, [6] * t) for i, (s, t) in enumerate(lengths)]
    ours = real_tokens.ours(examples, 512)
    budget = real_tokens.equal_real_tokens_budget(examples, 512)
    assert budget > 512  # random order pads more, so JoeyNMT needs a bigger budget for the same real tokens
    assert real_tokens.joeynmt(examples, budget).batches <= ours.batches < real_tokens.joeynmt(examples, budget - 1).batches
    assert real_tokens.joeynmt(examples, budget).real_per_batch >= ours.real_per_batch
    assert ours.target_tokens == sum(t + 1 for _, t in lengths)


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
    searched = side_by_side.JoeyNMTSettings(batch_tokens=3000, lr_factor=2, validations_per_epoch=2)
    work = side_by_side.fresh_directory(data.root.parent / "lr2")
    changed = yaml.safe_load(side_by_side.write_joeynmt_configs("transformer", data, config, work, searched)[0]
                             .read_text())["training"]
    assert (changed["batch_size"], changed["learning_rate"]) == (3000, 2 * config.train.lr)
    assert changed["validation_freq"] == round(side_by_side.updates_per_epoch(data, config) / 2)
    assert changed["learning_rate_warmup"] == config.train.warmup_steps
    assert changed["logging_freq"] == changed["validation_freq"]
    calibrating = side_by_side.JoeyNMTSettings(warmup_steps=77, logging_freq=10, validation_freq=10**9)
    work = side_by_side.fresh_directory(data.root.parent / "calibration")
    calibrated = yaml.safe_load(side_by_side.write_joeynmt_configs("transformer", data, config, work, calibrating)[0]
                                .read_text())["training"]
    assert (calibrated["learning_rate_warmup"], calibrated["logging_freq"], calibrated["validation_freq"]) == (
        77, 10, 10**9)
    for side in ("src", "trg"):
        assert Path(joey["data"][side]["tokenizer_cfg"]["model_file"]) == data.tokenizer.tgt_model
        vocabulary = Path(joey["data"][side]["voc_file"]).read_text(encoding="utf-8").splitlines()
        assert vocabulary == [data.tokenizer.tgt.id_to_piece(i) for i in range(data.tokenizer.tgt_vocab_size)]
    assert Path(joey["data"]["dev"] + ".en").read_text().splitlines() == (data.root / "val.en").read_text().splitlines()[
        :config.train.valid_max_sentences]
    assert "dev" not in test["data"] and test["testing"]["beam_size"] == 5
    command = side_by_side.ours_command("transformer", data, Path("RUN"), 30, "fp32")
    assert f"tokenizer.cache_dir={data.tokenizer_cache}" in command and "train.max_minutes=30" in command
    assert side_by_side.ours_command("transformer", data, Path("RUN"), 30, "fp32", ("train.progress_seconds=10",))[
        -1] == "train.progress_seconds=10"


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


def test_joeynmts_warmup_is_ours_scaled_by_its_update_rate_and_the_search_goes_on_beyond_an_edge():
    assert quality_vs_joeynmt.joeynmt_warmup(200, {"seq2seq": 0.9, "JoeyNMT": 0.3}) == 67
    assert quality_vs_joeynmt.joeynmt_warmup(200, {"seq2seq": 0.9, "JoeyNMT": 0.001}) == 1
    assert quality_vs_joeynmt.beyond_edge(2.0, [1.0, 0.5, 2.0]) == [4.0, 8.0]
    assert quality_vs_joeynmt.beyond_edge(0.5, [1.0, 0.5, 2.0]) == [0.25, 0.125]
    assert quality_vs_joeynmt.beyond_edge(4.0, [1.0, 0.5, 2.0, 4.0, 8.0]) == []


def test_update_rates_come_from_progress_lines_and_joeynmts_clock_from_its_training_loop():
    ours = ("[2026-12-07 12:57:56,000][seq2seq.training.trainer][INFO] - step 336 / 5,000 updates (epoch 1, 7%), ...\n"
            "[2026-12-07 12:58:06,000][HYDRA] an unrelated line\n"
            "[2026-12-07 12:58:56,000][0_rnn s1][seq2seq.training.trainer][INFO] - step 1,536 / 5,000 updates (epoch 2)\n")
    assert training_logs.update_rate(ours, "seq2seq") == 20.0
    joey = JOEYNMT_LOG + (
        "2026-01-15 12:05:00,000 - INFO - joeynmt.training - Epoch   2, Step:      210, Batch Loss:     3.1, Lr: 0.0007\n"
        "2026-01-15 12:05:40,000 - INFO - joeynmt.training - Epoch   2, Step:      230, Batch Loss:     3.0, Lr: 0.0007\n")
    assert training_logs.update_rate(joey, "JoeyNMT") == 0.5
    assert training_logs.update_rate(ours.splitlines()[0], "seq2seq") is None
    assert training_logs.joeynmt_training_seconds(JOEYNMT_LOG, datetime(2026, 1, 15, 12, 10, 5, 500000)) == 600.0
    assert training_logs.joeynmt_training_seconds("", datetime(2026, 1, 15)) is None


def test_joeynmt_is_stopped_when_its_training_clock_reaches_the_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(side_by_side, "POLL_SECONDS", 0.1)
    model = tmp_path / "joeynmt"
    fake = ("import datetime, pathlib, sys, time\n"
            "model = pathlib.Path(sys.argv[1]); model.mkdir()\n"
            "(model / 'best.ckpt').write_text('')\n"
            "start = datetime.datetime.now() - datetime.timedelta(seconds=float(sys.argv[2]))\n"
            "(model / 'train.log').write_text(start.strftime('%Y-%m-%d %H:%M:%S,000') + "
            "' - INFO - joeynmt.training - EPOCH 1\\n')\n"
            "time.sleep(60)\n")
    ours = side_by_side.Training("ours", [sys.executable, "-c", "pass"], tmp_path / "ours.log")
    started = time.monotonic()
    side_by_side.train_side_by_side(
        [ours, side_by_side.Training("JoeyNMT", [sys.executable, "-c", fake, str(model), "50"], tmp_path / "j.log", model)],
        budget_s=40)
    assert time.monotonic() - started < 30  # stopped at the budget on its own clock, not after its 60-second sleep
    with pytest.raises(RuntimeError, match="saved no checkpoint within the budget"):
        side_by_side.train_side_by_side([side_by_side.Training(
            "JoeyNMT", [sys.executable, "-c", fake.replace("(model / 'best.ckpt').write_text('')", ""),
                        str(tmp_path / "again"), "50"], tmp_path / "k.log", tmp_path / "again")], budget_s=40)


def test_quality_recipe_names_each_architectures_value_where_they_differ():
    assert quality_vs_joeynmt.per_preset({"rnn_attention": 0.003, "transformer": 0.002}) == \
        "0.003 (rnn_attention), 0.002 (transformer)"
    assert quality_vs_joeynmt.per_preset({"rnn_attention": 2048, "transformer": 2048}) == "2048"


def test_quality_report_names_the_command_settings_and_every_row(joeynmt_setup, tmp_path):
    data, config, _, _ = joeynmt_setup
    references = (data.root / "test_2016_flickr.en").read_text().splitlines()
    (tmp_path / "hypotheses.txt").write_text("".join(line + "\n" for line in references))
    curve = [ValidationPoint(60, 10, 5.0), ValidationPoint(120, 20, 9.0)]
    lr = config.train.lr
    ours, joey = (quality_vs_joeynmt.ToolkitResult(toolkit, precision, 9_626_624, curve, tmp_path / "hypotheses.txt", lr)
                  for toolkit, precision in (("seq2seq", "bf16"), ("JoeyNMT", "fp32")))
    command = "python benchmarks/quality_vs_joeynmt.py --minutes 2 --presets transformer --train-sentences 200"
    session = quality_vs_joeynmt.Session(command, 0.5, 2, ["transformer"], 200, 3000, 4, 180.0,
                                         {"transformer": [1.0, 0.5]}, {"transformer": {"seq2seq": 0.8, "JoeyNMT": 0.4}},
                                         {"transformer": 100})
    session.save(tmp_path)  # what --report-only reads back: the table of that run, not of the re-rendering command
    assert quality_vs_joeynmt.Session.load_from(tmp_path) == session
    lines = quality_vs_joeynmt.report(session, {"transformer": config}, data, {"transformer": (ours, [joey])})
    assert f"Command: `{command}`" in lines and "(load average 0.50 when it started)" in lines[2]
    budget = next(line for line in lines if line.startswith("Budget: 2 minutes"))
    assert "200 training pairs (the first ones only: a smoke test)" in budget
    assert f"batches of {config.train.batch_tokens:g} padded tokens" in budget and "beam 5" in budget
    assert f"peak learning rate of {lr:g}," in budget
    assert "(transformer: 1, 0.5 × ours, the best (1×) at an edge: not bracketed)" in budget
    warmup = next(line for line in lines if line.startswith("Warm-up, as a share"))
    assert "side by side for 180 seconds" in warmup
    assert (f"transformer: ours {config.train.warmup_steps:,} updates ({config.train.warmup_steps / 20:.0%} of the 20 it "
            "made), JoeyNMT 100 (500% of the 20 of its chosen run), from 0.800 against 0.400 updates a second") in warmup
    batches = next(line for line in lines if line.startswith("Batches: "))
    assert "JoeyNMT 3,000 padded tokens in random order" in batches and "4 times per our epoch" in batches
    assert [line for line in lines if line.startswith("| transformer |")] == [
        f"| transformer | seq2seq | {lr:g} | bf16 | 9.63 M | 20 | 2.0 | 9.00 | 9.00 (2.0 min) | 100.00 | 100.00 |",
        f"| transformer | JoeyNMT | {lr:g} | fp32 | 9.63 M | 20 | 2.0 | 9.00 | 9.00 (2.0 min) | 100.00 | 100.00 |",
        f"| transformer | {lr:g} | 9.00 | 2.0 min (update 20) | 2.0 min (update 20) | 1.0× |",
    ]
    assert f"- transformer, JoeyNMT at {lr:g}: 1.0: 5.00, 2.0: 9.00" in lines and lines[-1] == quality_vs_joeynmt.CAVEATS


# ---- decoding: the key/value cache's fair baseline, trained checkpoints, the decoding table ----------------------

def ends_some_outputs(output_layer: torch.nn.Module, inputs: tuple[torch.Tensor], logits: torch.Tensor) -> torch.Tensor:
    """A forward hook on the decoder's output layer that makes EOS win wherever the decoder's first feature exceeds
    its second by 1.6: untrained models (almost) never choose EOS; with this rule and seed, some outputs end early."""
    features = inputs[0]
    return logits + 1e4 * (features[..., 0] - features[..., 1] > 1.6).unsqueeze(-1) * (torch.arange(logits.size(-1)) == 3)


def never_ends(module: torch.nn.Module, inputs: tuple, logits: torch.Tensor) -> torch.Tensor:
    """A forward hook on the output layer that rules EOS out: every output runs to its length limit."""
    return logits - 1e4 * (torch.arange(logits.size(-1)) == 3)


@pytest.fixture
def one_thread():
    """Tiny models decode fastest on one thread, and many times slower on two of a busy machine's cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("preset", ["transformer", "rnn_attention"])
def test_the_caches_baseline_decodes_what_cached_greedy_search_decodes(preset, one_thread):
    torch.manual_seed(0)
    model = build_model(levers.preset_config(preset).model, 40, 40).eval()
    model.decoder.output.register_forward_hook(ends_some_outputs)
    sources = [[4 + (5 * i + 3 * j) % 36 for j in range(2 + i)] for i in range(8)]
    batch = collate(make_examples(sources, [[] for _ in sources]))
    cached = [h.tokens for h in greedy_search(model, batch.src, batch.src_mask, 1.5, 2)]
    assert levers.uncached_greedy(model, batch.src, batch.src_mask, 1.5, 2) == cached
    limits = [int((len(source) + 1) * 1.5) + 2 - 1 for source in sources]  # subwords before the forced EOS
    lengths = [len(tokens) for tokens in cached]
    # both ways an output ends are exercised: EOS chosen early (then padding while others go on), EOS forced
    assert any(n < limit for n, limit in zip(lengths, limits)) and any(n == limit for n, limit in zip(lengths, limits))


@pytest.mark.parametrize("preset", ["transformer", "rnn_attention"])
def test_the_search_levers_baseline_finds_what_beam_search_finds(preset, one_thread):
    """The baseline keeps finished sentences in the batch; beam_search drops them: same hypotheses and scores,
    whether sentences finish at their (different) length limits or, with EOS made likely, early."""
    torch.manual_seed(0)
    model = build_model(levers.preset_config(preset).model, 40, 40).eval()
    sources = [[4 + (5 * i + 3 * j) % 36 for j in range(2 + i)] for i in range(8)]
    batch = collate(make_examples(sources, [[] for _ in sources]))
    for ending_early in (False, True):
        hook = model.decoder.output.register_forward_hook(ends_some_outputs if ending_early else never_ends)
        kept = levers.beam_search_keeping_finished(model, batch.src, batch.src_mask, 3, 0.6, 1.5, 2)
        dropped = beam_search(model, batch.src, batch.src_mask, 3, 0.6, 1.5, 2)
        assert [[h.tokens for h in found] for found in kept] == [[h.tokens for h in found] for found in dropped]
        assert [found[0].score for found in kept] == pytest.approx([found[0].score for found in dropped], abs=1e-5)
        if not ending_early:  # every sentence runs to its own limit, so they leave the batch at different steps
            assert len({len(found[0].tokens) for found in dropped}) == len(sources)
        hook.remove()


def test_the_attention_levers_baseline_attends_as_additive_attention_does(one_thread):
    """The tanh baseline and the sigmoid form in blocks give the same weights, single step or whole sequence."""
    torch.manual_seed(0)
    module = AdditiveAttention(query_dim=5, key_dim=6, attention_dim=4)
    keys, values = torch.randn(3, 7, 6), torch.randn(3, 7, 6)
    mask = torch.tensor([[True] * 7, [True] * 4 + [False] * 3, [True] * 2 + [False] * 5])
    for query in (torch.randn(3, 5), torch.randn(3, 4, 5)):
        context, weights = levers.tanh_attention(module, query, module.project_keys(keys), values, mask)
        expected_context, expected_weights = module(query, module.project_keys(keys), values, mask)
        torch.testing.assert_close(weights, expected_weights, atol=1e-6, rtol=0)
        torch.testing.assert_close(context, expected_context, atol=1e-6, rtol=0)


@pytest.mark.parametrize("preset", ["rnn_attention", "transformer"])
def test_the_memory_levers_baseline_copies_memory_per_beam_and_finds_the_same_outputs(preset, one_thread):
    """Sources of different lengths stop at different steps, so the copies are selected again mid-search."""
    torch.manual_seed(0)
    model = build_model(levers.preset_config(preset).model, 40, 40).eval()
    batch = collate(make_examples([[5, 6, 7, 8, 9, 10], [7, 6], [5, 9, 8]], [[], [], []]))
    selections = []

    def recording(memory, beams):
        selections.append(levers.copied(memory, beams))
        return selections[-1]

    with mock.patch.object(Memory, "with_beams", recording):
        copies = levers.beam_5(model)(batch)
    assert [len(memory.mask) for memory in selections] == [15, 10, 5]  # 3 sentences, then 2, then 1, 5 rows each
    assert all(memory.beams == 1 for memory in selections)
    assert copies == levers.beam_5(model)(batch)


def test_ours_worker_decodes_a_trained_run_with_its_weights(tmp_path, one_thread):
    corpus = tiny_multi30k(tmp_path / "multi30k")
    cache = tmp_path / "tokenizer"
    workload = build_workload(corpus, cache, 512, 0, 4096, 30)  # the run below finds this subword model in `cache`
    run = tmp_path / "run"
    splits = {"train": "train", "valid": "val", "test": "test_2016_flickr"}
    files = [f"data.corpus.splits.{split}.{side}={corpus / name}.{lang}"
             for split, name in splits.items() for side, lang in (("src", "de"), ("tgt", "en"))]
    small = [f"model.{part}.{key}=32" for part, keys in (("encoder", ("hidden_size", "embedding_dim")),
             ("decoder", ("hidden_size", "embedding_dim", "attention_size"))) for key in keys]
    training = subprocess.run([str(side_by_side.SEQ2SEQ_TRAIN), "data=files", *files, "model=rnn_attention", *small,
                               "train=tiny", "train.max_epochs=1", "precision=fp32", "device=cpu", "threads=1",
                               f"tokenizer.cache_dir={cache}", f"hydra.run.dir={run}"], capture_output=True, text=True)
    assert training.returncode == 0, training.stderr[-2000:]

    def task(preset: str) -> argparse.Namespace:  # the worker's options, seq2seq-eval's output limits
        return argparse.Namespace(preset=preset, checkpoint=run, precision="fp32", beam=1, max_ratio=1.5, max_offset=10)

    decoded = ours_worker.decode(task("rnn_attention"), workload)
    tokenizer = Tokenizer.load(run / "tokenizer")
    outputs = {number: text for numbers, batch in zip(workload["decode_sentences"], decoded["outputs"])
               for number, text in zip(numbers, tokenizer.decode_tgt(batch))}
    # what the run's own evaluation wrote (greedy, fp32): the worker decoded the trained weights
    assert [outputs[n] for n in range(30)] == (run / "hypotheses" / "test.txt").read_text().splitlines()
    assert decoded["sentences"] == 30 and decoded["decoder_steps"] > 0

    with pytest.raises(SystemExit, match="a rnn_attention run, not transformer"):
        ours_worker.decode(task("transformer"), workload)


@pytest.mark.skipif(not JOEYNMT_PYTHON.exists(),
                    reason=f"no JoeyNMT environment at {JOEYNMT_PYTHON} (benchmarks/setup_joeynmt.sh makes one)")
def test_joeynmt_worker_decodes_a_saved_model_and_its_vocabulary_shares_our_ids(joeynmt_setup, tmp_path):
    data, _, joey, _ = joeynmt_setup
    workload = build_workload(data.root, data.tokenizer_cache, 512, 0, 48, 12)  # several batches, sorted by JoeyNMT
    assert len(workload["decode_batches"]) > 1
    path = tmp_path / "workload.json"
    save_workload(workload, path)
    model_dir = tmp_path / "joeynmt"
    model_dir.mkdir()
    (model_dir / "config.yaml").write_text(yaml.safe_dump(joey))  # as `joeynmt train` copies its config
    # a model directory as JoeyNMT's training leaves it (vocabularies saved by its own code, weights in
    # best.ckpt; seed 1, where the worker's fresh models have seed 0); that model's greedy outputs for the
    # workload's batches in their order, and the worker's decoding of the directory, in one process
    probe = (
        f"import json, sys, torch; sys.path.insert(0, {str(BENCHMARKS)!r})\n"
        "from argparse import Namespace\n"
        "from pathlib import Path\n"
        "from joeynmt.config import load_config, parse_global_args\n"
        "from joeynmt.data import load_data\n"
        "from joeynmt.model import build_model\n"
        "from joeynmt.search import search\n"
        "import joeynmt_worker\n"
        "torch.set_num_threads(1)\n"
        "model_dir, workload = Path(sys.argv[1]), json.load(open(sys.argv[2]))\n"
        "args = parse_global_args(load_config(model_dir / 'config.yaml'), mode='train')\n"
        "src_vocab, trg_vocab, _, _, _ = load_data(args.data, datasets=['train'])\n"
        "src_vocab.to_file(model_dir / 'src_vocab.txt'); trg_vocab.to_file(model_dir / 'trg_vocab.txt')\n"
        "torch.manual_seed(1)\n"
        "model = build_model(args.model, src_vocab, trg_vocab).eval()\n"
        "torch.save({'model_state': model.state_dict()}, model_dir / 'best.ckpt')\n"
        "rows = []\n"
        "for sources in workload['decode_batches']:\n"
        "    batch = joeynmt_worker.make_batch(sources, None)\n"
        "    with torch.no_grad():\n"
        "        output, _, _ = search(model, batch, int(batch.src_length.max()) + 1, beam_size=1, beam_alpha=0.6)\n"
        "    rows.append(output.tolist())\n"
        "task = Namespace(preset='transformer', checkpoint=model_dir, beam=1, max_ratio=1.0, max_offset=1)\n"
        "print(json.dumps({'direct': rows, 'worker': joeynmt_worker.decode(task, workload)}))\n"
    )
    done = subprocess.run([str(JOEYNMT_PYTHON), "-c", probe, str(model_dir), str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    expected = [[row[:row.index(3)] if 3 in row else row for row in rows] for rows in found["direct"]]  # to JoeyNMT's EOS
    assert all(0 not in row for rows in expected for row in rows)  # no UNK, whose id the worker translates
    decoded = found["worker"]
    assert decoded["outputs"] == expected
    assert decoded["decoder_steps"] == sum(len(sources[-1]) + 2 for sources in workload["decode_batches"])

    check_same_ids(model_dir, data.tokenizer)  # the ids JoeyNMT's vocabulary gives each subword are ours
    lines = (model_dir / "trg_vocab.txt").read_text(encoding="utf-8").splitlines()
    lines[5], lines[6] = lines[6], lines[5]
    (model_dir / "trg_vocab.txt").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    with pytest.raises(RuntimeError, match="trg_vocab.txt: not our subword model's pieces"):
        check_same_ids(model_dir, data.tokenizer)


def decode_result(sentences: int, seconds: float, steps: int, bleu: float, peak_rss_mib: float) -> dict:
    return {"sentences": sentences, "seconds": seconds, "decoder_steps": steps, "bleu": bleu, "peak_rss_mib": peak_rss_mib,
            "round_seconds": [seconds * 1.25, seconds]}


def test_rounds_give_the_median_time_every_rounds_time_and_the_highest_peak_memory():
    runs = [{"seconds": 7.0, "peak_rss_mib": 300, "outputs": "first"}, {"seconds": 5.0, "peak_rss_mib": 350, "outputs": "second"},
            {"seconds": 6.0, "peak_rss_mib": 320, "outputs": "third"}]
    combined = harness.median_round(runs)
    assert (combined["seconds"], combined["outputs"]) == (6.0, "third")
    assert (combined["peak_rss_mib"], combined["round_seconds"]) == (350, [7.0, 5.0, 6.0])
    assert harness.median_round(runs[:2])["seconds"] == 6.0  # an even count: the mean of the middle two


def test_ratios_pair_rounds_and_show_the_median_with_its_range():
    """A slow spell in round 2 slows the one toolkit measured in it; paired by round, it moves one ratio only."""
    ours = {"tokens": 100, "round_seconds": [1.0, 2.0, 1.0, 1.0, 1.0]}
    theirs = {"tokens": 100, "round_seconds": [1.5, 1.5, 1.6, 1.4, 1.5]}
    ratios = harness.round_ratios(ours, theirs, "tokens")
    assert ratios == pytest.approx([1.5, 0.75, 1.6, 1.4, 1.5])
    assert harness.ratio_cell(ratios) == "1.50× (0.75–1.60)"
    with pytest.raises(ValueError):  # rounds that do not pair up
        harness.round_ratios(ours, {**theirs, "round_seconds": [1.5]}, "tokens")


def sample(busy: float, own: float, wall: float, load: float) -> machine.CpuSample:
    return machine.CpuSample(busy, own, wall, (load, load, load))


def test_the_watch_counts_what_other_processes_ran_and_refuses_a_busy_machine():
    watch = machine.MachineWatch(sample(busy=100.0, own=10.0, wall=0.0, load=0.1))
    watch.stop(sample(busy=300.0, own=200.0, wall=100.0, load=1.9))  # 200 s busy, 190 of them ours
    assert watch.other_cores() == pytest.approx(0.1)
    assert watch.refusal(max_load=0.5, max_other_cores=0.2) is None
    assert "other processes kept 0.10 cores busy" in watch.refusal(max_load=0.5, max_other_cores=0.05)
    assert "load average was 0.10" in watch.refusal(max_load=0.05, max_other_cores=0.2)
    assert watch.lines()[0].startswith("Machine state: load average (1, 5, 15 min) 0.10, 0.10, 0.10 before")


def test_a_live_watch_counts_its_own_workers_as_its_own():
    watch = machine.MachineWatch()
    subprocess.run([sys.executable, "-c", "import time\nend = time.process_time() + 1.0\nwhile time.process_time() < end: pass"],
                   check=True)
    watch.stop()
    own = watch.after.own_seconds - watch.before.own_seconds
    busy = watch.after.busy_seconds - watch.before.busy_seconds
    assert own >= 1.0 and busy >= own - 0.05  # the machine's busy time holds the worker's second


def test_a_table_is_written_only_from_enough_rounds_on_an_idle_machine(tmp_path, capsys):
    lines = ["# table"]
    idle = machine.MachineWatch(sample(0.0, 0.0, 0.0, 0.0))
    idle.stop = lambda: setattr(idle, "after", sample(10.0, 10.0, 60.0, 1.0))  # noqa: E731  all of it ours
    options = argparse.Namespace(out=tmp_path / "table.md", rounds=3, max_load=0.5, max_other_cores=0.1)
    harness.record(options, list(lines), idle)
    assert not options.out.exists() and "a record needs --rounds 5 or more" in capsys.readouterr().err
    options.rounds = 5
    harness.record(options, list(lines), idle)
    assert options.out.read_text().startswith("# table\n\nMachine state: load average")
    busy = machine.MachineWatch(sample(0.0, 0.0, 0.0, 0.0))
    busy.stop = lambda: setattr(busy, "after", sample(70.0, 10.0, 60.0, 2.0))  # noqa: E731  another core's worth
    options.out = tmp_path / "refused.md"
    with pytest.raises(SystemExit, match="other processes kept 1.00 cores busy"):
        harness.record(options, list(lines), busy)
    assert not options.out.exists()


def test_decode_table_scores_outputs_in_sentence_order_and_compares_equal_precisions(joeynmt_setup):
    data = joeynmt_setup[0]
    workload = build_workload(data.root, data.tokenizer_cache, 512, 0, 48, 10)
    assert len(workload["decode_sentences"]) > 1  # batches sorted by length: not the file's order
    references = (data.root / "test_2016_flickr.en").read_text().splitlines()[:10]
    ids = data.tokenizer.encode_tgt(references)
    outputs = [[ids[number] for number in numbers] for numbers in workload["decode_sentences"]]
    result = {"sentences": 10, "seconds": 1.0, "outputs": outputs}
    assert decode_throughput.scored(result, workload, data, references)["bleu"] == pytest.approx(100)
    shifted = {**result, "outputs": [batch[1:] + batch[:1] for batch in outputs]}  # each batch's outputs misplaced
    assert decode_throughput.scored(shifted, workload, data, references)["bleu"] < 50

    runs = {decode_throughput.OURS_FP32: decode_result(1000, 4.0, 900, 35.1, 600),  # 250 sentences/s
            decode_throughput.OURS_BF16: decode_result(1000, 2.5, 905, 35.0, 650),  # 400 sentences/s
            decode_throughput.JOEYNMT: decode_result(1000, 10.0, 950, 34.2, 900)}  # 100 sentences/s
    header = decode_throughput.header(with_bleu=True)

    def cells(line: str) -> list[str]:
        return [cell.strip() for cell in line.strip("|").split("|")]

    row = dict(zip(cells(header[0]), cells(decode_throughput.table_row("transformer", "beam 5", runs, True))))
    assert len(row) == header[1].count("|") - 1
    assert row["ours fp32 ÷ JoeyNMT fp32 (range)"] == "2.50× (2.50–2.50)"  # fp32 over fp32, never our bf16's 4.00×
    assert (row["sentences/s, ours bf16"], row["ours bf16 ÷ ours fp32 (range)"]) == ("400.0", "1.60× (1.60–1.60)")
    assert row["decoder steps, ours fp32 / ours bf16 / JoeyNMT"] == "900 / 905 / 950"
    assert row["test BLEU, ours fp32 / ours bf16 / JoeyNMT"] == "35.10 / 35.00 / 34.20"
    assert row["slowest ÷ fastest pass, ours fp32 / ours bf16 / JoeyNMT"] == "1.25 / 1.25 / 1.25"

    ours = {key: runs[key] for key in (decode_throughput.OURS_FP32, decode_throughput.OURS_BF16)}
    rnn = decode_throughput.table_row("rnn", "greedy", ours, False)
    assert rnn == ("| rnn | greedy | 250.0 | no equivalent | no equivalent | 400.0 | 1.60× (1.60–1.60) | 900 / 905 / no equivalent | "
                   "600 / 650 / no equivalent | 1.25 / 1.25 / no equivalent |")
    assert "| not measured |" in decode_throughput.table_row("transformer", "greedy", ours, False)  # not installed
    fp32 = {key: runs[key] for key in (decode_throughput.OURS_FP32, decode_throughput.JOEYNMT)}  # a CPU without bf16
    assert decode_throughput.table_row("transformer", "greedy", fp32, False) == (
        "| transformer | greedy | 250.0 | 100.0 | 2.50× (2.50–2.50) | no native bf16 | no native bf16 | 900 / no native bf16 / 950 | "
        "600 / no native bf16 / 900 | 1.25 / no native bf16 / 1.25 |")


def test_the_loss_levers_baseline_is_the_same_loss_over_every_position(one_thread):
    """The lever changes only where the output layer runs, not the loss: both give the same number."""
    from seq2seq.training.trainer import batch_loss

    torch.manual_seed(0)
    model = build_model(levers.preset_config("transformer").model, 40, 40).eval()
    batch = collate(make_examples([[5, 6, 7], [7, 6], [5, 5, 6, 7]], [[8, 9, 10, 11, 12], [14], [16, 17]]))
    every = levers.loss_over_every_position(model, batch, 0.1)
    assert every.item() == pytest.approx(batch_loss(model, batch, 0.1).item(), rel=1e-6)


def test_the_encoder_levers_baseline_is_the_same_encoder_packed(one_thread):
    """The lever changes how the RNN encoder runs, not what it computes: packed and unpacked agree."""
    from seq2seq.models.rnn import run_over_lengths

    torch.manual_seed(0)
    encoder = build_model(levers.preset_config("rnn_attention").model, 40, 40).eval().encoder
    inputs, lengths = torch.randn(3, 6, encoder.rnn.input_size), torch.tensor([6, 2, 4])
    packed_outputs, packed_final = levers.packed_run(encoder.rnn, inputs, lengths)
    outputs, final = run_over_lengths(encoder.rnn, inputs, lengths)
    torch.testing.assert_close(outputs, packed_outputs)
    torch.testing.assert_close(final, packed_final)


@pytest.mark.parametrize("bf16", [False, True])
def test_toolkit_jobs_give_each_toolkit_its_own_checkpoint_and_skip_one_without(monkeypatch, bf16):
    """One builder serves both throughput scripts: untrained jobs run the task as given; trained ones add each
    toolkit's checkpoint, and a toolkit that trained none (or has no counterpart) gets no job."""
    monkeypatch.setattr(harness, "native_bf16", lambda: bf16)
    joey, task = Path("/joey/python"), ["decode", "--preset", "transformer", "--beam", "5"]
    ours_keys = [("seq2seq", "fp32"), ("seq2seq", "bf16")] if bf16 else [("seq2seq", "fp32")]
    untrained = harness.toolkit_jobs(joey, task)
    assert set(untrained) == {("JoeyNMT", "fp32"), *ours_keys}
    assert untrained[("JoeyNMT", "fp32")] == (joey, "joeynmt_worker.py", task)
    trained = harness.toolkit_jobs(joey, task, {"seq2seq": Path("runs/ours"), "JoeyNMT": Path("joey/model")})
    assert trained[("JoeyNMT", "fp32")][2] == [*task, "--checkpoint", "joey/model"]
    assert trained[("seq2seq", "fp32")][2] == [*task, "--checkpoint", "runs/ours", "--precision", "fp32"]
    assert set(harness.toolkit_jobs(joey, task, {"seq2seq": Path("runs/ours"), "JoeyNMT": None})) == set(ours_keys)
    assert set(harness.toolkit_jobs(joey, ["decode", "--preset", "rnn"])) == set(ours_keys)  # no JoeyNMT counterpart
    assert set(harness.toolkit_jobs(None, task)) == set(ours_keys)  # JoeyNMT not installed


def test_every_variant_is_timed_beside_the_plain_rnn_round_by_round():
    names = variant_throughput.variants()
    assert names[0] == "rnn" and len(names) == len(set(names)) == 11 and "decoder_only" in names
    assert variant_throughput.model_name("dot") == "rnn_attention_dot"
    trained = {**timed(2_000, 2.0, 8.0, 2_510_000, 480), "parameters": 2_510_000}
    base_trained = timed(3_000, 1.5, 8.5, 2_610_000, 470)
    decoded = {"sentences": 20, "seconds": 0.5, "round_seconds": [0.45, 0.5, 0.6], "peak_rss_mib": 310,
               "outputs": [[[5, 6, 7], [5, 6]], [[8]]]}
    base_decoded = {**decoded, "seconds": 1.0, "round_seconds": [0.9, 1.0, 1.2]}
    row = variant_throughput.variant_row("dot", "rnn_attention_dot", trained, decoded, (base_trained, base_decoded))
    assert row == ("| `dot` | rnn_attention_dot | 2.51 M | 8.0 | 1,000 | 0.50× (0.50–0.50) | 40.0 | 12 | "
                   "2.00× (2.00–2.00) | 480 / 310 |")
