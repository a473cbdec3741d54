"""Equal-budget quality against JoeyNMT 2.3.0: BLEU after the same minutes of training, and when ours gets there.

For each architecture, ours (`seq2seq-train`) and JoeyNMT train at the same time, one thread each,
for --minutes of training on the same Multi30k text with the same subword model (ours, shared),
as models doing the same FLOPs per target token (`joeynmt_config.py`), with our recipe written in
JoeyNMT's keys (see `side_by_side.py`). Both validate with greedy BLEU on the same validation
sentences, equally often per update, and keep their best checkpoint; that checkpoint decodes
test_2016_flickr with beam 5, and one sacrebleu scorer (ours) scores both outputs. Usage:

    benchmarks/setup_joeynmt.sh     # once: JoeyNMT's own virtual environment in .venv-joeynmt
    python benchmarks/quality_vs_joeynmt.py [--minutes 30] [--presets rnn_attention transformer]
    python benchmarks/quality_vs_joeynmt.py --report-only   # the last run's table again, from its work directory
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import DEFAULT_DATA_ROOT, DEFAULT_JOEYNMT_PYTHON, MODEL_SIZES, joeynmt_python, write_table
from joeynmt_config import DECODER_HIDDEN
from machine import describe
from omegaconf import DictConfig
from side_by_side import (
    BEAM,
    TEST_SPLIT,
    SharedData,
    check_same_subwords,
    decode_joeynmt,
    fresh_directory,
    joeynmt_hypotheses,
    joeynmt_progress,
    ours_command,
    prepare_data,
    recipe,
    train_side_by_side,
    write_joeynmt_configs,
)
from training_logs import ValidationPoint, first_reaching, joeynmt_parameters, ours_curve

from seq2seq.run_dir import RunDir
from seq2seq.scoring.split import corpus_scores

CAVEATS = (
    "What still differs. JoeyNMT's recurrent decoder has input feeding and an attentional vector of its width before "
    f"the softmax where ours has a 256-wide deep output, so its decoder is {DECODER_HIDDEN} wide where ours is 512: "
    "the width at which both do the same FLOPs per target token (benchmarks/joeynmt_config.py). JoeyNMT fills "
    "each batch in random order up to the same number of padded tokens, where ours groups sentences of similar "
    "length, so its batches hold fewer real tokens. Each toolkit initialises weights its own way. Both train in "
    "fp32 unless the precision column says otherwise (`--precision bf16` is ours alone: JoeyNMT has no bf16 on "
    "CPUs). Ours decodes with length penalty 0.6 (our default), JoeyNMT with its default (none). JoeyNMT is stopped at its first "
    "validation past the budget, so it trains up to one validation interval longer than ours; its minutes are "
    "those of the checkpoint row. Validation time counts as training time for both; start-up does not."
)


SESSION = "session.json"  # in the work directory: what the training run was, for --report-only


@dataclass
class Session:
    """One training run of this benchmark, as its results file names it: kept beside its work so that
    --report-only writes that run's table again (after a change to the table's text) without training."""

    command: str
    load: float  # load average when it started
    minutes: float
    presets: list[str]
    train_sentences: int | None

    def save(self, work: Path) -> None:
        (work / SESSION).write_text(json.dumps(vars(self), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load_from(cls, work: Path) -> "Session":
        path = work / SESSION
        if not path.is_file():
            raise SystemExit(f"--report-only: {path} not found; train first (without --report-only)")
        return cls(**json.loads(path.read_text(encoding="utf-8")))


@dataclass
class ToolkitResult:
    """One toolkit's run of one architecture: what the table reports."""

    toolkit: str
    precision: str
    parameters: int
    curve: list[ValidationPoint]
    hypotheses: Path


def options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30, help="training budget per model (validations included)")
    parser.add_argument("--presets", nargs="+", choices=["rnn_attention", "transformer"],
                        default=["rnn_attention", "transformer"])
    parser.add_argument("--precision", choices=["fp32", "bf16", "auto"], default="fp32",
                        help="ours; JoeyNMT trains in fp32 on CPUs, so only fp32 compares like with like")
    parser.add_argument("--train-sentences", type=int, default=None,
                        help="train on the first N pairs only (a smoke test; the table says so)")
    parser.add_argument("--data-root", type=Path, default=DEFAULT_DATA_ROOT, help="directory of Multi30k's SPLIT.LANG.gz files")
    parser.add_argument("--joeynmt-python", type=Path, default=Path(os.environ.get("JOEYNMT_PYTHON", DEFAULT_JOEYNMT_PYTHON)),
                        help="python of a virtual environment with joeynmt==2.3.0 (benchmarks/setup_joeynmt.sh makes one)")
    parser.add_argument("--work-dir", type=Path, default=Path("benchmarks/.work/quality_vs_joeynmt"),
                        help="data copies, run directories and logs (emptied first)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/quality_vs_joeynmt.md"))
    parser.add_argument("--report-only", action="store_true",
                        help="write the table of the run in --work-dir again, from its logs and outputs, without training")
    return parser.parse_args(argv)


