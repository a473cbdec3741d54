"""Console entry points. User errors end in one line on stderr and exit status 2, never a traceback."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from seq2seq.errors import UserError
from seq2seq.rundir import write_text

log = logging.getLogger("seq2seq")


def fail(program: str, message: str) -> None:
    print(f"{program}: error: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def train(config: DictConfig) -> float | None:
    """seq2seq-train: train and evaluate one model per Hydra job (-m for a sweep)."""
    from seq2seq.runner import train_run

    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        results = train_run(config, run_dir)
    except (UserError, OmegaConfBaseException) as error:
        if HydraConfig.get().mode == RunMode.MULTIRUN:  # one bad job must not end the sweep
            log.error("%s", error)
            write_text(run_dir / "error.txt", f"{error}\n")
            return None
        fail("seq2seq-train", str(error))
    first_split = next(iter(results["splits"].values()))
    return first_split["bleu"]


def evaluate(argv: list[str] | None = None) -> None:
    """seq2seq-eval RUN_DIR|CHECKPOINT [split=NAME[,NAME]] [beam=K] [key=value ...]"""
    parser = argparse.ArgumentParser(
        prog="seq2seq-eval",
        description="Re-evaluate a trained run on any split without retraining; results go into the run directory.",
    )
    parser.add_argument("run", type=Path, help="a run directory (uses checkpoints/best.pt) or a checkpoint file")
    parser.add_argument("overrides", nargs="*", help="split=NAME[,NAME...], beam=K and config overrides such as data.root=DIR")
    args = parser.parse_args(argv)
    overrides = []
    for item in args.overrides:
        if "=" not in item:
            fail("seq2seq-eval", f"'{item}' is not key=value (e.g. split=test or data.root=DIR)")
        key, value = item.split("=", 1)
        shortcuts = {"split": f"eval.splits=[{value}]", "beam": f"eval.beam_size={value}"}
        overrides.append(shortcuts.get(key, item))
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from seq2seq.runner import evaluate_run

    try:
        evaluate_run(args.run, overrides)
    except (UserError, OmegaConfBaseException) as error:
        fail("seq2seq-eval", str(error))


def translate(argv: list[str] | None = None) -> None:
    """seq2seq-translate RUN_DIR|CHECKPOINT SENTENCE... [--input FILE] [--heatmaps DIR]"""
    parser = argparse.ArgumentParser(
        prog="seq2seq-translate",
        description="Translate sentences with a trained run; optionally save a heatmap of the decoder's attention per sentence.",
    )
    parser.add_argument("run", type=Path, help="a run directory (uses checkpoints/best.pt) or a checkpoint file")
    parser.add_argument("sentences", nargs="*", help="German sentences to translate")
    parser.add_argument("--input", type=Path, help="a file with one sentence per line ('-' for stdin)")
    parser.add_argument("--heatmaps", type=Path, help="directory for attention_NNN.png, one per sentence")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override, e.g. device=cpu")
    args = parser.parse_args(argv)
    from seq2seq.runner import open_run, translate_sentences

    try:
        sentences = list(args.sentences)
        if args.input:
            stream = sys.stdin if str(args.input) == "-" else args.input.open(encoding="utf-8")
            sentences += [line.strip() for line in stream if line.strip()]
        if not sentences:
            raise UserError("nothing to translate: give sentences as arguments or --input FILE")
        run = open_run(args.run, args.set)
        if args.heatmaps and not run.model.decoder.has_attention:
            print(
                f"note: model '{run.config.model.name}' has no attention to show: its decoder reads only the "
                "encoder's final summary vector",
                file=sys.stderr,
            )
        for output in translate_sentences(run, sentences, args.heatmaps):
            print(output)
    except (UserError, OmegaConfBaseException, OSError) as error:
        fail("seq2seq-translate", str(error))


def read_hypotheses(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def load_for_comparison(paths: list[Path], split: str | None) -> tuple[str, dict[str, list[str]], Any, Any]:
    """Each run's hypotheses for one split, and the (shared) source and reference texts they translate."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from seq2seq.runner import build_from_config, test_split_names

    names = [path.resolve().name for path in paths]
    if len(set(names)) < len(names):
        names = [str(path) for path in paths]
    systems, texts, configs = {}, {}, []
    for name, path in zip(names, paths):
        if not (path / "config.yaml").is_file():
            raise UserError(f"{path}: no config.yaml; is this a seq2seq-train run directory?")
        config = OmegaConf.load(path / "config.yaml")
        configs.append(config)
        split = split or test_split_names(config)[0]
        hypotheses_path = path / "hypotheses" / f"{split}.txt"
        if not hypotheses_path.is_file():
            raise UserError(f"{hypotheses_path} not found; run seq2seq-eval {path} split={split} first")
        key = OmegaConf.to_yaml(config.data.corpus)
        if key not in texts:
            texts[key] = build_from_config("data.corpus", instantiate, config.data.corpus).load(split)
        text, first = texts[key], next(iter(texts.values()))
        if (text.src, text.tgt) != (first.src, first.tgt):
            raise UserError(f"{path} was evaluated on different '{split}' data than {paths[0]}; compare runs on the same data")
        systems[name] = read_hypotheses(hypotheses_path)
        if len(systems[name]) != len(text):
            raise UserError(f"{hypotheses_path} has {len(systems[name])} lines but split '{split}' has {len(text)} sentences")
    return split, systems, next(iter(texts.values())), configs[0]


