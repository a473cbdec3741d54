"""Label-smoothed cross-entropy with its gradient written out, for the output layer's [tokens, vocab] logits.

`F.cross_entropy` goes backward through `nll_loss` (a zero-filled [tokens, vocab] gradient, then a
scatter) and then `log_softmax`'s own backward: two passes and one fill over the largest tensor of a
training step (torch.profiler shows the fill in every step). The gradient has a closed form, softmax(logits) minus the smoothed target distribution, so backward computes it in one
pass from the log-probabilities saved by forward.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor


class _SmoothedCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, logits: Tensor, target: Tensor, smoothing: float) -> Tensor:
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        true_class = log_probs.gather(1, target.unsqueeze(1)).squeeze(1)
        loss = -(1.0 - smoothing) * true_class.sum() - smoothing / log_probs.size(1) * log_probs.sum()
        ctx.save_for_backward(log_probs, target)
        ctx.smoothing, ctx.logits_dtype = smoothing, logits.dtype
        return loss

    @staticmethod
    def backward(ctx: Any, grad_loss: Tensor) -> tuple[Tensor, None, None]:
        log_probs, target = ctx.saved_tensors
        grad = log_probs.exp()  # softmax
        grad.sub_(ctx.smoothing / grad.size(1))  # the uniform share of the smoothed target, on every class
        rows = torch.arange(grad.size(0), device=grad.device)
        grad[rows, target] -= 1.0 - ctx.smoothing  # the true class's share
        return grad.mul_(grad_loss).to(ctx.logits_dtype), None, None


def smoothed_cross_entropy(logits: Tensor, target: Tensor, smoothing: float) -> Tensor:
    """Summed cross-entropy of logits [tokens, vocab] against target [tokens] smoothed as `F.cross_entropy`'s
    `label_smoothing` does it (the target distribution puts `smoothing` / vocab on every class and the rest on
    the true one), computed in fp32 whatever the logits' dtype; the gradient comes back in the logits' dtype."""
    return _SmoothedCrossEntropy.apply(logits, target, smoothing)
