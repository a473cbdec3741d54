"""Each attention piece equals an independent reference: hand-computed numbers, torch's SDPA,
torch's nn.MultiheadAttention, or a literal loop over the Bahdanau formula."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from seq2seq.models.attention import (
    AdditiveAttention,
    CausalAttention,
    MultiHeadAttention,
    SelfAttention,
    masked_softmax,
    simplified_self_attention,
)

ATOL = 1e-5


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def causal_allowed(query_len: int, key_len: int) -> torch.Tensor:
    """Reference causal mask built by hand: query i (the last query_len of key_len) sees keys j <= its position."""
    offset = key_len - query_len
    return torch.tensor([[j <= i + offset for j in range(key_len)] for i in range(query_len)])


# --- simplified self-attention -------------------------------------------------------------------


def test_simplified_self_attention_matches_hand_computation() -> None:
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # scores x x^T = [[1,0,1],[0,1,1],[1,1,2]]
    e = math.e
    expected_weights = torch.tensor(
        [
            [e / (2 * e + 1), 1 / (2 * e + 1), e / (2 * e + 1)],
            [1 / (2 * e + 1), e / (2 * e + 1), e / (2 * e + 1)],
            [1 / (2 + e), 1 / (2 + e), e / (2 + e)],
        ]
    )
    expected_context = torch.tensor(
        [
            [2 * e / (2 * e + 1), (1 + e) / (2 * e + 1)],
            [(1 + e) / (2 * e + 1), 2 * e / (2 * e + 1)],
            [(1 + e) / (2 + e), (1 + e) / (2 + e)],
        ]
    )
    context, weights = simplified_self_attention(x)
    torch.testing.assert_close(weights, expected_weights, atol=1e-6, rtol=0)
    torch.testing.assert_close(context, expected_context, atol=1e-6, rtol=0)

    batched_context, batched_weights = simplified_self_attention(torch.stack([x, x.flip(0)]))
    torch.testing.assert_close(batched_context[0], expected_context, atol=1e-6, rtol=0)
    torch.testing.assert_close(batched_weights[0], expected_weights, atol=1e-6, rtol=0)


def test_simplified_self_attention_ignores_padding() -> None:
    x = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])
    context, weights = simplified_self_attention(x, key_padding_mask=torch.tensor([[True, True, False]]))
    e = math.e
    # row 0 now scores only (1, 0): softmax = (e, 1) / (e + 1); row 2 scores (1, 1): uniform.
    expected_weights = torch.tensor(
        [[[e / (e + 1), 1 / (e + 1), 0.0], [1 / (e + 1), e / (e + 1), 0.0], [0.5, 0.5, 0.0]]]
    )
    expected_context = torch.tensor(
        [[[e / (e + 1), 1 / (e + 1)], [1 / (e + 1), e / (e + 1)], [0.5, 0.5]]]
    )
    torch.testing.assert_close(weights, expected_weights, atol=1e-6, rtol=0)
    torch.testing.assert_close(context, expected_context, atol=1e-6, rtol=0)
    assert torch.all(weights[..., 2] == 0)


# --- self-attention and causal attention ---------------------------------------------------------


def projections(module: SelfAttention, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    return module.W_query(x), module.W_key(x), module.W_value(x)


def test_self_attention_equals_sdpa() -> None:
    module = SelfAttention(d_in=6, d_out=4)
    x = torch.randn(2, 5, 6)
    context, weights = module(x)
    expected = F.scaled_dot_product_attention(*projections(module, x))
    assert context.shape == (2, 5, 4) and weights.shape == (2, 5, 5)
    torch.testing.assert_close(context, expected, atol=ATOL, rtol=0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 5))


def test_self_attention_with_padding_equals_sdpa() -> None:
    module = SelfAttention(d_in=6, d_out=4, bias=True)
    x = torch.randn(2, 5, 6)
    padding = torch.tensor([[True] * 5, [True, True, True, False, False]])
    context, weights = module(x, key_padding_mask=padding)
    expected = F.scaled_dot_product_attention(*projections(module, x), attn_mask=padding[:, None, :])
    torch.testing.assert_close(context, expected, atol=ATOL, rtol=0)
    assert torch.all(weights[1, :, 3:] == 0)


def test_causal_attention_equals_sdpa_and_hides_the_future() -> None:
    module = CausalAttention(d_in=6, d_out=4, dropout=0.5).eval()
    x = torch.randn(2, 7, 6)
    context, weights = module(x)
    expected = F.scaled_dot_product_attention(*projections(module, x), is_causal=True)
    torch.testing.assert_close(context, expected, atol=ATOL, rtol=0)
    above_diagonal = torch.ones(7, 7, dtype=torch.bool).triu(1)
    assert torch.all(weights[:, above_diagonal] == 0)
    assert torch.all(weights[:, ~above_diagonal] > 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 7))


@pytest.mark.parametrize("t", [1, 3, 6])
def test_causal_attention_past_outputs_do_not_depend_on_future_tokens(t: int) -> None:
    module = CausalAttention(d_in=6, d_out=4)
    x = torch.randn(1, 7, 6)
    changed = x.clone()
    changed[:, t:] = torch.randn(1, 7 - t, 6) * 10
    context, _ = module(x)
    changed_context, _ = module(changed)
    assert torch.equal(context[:, :t], changed_context[:, :t])
    assert not torch.allclose(context[:, t:], changed_context[:, t:])


def test_causal_attention_with_padding_equals_sdpa() -> None:
    module = CausalAttention(d_in=6, d_out=4)
    x = torch.randn(2, 5, 6)
    padding = torch.tensor([[True] * 5, [True, True, True, False, False]])
    context, weights = module(x, key_padding_mask=padding)
    allowed = causal_allowed(5, 5)[None] & padding[:, None, :]  # [B, T, T]
    expected = F.scaled_dot_product_attention(*projections(module, x), attn_mask=allowed)
    torch.testing.assert_close(context, expected, atol=ATOL, rtol=0)
    assert torch.all(weights[~allowed] == 0)


def test_causal_attention_dropout_acts_on_the_weights_only_in_training() -> None:
    module = CausalAttention(d_in=6, d_out=4, dropout=0.5).train()
    x = torch.randn(2, 5, 6)
    torch.manual_seed(1)
    context, weights = module(x)
    torch.manual_seed(1)
    expected = F.dropout(weights, 0.5, training=True) @ module.W_value(x)
    torch.testing.assert_close(context, expected, atol=ATOL, rtol=0)
    eval_context, _ = module.eval()(x)
    assert not torch.allclose(context, eval_context)
    torch.testing.assert_close(eval_context, weights @ module.W_value(x), atol=ATOL, rtol=0)


# --- multi-head attention vs torch.nn.MultiheadAttention -----------------------------------------

D_MODEL, HEADS = 12, 3


def twin_modules() -> tuple[MultiHeadAttention, nn.MultiheadAttention]:
    ours = MultiHeadAttention(D_MODEL, HEADS).eval()
    reference = nn.MultiheadAttention(D_MODEL, HEADS, batch_first=True).eval()
    with torch.no_grad():
        reference.in_proj_bias.copy_(torch.randn(3 * D_MODEL))  # torch initialises biases to zero
        reference.out_proj.bias.copy_(torch.randn(D_MODEL))
        w_q, w_k, w_v = reference.in_proj_weight.chunk(3)
        b_q, b_k, b_v = reference.in_proj_bias.chunk(3)
        for linear, weight, bias in ((ours.q_proj, w_q, b_q), (ours.k_proj, w_k, b_k), (ours.v_proj, w_v, b_v)):
            linear.weight.copy_(weight)
            linear.bias.copy_(bias)
        ours.out_proj.weight.copy_(reference.out_proj.weight)
        ours.out_proj.bias.copy_(reference.out_proj.bias)
    return ours, reference


CASES = {
    # name: (query_len, key_len, padding lengths or None, causal)
    "self": (6, 6, None, False),
    "cross": (4, 7, None, False),
    "cross_padding": (4, 7, [7, 5], False),
    "self_padding": (6, 6, [6, 4], False),
    "causal": (6, 6, None, True),
    "causal_padding": (6, 6, [6, 4], True),
}


@pytest.mark.parametrize("case", CASES)
def test_multi_head_attention_equals_torch(case: str) -> None:
    query_len, key_len, lengths, causal = CASES[case]
    ours, reference = twin_modules()
    query = torch.randn(2, query_len, D_MODEL)
    key = query if query_len == key_len else torch.randn(2, key_len, D_MODEL)
    value = key if key is query else torch.randn(2, key_len, D_MODEL)
    padding = None if lengths is None else torch.arange(key_len)[None, :] < torch.tensor(lengths)[:, None]

    with torch.no_grad():
        expected, expected_weights = reference(
            query,
            key,
            value,
            key_padding_mask=None if padding is None else ~padding,  # torch: True = ignore
            attn_mask=~causal_allowed(query_len, key_len) if causal else None,  # torch: True = ignore
            need_weights=True,
            average_attn_weights=True,
        )
        fused, no_weights = ours(query, key, value, key_padding_mask=padding, causal=causal)
        explicit, weights = ours(query, key, value, key_padding_mask=padding, causal=causal, need_weights=True)

    assert no_weights is None and weights.shape == (2, HEADS, query_len, key_len)
    torch.testing.assert_close(fused, expected, atol=ATOL, rtol=0)
    torch.testing.assert_close(explicit, expected, atol=ATOL, rtol=0)
    torch.testing.assert_close(fused, explicit, atol=1e-6, rtol=0)
    torch.testing.assert_close(weights.mean(1), expected_weights, atol=ATOL, rtol=0)

    allowed = torch.ones(2, query_len, key_len, dtype=torch.bool)
    if padding is not None:
        allowed &= padding[:, None, :]
    if causal:
        allowed &= causal_allowed(query_len, key_len)
    assert torch.all(weights.permute(0, 2, 3, 1)[~allowed] == 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, HEADS, query_len))


def test_multi_head_attention_reuses_projected_keys_values() -> None:
    ours, _ = twin_modules()
    query, memory = torch.randn(2, 4, D_MODEL), torch.randn(2, 7, D_MODEL)
    padding = torch.tensor([[True] * 7, [True] * 5 + [False] * 2])
    cached = ours.project_keys_values(memory, memory)
    assert cached[0].shape == (2, HEADS, 7, D_MODEL // HEADS)
    for need_weights in (False, True):
        direct, direct_weights = ours(query, memory, memory, key_padding_mask=padding, need_weights=need_weights)
        reused, reused_weights = ours(query, keys_values=cached, key_padding_mask=padding, need_weights=need_weights)
        torch.testing.assert_close(reused, direct, atol=1e-6, rtol=0)
        if need_weights:
            torch.testing.assert_close(reused_weights, direct_weights, atol=1e-6, rtol=0)


@pytest.mark.parametrize("block", [1, 3])
def test_multi_head_attention_incremental_causal_equals_full(block: int) -> None:
    """A KV-cache decoder feeds only the newest `block` queries against all keys so far."""
    ours, _ = twin_modules()
    sequence = torch.randn(2, 8, D_MODEL)
    padding = torch.tensor([[True] * 8, [True] * 6 + [False] * 2])
    cache = ours.project_keys_values(sequence, sequence)
    for need_weights in (False, True):
        full, full_weights = ours(
            sequence, sequence, sequence, key_padding_mask=padding, causal=True, need_weights=need_weights
        )
        step, step_weights = ours(
            sequence[:, -block:], keys_values=cache, key_padding_mask=padding, causal=True, need_weights=need_weights
        )
        torch.testing.assert_close(step, full[:, -block:], atol=1e-6, rtol=0)
        if need_weights:
            torch.testing.assert_close(step_weights, full_weights[:, :, -block:], atol=1e-6, rtol=0)
            assert torch.all(step_weights[:, :, 0, 8 - block + 1 :] == 0)


def test_multi_head_attention_rejects_indivisible_heads() -> None:
    with pytest.raises(ValueError, match=r"10.*3"):
        MultiHeadAttention(10, 3)


# --- fully masked rows: zero weights, not NaN ----------------------------------------------------


def test_fully_masked_row_gets_zero_weights_on_both_paths() -> None:
    scores = torch.randn(2, 3, requires_grad=True)
    mask = torch.tensor([[False, False, False], [True, False, True]])
    weights = masked_softmax(scores, mask)
    assert torch.equal(weights[0], torch.zeros(3))
    torch.testing.assert_close(weights[1].sum(), torch.tensor(1.0))
    weights.sum().backward()
    assert torch.isfinite(scores.grad).all()

    ours, _ = twin_modules()
    query, memory = torch.randn(2, 3, D_MODEL), torch.randn(2, 4, D_MODEL)
    empty_source = torch.tensor([[True] * 4, [False] * 4])
    fused, _ = ours(query, memory, memory, key_padding_mask=empty_source)
    explicit, weights = ours(query, memory, memory, key_padding_mask=empty_source, need_weights=True)
    assert torch.isfinite(explicit).all() and torch.all(weights[1] == 0)
    torch.testing.assert_close(explicit, fused, atol=1e-6, rtol=0)


# --- additive (Bahdanau) attention ---------------------------------------------------------------


def additive_reference(module: AdditiveAttention, query, keys, values, mask):
    """score_j = v^T tanh(W s + U h_j + b), one source position j at a time, then a masked softmax."""
    W, U, b = module.query_proj.weight, module.key_proj.weight, module.key_proj.bias
    v = module.energy.weight[0]
    batch, steps, source_len = query.size(0), query.size(1), keys.size(1)
    weights = torch.zeros(batch, steps, source_len)
    for i in range(batch):
        for t in range(steps):
            s = query[i, t]
            scores = [v @ torch.tanh(W @ s + U @ keys[i, j] + b) for j in range(source_len)]
            exps = [math.exp(score.item()) if mask[i, j] else 0.0 for j, score in enumerate(scores)]
            for j in range(source_len):
                weights[i, t, j] = exps[j] / sum(exps)
    return weights @ values, weights


def test_additive_attention_equals_loop_reference() -> None:
    module = AdditiveAttention(query_dim=5, key_dim=6, attention_dim=4)
    query, keys, values = torch.randn(2, 3, 5), torch.randn(2, 7, 6), torch.randn(2, 7, 6)
    mask = torch.tensor([[True] * 7, [True] * 4 + [False] * 3])
    with torch.no_grad():
        context, weights = module(query, module.project_keys(keys), values, mask)
        expected_context, expected_weights = additive_reference(module, query, keys, values, mask)
    torch.testing.assert_close(weights, expected_weights, atol=1e-6, rtol=0)
    torch.testing.assert_close(context, expected_context, atol=1e-6, rtol=0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3), atol=1e-6, rtol=0)
    assert torch.all(weights[1, :, 4:] == 0)


def test_additive_attention_single_step_equals_sequence_form() -> None:
    module = AdditiveAttention(query_dim=5, key_dim=6, attention_dim=4)
    query, keys = torch.randn(2, 3, 5), torch.randn(2, 7, 6)
    mask = torch.tensor([[True] * 7, [True] * 4 + [False] * 3])
    projected = module.project_keys(keys)
    context, weights = module(query, projected, keys, mask)
    for t in range(3):
        step_context, step_weights = module(query[:, t], projected, keys, mask)
        assert step_context.shape == (2, 6) and step_weights.shape == (2, 7)
        torch.testing.assert_close(step_context, context[:, t], atol=1e-6, rtol=0)
        torch.testing.assert_close(step_weights, weights[:, t], atol=1e-6, rtol=0)


def tanh_scores(module: AdditiveAttention, query, keys) -> torch.Tensor:
    """v^T tanh(W s + U h_j + b) for every step and source position at once, as the formula reads."""
    hidden = torch.tanh(module.query_proj(query).unsqueeze(2) + module.project_keys(keys).unsqueeze(1))
    return module.energy(hidden).squeeze(-1)  # [B, T, S]


@pytest.mark.parametrize("block_elements", [1, 2 * 3 * 7 * 4, 2**19])  # a row per block, two rows, one block
def test_additive_attention_gradients_equal_the_tanh_formula_in_every_blocking(block_elements, monkeypatch) -> None:
    """The sigmoid form and the row blocks change how the energy is computed, not what the model learns."""
    monkeypatch.setattr(AdditiveAttention, "BLOCK_ELEMENTS", block_elements)
    module = AdditiveAttention(query_dim=5, key_dim=6, attention_dim=4).double()
    query, keys, values = torch.randn(5, 3, 5).double(), torch.randn(5, 7, 6).double(), torch.randn(5, 7, 6).double()
    mask = torch.ones(5, 7, dtype=torch.bool)
    mask[1, 4:] = False
    probe = torch.randn(5, 3, 6).double()

    def gradients(attend) -> tuple[torch.Tensor, list[torch.Tensor]]:
        inputs = [query.clone().requires_grad_(), keys.clone().requires_grad_()]
        module.zero_grad()
        context = attend(*inputs)
        (context * probe).sum().backward()
        return context.detach(), [x.grad for x in inputs] + [p.grad.clone() for p in module.parameters()]

    def by_formula(q, k):
        weights = masked_softmax(tanh_scores(module, q, k), mask.unsqueeze(1))
        return weights @ values

    context, grads = gradients(lambda q, k: module(q, module.project_keys(k), values, mask)[0])
    expected_context, expected_grads = gradients(by_formula)
    torch.testing.assert_close(context, expected_context, atol=1e-12, rtol=0)
    for grad, expected in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(grad, expected, atol=1e-12, rtol=0)
