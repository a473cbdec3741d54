"""Search: beam 1 is greedy, beams are ranked by their true scores, and beam search beats greedy where it should."""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor

from seq2seq.data.tokenizer import BOS_ID, EOS_ID, PAD_ID
from seq2seq.decoding import beam_search, greedy_search, length_penalty
from seq2seq.errors import UserError
from seq2seq.models.encoder_decoder import EncoderDecoder
from seq2seq.models.interfaces import Decoder, DecoderState, Encoder, Memory
from test_models import build, padded_batch

A, B = 4, 5


class StubEncoder(Encoder):
    output_size = summary_size = 1

    def forward(self, src: Tensor, src_mask: Tensor) -> Memory:
        return Memory(torch.zeros(*src.shape, 1), src_mask, torch.zeros(src.size(0), 1))


class TableDecoder(Decoder):
    """p(next | last token) from a fixed table: greedy's first choice leads nowhere good."""

    vocab_size = 6

    def __init__(self) -> None:
        super().__init__()
        table = torch.full((6, 6), 1e-9)
        table[BOS_ID, [A, B]] = torch.tensor([0.6, 0.4])
        table[A, [A, EOS_ID]] = torch.tensor([0.55, 0.45])
        table[B, [EOS_ID, A]] = torch.tensor([0.9, 0.1])
        self.register_buffer("log_table", (table / table.sum(1, keepdim=True)).log())
        self.output = torch.nn.Identity()  # _run's features are the logits already

    def init_state(self, memory: Memory) -> DecoderState:
        return {}

    def _run(self, tokens: Tensor, memory: Memory, state: DecoderState, need_attention: bool):
        return self.log_table[tokens], state, None


def toy_model() -> EncoderDecoder:
    return EncoderDecoder(StubEncoder(), TableDecoder()).eval()


def test_beam_search_finds_the_best_sequence_that_greedy_misses():
    src = torch.tensor([[7, 7, 7]])
    greedy = greedy_search(toy_model(), src, src != PAD_ID, max_ratio=1.0, max_offset=3)[0]
    assert greedy.tokens == [A] * 5  # 0.6 then 0.55 forever, cut at the length limit
    best = beam_search(toy_model(), src, src != PAD_ID, beam_size=2, alpha=0.0, max_ratio=1.0, max_offset=3)[0][0]
    assert best.tokens == [B]
    assert best.score == pytest.approx(math.log(0.4 * 0.9), abs=1e-6)


@torch.no_grad()
def sequence_log_prob(model: EncoderDecoder, src: Tensor, src_mask: Tensor, tokens: list[int]) -> float:
    """log p(tokens + EOS | src) by teacher forcing: the reference for beam scores."""
    tgt_in = torch.tensor([[BOS_ID] + tokens])
    tgt_out = torch.tensor(tokens + [EOS_ID])
    logits, _ = model(src, src_mask, tgt_in)
    return float(logits[0].float().log_softmax(-1).gather(1, tgt_out.unsqueeze(1)).sum())


PRESETS = [("rnn", "rnn"), ("birnn", "rnn_attention"), ("transformer", "transformer")]


class EndsSooner(Decoder):
    """A real decoder with its EOS logit raised, so untrained models also finish hypotheses early (or, with a
    large negative boost, never)."""

    def __init__(self, inner: Decoder, boost: float = 2.5) -> None:
        super().__init__()
        self.inner, self.boost, self.vocab_size = inner, boost, inner.vocab_size
        self.has_attention, self.max_target_positions = inner.has_attention, inner.max_target_positions
        self.output = torch.nn.Identity()  # _run returns the inner decoder's logits, boosted

    def prepare(self, memory: Memory) -> Memory:
        return self.inner.prepare(memory)

    def init_state(self, memory: Memory) -> DecoderState:
        return self.inner.init_state(memory)

    def _run(self, tokens: Tensor, memory: Memory, state: DecoderState, need_attention: bool):
        features, state, attention = self.inner._run(tokens, memory, state, need_attention)
        logits = self.inner.output(features)
        return logits + self.boost * torch.nn.functional.one_hot(torch.tensor(EOS_ID), logits.size(-1)), state, attention


def preset(encoder: str, decoder: str, seed: int, boost: float = 2.5) -> EncoderDecoder:
    model = build(encoder, decoder, seed=seed)
    return EncoderDecoder(model.encoder, EndsSooner(model.decoder, boost)).eval()


@pytest.mark.parametrize("encoder,decoder", PRESETS)
def test_beam_size_one_equals_greedy(encoder, decoder):
    model = build(encoder, decoder, seed=3).eval()
    src, src_mask = padded_batch([6, 3, 8, 1], 30, torch.Generator().manual_seed(7))
    src = src.clamp(max=25)  # shared ids with the target side are irrelevant here
    greedy = greedy_search(model, src, src_mask, max_ratio=1.0, max_offset=4)
    beam = beam_search(model, src, src_mask, beam_size=1, max_ratio=1.0, max_offset=4)
    assert [h.tokens for h in greedy] == [b[0].tokens for b in beam]


