"""Decoders: the three ways of turning a `Memory` into target words.

Each decoder runs one code path (`_run`) for both teacher forcing (a whole target sequence) and
search (one token at a time), so incremental decoding provably equals full recomputation. Each is
built to fit any encoder: it is told the encoder's `memory_size` and `summary_size` and maps them
(the bridge) to its own sizes.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seq2seq.models.attention import MultiHeadAttention, source_attention
from seq2seq.models.interfaces import Decoder, DecoderState, Memory
from seq2seq.models.rnn import make_rnn
from seq2seq.models.transformer_blocks import FeedForward, PositionalEncoding, Residual, TokenEmbedding


class _RNNDecoderBase(Decoder):
    """Embedding, initial-state bridge and deep output layer shared by both RNN decoders."""

    def __init__(
        self,
        vocab_size: int,
        summary_size: int,
        context_size: int,
        embedding_dim: int,
        hidden_size: int,
        num_layers: int,
        cell: str,
        dropout: float,
        tie_embeddings: bool,
        pad_id: int,
    ) -> None:
        super().__init__()
        self.vocab_size, self.num_layers, self.cell = vocab_size, num_layers, cell
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_id)
        self.dropout = nn.Dropout(dropout)
        self.bridge = nn.Linear(summary_size, hidden_size)
        self.rnn = make_rnn(cell, embedding_dim + context_size, hidden_size, num_layers, dropout)
        # Deep output (Pascanu et al. 2014, used by both papers): the prediction sees the state,
        # the previous word and the context, through one hidden layer of the embedding's size.
        self.readout = nn.Linear(hidden_size + embedding_dim + context_size, embedding_dim)
        self.output = nn.Linear(embedding_dim, vocab_size)
        if tie_embeddings:
            self.output.weight = self.embedding.weight

    def init_state(self, memory: Memory) -> DecoderState:
        """h_0 = tanh(W summary) in every layer (Cho et al. 2014, eq. A.8; Bahdanau et al. 2014, A.2.2)."""
        summary = memory.per_row(memory.summary)  # one row per beam
        hidden = torch.tanh(self.bridge(summary)).unsqueeze(1).repeat(1, self.num_layers, 1)
        state = {"hidden": hidden}  # [batch, layers, hidden]: batch first so search can reorder it
        if self.cell == "lstm":
            state["cell"] = torch.zeros_like(hidden)
        return state

    def _rnn_step(self, inputs: Tensor, state: DecoderState) -> tuple[Tensor, DecoderState]:
        """Run the RNN over inputs [batch, steps, features] from `state`."""
        hidden = state["hidden"].transpose(0, 1).contiguous()
        if self.cell == "lstm":
            outputs, (hidden, cell) = self.rnn(inputs, (hidden, state["cell"].transpose(0, 1).contiguous()))
            return outputs, {"hidden": hidden.transpose(0, 1), "cell": cell.transpose(0, 1)}
        outputs, hidden = self.rnn(inputs, hidden)
        return outputs, {"hidden": hidden.transpose(0, 1)}

    def _features(self, outputs: Tensor, embedded: Tensor, context: Tensor) -> Tensor:
        """The deep output's hidden layer, which `output` projects onto the vocabulary."""
        readout = torch.tanh(self.readout(torch.cat([outputs, embedded, context], dim=-1)))
        return self.dropout(readout)


class RNNDecoder(_RNNDecoderBase):
    """Cho et al. 2014: the encoder's summary c initialises the decoder and is fed at every step.

    s_t = f(s_{t-1}, y_{t-1}, c) and p(y_t) = g(s_t, y_{t-1}, c). The summary is all the decoder
    ever sees of the source: there is no path around the bottleneck.
    """

    def __init__(
        self,
        vocab_size: int,
        memory_size: int,
        summary_size: int,
        embedding_dim: int = 256,
        hidden_size: int = 512,
        num_layers: int = 1,
        cell: str = "gru",
        dropout: float = 0.1,
        tie_embeddings: bool = False,
        pad_id: int = 0,
    ) -> None:
        super().__init__(
            vocab_size, summary_size, summary_size, embedding_dim, hidden_size, num_layers, cell, dropout, tie_embeddings, pad_id
        )

    def _run(
        self, tokens: Tensor, memory: Memory, state: DecoderState, need_attention: bool
    ) -> tuple[Tensor, DecoderState, Tensor | None]:
        embedded = self.dropout(self.embedding(tokens))  # [batch, steps, embedding_dim]
        context = memory.per_row(memory.summary).unsqueeze(1).expand(-1, tokens.size(1), -1)  # [rows, steps, summary]
        outputs, state = self._rnn_step(torch.cat([embedded, context], dim=-1), state)
        return self._features(outputs, embedded, context), state, None


