"""The training loop's pieces: the learning-rate schedule, and a run that diverges stops clearly."""

from __future__ import annotations

import math

import pytest
import torch
from hydra import compose, initialize_config_module

from seq2seq.data.batching import make_examples
from seq2seq.errors import UserError
from seq2seq.models.encoder_decoder import build_model
from seq2seq.training.trainer import Trainer, TrainingHooks, learning_rate_factor


def test_noam_schedule_warms_up_linearly_peaks_at_the_base_rate_then_decays_as_inverse_sqrt():
    factors = [learning_rate_factor("noam", 100, step) for step in range(400)]
    assert factors[0] == pytest.approx(0.01) and factors[49] == pytest.approx(0.5)
    assert max(factors) == pytest.approx(1.0) and factors.index(max(factors)) == 99
    assert factors[399] == pytest.approx(math.sqrt(100 / 400))


def test_constant_schedule_is_flat_after_warm_up_and_unknown_names_are_rejected():
    assert [learning_rate_factor("constant", 2, s) for s in range(4)] == [0.5, 1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="train.schedule"):
        learning_rate_factor("cosine", 10, 0)


def test_a_non_finite_loss_stops_training_naming_the_step_and_last_checkpoint():
    with initialize_config_module(config_module="seq2seq.conf", version_base="1.3"):
        config = compose("config", overrides=["data=files", "model=rnn", "train=tiny", "model.encoder.hidden_size=8",
                                              "model.decoder.hidden_size=8"])
    model = build_model(config.model, 20, 20)
    with torch.no_grad():
        model.decoder.output.bias.fill_(float("nan"))
    trainer = Trainer(model, config.train, torch.device("cpu"), "fp32")
    examples = make_examples([[5, 6, 7]] * 4, [[8, 9]] * 4)
    with pytest.raises(UserError, match=r"training loss became nan at step 1; last good checkpoint: none yet"):
        trainer.fit(examples, TrainingHooks(validate=dict))
