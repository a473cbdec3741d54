"""The stages a run goes through: train then evaluate, evaluate a finished run again, translate with one.

`train_and_evaluate` is what `seq2seq-train` does inside its run directory. It loads everything it
needs before the first expensive step, so a wrong split name or path fails in seconds, not after
training; results are written when training ends and again after each split, so an evaluation
that fails or is killed loses nothing (`train.resume=true` or `seq2seq-eval RUN` finishes it).
Each split's scores name the checkpoint and decoding that made them (see `seq2seq.provenance`), so a
resumed run re-scores what its new best checkpoint translates differently, and nothing else.
"""

from __future__ import annotations

import logging
import math
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from seq2seq.config import (
    build_from_config,
    check_training_config,
    load_run_config,
    make_paths_absolute,
    test_split_names,
)
from seq2seq.config_schema import typed_config
from seq2seq.data.batching import Example, collate, make_examples, token_batches, too_long
from seq2seq.data.parallel import ParallelText
from seq2seq.data.probe.contrast import items_tsv
from seq2seq.data.tokenizer import Tokenizer, TokenizerSettings, build_tokenizer
from seq2seq.decoding import SearchSettings, translate
from seq2seq.errors import UserError
from seq2seq.files import append_jsonl, remove_partial_writes, write_json, write_text
from seq2seq.log_label import current_run_label, labelled
from seq2seq.models.encoder_decoder import EncoderDecoder, build_model
from seq2seq.provenance import DECODING_KEYS, decoding_record, is_current, result_key, splits_to_score
from seq2seq.reporting.plots import plot_attention
from seq2seq.run_dir import Results, RunDir, code_identity, locate_run, run_metadata
from seq2seq.scoring.bootstrap import BootstrapSettings
from seq2seq.scoring.buckets import BucketSettings, source_length
from seq2seq.scoring.split import corpus_scores, format_results_table, score_split
from seq2seq.training.checkpoint import checkpoint_identity, load_checkpoint, save_checkpoint
from seq2seq.training.distributed import Distributed, gather_checksums, setup, teardown
from seq2seq.training.precision import resolve_device, resolve_precision
from seq2seq.training.tensorboard import TrainingCurves
from seq2seq.training.trainer import Trainer, TrainingHooks, seed_everything, validation_loss

log = logging.getLogger(__name__)


# ---- train, then evaluate ------------------------------------------------------------------------