class AttentionRNNDecoder(_RNNDecoderBase):
    """Bahdanau et al. 2014: at every step, attention over all encoder states.

    c_i = sum_j a_ij h_j with a_ij from score(s_{i-1}, h_j); s_i = f(s_{i-1}, y_{i-1}, c_i) and
    p(y_i) = g(y_{i-1}, s_i, c_i) (eq. 4). The score is Bahdanau's `additive` one, or one of the others
    of the attention family (`attention.SOURCE_SCORES`: Luong et al. 2015's `dot` and `general`, and
    `multihead`), so that each can be trained and measured in the same decoder. The keys' projection
    (U h_j for the additive score) is computed once per sentence.
    """

    has_attention = True

    def __init__(
        self,
        vocab_size: int,
        memory_size: int,
        summary_size: int,
        embedding_dim: int = 256,
        hidden_size: int = 512,
        attention_size: int = 512,
        score: str = "additive",
        num_heads: int = 4,
        num_layers: int = 1,
        cell: str = "gru",
        dropout: float = 0.1,
        tie_embeddings: bool = False,
        pad_id: int = 0,
    ) -> None:
        super().__init__(
            vocab_size, summary_size, memory_size, embedding_dim, hidden_size, num_layers, cell, dropout, tie_embeddings, pad_id
        )
        self.attention = source_attention(score, hidden_size, memory_size, attention_size, num_heads)

    def prepare(self, memory: Memory) -> Memory:
        if "attention_keys" not in memory.extras:
            memory = memory.with_extras(attention_keys=self.attention.project_keys(memory.states))
        return memory

    def _run(
        self, tokens: Tensor, memory: Memory, state: DecoderState, need_attention: bool
    ) -> tuple[Tensor, DecoderState, Tensor | None]:
        embedded = self.dropout(self.embedding(tokens))  # [batch, steps, embedding_dim]
        outputs, contexts, weights = [], [], []
        for t in range(tokens.size(1)):
            # s_{i-1} of the top layer, a sentence's beams together: [sentences, beams, hidden]
            query = state["hidden"][:, -1].unflatten(0, (-1, memory.beams))
            context, weight = self.attention(query, memory.extras["attention_keys"], memory.states, memory.mask)
            context, weight = context.flatten(0, 1), weight.flatten(0, 1)  # one row per beam again
            output, state = self._rnn_step(torch.cat([embedded[:, t], context], dim=-1).unsqueeze(1), state)
            outputs.append(output)
            contexts.append(context)
            weights.append(weight)
        features = self._features(torch.cat(outputs, dim=1), embedded, torch.stack(contexts, dim=1))
        return features, state, torch.stack(weights, dim=1) if need_attention else None


