"""Where each number of the documentation's prose (README.md and docs/*.md) comes from (see
seq2seq.reporting.quoted_numbers).

QUOTES: results, each phrase with the recorded file and the cell or setting every `{}` is read from.
FIXED: settings, citations and definitions that no run records, as phrases of the pages.
`python tests/readme_numbers.py` requotes every page: its quoted tables and the QUOTES' numbers, from the files.
"""

from __future__ import annotations

import csv
import math
import re
from datetime import datetime
from pathlib import Path
from typing import Callable, Sequence

from seq2seq.reporting.quoted_numbers import Value, cell_value, config_value, quote, report_value, requote_numbers, table_rows
from seq2seq.reporting.quoted_tables import markdown_tables, requote

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]  # the documentation
QUICK = "experiments/quick/report.csv"
PROBE = "experiments/context_loss/report.csv"
PROBE_RUNS = "experiments/context_loss/runs.csv"
PROBE_REPORT = "experiments/context_loss/report.md"
PROBE_30_50 = "experiments/context_loss/30_50/report.csv"
MULTI30K = "experiments/context_loss_multi30k/report.csv"
WMT_TED = "experiments/context_loss_wmt_ted_h200/report.csv"
WMT_TED_RUNS = [f"experiments/context_loss_wmt_ted_h200/{run}/config.yaml" for run in ("0_rnn", "1_rnn_attention", "2_transformer")]
DEBIAN_DOCS_EXPERIMENT = "seq2seq/conf/experiment/context_loss_debian_docs.yaml"
DEBIAN_DOCS_RECIPE = "seq2seq/conf/train/debian_docs.yaml"
DECODING = "benchmarks/results/decode_throughput.md"
PROFILE = "benchmarks/results/profile_decoding.md"
RATIO = "ours fp32 ÷ JoeyNMT fp32"
RNN_30, RNN_50 = "rnn train_max_words=30", "rnn train_max_words=50"
ATTENTION_30, ATTENTION_50 = "rnn_attention train_max_words=30", "rnn_attention train_max_words=50"


def whole(number: float) -> str:
    return f"{number:.0f}"


def rnn_factorial(cell: str | Sequence[str], reduce: Callable[[list[float]], float] | None = None) -> Value:
    """The plain RNN's attractor accuracy in one factorial cell (or `reduce` over several), in %, mean over seeds."""
    return report_value(PROBE, "factorial", "contrastive_attractor", "cell", cell, "rnn", reduce=reduce, scale=100,
                        fmt="{:.1f}")


def rnn_effect(effect: str, column: str = "mean") -> Value:
    """A factorial effect on the plain RNN's attractor accuracy, in points (report.csv: mean or sd over seeds)."""
    return report_value(PROBE, "factorial", "contrastive_attractor", "factorial", effect, "rnn", column=column,
                        scale=100, fmt="{:.1f}")


def effect_runs(effect: str, column: str, reduce: Callable[[list[float]], float], fmt: str,
                model: str = "rnn") -> Value:
    """`reduce` over a model's per-seed factorial `effect` on the attractor contrast: a column of runs.csv
    (`value`, `ci_low`, `ci_high`, in points), or the sign-flip p from report.md's per-run factorial table."""

    def compute(root: Path) -> str:
        if column == "p":  # the first per-run factorial table is the attractor kind's (CONTRAST_KINDS' order)
            tables = markdown_tables((root / PROBE_REPORT).read_text(encoding="utf-8"))
            number = next(n for n, table in enumerate(tables, 1) if "| effect | items |" in table[0])
            numbers = [float(row["p"]) for row in table_rows(root / PROBE_REPORT, number)
                       if (row["model"], row["effect"]) == (model, effect)]
        else:
            with open(root / PROBE_RUNS, encoding="utf-8", newline="") as stream:
                numbers = [100 * float(row[column]) for row in csv.DictReader(stream)
                           if (row["split"], row["measure"], row["view"], row["bucket"], row["model"])
                           == ("factorial", "contrastive_attractor", "factorial", effect, model)]
        return fmt.format(reduce(numbers))

    return Value(f"{PROBE_RUNS} / {PROBE_REPORT} (factorial, attractor, {effect}, per run, {model}: {column})", compute)


