"""The probe's targeted metrics: main-verb accuracy beside its chance level, and their console lines.

The contrastive test (`contrast.py`) scores reference and contrast under the model; these read
only the decoded hypotheses. Both print under the split's BLEU table.
"""

from __future__ import annotations

import re
from typing import Any

from seq2seq.data.probe.contrast import format_contrastive
from seq2seq.scoring.buckets import assign_buckets, bucket_bounds, bucket_label

def check_edges(edges: list[int]) -> None:
    """Distance edges: two or more, strictly increasing (buckets [e0, e1), ..., [e_{n-1}, e_n))."""
    try:
        bucket_bounds(edges, open_end=False)
    except ValueError:
        raise ValueError(f"distance_edges must be at least two strictly increasing numbers, got {edges}") from None


def _contains_word(text: str, word: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE) is not None


def verb_accuracy(hypotheses: list[str], meta: list[dict], distance_edges: list[int]) -> dict:
    """Fraction of hypotheses containing the reference's English main verb as a whole word
    (case-insensitive), overall and per bucket [low, high) of subject–verb distance.

    Presence is a fair test because the generator never reuses the main verb elsewhere in a
    sentence and no other English word in the lexicon is spelled like a verb form, so the verb
    occurs exactly once in the reference. It does not check the verb's position: a model that moves
    the verb into a relative clause still scores. Distances outside the edges count only overall;
    empty buckets are kept with count 0 and accuracy None.
    """
    if len(hypotheses) != len(meta):
        raise ValueError(f"verb_accuracy: {len(hypotheses)} hypotheses for {len(meta)} references")
    check_edges(distance_edges)
    buckets = [{"bucket": bucket_label(low, high), "low": low, "high": high, "count": 0, "correct": 0, "accuracy": None}
               for low, high in bucket_bounds(distance_edges, open_end=False)]
    correct = 0
    assigned = assign_buckets([row["distance"] for row in meta], distance_edges, open_end=False)
    for hypothesis, row, index in zip(hypotheses, meta, assigned):
        hit = row["main_verb"] is not None and _contains_word(hypothesis, row["main_verb"])
        correct += hit
        if index is not None:
            buckets[index]["count"] += 1
            buckets[index]["correct"] += hit
    for bucket in buckets:
        if bucket["count"]:
            bucket["accuracy"] = bucket["correct"] / bucket["count"]
    overall = {"accuracy": correct / len(meta) if meta else None, "count": len(meta), "correct": correct}
    return {"overall": overall, "by_distance": buckets}


def verb_chance(hypotheses: list[str], meta: list[dict], distance_edges: list[int]) -> dict:
    """`verb_accuracy`'s chance level: each hypothesis checked for the main verb of another pair of
    nearly the same length (its nearest neighbour in length order whose main verb differs).

    Longer references hold more verbs (relative clauses), so a hypothesis contains some other
    sentence's main verb more often as length and distance grow; a verb accuracy means something
    only above this line. Same result layout as `verb_accuracy`, bucketed by each pair's own distance;
    a pair with no such neighbour (every main verb in the split the same) counts as a miss.
    """
    order = sorted(range(len(meta)), key=lambda i: (meta[i]["length"], i))
    partnered = [dict(row) for row in meta]
    for rank, item in enumerate(order):
        own = meta[item]["main_verb"]
        neighbours = (order[j] for offset in range(1, len(order)) for j in (rank + offset, rank - offset)
                      if 0 <= j < len(order))
        partnered[item]["main_verb"] = next((meta[j]["main_verb"] for j in neighbours if meta[j]["main_verb"] != own), None)
    return verb_accuracy(hypotheses, partnered, distance_edges)


def format_probe_metrics(result: dict[str, Any]) -> list[str]:
    """Console lines for a split's verb accuracy (beside its chance level) and contrastive test, where present."""
    lines: list[str] = []
    if "verb_accuracy" in result:
        verbs = result["verb_accuracy"]
        chance = verbs.get("chance")
        lines.append(f"  main-verb accuracy {verbs['overall']['accuracy']:.1%}"
                     + ("" if chance is None else f" (chance {chance['accuracy']:.1%})") + ", by subject–verb distance:")
        lines.append(f"  {'distance':>10} {'count':>6} {'acc.':>6} {'chance':>6}")
        for row in verbs["by_distance"]:
            accuracy = "-" if row["accuracy"] is None else f"{row['accuracy']:.1%}"
            row_chance = "-" if row.get("chance") is None else f"{row['chance']:.1%}"
            lines.append(f"  {row['bucket']:>10} {row['count']:>6} {accuracy:>6} {row_chance:>6}")
    if "contrastive" in result:
        lines.extend(format_contrastive(result["contrastive"]))
    return lines
