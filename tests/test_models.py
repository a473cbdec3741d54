"""Every encoder × decoder pairing, built from the Hydra config groups, behaves as an encoder–decoder must."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_module

from seq2seq.data.tokenizer import BOS_ID, EOS_ID, PAD_ID
from seq2seq.decoding import greedy_search
from seq2seq.models.encoder_decoder import EncoderDecoder, build_model
from seq2seq.models.interfaces import Memory

ENCODERS = ["rnn", "birnn", "transformer", "prefix"]
DECODERS = ["rnn", "rnn_attention", "transformer", "causal_lm"]
SMALL = {
    "encoder": {
        "rnn": ["embedding_dim=16", "hidden_size=24"],
        "birnn": ["embedding_dim=16", "hidden_size=12"],
        "transformer": ["d_model=16", "num_heads=2", "num_layers=2", "ff_size=32"],
        "prefix": ["d_model=16"],
    },
    "decoder": {
        "rnn": ["embedding_dim=16", "hidden_size=20"],
        "rnn_attention": ["embedding_dim=16", "hidden_size=20", "attention_size=12"],
        "transformer": ["d_model=16", "num_heads=2", "num_layers=2", "ff_size=32"],
        "causal_lm": ["d_model=16", "num_heads=2", "num_layers=2", "ff_size=32"],
    },
}
SRC_VOCAB, TGT_VOCAB = 30, 26


def model_config(encoder: str, decoder: str, extra: list[str] = ()):
    overrides = [f"model/encoder={encoder}", f"model/decoder={decoder}", "data=files"]
    overrides += [f"model.encoder.{o}" for o in SMALL["encoder"][encoder]]
    overrides += [f"model.decoder.{o}" for o in SMALL["decoder"][decoder]]
    with initialize_config_module(config_module="seq2seq.conf", version_base="1.3"):
        return compose("config", overrides=overrides + list(extra)).model


def build(encoder: str, decoder: str, extra: list[str] = (), seed: int = 0) -> EncoderDecoder:
    torch.manual_seed(seed)
    return build_model(model_config(encoder, decoder, extra), SRC_VOCAB, TGT_VOCAB)


def padded_batch(lengths: list[int], vocab: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    tokens = torch.full((len(lengths), max(lengths)), PAD_ID)
    for row, length in enumerate(lengths):
        tokens[row, :length] = torch.randint(4, vocab, (length,), generator=generator)
    return tokens, tokens != PAD_ID


PAIRINGS = list(itertools.product(ENCODERS, DECODERS))


@pytest.mark.parametrize("encoder,decoder", PAIRINGS)
def test_pairing_trains_forward_and_backward(encoder: str, decoder: str) -> None:
    model = build(encoder, decoder)
    generator = torch.Generator().manual_seed(1)
    src, src_mask = padded_batch([7, 3, 5], SRC_VOCAB, generator)
    tgt, _ = padded_batch([6, 4, 2], TGT_VOCAB, generator)
    logits, _ = model(src, src_mask, tgt)
    assert logits.shape == (3, 6, TGT_VOCAB)
    loss = F.cross_entropy(logits.reshape(-1, TGT_VOCAB), tgt.reshape(-1), ignore_index=PAD_ID)
    loss.backward()
    assert torch.isfinite(loss)
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
    encoder_embedding = next(model.encoder.parameters())
    assert encoder_embedding.grad.abs().sum() > 0  # the source reaches the loss


@pytest.mark.parametrize("encoder,decoder", PAIRINGS)
def test_padding_never_changes_a_sentence_output(encoder: str, decoder: str) -> None:
    model = build(encoder, decoder).eval()
    generator = torch.Generator().manual_seed(2)
    src, src_mask = padded_batch([4, 9], SRC_VOCAB, generator)
    tgt, _ = padded_batch([5, 5], TGT_VOCAB, generator)
    batched, attention = model(src, src_mask, tgt, need_attention=True)
    alone, _ = model(src[:1, :4], src_mask[:1, :4], tgt[:1])
    torch.testing.assert_close(batched[:1], alone, atol=1e-5, rtol=1e-5)
    if model.decoder.has_attention:
        assert (attention[0, :, 4:] == 0).all()
        torch.testing.assert_close(attention.sum(-1), torch.ones(2, 5))
    else:
        assert attention is None


@pytest.mark.parametrize("encoder,decoder", PAIRINGS)
def test_incremental_decoding_equals_full_recomputation(encoder: str, decoder: str) -> None:
    model = build(encoder, decoder).eval()
    generator = torch.Generator().manual_seed(3)
    src, src_mask = padded_batch([6, 3], SRC_VOCAB, generator)
    tgt, _ = padded_batch([5, 5], TGT_VOCAB, generator)
    full, full_attention = model(src, src_mask, tgt, need_attention=True)
    memory = model.decoder.prepare(model.encode(src, src_mask))
    state = model.decoder.init_state(memory)
    for t in range(tgt.size(1)):
        logits, state, attention = model.decoder.step(tgt[:, t], memory, state, need_attention=True)
        torch.testing.assert_close(logits, full[:, t], atol=1e-5, rtol=1e-5)
        if full_attention is not None:
            torch.testing.assert_close(attention, full_attention[:, t], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("encoder,decoder", PAIRINGS)
def test_beams_sharing_one_memory_decode_as_rows_with_copies_of_it(encoder: str, decoder: str) -> None:
    """`Memory.beams`: k rows reading one sentence's memory give what k copies of it give, attention included."""
    model = build(encoder, decoder).eval()
    generator = torch.Generator().manual_seed(5)
    src, src_mask = padded_batch([6, 3], SRC_VOCAB, generator)
    beams = 3
    memory = model.decoder.prepare(model.encode(src, src_mask))
    copies = memory.select(torch.arange(2).repeat_interleave(beams))
    shared = memory.with_beams(beams)
    copied_state, shared_state = model.decoder.init_state(copies), model.decoder.init_state(shared)
    for _ in range(4):
        tokens = torch.randint(4, TGT_VOCAB, (2 * beams,), generator=generator)  # every row its own prefix
        expected, copied_state, expected_attention = model.decoder.step(tokens, copies, copied_state, True)
        logits, shared_state, attention = model.decoder.step(tokens, shared, shared_state, True)
        torch.testing.assert_close(logits, expected, atol=1e-5, rtol=1e-5)
        if expected_attention is not None:
            torch.testing.assert_close(attention, expected_attention, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("encoder", ENCODERS)
def test_plain_rnn_decoder_sees_only_the_summary(encoder: str) -> None:
    """The bottleneck under study: with the summary fixed, nothing else of the source reaches the output."""
    model = build(encoder, "rnn").eval()
    generator = torch.Generator().manual_seed(4)
    src, src_mask = padded_batch([6, 6], SRC_VOCAB, generator)
    tgt, _ = padded_batch([4, 4], TGT_VOCAB, generator)
    memory = model.encode(src, src_mask)
    scrambled = Memory(torch.randn_like(memory.states), memory.mask, memory.summary)
    torch.testing.assert_close(model.decoder(tgt, memory)[0], model.decoder(tgt, scrambled)[0])
    other_summary = Memory(memory.states, memory.mask, torch.randn_like(memory.summary))
    assert not torch.allclose(model.decoder(tgt, memory)[0], model.decoder(tgt, other_summary)[0])


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_lstm_and_gru_cells_both_build(cell: str) -> None:
    model = build("birnn", "rnn_attention", [f"model.encoder.cell={cell}", f"model.decoder.cell={cell}"])
    assert isinstance(model.encoder.rnn, torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)
    src, src_mask = padded_batch([3, 2], SRC_VOCAB, torch.Generator().manual_seed(0))
    assert model(src, src_mask, src.clamp(max=TGT_VOCAB - 1))[0].shape == (2, 3, TGT_VOCAB)


def copy_batch(batch_size: int, generator: torch.Generator, vocab: int = 12) -> tuple[torch.Tensor, ...]:
    """Random sentences of 3–7 tokens, each ending in EOS; the target is the source itself."""
    lengths = torch.randint(3, 8, (batch_size,), generator=generator).tolist()
    src = torch.full((batch_size, max(lengths) + 1), PAD_ID)
    for row, length in enumerate(lengths):
        src[row, :length] = torch.randint(4, vocab, (length,), generator=generator)
        src[row, length] = EOS_ID
    tgt_out = src.clone()
    tgt_in = torch.cat([torch.full((batch_size, 1), BOS_ID), src[:, :-1]], dim=1)
    tgt_in[tgt_in == EOS_ID] = PAD_ID
    return src, src != PAD_ID, tgt_in, tgt_out


def copy_and_align(encoder: str, decoder: str, steps: int, extra: list[str] = (), decay: bool = False
                   ) -> tuple[float, float]:
    """Train a tiny model on the copy task from seed 0; (exact-match share, share of outputs whose attention is
    strongest on their own source position) on 200 held-out sentences. With `decay` the rate falls linearly to
    zero, so the test scores a settled model rather than wherever Adam's last step at full rate landed."""
    torch.manual_seed(0)
    config = model_config(encoder, decoder, ["model.encoder.dropout=0.0", "model.decoder.dropout=0.0", *extra])
    model = build_model(config, 12, 12)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / steps if decay else 1.0)
    generator = torch.Generator().manual_seed(0)
    for _ in range(steps):
        src, src_mask, tgt_in, tgt_out = copy_batch(64, generator)
        logits, _ = model(src, src_mask, tgt_in)
        loss = F.cross_entropy(logits.reshape(-1, 12), tgt_out.reshape(-1), ignore_index=PAD_ID)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    model.eval()
    src, src_mask, _, tgt_out = copy_batch(200, torch.Generator().manual_seed(99))
    hypotheses = greedy_search(model, src, src_mask, need_attention=True)
    expected = [[t for t in row if t not in (PAD_ID, EOS_ID)] for row in tgt_out.tolist()]
    exact = sum(h.tokens == e for h, e in zip(hypotheses, expected)) / len(expected)
    aligned = [strongest == position for h in hypotheses
               for position, strongest in enumerate(h.attention[:-1].argmax(dim=-1).tolist())]
    return exact, sum(aligned) / len(aligned)


