"""The training loss's hand-written gradient equals torch's cross-entropy, value and gradient, in fp32 and bf16."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from seq2seq.training.loss import smoothed_cross_entropy


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
def test_value_and_gradient_equal_torchs_label_smoothed_cross_entropy(smoothing):
    generator = torch.Generator().manual_seed(0)
    logits = (3 * torch.randn(37, 50, generator=generator, dtype=torch.float64)).requires_grad_()
    target = torch.randint(0, 50, (37,), generator=generator)
    expected = F.cross_entropy(logits, target, label_smoothing=smoothing, reduction="sum")
    (expected_grad,) = torch.autograd.grad(2.5 * expected, logits)
    ours = smoothed_cross_entropy(logits, target, smoothing)
    (grad,) = torch.autograd.grad(2.5 * ours, logits)  # an upstream factor, as the trainer's division by tokens
    assert ours.item() == pytest.approx(expected.item(), rel=1e-6)
    torch.testing.assert_close(grad, expected_grad.float().to(grad.dtype), rtol=1e-5, atol=1e-6)


def test_bf16_logits_are_scored_in_fp32_and_get_a_bf16_gradient():
    generator = torch.Generator().manual_seed(1)
    logits = torch.randn(20, 30, generator=generator).to(torch.bfloat16).requires_grad_()
    target = torch.randint(0, 30, (20,), generator=generator)
    loss = smoothed_cross_entropy(logits, target, 0.1)
    loss.backward()
    assert loss.dtype == torch.float32 and logits.grad.dtype == torch.bfloat16
    reference = F.cross_entropy(logits.detach().float(), target, label_smoothing=0.1, reduction="sum")
    assert loss.item() == pytest.approx(reference.item(), rel=1e-6)


def test_no_gradient_is_kept_under_inference_mode():
    """Validation scores the loss under torch.inference_mode: forward alone must work there."""
    logits, target = torch.randn(4, 6), torch.tensor([0, 5, 2, 2])
    with torch.inference_mode():
        loss = smoothed_cross_entropy(logits, target, 0.0)
    assert loss.item() == pytest.approx(F.cross_entropy(logits, target, reduction="sum").item(), rel=1e-6)
