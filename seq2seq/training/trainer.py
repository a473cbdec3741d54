"""The training loop: teacher forcing, label-smoothed cross-entropy, Adam, clipping, warm-up.

After every epoch (and every `valid_every` updates, where set) it asks its hooks to validate and save,
keeps the best score, and stops early when the score has not improved for `patience` validations.
What validation means (loss, greedy BLEU) and where state is written (checkpoints, metrics) belong to
the caller, which passes them in as `TrainingHooks`: the loop knows the model, its settings and
nothing of files or tokenizers. Its state (`state_dict`)
holds everything needed to continue (optimizer, schedule, RNG states, epoch and the batches of it already
trained), and each epoch's data order derives from the seed and the epoch number, so a resumed run sees
the batches an uninterrupted run would have seen, from a mid-epoch checkpoint too.
"""

from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import dataclass
from typing import Any, Callable

import torch
from omegaconf import DictConfig
from tqdm import tqdm

from seq2seq.data.batching import Batch, Example, collate, token_batches
from seq2seq.data.tokenizer import PAD_ID
from seq2seq.errors import UserError
from seq2seq.models.encoder_decoder import EncoderDecoder
from seq2seq.progress import ProgressLines
from seq2seq.training.distributed import Distributed, shard, wrap
from seq2seq.training.loss import smoothed_cross_entropy
from seq2seq.training.precision import autocast

log = logging.getLogger(__name__)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def learning_rate_factor(schedule: str, warmup_steps: int, step: int) -> float:
    """Multiplier on the base learning rate after `step` updates.

    `noam`: linear warm-up, then decay with 1/sqrt(step) (Vaswani et al. 2017, §5.3), peaking at the
    base rate; `constant`: linear warm-up (if any), then flat.
    """
    step = step + 1
    warmup = max(warmup_steps, 1)
    if schedule == "noam":
        return min(step / warmup, math.sqrt(warmup / step))
    if schedule == "constant":
        return min(step / warmup, 1.0)
    raise ValueError(f"train.schedule={schedule!r}: choose 'noam' or 'constant'")


def check_train_settings(settings: DictConfig) -> None:
    """Reject impossible `train.*` values before any data is read (ValueError naming the key).

    Types are the schema's job (`config_schema.TrainConfig`); this checks choices and ranges.
    """
    learning_rate_factor(settings.schedule, settings.warmup_steps, 0)
    if settings.long_sentences not in ("filter", "truncate"):
        raise ValueError(f"train.long_sentences={settings.long_sentences!r}: choose 'filter' or 'truncate'")
    if settings.early_stopping_metric not in ("bleu", "loss"):
        raise ValueError(f"train.early_stopping_metric={settings.early_stopping_metric!r}: choose 'bleu' or 'loss'")
    if settings.get("progress_seconds", 0) < 0:
        raise ValueError(f"train.progress_seconds={settings.progress_seconds!r}: must be >= 0")
    for key in ("max_epochs", "batch_tokens", "patience", "log_every"):
        if settings[key] < 1:
            raise ValueError(f"train.{key}={settings[key]!r}: must be a whole number >= 1")
    if settings.get("valid_every") is not None and settings.valid_every < 1:
        raise ValueError(f"train.valid_every={settings.valid_every!r}: must be null or a whole number >= 1")
    if settings.lr <= 0 or not 0 <= settings.label_smoothing < 1:
        raise ValueError(f"train.lr={settings.lr} must be > 0 and train.label_smoothing={settings.label_smoothing} in [0, 1)")


def batch_loss(model: EncoderDecoder, batch: Batch, label_smoothing: float) -> torch.Tensor:
    """Summed token cross-entropy of one batch under teacher forcing.

    Only real target positions are projected onto the vocabulary: the output layer and the softmax are
    the largest matmul and tensor per token, and padding positions would only be masked out of the loss.
    """
    real = batch.tgt_out != PAD_ID
    logits, _ = model(batch.src, batch.src_mask, batch.tgt_in, only=real)  # [real target tokens, vocab]
    return smoothed_cross_entropy(logits, batch.tgt_out[real], label_smoothing)


@torch.inference_mode()
def validation_loss(model: EncoderDecoder, batches: list[Batch], precision: str) -> float:
    """Mean token cross-entropy (no smoothing) of the model as it is: `Trainer.fit` validates in eval mode."""
    total, tokens = 0.0, 0
    for batch in batches:
        with autocast(batch.src.device, precision):
            total += float(batch_loss(model, batch, 0.0))
        tokens += batch.num_tgt_tokens
    return total / max(tokens, 1)