# The decoder-only model must learn to attend back across its own prefix with no encoder to align for it. At the
# shared width of 16 and a constant rate it sat on the bar, passing on one machine and failing on CI's; trained
# longer at that rate, some seeds fell back. Width 32, with the rate decaying over 800 updates, clears the bar on
# every seed tried. The encoder-decoders learn the task at the constant rate in 400 updates (decay there costs
# them the bar).
DECODER_ONLY = {"extra": ["model.encoder.d_model=32", "model.decoder.d_model=32", "model.decoder.ff_size=64"],
                "decay": True}


@pytest.mark.parametrize(
    "encoder,decoder,steps,settings",
    [("rnn", "rnn_attention", 400, {}), ("transformer", "transformer", 400, {}),
     ("prefix", "causal_lm", 800, DECODER_ONLY)],
)
def test_tiny_model_learns_to_copy(encoder: str, decoder: str, steps: int, settings: dict) -> None:
    exact, aligned = copy_and_align(encoder, decoder, steps, **settings)
    assert exact > 0.95, f"exact match {exact:.2%}"
    if decoder == "rnn_attention":
        # Additive attention learns the alignment: output i looks hardest at source position i.
        # (A unidirectional encoder keeps token i most recent in state i; bidirectional states blur it.)
        assert aligned > 0.9, f"{aligned:.2%} of outputs aligned"


