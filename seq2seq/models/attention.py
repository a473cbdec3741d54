"""The attention family, from the weightless dot-product idea to the two mechanisms the models use.

Read top to bottom, each step adds one idea: similarity by dot product (simplified self-attention),
trainable projections and 1/sqrt(d) scaling (self-attention), a mask on the future (causal
attention), several heads over subspaces (multi-head attention, Vaswani et al. 2017 §3.2), and the
additive score of Bahdanau et al. 2014 (§3.1, Appendix A.1.2) that the attention-RNN decoder uses.
Masks follow one convention throughout: a boolean tensor where True marks a real (attendable) token.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def attention_mask(
    key_padding_mask: Tensor | None, query_len: int, key_len: int, causal: bool, device: torch.device
) -> Tensor | None:
    """Combine a key padding mask [B, S] and a causal mask into one boolean mask [B|1, 1, T, S].

    The causal part is aligned to the end of the keys, so a query block of length T that continues a
    key sequence of length S >= T (incremental decoding with a cache) sees exactly its own past.
    """
    mask = None
    if causal:
        mask = torch.ones(query_len, key_len, dtype=torch.bool, device=device).tril(key_len - query_len)
        mask = mask[None, None]  # [1, 1, T, S]
    if key_padding_mask is not None:
        padding = key_padding_mask[:, None, None, :]  # [B, 1, 1, S]
        mask = padding if mask is None else mask & padding
    return mask


def masked_softmax(scores: Tensor, mask: Tensor | None) -> Tensor:
    """Softmax over the last axis in which masked positions get exactly zero weight.

    A row with no attendable position (an empty source sentence) gets all-zero weights instead of NaN,
    as torch's fused `scaled_dot_product_attention` does, so the explicit and fused paths agree.
    """
    if mask is None:
        return torch.softmax(scores, dim=-1)
    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
    return weights.masked_fill(~mask, 0.0)


def simplified_self_attention(x: Tensor, key_padding_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Self-attention with no parameters: each token's context is a similarity-weighted mix of all tokens.

    The dot product x_i . x_j scores how similar two tokens are, a softmax turns each row of scores into
    weights, and the context is the weighted sum of the inputs (Raschka, "Build a Large Language Model
    (From Scratch)", 2024, §3.3.1). x is [T, D] or [B, T, D]; key_padding_mask is [T] or [B, T].
    """
    scores = x @ x.transpose(-2, -1)  # [B, T, T]
    mask = None if key_padding_mask is None else key_padding_mask.unsqueeze(-2)  # [B, 1, T]
    weights = masked_softmax(scores, mask)
    return weights @ x, weights


