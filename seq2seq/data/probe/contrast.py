"""Contrastive verb test: does the model prefer the true English main verb to a wrong one?

Targeted evaluation in the manner of Sennrich (2017, "How grammatical is character-level neural
machine translation? Assessing MT quality with contrastive translation pairs", LingEval97): each
test reference gets contrastive variants, and the model scores both by teacher forcing, without
decoding. The item is right when the true reference is more probable (a tie counts half).

Two kinds of contrast, each built so that a model of the English alone cannot tell reference from
contrast, and chance is 50% in every bucket:
- "attractor": the main verb and a verb of one of the sentence's relative clauses (the verb a model
  that lost the subject is drawn to, Linzen et al. 2016) trade places. The two verbs have the same
  transitivity and the attractor occurs once, so the swapped sentence is one the grammar makes, and
  exactly as often: every verb of a transitivity is drawn uniformly, whatever its clause. Replacing
  the main verb alone left the attractor twice in the contrast and sometimes broke transitivity,
  which an English-only trigram model exploited (59% overall, 68% at short distances).
- "random": the main verb replaced by a lexicon verb of its transitivity that the sentence lacks.
`source_blind.py` scores the same contrasts without the source: the measured floor.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

import numpy as np
import torch

from seq2seq.data.batching import collate, make_examples, token_batches
from seq2seq.data.parallel import ParallelText
from seq2seq.data.probe.distance_effect import distance_effect, factorial_effects
from seq2seq.data.probe.factorial import FACTORIAL_CELLS, item_groups
from seq2seq.data.probe.lexicon import INTRANSITIVE, TRANSITIVE
from seq2seq.data.tokenizer import PAD_ID
from seq2seq.scoring.split import format_interval
from seq2seq.training.precision import autocast
from seq2seq.scoring.bootstrap import BootstrapSettings, percentile_interval, resample_counts
from seq2seq.scoring.buckets import bucket_bounds, bucket_label, bucket_members

if TYPE_CHECKING:
    from seq2seq.data.tokenizer import Tokenizer
    from seq2seq.models.encoder_decoder import EncoderDecoder

log = logging.getLogger(__name__)

CONTRAST_KINDS = ("attractor", "random")


@dataclass(frozen=True)
class Contrast:
    """One contrastive reference: pair `item` of the split, with its main verb swapped."""

    item: int
    kind: str
    tgt: str


def _replaced(word: str, form: str, verb: str) -> str:
    """`word` (a verb form with any punctuation after it) with `form` replaced by `verb`."""
    if not word.startswith(form):
        raise ValueError(f"{word!r} is not the verb {form!r}; regenerate the corpus")
    return verb + word[len(form):]


def swap_main_verb(tgt: str, meta: dict, verb: str) -> str:
    """The reference with the main verb (word `main_verb_word`, punctuation kept) replaced by `verb`."""
    words = tgt.split(" ")
    position = meta["main_verb_word"]
    words[position] = _replaced(words[position], meta["main_verb"], verb)
    return " ".join(words)


def trade_verbs(tgt: str, meta: dict, verb: str) -> str:
    """The reference with the main verb and the relative-clause verb `verb` in each other's places."""
    words = tgt.split(" ")
    main = meta["main_verb_word"]
    [other] = [i for i, word in enumerate(words) if i != main and word.rstrip(",.") == verb]
    words[main], words[other] = (_replaced(words[main], meta["main_verb"], verb),
                                 _replaced(words[other], verb, meta["main_verb"]))
    return " ".join(words)


def attractor_verb(meta: dict, fits: Callable[[str], bool]) -> str | None:
    """The relative-clause verb to trade places with the main verb, or None when none qualifies.

    It must share the main verb's transitivity and occur in one relative clause only: then the
    swapped sentence keeps the grammar's rules (each verb's frame; the main verb never recurring in a
    relative clause) and is as probable as the reference to a model of English alone. Among those,
    preferred: a verb between subject and main verb in German (an intervening attractor), then German
    proximity to the main verb; `fits` may reject a candidate.
    """
    uses = Counter(verb["en"] for verb in meta["relative_verbs"])

    def preference(verb: dict) -> tuple[bool, int]:
        intervening = meta["subject_index"] < verb["index"] < meta["verb_index"]
        return not intervening, abs(verb["index"] - meta["verb_index"])

    candidates = sorted((verb for verb in meta["relative_verbs"] if uses[verb["en"]] == 1
                         and verb["transitive"] == meta["main_verb_transitive"] and verb["en"] != meta["main_verb"]),
                        key=preference)
    return next((verb["en"] for verb in candidates if fits(verb["en"])), None)