@pytest.mark.parametrize(
    "variant",
    [
        ["model.encoder.norm_first=false", "model.decoder.norm_first=false"],
        ["model.encoder.positions=learned", "model.decoder.positions=learned"],
        ["model.decoder.tie_embeddings=false"],
    ],
    ids=["post-norm", "learned-positions", "untied"],
)
def test_transformer_variants_decode_incrementally_as_in_full(variant: list[str]) -> None:
    model = build("transformer", "transformer", variant).eval()
    tied = model.decoder.output.weight is model.decoder.embedding.embedding.weight
    assert tied == ("model.decoder.tie_embeddings=false" not in variant)
    generator = torch.Generator().manual_seed(5)
    src, src_mask = padded_batch([5, 2], SRC_VOCAB, generator)
    tgt, _ = padded_batch([4, 4], TGT_VOCAB, generator)
    full, _ = model(src, src_mask, tgt)
    memory = model.decoder.prepare(model.encode(src, src_mask))
    state = model.decoder.init_state(memory)
    for t in range(tgt.size(1)):
        logits, state, _ = model.decoder.step(tgt[:, t], memory, state)
        torch.testing.assert_close(logits, full[:, t], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("summary", ["mean", "first", "last"])
def test_transformer_encoder_summary_pools_only_real_tokens(summary: str) -> None:
    model = build("transformer", "rnn", [f"model.encoder.summary={summary}"]).eval()
    generator = torch.Generator().manual_seed(6)
    src, src_mask = padded_batch([3, 6], SRC_VOCAB, generator)
    memory = model.encode(src, src_mask)
    alone = model.encode(src[:1, :3], src_mask[:1, :3])
    torch.testing.assert_close(memory.summary[:1], alone.summary, atol=1e-5, rtol=1e-5)
    expected = {"mean": alone.states.mean(1), "first": alone.states[:, 0], "last": alone.states[:, -1]}[summary]
    torch.testing.assert_close(alone.summary, expected)


SCORES = ["dot", "general", "multihead"]  # the additive score is the default, tested above


def with_score(score: str) -> list[str]:
    """The attention RNN over a unidirectional encoder (24 units) with another score; the dot score compares
    states of one size, so the decoder takes 24 units too."""
    return [f"model.decoder.score={score}", "model.decoder.hidden_size=24", "model.decoder.num_heads=2"]


@pytest.mark.parametrize("score", SCORES)
def test_every_attention_score_trains_masks_padding_and_decodes_step_by_step_as_in_full(score: str) -> None:
    """Issue 34: each score of the attention family is a drop-in for the additive one under the Memory/step
    contract: gradients reach every parameter, padding gets no weight, incremental decoding and beams that
    share one memory give what the full recomputation gives."""
    model = build("rnn", "rnn_attention", with_score(score))
    generator = torch.Generator().manual_seed(6)
    src, src_mask = padded_batch([7, 3, 5], SRC_VOCAB, generator)
    tgt, _ = padded_batch([6, 4, 2], TGT_VOCAB, generator)
    logits, _ = model(src, src_mask, tgt)
    F.cross_entropy(logits.reshape(-1, TGT_VOCAB), tgt.reshape(-1), ignore_index=PAD_ID).backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name

    model.eval()
    full, full_attention = model(src, src_mask, tgt, need_attention=True)
    assert (full_attention[1, :, 3:] == 0).all() and torch.allclose(full_attention.sum(-1), torch.ones(3, 6))
    alone, _ = model(src[1:2, :3], src_mask[1:2, :3], tgt[1:2])
    torch.testing.assert_close(full[1:2], alone, atol=1e-5, rtol=1e-5)
    memory = model.decoder.prepare(model.encode(src, src_mask))
    state = model.decoder.init_state(memory)
    shared = memory.with_beams(2)
    shared_state = model.decoder.init_state(shared)
    for t in range(tgt.size(1)):
        step_logits, state, attention = model.decoder.step(tgt[:, t], memory, state, need_attention=True)
        torch.testing.assert_close(step_logits, full[:, t], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(attention, full_attention[:, t], atol=1e-6, rtol=1e-5)
        beam_logits, shared_state, _ = model.decoder.step(tgt[:, t].repeat_interleave(2), shared, shared_state, True)
        torch.testing.assert_close(beam_logits, full[:, t].repeat_interleave(2, dim=0), atol=1e-5, rtol=1e-5)


def test_the_dot_score_refuses_states_of_two_sizes_by_name() -> None:
    """Hydra wraps the ValueError in its InstantiationException; the CLI turns either into one line (test_cli)."""
    with pytest.raises(Exception, match="give them one size, or use score=general"):
        build("rnn", "rnn_attention", ["model.decoder.score=dot", "model.decoder.hidden_size=20"])
    with pytest.raises(Exception, match="model.decoder.score='luong'"):
        build("rnn", "rnn_attention", ["model.decoder.score=luong"])


@pytest.mark.parametrize("score", SCORES)
def test_each_attention_score_learns_to_copy_and_to_align(score: str) -> None:
    """A score that only passes shape tests could still never learn: each one learns the copy task, and its
    weights find the alignment (output i looks hardest at source position i)."""
    exact, aligned = copy_and_align("rnn", "rnn_attention", 400, with_score(score))
    assert exact > 0.95 and aligned > 0.9, (exact, aligned)



def test_a_reversed_source_is_read_backwards_and_its_states_come_back_in_source_order() -> None:
    """Issue 34, Sutskever et al.'s remedy: the summary is the state after reading the sentence backwards (the
    first word last); each state is the one the same RNN gives that word on the reversed sentence; padding
    changes nothing."""
    from seq2seq.models.encoders import reversed_order

    assert reversed_order(torch.tensor([3, 5]), 5).tolist() == [[2, 1, 0, 3, 4], [4, 3, 2, 1, 0]]
    backwards = build("rnn", "rnn", ["model.encoder.reverse=true"]).encoder.eval()
    forwards = build("rnn", "rnn").encoder.eval()
    forwards.load_state_dict(backwards.state_dict())
    generator = torch.Generator().manual_seed(7)
    src, src_mask = padded_batch([5, 3], SRC_VOCAB, generator)
    memory = backwards(src, src_mask)
    for row, length in enumerate([5, 3]):
        flipped = src[row:row + 1, :length].flip(1)
        expected = forwards(flipped, torch.ones_like(flipped, dtype=torch.bool))
        torch.testing.assert_close(memory.summary[row:row + 1], expected.summary, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(memory.states[row, :length], expected.states[0].flip(0), atol=1e-6, rtol=1e-5)
        alone = backwards(src[row:row + 1, :length], src_mask[row:row + 1, :length])
        torch.testing.assert_close(alone.summary, memory.summary[row:row + 1], atol=1e-6, rtol=1e-5)
