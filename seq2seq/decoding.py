"""Search over any decoder through its `step` interface: batched greedy decoding.

One search serves every decoder because decoders expose the same incremental interface and keep
their state in batch-first tensors. The encoder runs once per batch; per-sentence precomputation
(`decoder.prepare`) happens once, not at every step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from seq2seq.data.batching import collate, make_examples, token_batches
from seq2seq.data.tokenizer import BOS_ID, EOS_ID, PAD_ID, Tokenizer
from seq2seq.models.encoder_decoder import EncoderDecoder
from seq2seq.precision import autocast


@dataclass
class Hypothesis:
    tokens: list[int]  # without BOS/EOS
    attention: Tensor | None = None  # [len(tokens) + 1, source length] incl. the EOS step, if requested


def max_output_lengths(src_mask: Tensor, ratio: float, offset: int) -> Tensor:
    """Longest allowed output per sentence: ratio × source length + offset."""
    return (src_mask.sum(dim=1).float() * ratio).long() + offset


@torch.inference_mode()
def greedy_search(
    model: EncoderDecoder,
    src: Tensor,
    src_mask: Tensor,
    max_ratio: float = 1.5,
    max_offset: int = 10,
    need_attention: bool = False,
) -> list[Hypothesis]:
    """Pick the most probable token at each step until every sentence has produced EOS (or its limit)."""
    decoder = model.decoder
    memory = decoder.prepare(model.encode(src, src_mask))
    state = decoder.init_state(memory)
    limits = max_output_lengths(src_mask, max_ratio, max_offset)  # [batch]
    tokens = torch.full((src.size(0),), BOS_ID, dtype=torch.long, device=src.device)
    finished = torch.zeros(src.size(0), dtype=torch.bool, device=src.device)
    steps, attentions = [], []
    for t in range(int(limits.max())):
        logits, state, attention = decoder.step(tokens, memory, state, need_attention)
        tokens = logits.argmax(dim=-1)
        tokens = torch.where(finished, torch.full_like(tokens, PAD_ID), tokens)
        tokens = torch.where(~finished & (t + 1 >= limits), torch.full_like(tokens, EOS_ID), tokens)
        steps.append(tokens)
        attentions.append(attention)
        finished |= tokens == EOS_ID
        if bool(finished.all()):
            break
    output = torch.stack(steps, dim=1).tolist()  # [batch, steps]
    hypotheses = []
    for b, row in enumerate(output):
        length = row.index(EOS_ID) if EOS_ID in row else len(row)
        attention = None
        if need_attention and attentions[0] is not None:
            source_length = int(src_mask[b].sum())
            attention = torch.stack([a[b, :source_length] for a in attentions[: length + 1]]).float().cpu()
        hypotheses.append(Hypothesis(row[:length], attention))
    return hypotheses


def translate(
    model: EncoderDecoder,
    tokenizer: Tokenizer,
    sentences: list[str],
    batch_tokens: int = 4000,
    max_ratio: float = 1.5,
    max_offset: int = 10,
    need_attention: bool = False,
    precision: str = "fp32",
) -> list[Hypothesis]:
    """Translate sentences in length-sorted batches, returning hypotheses in input order."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    src_ids = tokenizer.encode_src(sentences)
    examples = make_examples(src_ids, [[] for _ in src_ids])
    results: list[Hypothesis | None] = [None] * len(sentences)
    for group in token_batches(examples, batch_tokens, shuffle=False):
        batch = collate(group).to(device)
        with autocast(device, precision):
            hypotheses = greedy_search(model, batch.src, batch.src_mask, max_ratio, max_offset, need_attention)
        for index, hypothesis in zip(batch.indices, hypotheses):
            results[index] = hypothesis
    model.train(was_training)
    return results  # type: ignore[return-value]
