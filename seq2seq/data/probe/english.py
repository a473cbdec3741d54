"""The English side of the probe grammar: the same tree in English word order.

English is SVO in every clause, relative clauses included: [preposition] + pronoun, then the
subject (object and prepositional relatives), the verb, the object and the verb's PP. English does
not extrapose, so each relative clause follows its head noun directly; a clause that German
extraposes becomes non-restrictive (", which ... ,") instead, which keeps one translation per German
form. The sampler (`probe_grammar._Grower`) keeps the subjects of object and prepositional relatives
bare, so the English nests only where German nests the main subject.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from seq2seq.data.probe.lexicon import indefinite_en

if TYPE_CHECKING:
    from seq2seq.data.probe.grammar import NP, PP, RC, Clause
    from seq2seq.data.probe.lexicon import Noun


def english_tokens(clause: Clause) -> tuple[list[str], int]:
    """Words and punctuation of the English sentence (a "," token opens or closes a clause), and the
    main verb's index among them, which the contrastive verb test (`probe_contrast`) swaps."""
    out: list[str] = []
    _noun_phrase(clause.subject, out)
    main_verb = len(out)
    out.append(clause.verb.en)
    if clause.obj:
        _noun_phrase(clause.obj, out)
    if clause.pp:
        _prep_phrase(clause.pp, out)
    out.append(".")
    return out, main_verb


def _noun_phrase(np: NP, out: list[str]) -> None:
    rest = [np.adjective.en, np.noun.en] if np.adjective else [np.noun.en]
    out.append("the" if np.definite else indefinite_en(rest[0]))
    out.extend(rest)
    if np.pp:
        _prep_phrase(np.pp, out)
    if np.rc:
        _relative_clause(np.rc, np.noun, out)


def _prep_phrase(pp: PP, out: list[str]) -> None:
    out.append(pp.prep.en)
    _noun_phrase(pp.np, out)


def _relative_clause(rc: RC, antecedent: Noun, out: list[str]) -> None:
    """"who sat on the mat", "whom the girl saw", "with whom the dog played in the garden"."""
    if rc.extraposed:
        out.append(",")
    if rc.kind == "prep":
        out += [rc.prep.en, "whom" if antecedent.person else "which"]
    elif antecedent.person:
        out.append("who" if rc.kind == "subj" else "whom")
    else:
        out.append("which" if rc.extraposed else "that")
    if rc.kind != "subj":
        _noun_phrase(rc.np, out)  # the clause's subject
    out.append(rc.verb.en)
    if rc.kind == "subj" and rc.np:
        _noun_phrase(rc.np, out)  # the clause's object
    if rc.pp:
        _prep_phrase(rc.pp, out)
    if rc.extraposed:
        out.append(",")
