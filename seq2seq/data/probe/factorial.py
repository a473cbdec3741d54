"""The factorial split: subject–verb distance × an intervening attractor, every item in all four cells.

In the sampled grid, a far subject is mostly far because relative clauses sit between it and its
verb, so "distance" also moves a verb, the attractor, next to the main verb (agreement attraction,
Linzen, Dupoux & Goldberg 2016). Here each item is built, not sampled, from one set of parts —
subject S, main verb V, object O, a relative clause R whose verb is the attractor, and verb-free
prepositional phrases: A (R's host in the "between" cells), C (R's stand-in) and fillers B1…Bm — and
realized four times:

    near-between:  S A R V O B1…Bm C        far-between:  S B1…Bm A R V O C
    near-after:    S A C V O R B1…Bm        far-after:    S B1…Bm A C V O R

The phrases before V chain on the subject, those after it on the verb's PP. R and C have four German
(and English) words each, so both near cells put the verb 9 words after the subject's noun and both
far cells 9 + |B1…Bm| words after it. The attractor's verb sits right before the main verb in the
"between" cells, where R hangs on A's noun at either distance (never on the subject, whose own
relative clause would share its subject with the main verb), and |O| + 4 words after it in the
"after" cells, where R hangs on the object. The four sentences are permutations of the same German
words and of the same English words (A's noun and O share gender and personhood, so R's pronoun never
changes), and every item has exactly one relative clause, the attractor, of the main verb's
transitivity: the cells differ in where the parts stand, nothing else. Main verbs are transitive,
since the "after" cells hang R on the object.
"""

from __future__ import annotations

import random
from collections import defaultdict

from seq2seq.data.parallel import ParallelText
from seq2seq.data.probe.grammar import MASCULINE_ANIMATE, NP, PP, RC, Clause, Pair, realize
from seq2seq.data.probe.lexicon import ADJECTIVES, ANIMATE, NOUNS, PREPOSITIONS, TRANSITIVE, Noun, Preposition

FACTORIAL_CELLS = ("near-between", "near-after", "far-between", "far-after")
NEAR_DISTANCE = 9  # the subject's noun, A and R (or C): 1 + 4 + 4 German words to the main verb
SUBJECT_PIECES = 2  # A and C: the far-after subject chains the fillers and these two
ATTEMPTS_PER_ITEM = 100  # redraws of an item whose four sentences are not all new


def _host_groups() -> list[list[Noun]]:
    """Animate nouns grouped by gender and personhood, groups of at least two: R's two hosts, A's noun and O."""
    groups: dict[tuple[str, bool], list[Noun]] = defaultdict(list)
    for noun in ANIMATE:
        groups[noun.gender, noun.person].append(noun)
    return [group for group in groups.values() if len(group) >= 2]


HOST_GROUPS = _host_groups()
ONE_WORD_PREPOSITIONS = [prep for prep in PREPOSITIONS if " " not in prep.en]  # not "next to", "in front of"


