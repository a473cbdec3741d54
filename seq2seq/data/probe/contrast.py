"""Contrastive verb test: does the model prefer the true English main verb to a wrong one?

Targeted evaluation in the manner of Sennrich (2017, "How grammatical is character-level neural
machine translation? Assessing MT quality with contrastive translation pairs", LingEval97): each
test reference gets contrastive variants that differ from it only in the main verb, and the model
scores both by teacher forcing, without decoding. The item is right when the true reference is
strictly more probable. Unlike "is the verb somewhere in the output", chance is 50% at every
length, so a fall with subject–verb distance is the model losing the link, not a moving baseline.

Two kinds of contrast: "attractor", the main verb replaced by a verb of one of the sentence's
relative clauses (the verb a model that lost the subject is drawn to, Linzen et al. 2016), and
"random", a verb of the lexicon that does not occur in the sentence. Both keep the main verb's
transitivity where they can, so the contrast stays grammatical apart from the verb's meaning.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import torch

from seq2seq.data.batching import collate, make_examples, token_batches
from seq2seq.data.parallel import ParallelText
from seq2seq.data.probe.lexicon import INTRANSITIVE, TRANSITIVE
from seq2seq.data.tokenizer import PAD_ID
from seq2seq.scoring.split import format_interval
from seq2seq.training.precision import autocast
from seq2seq.scoring.bootstrap import BootstrapSettings, percentile_interval, resample_counts
from seq2seq.scoring.buckets import bucket_bounds, bucket_label, bucket_members

if TYPE_CHECKING:
    from seq2seq.data.tokenizer import Tokenizer
    from seq2seq.models.encoder_decoder import EncoderDecoder

CONTRAST_KINDS = ("attractor", "random")


@dataclass(frozen=True)
class Contrast:
    """One contrastive reference: pair `item` of the split, with its main verb swapped."""

    item: int
    kind: str
    tgt: str


def swap_main_verb(tgt: str, meta: dict, verb: str) -> str:
    """The reference with the main verb (word `main_verb_word`, punctuation kept) replaced by `verb`."""
    words = tgt.split(" ")
    position, form = meta["main_verb_word"], meta["main_verb"]
    if not words[position].startswith(form):
        raise ValueError(f"word {position} of {tgt!r} is not the main verb {form!r}; regenerate the corpus")
    words[position] = verb + words[position][len(form):]
    return " ".join(words)


def attractor_verb(meta: dict, fits: Callable[[str], bool]) -> str | None:
    """The relative-clause verb that best stands in for the main verb, or None when none fits.

    Preferred in order: the main verb's transitivity (so the object or PP after it still fits), a
    verb between subject and main verb in German (an intervening attractor), and German proximity to
    the main verb. A verb spelled like the main verb is no contrast and is skipped, as is one that
    `fits` rejects.
    """

    def preference(verb: dict) -> tuple[bool, bool, int]:
        intervening = meta["subject_index"] < verb["index"] < meta["verb_index"]
        return verb["transitive"] != meta["main_verb_transitive"], not intervening, abs(verb["index"] - meta["verb_index"])

    candidates = sorted((verb for verb in meta["relative_verbs"] if verb["en"] != meta["main_verb"]), key=preference)
    return next((verb["en"] for verb in candidates if fits(verb["en"])), None)


def random_verb(meta: dict, rng: random.Random, fits: Callable[[str], bool]) -> str | None:
    """A lexicon verb of the main verb's transitivity (all forms are simple past), not in the
    sentence, that `fits`; None when there is none."""
    in_sentence = {meta["main_verb"], *(verb["en"] for verb in meta["relative_verbs"])}
    pool = [verb.en for verb in (TRANSITIVE if meta["main_verb_transitive"] else INTRANSITIVE) if verb.en not in in_sentence]
    rng.shuffle(pool)
    return next((verb for verb in pool if fits(verb)), None)


def build_contrasts(text: ParallelText, seed: int, subwords: Callable[[str], int] | None = None) -> list[Contrast]:
    """Attractor (where the sentence has a usable relative clause) and random contrasts per pair.

    With `subwords` (a sentence's target subword count), a contrast must have as many subwords as
    its reference: a sum of log-probabilities favours the shorter sequence, so without this a model
    that knows nothing would still prefer short verbs, and chance would not be 50%. A pair with no
    such verb gets no contrast of that kind. The random verb is drawn from a generator seeded by
    `seed` and the German sentence, so a pair keeps its contrast whatever else is in the split.
    """
    if text.meta is None:
        raise ValueError(f"split '{text.name}' has no metadata; load it with ProbeCorpus.load")
    contrasts = []
    for item, (src, tgt, meta) in enumerate(zip(text.src, text.tgt, text.meta)):
        length = None if subwords is None else subwords(tgt)

        def fits(verb: str) -> bool:
            return length is None or subwords(swap_main_verb(tgt, meta, verb)) == length

        for kind, verb in (("attractor", attractor_verb(meta, fits)),
                           ("random", random_verb(meta, random.Random(f"{seed}/{src}"), fits))):
            if verb is not None:
                contrasts.append(Contrast(item, kind, swap_main_verb(tgt, meta, verb)))
    return contrasts


def sequence_log_probs(
    model: EncoderDecoder, tokenizer: Tokenizer, sources: list[str], targets: list[str], precision: str,
    batch_tokens: int = 4000,
) -> np.ndarray:
    """log p(target | source) of each pair under teacher forcing: target subwords and EOS, summed."""
    examples = make_examples(tokenizer.encode_src(sources), tokenizer.encode_tgt(targets))
    device = next(model.parameters()).device
    scores = np.zeros(len(examples))
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for group in token_batches(examples, batch_tokens, shuffle=False):
            batch = collate(group).to(device)
            with autocast(device, precision):
                logits, _ = model(batch.src, batch.src_mask, batch.tgt_in)  # [batch, tgt_len, vocab]
            token_log_probs = logits.float().log_softmax(-1).gather(-1, batch.tgt_out.unsqueeze(-1)).squeeze(-1)
            token_log_probs = token_log_probs.masked_fill(batch.tgt_out == PAD_ID, 0.0)  # [batch, tgt_len]
            scores[batch.indices] = token_log_probs.sum(-1).cpu().numpy()
    model.train(was_training)
    return scores


def accuracy_with_interval(correct: np.ndarray, bootstrap: BootstrapSettings) -> dict[str, Any]:
    """Share of correct items and its percentile-bootstrap interval over items (None when empty)."""
    count = len(correct)
    if count == 0:
        return {"count": 0, "correct": 0, "accuracy": None, "ci": None}
    rng = np.random.default_rng(bootstrap.seed)
    resampled = resample_counts(count, bootstrap.resamples, rng) @ correct / count  # [resamples]
    return {"count": count, "correct": int(correct.sum()), "accuracy": float(correct.mean()),
            "ci": percentile_interval(resampled, bootstrap.level)}


def accuracy_by_bucket(
    correct: np.ndarray, values: np.ndarray, edges: list[int], bootstrap: BootstrapSettings,
) -> list[dict[str, Any]]:
    """One row per bucket [low, high) of `values`, empty buckets kept; values outside count nowhere."""
    members = bucket_members(list(values), edges, open_end=False)
    return [{"bucket": bucket_label(low, high), "low": low, "high": high, **accuracy_with_interval(correct[rows], bootstrap)}
            for (low, high), rows in zip(bucket_bounds(edges, open_end=False), members)]


def contrast_table(
    reference_scores: np.ndarray, contrast_scores: np.ndarray, lengths: np.ndarray, distances: np.ndarray,
    distance_edges: list[int], length_edges: list[int], bootstrap: BootstrapSettings,
) -> dict[str, Any]:
    """Accuracy (reference strictly above contrast; a tie is wrong) overall, by distance, by length."""
    correct = (reference_scores > contrast_scores).astype(np.float64)
    return {"overall": accuracy_with_interval(correct, bootstrap),
            "by_distance": accuracy_by_bucket(correct, distances, distance_edges, bootstrap),
            "by_length": accuracy_by_bucket(correct, lengths, length_edges, bootstrap)}


def pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson correlation, None where it is undefined (fewer than two items or a constant side)."""
    if len(x) < 2 or np.std(x) == 0 or np.std(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def contrastive_accuracy(
    model: EncoderDecoder, tokenizer: Tokenizer, text: ParallelText, distance_edges: list[int],
    length_edges: list[int], precision: str, bootstrap: BootstrapSettings | None = None, seed: int = 0,
    batch_tokens: int = 4000, cells: list[str] | None = None,
) -> dict[str, Any]:
    """The contrastive verb test on one probe split, for `results.json`.

    Returns {"kinds": {kind: contrast_table(...)} for each of CONTRAST_KINDS, "pairs": split size,
    "length_distance_r": Pearson r of German length and subject–verb distance over the split (high r
    means a fall with distance cannot be told from a fall with length), "bootstrap": its settings}.
    With `cells` (the grid split's cell labels, one per pair in meta["cell"]) each kind also gets `by_cell`.
    """
    bootstrap = bootstrap or BootstrapSettings()
    contrasts = build_contrasts(text, seed, lambda sentence: len(tokenizer.encode_tgt([sentence])[0]))
    sources = text.src + [text.src[c.item] for c in contrasts]
    scores = sequence_log_probs(model, tokenizer, sources, text.tgt + [c.tgt for c in contrasts], precision,
                                batch_tokens)
    reference, contrast = scores[: len(text)], scores[len(text):]
    lengths = np.array([meta["length"] for meta in text.meta])
    distances = np.array([meta["distance"] for meta in text.meta])
    kinds = {}
    for kind in CONTRAST_KINDS:
        rows = np.array([k for k, c in enumerate(contrasts) if c.kind == kind], dtype=int)
        items = np.array([contrasts[k].item for k in rows], dtype=int)
        kinds[kind] = contrast_table(reference[items], contrast[rows], lengths[items], distances[items],
                                     distance_edges, length_edges, bootstrap)
        if cells:  # the grid split: distance at fixed length, every cell listed, empty ones too
            correct = (reference[items] > contrast[rows]).astype(np.float64)
            labels = [text.meta[i].get("cell") for i in items]
            kinds[kind]["by_cell"] = [{"bucket": cell, **accuracy_with_interval(
                correct[[j for j, label in enumerate(labels) if label == cell]], bootstrap)} for cell in cells]
    return {"kinds": kinds, "pairs": len(text), "length_distance_r": pearson(lengths, distances),
            "bootstrap": vars(bootstrap).copy()}


def _percent(summary: dict[str, Any]) -> tuple[str, str]:
    """Accuracy and its interval in percent, "-" where the bucket is empty."""
    if summary["accuracy"] is None:
        return "-", "-"
    return f"{100 * summary['accuracy']:.1f}", format_interval([100 * bound for bound in summary["ci"]])


def format_contrastive(contrastive: dict[str, Any]) -> list[str]:
    """Console lines: accuracy (%) per kind overall, then by distance and by length, with intervals."""
    level = f"{contrastive['bootstrap']['level']:.0%} CI"
    kinds = contrastive["kinds"]
    overall = "; ".join(f"{kind} {' '.join(_percent(table['overall']))} ({table['overall']['count']} pairs)"
                        for kind, table in kinds.items())
    r = contrastive["length_distance_r"]
    lines = [f"  contrastive verb accuracy % (chance 50), {level}: {overall}"
             + ("" if r is None else f"; r(length, distance) {r:.2f}")]
    views = [("by_distance", "distance"), ("by_length", "src words")]
    views += [("by_cell", "cell")] if all("by_cell" in table for table in kinds.values()) else []
    for view, title in views:
        lines.append(f"  {title:>10}" + "".join(f" {'pairs':>6} {kind:>9} {level:>13}" for kind in kinds))
        for rows in zip(*(table[view] for table in kinds.values())):
            cells = (f" {row['count']:>6} {_percent(row)[0]:>9} {_percent(row)[1]:>13}" for row in rows)
            lines.append(f"  {rows[0]['bucket']:>10}" + "".join(cells))
    return lines
