"""What produced a split's scores: the checkpoint and the decoding, recorded beside them in results.json.

A score describes a run only together with the weights and the search that made it. Each split's
entry therefore records `checkpoint` (path, epoch, step, a hash of the weights) and `decoding` (the
eval settings that decide the output), and an entry whose weights or decoding are no longer the
ones asked for is scored again: a resumed run that trained on re-scores its test splits. A decoding
other than the run's own (config.yaml's `eval`) is written beside the original under its own key,
`test.beam5` (hypotheses/test.beam5.txt), never over it, the way fairseq-generate and JoeyNMT's test
mode leave earlier outputs alone unless pointed at the same output path: the run keeps the record of
how it was evaluated when it was trained, and a beam search is one more result, not a replacement.
Entries written before these records existed carry neither: their provenance is unknown.
No torch here: reports read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The eval settings that change what a search outputs (batch_tokens changes only its speed).
DECODING_KEYS = ("beam_size", "length_penalty", "max_length_ratio", "max_length_offset", "max_output_length",
                 "max_source_length", "long_sources")
SHORT_NAMES = {"length_penalty": "lp", "max_length_ratio": "ratio", "max_length_offset": "offset",
               "max_output_length": "maxout", "max_source_length": "maxsrc", "long_sources": ""}
UNKNOWN = "unknown"


def decoding_record(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The decoding as results.json records it, from conf/eval's settings (a config node or a recorded dict)."""
    record = {key: settings[key] for key in DECODING_KEYS}
    return {"search": "greedy" if record["beam_size"] == 1 else "beam", **record}


def output_settings(record: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a search actually reads: greedy search has no length penalty."""
    return {key: record[key] for key in DECODING_KEYS if not (key == "length_penalty" and record["beam_size"] == 1)}


def same_decoding(first: Mapping[str, Any] | None, second: Mapping[str, Any] | None) -> bool:
    """Whether two recorded decodings give the same output; an unknown one (None) is never known to."""
    return first is not None and second is not None and output_settings(first) == output_settings(second)


def result_key(split: str, decoding: Mapping[str, Any], own: Mapping[str, Any]) -> str:
    """Where a split's scores go in results.json, and its hypotheses file's stem.

    The split's own name for the run's own decoding `own`; else the name and how this decoding
    differs from it: `test.beam5`, `test.beam5_lp1.0`, `test.greedy`, `test.greedy_ratio2.0`.
    """
    if same_decoding(decoding, own):
        return split
    search = "greedy" if decoding["beam_size"] == 1 else f"beam{decoding['beam_size']}"
    used = output_settings(decoding)
    changes = [f"{SHORT_NAMES[key]}{'none' if used[key] is None else used[key]}"
               for key in DECODING_KEYS[1:] if key in used and used[key] != own[key]]
    return f"{split}.{'_'.join([search, *changes])}"


def eval_arguments(key: str) -> str:
    """The seq2seq-eval arguments that write `key`: `split=test` for a plain split, `split=test beam=5
    eval.length_penalty=1.0` for `test.beam5_lp1.0` (the inverse of `result_key`)."""
    split, _, suffix = key.partition(".")
    search, *changes = suffix.split("_") if suffix else [""]
    beam = "1" if search == "greedy" else search.removeprefix("beam") if search.startswith("beam") else ""
    if not beam.isdigit():  # not a key result_key writes: a split whose name holds a dot
        return f"split={key}"
    arguments = [f"split={split}", f"beam={beam}"]
    names = {short: key for key, short in SHORT_NAMES.items() if short}
    for change in changes:
        short = next((name for name in names if change.startswith(name)), "")
        value = change.removeprefix(short)
        arguments.append(f"eval.{names.get(short, 'long_sources')}={'null' if value == 'none' else value}")
    return " ".join(arguments)


def data_split(key: str, entry: Mapping[str, Any] | None) -> str:
    """The corpus split an entry scores: recorded beside its scores, else its key (entries written before)."""
    return str((entry or {}).get("split", key))


def is_current(entry: Mapping[str, Any], checkpoint: Mapping[str, Any], decoding: Mapping[str, Any]) -> bool:
    """Whether an entry's scores come from these weights and this decoding (unknown provenance: not known to)."""
    recorded = entry.get("checkpoint")
    return (isinstance(recorded, Mapping) and recorded.get("weights_sha256") == checkpoint["weights_sha256"]
            and same_decoding(entry.get("decoding"), decoding))


def splits_to_score(scored: Mapping[str, Mapping[str, Any]], tests: list[str], checkpoint: Mapping[str, Any],
                    own: Mapping[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """What a training run must (re-)score with `checkpoint`: key -> (corpus split, decoding).

    The test splits not yet scored, or scored by other weights or another decoding; and every other
    entry scored by other weights (a split added by seq2seq-eval, a re-decoding such as `test.beam5`,
    which keeps its recorded decoding; a key that is a split's own name means the run's own decoding).
    """
    todo = {name: (name, dict(own)) for name in tests if name not in scored or not is_current(scored[name], checkpoint, own)}
    for key, entry in scored.items():
        split = data_split(key, entry)
        decoding = dict(own) if key == split or entry.get("decoding") is None else dict(entry["decoding"])
        if key not in todo and not is_current(entry, checkpoint, decoding):
            todo[key] = (split, decoding)
    return todo


def decoding_label(record: Mapping[str, Any] | None, against: Mapping[str, Any] | None = None) -> str:
    """A decoding in words, `greedy` or `beam 5, length penalty 0.6`, with the output limits where they differ
    from `against`'s; `unknown` for an entry written before decodings were recorded."""
    if record is None:
        return UNKNOWN
    words = "greedy" if record["beam_size"] == 1 else f"beam {record['beam_size']}, length penalty {record['length_penalty']}"
    if against is not None:
        words += "".join(f", {key}={record[key]}" for key in DECODING_KEYS[2:] if record[key] != against.get(key))
    return words
