"""Side-by-side comparison of trained runs on one split: the table behind `seq2seq-compare`.

Every run is scored on the baseline's buckets and bootstrap settings, so rows are comparable, and
each difference from the baseline gets a paired test (see `scoring.significance.paired_scores`).
Runs that decoded the split differently are refused unless asked for (see `reporting.decodings`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from hydra.utils import instantiate
from omegaconf import OmegaConf

from seq2seq.data.tokenizer import Tokenizer
from seq2seq.errors import UserError
from seq2seq.config import build_from_config, test_split_names
from seq2seq.provenance import data_split, eval_arguments
from seq2seq.reporting.decodings import decoding_summary, one_decoding
from seq2seq.reporting.tables import SOURCE_BLIND
from seq2seq.run_dir import RunDir
from seq2seq.scoring.bootstrap import METRICS, BootstrapSettings
from seq2seq.scoring.buckets import BucketSettings, bucket_members, bucketed_lengths
from seq2seq.scoring.significance import MIN_TEST_SENTENCES, paired_scores


def read_hypotheses(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def load_for_comparison(paths: list[Path], split: str | None, names: list[str] | None = None,
                        mixed_decodings: bool = False) -> tuple[str, dict[str, list[str]], Any, Any, dict[str, Any]]:
    """Each run's hypotheses for one split (a results.json key: `test`, or a re-decoding such as `test.beam5`),
    the (shared) source and reference texts they translate, the baseline's config and each run's recorded decoding.

    Runs are named by `names`, else by their directories' names (their paths where two names repeat).
    """
    if names is None:
        names = [path.resolve().name for path in paths]
        if len(set(names)) < len(names):
            names = [str(path) for path in paths]
    systems, texts, configs, decodings = {}, {}, [], {}
    for name, path in zip(names, paths):
        run = RunDir(path)
        if not Path(path).is_dir():
            raise UserError(f"{path}: no such directory")
        if not run.config.is_file():
            raise UserError(f"{path}: no config.yaml; is this a seq2seq-train run directory?")
        config = OmegaConf.load(run.config)
        configs.append(config)
        split = split or test_split_names(config)[0]
        hypotheses_path = run.hypotheses(split)
        if not hypotheses_path.is_file():
            raise UserError(f"{hypotheses_path} not found; run seq2seq-eval {path} {eval_arguments(split)} first")
        results = run.read_results()
        entry = results.splits.get(split) if results else None
        decodings[name] = (entry or {}).get("decoding")
        key = OmegaConf.to_yaml(config.data.corpus)
        if key not in texts:
            texts[key] = build_from_config("data.corpus", instantiate, config.data.corpus).load(data_split(split, entry))
        text, first = texts[key], next(iter(texts.values()))
        if (text.src, text.tgt) != (first.src, first.tgt):
            raise UserError(f"{path} was evaluated on different '{split}' data than {paths[0]}; compare runs on the same data")
        systems[name] = read_hypotheses(hypotheses_path)
        if len(systems[name]) != len(text):
            raise UserError(f"{hypotheses_path} has {len(systems[name])} lines but split '{split}' has {len(text)} sentences")
    one_decoding(split, decodings, mixed_decodings)
    return split, systems, next(iter(texts.values())), configs[0], decodings


def comparison_markdown(split: str, comparison: dict[str, Any], settings: Any, buckets: Any, edges: list[int],
                        decodings: dict[str, Any]) -> str:
    """The comparison as Markdown tables: each run's decoding, scores per (run, bucket), then each run's length
    sensitivity."""
    level = f"{settings.level:.0%}"
    star = f"p < {comparison['alpha']:g}"

    def score(row: dict[str, Any], metric: str) -> list[str]:
        if row[metric] is None:
            return ["-", "-", ""]
        mark = "*" if row[f"{metric}_significant"] else ""
        ci = row[f"{metric}_ci"]
        p = "" if row[f"{metric}_p"] is None else f"{row[f'{metric}_p']:.3f}"
        return [f"{row[metric]:.2f}{mark}", "-" if ci is None else f"[{ci[0]:.2f}, {ci[1]:.2f}]", p]

    lines = [
        f"# Comparison on split `{split}`", "",
        *decoding_summary({name: [decoding] for name, decoding in decodings.items()}),
        f"Buckets by source {buckets.unit} ({buckets.mode}; edges {', '.join(map(str, edges))}, last open). "
        f"{level} percentile bootstrap intervals ({settings.resamples} resamples, seed {settings.seed}). "
        f"p: paired {'bootstrap' if comparison['test'] == 'bs' else 'approximate randomization'} test against the "
        f"baseline `{comparison['baseline']}`; `*` marks {star} (uncorrected for multiple comparisons; buckets of "
        f"fewer than {MIN_TEST_SENTENCES} sentences are not tested). BLEU lc is lowercased BLEU (sacrebleu -lc), "
        "the scoring of published Multi30k baselines. hyp/ref length: output over reference length in BLEU's tokens "
        "(below 1: the model says less than the reference).", "",
        f"| run | bucket | count | hyp/ref length | BLEU | BLEU {level} CI | p | BLEU lc | BLEU lc {level} CI | p "
        f"| chrF | chrF {level} CI | p |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in comparison["rows"]:
        ratio = "-" if row.get("length_ratio") is None else f"{row['length_ratio']:.2f}"
        cells = [row["run"], row["bucket"], str(row["count"]), ratio,
                 *(cell for metric in METRICS for cell in score(row, metric))]
        lines.append("| " + " | ".join(cells) + " |")
    sensitivity = next(iter(comparison["length_sensitivity"].values()))
    lines += ["", f"Length sensitivity ({sensitivity['unit']}; {sensitivity['fit']}). Relative: the slope as a share "
              "of the model's own BLEU at the mean length, so that models of different quality compare. "
              f"Differences from the baseline `{comparison['baseline']}` (this run's slope minus the baseline's, "
              "negative: falls faster with length), with paired bootstrap intervals over the same resampled sentences:", "",
              f"| run | slope | slope {level} CI | relative slope | relative {level} CI | longest/shortest BLEU "
              f"| slope difference | {level} CI | relative difference | {level} CI |",
              "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for name, entry in comparison["length_sensitivity"].items():
        against = entry.get("against_baseline", {})
        cells = [_signed(entry["slope"], 3), _interval(entry["slope_ci"], 3),
                 _percent(entry.get("relative_slope")), _interval(entry.get("relative_slope_ci"), 2, 100, "%"),
                 "-" if entry["long_short_ratio"] is None else f"{entry['long_short_ratio']:.2f}",
                 _signed(against.get("slope_difference"), 3), _interval(against.get("slope_difference_ci"), 3),
                 _percent(against.get("relative_slope_difference")),
                 _interval(against.get("relative_slope_difference_ci"), 2, 100, "%")]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _signed(value: float | None, digits: int, scale: float = 1.0, suffix: str = "") -> str:
    return "-" if value is None else f"{value * scale:+.{digits}f}{suffix}"


def _percent(value: float | None) -> str:
    return _signed(value, 2, 100, "%")


def _interval(bounds: list[float] | None, digits: int, scale: float = 1.0, suffix: str = "") -> str:
    if bounds is None:
        return "-"
    return f"[{_signed(bounds[0], digits, scale, suffix)}, {_signed(bounds[1], digits, scale, suffix)}]"


SENSITIVITY_MEASURES = ("slope", "relative_slope", "slope_difference", "relative_slope_difference")
SENSITIVITY_COLUMNS = [*(f"{name}{part}" for name in SENSITIVITY_MEASURES for part in ("", "_low", "_high")),
                       "long_short_ratio"]


def sensitivity_record(entry: dict[str, Any]) -> dict[str, Any]:
    """A run's length sensitivity (and its difference from the baseline's, where it has one) as CSV columns."""
    values = {**entry, **entry.get("against_baseline", {})}
    record: dict[str, Any] = {"long_short_ratio": entry["long_short_ratio"]}
    for name in SENSITIVITY_MEASURES:
        record[name] = values.get(name)
        record[f"{name}_low"], record[f"{name}_high"] = values.get(f"{name}_ci") or (None, None)
    return record


def comparison_csv(comparison: dict[str, Any]) -> str:
    """One row per (run, bucket); the "all" row of each run also carries its length sensitivity."""
    columns = ["run", "bucket", "count", "length_ratio",
               *(f"{metric}{part}" for metric in METRICS for part in ("", "_low", "_high", "_p", "_significant")),
               *SENSITIVITY_COLUMNS]
    stream = io.StringIO()
    writer = csv.DictWriter(stream, columns, lineterminator="\n")
    writer.writeheader()
    for row in comparison["rows"]:
        record = {k: row[k] for k in columns if k in row}
        for metric in METRICS:
            record[f"{metric}_low"], record[f"{metric}_high"] = row[f"{metric}_ci"] or (None, None)
        if row["bucket"] == "all":
            record.update(sensitivity_record(comparison["length_sensitivity"][row["run"]]))
        writer.writerow(record)
    return stream.getvalue()


@dataclass
class Comparison:
    """Runs scored side by side on one split: their outputs, the shared texts, and the paired table."""

    split: str
    systems: dict[str, list[str]]      # run name -> hypotheses, the baseline first
    paths: dict[str, Path]             # run name -> run directory
    text: Any                          # the split's ParallelText (src, tgt)
    table: dict[str, Any]              # paired_scores(): rows per (run, bucket), p-values, length sensitivity
    settings: BootstrapSettings
    buckets: BucketSettings
    edges: list[int]
    members: list[np.ndarray]          # sentence indices of each length bucket, in the table's bucket order
    decodings: dict[str, Any]          # run name -> the decoding results.json records for the split (None: unknown)


def compare_runs(paths: list[Path], split: str | None, test: str, names: list[str] | None = None,
                 mixed_decodings: bool = False) -> Comparison:
    """Score runs (the first is the baseline; named by `names` if given) on `split` with the baseline's buckets
    and bootstrap settings; runs that decoded it differently only with `mixed_decodings`."""
    split, systems, text, config, decodings = load_for_comparison(paths, split, names, mixed_decodings)
    try:  # the baseline's evaluation settings decide the buckets and intervals for every run
        settings = BootstrapSettings.from_config(config.eval.get("bootstrap"))
        buckets = BucketSettings.from_config(config.eval.get("buckets"))
    except ValueError as error:
        raise UserError(f"{RunDir(paths[0]).config}: eval.{error}") from None
    subwords = None
    if buckets.unit == "subwords":
        subwords = [len(ids) for ids in Tokenizer.load(RunDir(paths[0]).tokenizer).encode_src(text.src)]
    lengths, edges = bucketed_lengths(text.src, list(config.eval.bucket_edges), buckets, subwords)
    table = paired_scores(systems, text.tgt, lengths, edges, settings, test, unit=buckets.unit)
    return Comparison(split, systems, dict(zip(systems, paths)), text, table, settings, buckets, edges,
                      bucket_members(lengths, edges), decodings)


def comparison_tables(comparison: Comparison) -> tuple[str, str]:
    """The comparison's Markdown (with the probe's contrastive test, where measured) and CSV tables."""
    markdown = comparison_markdown(comparison.split, comparison.table, comparison.settings, comparison.buckets,
                                   comparison.edges, comparison.decodings)
    return markdown + contrastive_markdown(comparison.split, comparison.paths), comparison_csv(comparison.table)


def contrastive_markdown(split: str, runs: dict[str, Path]) -> str:
    """The probe's contrastive verb test of each run, side by side, from its results.json ("" when none measured it).

    Accuracies with their bootstrap intervals; results.json keeps no per-item scores, so no paired test.
    """
    tests = {}
    for name, path in runs.items():
        results = RunDir(path).read_results()
        entry = results.splits.get(split, {}) if results else {}
        if "contrastive" in entry:
            tests[name] = entry["contrastive"]
    if not tests:
        return ""
    level = f"{next(iter(tests.values()))['bootstrap']['level']:.0%}"
    lines = ["", "Contrastive verb test (the reference against a copy with the main verb swapped; chance 50%):", "",
             f"| run | kind | by | bucket | pairs | accuracy % | {level} CI |", "|---|---|---|---|--:|--:|--:|"]
    floors = [test["source_blind"] for test in tests.values() if "source_blind" in test]
    scorers = [(name, test["kinds"]) for name, test in tests.items()]
    if floors and all(floor == floors[0] for floor in floors):  # same data: one floor, scored without the source
        scorers.append((SOURCE_BLIND, floors[0]["kinds"]))
    for name, kinds in scorers:
        for kind, table in kinds.items():
            rows = [("all", table["overall"] | {"bucket": "all"})]
            rows += [(view, row) for view in ("distance", "length", "cell") for row in table.get(f"by_{view}", [])]
            for view, row in rows:
                accuracy = "-" if row["accuracy"] is None else f"{100 * row['accuracy']:.1f}"  # percent, as in the report
                ci = "-" if row.get("ci") is None else f"[{100 * row['ci'][0]:.1f}, {100 * row['ci'][1]:.1f}]"
                lines.append(f"| {name} | {kind} | {view} | {row['bucket']} | {row['count']} | {accuracy} | {ci} |")
    return "\n".join(lines) + "\n"