class TransformerDecoderLayer(nn.Module):
    """Causal self-attention, cross-attention over the memory, feed-forward (Vaswani et al. 2017)."""

    def __init__(self, d_model: int, num_heads: int, ff_size: int, dropout: float, norm_first: bool) -> None:
        super().__init__()
        self.self_attention = MultiHeadAttention(d_model, num_heads, dropout)
        self.cross_attention = MultiHeadAttention(d_model, num_heads, dropout)
        self.feed_forward = FeedForward(d_model, ff_size, dropout)
        self.self_residual = Residual(d_model, dropout, norm_first)
        self.cross_residual = Residual(d_model, dropout, norm_first)
        self.feed_forward_residual = Residual(d_model, dropout, norm_first)

    def forward(
        self,
        x: Tensor,
        cross_keys_values: tuple[Tensor, Tensor],
        memory_mask: Tensor,
        past: tuple[Tensor, Tensor] | None,
        need_weights: bool,
        beams: int = 1,
    ) -> tuple[Tensor, tuple[Tensor, Tensor], Tensor | None]:
        """x [batch × beams, new_steps, d_model] continues the cached `past` keys/values (or starts afresh);
        the cross-attention keys, values and mask hold one row per sentence (`Memory.beams`)."""
        cache: list[tuple[Tensor, Tensor]] = []

        def self_attend(h: Tensor) -> Tensor:
            keys, values = self.self_attention.project_keys_values(h, h)
            if past is not None:
                keys, values = torch.cat([past[0], keys], dim=2), torch.cat([past[1], values], dim=2)
            cache.append((keys, values))
            return self.self_attention(h, keys_values=(keys, values), causal=True)[0]

        weights: list[Tensor | None] = []

        def cross_attend(h: Tensor) -> Tensor:
            steps = h.size(1)
            queries = h.unflatten(0, (-1, beams)).flatten(1, 2)  # [batch, beams × steps, d]: one sentence's queries
            out, weight = self.cross_attention(
                queries, keys_values=cross_keys_values, key_padding_mask=memory_mask, need_weights=need_weights
            )
            if weight is not None:  # [batch, heads, beams × steps, src] -> [batch × beams, heads, steps, src]
                weight = weight.unflatten(2, (beams, steps)).transpose(1, 2).flatten(0, 1)
            weights.append(weight)
            return out.unflatten(1, (beams, steps)).flatten(0, 1)

        x = self.self_residual(x, self_attend)
        x = self.cross_residual(x, cross_attend)
        return self.feed_forward_residual(x, self.feed_forward), cache[0], weights[0]


class TransformerDecoder(Decoder):
    """A stack of decoder layers with a key/value cache, so each search step costs one position."""

    has_attention = True

    def __init__(
        self,
        vocab_size: int,
        memory_size: int,
        summary_size: int,
        d_model: int = 256,
        num_heads: int = 4,
        num_layers: int = 3,
        ff_size: int = 1024,
        dropout: float = 0.1,
        norm_first: bool = True,
        positions: str = "sinusoidal",
        max_positions: int = 1024,
        tie_embeddings: bool = True,
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embedding = TokenEmbedding(vocab_size, d_model, pad_id)
        self.positions = PositionalEncoding(d_model, max_positions, positions)
        self.max_target_positions = max_positions
        self.dropout = nn.Dropout(dropout)
        self.memory_bridge = nn.Linear(memory_size, d_model) if memory_size != d_model else nn.Identity()
        self.layers = nn.ModuleList(
            TransformerDecoderLayer(d_model, num_heads, ff_size, dropout, norm_first) for _ in range(num_layers)
        )
        self.final_norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()
        self.output = nn.Linear(d_model, vocab_size, bias=False)
        if tie_embeddings:
            self.output.weight = self.embedding.embedding.weight

    def prepare(self, memory: Memory) -> Memory:
        if "cross_keys_values" not in memory.extras:
            states = self.memory_bridge(memory.states)
            cross = [layer.cross_attention.project_keys_values(states, states) for layer in self.layers]
            memory = memory.with_extras(cross_keys_values=cross)
        return memory

    def init_state(self, memory: Memory) -> DecoderState:
        return {"self_keys_values": [None] * len(self.layers), "position": 0}

    def _run(
        self, tokens: Tensor, memory: Memory, state: DecoderState, need_attention: bool
    ) -> tuple[Tensor, DecoderState, Tensor | None]:
        x = self.dropout(self.positions(self.embedding(tokens), offset=state["position"]))
        caches, attention = [], None
        for i, layer in enumerate(self.layers):
            last = i == len(self.layers) - 1
            cross, past = memory.extras["cross_keys_values"][i], state["self_keys_values"][i]
            x, cache, weights = layer(x, cross, memory.mask, past, need_attention and last, memory.beams)
            caches.append(cache)
            if weights is not None:
                attention = weights.mean(dim=1)  # average over heads: [batch, steps, src_len]
        return self.final_norm(x), {"self_keys_values": caches, "position": state["position"] + tokens.size(1)}, attention