def updates(models: list[str], reduce=None) -> Value:
    return report_value(PROBE, "test", "train_updates", "all", "all", models, reduce=reduce, fmt="{:,.0f}")


def quick_minutes(root: Path) -> str:
    """Whole minutes from Hydra's first console line to the main job's last line (experiments/quick/README.md)."""
    first = re.search(r"\d\d:\d\d:\d\d", (root / "experiments/quick/console.log").read_text(encoding="utf-8")).group()
    last = re.search(r"\d\d:\d\d:\d\d", (root / "experiments/quick/main_job_end.txt").read_text(encoding="utf-8")).group()
    seconds = (datetime.strptime(last, "%H:%M:%S") - datetime.strptime(first, "%H:%M:%S")).total_seconds()
    return str(math.floor(seconds / 60))


def widest_pass_spread(root: Path) -> str:
    """The largest slowest ÷ fastest pass ratio in either decoding table."""
    column = "slowest ÷ fastest pass, ours fp32 / ours bf16 / JoeyNMT"
    cells = [row[column] for number in (1, 2) for row in table_rows(root / DECODING, number)]
    ratios = [float(n) for cell in cells for n in re.findall(r"\d+\.\d+", cell)]
    return f"{max(ratios):.2f}"


def decoding(number: int, preset: str, search: str) -> Value:
    return cell_value(DECODING, number, {"preset": preset, "search": search}, RATIO)


def tuning(run: str, decoding: str) -> Value:
    """The length ratio of one decoding in a recorded probe run's seq2seq-tune-search table."""
    return cell_value(f"experiments/context_loss/{run}/search_tuning/valid.beam5.md", 1, {"decoding": decoding},
                      "length ratio")


