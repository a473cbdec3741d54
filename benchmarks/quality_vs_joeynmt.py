"""Equal-budget quality against JoeyNMT 2.3.0: BLEU after the same minutes of training, and when ours gets there.

For each architecture, ours (`seq2seq-train`) and JoeyNMT train at the same time, one thread each,
for --minutes of training on the same Multi30k text with the same subword model (ours, shared),
as models doing the same FLOPs per target token (`joeynmt_config.py`), with our recipe written in
JoeyNMT's keys (see `side_by_side.py`); both stop at the same training time. JoeyNMT's batches are
sized to carry our real target tokens per update (`real_tokens.py`: its sampler does not group by
length), and its warm-up is the same share of its updates as ours is of ours: a short calibration,
both trained side by side, measures how many updates each makes a second. Its peak learning rate
is searched: it trains at each of --joeynmt-lr-factors times ours (two trainings at a time, so every
one shares the machine with one other), then, while the best on validation sits at an edge of the
rates tried, at two more beyond that edge, until the best is bracketed (or --max-extensions is
reached); the rate with the best validation BLEU is the one that decodes the test set. Both validate
with greedy BLEU on the same validation sentences and keep their best checkpoint; that checkpoint
decodes test_2016_flickr with beam 5, and one sacrebleu scorer (ours) scores both outputs. Usage:

    benchmarks/setup_joeynmt.sh     # once: JoeyNMT's own virtual environment in .venv-joeynmt
    python benchmarks/quality_vs_joeynmt.py [--minutes 20] [--presets rnn_attention transformer]
    python benchmarks/quality_vs_joeynmt.py --report-only   # the last run's table again, from its work directory
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import real_tokens
from harness import DEFAULT_DATA_ROOT, DEFAULT_JOEYNMT_PYTHON, MODEL_SIZES, joeynmt_python, write_table
from joeynmt_config import DECODER_HIDDEN
from machine import describe
from omegaconf import DictConfig
from side_by_side import (
    BEAM,
    TEST_SPLIT,
    JoeyNMTSettings,
    SharedData,
    Training,
    check_same_subwords,
    decode_joeynmt,
    fresh_directory,
    joeynmt_command,
    joeynmt_hypotheses,
    joeynmt_progress,
    ours_command,
    prepare_data,
    recipe,
    train_side_by_side,
    training_examples,
    update_rates,
    updates_per_epoch,
    write_joeynmt_configs,
)
from training_logs import ValidationPoint, first_reaching, joeynmt_parameters, ours_curve

from seq2seq.run_dir import RunDir
from seq2seq.scoring.split import corpus_scores

CAVEATS = (
    "What still differs. JoeyNMT's recurrent decoder has input feeding and an attentional vector of its width before "
    f"the softmax where ours has a 256-wide deep output, so its decoder is {DECODER_HIDDEN} wide where ours is 512: "
    "the width at which both do the same FLOPs per target token (benchmarks/joeynmt_config.py). JoeyNMT fills "
    "each batch in random order where ours groups sentences of similar length: its budget of padded tokens is "
    "raised until its updates carry our real target tokens, so its batches are more padding and each update "
    "costs it more arithmetic than ours. JoeyNMT's scheduler sets the rate after each optimizer step, so its first "
    "update runs at the peak learning rate where ours warms up from the first. JoeyNMT validates several times per "
    "our epoch's number of updates (the batches line says how often), ours once an epoch; validation time counts as "
    "training time for both, start-up does not. JoeyNMT's learning rate was searched on validation, ours was "
    "not searched here: it is our Multi30k recipe's, which a 24-recipe search chose after decoding test_2016_flickr "
    "with every recipe (experiments/multi30k_trials/README.md), so the test set had been seen in choosing ours and "
    "not JoeyNMT's. Each toolkit initialises weights its own way. Both train in "
    "fp32 unless the precision column says otherwise (`--precision bf16` is ours alone: JoeyNMT has no bf16 on "
    "CPUs). Ours decodes with length penalty 0.6 (our default), JoeyNMT with its default (none). Both stop at the "
    "same training time, but ours validates where it stops and JoeyNMT keeps the best of the validations it finished "
    "by then, so its last one can come up to a validation interval before the end (the minutes column)."
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
    joeynmt_batch_tokens: int  # JoeyNMT's padded tokens per batch
    validations_per_epoch: int = 1  # JoeyNMT's, per our epoch's number of updates
    calibration_seconds: float = 0.0  # how long both toolkits trained side by side to measure their update rates
    # per preset, filled in as each one runs:
    lr_factors: dict[str, list[float]] = field(default_factory=dict)  # JoeyNMT's peak rates tried: ours times these
    update_rates: dict[str, dict[str, float]] = field(default_factory=dict)  # updates a second in the calibration
    joeynmt_warmup: dict[str, int] = field(default_factory=dict)  # JoeyNMT's warm-up updates

    def save(self, work: Path) -> None:
        (work / SESSION).write_text(json.dumps(vars(self), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load_from(cls, work: Path) -> "Session":
        path = work / SESSION
        if not path.is_file():
            raise SystemExit(f"--report-only: {path} not found; train first (without --report-only)")
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    def joeynmt_settings(self, preset: str, lr_factor: float) -> JoeyNMTSettings:
        return JoeyNMTSettings(self.joeynmt_batch_tokens, lr_factor, self.validations_per_epoch,
                               warmup_steps=self.joeynmt_warmup[preset])


@dataclass
class ToolkitResult:
    """One toolkit's run of one architecture: what the table reports."""

    toolkit: str
    precision: str
    parameters: int
    curve: list[ValidationPoint]
    hypotheses: Path | None  # None: not decoded on the test split (a learning rate validation did not choose)
    lr: float = 0.0  # peak learning rate

    @property
    def best_bleu(self) -> float:
        return max((point.bleu for point in self.curve), default=float("-inf"))