def has_attractor_contrast(meta: dict) -> bool:
    """Whether the pair has a relative-clause verb to trade with its main verb, whatever the tokenizer."""
    return attractor_verb(meta, lambda verb: True) is not None


def random_verb(meta: dict, rng: random.Random, fits: Callable[[str], bool]) -> str | None:
    """A lexicon verb of the main verb's transitivity (all forms are simple past), not in the
    sentence, that `fits`; None when there is none."""
    in_sentence = {meta["main_verb"], *(verb["en"] for verb in meta["relative_verbs"])}
    pool = [verb.en for verb in (TRANSITIVE if meta["main_verb_transitive"] else INTRANSITIVE) if verb.en not in in_sentence]
    rng.shuffle(pool)
    return next((verb for verb in pool if fits(verb)), None)


def build_contrasts(text: ParallelText, seed: int, subwords: Callable[[str], int] | None = None) -> list[Contrast]:
    """Attractor (where the sentence has a qualifying relative-clause verb) and random contrasts per pair.

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

        def fits(change: Callable[[str, dict, str], str]) -> Callable[[str], bool]:
            return lambda verb: length is None or subwords(change(tgt, meta, verb)) == length

        attractor = attractor_verb(meta, fits(trade_verbs))
        if attractor is not None:
            contrasts.append(Contrast(item, "attractor", trade_verbs(tgt, meta, attractor)))
        replacement = random_verb(meta, random.Random(f"{seed}/{src}"), fits(swap_main_verb))
        if replacement is not None:
            contrasts.append(Contrast(item, "random", swap_main_verb(tgt, meta, replacement)))
    return contrasts


def position_limits(model: EncoderDecoder) -> tuple[int | None, int | None]:
    """The longest source and target (subwords with EOS) the model can read, None for no limit; a scorer that is
    not an encoder-decoder (the tests' stand-ins) has none."""
    return (getattr(getattr(model, "encoder", None), "max_source_positions", None),
            getattr(getattr(model, "decoder", None), "max_target_positions", None))


def beyond_positions(limits: tuple[int | None, int | None], tokenizer: Tokenizer, text: ParallelText) -> set[int]:
    """Pairs (0-based) a model with these `position_limits` cannot score under teacher forcing: a source or a
    target (with EOS, or BOS on the decoder's input) longer than its positions. Contrasts keep their reference's
    subword count, so the reference decides for every contrast of its pair. An RNN reads any length: none."""
    source_positions, target_positions = limits
    if source_positions is None and target_positions is None:
        return set()
    sources, targets = tokenizer.encode_src(text.src), tokenizer.encode_tgt(text.tgt)
    return {i for i, (src, tgt) in enumerate(zip(sources, targets))
            if (source_positions is not None and len(src) + 1 > source_positions)
            or (target_positions is not None and len(tgt) + 1 > target_positions)}


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


def outcomes(reference_scores: np.ndarray, contrast_scores: np.ndarray) -> np.ndarray:
    """1 where the reference is more probable, 0 where the contrast is, ½ for a tie: a model with no
    preference at all (equal scores) sits at chance, 50%, not at 0."""
    return (reference_scores > contrast_scores) + 0.5 * (reference_scores == contrast_scores)


def accuracy_with_interval(correct: np.ndarray, bootstrap: BootstrapSettings) -> dict[str, Any]:
    """Share of correct items (a tie counts ½) and its percentile-bootstrap interval over items (None when empty)."""
    count = len(correct)
    if count == 0:
        return {"count": 0, "correct": 0, "accuracy": None, "ci": None}
    rng = np.random.default_rng(bootstrap.seed)
    resampled = resample_counts(count, bootstrap.resamples, rng) @ correct / count  # [resamples]
    return {"count": count, "correct": float(correct.sum()), "accuracy": float(correct.mean()),
            "ci": percentile_interval(resampled, bootstrap.level)}


def accuracy_by_bucket(
    correct: np.ndarray, values: np.ndarray, edges: list[int], bootstrap: BootstrapSettings, open_end: bool = False,
) -> list[dict[str, Any]]:
    """One row per bucket [low, high) of `values`, empty buckets kept; values outside count nowhere. Lengths take
    an open last bucket (`open_end`), labelled `60+` as in the BLEU tables; distances close at their last edge."""
    members = bucket_members(list(values), edges, open_end=open_end)
    return [{"bucket": bucket_label(low, high), "low": low, "high": high, **accuracy_with_interval(correct[rows], bootstrap)}
            for (low, high), rows in zip(bucket_bounds(edges, open_end=open_end), members)]


def contrast_table(
    correct: np.ndarray, lengths: np.ndarray, distances: np.ndarray, distance_edges: list[int],
    length_edges: list[int], bootstrap: BootstrapSettings,
) -> dict[str, Any]:
    """Accuracy overall, by distance, by length, from each pair's `outcomes` (1 won, ½ tied, 0 lost)."""
    return {"overall": accuracy_with_interval(correct, bootstrap),
            "by_distance": accuracy_by_bucket(correct, distances, distance_edges, bootstrap),
            "by_length": accuracy_by_bucket(correct, lengths, length_edges, bootstrap, open_end=True)}


def pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson correlation, None where it is undefined (fewer than two items or a constant side)."""
    if len(x) < 2 or np.std(x) == 0 or np.std(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


class SourceBlind(Protocol):
    """A scorer of English sentences alone (`source_blind.KneserNeyLM`): the test's measured floor."""

    name: str

    def scores(self, sentences: list[str]) -> np.ndarray: ...


def kind_tables(
    text: ParallelText, contrasts: list[Contrast], reference: np.ndarray, contrast: np.ndarray,
    distance_edges: list[int], length_edges: list[int], bootstrap: BootstrapSettings, cells: list[str] | None,
) -> dict[str, Any]:
    """Per contrast kind, the `contrast_table` of one scorer; on a split with `cells` also by cell and the
    paired tests of `outcome_tables`."""
    items = [c.item for c in contrasts]
    return outcome_tables([c.kind for c in contrasts], items, outcomes(reference[items], contrast),
                          np.array([text.meta[i]["length"] for i in items], dtype=int),
                          np.array([text.meta[i]["distance"] for i in items], dtype=int),
                          [text.meta[i].get("cell") for i in items], distance_edges, length_edges, bootstrap, cells)


def outcome_tables(
    kinds: list[str], items: list[int], correct: np.ndarray, lengths: np.ndarray, distances: np.ndarray,
    labels: list[str | None], distance_edges: list[int], length_edges: list[int], bootstrap: BootstrapSettings,
    cells: list[str] | None,
) -> dict[str, Any]:
    """The tables of `kind_tables` from one outcome per contrast (its kind, pair index, pair length, distance and
    cell), which is all a recorded run's contrast file (`items_tsv`) needs to rebuild them. With `cells`, also
    accuracy by cell and the split's paired tests: on the factorial split, `factorial_effects` over each item's
    four cells; on the grid, `distance_effect` (nearest against farthest cell per length band)."""
    tables = {}
    for kind in CONTRAST_KINDS:
        rows = np.array([k for k, name in enumerate(kinds) if name == kind], dtype=int)
        tables[kind] = contrast_table(correct[rows], lengths[rows], distances[rows], distance_edges, length_edges,
                                      bootstrap)
        if cells:  # every cell listed, empty ones too
            kind_labels = [labels[k] for k in rows]
            tables[kind]["by_cell"] = [{"bucket": cell, **accuracy_with_interval(
                correct[rows][[j for j, label in enumerate(kind_labels) if label == cell]], bootstrap)} for cell in cells]
            if cells == list(FACTORIAL_CELLS):
                tables[kind]["factorial_effects"] = factorial_effects(
                    correct[rows], kind_labels, item_groups([items[k] for k in rows]), cells, bootstrap)
            else:
                tables[kind]["distance_effect"] = distance_effect(correct[rows], kind_labels, list(lengths[rows]),
                                                                  cells, bootstrap)
    return tables


ITEM_COLUMNS = ("item", "kind", "length", "distance", "cell", "reference", "contrast", "blind_reference",
                "blind_contrast")


def contrast_items(text: ParallelText, contrasts: list[Contrast], scores: np.ndarray,
                   blind: np.ndarray | None) -> list[dict[str, Any]]:
    """One record per contrast: its pair (0-based in the split), kind, length, distance and cell, and the
    log-probabilities of reference and contrast under the model and under the floor (`ITEM_COLUMNS`)."""
    records = []
    for k, c in enumerate(contrasts):
        meta = text.meta[c.item]
        records.append({"item": c.item, "kind": c.kind, "length": meta["length"], "distance": meta["distance"],
                        "cell": meta.get("cell") or "", "reference": float(scores[c.item]),
                        "contrast": float(scores[len(text) + k]),
                        "blind_reference": None if blind is None else float(blind[c.item]),
                        "blind_contrast": None if blind is None else float(blind[len(text) + k])})
    return records


def items_tsv(items: list[dict[str, Any]]) -> str:
    """A contrast file: a header of `ITEM_COLUMNS`, one tab-separated line per contrast, floats as Python writes
    them back exactly (`repr`), so that every outcome, tie included, is rebuilt as the run scored it."""
    def text(value: Any) -> str:
        return "" if value is None else repr(value) if isinstance(value, float) else str(value)

    return "".join("\t".join(map(text, row)) + "\n" for row in [ITEM_COLUMNS, *([r[c] for c in ITEM_COLUMNS] for r in items)])


def read_items(path: Path) -> list[dict[str, Any]]:
    """A contrast file back into records (`items_tsv`'s inverse)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if not lines or tuple(lines[0].split("\t")) != ITEM_COLUMNS:
        raise ValueError(f"{path}: not a contrast file (its header should be {' '.join(ITEM_COLUMNS)})")
    records = []
    for line in lines[1:]:
        item, kind, length, distance, cell, *scores = line.split("\t")
        records.append({"item": int(item), "kind": kind, "length": int(length), "distance": int(distance), "cell": cell,
                        **{name: float(value) if value else None for name, value in zip(ITEM_COLUMNS[5:], scores)}})
    return records


def tables_from_items(items: list[dict[str, Any]], distance_edges: list[int], length_edges: list[int],
                      cells: list[str] | None, bootstrap: BootstrapSettings) -> dict[str, Any]:
    """The contrastive result's tables (`kinds`, and the floor's where recorded) rebuilt from a run's records."""
    kinds, labels = [r["kind"] for r in items], [r["cell"] or None for r in items]
    lengths = np.array([r["length"] for r in items], dtype=int)
    distances = np.array([r["distance"] for r in items], dtype=int)

    def tables(reference: str, contrast: str) -> dict[str, Any]:
        correct = outcomes(np.array([r[reference] for r in items]), np.array([r[contrast] for r in items]))
        return outcome_tables(kinds, [r["item"] for r in items], correct, lengths, distances, labels, distance_edges,
                              length_edges, bootstrap, cells)

    rebuilt = {"kinds": tables("reference", "contrast")}
    if items and items[0]["blind_reference"] is not None:
        rebuilt["source_blind"] = {"kinds": tables("blind_reference", "blind_contrast")}
    return rebuilt