def comparison_markdown(split: str, comparison: dict[str, Any], settings: Any, buckets: Any, edges: list[int]) -> str:
    """The comparison as Markdown tables: scores per (run, bucket), then each run's length sensitivity."""
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
        f"Buckets by source {buckets.unit} ({buckets.mode}; edges {', '.join(map(str, edges))}, last open). "
        f"{level} percentile bootstrap intervals ({settings.resamples} resamples, seed {settings.seed}). "
        f"p: paired {'bootstrap' if comparison['test'] == 'bs' else 'approximate randomization'} test against the "
        f"baseline `{comparison['baseline']}`; `*` marks {star} (uncorrected for multiple comparisons).", "",
        f"| run | bucket | count | BLEU | BLEU {level} CI | p | chrF | chrF {level} CI | p |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in comparison["rows"]:
        cells = [row["run"], row["bucket"], str(row["count"]), *score(row, "bleu"), *score(row, "chrf")]
        lines.append("| " + " | ".join(cells) + " |")
    sensitivity = next(iter(comparison["length_sensitivity"].values()))
    lines += ["", f"Length sensitivity ({sensitivity['unit']}; {sensitivity['fit']}):", "",
              f"| run | slope | slope {level} CI | longest/shortest BLEU |", "|---|--:|--:|--:|"]
    for name, entry in comparison["length_sensitivity"].items():
        slope = "-" if entry["slope"] is None else f"{entry['slope']:+.3f}"
        ci = "-" if entry["slope_ci"] is None else f"[{entry['slope_ci'][0]:+.3f}, {entry['slope_ci'][1]:+.3f}]"
        ratio = "-" if entry["long_short_ratio"] is None else f"{entry['long_short_ratio']:.2f}"
        lines.append(f"| {name} | {slope} | {ci} | {ratio} |")
    return "\n".join(lines) + "\n"


def comparison_csv(comparison: dict[str, Any]) -> str:
    """One row per (run, bucket); the "all" row of each run also carries its length-sensitivity slope."""
    import csv
    import io

    columns = ["run", "bucket", "count", "bleu", "bleu_low", "bleu_high", "bleu_p", "bleu_significant",
               "chrf", "chrf_low", "chrf_high", "chrf_p", "chrf_significant",
               "slope", "slope_low", "slope_high", "long_short_ratio"]
    stream = io.StringIO()
    writer = csv.DictWriter(stream, columns, lineterminator="\n")
    writer.writeheader()
    for row in comparison["rows"]:
        record = {k: row[k] for k in columns if k in row}
        for metric in ("bleu", "chrf"):
            record[f"{metric}_low"], record[f"{metric}_high"] = row[f"{metric}_ci"] or (None, None)
        if row["bucket"] == "all":
            entry = comparison["length_sensitivity"][row["run"]]
            record["slope"], record["long_short_ratio"] = entry["slope"], entry["long_short_ratio"]
            record["slope_low"], record["slope_high"] = entry["slope_ci"] or (None, None)
        writer.writerow(record)
    return stream.getvalue()


def compare(argv: list[str] | None = None) -> None:
    """seq2seq-compare RUN_A RUN_B [RUN_C ...] [--split NAME] [--test bs|ar] [--out DIR]"""
    parser = argparse.ArgumentParser(
        prog="seq2seq-compare",
        description="Compare runs' BLEU and chrF per source-length bucket with bootstrap intervals, paired "
                    "significance against the first run, and each run's length-sensitivity slope.",
    )
    parser.add_argument("runs", nargs="*", type=Path, help="run directories; the first is the baseline")
    parser.add_argument("--split", help="split to compare (default: the baseline's first test split)")
    parser.add_argument("--test", choices=["bs", "ar"], default="bs",
                        help="paired bootstrap (bs) or approximate randomization (ar); default bs")
    parser.add_argument("--out", type=Path, default=Path("."), help="directory for comparison.csv and comparison.md")
    args = parser.parse_args(argv)
    from seq2seq.data.tokenizer import Tokenizer
    from seq2seq.evaluation import source_length
    from seq2seq.statistics import BootstrapSettings, BucketSettings, compare_systems, quantile_edges

    try:
        if len(args.runs) < 2:
            raise UserError(f"give at least two run directories to compare, got {len(args.runs)}")
        split, systems, text, config = load_for_comparison(args.runs, args.split)
        try:  # the baseline's evaluation settings decide the buckets and intervals for every run
            settings = BootstrapSettings.from_config(config.eval.get("bootstrap"))
            buckets = BucketSettings.from_config(config.eval.get("buckets"))
        except ValueError as error:
            raise UserError(f"{args.runs[0] / 'config.yaml'}: eval.{error}") from None
        if buckets.unit == "subwords":
            lengths = [len(ids) for ids in Tokenizer.load(args.runs[0] / "tokenizer").encode_src(text.src)]
        else:
            lengths = [source_length(s) for s in text.src]
        edges = quantile_edges(lengths, buckets.quantiles) if buckets.mode == "quantile" else list(config.eval.bucket_edges)
        comparison = compare_systems(systems, text.tgt, lengths, edges, settings, args.test, unit=buckets.unit)
        markdown = comparison_markdown(split, comparison, settings, buckets, edges)
        write_text(args.out / "comparison.md", markdown)
        write_text(args.out / "comparison.csv", comparison_csv(comparison))
        print(markdown, end="")
    except (UserError, OmegaConfBaseException, OSError) as error:
        fail("seq2seq-compare", str(error))