class SelfAttention(nn.Module):
    """Scaled dot-product self-attention with trainable query, key and value projections.

    Projecting x three ways lets a token look for something (query) different from what it offers
    (key) and from what it passes on (value); dividing scores by sqrt(d_out) keeps the softmax out of
    its flat, vanishing-gradient regions as d_out grows (Vaswani et al. 2017, §3.2.1).
    """

    def __init__(self, d_in: int, d_out: int, bias: bool = False) -> None:
        super().__init__()
        self.W_query = nn.Linear(d_in, d_out, bias=bias)
        self.W_key = nn.Linear(d_in, d_out, bias=bias)
        self.W_value = nn.Linear(d_in, d_out, bias=bias)

    def forward(self, x: Tensor, key_padding_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Attend from x [B, T, d_in] to itself; returns context [B, T, d_out] and weights [B, T, T]."""
        return self._attend(x, key_padding_mask, causal=False, dropout_p=0.0)

    def _attend(
        self, x: Tensor, key_padding_mask: Tensor | None, causal: bool, dropout_p: float
    ) -> tuple[Tensor, Tensor]:
        queries, keys, values = self.W_query(x), self.W_key(x), self.W_value(x)  # [B, T, d_out]
        scores = queries @ keys.transpose(1, 2) / math.sqrt(keys.size(-1))  # [B, T, T]
        length = x.size(1)
        mask = attention_mask(key_padding_mask, length, length, causal, x.device)
        weights = masked_softmax(scores, None if mask is None else mask[:, 0])  # mask: [B|1, T, T]
        context = F.dropout(weights, dropout_p, self.training) @ values
        return context, weights


class CausalAttention(SelfAttention):
    """Self-attention in which each position sees only itself and the past, plus dropout on the weights.

    Masking the future makes the model a valid left-to-right decoder: a prediction can never peek at
    the token it has to predict (Vaswani et al. 2017, §3.2.3; Raschka 2024, §3.5). The returned
    weights are those before dropout, as in `MultiHeadAttention`.
    """

    def __init__(self, d_in: int, d_out: int, dropout: float = 0.0, bias: bool = False) -> None:
        super().__init__(d_in, d_out, bias=bias)
        self.dropout = dropout

    def forward(self, x: Tensor, key_padding_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Attend from x [B, T, d_in] to its own past; returns context [B, T, d_out] and weights [B, T, T]."""
        return self._attend(x, key_padding_mask, causal=True, dropout_p=self.dropout)


class MultiHeadAttention(nn.Module):
    """Scaled dot-product attention run by several heads in parallel, each over its own subspace.

    Splitting d_model into h heads lets the model attend to different positions for different reasons
    at the cost of one attention (Vaswani et al. 2017, §3.2.2). Without attention weights requested,
    it runs on torch's fused `scaled_dot_product_attention`; with them, the explicit computation.
    Keys and values can be projected once (`project_keys_values`) and reused: decoders cache them.
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0, bias: bool = True) -> None:
        super().__init__()
        if d_model % num_heads != 0:
            raise ValueError(
                f"d_model={d_model} is not divisible by num_heads={num_heads}; pick a num_heads that divides d_model"
            )
        self.num_heads = num_heads
        self.head_dim = d_model // num_heads
        self.dropout = dropout
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    def _split_heads(self, x: Tensor) -> Tensor:
        batch, length, _ = x.shape
        return x.view(batch, length, self.num_heads, self.head_dim).transpose(1, 2)  # [B, H, L, Dh]

    def project_keys_values(self, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor]:
        """Project and split keys and values once: [B, S, D] -> two [B, H, S, Dh]."""
        return self._split_heads(self.k_proj(key)), self._split_heads(self.v_proj(value))

    def forward(
        self,
        query: Tensor,
        key: Tensor | None = None,
        value: Tensor | None = None,
        *,
        keys_values: tuple[Tensor, Tensor] | None = None,
        key_padding_mask: Tensor | None = None,
        causal: bool = False,
        need_weights: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """Attend from query [B, T, D] to key/value [B, S, D] (or to already projected `keys_values`).

        Returns the output [B, T, D] and, if `need_weights`, the per-head weights [B, H, T, S].
        """
        q = self._split_heads(self.q_proj(query))  # [B, H, T, Dh]
        k, v = keys_values if keys_values is not None else self.project_keys_values(key, value)
        mask = attention_mask(key_padding_mask, q.size(2), k.size(2), causal, q.device)
        dropout_p = self.dropout if self.training else 0.0
        if need_weights:
            scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)  # [B, H, T, S]
            weights = masked_softmax(scores, mask)
            context = F.dropout(weights, dropout_p, self.training) @ v
        else:
            weights = None
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
        batch, _, length, _ = context.shape
        context = context.transpose(1, 2).reshape(batch, length, self.num_heads * self.head_dim)
        return self.out_proj(context), weights


class AdditiveAttention(nn.Module):
    """Bahdanau (additive) attention: score(s, h_j) = v^T tanh(W s + U h_j).

    A small feed-forward network scores how well each encoder state h_j matches the decoder state s,
    so query and keys may have different sizes (Bahdanau et al. 2014, §3.1). U h_j does not depend on
    the decoder step: `project_keys` computes it once per sentence and decoders keep it in memory.

    The energy touches every (query, source position, attention unit): [B, T, S, A] numbers, the
    largest tensor a decoder step makes. Two things keep it cheap on a CPU without changing the
    weights: tanh(x) = 2 sigmoid(2x) - 1, because torch's sigmoid kernel costs about a third of its tanh
    and doubling is exact (the -1 adds -sum(v) to every score of a row, which the softmax ignores); and
    the energy is made for a block of rows at a time (`BLOCK_ELEMENTS`), so the sum, the sigmoid and the
    product with v read it from cache rather than memory.
    """

    BLOCK_ELEMENTS = 2**19  # numbers of the energy per block: 2 MiB in fp32, which stay in cache from op to op

    def __init__(self, query_dim: int, key_dim: int, attention_dim: int) -> None:
        super().__init__()
        self.query_proj = nn.Linear(query_dim, attention_dim, bias=False)
        self.key_proj = nn.Linear(key_dim, attention_dim, bias=True)
        self.energy = nn.Linear(attention_dim, 1, bias=False)

    def project_keys(self, keys: Tensor) -> Tensor:
        """U h_j for every source position: [B, S, K] -> [B, S, A]."""
        return self.key_proj(keys)

    def forward(
        self, query: Tensor, projected_keys: Tensor, values: Tensor, mask: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Attend from query [B, Q] (one decoder step) or [B, T, Q] to values [B, S, V].

        Returns the context [B, V] or [B, T, V] and the weights [B, S] or [B, T, S].
        """
        single_step = query.dim() == 2
        if single_step:
            query = query.unsqueeze(1)
        queries = self.query_proj(query)  # [B, T, A]
        doubled_v = 2 * self.energy.weight[0]
        rows = max(1, self.BLOCK_ELEMENTS // (queries.size(1) * projected_keys[0].numel()))
        blocks = zip((2 * queries).split(rows), projected_keys.split(rows))
        scores = torch.cat([self._scores(q, keys, doubled_v) for q, keys in blocks])  # [B, T, S]
        weights = masked_softmax(scores, None if mask is None else mask.unsqueeze(1))
        context = weights @ values  # [B, T, V]
        if single_step:
            return context.squeeze(1), weights.squeeze(1)
        return context, weights

    @staticmethod
    def _scores(doubled_queries: Tensor, keys: Tensor, doubled_v: Tensor) -> Tensor:
        """v^T tanh(q + k) + sum(v) = 2v^T sigmoid(2q + 2k), from 2q [b, T, A] and keys [b, S, A]: [b, T, S]."""
        doubled = torch.add(doubled_queries.unsqueeze(2), keys.unsqueeze(1), alpha=2)  # [b, T, S, A]
        return doubled.sigmoid_() @ doubled_v


class DotAttention(nn.Module):
    """Luong et al. 2015's `dot` score, s^T h_j: the simplified attention above with the decoder state as query.

    No parameters, so the decoder state must live in the encoder states' space (the same size), and the
    scores are not scaled, as in the paper: the model learns the states' norms that give sharp weights.
    """

    def __init__(self, query_dim: int, key_dim: int) -> None:
        super().__init__()
        if query_dim != key_dim:
            raise ValueError(f"the dot score compares the decoder state ({query_dim} units) with the encoder states "
                             f"({key_dim} units) directly: give them one size, or use score=general")

    def project_keys(self, keys: Tensor) -> Tensor:
        return keys

    def forward(self, query: Tensor, keys: Tensor, values: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """As `AdditiveAttention.forward`: query [B, Q] or [B, T, Q], values [B, S, V]."""
        return attend(query, keys, values, mask, scale=1.0)


class GeneralAttention(nn.Module):
    """Scaled dot product with trainable query and key projections: the self-attention above, turned to the
    source (Luong et al. 2015's `general` score s^T W h_j, with W factored as W_q^T W_k / sqrt(A)). The key
    projection W_k h_j is made once per sentence (`project_keys`), as the additive score's U h_j is."""

    def __init__(self, query_dim: int, key_dim: int, attention_dim: int) -> None:
        super().__init__()
        self.query_proj = nn.Linear(query_dim, attention_dim, bias=False)
        self.key_proj = nn.Linear(key_dim, attention_dim, bias=False)

    def project_keys(self, keys: Tensor) -> Tensor:
        return self.key_proj(keys)

    def forward(self, query: Tensor, keys: Tensor, values: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return attend(self.query_proj(query), keys, values, mask, scale=1 / math.sqrt(keys.size(-1)))


class MultiHeadSourceAttention(nn.Module):
    """Multi-head attention from the decoder state over the encoder states, as the Transformer's cross-attention
    does it: `num_heads` scaled dot products over subspaces of `attention_dim`, their contexts concatenated and
    projected back to the encoder states' size, so the rest of the decoder is unchanged. Keys and values are
    projected once per sentence (`project_keys` returns them side by side). The weights returned (for maps)
    are the heads' mean."""

    def __init__(self, query_dim: int, key_dim: int, attention_dim: int, num_heads: int) -> None:
        super().__init__()
        if attention_dim % num_heads != 0:
            raise ValueError(f"attention_size={attention_dim} is not divisible by num_heads={num_heads}")
        self.num_heads = num_heads
        self.query_proj = nn.Linear(query_dim, attention_dim, bias=False)
        self.key_value_proj = nn.Linear(key_dim, 2 * attention_dim, bias=False)
        self.out_proj = nn.Linear(attention_dim, key_dim, bias=False)

    def project_keys(self, keys: Tensor) -> Tensor:
        """[B, S, K] -> [B, S, 2A]: each head's keys, then each head's values."""
        return self.key_value_proj(keys)

    def forward(self, query: Tensor, keys: Tensor, values: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """As `AdditiveAttention.forward`; `values` (the raw states) are reached through the projected ones."""
        single_step = query.dim() == 2
        queries = self.query_proj(query.unsqueeze(1) if single_step else query)  # [B, T, A]
        heads = self.num_heads

        def split(x: Tensor) -> Tensor:  # [B, L, A] -> [B, H, L, A / H]
            return x.unflatten(-1, (heads, -1)).transpose(1, 2)

        projected_keys, projected_values = keys.chunk(2, dim=-1)
        q, k, v = split(queries), split(projected_keys), split(projected_values)
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))  # [B, H, T, S]
        weights = masked_softmax(scores, None if mask is None else mask[:, None, None, :])
        context = self.out_proj((weights @ v).transpose(1, 2).flatten(2))  # [B, T, K]
        weights = weights.mean(1)  # [B, T, S]
        if single_step:
            return context.squeeze(1), weights.squeeze(1)
        return context, weights


def attend(queries: Tensor, keys: Tensor, values: Tensor, mask: Tensor | None, scale: float) -> tuple[Tensor, Tensor]:
    """Dot-product attention of queries [B, Q] or [B, T, Q] over keys [B, S, Q] and values [B, S, V]."""
    single_step = queries.dim() == 2
    if single_step:
        queries = queries.unsqueeze(1)
    scores = queries @ keys.transpose(1, 2) * scale  # [B, T, S]
    weights = masked_softmax(scores, None if mask is None else mask.unsqueeze(1))
    context = weights @ values
    if single_step:
        return context.squeeze(1), weights.squeeze(1)
    return context, weights


SOURCE_SCORES = ("additive", "dot", "general", "multihead")


def source_attention(score: str, query_dim: int, key_dim: int, attention_dim: int, num_heads: int) -> nn.Module:
    """The attention-RNN decoder's attention over the encoder states, by its score (`SOURCE_SCORES`)."""
    if score == "additive":
        return AdditiveAttention(query_dim, key_dim, attention_dim)
    if score == "dot":
        return DotAttention(query_dim, key_dim)
    if score == "general":
        return GeneralAttention(query_dim, key_dim, attention_dim)
    if score == "multihead":
        return MultiHeadSourceAttention(query_dim, key_dim, attention_dim, num_heads)
    raise ValueError(f"model.decoder.score={score!r}: choose one of {', '.join(SOURCE_SCORES)}")