def train_and_evaluate(config: DictConfig, path: Path) -> Results | None:
    """Train one model as configured, writing everything into the run directory `path`; returns its results.

    Under torchrun every rank trains; only rank 0 writes and evaluates (the others return None).
    """
    run = RunDir(path)
    run.error.unlink(missing_ok=True)  # a rerun into the directory of a run that failed: no longer failed
    config = typed_config(config)  # Hydra's is typed, save `+KEY=VALUE` additions; seq2seq-reproduce passes a saved one
    check_training_config(config)
    typed_paths = make_paths_absolute(config)
    resuming = bool(config.train.resume) and run.last_checkpoint.exists()
    if run.last_checkpoint.exists() and not resuming:
        raise UserError(f"{path} already holds a trained run; pass train.resume=true to continue it or pick a new hydra.run.dir")
    if config.train.resume and not resuming:  # killed before its first checkpoint: start again from scratch
        run.metrics.unlink(missing_ok=True)
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
    tests = {name: corpus.load(name) for name in test_split_names(config)}

    settings = TokenizerSettings(
        config.tokenizer.model_type, config.tokenizer.vocab_size, config.tokenizer.joint, config.tokenizer.character_coverage
    )
    tokenizer = build_tokenizer(settings, train, Path(config.tokenizer.cache_dir))
    # the vocabulary comes from the whole training split, so that runs with different train_max_words share it
    train_examples = training_examples(tokenizer, shorter_sources(train, config.data.get("train_max_words")), config.train)
    valid_examples = make_examples(tokenizer.encode_src(valid.src), tokenizer.encode_tgt(valid.tgt),  # the loss, as trained
                                   config.train.max_len, config.train.long_sentences)

    model = build_from_config("model", build_model, config.model, tokenizer.src_vocab_size, tokenizer.tgt_vocab_size).to(device)
    parameters = sum(p.numel() for p in model.parameters())
    if distributed.is_main:
        tokenizer.save(run.tokenizer)
        fingerprint = corpus.fingerprint() if hasattr(corpus, "fingerprint") else None
        write_text(run.config, OmegaConf.to_yaml(config, resolve=True))
        write_json(run.meta, {
            **run_metadata(), "seed": config.seed, "parameters": parameters, "precision": precision,
            "world_size": distributed.world_size, "data_fingerprint": fingerprint, "train_pairs": len(train_examples),
            "vocab": {"src": tokenizer.src_vocab_size, "tgt": tokenizer.tgt_vocab_size}, "paths_as_typed": typed_paths,
        })
    log.info("model %s: %d parameters; %d training pairs; run directory %s", config.model.name, parameters, len(train_examples), path)

    trainer = Trainer(model, config.train, device, precision, distributed)
    if resuming:
        remove_partial_writes(run.checkpoints)
        state = load_checkpoint(run.last_checkpoint)
        trainer.load_state_dict(state)
        if distributed.is_main:
            run.trim_metrics(trainer.epoch + (1 if trainer.epoch_batches else 0), trainer.step)  # mid-epoch: its records
        log.info("resumed from %s at epoch %d, step %d", run.last_checkpoint, trainer.epoch, trainer.step)
    validate = validation(model, tokenizer, config, valid, valid_examples, device, precision)
    writes_curves = config.train.tensorboard and distributed.is_main  # rank 0 alone writes, as for metrics.jsonl
    with TrainingCurves(run.tensorboard, first_step=trainer.step + 1) if writes_curves else nullcontext() as curves:
        outcome = trainer.fit(train_examples, training_hooks(run, config, validate, distributed, curves))
    checksums = gather_checksums(model, distributed)
    if not distributed.is_main:
        teardown(distributed)
        return None

    best = load_checkpoint(run.best_checkpoint)
    model.load_state_dict(best["model"])
    produced_by = {"path": run.checkpoint_reference(run.best_checkpoint), **checkpoint_identity(best)}
    previous = run.read_results() if resuming else None
    results = Results(
        model=config.model.name, encoder=type(model.encoder).__name__, decoder=type(model.decoder).__name__,
        data=config.data.name, checkpoint=run.checkpoint_reference(run.best_checkpoint),
        training={"epochs": outcome.epochs, "steps": outcome.steps, "seconds": round(outcome.seconds, 1),
                  "best_valid_score": outcome.best_score, "stopped_early": outcome.stopped_by == "patience",
                  "stopped_by": outcome.stopped_by,
                  **{key: None if value is None else round(value, 4) for key, value in outcome.throughput.items()}},
        precision=precision, splits=previous.splits if previous else {},
        distributed={"world_size": distributed.world_size, "replica_checksums": checksums} if distributed.enabled else None,
    )
    todo = splits_to_score(results.splits, list(tests), produced_by, decoding_record(config.eval))
    texts = {key: tests[split] if split in tests else corpus.load(split) for key, (split, _) in todo.items()}
    evaluate_into(results, run, None, texts, lambda key, text: score_split_of_run(
        model, tokenizer, corpus, key, text, config, run, precision, todo[key][1], produced_by))
    teardown(distributed)
    return results


def shorter_sources(train: ParallelText, max_words: int | None) -> ParallelText:
    """The training pairs whose source has at most `max_words` words (all of them for None), the rest counted in the log.

    Bahdanau et al. (2014) train RNNencdec-30 and -50 on sentences up to 30 and 50 words and test
    them on all lengths: `data.train_max_words` makes that protocol one sweep.
    """
    if max_words is None:
        return train
    keep = [i for i, sentence in enumerate(train.src) if source_length(sentence) <= max_words]
    log.info("data.train_max_words=%d: kept %d of %d training pairs", max_words, len(keep), len(train))
    if not keep:
        raise UserError(f"data.train_max_words={max_words}: no training pair has a source that short")
    return train.subset(keep)