QUOTES = [
    quote("(about {} minutes in `.ci/run`", Value("experiments/quick/console.log to main_job_end.txt", quick_minutes)),
    quote("the plain RNN clears the bar ({} BLEU on 0–9 words, 95% CI {}–{}) and falls to {} BLEU at 30–39 words, "
          "where the attention RNN keeps {}.",
          *(report_value(QUICK, "test", "bleu", "length", "0-9", "rnn", column=column)
            for column in ("mean", "ci_low", "ci_high")),
          report_value(QUICK, "test", "bleu", "length", "30-39", "rnn"),
          report_value(QUICK, "test", "bleu", "length", "30-39", "rnn_attention")),
    quote("needs the recorded experiment below ({} to {} updates each)",
          updates(["rnn", "rnn_attention", "transformer"], min), updates(["rnn", "rnn_attention", "transformer"], max)),
    quote("({} updates for `rnn`, {} for the others)", updates(["rnn"]), updates(["rnn_attention", "transformer"])),
    quote("the plain RNN does not, even there ({}% at distance 0–4)",
          report_value(PROBE, "test", "contrastive_attractor", "distance", "0-4", "rnn", scale=100, fmt="{:.1f}")),
    quote("it keeps the main verb itself ({}% on the random contrast at distance 40–59)",
          report_value(PROBE, "test", "contrastive_random", "distance", "40-59", "rnn", scale=100, fmt="{:.1f}")),
    quote("its attractor accuracy is {}% near and {}% far with the attractor between subject and verb, {}% and {}% "
          "with it after the verb (mean over seeds).",
          *(rnn_factorial(cell) for cell in ("near-between", "far-between", "near-after", "far-after"))),
    quote("The main effect of distance is {} ± {} points, positive in every seed (from {} to {}); the sign-flip p "
          "is at most {} in two seeds and {} in the third.",
          rnn_effect("distance"), rnn_effect("distance", "std"),
          effect_runs("distance", "value", min, "{:+.1f}"), effect_runs("distance", "value", max, "{:+.1f}"),
          effect_runs("distance", "p", lambda ps: sorted(ps)[1], "{:.3g}"),
          effect_runs("distance", "p", max, "{:.3g}")),
    quote("An attractor between subject and verb costs it {} ± {} points more (after − between; from {} to {} by "
          "seed, p {} in one seed, at least {} in the others)",
          rnn_effect("attractor"), rnn_effect("attractor", "std"),
          effect_runs("attractor", "value", min, "{:+.1f}"), effect_runs("attractor", "value", max, "{:+.1f}"),
          effect_runs("attractor", "p", min, "{:.3g}"),
          effect_runs("attractor", "p", lambda ps: sorted(ps)[1], "{:.3g}")),
    quote("the two costs add: their interaction is {} ± {} points, its p at least {} in every seed.",
          rnn_effect("interaction"), rnn_effect("interaction", "std"),
          effect_runs("interaction", "p", min, "{:.3g}")),
    quote("On the `random` contrast it stays at {}% or more in every cell",
          report_value(PROBE, "factorial", "contrastive_random", "cell", None, "rnn", reduce=min, scale=100,
                       fmt="{:.1f}")),
    quote("The attention RNN stays at {}% or more on the attractor contrast in every cell",
          report_value(PROBE, "factorial", "contrastive_attractor", "cell", None, "rnn_attention", reduce=min, scale=100,
                       fmt="{:.1f}")),
    quote("The Transformer is at {}% or more in the other three cells and falls to {}% in the far cell with the "
          "attractor between (mean over seeds): its interaction of distance and attractor is {} ± {} points, from {} to "
          "{} by seed, with p {} in two seeds and {} in the third.",
          report_value(PROBE, "factorial", "contrastive_attractor", "cell", ["near-between", "near-after", "far-after"],
                       "transformer", reduce=min, scale=100, fmt="{:.1f}"),
          report_value(PROBE, "factorial", "contrastive_attractor", "cell", "far-between", "transformer", scale=100,
                       fmt="{:.1f}"),
          *(report_value(PROBE, "factorial", "contrastive_attractor", "factorial", "interaction", "transformer",
                         column=column, scale=100, fmt="{:.1f}") for column in ("mean", "std")),
          effect_runs("interaction", "value", min, "{:+.1f}", "transformer"),
          effect_runs("interaction", "value", max, "{:+.1f}", "transformer"),
          effect_runs("interaction", "p", lambda ps: sorted(ps)[1], "{:.3g}", "transformer"),
          effect_runs("interaction", "p", max, "{:.3g}", "transformer")),
    quote("the Transformer keeps the attractor at {}% or more up to distance 10–19 and falls to {}% at 40–59",
          report_value(PROBE, "test", "contrastive_attractor", "distance", ["0-4", "5-9", "10-19"], "transformer",
                       reduce=min, scale=100, fmt="{:.1f}"),
          report_value(PROBE, "test", "contrastive_attractor", "distance", "40-59", "transformer", scale=100, fmt="{:.1f}")),
    quote("its outputs shorter than greedy's (length ratio {} against {} for the plain RNN, {} against {} for the "
          "attention RNN, {} against {} for the Transformer)",
          *(tuning(run, decoding) for run in ("0_rnn", "3_rnn_attention", "6_transformer")
            for decoding in ("beam 5, length penalty 0.6", "greedy"))),
    quote("The plain RNN falls to at most {} BLEU at 20–29 words and to {}–{} at 60+",
          report_value(PROBE_30_50, "test", "bleu", "length", "20-29", [RNN_30, RNN_50], reduce=max, fmt=whole),
          *(report_value(PROBE_30_50, "test", "bleu", "length", "60+", [RNN_30, RNN_50], reduce=extreme, fmt=whole)
            for extreme in (min, max))),
    quote("The attention RNN trained up to 30 words keeps {} BLEU at 20–29 words, then falls beyond what it was "
          "trained on ({} at 50–59); trained up to 50 words it keeps {} BLEU or more at every length.",
          report_value(PROBE_30_50, "test", "bleu", "length", "20-29", ATTENTION_30, fmt=whole),
          report_value(PROBE_30_50, "test", "bleu", "length", "50-59", ATTENTION_30, fmt=whole),
          report_value(PROBE_30_50, "test", "bleu", "length", None, ATTENTION_50, reduce=min,
                       fmt=lambda bleu: str(math.floor(bleu)))),
    quote("are short: {} of its {} sentences have 20 or more words",
          report_value(MULTI30K, "test_2016_flickr", "bleu", "length", ["20-29", "30-39", "40-49", "50-59", "60+"],
                       "rnn", reduce=sum, column="count", fmt="{:,.0f}"),
          report_value(MULTI30K, "test_2016_flickr", "bleu", "all", "all", "rnn", column="count", fmt="{:,.0f}")),
    quote("for at most {} minutes each", config_value(WMT_TED_RUNS, "train.max_minutes")),
    quote("the models are weak: test BLEU {}, {} and {}.",
          *(report_value(WMT_TED, "test", "bleu", "all", "all", model) for model in ("rnn", "rnn_attention", "transformer"))),
    quote("the plain RNN sits at a floor near {} BLEU", report_value(WMT_TED, "long", "bleu", "all", "all", "rnn", fmt="{:.1f}")),
    quote("{} of the reference's length at 75+ words",
          cell_value("experiments/context_loss_wmt_ted_h200/paired_long/comparison.md", 1,
                     {"run": "2_transformer", "bucket": "75+"}, "hyp/ref length")),
    quote("It trained on pairs of at most {} subwords", config_value(WMT_TED_RUNS[2], "train.max_len")),
    quote("decodes `test` with beam {}", config_value(DEBIAN_DOCS_EXPERIMENT, "eval.beam_size")),
    quote("training validates and saves every {} updates", config_value(DEBIAN_DOCS_RECIPE, "valid_every")),
    quote("The Transformer decodes {}× JoeyNMT's speed greedy and {}× with beam 5.",
          decoding(1, "transformer", "greedy"), decoding(1, "transformer", "beam 5")),
    quote("The attention RNN decodes {}× greedy and {}× with beam 5.",
          decoding(1, "rnn_attention", "greedy"), decoding(1, "rnn_attention", "beam 5")),
    quote("matrix products take {}% of the profiled self time and ran at {}% of the matmul peak",
          cell_value(PROFILE, 2, {"preset": "rnn_attention", "search": "beam 5"}, "share of all self time"),
          cell_value(PROFILE, 2, {"preset": "rnn_attention", "search": "beam 5"}, "% of the fp32 matmul peak")),
    quote("sigmoid takes {}%.", cell_value(PROFILE, 1, {"preset": "rnn_attention", "search": "beam 5",
                                                        "operator": "`aten::sigmoid_`"}, "share of all self time")),
    quote("attention RNN decodes {}× greedy and {}× with beam 5, the Transformer {}× and {}×.",
          decoding(2, "rnn_attention", "greedy"), decoding(2, "rnn_attention", "beam 5"),
          decoding(2, "transformer", "greedy"), decoding(2, "transformer", "beam 5")),
    quote("(up to {} in this record)", Value(f"{DECODING} tables 1-2, the largest slowest ÷ fastest pass", widest_pass_spread)),
]

