"""The factorial split: subject–verb distance × an intervening attractor, every item in all four cells.

In the sampled grid, a far subject is mostly far because relative clauses sit between it and its
verb, so "distance" also moves a verb, the attractor, next to the main verb (agreement attraction,
Linzen, Dupoux & Goldberg 2016). Here each item is built, not sampled, from one set of parts —
subject S, main verb V, object O, a relative clause R whose verb is the attractor, verb-free
prepositional phrases B1…Bm and A — and realized four times:

    near-between:  S R V O B1…Bm A        far-between:  S B1…Bm R V O A
    near-after:    S A V O R B1…Bm        far-after:    S B1…Bm A V O R

R and A have four German words each, so both near cells put the verb 5 words after the subject's
noun and both far cells 5 + |B1…Bm| words after it; the attractor's verb sits right before the main
verb in the "between" cells and |O| + 4 words after it in the "after" cells, at either distance. The
four sentences are permutations of the same German words and of the same English words (R's hosts —
S, Bm's noun, O — share gender and personhood, so its pronoun never changes), and every item has
exactly one relative clause, the attractor, of the main verb's transitivity: the cells differ in
where the parts stand, nothing else. Main verbs are transitive, since the "after" cells hang R on the
object.
"""

from __future__ import annotations

import random
from collections import defaultdict

from seq2seq.data.parallel import ParallelText
from seq2seq.data.probe.grammar import NP, PP, RC, Clause, Pair, realize
from seq2seq.data.probe.lexicon import ADJECTIVES, ANIMATE, NOUNS, PREPOSITIONS, TRANSITIVE, Noun, Preposition

FACTORIAL_CELLS = ("near-between", "near-after", "far-between", "far-after")
ATTRACTOR_WORDS = 4  # pronoun, the relative clause's bare noun phrase (2 words) and its verb
ATTEMPTS_PER_ITEM = 100  # redraws of an item whose four sentences are not all new


def _hosts_pool() -> list[list[Noun]]:
    """Animate nouns grouped by gender and personhood, groups of at least three: R's three possible hosts."""
    groups: dict[tuple[str, bool], list[Noun]] = defaultdict(list)
    for noun in ANIMATE:
        groups[noun.gender, noun.person].append(noun)
    return [group for group in groups.values() if len(group) >= 3]


HOST_GROUPS = _hosts_pool()
MASCULINE_ANIMATE = [noun for noun in ANIMATE if noun.gender == "m"]
ONE_WORD_PREPOSITIONS = [prep for prep in PREPOSITIONS if " " not in prep.en]  # not "next to", "in front of"


class _Parts:
    """One item's parts, drawn once; `clause(cell)` assembles fresh trees from them for each cell."""

    def __init__(self, rng: random.Random, fillers: int) -> None:
        self.rng = rng
        hosts = rng.choices(HOST_GROUPS, [len(group) for group in HOST_GROUPS])[0]
        subject, obj, far_host = rng.sample(hosts, 3)
        self.used = {subject.de, obj.de, far_host.de}
        self.subject = self._np(subject, adjective=rng.random() < 0.5)
        self.obj = self._np(obj, adjective=rng.random() < 0.5)
        self.verb, attractor = rng.sample(TRANSITIVE, 2)
        self.relative = RC(rng.choice(("subj", "obj")), attractor)
        # an object relative's subject is masculine, so its pronoun never reads as nominative (see _Grower)
        self.relative.np = self._np(self._noun(NOUNS if self.relative.kind == "subj" else MASCULINE_ANIMATE))
        self.fillers = [self._pp(far_host if i == fillers - 1 else self._noun(NOUNS), adjective=rng.random() < 0.5)
                        for i in range(fillers)]
        # four words on both sides, as many as R's, so the near cells' main verbs stand at one place in English too
        self.near_filler = self._pp(self._noun(NOUNS), adjective=True, prepositions=ONE_WORD_PREPOSITIONS)

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
        """The item's tree for `cell`: the pieces before the verb chained on the subject, the rest on the verb's PP."""
        distance, attractor = cell.split("-")
        pieces = list(self.fillers) if distance == "far" else []
        if attractor == "after":
            pieces.append(self.near_filler)
        rest = [piece for piece in [*self.fillers, self.near_filler] if piece not in pieces]
        subject, obj = _copy(self.subject), _copy(self.obj)
        before = _chain(subject, pieces)
        host = before if attractor == "between" else obj
        host.rc = _copy_rc(self.relative)
        clause = Clause(subject, self.verb, obj)
        if rest:
            clause.pp = _copy_pp(rest[0])
            _chain(clause.pp.np, rest[1:])
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
