"""Two trainings of one architecture at once, one thread each, on the same text and subwords.

Both runs start together and share the machine for the whole budget, so a busy spell slows both
alike. Both stop at the same training time: ours stops itself (`train.max_minutes`) and validates
where it stops; JoeyNMT has no time limit and is stopped when its own training clock (from its
"EPOCH 1" line, as its validations are timed) reaches the budget, keeping the best of the
validations it finished by then, so it validates often. JoeyNMT's recipe is ours
(`conf/train/multi30k.yaml`, composed by Hydra) written in its keys, except where `JoeyNMTSettings`
says otherwise (its batch size, a learning-rate factor, how often it validates, its warm-up).
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml
from hydra import compose, initialize_config_module
from joeynmt_config import training_config
from omegaconf import DictConfig
from training_logs import (
    ValidationPoint,
    joeynmt_curve,
    joeynmt_training_seconds,
    update_rate,
)

from seq2seq.data.batching import Example, make_examples, token_batches
from seq2seq.data.corpora import NamedCorpus
from seq2seq.data.parallel import ParallelText
from seq2seq.data.tokenizer import Tokenizer, TokenizerSettings, build_tokenizer
from seq2seq.run_dir import RunDir

SPLITS = ("train", "val", "test_2016_flickr")
TEST_SPLIT = "test_2016_flickr"
BEAM = 5
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
SEQ2SEQ_TRAIN = Path(sys.executable).parent / "seq2seq-train"
POLL_SECONDS = 5


@dataclass(frozen=True)
class JoeyNMTSettings:
    """What JoeyNMT's config takes from the benchmark instead of from our recipe."""

    batch_tokens: int | None = None  # padded tokens per batch; None: our recipe's
    lr_factor: float = 1.0  # its peak learning rate is ours times this
    validations_per_epoch: int = 1  # validations per our epoch's number of updates
    warmup_steps: int | None = None  # None: our recipe's
    logging_freq: int | None = None  # updates between its progress lines; None: at each validation
    validation_freq: int | None = None  # updates between validations; None: from validations_per_epoch


@dataclass
class Training:
    """One of the trainings run side by side: its command and log, and for JoeyNMT its model directory, whose
    validations tell when to stop it (ours stops itself)."""

    name: str
    command: list[str]
    log: Path
    joeynmt_model: Path | None = None


@dataclass
class SharedData:
    """The text both toolkits read and the one subword model both use."""

    root: Path  # SPLIT.de / SPLIT.en for SPLITS: data.root for ours, path prefixes for JoeyNMT
    train: ParallelText
    tokenizer: Tokenizer
    tokenizer_cache: Path  # seq2seq-train's tokenizer.cache_dir: it finds this model there instead of training one


def recipe(preset: str) -> DictConfig:
    """The config `seq2seq-train data=multi30k model=PRESET` composes: our side's settings, and JoeyNMT's."""
    with initialize_config_module(config_module="seq2seq.conf", version_base="1.3"):
        return compose("config", overrides=["data=multi30k", f"model={preset}"])


def write_pair(prefix: Path, text: ParallelText) -> None:
    for lang, lines in (("de", text.src), ("en", text.tgt)):
        prefix.with_name(f"{prefix.name}.{lang}").write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def prepare_data(source_root: Path, work: Path, train_sentences: int | None, config: DictConfig) -> SharedData:
    """Copy Multi30k's splits as plain text (the first `train_sentences` training pairs, if given) and train
    the subword model on the copied training split, as seq2seq-train will (same settings, same text)."""
    source = NamedCorpus("multi30k", list(SPLITS), root=str(source_root))
    root = work / "data"
    root.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        text = source.load(split)
        if split == "train" and train_sentences:
            text = text.subset(list(range(min(train_sentences, len(text)))))
        write_pair(root / split, text)
    train = NamedCorpus("multi30k", ["train"], root=str(root)).load("train")
    settings = TokenizerSettings(config.tokenizer.model_type, config.tokenizer.vocab_size, config.tokenizer.joint,
                                 config.tokenizer.character_coverage)
    cache = work / "tokenizer"
    return SharedData(root, train, build_tokenizer(settings, train, cache), cache)


