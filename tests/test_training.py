"""The training loop's pieces: the loss, the learning-rate schedule, and a run that diverges stops clearly."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_module

from seq2seq.data.batching import collate, make_examples
from seq2seq.data.tokenizer import PAD_ID
from seq2seq.errors import UserError
from seq2seq.models.encoder_decoder import build_model
from seq2seq.training.trainer import Trainer, TrainingHooks, batch_loss, learning_rate_factor


@pytest.mark.parametrize("preset", ["rnn", "rnn_attention", "transformer"])
def test_loss_projects_only_real_target_positions_yet_equals_the_masked_loss_over_all_logits(preset):
    with initialize_config_module(config_module="seq2seq.conf", version_base="1.3"):
        config = compose("config", overrides=["data=files", f"model={preset}"])
    torch.manual_seed(0)
    model = build_model(config.model, 40, 40).eval()  # no dropout: both losses see the same network
    targets = [[8, 9, 10, 11, 12, 13], [14, 15], [16, 17, 18]]  # different lengths: the batch holds padding
    batch = collate(make_examples([[5, 6, 7], [7, 6], [5, 5, 6, 7]], targets))
    assert int((batch.tgt_out == PAD_ID).sum()) == 7

    projected = []
    hook = model.decoder.output.register_forward_hook(lambda module, inputs, output: projected.append(inputs[0].shape))
    loss = batch_loss(model, batch, 0.1)
    hook.remove()
    assert projected == [torch.Size([batch.num_tgt_tokens, model.decoder.output.in_features])] and batch.num_tgt_tokens == 14
    loss.backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    logits, _ = model(batch.src, batch.src_mask, batch.tgt_in)  # every position, padding included
    reference = F.cross_entropy(logits.reshape(-1, 40), batch.tgt_out.reshape(-1), ignore_index=PAD_ID,
                                label_smoothing=0.1, reduction="sum")
    reference.backward()
    assert loss.item() == pytest.approx(reference.item(), rel=1e-6)
    for grad, parameter in zip(grads, model.parameters()):
        torch.testing.assert_close(grad, parameter.grad, rtol=1e-5, atol=1e-6)


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