def options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20, help="training budget per model (validations included)")
    parser.add_argument("--presets", nargs="+", choices=["rnn_attention", "transformer"],
                        default=["rnn_attention", "transformer"])
    parser.add_argument("--precision", choices=["fp32", "bf16", "auto"], default="fp32",
                        help="ours; JoeyNMT trains in fp32 on CPUs, so only fp32 compares like with like")
    parser.add_argument("--joeynmt-lr-factors", type=float, nargs="+", default=[1.0, 0.5, 2.0],
                        help="JoeyNMT's peak learning rates to search first, as multiples of ours; the first trains "
                             "beside ours")
    parser.add_argument("--max-extensions", type=int, default=2,
                        help="times the search may go on beyond an edge of the rates tried (two rates each time)")
    parser.add_argument("--calibration-seconds", type=float, default=180,
                        help="how long both toolkits train side by side to measure their update rates, which set "
                             "JoeyNMT's warm-up")
    parser.add_argument("--joeynmt-batch-tokens", type=int, default=None,
                        help="JoeyNMT's padded tokens per batch (default: as many batches per epoch as ours makes, "
                             "so each update carries our real target tokens)")
    parser.add_argument("--joeynmt-validations-per-epoch", type=int, default=4,
                        help="JoeyNMT validates this many times per our epoch's number of updates: it is stopped at "
                             "the budget and keeps the best validation finished by then, so its last one can come up "
                             "to an interval before the end")
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


def joeynmt_work(work: Path, lr_factor: float) -> Path:
    """One JoeyNMT training's directory in a preset's work directory: its configs, logs, model and outputs."""
    return work / f"joeynmt_lr{lr_factor:g}"


