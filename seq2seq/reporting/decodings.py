"""Which decoding made the scores a report sets side by side: named per model, never mixed unasked.

Greedy and beam-search BLEU of one model differ by a point or more, so a table that puts a beam-5
run beside greedy ones (or averages them as seeds) compares searches as if it compared models.
Reports therefore name each split's decoding per model and refuse runs whose recorded decodings
differ unless asked (`--mixed-decodings`); asked, each run's column is labelled with its decoding,
so runs of one model decoded differently are not averaged. Runs recorded before decodings were
(results.json without `decoding`) show as `unknown` and are not refused: nothing says they differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from seq2seq.errors import UserError
from seq2seq.provenance import UNKNOWN, decoding_label, same_decoding

if TYPE_CHECKING:
    from seq2seq.reporting.runs import Run

MIXED_FLAG = "--mixed-decodings"


def one_decoding(split: str, decodings: Mapping[str, Mapping[str, Any] | None], mixed: bool) -> bool:
    """Whether the runs' known decodings of `split` (run name -> recorded decoding or None) differ.

    Where they differ and `mixed` is false: a one-line UserError naming every run and its decoding.
    """
    known = [decoding for decoding in decodings.values() if decoding is not None]
    differ = any(not same_decoding(decoding, known[0]) for decoding in known)
    if differ and not mixed:
        listed = "; ".join(f"{name}: {decoding_label(decoding, known[0])}" for name, decoding in decodings.items())
        raise UserError(f"the runs decoded split '{split}' differently ({listed}); give runs of one decoding, "
                        f"or pass {MIXED_FLAG} to set them side by side")
    return differ


def label_by_decoding(runs: list["Run"], splits: list[str], mixed: bool) -> None:
    """Check every reported split (see `one_decoding`); where decodings differ and that is allowed, name each
    run's model with its decoding on the first such split (`rnn [beam 5, length penalty 0.6]`)."""
    labelled: set[str] = set()
    for split in splits:
        decodings = {run.name: run.results.splits[split].get("decoding") for run in runs
                     if run.status == "finished" and split in run.results.splits}
        if not one_decoding(split, decodings, mixed):
            continue
        first = next(decoding for decoding in decodings.values() if decoding is not None)
        for run in runs:
            if run.name in decodings and run.name not in labelled:
                run.model = f"{run.model} [{decoding_label(decodings[run.name], first)}]"
                labelled.add(run.name)


def decoding_lines(split: str, groups: Mapping[str, list["Run"]]) -> list[str]:
    """The report's line under a split's heading: the decoding of every model's runs on it."""
    return decoding_summary({model: [run.results.splits[split].get("decoding") for run in members]
                             for model, members in groups.items()})


def decoding_summary(decodings: Mapping[str, list[Mapping[str, Any] | None]]) -> list[str]:
    """One line (and a blank one) naming the decodings of each column (model or run); none without columns."""
    labels = {name: list(dict.fromkeys(map(decoding_label, records))) for name, records in decodings.items()}
    every = {label for column in labels.values() for label in column}
    if len(every) == 1:
        label = every.pop()
        return [f"Decoding: {label}, every run{' (results.json does not record it)' if label == UNKNOWN else ''}.", ""]
    if not every:
        return []
    return ["Decoding: " + "; ".join(f"{name}: {' / '.join(column)}" for name, column in labels.items()) + ".", ""]