class _Parts:
    """One item's parts, drawn once; `clause(cell)` assembles fresh trees from them for each cell."""

    def __init__(self, rng: random.Random, fillers: int) -> None:
        self.rng = rng
        hosts = rng.choices(HOST_GROUPS, [len(group) for group in HOST_GROUPS])[0]
        host, obj = rng.sample(hosts, 2)
        self.used = {host.de, obj.de}
        self.subject = self._np(self._noun(ANIMATE), adjective=rng.random() < 0.5)
        self.obj = self._np(obj, adjective=rng.random() < 0.5)
        self.verb, attractor = rng.sample(TRANSITIVE, 2)
        self.relative = RC(rng.choice(("subj", "obj")), attractor)
        # an object relative's subject is masculine, so its pronoun never reads as nominative (see _Grower)
        self.relative.np = self._np(self._noun(NOUNS if self.relative.kind == "subj" else MASCULINE_ANIMATE))
        self.fillers = [self._pp(self._noun(NOUNS), adjective=rng.random() < 0.5) for _ in range(fillers)]
        # A and C have four words on both sides, as R has, so each distance puts the main verb at one place in
        # English too (a preposition such as "next to" would lengthen the English)
        self.host = self._pp(host, adjective=True, prepositions=ONE_WORD_PREPOSITIONS)
        self.stand_in = self._pp(self._noun(NOUNS), adjective=True, prepositions=ONE_WORD_PREPOSITIONS)

    def _noun(self, pool: list[Noun]) -> Noun:
        noun = self.rng.choice(pool)
        while noun.de in self.used:
            noun = self.rng.choice(pool)
        self.used.add(noun.de)
        return noun

    def _np(self, noun: Noun, adjective: bool = False) -> NP:
        return NP(noun, definite=self.rng.random() < 0.6, adjective=self.rng.choice(ADJECTIVES) if adjective else None)

    def _pp(self, noun: Noun, adjective: bool, prepositions: list[Preposition] = PREPOSITIONS) -> PP:
        return PP(self.rng.choice(prepositions), self._np(noun, adjective))

    def clause(self, cell: str) -> Clause:
        """The item's tree for `cell`: the phrases before the verb chained on the subject, the rest on the verb's PP."""
        distance, attractor = cell.split("-")
        before = [*(self.fillers if distance == "far" else []), self.host, *([self.stand_in] if attractor == "after" else [])]
        after = [piece for piece in [*self.fillers, self.stand_in] if piece not in before]
        subject, obj = _copy(self.subject), _copy(self.obj)
        last = _chain(subject, before)
        (last if attractor == "between" else obj).rc = _copy_rc(self.relative)
        clause = Clause(subject, self.verb, obj)
        if after:
            clause.pp = _copy_pp(after[0])
            _chain(clause.pp.np, after[1:])
        return clause


def _copy(np: NP) -> NP:
    return NP(np.noun, np.definite, np.adjective)


def _copy_pp(pp: PP) -> PP:
    return PP(pp.prep, _copy(pp.np))


def _copy_rc(rc: RC) -> RC:
    return RC(rc.kind, rc.verb, _copy(rc.np))


def _chain(np: NP, pieces: list[PP]) -> NP:
    """Hang `pieces` on `np` as a chain of noun PPs, each on the noun before; the chain's last noun."""
    for piece in pieces:
        np.pp = _copy_pp(piece)
        np = np.pp.np
    return np


def factorial_item(rng: random.Random, fillers: int) -> list[Pair]:
    """One item's four pairs in `FACTORIAL_CELLS` order, each meta with its `cell`, whether the attractor
    stands between subject and main verb, and its `attractor_offset`: German words from the main verb to the attractor
    (negative: before it)."""
    parts = _Parts(rng, fillers)
    pairs = []
    for cell in FACTORIAL_CELLS:
        pair = realize(parts.clause(cell))
        [attractor] = pair.meta["relative_verbs"]
        pair.meta.update(cell=cell, attractor_between=cell.endswith("between"),
                         attractor_offset=attractor["index"] - pair.meta["verb_index"])
        pairs.append(pair)
    return pairs


def generate_factorial(name: str, seed: int, items: int, fillers: int, seen: set[str]) -> ParallelText:
    """The factorial split: `items` items of four pairs, pairs 4g … 4g+3 being item g in `FACTORIAL_CELLS` order
    (the paired tests find an item's cells by that order, so the split is not shuffled). An item is redrawn when
    any of its German sentences is in `seen` (which it extends), so the split is disjoint from the others."""
    rng = random.Random(seed)
    pairs: list[Pair] = []
    for _ in range(items):
        for _ in range(ATTEMPTS_PER_ITEM):
            item = factorial_item(rng, fillers)
            if not any(pair.src in seen for pair in item) and len({pair.src for pair in item}) == len(item):
                break
        else:
            raise ValueError(f"probe corpus: cannot build {items} new factorial items with {fillers} fillers; "
                             "ask for fewer (data.corpus.factorial_items)")
        seen.update(pair.src for pair in item)
        pairs += item
    return ParallelText(name, [p.src for p in pairs], [p.tgt for p in pairs], [p.meta for p in pairs])


def item_groups(items: list[int]) -> list[int]:
    """The factorial item of each pair index (pairs 4g … 4g+3 are item g)."""
    return [i // len(FACTORIAL_CELLS) for i in items]