def run_preset(preset: str, args: argparse.Namespace, joey: Path, data: SharedData, session: Session) -> None:
    """JoeyNMT's warm-up from the calibration; ours and JoeyNMT at each learning rate, two at a time, the search
    going on beyond an edge until the best rate is bracketed; then JoeyNMT's choice on validation decodes the test
    split (ours decoded it when it stopped)."""
    config = recipe(preset)
    work = fresh_directory(args.work_dir / preset)
    rates = calibration(preset, args, joey, data, session, config, work)
    session.update_rates[preset] = rates
    session.joeynmt_warmup[preset] = joeynmt_warmup(config.train.warmup_steps, rates)
    print(f"{preset}: {rates['seq2seq']:.3f} updates/s ours, {rates['JoeyNMT']:.3f} JoeyNMT: its warm-up "
          f"{session.joeynmt_warmup[preset]:,} updates for our {config.train.warmup_steps:,}", flush=True)
    factors = list(args.joeynmt_lr_factors)
    trainings = [Training("seq2seq-train", ours_command(preset, data, work / "seq2seq", session.minutes, args.precision),
                          work / "seq2seq.log")]
    trainings += [joeynmt_training(preset, factor, data, config, work, joey, session) for factor in factors]
    for extension in range(args.max_extensions + 1):
        for pair in (trainings[i:i + 2] for i in range(0, len(trainings), 2)):
            print(f"{preset}: training {' and '.join(t.name for t in pair)} for {session.minutes:g} minutes", flush=True)
            train_side_by_side(pair, session.minutes * 60)
        beyond = beyond_edge(chosen_factor(work, factors), factors)
        if not beyond or extension == args.max_extensions:
            break
        trainings = [joeynmt_training(preset, factor, data, config, work, joey, session) for factor in beyond]
        factors += beyond
    session.lr_factors[preset] = factors
    session.save(args.work_dir)
    check_same_subwords(work / "seq2seq", data)
    chosen = chosen_factor(work, factors)
    print(f"{preset}: JoeyNMT at {chosen:g} × our learning rate (best on validation) decoding {TEST_SPLIT}", flush=True)
    directory = joeynmt_work(work, chosen)
    decode_joeynmt(joey, directory / "joeynmt_test.yaml", directory)


def joeynmt_training(preset: str, factor: float, data: SharedData, config: DictConfig, work: Path, joey: Path,
                     session: Session) -> Training:
    """JoeyNMT at `factor` × our peak learning rate, in its own directory of the preset's work directory."""
    directory = fresh_directory(joeynmt_work(work, factor))
    train_config, _ = write_joeynmt_configs(preset, data, config, directory, session.joeynmt_settings(preset, factor))
    return Training(f"JoeyNMT at {factor:g} × our learning rate", joeynmt_command(joey, train_config),
                    directory / "joeynmt.log", directory / "joeynmt")


def calibration(preset: str, args: argparse.Namespace, joey: Path, data: SharedData, session: Session,
                config: DictConfig, work: Path) -> dict[str, float]:
    """Updates a second of ours and of JoeyNMT (at our rate, not validating) trained side by side, one thread
    each, for --calibration-seconds, as the budget's trainings will be."""
    directory = fresh_directory(work / "calibration")
    settings = JoeyNMTSettings(session.joeynmt_batch_tokens, logging_freq=10, validation_freq=10**9)
    train_config, _ = write_joeynmt_configs(preset, data, config, directory, settings)
    ours = ours_command(preset, data, directory / "seq2seq", session.minutes, args.precision,
                        ("train.progress_seconds=10",))
    print(f"{preset}: measuring both toolkits' updates a second for {session.calibration_seconds:g} seconds", flush=True)
    return update_rates([Training("seq2seq", ours, directory / "seq2seq.log"),
                         Training("JoeyNMT", joeynmt_command(joey, train_config), directory / "joeynmt.log",
                                  directory / "joeynmt")], session.calibration_seconds)


def joeynmt_warmup(ours: int, rates: dict[str, float]) -> int:
    """JoeyNMT's warm-up updates: the same share of the updates it makes in a budget as `ours` is of ours."""
    return max(1, round(ours * rates["JoeyNMT"] / rates["seq2seq"]))