def run_preset(
    preset: str, args: argparse.Namespace, joey: Path, data: SharedData
) -> tuple[ToolkitResult, ToolkitResult]:
    """Both toolkits on one architecture: train side by side, then decode the test split."""
    config = recipe(preset)
    work = fresh_directory(args.work_dir / preset)
    train_config, test_config = write_joeynmt_configs(preset, data, config, work)
    ours_dir, model_dir = work / "seq2seq", work / "joeynmt"
    ours = ours_command(preset, data, ours_dir, args.minutes, args.precision)
    joeynmt = [str(joey), "-m", "joeynmt", "train", str(train_config), "--skip-test"]
    print(f"{preset}: training both for {args.minutes:g} minutes in {work}", flush=True)
    train_side_by_side(ours, joeynmt, model_dir, args.minutes * 60, work)
    check_same_subwords(ours_dir, data)
    print(f"{preset}: JoeyNMT decoding {TEST_SPLIT}", flush=True)
    decode_joeynmt(joey, test_config, work)
    return collected(work)


def collected(work: Path) -> tuple[ToolkitResult, ToolkitResult]:
    """Both toolkits' results of one architecture, read from its work directory (its runs, logs and outputs)."""
    run, model_dir = RunDir(work / "seq2seq"), work / "joeynmt"
    meta = json.loads(run.meta.read_text(encoding="utf-8"))
    return (
        ToolkitResult("seq2seq", meta["precision"], meta["parameters"], ours_curve(run.metrics), run.hypotheses(TEST_SPLIT)),
        ToolkitResult("JoeyNMT", "fp32", joeynmt_parameters((model_dir / "train.log").read_text(encoding="utf-8")),
                      joeynmt_progress(model_dir), joeynmt_hypotheses(work)),
    )


def minutes(point: ValidationPoint | None) -> str:
    return f"{point.seconds / 60:.1f} min (update {point.step:,})" if point else "not reached"


def preset_rows(
    preset: str, results: tuple[ToolkitResult, ToolkitResult], references: list[str]
) -> tuple[list[str], list[str], dict]:
    """The main table's two rows, the time-to-BLEU row, and the sacrebleu signatures."""
    rows, scores = [], {}
    for result in results:
        hypotheses = result.hypotheses.read_text(encoding="utf-8").splitlines()
        if len(hypotheses) != len(references):
            raise RuntimeError(f"{result.hypotheses}: {len(hypotheses)} lines for {len(references)} references")
        scores = corpus_scores(hypotheses, references)
        best = max(result.curve, key=lambda point: point.bleu)
        last = result.curve[-1]
        rows.append(
            f"| {preset} | {result.toolkit} | {result.precision} | {result.parameters / 1e6:.2f} M | {last.step:,} | "
            f"{last.seconds / 60:.1f} | {last.bleu:.2f} | {best.bleu:.2f} ({best.seconds / 60:.1f} min) | "
            f"{scores['bleu']:.2f} | {scores['bleu_lc']:.2f} |"
        )
    ours, joeynmt = results
    target = joeynmt.curve[-1]
    reached = first_reaching(ours.curve, target.bleu)
    speed = f"{target.seconds / reached.seconds:.1f}×" if reached else "–"
    timing = [f"| {preset} | {target.bleu:.2f} | {minutes(target)} | {minutes(reached)} | {speed} |"]
    return rows, timing, scores


def curve_line(preset: str, result: ToolkitResult) -> str:
    points = ", ".join(f"{p.seconds / 60:.1f}: {p.bleu:.2f}" for p in result.curve)
    return f"- {preset}, {result.toolkit}: {points}"


