"""One run from config to results: load data, tokenize, build, train, decode the test splits, score.

`train_run` is what `seq2seq-train` does inside its run directory; `evaluate_run` re-opens a finished
run directory and scores any split again without retraining. Both load everything they need before
the first expensive step, so a wrong split name or path fails in seconds, not after training.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from seq2seq.data.batching import make_examples, too_long
from seq2seq.data.parallel import ParallelText
from seq2seq.data.tokenizer import Tokenizer, TokenizerSettings, build_tokenizer
from seq2seq.decoding import SearchSettings, translate
from seq2seq.distributed import gather_checksums, setup, teardown
from seq2seq.errors import UserError
from seq2seq.evaluation import bucket_bounds, evaluate_split, format_results_table
from seq2seq.models.encoder_decoder import EncoderDecoder, build_model, check_model_limits
from seq2seq.plotting import plot_attention
from seq2seq.precision import resolve_precision
from seq2seq.rundir import load_checkpoint, remove_partial_writes, run_metadata, write_json, write_text
from seq2seq.statistics import BootstrapSettings, BucketSettings
from seq2seq.training import Trainer, check_train_settings, seed_everything

log = logging.getLogger(__name__)

EVAL_DEFAULTS = Path(__file__).parent / "conf" / "eval" / "default.yaml"


def build_from_config(key: str, build: Any, *args: Any) -> Any:
    """Call a config-driven constructor, naming the config key when the user's values are at fault."""
    try:
        return build(*args)
    except InstantiationException as error:
        cause = error.__cause__
        if isinstance(cause, UserError):
            raise cause from None
        if isinstance(cause, (ValueError, TypeError)):
            raise UserError(f"{key}: {cause}") from None
        raise
    except ValueError as error:
        raise UserError(f"{key}: {error}") from None


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def test_split_names(config: DictConfig) -> list[str]:
    return list(config.eval.splits or config.data.test_splits)


def load_splits(corpus: Any, names: list[str]) -> dict[str, ParallelText]:
    return {name: corpus.load(name) for name in names}


def make_paths_absolute(config: DictConfig) -> dict[str, str]:
    """Resolve the config's relative paths against the current directory, in place; returns them as typed.

    The run's config.yaml then works from any directory (`seq2seq-eval`, `seq2seq-compare` and
    `seq2seq-reproduce` read it later, from wherever they are started).
    """
    keys = ["data.root", "tokenizer.cache_dir"]
    splits = OmegaConf.select(config, "data.corpus.splits")
    if isinstance(splits, DictConfig):  # the files corpus: per split a path, or {src, tgt}
        for split, value in splits.items():
            keys += [f"data.corpus.splits.{split}.{side}" for side in ("src", "tgt")] if isinstance(value, DictConfig) \
                else [f"data.corpus.splits.{split}"]
    typed = {}
    for key in keys:
        value = OmegaConf.select(config, key)
        if isinstance(value, str) and value:
            absolute = str(Path(value).expanduser().absolute())
            if absolute != value:
                typed[key] = value
                OmegaConf.update(config, key, absolute, merge=False)
    return typed


def check_config(config: DictConfig) -> None:
    """Catch impossible settings before any data is read."""
    try:
        bucket_bounds(list(config.eval.bucket_edges))
    except ValueError as error:
        raise UserError(f"eval.bucket_edges: {error}") from None
    for key, settings in (("bootstrap", BootstrapSettings), ("buckets", BucketSettings)):
        try:
            settings.from_config(config.eval.get(key))
        except ValueError as error:
            raise UserError(f"eval.{key}.{error}") from None
    build_from_config("eval", SearchSettings.from_config, config.eval)


def evaluate_split_of_run(
    model: EncoderDecoder, tokenizer: Tokenizer, corpus: Any, name: str, text: ParallelText,
    config: DictConfig, run_dir: Path, precision: str,
) -> dict[str, Any]:
    """Decode one split, write its hypotheses, and score it overall and by source length."""
    search = SearchSettings.from_config(config.eval)
    hypotheses = translate(model, tokenizer, text.src, search, precision=precision, name=name, progress=True)
    output = tokenizer.decode_tgt([h.tokens for h in hypotheses])
    write_text(run_dir / "hypotheses" / f"{name}.txt", "".join(line + "\n" for line in output))
    buckets = BucketSettings.from_config(config.eval.get("buckets"))
    subwords = [len(ids) for ids in tokenizer.encode_src(text.src)] if buckets.unit == "subwords" else None
    result = evaluate_split(output, text.tgt, text.src, list(config.eval.bucket_edges), buckets=buckets,
                            bootstrap=BootstrapSettings.from_config(config.eval.get("bootstrap")), source_subwords=subwords)
    if text.meta is not None and hasattr(corpus, "extra_metrics"):
        result.update(corpus.extra_metrics(text, output))
    result["pairs"] = {"on_disk": text.pairs_on_disk, "scored": len(output)}  # a test set never shrinks unseen
    print(format_results_table(name, result), flush=True)
    return result


