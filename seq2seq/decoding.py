"""Search over any decoder through its `step` interface: batched greedy and beam search.

One search serves every decoder because decoders expose the same incremental interface and keep
their state in batch-first tensors (reordered with `select_rows` when beams are re-ranked). The
encoder runs once per batch; per-sentence precomputation (`decoder.prepare`) happens once and is
shared by all beams of a sentence, never recomputed per step.

Every sentence's work is bounded, whatever the input: outputs stop at the least of ratio × source +
offset (fairseq's max_len_a/b), an absolute `max_output_length` (JoeyNMT's max_output_length) and the
decoder's `max_target_positions`; sources longer than the encoder can read are cut or skipped with a
warning, so one pathological line neither crashes nor stalls a batch.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from tqdm import tqdm

from seq2seq.data.batching import Example, collate, token_batches
from seq2seq.data.tokenizer import BOS_ID, EOS_ID, PAD_ID, Tokenizer
from seq2seq.errors import UserError
from seq2seq.models.encoder_decoder import EncoderDecoder
from seq2seq.models.interfaces import Decoder, Encoder, select_rows
from seq2seq.progress import PROGRESS_SECONDS, ProgressLines, minutes_left
from seq2seq.training.precision import autocast

log = logging.getLogger(__name__)


@dataclass
class Hypothesis:
    tokens: list[int]  # without BOS/EOS
    attention: Tensor | None = None  # [len(tokens) + 1, source length] incl. the EOS step, if requested
    score: float | None = None  # beam search: log-probability divided by the length penalty


def max_output_lengths(src_mask: Tensor, ratio: float, offset: int, cap: int | None = None) -> Tensor:
    """Most decoding steps (output subwords with EOS) per sentence: ratio × source length + offset, at most `cap`."""
    limits = (src_mask.sum(dim=1).float() * ratio).long() + offset
    return limits if cap is None else limits.clamp(max=cap)


def least(*limits: int | None) -> int | None:
    """The smallest of the limits that are set (None: no limit at all)."""
    return min((limit for limit in limits if limit is not None), default=None)


def step_limit(decoder: Decoder, max_length: int | None) -> int | None:
    """Most steps any output may take: `max_length` subwords plus EOS, within the decoder's positions."""
    return least(None if max_length is None else max_length + 1, decoder.max_target_positions)


def source_limit(encoder: Encoder, max_length: int | None) -> int | None:
    """Most source subwords (EOS not counted) a sentence may keep: `max_length`, within the encoder's positions."""
    return least(max_length, None if encoder.max_source_positions is None else encoder.max_source_positions - 1)


@torch.inference_mode()
def greedy_search(
    model: EncoderDecoder,
    src: Tensor,
    src_mask: Tensor,
    max_ratio: float = 1.5,
    max_offset: int = 10,
    need_attention: bool = False,
    max_length: int | None = None,
) -> list[Hypothesis]:
    """Pick the most probable token at each step until every sentence has produced EOS (or its limit).

    A sentence leaves the batch at its EOS, so later steps cost only the sentences still translating.
    No output exceeds `max_length` subwords (None: no absolute cap) or what the decoder can take.
    """
    batch, device = src.size(0), src.device
    decoder = model.decoder
    memory = decoder.prepare(model.encode(src, src_mask))
    state = decoder.init_state(memory)
    limits = max_output_lengths(src_mask, max_ratio, max_offset, step_limit(decoder, max_length))  # [batch]
    steps = int(limits.max())
    output = torch.full((batch, steps), PAD_ID, dtype=torch.long, device=device)
    attentions = torch.zeros(batch, steps, src.size(1), device=device) if need_attention else None
    active = torch.arange(batch, device=device)  # the sentences still in the batch
    tokens = torch.full((batch,), BOS_ID, dtype=torch.long, device=device)
    for t in range(steps):
        logits, state, attention = decoder.step(tokens, memory, state, need_attention)
        tokens = logits.argmax(dim=-1).masked_fill_(t + 1 >= limits, EOS_ID)
        output[active, t] = tokens
        if attentions is not None and attention is not None:
            attentions[active, t] = attention.float()
        going = tokens != EOS_ID
        if not bool(going.all()):
            if not bool(going.any()):
                break
            keep = going.nonzero().squeeze(1)
            active, tokens, limits = active[keep], tokens[keep], limits[keep]
            memory, state = memory.select(keep), select_rows(state, keep)
    hypotheses = []
    for b, row in enumerate(output.tolist()):
        length = row.index(EOS_ID)
        attention = None
        if attentions is not None and decoder.has_attention:
            attention = attentions[b, : length + 1, : int(src_mask[b].sum())].cpu()
        hypotheses.append(Hypothesis(row[:length], attention))
    return hypotheses


def length_penalty(length: int, alpha: float) -> float:
    """GNMT's ((5 + |Y|) / 6)^alpha (Wu et al. 2016, §7): alpha=0 ranks by raw log-probability."""
    return ((5.0 + length) / 6.0) ** alpha