def make_adam(
    parameters: list[torch.nn.Parameter], lr: float, betas: tuple[float, float], weight_decay: float
) -> torch.optim.Adam:
    """Fused Adam (one kernel over all parameters, measured in `benchmarks/levers.py`) where this torch
    has it for the device; the per-parameter loop elsewhere."""
    try:
        return torch.optim.Adam(parameters, lr=lr, betas=betas, weight_decay=weight_decay, fused=True)
    except RuntimeError:  # torch < 2.4 on CPU, or a device without a fused kernel
        return torch.optim.Adam(parameters, lr=lr, betas=betas, weight_decay=weight_decay)


@dataclass
class TrainingOutcome:
    epochs: int
    steps: int
    best_score: float
    seconds: float
    throughput: dict[str, float | None]  # see `Trainer.throughput`
    stopped_by: str  # which limit ended training: max_steps, max_minutes, max_epochs or patience (`Trainer.stop_reason`)


@dataclass
class TrainingHooks:
    """What the loop calls out to; the caller decides what validation means and where things go.

    `validate()` scores the current model ({"loss", "bleu", ...}); `save(state, improved)` keeps the
    trainer's state after each validation; `log(record)` records metrics; `last_saved()` names the last
    saved state, for the message when the loss diverges.
    """

    validate: Callable[[], dict[str, float]]
    save: Callable[[dict[str, Any], bool], None] = lambda state, improved: None
    log: Callable[[dict[str, Any]], None] = lambda record: None
    last_saved: Callable[[], str] = lambda: "none yet"