def evaluate_into_results(
    results: dict[str, Any], results_path: Path, texts: dict[str, ParallelText], score: Any,
) -> dict[str, Any]:
    """Score the splits one by one, writing results.json after each, so that nothing finished is lost.

    `score(name, text)` gives one split's result. A split whose evaluation fails (a bad input, memory)
    is recorded under `failed_splits` with its message and the others go on; the splits not yet done
    stay under `pending_splits`, which `seq2seq-eval RUN` or `train.resume=true` finishes.
    """
    results.setdefault("splits", {})
    results["pending_splits"] = list(dict.fromkeys([*results.get("pending_splits", []), *texts]))
    results["failed_splits"] = {k: v for k, v in results.get("failed_splits", {}).items() if k not in texts}
    write_json(results_path, results)
    for name, text in texts.items():
        try:
            results["splits"][name] = score(name, text)
        except Exception as error:  # noqa: BLE001 - whatever it was, the run's other results must survive it
            message = str(error) if isinstance(error, UserError) else f"{type(error).__name__}: {error}"
            log.error("evaluation of split '%s' failed: %s", name, message, exc_info=not isinstance(error, UserError))
            results["failed_splits"][name] = message
        results["pending_splits"].remove(name)
        write_json(results_path, results)
    return results


def evaluation_failures(results: dict[str, Any], run_dir: Path) -> str | None:
    """One line naming the splits whose evaluation failed and how to finish them (None if all succeeded)."""
    failed = results.get("failed_splits") or {}
    if not failed:
        return None
    listed = "; ".join(f"'{name}': {message}" for name, message in failed.items())
    return (f"evaluation failed for {len(failed)} split(s) ({listed}); the trained model and the other splits are "
            f"saved: fix the cause, then run seq2seq-eval {run_dir} to finish")