@torch.inference_mode()
def beam_search(
    model: EncoderDecoder,
    src: Tensor,
    src_mask: Tensor,
    beam_size: int = 5,
    alpha: float = 0.6,
    max_ratio: float = 1.5,
    max_offset: int = 10,
    n_best: int = 1,
    max_length: int | None = None,
) -> list[list[Hypothesis]]:
    """Keep the `beam_size` best prefixes per sentence; return each sentence's `n_best` finished ones, best first.

    Each step ranks 2k candidates per sentence: those ending in EOS among the top k are finished
    (scored with the length penalty), the best k others live on, so a finished hypothesis never
    starves the beam. A sentence is done once it holds k finished hypotheses, or at its length limit
    (where EOS is forced, so every live prefix finishes; limits as in greedy_search); it then leaves
    the batch, as in fairseq and JoeyNMT, so later steps cost only the sentences still searching.
    The first step runs once per sentence, since all its beams would start alike from BOS; after it, the
    k beams of a sentence read one copy of its memory (`Memory.beams`), not k.
    """
    if not 1 <= n_best <= beam_size:
        raise ValueError(f"n_best={n_best} must be between 1 and beam_size={beam_size}")
    batch, k, device = src.size(0), beam_size, src.device
    decoder = model.decoder
    if 2 * k > decoder.vocab_size:  # the first step ranks 2k candidates from one prefix per sentence
        raise UserError(f"eval.beam_size={k}: a beam ranks 2 × {k} next subwords per step, more than the "
                        f"target vocabulary's {decoder.vocab_size}")
    memory = decoder.prepare(model.encode(src, src_mask))  # one row per sentence until the first step is taken
    state = decoder.init_state(memory)
    limits = max_output_lengths(src_mask, max_ratio, max_offset, step_limit(decoder, max_length))  # [batch]
    active = torch.arange(batch, device=device)  # the sentences still in the batch
    width = 1  # prefixes per sentence: BOS alone before the first step, k after it
    scores = torch.zeros(batch, width, device=device)
    tokens = torch.full((batch,), BOS_ID, dtype=torch.long, device=device)
    prefixes = torch.empty(batch, 0, dtype=torch.long, device=device)
    finished: list[list[Hypothesis]] = [[] for _ in range(batch)]
    for t in range(int(limits.max())):
        logits, state, _ = decoder.step(tokens, memory, state)
        log_probs = logits.float()
        torch.log_softmax(log_probs, dim=-1, out=log_probs)  # [active * width, vocab], in place: no second buffer
        at_limit = t + 1 >= limits  # [active]
        if bool(at_limit.any()):  # only EOS may follow: rewrite just those rows
            limit_rows = (at_limit.nonzero() * width + torch.arange(width, device=device)).view(-1)
            log_probs[limit_rows] = float("-inf")
            log_probs[limit_rows, EOS_ID] = 0.0
        vocab = log_probs.size(-1)
        candidates = log_probs.add_(scores.view(-1, 1)).view(-1, width * vocab)
        top_scores, top_ids = candidates.topk(2 * k, dim=1)  # [active, 2k]
        origins, words = top_ids // vocab, top_ids % vocab
        ends = words == EOS_ID
        sentences = active.tolist()
        for b, j in (ends[:, :k] & torch.isfinite(top_scores[:, :k])).nonzero().tolist():
            found = finished[sentences[b]]
            if len(found) < k:
                prefix = prefixes[b * width + origins[b, j]].tolist()
                found.append(Hypothesis(prefix, score=float(top_scores[b, j]) / length_penalty(len(prefix) + 1, alpha)))
        going = ~at_limit & torch.tensor([len(finished[s]) < k for s in sentences], device=device)
        if not bool(going.any()):
            break
        alive = top_scores.masked_fill(ends, float("-inf")).topk(k, dim=1)
        chosen = origins.gather(1, alive.indices) + width * torch.arange(len(sentences), device=device).unsqueeze(1)
        scores, tokens = alive.values, words.gather(1, alive.indices)
        if width < k or not bool(going.all()):  # the continuing sentences' memory, read by k beams each
            keep = going.nonzero().squeeze(1)
            active, limits, scores, tokens, chosen = active[keep], limits[keep], scores[keep], tokens[keep], chosen[keep]
            memory = memory.select(keep).with_beams(k)
        width = k
        chosen, tokens = chosen.view(-1), tokens.view(-1)  # [active * k] rows to continue, their new words
        state = select_rows(state, chosen)
        prefixes = torch.cat([prefixes[chosen], tokens.unsqueeze(1)], dim=1)
    return [sorted(f, key=lambda h: h.score, reverse=True)[:n_best] for f in finished]


LONG_SOURCE_POLICIES = ("truncate", "skip")