def beyond_edge(best: float, factors: list[float]) -> list[float]:
    """Two more learning-rate factors beyond the edge of `factors` where the best one sits (×2 and ×4, or ÷2 and
    ÷4); none where the best is bracketed."""
    if best == max(factors):
        return [best * 2, best * 4]
    if best == min(factors):
        return [best / 2, best / 4]
    return []


def chosen_factor(work: Path, factors: list[float]) -> float:
    """JoeyNMT's learning-rate factor whose best validation BLEU is highest (the first such, on a tie)."""
    best = {factor: max((p.bleu for p in joeynmt_progress(joeynmt_work(work, factor) / "joeynmt")), default=float("-inf"))
            for factor in factors}
    return max(factors, key=lambda factor: best[factor])


def collected(work: Path, preset: str, session: Session, config: DictConfig) -> tuple[ToolkitResult, list[ToolkitResult]]:
    """Ours and JoeyNMT's runs (one per learning rate, only the chosen one with test hypotheses) of one
    architecture, read from its work directory."""
    run = RunDir(work / "seq2seq")
    meta = json.loads(run.meta.read_text(encoding="utf-8"))
    ours = ToolkitResult("seq2seq", meta["precision"], meta["parameters"], ours_curve(run.metrics),
                         run.hypotheses(TEST_SPLIT), config.train.lr)
    factors = session.lr_factors[preset]
    chosen = chosen_factor(work, factors)
    joeys = []
    for factor in factors:
        directory = joeynmt_work(work, factor)
        model_dir = directory / "joeynmt"
        joeys.append(ToolkitResult("JoeyNMT", "fp32", joeynmt_parameters((model_dir / "train.log").read_text(encoding="utf-8")),
                                   joeynmt_progress(model_dir), joeynmt_hypotheses(directory) if factor == chosen else None,
                                   config.train.lr * factor))
    return ours, joeys


def chosen_run(joeys: list[ToolkitResult]) -> ToolkitResult:
    """JoeyNMT's run at the learning rate validation chose: the one that decoded the test split."""
    return next(result for result in joeys if result.hypotheses is not None)


def minutes(point: ValidationPoint | None) -> str:
    return f"{point.seconds / 60:.1f} min (update {point.step:,})" if point else "not reached"


def preset_rows(
    preset: str, ours: ToolkitResult, joeys: list[ToolkitResult], references: list[str]
) -> tuple[list[str], list[str], dict]:
    """The main table's rows (ours, then JoeyNMT at each learning rate), the time-to-BLEU row against JoeyNMT's
    run chosen on validation, and the sacrebleu signatures."""
    rows, scores = [], {}
    for result in [ours, *joeys]:
        test = "not decoded | not decoded"
        if result.hypotheses is not None:
            hypotheses = result.hypotheses.read_text(encoding="utf-8").splitlines()
            if len(hypotheses) != len(references):
                raise RuntimeError(f"{result.hypotheses}: {len(hypotheses)} lines for {len(references)} references")
            scores = corpus_scores(hypotheses, references)
            test = f"{scores['bleu']:.2f} | {scores['bleu_lc']:.2f}"
        best = max(result.curve, key=lambda point: point.bleu)
        last = result.curve[-1]
        rows.append(
            f"| {preset} | {result.toolkit} | {result.lr:g} | {result.precision} | {result.parameters / 1e6:.2f} M | "
            f"{last.step:,} | {last.seconds / 60:.1f} | {last.bleu:.2f} | {best.bleu:.2f} ({best.seconds / 60:.1f} min) | "
            f"{test} |"
        )
    joeynmt = chosen_run(joeys)
    target = joeynmt.curve[-1]
    reached = first_reaching(ours.curve, target.bleu)
    speed = f"{target.seconds / reached.seconds:.1f}×" if reached else "–"
    timing = [f"| {preset} | {joeynmt.lr:g} | {target.bleu:.2f} | {minutes(target)} | {minutes(reached)} | {speed} |"]
    return rows, timing, scores