def training_examples(data: SharedData, config: DictConfig) -> list[Example]:
    """The training pairs as ours trains on them: subword ids, source EOS, over-long pairs handled."""
    return make_examples(data.tokenizer.encode_src(data.train.src), data.tokenizer.encode_tgt(data.train.tgt),
                         config.train.max_len, config.train.long_sentences)


def updates_per_epoch(data: SharedData, config: DictConfig) -> int:
    """How many batches ours makes of the training split: JoeyNMT validates that often (or a set fraction of it),
    as ours does once an epoch."""
    return len(token_batches(training_examples(data, config), config.train.batch_tokens, shuffle=False))


def ours_command(preset: str, data: SharedData, run_dir: Path, minutes: float, precision: str,
                 extra: tuple[str, ...] = ()) -> list[str]:
    """seq2seq-train stopped by the budget alone (epochs and patience out of reach), then beam-5 decoding of the
    test split; `extra` overrides follow."""
    return [str(SEQ2SEQ_TRAIN), "data=multi30k", f"data.root={data.root}", f"model={preset}", "threads=1",
            f"precision={precision}", f"train.max_minutes={minutes}", "train.max_epochs=100000", "train.patience=100000",
            f"tokenizer.cache_dir={data.tokenizer_cache}", f"eval.splits=[{TEST_SPLIT}]", f"eval.beam_size={BEAM}",
            f"hydra.run.dir={run_dir}", *extra]


def write_joeynmt_configs(
    preset: str, data: SharedData, config: DictConfig, work: Path, settings: JoeyNMTSettings = JoeyNMTSettings()
) -> tuple[Path, Path]:
    """JoeyNMT's training config and its test config (the same without the dev set, so that testing
    decodes only the test split), its model directory `work`/joeynmt; its dev set is the validation
    pairs ours scores BLEU on."""
    train = config.train
    if train.schedule != "noam" or not config.tokenizer.joint:
        raise ValueError("JoeyNMT's config is written for ours' noam schedule and one joint subword model only")
    valid = NamedCorpus("multi30k", ["val"], root=str(data.root)).load("val")
    write_pair(work / "dev", valid.subset(list(range(min(train.valid_max_sentences or len(valid), len(valid))))))
    vocabulary = work / "vocabulary.txt"  # all the subword model's pieces, in its order: one vocabulary for both
    pieces = [data.tokenizer.tgt.id_to_piece(i) for i in range(data.tokenizer.tgt_vocab_size)]
    vocabulary.write_text("".join(piece + "\n" for piece in pieces), encoding="utf-8")
    same_as_ours = {key: train[key] for key in ("label_smoothing", "clip_norm", "max_len")}
    validation_freq = settings.validation_freq or max(1, round(updates_per_epoch(data, config) / settings.validations_per_epoch))
    splits = {"train": data.root / "train", "dev": work / "dev", "test": data.root / TEST_SPLIT}
    joey = training_config(preset, splits, data.tokenizer.tgt_model, vocabulary, work / "joeynmt", validation_freq,
                           lr=train.lr * settings.lr_factor, batch_tokens=settings.batch_tokens or train.batch_tokens,
                           betas=list(train.betas), beam=BEAM, warmup_steps=settings.warmup_steps or train.warmup_steps,
                           logging_freq=settings.logging_freq or validation_freq, **same_as_ours)
    paths = work / "joeynmt.yaml", work / "joeynmt_test.yaml"
    paths[0].write_text(yaml.safe_dump(joey, sort_keys=False))
    joey["data"].pop("dev")
    paths[1].write_text(yaml.safe_dump(joey, sort_keys=False))
    return paths


def joeynmt_command(python: Path, train_config: Path) -> list[str]:
    """JoeyNMT's training on a config `write_joeynmt_configs` wrote; the test split is decoded separately."""
    return [str(python), "-m", "joeynmt", "train", str(train_config), "--skip-test"]


def joeynmt_progress(model_dir: Path) -> list[ValidationPoint]:
    return joeynmt_curve(*(read_text(model_dir / name) for name in ("train.log", "validations.txt")))