def contrastive_accuracy(
    model: EncoderDecoder, tokenizer: Tokenizer, text: ParallelText, distance_edges: list[int],
    length_edges: list[int], precision: str, bootstrap: BootstrapSettings | None = None, seed: int = 0,
    batch_tokens: int = 4000, cells: list[str] | None = None, floor: SourceBlind | None = None,
    items: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The contrastive verb test on one probe split, for `results.json`.

    Returns {"kinds": {kind: tables} for each of CONTRAST_KINDS (see `kind_tables`), "pairs": split
    size, "length_distance_r": Pearson r of German length and subject–verb distance over the split
    (high r means a fall with distance cannot be told from a fall with length), "bootstrap": its
    settings}, and with `floor` "source_blind": {"model": its name, "kinds": the same tables for the
    floor's scores of the same contrasts}. With `cells` (the grid's or the factorial split's cell labels, one per
    pair in meta["cell"]) the tables also hold `by_cell` and `distance_effect` or `factorial_effects`. Given a list `items`, it is filled
    with one record per contrast (`contrast_items`), from which every table can be rebuilt.
    """
    bootstrap = bootstrap or BootstrapSettings()
    contrasts = build_contrasts(text, seed, lambda sentence: len(tokenizer.encode_tgt([sentence])[0]))
    limits = position_limits(model)
    unreadable = beyond_positions(limits, tokenizer, text)
    if unreadable:  # left out of every table, the floor's too, so that both score the same pairs
        log.warning("contrastive test on '%s': %d of %d pairs are longer than the model's positions (source %s, target "
                    "%s subwords with EOS) and are left out; first pairs: %s", text.name, len(unreadable), len(text),
                    *limits, ", ".join(str(i + 1) for i in sorted(unreadable)[:10]))
        contrasts = [c for c in contrasts if c.item not in unreadable]
    sources = text.src + [text.src[c.item] for c in contrasts]
    targets = text.tgt + [c.tgt for c in contrasts]
    scored = [i for i in range(len(targets)) if i >= len(text) or i not in unreadable]
    scores = np.full(len(targets), np.nan)  # an unreadable reference stays NaN: no contrast of its pair is left
    scores[scored] = sequence_log_probs(model, tokenizer, [sources[i] for i in scored], [targets[i] for i in scored],
                                        precision, batch_tokens)
    views = (distance_edges, length_edges, bootstrap, cells)
    result = {"kinds": kind_tables(text, contrasts, scores[: len(text)], scores[len(text):], *views),
              "pairs": len(text), "beyond_positions": len(unreadable),
              "length_distance_r": pearson(np.array([m["length"] for m in text.meta]), np.array([m["distance"] for m in text.meta])),
              "bootstrap": vars(bootstrap).copy()}
    blind = None if floor is None else floor.scores(targets)
    if blind is not None:
        result["source_blind"] = {"model": floor.name,
                                  "kinds": kind_tables(text, contrasts, blind[: len(text)], blind[len(text):], *views)}
    if items is not None:
        items += contrast_items(text, contrasts, scores, blind)
    return result


def _percent(summary: dict[str, Any]) -> tuple[str, str]:
    """Accuracy and its interval in percent, "-" where the bucket is empty."""
    if summary["accuracy"] is None:
        return "-", "-"
    return f"{100 * summary['accuracy']:.1f}", format_interval([100 * bound for bound in summary["ci"]])


def format_contrastive(contrastive: dict[str, Any]) -> list[str]:
    """Console lines: accuracy (%) per kind overall, then by distance, by length and by cell, with
    intervals and, where measured, the source-blind floor beside each; then the factorial's effects or the grid's
    distance effect."""
    level = f"{contrastive['bootstrap']['level']:.0%} CI"
    kinds = contrastive["kinds"]
    blind = contrastive.get("source_blind", {}).get("kinds")
    overall = "; ".join(f"{kind} {' '.join(_percent(table['overall']))} ({table['overall']['count']} pairs"
                        + ("" if blind is None else f", source-blind {_percent(blind[kind]['overall'])[0]}") + ")"
                        for kind, table in kinds.items())
    r = contrastive["length_distance_r"]
    left_out = contrastive.get("beyond_positions")
    lines = [f"  contrastive verb accuracy % (chance 50), {level}: {overall}"
             + ("" if r is None else f"; r(length, distance) {r:.2f}")
             + (f"; {left_out} pairs beyond the model's positions left out" if left_out else "")]
    if blind is not None:
        lines.append(f"  source-blind floor ('blind' columns): {contrastive['source_blind']['model']}, same contrasts")
    views = [("by_distance", "distance"), ("by_length", "src words")]
    views += [("by_cell", "cell")] if all("by_cell" in table for table in kinds.values()) else []
    blind_title = "" if blind is None else f" {'blind':>6}"
    for view, title in views:
        lines.append(f"  {title:>13}" + "".join(f" {'pairs':>6} {kind:>9} {level:>13}{blind_title}" for kind in kinds))
        columns = [table[view] for table in kinds.values()] + ([] if blind is None else [blind[kind][view] for kind in kinds])
        for rows in zip(*columns):
            own, floors = rows[: len(kinds)], rows[len(kinds):] or [None] * len(kinds)
            cells = (f" {row['count']:>6} {_percent(row)[0]:>9} {_percent(row)[1]:>13}"
                     + ("" if floor is None else f" {_percent(floor)[0]:>6}") for row, floor in zip(own, floors))
            lines.append(f"  {rows[0]['bucket']:>13}" + "".join(cells))
    for kind, table in kinds.items():
        for row in table.get("factorial_effects", []):
            sides = (f" ({100 * row['accuracy_a']:.1f}% − {100 * row['accuracy_b']:.1f}%)" if "accuracy_a" in row else "")
            lines.append(f"  {kind} contrasts, {row['effect']}: {100 * row['difference']:+.1f} points{sides} over {row['pairs']} "
                         f"items {format_interval([100 * b for b in row['ci']])}, p {row['p']:.3g}")
        for row in table.get("distance_effect", []):
            lines.append(f"  {kind} {row['band']}: {row['near']} {100 * row['near_accuracy']:.1f}% vs {row['far']} "
                         f"{100 * row['far_accuracy']:.1f}% over {row['pairs']} length-matched pairs, difference "
                         f"{100 * row['difference']:+.1f} points {format_interval([100 * b for b in row['ci']])}, p {row['p']:.3g}")
    return lines