def per_preset(values: dict[str, Any]) -> str:
    """One value where every architecture has the same, else each with its architecture's name."""
    if len(set(values.values())) == 1:
        return f"{next(iter(values.values())):g}"
    return ", ".join(f"{value:g} ({preset})" for preset, value in values.items())


def report(
    session: Session, configs: dict[str, DictConfig], data: SharedData,
    results: dict[str, tuple[ToolkitResult, ToolkitResult]],
) -> list[str]:
    """The results file's lines: machine, command, settings, the two tables, signatures, curves and caveats."""
    references = (data.root / f"{TEST_SPLIT}.en").read_text(encoding="utf-8").splitlines()
    table, timing, curves = [], [], []
    for preset, both in results.items():
        rows, time_row, scores = preset_rows(preset, both, references)
        table += rows
        timing += time_row
        curves += [curve_line(preset, result) for result in both]
    recipes = {preset: config.train for preset, config in configs.items()}
    train = next(iter(recipes.values()))
    lr, warmup, batch = (per_preset({preset: recipe[key] for preset, recipe in recipes.items()})
                         for key in ("lr", "warmup_steps", "batch_tokens"))
    subset = " (the first ones only: a smoke test)" if session.train_sentences else ""
    return [
        "# Equal-budget quality: seq2seq vs JoeyNMT 2.3.0 on Multi30k",
        "",
        f"Machine: {describe(1)}; both trainings of an architecture side by side, one thread each "
        f"(load average {session.load:.2f} when it started).",
        "",
        f"Command: `{session.command}`",
        "",
        f"Budget: {session.minutes:g} minutes of training per model, validations included, start-up excluded. Data: "
        f"{len(data.train):,} training pairs{subset}, one shared sentencepiece model (ours, "
        f"{data.tokenizer.tgt_vocab_size:,} subwords). Sizes: "
        f"{MODEL_SIZES}. Recipe for both toolkits: ours for each architecture (Adam at a peak learning rate of {lr}, "
        f"noam schedule with {warmup} warm-up updates, label smoothing {train.label_smoothing:g}, clipping "
        f"{train.clip_norm:g}, batches of {batch} padded tokens). Validation: greedy BLEU on the first {train.valid_max_sentences} "
        f"sentences of val, once per our epoch's number of updates; the best checkpoint decodes {TEST_SPLIT} "
        f"with beam {BEAM}.",
        "",
        "| architecture | toolkit | precision | parameters | updates | minutes | valid BLEU, last | valid BLEU, best | "
        "test BLEU | test BLEU, lowercased |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|",
        *table,
        "",
        "When ours first reached JoeyNMT's last validation BLEU (validations only: ours validates once an epoch):",
        "",
        "| architecture | JoeyNMT's last valid BLEU | JoeyNMT got there at | ours first got there at | JoeyNMT's time / ours |",
        "|---|--:|--:|--:|--:|",
        *timing,
        "",
        f"Test BLEU: sacrebleu {scores['bleu_signature']}; lowercased: {scores['bleu_lc_signature']}.",
        "",
        "Validation curves (minutes: greedy BLEU):",
        "",
        *curves,
        "",
        CAVEATS,
    ]


def main() -> None:
    args = options()
    joey = joeynmt_python(args)
    if joey is None:
        sys.exit("quality_vs_joeynmt: needs JoeyNMT 2.3.0 (see above)")
    if not args.data_root.is_dir():
        sys.exit(f"--data-root {args.data_root}: directory not found (it should hold Multi30k's train.de.gz, ...)")
    if args.report_only:
        session = Session.load_from(args.work_dir)
        configs = {preset: recipe(preset) for preset in session.presets}
        data = prepare_data(args.data_root, args.work_dir, session.train_sentences, next(iter(configs.values())))
        results = {preset: collected(args.work_dir / preset) for preset in session.presets}
    else:
        session = Session("python benchmarks/quality_vs_joeynmt.py " + shlex.join(sys.argv[1:]), os.getloadavg()[0],
                          args.minutes, args.presets, args.train_sentences)
        configs = {preset: recipe(preset) for preset in session.presets}
        # the first preset's tokenizer settings are every preset's (JoeyNMT's configs come from each one's recipe)
        data = prepare_data(args.data_root, fresh_directory(args.work_dir), args.train_sentences,
                            next(iter(configs.values())))
        session.save(args.work_dir)
        results = {preset: run_preset(preset, args, joey, data) for preset in args.presets}
    write_table(args.out, report(session, configs, data, results))


if __name__ == "__main__":
    main()