def train_side_by_side(trainings: list[Training], budget_s: float) -> None:
    """Run the trainings at once; stop each JoeyNMT one when its training clock reaches the budget (or, should it
    never start training, after twice the budget and ten minutes). If one fails, stop the others at once."""
    give_up = 2 * budget_s + 600

    def joeynmt_done(training: Training, seconds: float) -> bool:
        if training.joeynmt_model is None:
            return False
        trained = joeynmt_training_seconds(read_text(training.joeynmt_model / "train.log"), datetime.now())
        return (trained is not None and trained >= budget_s) or seconds > give_up

    run_together(trainings, joeynmt_done)
    for training in trainings:
        if training.joeynmt_model is not None and not (training.joeynmt_model / "best.ckpt").exists():
            raise RuntimeError(f"{training.name} saved no checkpoint within the budget; see "
                               f"{training.joeynmt_model / 'train.log'}; raise --minutes or its validations per epoch")


def update_rates(trainings: list[Training], seconds: float) -> dict[str, float]:
    """Each training's updates per second while they run side by side for `seconds`, then are stopped: read
    from their progress lines (ours' log, JoeyNMT's train.log), so start-up is left out."""
    run_together(trainings, lambda training, elapsed: elapsed >= seconds)
    rates = {}
    for training in trainings:
        ours = training.joeynmt_model is None
        log = training.log if ours else training.joeynmt_model / "train.log"
        rate = update_rate(read_text(log), "seq2seq" if ours else "JoeyNMT")
        if rate is None:
            raise RuntimeError(f"{training.name}: fewer than two progress lines in {seconds:g} seconds; see {log}")
        rates[training.name] = rate
    return rates


def run_together(trainings: list[Training], stop_when: Callable[[Training, float], bool]) -> None:
    """Start the trainings at once, one thread each, and poll them: each is stopped once `stop_when(training,
    seconds since the start)` holds, or ends by itself. If one fails, stop the others at once."""
    env = {**os.environ, **ONE_THREAD}
    logs = [open(training.log, "w") for training in trainings]
    try:
        started = time.monotonic()
        runs = {training.name: subprocess.Popen(training.command, stdout=log, stderr=subprocess.STDOUT, env=env)
                for training, log in zip(trainings, logs)}
        stopped: set[str] = set()
        while any(run.poll() is None for run in runs.values()):
            time.sleep(POLL_SECONDS)
            for training in trainings:
                if runs[training.name].poll() is None and stop_when(training, time.monotonic() - started):
                    stopped |= stop(runs, [training.name])
            failed = [training for training in trainings
                      if runs[training.name].poll() not in (None, 0) and training.name not in stopped]
            if failed:
                stop(runs, list(runs))
                raise RuntimeError(f"{failed[0].name} failed (exit {runs[failed[0].name].returncode}); see {failed[0].log}")
    finally:
        for log in logs:
            log.close()


def read_text(path: Path) -> str:
    """A log's text so far ('' before it is written)."""
    return path.read_text(encoding="utf-8") if path.exists() else ""


def stop(runs: dict[str, subprocess.Popen], names: list[str]) -> set[str]:
    """Terminate the named runs that are still going; returns their names."""
    for name in names:
        if runs[name].poll() is None:
            runs[name].terminate()
            runs[name].wait()
    return set(names)


def check_same_subwords(run_dir: Path, data: SharedData) -> None:
    """The run must have used the prepared subword model, not one of its own."""
    if not filecmp.cmp(RunDir(run_dir).tokenizer / "tgt.model", data.tokenizer.tgt_model, shallow=False):
        raise RuntimeError(f"{run_dir} trained its own subword model: its tokenizer settings differ from the prepared one's")


def joeynmt_hypotheses(work: Path) -> Path:
    """Where `decode_joeynmt` leaves JoeyNMT's outputs (its --output-path, plus the split's suffix)."""
    return work / "joeynmt_hypotheses.test"


def decode_joeynmt(python: Path, test_config: Path, work: Path) -> Path:
    """JoeyNMT's best checkpoint on the test split, beam 5, detokenized by its sentencepiece model."""
    output = joeynmt_hypotheses(work)
    with open(work / "joeynmt_test.log", "w") as log:
        subprocess.run([str(python), "-m", "joeynmt", "test", str(test_config), "--output-path", str(output.with_suffix(""))],
                       stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **ONE_THREAD}, check=True)
    return output


def fresh_directory(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