@pytest.mark.parametrize("encoder,decoder", PRESETS)
def test_n_best_lists_are_sorted_and_scores_are_the_models_own(encoder, decoder):
    model = preset(encoder, decoder, seed=4)
    src, src_mask = padded_batch([5, 2], 30, torch.Generator().manual_seed(8))
    alpha = 0.6
    nbest = beam_search(model, src, src_mask, beam_size=4, alpha=alpha, max_ratio=1.0, max_offset=3, n_best=4)
    checked = 0
    for row, hypotheses in enumerate(nbest):
        assert len(hypotheses) == 4
        scores = [h.score for h in hypotheses]
        assert scores == sorted(scores, reverse=True)
        length = int(src_mask[row].sum())
        for hypothesis in hypotheses:
            log_prob = sequence_log_prob(model, src[row : row + 1, :length], src_mask[row : row + 1, :length], hypothesis.tokens)
            limit = length + 3  # hypotheses cut at the limit had EOS forced (probability 1)
            if len(hypothesis.tokens) + 1 < limit:
                assert hypothesis.score == pytest.approx(log_prob / length_penalty(len(hypothesis.tokens) + 1, alpha), abs=1e-4)
                checked += 1
    assert checked >= 2  # untrained models still end some hypotheses early


@pytest.mark.parametrize("encoder,decoder", PRESETS)
def test_beam_search_never_scores_worse_than_greedy(encoder, decoder):
    model = preset(encoder, decoder, seed=5, boost=3.5)
    src, src_mask = padded_batch([4, 7, 2, 5, 3, 6], 30, torch.Generator().manual_seed(9))
    greedy = greedy_search(model, src, src_mask, max_ratio=2.0, max_offset=5)
    beam = beam_search(model, src, src_mask, beam_size=5, alpha=0.0, max_ratio=2.0, max_offset=5)
    compared = 0
    for row, (g, b) in enumerate(zip(greedy, beam)):
        length = int(src_mask[row].sum())
        one = (src[row : row + 1, :length], src_mask[row : row + 1, :length])
        if len(g.tokens) + 1 < 2 * length + 5:  # greedy ended on its own: its score is a true log-probability
            assert b[0].score >= sequence_log_prob(model, *one, g.tokens) - 1e-5
            compared += 1
    assert compared >= 1


def test_a_beam_wider_than_half_the_vocabulary_is_refused_by_name():
    src = torch.tensor([[7]])
    with pytest.raises(UserError, match="eval.beam_size=4"):
        beam_search(toy_model(), src, src != PAD_ID, beam_size=4)  # 2 × 4 candidates from a vocabulary of 6


def test_n_best_larger_than_the_beam_is_rejected():
    src = torch.tensor([[7]])
    with pytest.raises(ValueError, match="n_best=3"):
        beam_search(toy_model(), src, src != PAD_ID, beam_size=2, n_best=3)


@pytest.mark.parametrize("encoder,decoder", PRESETS)
def test_sentences_leaving_the_batch_decode_as_they_would_alone(encoder, decoder):
    """Finished sentences leave the batch (memory and state rows dropped mid-search): what remains must decode
    exactly as each sentence does alone, attention and n-best scores included."""
    model = preset(encoder, decoder, seed=6, boost=0.3)  # some end early, the rest at their limits
    src, src_mask = padded_batch([6, 2, 8, 4, 7, 3], 30, torch.Generator().manual_seed(10))
    greedy = greedy_search(model, src, src_mask, max_ratio=2.0, max_offset=5, need_attention=decoder != "rnn")
    beams = beam_search(model, src, src_mask, beam_size=3, alpha=0.6, max_ratio=2.0, max_offset=5, n_best=3)
    assert len({len(h.tokens) for h in greedy}) >= 3  # sentences finish at different steps
    for row in range(src.size(0)):
        length = int(src_mask[row].sum())
        one = (src[row : row + 1, :length], src_mask[row : row + 1, :length])
        alone = greedy_search(model, *one, max_ratio=2.0, max_offset=5, need_attention=decoder != "rnn")[0]
        assert greedy[row].tokens == alone.tokens
        if decoder != "rnn":
            torch.testing.assert_close(greedy[row].attention, alone.attention)
        alone_beams = beam_search(model, *one, beam_size=3, alpha=0.6, max_ratio=2.0, max_offset=5, n_best=3)[0]
        assert [h.tokens for h in beams[row]] == [h.tokens for h in alone_beams]
        assert [h.score for h in beams[row]] == pytest.approx([h.score for h in alone_beams], abs=1e-5)