def train_run(config: DictConfig, run_dir: Path) -> dict[str, Any] | None:
    """Train one model as configured, writing everything into `run_dir`; returns results.json's content.

    Under torchrun every rank trains; only rank 0 writes and evaluates (the others return None).
    Results are written when training ends and again after each split, so an evaluation that fails
    or is killed loses nothing: `train.resume=true` (or `seq2seq-eval RUN`) finishes the missing splits.
    """
    check_config(config)
    check_model_limits(config)
    try:
        check_train_settings(config.train)
    except ValueError as error:
        raise UserError(str(error)) from None
    typed_paths = make_paths_absolute(config)
    checkpoints = run_dir / "checkpoints"
    resuming = bool(config.train.resume) and (checkpoints / "last.pt").exists()
    if (checkpoints / "last.pt").exists() and not resuming:
        raise UserError(f"{run_dir} already holds a trained run; pass train.resume=true to continue it or pick a new hydra.run.dir")
    if config.train.resume and not resuming:  # killed before its first checkpoint: start again from scratch
        (run_dir / "metrics.jsonl").unlink(missing_ok=True)
    seed_everything(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    device = resolve_device(config.device)
    distributed = setup(device)
    if distributed.enabled and device.type == "cuda":
        device = torch.device("cuda", distributed.local_rank)
    if not distributed.is_main:
        logging.getLogger("seq2seq").setLevel(logging.WARNING)
    precision = build_from_config("precision", resolve_precision, config.precision, device)

    corpus = build_from_config("data.corpus", instantiate, config.data.corpus)
    local_root = getattr(corpus, "root", None)  # found through $SEQ2SEQ_DATA: record where, for later commands
    if local_root is not None and "root" in config.data and config.data.root is None:
        config.data.root, typed_paths["data.root"] = str(Path(local_root).absolute()), None
    train = corpus.load(config.data.train_split)
    valid = corpus.load(config.data.valid_split)
    tests = load_splits(corpus, test_split_names(config))

    settings = TokenizerSettings(
        config.tokenizer.model_type, config.tokenizer.vocab_size, config.tokenizer.joint, config.tokenizer.character_coverage
    )
    tokenizer = build_tokenizer(settings, train, Path(config.tokenizer.cache_dir))
    src_ids, tgt_ids = tokenizer.encode_src(train.src), tokenizer.encode_tgt(train.tgt)
    train_examples = make_examples(src_ids, tgt_ids, config.train.max_len, config.train.long_sentences)
    long_pairs = sum(too_long(s, t, config.train.max_len) for s, t in zip(src_ids, tgt_ids))
    if long_pairs:
        action = "dropped" if config.train.long_sentences == "filter" else "truncated"
        log.warning("%s %d training pairs longer than train.max_len=%d subwords", action, long_pairs, config.train.max_len)
    valid_examples = make_examples(tokenizer.encode_src(valid.src), tokenizer.encode_tgt(valid.tgt),  # the loss, as trained
                                   config.train.max_len, config.train.long_sentences)

    model = build_from_config("model", build_model, config.model, tokenizer.src_vocab_size, tokenizer.tgt_vocab_size).to(device)
    parameters = sum(p.numel() for p in model.parameters())
    if distributed.is_main:
        tokenizer.save(run_dir / "tokenizer")
        fingerprint = corpus.fingerprint() if hasattr(corpus, "fingerprint") else None
        write_text(run_dir / "config.yaml", OmegaConf.to_yaml(config, resolve=True))
        write_json(run_dir / "meta.json", {
            **run_metadata(), "seed": config.seed, "parameters": parameters, "precision": precision,
            "world_size": distributed.world_size, "data_fingerprint": fingerprint, "train_pairs": len(train_examples),
            "vocab": {"src": tokenizer.src_vocab_size, "tgt": tokenizer.tgt_vocab_size}, "paths_as_typed": typed_paths,
        })
    log.info("model %s: %d parameters; %d training pairs; run directory %s", config.model.name, parameters, len(train_examples), run_dir)

    trainer = Trainer(model, tokenizer, config, run_dir, device, precision, distributed)
    if resuming:
        remove_partial_writes(checkpoints)
        trainer.resume(checkpoints / "last.pt")
    outcome = trainer.fit(train_examples, valid_examples, valid)
    checksums = gather_checksums(model, distributed)
    if not distributed.is_main:
        teardown(distributed)
        return None

    model.load_state_dict(load_checkpoint(outcome.best_checkpoint)["model"])
    results_path = run_dir / "results.json"
    previous = (load_json(results_path) or {}) if resuming else {}
    results = {
        "model": config.model.name,
        "encoder": type(model.encoder).__name__,
        "decoder": type(model.decoder).__name__,
        "data": config.data.name,
        "checkpoint": "checkpoints/best.pt",
        "training": {"epochs": outcome.epochs, "steps": outcome.steps, "seconds": round(outcome.seconds, 1),
                     "best_valid_score": outcome.best_score, "stopped_early": outcome.stopped_early},
        "precision": precision,
        "splits": previous.get("splits", {}),
    }
    if distributed.enabled:
        results["distributed"] = {"world_size": distributed.world_size, "replica_checksums": checksums}
    todo = {name: text for name, text in tests.items() if name not in results["splits"]}
    evaluate_into_results(results, results_path, todo, lambda name, text: evaluate_split_of_run(
        model, tokenizer, corpus, name, text, config, run_dir, precision))
    teardown(distributed)
    return results


def locate_run(path: Path) -> tuple[Path, Path]:
    """A run directory or a checkpoint inside one -> (run directory, checkpoint)."""
    path = Path(path)
    if path.is_file():
        return path.parent.parent, path
    if not path.is_dir():
        raise UserError(f"{path}: no such run directory or checkpoint")
    checkpoint = path / "checkpoints" / "best.pt"
    if not checkpoint.is_file():
        raise UserError(f"{path}: no checkpoints/best.pt; is this a finished seq2seq-train run directory?")
    return path, checkpoint


@dataclass
class TrainedRun:
    """A finished run re-opened: its config (with overrides), model weights, tokenizer and device."""

    run_dir: Path
    checkpoint_path: Path
    config: DictConfig
    model: EncoderDecoder
    tokenizer: Tokenizer
    precision: str


def open_run(path: Path, overrides: list[str]) -> TrainedRun:
    """Rebuild a trained model from its run directory's config, tokenizer and checkpoint."""
    run_dir, checkpoint_path = locate_run(path)
    config_path = run_dir / "config.yaml"
    if not config_path.is_file():
        raise UserError(f"{run_dir}: config.yaml missing; it is not a seq2seq run directory")
    config = OmegaConf.load(config_path)
    # Keys added to eval/ after the run was trained take their defaults (which keep old behaviour).
    config.eval = OmegaConf.merge(OmegaConf.load(EVAL_DEFAULTS), config.eval)
    try:
        config.merge_with_dotlist(overrides)
    except Exception as error:
        raise UserError(f"bad override in {' '.join(overrides)}: {error}") from None
    check_config(config)
    checkpoint = load_checkpoint(checkpoint_path)
    tokenizer = Tokenizer.load(run_dir / "tokenizer")
    model = build_model(config.model, tokenizer.src_vocab_size, tokenizer.tgt_vocab_size)
    model.load_state_dict(checkpoint["model"])
    device = resolve_device(config.device)
    precision = build_from_config("precision", resolve_precision, config.precision, device)
    return TrainedRun(run_dir, checkpoint_path, config, model.to(device).eval(), tokenizer, precision)


def evaluate_run(path: Path, overrides: list[str], splits_given: bool = False) -> dict[str, Any]:
    """Score a trained run and update its results file, split by split.

    Without `splits_given` (no `split=`), a run whose evaluation is unfinished (pending or failed
    splits, e.g. after a kill or an error) gets just those splits; a finished one is scored again on
    all its test splits. With `splits_given`, `eval.splits` names the splits to score.
    """
    run = open_run(path, overrides)
    corpus = build_from_config("data.corpus", instantiate, run.config.data.corpus)
    name = run.checkpoint_path.name
    results_path = run.run_dir / ("results.json" if name == "best.pt" else f"results-{run.checkpoint_path.stem}.json")
    results = load_json(results_path) or {"model": run.config.model.name, "data": run.config.data.name, "splits": {}}
    names = test_split_names(run.config)
    unfinished = [n for n in names if n not in results["splits"] or n in results.get("failed_splits", {})]
    if not splits_given and unfinished:
        log.info("finishing the evaluation of %s: %s", run.run_dir, ", ".join(unfinished))
        names = unfinished
    texts = load_splits(corpus, names)
    results["checkpoint"] = checkpoint_reference(run.checkpoint_path, run.run_dir)
    return evaluate_into_results(results, results_path, texts, lambda split, text: evaluate_split_of_run(
        run.model, run.tokenizer, corpus, split, text, run.config, run.run_dir, run.precision))


def checkpoint_reference(checkpoint: Path, run_dir: Path) -> str:
    """The checkpoint as results.json names it: relative to the run directory when inside it."""
    try:
        return str(checkpoint.resolve().relative_to(run_dir.resolve()))
    except ValueError:
        return str(checkpoint.resolve())


def load_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def translate_sentences(run: TrainedRun, sentences: list[str], heatmap_dir: Path | None, name: str = "input") -> list[str]:
    """Translate sentences with a trained run; with `heatmap_dir`, also save one attention map per sentence.

    `name` (the input file) labels the progress bar and the warnings about sentences cut to fit.
    """
    want_maps = heatmap_dir is not None and run.model.decoder.has_attention
    search = SearchSettings.from_config(run.config.eval)
    if want_maps:
        search = replace(search, beam_size=1)
    hypotheses = translate(run.model, run.tokenizer, sentences, search, need_attention=want_maps, precision=run.precision,
                           name=name, progress=True)
    outputs = run.tokenizer.decode_tgt([h.tokens for h in hypotheses])
    if want_maps:
        for number, (sentence, hypothesis, output) in enumerate(zip(sentences, hypotheses, outputs), start=1):
            source_tokens = run.tokenizer.src_pieces(sentence) + ["</s>"]
            target_tokens = run.tokenizer.tgt_pieces(hypothesis.tokens) + ["</s>"]
            plot_attention(hypothesis.attention, source_tokens, target_tokens,
                           heatmap_dir / f"attention_{number:03d}.png", title=f"{run.config.model.name}: {output}")
    return outputs