def training_examples(tokenizer: Tokenizer, train: ParallelText, settings: DictConfig) -> list[Example]:
    """The training split encoded, pairs over `train.max_len` dropped or cut (and counted in the log)."""
    src_ids, tgt_ids = tokenizer.encode_src(train.src), tokenizer.encode_tgt(train.tgt)
    long_pairs = sum(too_long(s, t, settings.max_len) for s, t in zip(src_ids, tgt_ids))
    if long_pairs:
        action = "dropped" if settings.long_sentences == "filter" else "truncated"
        log.warning("%s %d training pairs longer than train.max_len=%d subwords", action, long_pairs, settings.max_len)
    return make_examples(src_ids, tgt_ids, settings.max_len, settings.long_sentences)


def validation(
    model: EncoderDecoder, tokenizer: Tokenizer, config: DictConfig, valid: ParallelText, examples: list[Example],
    device: torch.device, precision: str,
) -> Callable[[], dict[str, float]]:
    """The per-epoch validation: loss on the validation pairs, and greedy BLEU on up to `train.valid_max_sentences`."""
    batches = [collate(g).to(device) for g in token_batches(examples, config.train.batch_tokens, shuffle=False)]
    limit = config.train.valid_max_sentences or len(valid)
    greedy = replace(SearchSettings.from_config(config.eval), beam_size=1)  # fast enough to run each epoch

    def validate() -> dict[str, float]:
        loss = validation_loss(model, batches, precision)
        hypotheses = translate(model, tokenizer, valid.src[:limit], greedy, precision=precision, name=config.data.valid_split)
        bleu = corpus_scores(tokenizer.decode_tgt([h.tokens for h in hypotheses]), valid.tgt[:limit])["bleu"]
        return {"loss": loss, "ppl": math.exp(min(loss, 50.0)), "bleu": bleu}

    return validate


def training_hooks(run: RunDir, config: DictConfig, validate: Callable[[], dict[str, float]],
                   distributed: Distributed, curves: TrainingCurves | None = None) -> TrainingHooks:
    """Where the training loop's state and records go: rank 0 writes checkpoints and metrics (and, given `curves`,
    TensorBoard's event files), the others only validate."""
    if not distributed.is_main:  # they validate too, to take the same decisions as rank 0
        return TrainingHooks(validate=validate)

    def save(state: dict[str, Any], improved: bool) -> None:
        checkpoint = {**state, "config": OmegaConf.to_container(config, resolve=True)}
        if improved:
            save_checkpoint(run.best_checkpoint, checkpoint)
        save_checkpoint(run.last_checkpoint, checkpoint)

    def log_record(record: dict[str, Any]) -> None:
        append_jsonl(run.metrics, record)
        if curves is not None:
            curves.write(record)

    return TrainingHooks(
        validate=validate, save=save, log=log_record,
        last_saved=lambda: str(run.last_checkpoint) if run.last_checkpoint.exists() else "none yet",
    )


# ---- evaluate ------------------------------------------------------------------------------------

