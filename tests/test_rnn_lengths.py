"""The encoder's unpacked RNN equals torch's packed one: outputs, final states and gradients."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seq2seq.models.rnn import make_rnn, run_over_lengths


def packed_reference(rnn: torch.nn.RNNBase, inputs: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """What the encoder computed before: packed sequences, padded back with zeros; the last layer's final states."""
    packed = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
    outputs, final = rnn(packed)
    hidden = final[0] if isinstance(final, tuple) else final
    directions = 2 if rnn.bidirectional else 1
    return pad_packed_sequence(outputs, batch_first=True, total_length=inputs.size(1))[0], hidden[-directions:]


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers", [1, 2])
def test_unpacked_run_equals_the_packed_one(cell, bidirectional, layers):
    torch.manual_seed(0)
    rnn = make_rnn(cell, 6, 5, layers, 0.3, bidirectional=bidirectional).eval()  # eval: dropout off in both
    lengths = torch.tensor([7, 3, 1, 5])
    inputs = torch.randn(4, 7, 6, requires_grad=True)
    outputs, final = run_over_lengths(rnn, inputs, lengths)
    expected_outputs, expected_final = packed_reference(rnn, inputs, lengths)
    torch.testing.assert_close(outputs, expected_outputs, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(final, expected_final, rtol=1e-5, atol=1e-6)
    assert outputs[1, 3:].abs().sum() == 0  # padding positions are zero, as pad_packed_sequence left them

    weights = torch.randn_like(outputs)
    grads = torch.autograd.grad((outputs * weights).sum() + final.sum(), [inputs, *rnn.parameters()])
    expected = torch.autograd.grad((expected_outputs * weights).sum() + expected_final.sum(), [inputs, *rnn.parameters()])
    for grad, reference in zip(grads, expected):
        torch.testing.assert_close(grad, reference, rtol=1e-4, atol=1e-5)
    assert grads[0][1, 3:].abs().sum() == 0  # nothing flows into padding: no direction read it before a real step
