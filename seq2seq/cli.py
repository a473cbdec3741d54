"""Console entry points. User errors end in one line on stderr and exit status 2, never a traceback."""

from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException, MissingConfigException
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from seq2seq.allocator import keep_freed_memory
from seq2seq.errors import UserError
from seq2seq.files import write_text
from seq2seq.run_dir import RunDir

log = logging.getLogger("seq2seq")


USER_ERRORS = (UserError, OmegaConfBaseException, OSError)
# Lines of OmegaConf's and Hydra's messages about their own machinery (the schema's class, a hint to
# append keys that a schema refuses anyway), left out of the one-line message.
MACHINERY = ("reference_type=", "object_type=", "To append to your config use")


def fail(program: str, message: str) -> None:
    print(f"{program}: error: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


def one_line(error: BaseException) -> str:
    """A user error's message on one line: OmegaConf's span several (what is wrong, `full_key: KEY`, the
    types involved), and Hydra's composition errors keep those details in their cause."""
    text = str(error)
    if isinstance(error.__cause__, OmegaConfBaseException) and str(error.__cause__) not in text:
        text += "\n" + str(error.__cause__)
    lines = (line.strip().rstrip(":.") for line in text.splitlines())
    return "; ".join(line for line in lines if line and not line.startswith(MACHINERY))


@contextmanager
def user_errors_end(program: str) -> Iterator[None]:
    """Turn a user's mistake (bad path, key, value or file) into one line on stderr and exit status 2."""
    try:
        yield
    except USER_ERRORS as error:
        fail(program, one_line(error))


def composition_errors_end(program: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Let a config that does not compose (a misspelt key, a value of the wrong type) end a Hydra app like
    any user error: Hydra's message on one line, exit status 2.

    Hydra prints its own report of such an error and exits 1, unless HYDRA_FULL_ERROR=1 asks it to
    raise the error, which we do (a user who set the variable gets Hydra's full trace as before). A
    missing option (`model=lstm2`) keeps Hydra's list of the options there are, one per line.
    """

    def wrap(app: Callable[[], Any]) -> Callable[[], Any]:
        @functools.wraps(app)
        def run() -> Any:
            if os.environ.get("HYDRA_FULL_ERROR") == "1":
                return app()
            os.environ["HYDRA_FULL_ERROR"] = "1"
            try:
                return app()
            except MissingConfigException as error:
                fail(program, str(error))
            except (HydraException, OmegaConfBaseException) as error:
                fail(program, one_line(error))

        return run

    return wrap


def log_to_file_only(record: logging.LogRecord) -> None:
    """Write a record to the run's train.log alone: the console gets the error once, as the one-line message."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)


def threads_for_launcher(launcher: Any, cores: int) -> int | None:
    """Threads per job when Hydra's joblib launcher runs jobs side by side (None for other launchers).

    On a small CPU, k one-thread jobs beat one k-thread job: parallel jobs share the cores evenly.
    """
    if "JoblibLauncher" not in str(launcher.get("_target_", "")):
        return None
    jobs = launcher.get("n_jobs")
    jobs = cores if jobs is None or jobs < 1 else min(jobs, cores)
    return max(1, cores // jobs)


@composition_errors_end("seq2seq-train")
@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def train(config: DictConfig) -> float | None:
    """seq2seq-train: train and evaluate one model per Hydra job (-m for a sweep)."""
    from seq2seq.pipeline import evaluation_failures, train_and_evaluate

    keep_freed_memory()
    if config.threads is None:
        config.threads = threads_for_launcher(HydraConfig.get().launcher, os.cpu_count() or 1)
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    sweeping = HydraConfig.get().mode == RunMode.MULTIRUN
    try:
        results = train_and_evaluate(config, run_dir)
    except USER_ERRORS as error:  # the run directory says why it holds no results: train.log and error.txt
        write_text(RunDir(run_dir).error, f"{one_line(error)}\n")
        if sweeping:  # one bad job must not end the sweep
            log.error("%s", one_line(error))
            return None
        log_to_file_only(log.makeRecord(log.name, logging.ERROR, __file__, 0, "%s", (one_line(error),), None))
        fail("seq2seq-train", one_line(error))
    if results is None:  # a torchrun rank other than 0: rank 0 evaluates and reports
        return None
    failures = evaluation_failures(results, run_dir)
    if failures and not sweeping:  # results.json holds the training and every split that worked
        fail("seq2seq-train", failures)
    if failures:
        log.error("%s", failures)
    # The sweep objective (what an optimizing sweeper tunes): the best validation score, never a test score.
    return results.training["best_valid_score"]


def evaluate(argv: list[str] | None = None) -> None:
    """seq2seq-eval RUN_DIR|CHECKPOINT [split=NAME[,NAME]] [beam=K] [key=value ...]

    A decoding other than the run's own (beam=K, eval.length_penalty=...) is written beside the run's
    results under its own name (`test.beam5` in results.json, hypotheses/test.beam5.txt), never over them.
    """
    parser = argparse.ArgumentParser(
        prog="seq2seq-eval",
        description="Re-evaluate a trained run on any split without retraining; results go into the run directory. "
                    "A decoding other than the run's own (e.g. beam=5) is recorded beside its results as SPLIT.beam5, "
                    "with hypotheses/SPLIT.beam5.txt, leaving the original scores and hypotheses as they were.",
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
    keep_freed_memory()
    from seq2seq.pipeline import evaluate_run, evaluation_failures

    with user_errors_end("seq2seq-eval"):
        results = evaluate_run(args.run, overrides, splits_given=any(o.startswith("eval.splits=") for o in overrides))
        failures = evaluation_failures(results, args.run)
        if failures:
            raise UserError(failures)


def tune_search(argv: list[str] | None = None) -> None:
    """seq2seq-tune-search RUN_DIR|CHECKPOINT [split=NAME] [sentences=N] [beam=K] [length_penalty=A,B,...] [key=value ...]"""
    from seq2seq.search_tuning import DEFAULT_PENALTIES, tune_length_penalty, tuning_markdown

    parser = argparse.ArgumentParser(
        prog="seq2seq-tune-search",
        description="Choose beam search's length penalty on a validation split: decode it greedily and with beam K at "
                    "each penalty, score BLEU, chrF and the length ratio, and name the best by BLEU (written to "
                    "RUN/search_tuning/SPLIT.beamK.md and .json). A test split is refused: decode it once, with the "
                    "chosen penalty, for the record.",
    )
    parser.add_argument("run", type=Path, help="a run directory (uses checkpoints/best.pt) or a checkpoint file")
    parser.add_argument("overrides", nargs="*",
                        help="split=NAME (default: the run's validation split), sentences=N (its first N only), "
                             "beam=K (default 5), "
                             f"length_penalty=A,B,... (default {','.join(f'{a:g}' for a in DEFAULT_PENALTIES)}) "
                             "and config overrides such as data.root=DIR")
    args = parser.parse_args(argv)
    split, sentences, beam, penalties, overrides = None, None, "5", ",".join(f"{a:g}" for a in DEFAULT_PENALTIES), []
    for item in args.overrides:
        if "=" not in item:
            fail("seq2seq-tune-search", f"'{item}' is not key=value (e.g. split=valid or beam=5)")
        key, value = item.split("=", 1)
        if key == "split":
            split = value
        elif key == "beam":
            beam = value
        elif key == "sentences":
            sentences = value
        elif key == "length_penalty":
            penalties = value
        else:
            overrides.append(item)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    keep_freed_memory()
    with user_errors_end("seq2seq-tune-search"):
        try:
            beam_size, alphas = int(beam), [float(a) for a in penalties.split(",") if a.strip()]
            first = None if sentences is None else int(sentences)
        except ValueError:
            raise UserError(f"beam={beam} sentences={sentences} length_penalty={penalties}: beam and sentences are "
                            "whole numbers, length_penalty comma-separated numbers") from None
        if first is not None and first < 1:
            raise UserError(f"sentences={first}: give 1 or more")
        result = tune_length_penalty(args.run, split, beam_size, alphas, overrides, first)
        print(tuning_markdown(result), end="")
        print(wrote_line([Path(path) for path in result["written"]]), file=sys.stderr)


def wrote_line(paths: list[Path]) -> str:
    """`wrote report.md, report.csv, ... into DIR`: where a command's files went (on stderr, beside its output)."""
    folders = list(dict.fromkeys(path.parent for path in paths))
    names = ", ".join(str(path.name if len(folders) == 1 else path) for path in paths)
    return f"wrote {names}" + (f" into {folders[0]}" if len(folders) == 1 else "")


def translate(argv: list[str] | None = None) -> None:
    """seq2seq-translate RUN_DIR|CHECKPOINT SENTENCE... [--input FILE] [--heatmaps DIR]"""
    parser = argparse.ArgumentParser(
        prog="seq2seq-translate",
        description="Translate sentences with a trained run; optionally save a heatmap of the decoder's attention per sentence.",
    )
    parser.add_argument("run", type=Path, help="a run directory (uses checkpoints/best.pt) or a checkpoint file")
    parser.add_argument("sentences", nargs="*", help="German sentences to translate")
    parser.add_argument("--input", type=Path,
                        help="a UTF-8 file (plain or .gz) with one sentence per line, '-' for stdin; output line i "
                             "translates input line i (an empty line stays empty)")
    parser.add_argument("--heatmaps", type=Path, help="directory for attention_NNN.png, one per sentence")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override, e.g. device=cpu")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    keep_freed_memory()
    from seq2seq.data.corpora import decode_lines, read_lines
    from seq2seq.pipeline import open_run, translate_sentences

    with user_errors_end("seq2seq-translate"):
        sentences = [sentence.strip() for sentence in args.sentences]
        if args.input:
            sentences += decode_lines(sys.stdin.buffer, "<stdin>") if str(args.input) == "-" else read_lines(args.input)
        if not sentences:
            raise UserError("nothing to translate: give sentences as arguments or --input FILE")
        run = open_run(args.run, args.set)
        if args.heatmaps and not run.model.decoder.has_attention:
            print(
                f"note: model '{run.config.model.name}' has no attention to show: its decoder reads only the "
                "encoder's final summary vector",
                file=sys.stderr,
            )
        for output in translate_sentences(run, sentences, args.heatmaps, str(args.input or "input")):
            print(output)
        if args.heatmaps and run.model.decoder.has_attention:
            print(f"wrote {len(sentences)} attention maps (attention_NNN.png) into {args.heatmaps}", file=sys.stderr)


def compare(argv: list[str] | None = None) -> None:
    """seq2seq-compare RUN_A RUN_B [RUN_C ...] [--split NAME] [--test bs|ar] [--out DIR] [--html] [--mixed-decodings]"""
    parser = argparse.ArgumentParser(
        prog="seq2seq-compare",
        description="Compare runs' BLEU and chrF per source-length bucket with bootstrap intervals, paired "
                    "significance against the first run, and each run's length-sensitivity slope.",
    )
    parser.add_argument("runs", nargs="*", type=Path, help="run directories; the first is the baseline")
    parser.add_argument("--split", help="split to compare (default: the baseline's first test split); a re-decoding "
                                        "such as test.beam5 compares those outputs")
    parser.add_argument("--test", choices=["bs", "ar"], default="bs",
                        help="paired bootstrap (bs) or approximate randomization (ar); default bs")
    parser.add_argument("--out", type=Path, default=Path("."), help="directory for comparison.csv and comparison.md")
    parser.add_argument("--html", action="store_true",
                        help="also write comparison.html: one self-contained page with the table, example sentences per "
                             "length bucket and attention maps of the longest ones")
    parser.add_argument("--mixed-decodings", action="store_true",
                        help="compare runs even where they decoded the split differently (e.g. greedy and beam 5)")
    args = parser.parse_args(argv)
    from seq2seq.reporting.compare import compare_runs, comparison_tables

    with user_errors_end("seq2seq-compare"):
        if len(args.runs) < 2:
            raise UserError(f"give at least two run directories to compare, got {len(args.runs)}")
        comparison = compare_runs(args.runs, args.split, args.test, mixed_decodings=args.mixed_decodings)
        markdown, csv_text = comparison_tables(comparison)
        written = [args.out / "comparison.md", args.out / "comparison.csv"]
        write_text(written[0], markdown)
        write_text(written[1], csv_text)
        if args.html:
            from seq2seq.reporting.html_report import comparison_page

            written.append(args.out / "comparison.html")
            write_text(written[-1], comparison_page(comparison, args.out))
        print(markdown, end="")
        print(wrote_line(written), file=sys.stderr)


def report(argv: list[str] | None = None) -> None:
    """seq2seq-report PATH [PATH ...] [--split NAME ...] [--out DIR] [--html] [--mixed-decodings]"""
    parser = argparse.ArgumentParser(
        prog="seq2seq-report",
        description="Summarise a sweep: per model, mean ± std over seeds of BLEU and chrF overall and per source-length "
                    "bucket (and the probe's contrastive verb test), every seed with its bootstrap interval, plots of "
                    "BLEU by length and of training curves; failed and unfinished runs are listed.",
    )
    parser.add_argument("paths", nargs="+", type=Path, help="multirun directories (multirun/DATE/TIME) and/or run directories")
    parser.add_argument("--split", action="append", help="a split to report; repeat for several (default: every split "
                                                         "a finished run has scored)")
    parser.add_argument("--out", type=Path, help="directory for report.md, report.csv and the PNGs "
                                                 "(default: PATH when one is given, else the current directory)")
    parser.add_argument("--html", action="store_true",
                        help="also write report.html: one self-contained page with the tables and figures, paired tests "
                             "and example sentences per length bucket, attention maps of the longest ones, and the runs")
    parser.add_argument("--mixed-decodings", action="store_true",
                        help="report runs side by side even where they decoded a split differently (e.g. greedy and "
                             "beam 5); each run's model is then labelled with its decoding")
    args = parser.parse_args(argv)
    from seq2seq.reporting.sweep import write_report

    out = args.out or (args.paths[0] if len(args.paths) == 1 else Path("."))
    with user_errors_end("seq2seq-report"):
        written: list[Path] = []
        print(write_report(args.paths, args.split, out, html=args.html, mixed_decodings=args.mixed_decodings,
                           written=written), end="")
        print(wrote_line(written), file=sys.stderr)


def rescore(argv: list[str] | None = None) -> None:
    """seq2seq-rescore RUN_DIR [--out DIR] [--data-root DIR] eval.bucket_edges=[...] [eval.bootstrap.KEY=V ...]"""
    parser = argparse.ArgumentParser(
        prog="seq2seq-rescore",
        description="Score a run's saved hypotheses again under other length buckets or bootstrap settings, without its "
                    "checkpoint: results.json and config.yaml take the new settings (in --out, a copy of the run "
                    "without checkpoints, or in place). The contrastive test needs the model and is kept as it was.",
    )
    parser.add_argument("run", type=Path, help="a finished run directory with hypotheses/")
    parser.add_argument("overrides", nargs="+", help="eval.bucket_edges=[0,10,20], eval.buckets.KEY=V, eval.bootstrap.KEY=V")
    parser.add_argument("--out", type=Path, help="write a rescored copy here instead of changing RUN_DIR")
    parser.add_argument("--data-root", type=Path, default=os.environ.get("SEQ2SEQ_DATA"),
                        help="folder holding the corpus's folder, for corpora read from files (default: $SEQ2SEQ_DATA)")
    args = parser.parse_args(argv)
    from seq2seq.reporting.rescore import rescore_run

    with user_errors_end("seq2seq-rescore"):
        rescored = rescore_run(args.run, args.overrides, args.data_root, args.out)
    for key, entry in rescored.items():
        buckets = ", ".join(f"{row['bucket']} " + ("-" if row["bleu"] is None else f"{row['bleu']:.2f}")
                            for row in entry["by_length"])
        print(f"{key}: BLEU {entry['bleu']:.2f}; by length: {buckets}")
    run = RunDir(args.out or args.run)
    print(wrote_line([run.results_path(), run.config]), file=sys.stderr)


def reproduce(argv: list[str] | None = None) -> None:
    """seq2seq-reproduce RUN_DIR [--out DIR] [--tolerance 0.1]"""
    parser = argparse.ArgumentParser(
        prog="seq2seq-reproduce",
        description="Train a finished run again from its saved config and compare the new scores with the recorded ones.",
    )
    parser.add_argument("run", type=Path, help="a finished run directory")
    parser.add_argument("--out", type=Path, help="directory for the new run (default: RUN_DIR/reproduced)")
    parser.add_argument("--tolerance", type=float, default=0.1, help="largest accepted BLEU/chrF difference (default 0.1)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    keep_freed_memory()
    from seq2seq.pipeline import train_and_evaluate
    from seq2seq.reporting.reproduce import reproduce_run

    with user_errors_end("seq2seq-reproduce"):
        rows, table = reproduce_run(args.run, args.out or args.run / "reproduced", train_and_evaluate, args.tolerance)
    print(table)
    if not all(row["same"] for row in rows):
        print("seq2seq-reproduce: the reproduced scores differ from the recorded ones", file=sys.stderr)
        sys.exit(1)