class Trainer:
    """Owns the model's optimizer, schedule and progress for one run (`settings` is the `train` config)."""

    def __init__(
        self,
        model: EncoderDecoder,
        settings: DictConfig,
        device: torch.device,
        precision: str,
        distributed: Distributed = Distributed(),
    ) -> None:
        self.model, self.settings = model, settings
        self.device, self.precision, self.distributed = device, precision, distributed
        self.train_model = wrap(model, distributed, device)  # DDP under torchrun, else the model itself
        self.optimizer = make_adam(list(model.parameters()), settings.lr, tuple(settings.betas), settings.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: learning_rate_factor(settings.schedule, settings.warmup_steps, step)
        )
        self.epoch = self.step = self.bad_epochs = 0  # bad_epochs: validations since the best one
        self.epoch_batches = 0  # batches of epoch `epoch + 1` already trained (a checkpoint saved mid-epoch)
        self.best_score = -math.inf
        self.elapsed = 0.0
        # what the updates cost, validation left out: seconds in train_step and the positions of its batches
        self.counts = {"step_seconds": 0.0, "tgt_tokens": 0, "real_positions": 0, "padded_positions": 0}
        self.hooks = TrainingHooks(validate=dict)

    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs: weights, optimizer, schedule, counters and RNG states."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "epoch": self.epoch,
            "epoch_batches": self.epoch_batches,
            "step": self.step,
            "best_score": self.best_score,
            "bad_epochs": self.bad_epochs,
            "elapsed": self.elapsed,
            "counts": dict(self.counts),
            "rng": {"python": random.getstate(), "torch": torch.get_rng_state()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a saved state (see `state_dict`)."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.epoch, self.step = state["epoch"], state["step"]
        self.epoch_batches = state.get("epoch_batches", 0)  # checkpoints saved before mid-epoch validation: 0
        self.best_score, self.bad_epochs = state["best_score"], state["bad_epochs"]
        self.elapsed = state["elapsed"]
        self.counts.update(state.get("counts", {}))  # checkpoints saved before the counts: from zero
        random.setstate(state["rng"]["python"])
        torch.set_rng_state(state["rng"]["torch"])

    def train_step(self, batch: Batch) -> torch.Tensor:
        """One update on one batch (the unit `benchmarks/train_throughput.py` times); returns the mean token loss."""
        settings = self.settings
        with autocast(self.device, self.precision):
            loss = batch_loss(self.train_model, batch, settings.label_smoothing) / batch.num_tgt_tokens
        if not torch.isfinite(loss):
            raise UserError(
                f"training loss became {loss.item()} at step {self.step + 1}; last good checkpoint: "
                f"{self.hooks.last_saved()}; try a lower train.lr or train.clip_norm"
            )
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if settings.clip_norm:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), settings.clip_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.step += 1
        return loss

    def _train_epoch(self, examples: list[Example], deadline: float | None, started: float) -> int:
        """One pass over the data (from where a mid-epoch checkpoint left it), validating every `valid_every`
        updates; returns early where a step or time limit, or patience spent mid-epoch, ends training.
        Returns the epoch's number of batches (`epoch_batches` says how many of them were trained)."""
        settings = self.settings
        batches = token_batches(examples, settings.batch_tokens, shuffle=True, seed=settings.seed + self.epoch)
        batches = shard(batches, self.distributed)  # the same shuffled list on every rank, a different share each
        progress = tqdm(batches[self.epoch_batches:], desc=f"epoch {self.epoch + 1}", unit="batch",
                        disable=None if self.distributed.is_main else True, leave=False)
        report = ProgressLines(settings.get("progress_seconds", 60.0), enabled=progress.disable and self.distributed.is_main)
        valid_every = settings.get("valid_every")
        window_tokens, window_start = 0, time.perf_counter()
        for group in progress:
            host_batch = collate(group)
            batch = host_batch.to(self.device)
            before = time.perf_counter()
            loss = self.train_step(batch)
            self.count(host_batch, time.perf_counter() - before)
            self.epoch_batches += 1
            window_tokens += batch.num_tgt_tokens
            if self.step % settings.log_every == 0:
                seconds = time.perf_counter() - window_start
                record = {  # rank 0's loss; throughput of all ranks, assuming they keep pace with rank 0
                    "kind": "train", "epoch": self.epoch + 1, "step": self.step, "loss": loss.item(),
                    "lr": self.scheduler.get_last_lr()[0],
                    "tokens_per_s": window_tokens * self.distributed.world_size / max(seconds, 1e-9),
                }
                self.hooks.log(record)
                progress.set_postfix(loss=f"{record['loss']:.3f}", tok_s=f"{record['tokens_per_s']:.0f}")
                window_tokens, window_start = 0, time.perf_counter()
            if report.due():
                log.info("%s", self.progress_line(loss, len(batches), started, deadline))
            if settings.max_steps and self.step >= settings.max_steps:
                break
            if deadline is not None and time.perf_counter() >= deadline:
                break
            if valid_every and self.step % valid_every == 0 and self.epoch_batches < len(batches):
                self._validate_and_save(started, epoch=self.epoch + self.epoch_batches / len(batches))
                window_start = time.perf_counter()  # validation time is not training throughput
                if self.bad_epochs >= settings.patience:
                    break
        return len(batches)

    def progress_line(self, loss: torch.Tensor, epoch_batches: int, started: float, deadline: float | None) -> str:
        """`step 240 / 5,000 updates (epoch 1, 24%), loss 5.123, 1,520 target tokens/s, 12.3 minutes left`: minutes
        left to the nearest budget (updates, minutes or epochs) at the run's mean rate, early stopping aside."""
        settings, now = self.settings, time.perf_counter()
        rate = self.step / max(now - started, 1e-9) if self.step else 0.0  # updates per second, validations included
        epochs_left = (settings.max_epochs - self.epoch) * epoch_batches - self.epoch_batches
        steps_left = min(epochs_left, settings.max_steps - self.step if settings.max_steps else epochs_left)
        left = [steps_left / rate] if rate else []
        left += [deadline - now] if deadline is not None else []
        total = f" / {settings.max_steps:,}" if settings.max_steps else ""
        speed = self.throughput()["tgt_tokens_per_s"]
        return (f"step {self.step:,}{total} updates (epoch {self.epoch + 1}, {self.epoch_batches / epoch_batches:.0%}), "
                f"loss {loss.item():.3f}, {speed or 0:,.0f} target tokens/s"
                + (f", {max(min(left), 0) / 60:.1f} minutes left" if left else ""))

    def count(self, batch: Batch, seconds: float) -> None:
        """Add one update's time, target tokens and real/padded positions (source and target) to `counts`."""
        counts = self.counts
        counts["step_seconds"] += seconds
        counts["tgt_tokens"] += batch.num_tgt_tokens
        counts["real_positions"] += int(batch.src_mask.sum()) + batch.num_tgt_tokens
        counts["padded_positions"] += batch.src.numel() + batch.tgt_out.numel()

    def throughput(self) -> dict[str, float | None]:
        """Real target tokens per second of updates (validation excluded; all ranks under DDP) and the share of
        padding among the source and target positions the updates computed, over the whole run so far."""
        counts = self.counts
        seconds, padded = counts["step_seconds"], counts["padded_positions"]
        return {"tgt_tokens_per_s": counts["tgt_tokens"] * self.distributed.world_size / seconds if seconds else None,
                "padding": 1 - counts["real_positions"] / padded if padded else None}

    def _validate_and_save(self, started: float, epoch: float) -> None:
        """Validate, keep the best score, log and save; `epoch` is fractional for a mid-epoch validation."""
        self.model.eval()
        scores = self.hooks.validate()
        self.model.train()
        self.elapsed = time.perf_counter() - started
        score = scores["bleu"] if self.settings.early_stopping_metric == "bleu" else -scores["loss"]
        improved = score > self.best_score
        if improved:
            self.best_score, self.bad_epochs = score, 0
        else:
            self.bad_epochs += 1
        epoch = int(epoch) if epoch == int(epoch) else round(epoch, 3)
        self.hooks.log({"kind": "valid", "epoch": epoch, "step": self.step, **scores, "best": improved,
                        "elapsed_s": self.elapsed})
        log.info("epoch %s step %d: valid loss %.3f ppl %.2f BLEU %.2f%s", epoch, self.step,
                 scores["loss"], scores["ppl"], scores["bleu"], " (best)" if improved else "")
        self.hooks.save(self.state_dict(), improved)

    def stop_reason(self) -> str | None:
        """Which limit ends training (`patience`, `max_steps`, `max_minutes`, `max_epochs`), or None to train on.

        Read from the trainer's state (restored on resume), so a run killed after its last epoch
        goes straight to evaluation when resumed instead of training on.
        """
        settings = self.settings
        if self.bad_epochs >= settings.patience:
            return "patience"
        if settings.max_steps and self.step >= settings.max_steps:
            return "max_steps"
        if settings.max_minutes and self.elapsed >= settings.max_minutes * 60:
            return "max_minutes"
        return "max_epochs" if self.epoch >= settings.max_epochs else None

    def limit_reached(self) -> bool:
        """Whether training is over: epochs, steps or minutes used up, or patience run out."""
        return self.stop_reason() is not None

    def describe_stop(self, reason: str) -> str:
        """The line that ends training: which budget stopped it, and after how many updates and minutes."""
        settings = self.settings
        if reason == "patience":
            why = (f"early stopping: no better validation {settings.early_stopping_metric} in {self.bad_epochs} "
                   f"validations (train.patience={settings.patience})")
        else:
            budget = {"max_steps": "update", "max_minutes": "time", "max_epochs": "epoch"}[reason]
            why = f"the {budget} budget (train.{reason}={settings[reason]:g})"
        return (f"training stopped by {why} after {self.step:,} updates ({self.epoch} whole "
                f"epoch{'s' * (self.epoch != 1)}), "
                f"{self.elapsed / 60:.1f} minutes")

    def fit(self, train_examples: list[Example], hooks: TrainingHooks) -> TrainingOutcome:
        """Train until a limit is reached, validating, logging and saving through `hooks` after every epoch
        (and every `valid_every` updates)."""
        settings, self.hooks = self.settings, hooks
        self.model.train()
        log.info("training on %s in %s with %d thread(s)", self.device,
                 "bf16 autocast (fp32 weights)" if self.precision == "bf16" else self.precision, torch.get_num_threads())
        started = time.perf_counter() - self.elapsed
        deadline = started + settings.max_minutes * 60 if settings.max_minutes else None
        while not self.limit_reached():
            batches = self._train_epoch(train_examples, deadline, started)  # a step or time limit may cut it short
            if self.bad_epochs >= settings.patience:  # spent by a validation inside the epoch, already saved
                break
            if self.epoch_batches >= batches:
                self.epoch, self.epoch_batches = self.epoch + 1, 0
            # cut short, the epoch stays open: training on with a bigger budget (train.resume=true) finishes it
            self._validate_and_save(started, epoch=self.epoch + self.epoch_batches / max(batches, 1))
        reason = self.stop_reason() or "patience"  # the loop ends on a limit, or on patience spent mid-epoch
        log.info("%s", self.describe_stop(reason))
        return TrainingOutcome(self.epoch, self.step, self.best_score, self.elapsed, self.throughput(), reason)