def score_split_of_run(
    model: EncoderDecoder, tokenizer: Tokenizer, corpus: Any, key: str, text: ParallelText,
    config: DictConfig, run: RunDir, precision: str, decoding: dict[str, Any], produced_by: dict[str, Any],
) -> dict[str, Any]:
    """Decode one split with `decoding`, write its hypotheses, and score it overall and by source length.

    `key` names the entry in results.json and the hypotheses file; the entry records the split, the
    decoding, `produced_by` (the checkpoint) and the scoring code (`code_identity`) beside the scores.
    """
    search = SearchSettings(**{name: decoding[name] for name in DECODING_KEYS}, batch_tokens=config.eval.batch_tokens)
    hypotheses = translate(model, tokenizer, text.src, search, precision=precision, name=key, progress=True)
    output = tokenizer.decode_tgt([h.tokens for h in hypotheses])
    write_text(run.hypotheses(key), "".join(line + "\n" for line in output))
    buckets = BucketSettings.from_config(config.eval.buckets)
    bootstrap = BootstrapSettings.from_config(config.eval.bootstrap)
    subwords = [len(ids) for ids in tokenizer.encode_src(text.src)] if buckets.unit == "subwords" else None
    result = score_split(output, text.tgt, text.src, list(config.eval.bucket_edges), buckets=buckets,
                         bootstrap=bootstrap, source_subwords=subwords)
    if text.meta is not None and hasattr(corpus, "extra_metrics"):
        result.update(corpus.extra_metrics(text, output))
    if text.meta is not None and hasattr(corpus, "targeted_metrics"):  # scored under the model, not decoded
        items: list[dict[str, Any]] = []
        result.update(corpus.targeted_metrics(model, tokenizer, text, precision, bootstrap, items=items))
        write_text(run.contrasts(key), items_tsv(items))
    result["pairs"] = {"on_disk": text.pairs_on_disk, "scored": len(output)}  # a test set never shrinks unseen
    result.update({"split": text.name, "decoding": dict(decoding), "checkpoint": dict(produced_by), "code": code_identity()})
    extra = corpus.format_metrics(result) if hasattr(corpus, "format_metrics") else []
    label = current_run_label(config.model.name, config.seed)
    print(labelled("\n".join([format_results_table(key, result), *extra]), label), flush=True)
    return result


def evaluate_into(
    results: Results, run: RunDir, checkpoint: Path | None, texts: dict[str, ParallelText],
    score: Callable[[str, ParallelText], dict[str, Any]],
) -> Results:
    """Score the splits one by one, writing the results file after each, so that nothing finished is lost.

    `score(name, text)` gives one split's result. A split whose evaluation fails (a bad input, memory)
    is recorded under `failed_splits` with its message and the others go on; the splits not yet done
    stay under `pending_splits`, which `seq2seq-eval RUN` or `train.resume=true` finishes.
    """
    results.pending_splits = list(dict.fromkeys([*results.pending_splits, *texts]))
    results.failed_splits = {k: v for k, v in results.failed_splits.items() if k not in texts}
    run.write_results(results, checkpoint)
    for name, text in texts.items():
        try:
            results.splits[name] = score(name, text)
        except Exception as error:  # noqa: BLE001 - whatever it was, the run's other results must survive it
            message = str(error) if isinstance(error, UserError) else f"{type(error).__name__}: {error}"
            log.error("evaluation of split '%s' failed: %s", name, message, exc_info=not isinstance(error, UserError))
            results.failed_splits[name] = message
        results.pending_splits.remove(name)
        run.write_results(results, checkpoint)
    return results


def evaluation_failures(results: Results, path: Path) -> str | None:
    """One line naming the splits whose evaluation failed and how to finish them (None if all succeeded)."""
    if not results.failed_splits:
        return None
    listed = "; ".join(f"'{name}': {message}" for name, message in results.failed_splits.items())
    return (f"evaluation failed for {len(results.failed_splits)} split(s) ({listed}); the trained model and the other "
            f"splits are saved: fix the cause, then run seq2seq-eval {path} to finish")


@dataclass
class TrainedRun:
    """A finished run re-opened: its config (with overrides), model weights, tokenizer and device; `produced_by`
    is the checkpoint as results.json records it beside scores."""

    run: RunDir
    checkpoint: Path
    config: DictConfig
    model: EncoderDecoder
    tokenizer: Tokenizer
    precision: str
    produced_by: dict[str, Any]


def open_run(path: Path, overrides: list[str]) -> TrainedRun:
    """Rebuild a trained model from its run directory's config, tokenizer and checkpoint."""
    run, checkpoint_path = locate_run(path)
    config = load_run_config(run.config, overrides)
    checkpoint = load_checkpoint(checkpoint_path)
    tokenizer = Tokenizer.load(run.tokenizer)
    model = build_model(config.model, tokenizer.src_vocab_size, tokenizer.tgt_vocab_size)
    model.load_state_dict(checkpoint["model"])
    device = resolve_device(config.device)
    precision = build_from_config("precision", resolve_precision, config.precision, device)
    produced_by = {"path": run.checkpoint_reference(checkpoint_path), **checkpoint_identity(checkpoint)}
    return TrainedRun(run, checkpoint_path, config, model.to(device).eval(), tokenizer, precision, produced_by)