@dataclass
class SearchSettings:
    """How to decode: conf/eval's beam_size, length_penalty, output and source limits, batch_tokens (their schema)."""

    beam_size: int = 1
    length_penalty: float = 0.6
    max_length_ratio: float = 1.5
    max_length_offset: int = 10
    max_output_length: int | None = 1024  # subwords per output, EOS not counted (None: no absolute cap)
    max_source_length: int | None = None  # subwords per source, EOS not counted (None: what the encoder can read)
    long_sources: str = "truncate"  # sources over the limit: truncate | skip (empty output)
    batch_tokens: int = 8000

    @classmethod
    def from_config(cls, config: Any) -> "SearchSettings":
        return cls(**{name: config[name] for name in cls.__dataclass_fields__})

    def __post_init__(self) -> None:
        if self.beam_size < 1:
            raise ValueError(f"eval.beam_size={self.beam_size}: must be at least 1 (1 = greedy)")
        if self.max_length_ratio <= 0 or self.max_length_offset < 1:
            raise ValueError("eval.max_length_ratio must be > 0 and eval.max_length_offset >= 1")
        for key in ("max_output_length", "max_source_length"):
            value = getattr(self, key)
            if value is not None and value < 1:
                raise ValueError(f"eval.{key}={value}: must be at least 1 (or null for no limit of its own)")
        if self.long_sources not in LONG_SOURCE_POLICIES:
            raise ValueError(f"eval.long_sources={self.long_sources!r}: choose one of {', '.join(LONG_SOURCE_POLICIES)}")


def warn_long_sources(name: str, numbers: list[int], limit: int, policy: str) -> None:
    """One warning for all sources over the limit: how many, what was done, and the first sentence numbers."""
    shown = ", ".join(str(n) for n in numbers[:5]) + (", ..." if len(numbers) > 5 else "")
    if policy == "truncate":
        done = "were cut to that length (eval.long_sources=skip leaves them untranslated)"
    else:
        done = "were skipped with an empty output line (eval.long_sources=truncate translates their beginning)"
    log.warning("%s: %d sources longer than %d subwords (what the encoder reads, or eval.max_source_length) %s: "
                "sentence %s", name, len(numbers), limit, done, shown)


def widen_attention(attention: Tensor, kept: int, length: int) -> Tensor:
    """Attention over a source cut to `kept` subwords (+ EOS), as columns over all `length` + EOS: zeros where unread."""
    wide = attention.new_zeros(attention.size(0), length + 1)
    wide[:, :kept] = attention[:, :kept]
    wide[:, length] = attention[:, kept]
    return wide


def translate(
    model: EncoderDecoder,
    tokenizer: Tokenizer,
    sentences: list[str],
    settings: SearchSettings,
    need_attention: bool = False,
    precision: str = "fp32",
    name: str = "input",
    progress: bool = False,
) -> list[Hypothesis]:
    """Translate sentences in length-sorted batches (greedy for beam size 1), returning them in input order.

    A sentence without subwords translates to an empty line undecoded. A source longer than the model
    reads is cut to fit or skipped, per `settings.long_sources`, with one warning naming the sentences
    (numbered from 1 in `name`); attention maps still span the whole source (zeros where unread).
    With `progress`, a bar counts sentences on a terminal, and a line every minute says how far it is elsewhere.
    """
    if need_attention and settings.beam_size > 1:
        raise ValueError("attention maps come from greedy decoding: use beam_size=1")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    src_ids = tokenizer.encode_src(sentences)
    limit = source_limit(model.encoder, settings.max_source_length)
    too_long = [i for i, ids in enumerate(src_ids) if limit is not None and len(ids) > limit]
    if too_long:
        warn_long_sources(name, [i + 1 for i in too_long], limit, settings.long_sources)
    skipped = set(too_long) if settings.long_sources == "skip" else set()
    examples = [Example(i, ids[:limit] + [EOS_ID], []) for i, ids in enumerate(src_ids) if ids and i not in skipped]
    results = [Hypothesis([], torch.zeros(1, len(ids) + 1) if need_attention else None) for ids in src_ids]
    ratio, offset, max_length = settings.max_length_ratio, settings.max_length_offset, settings.max_output_length
    with tqdm(total=len(sentences), initial=len(sentences) - len(examples), desc=name, unit="sentence",
              disable=None if progress else True, leave=False) as bar:
        lines, started = ProgressLines(PROGRESS_SECONDS, enabled=progress and bar.disable), time.perf_counter()
        done = len(sentences) - len(examples)  # a disabled bar counts nothing
        for group in token_batches(examples, settings.batch_tokens, shuffle=False):
            batch = collate(group).to(device)
            with autocast(device, precision):
                if settings.beam_size == 1:
                    hypotheses = greedy_search(model, batch.src, batch.src_mask, ratio, offset, need_attention, max_length)
                else:
                    hypotheses = [
                        best[0]
                        for best in beam_search(model, batch.src, batch.src_mask, settings.beam_size,
                                                settings.length_penalty, ratio, offset, max_length=max_length)
                    ]
            for example, hypothesis in zip(group, hypotheses):
                full = len(src_ids[example.index])
                if hypothesis.attention is not None and len(example.src) - 1 < full:
                    hypothesis.attention = widen_attention(hypothesis.attention, len(example.src) - 1, full)
                results[example.index] = hypothesis
            bar.update(len(group))
            done += len(group)
            if lines.due():
                left = minutes_left(done, len(sentences), started) or 0.0
                log.info("decoding %s: %s / %s sentences, %.1f minutes left", name, f"{done:,}", f"{len(sentences):,}", left)
    model.train(was_training)
    return results