def curve_line(preset: str, result: ToolkitResult) -> str:
    points = ", ".join(f"{p.seconds / 60:.1f}: {p.bleu:.2f}" for p in result.curve)
    return f"- {preset}, {result.toolkit} at {result.lr:g}: {points}"


def batch_line(session: Session, data: SharedData, config: DictConfig) -> str:
    """How many real target tokens an update carries in each toolkit, replayed from the samplers on the training
    split's subwords."""
    examples = training_examples(data, config)
    ours = real_tokens.ours(examples, config.train.batch_tokens)
    joeynmt = real_tokens.joeynmt(examples, session.joeynmt_batch_tokens)
    at_ours = real_tokens.joeynmt(examples, config.train.batch_tokens)
    every = max(1, round(updates_per_epoch(data, config) / session.validations_per_epoch))
    return (
        f"Batches: ours {config.train.batch_tokens:,} padded tokens, grouped by length: {ours.batches:,.0f} batches "
        f"per epoch, {ours.real_per_batch:,.0f} real target tokens (subwords and EOS) per update. JoeyNMT "
        f"{session.joeynmt_batch_tokens:,} padded tokens in random order: {joeynmt.batches:,.1f} batches per epoch, "
        f"{joeynmt.real_per_batch:,.0f} real target tokens per update (at our {config.train.batch_tokens:,} it would "
        f"be {at_ours.batches:,.1f} batches of {at_ours.real_per_batch:,.0f}; its sampler replayed over "
        f"{real_tokens.SHUFFLES} shuffles, benchmarks/real_tokens.py). JoeyNMT validates every {every:,} updates "
        f"({session.validations_per_epoch} times per our epoch's number of updates), ours once an epoch and where it "
        "stops."
    )


def search_line(session: Session, results: dict[str, tuple[ToolkitResult, list[ToolkitResult]]]) -> str:
    """Which of JoeyNMT's peak learning rates were tried for each architecture, and whether the chosen one is
    bracketed (a worse rate tried on each side of it)."""
    parts = []
    for preset, (_, joeys) in results.items():
        factors = session.lr_factors[preset]
        chosen = factors[joeys.index(chosen_run(joeys))]
        bracketed = min(factors) < chosen < max(factors)
        parts.append(f"{preset}: {', '.join(f'{factor:g}' for factor in factors)} × ours, the best "
                     f"({chosen:g}×) {'bracketed' if bracketed else 'at an edge: not bracketed'}")
    return "; ".join(parts)


def warmup_line(session: Session, configs: dict[str, DictConfig],
                results: dict[str, tuple[ToolkitResult, list[ToolkitResult]]]) -> str:
    """Each toolkit's warm-up in updates and as a share of the updates it made in the budget, and the calibration
    that set JoeyNMT's."""
    parts = []
    for preset, (ours, joeys) in results.items():
        rates, warmup = session.update_rates[preset], configs[preset].train.warmup_steps
        joey, joey_warmup = chosen_run(joeys), session.joeynmt_warmup[preset]
        parts.append(
            f"{preset}: ours {warmup:,} updates ({warmup / ours.curve[-1].step:.0%} of the {ours.curve[-1].step:,} it "
            f"made), JoeyNMT {joey_warmup:,} ({joey_warmup / joey.curve[-1].step:.0%} of the "
            f"{joey.curve[-1].step:,} of its chosen run), from {rates['seq2seq']:.3f} against {rates['JoeyNMT']:.3f} "
            "updates a second")
    return (f"Warm-up, as a share of each toolkit's updates: JoeyNMT's is ours times its update rate over ours, both "
            f"measured while they trained side by side for {session.calibration_seconds:g} seconds before the budget's "
            f"trainings; {'; '.join(parts)}.")


def per_preset(values: dict[str, Any]) -> str:
    """One value where every architecture has the same, else each with its architecture's name."""
    if len(set(values.values())) == 1:
        return f"{next(iter(values.values())):g}"
    return ", ".join(f"{value:g} ({preset})" for preset, value in values.items())