FIXED = [
    # the main job's budget and its promise (conf/experiment/quick.yaml; the machine)
    "(at most 5,000 updates or 8 minutes of training per model", "ends within 10 minutes on a 2-core CPU",
    "(60% of training pairs of 4–9 words)",
    # the probe's design and recipe (conf/data/probe.yaml, conf/train/probe.yaml, conf/sizes/probe_*.yaml)
    "(issue 14;", "60,000 training pairs of 4–60 German words", "40% of 4–9 words, 30% of 10–19)",
    "3,000 updates of 1,024-token batches, constant learning rate 3·10⁻³", "the RNNs have 256-unit states",
    "d_model 128 with 2+2 layers", "The plain RNN alone gets 5,000 updates", "at 3,000 it was still learning",
    "follows Sennrich (2017)", "(a tie counts ½)", "simultaneous 95% intervals", "bands of five lengths", "such as a distance of 20 in a 15-word sentence",
    "with its count, 0 included", "sentences of up to 30 or 50 words",
    "(chance 50)",
    # the factorial split's design (seq2seq/data/probe/factorial.py, conf/data/probe.yaml)
    "(agreement attraction, Linzen, Dupoux & Goldberg 2016)", "S A R V O B…B C | 9 |", "S A C V O R B…B | 9 |",
    "S B…B A R V O C | 9 + fillers |", "S B…B A C V O R | 9 + fillers |", "\\|O\\| + 4 words on", "(default 2) verb-free",
    "the floor holds 50% in every cell", "+ 2 prepositional phrases", "`data.corpus.max_pp_chain` (default 2)",
    "to 30 or up to 50 German words and tested on all lengths",
    # the calibration bar that tests/test_readme_results.py checks against report.csv
    "(80 BLEU on 0–9 words and 90% on the `random` contrast at distance 0–4;",
    "Every preset has at least 80 BLEU on 0–9 words and at least 90% on the `random` contrast at distance 0–4",
    "at least 90% on the attractor contrast at distance 0–4", "from distance 20–29 on",
    # how the probe's results were made and read: bucket names, the protocol, the figure
    "project's 2-core CPU, which has no native bf16", "With a penalty of 1.5 or 2, beam 5 scores", "where the main job once found beam 5 below greedy",
    "beam 5 with the default length penalty 0.6 stops early", "of its 300 items the four cells are the same sentence",
    "paired over the 300 items, in accuracy points", "Linzen, Dupoux & Goldberg (2016)", "95% bootstrap interval. BLEU by German source length",
    "probe sentences of up to 30 or up to 50 German words", "BLEU with its 95% bootstrap interval", "-30 and -50",
    "The shape of the paper's Figure 2.", "whether it saw sentences of up to 30 or of up to 50 words",
    # Multi30k and wmt_ted recipes (conf/train/multi30k.yaml, wmt_ted.yaml, experiment/context_loss_*.yaml)
    "trains for 60 minutes of wall time on one core", "2,048-token batches, peak learning rate 2e-3, 3e-3 for the RNN presets",
    "3-hour session of one core holds, with 2,048-token batches and validation every 500 updates", "this project's 2-core CPU, decoded with beam 5",
    "Within the 60 minutes", "each 95% bootstrap interval", "JoeyNMT 2.3.0", "trained side by side for 20 minutes",
    "are decoded with beam 5", "with 95% bootstrap intervals",
    "then decoded with beam 5 on `test`", "(BLEU by source length, 95% bootstrap intervals)",
    "Bahdanau et al.'s -30/-50", "Multi30k (60 minutes of training each, beam 5)",
    # how the code behaves and what it records
    "only rank 0 writes them", "beam size 1 is exactly greedy decoding", "(1.5 × + 10)", "(1024 subwords",
    "`max_positions` − 1 subwords", "records 95% percentile bootstrap intervals (Koehn 2004)", "below 1 where a model",
    "p < 0.05", "Bahdanau et al. 2014, Fig. 2", "with 95% intervals and paired bootstrap", "(Neubig et al. 2019)",
    "a 2-core AMD EPYC", "Each preset trained 30 minutes on Multi30k", "2·sigmoid(2x)", "its beam-5 time",
    "this shared 2-core machine", "beam-5 decoding of the trained checkpoints", "a 2048² product",
    "a share near or above 100%", "rank 0 alone writes", "UTF-8, plain or `.gz`", "RNNencdec-30/-50",
    "(Cho et al. 2014)", "(Bahdanau et al. 2014)", "exit status 2", "is UTF-16: re-encode it as UTF-8",
    "tensors of up to 1 GiB", "up to 1 GiB of freed memory", "(2,000 subwords, one 10,000-character token",
    "after Sutskever et al. 2014", "Bahdanau's and Luong et al. 2015's",  # citations
    # short-sentence parity (seq2seq/reporting/parity.py: PARITY_BAR, SHORT_BUCKET), a definition
    "start with the 0–14-word segments", "on 0–14 source words every preset must reach 70% of the best",
]


if __name__ == "__main__":
    for page in PAGES:
        page.write_text(requote_numbers(requote(page.read_text(encoding="utf-8"), ROOT), QUOTES, ROOT), encoding="utf-8")