def evaluate_run(path: Path, overrides: list[str], splits_given: bool = False) -> Results:
    """Score a trained run and update its results file, split by split.

    Without `splits_given` (no `split=`), a run whose evaluation is unfinished (pending or failed
    splits, e.g. after a kill or an error, or splits scored by other weights) gets just those splits;
    a finished one is scored again on all its test splits. With `splits_given`, `eval.splits` names
    the splits to score. A decoding other than the run's own (config.yaml's, e.g. `beam=5`) goes
    beside the run's own results under its own key (`test.beam5`; see `seq2seq.provenance`).
    """
    trained = open_run(path, overrides)
    run, config = trained.run, trained.config
    corpus = build_from_config("data.corpus", instantiate, config.data.corpus)
    results = run.read_results(trained.checkpoint) or Results(model=config.model.name, data=config.data.name)
    decoding, own = decoding_record(config.eval), decoding_record(load_run_config(run.config, []).eval)
    keys = {result_key(name, decoding, own): name for name in test_split_names(config)}
    unfinished = [key for key in keys if key not in results.splits or key in results.failed_splits
                  or not is_current(results.splits[key], trained.produced_by, decoding)]
    if not splits_given and unfinished:
        log.info("scoring what %s lacks, or scored with other weights or another decoding: %s", run.path, ", ".join(unfinished))
        keys = {key: keys[key] for key in unfinished}
    texts = {key: corpus.load(name) for key, name in keys.items()}
    results.checkpoint = run.checkpoint_reference(trained.checkpoint)
    return evaluate_into(results, run, trained.checkpoint, texts, lambda key, text: score_split_of_run(
        trained.model, trained.tokenizer, corpus, key, text, config, run, trained.precision, decoding,
        trained.produced_by))


# ---- translate -----------------------------------------------------------------------------------

def translate_sentences(trained: TrainedRun, sentences: list[str], heatmap_dir: Path | None, name: str = "input") -> list[str]:
    """Translate sentences with a trained run; with `heatmap_dir`, also save one attention map per sentence.

    `name` (the input file) labels the progress bar and the warnings about sentences cut to fit.
    """
    if heatmap_dir is not None and trained.model.decoder.has_attention:
        paths = [heatmap_dir / f"attention_{number:03d}.png" for number in range(1, len(sentences) + 1)]
        return save_attention_maps(trained, sentences, paths, name)
    search = SearchSettings.from_config(trained.config.eval)
    hypotheses = translate(trained.model, trained.tokenizer, sentences, search, precision=trained.precision, name=name,
                           progress=True)
    return trained.tokenizer.decode_tgt([h.tokens for h in hypotheses])


def save_attention_maps(trained: TrainedRun, sentences: list[str], paths: list[Path], name: str = "input") -> list[str]:
    """Translate greedily (maps come from one search path) and save each sentence's attention map; returns the outputs."""
    search = replace(SearchSettings.from_config(trained.config.eval), beam_size=1)
    hypotheses = translate(trained.model, trained.tokenizer, sentences, search, need_attention=True,
                           precision=trained.precision, name=name, progress=True)
    outputs = trained.tokenizer.decode_tgt([h.tokens for h in hypotheses])
    for sentence, hypothesis, output, path in zip(sentences, hypotheses, outputs, paths):
        source_tokens = trained.tokenizer.src_pieces(sentence) + ["</s>"]
        target_tokens = trained.tokenizer.tgt_pieces(hypothesis.tokens) + ["</s>"]
        plot_attention(hypothesis.attention, source_tokens, target_tokens, path,
                       title=f"{trained.config.model.name}: {output}")
    return outputs