def report(
    session: Session, configs: dict[str, DictConfig], data: SharedData,
    results: dict[str, tuple[ToolkitResult, list[ToolkitResult]]],
) -> list[str]:
    """The results file's lines: machine, command, settings, the two tables, signatures, curves and caveats."""
    references = (data.root / f"{TEST_SPLIT}.en").read_text(encoding="utf-8").splitlines()
    table, timing, curves = [], [], []
    for preset, (ours, joeys) in results.items():
        rows, time_row, scores = preset_rows(preset, ours, joeys, references)
        table += rows
        timing += time_row
        curves += [curve_line(preset, result) for result in [ours, *joeys]]
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
        f"{MODEL_SIZES}. Recipe: ours for each architecture (Adam at a peak learning rate of {lr}, noam schedule "
        f"with {warmup} warm-up updates, label smoothing {train.label_smoothing:g}, clipping {train.clip_norm:g}, "
        f"batches of {batch} padded tokens), written in JoeyNMT's keys, except that JoeyNMT's batches carry our real "
        f"tokens per update (below), its warm-up is as large a share of its updates as ours (below) and its peak "
        f"learning rate is searched, each rate trained for the whole budget, two trainings at a time, going on beyond "
        f"an edge of the rates tried while the best sits there ({search_line(session, results)}). Validation: "
        f"greedy BLEU on the first {train.valid_max_sentences} sentences of val; each "
        f"run's best checkpoint is kept, and JoeyNMT's run with the best validation BLEU decodes {TEST_SPLIT} with beam "
        f"{BEAM}, as ours does (the other rates are not decoded on test).",
        "",
        batch_line(session, data, configs[next(iter(configs))]),
        "",
        warmup_line(session, configs, results),
        "",
        "| architecture | toolkit | peak learning rate | precision | parameters | updates | minutes | valid BLEU, last | "
        "valid BLEU, best | test BLEU | test BLEU, lowercased |",
        "|---|---|--:|---|--:|--:|--:|--:|--:|--:|--:|",
        *table,
        "",
        "When ours first reached the last validation BLEU of JoeyNMT's chosen run (validations only: ours validates "
        "once an epoch):",
        "",
        "| architecture | JoeyNMT's peak learning rate | JoeyNMT's last valid BLEU | JoeyNMT got there at | ours first got "
        "there at | JoeyNMT's time / ours |",
        "|---|--:|--:|--:|--:|--:|",
        *timing,
        "",
        f"Test BLEU: sacrebleu {scores['bleu_signature']}; lowercased: {scores['bleu_lc_signature']}.",
        "",
        "Validation curves (toolkit at its peak learning rate; minutes: greedy BLEU):",
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
    else:
        configs = {preset: recipe(preset) for preset in args.presets}
        first = next(iter(configs.values()))
        if len({config.train.batch_tokens for config in configs.values()}) > 1:
            sys.exit("--presets: their recipes' batch sizes differ; JoeyNMT's equal-real-tokens budget assumes one")
        # the first preset's tokenizer settings are every preset's (JoeyNMT's configs come from each one's recipe)
        data = prepare_data(args.data_root, fresh_directory(args.work_dir), args.train_sentences, first)
        batch_tokens = args.joeynmt_batch_tokens or real_tokens.equal_real_tokens_budget(
            training_examples(data, first), first.train.batch_tokens)
        session = Session(shlex.join(["python", "benchmarks/quality_vs_joeynmt.py", *sys.argv[1:]]), os.getloadavg()[0],
                          args.minutes, args.presets, args.train_sentences, batch_tokens,
                          args.joeynmt_validations_per_epoch, args.calibration_seconds)
        session.save(args.work_dir)
        for preset in args.presets:
            run_preset(preset, args, joey, data, session)
    results = {preset: collected(args.work_dir / preset, preset, session, configs[preset]) for preset in session.presets}
    write_table(args.out, report(session, configs, data, results))


if __name__ == "__main__":
    main()
