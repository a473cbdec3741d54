"""A small synchronous grammar: one tree, realized as a German sentence and its exact English translation.

German puts the verb of a main clause second and the verb of a relative clause last, so every
relative clause on the subject pushes the main verb further from its subject, while English keeps
them close only when nothing is embedded. A tree is a main `Clause` whose noun phrases carry
prepositional phrases and relative clauses to any depth; `realize` renders both sides together and
records where the subject's head noun and the main verb sit in the German words.

A relative clause on a noun inside another relative clause is either embedded right after its noun
("die auf der Matte, die neben dem Hund lag, saß") or extraposed after the enclosing clause's verb
("die auf der Matte saß, die neben dem Hund lag"). English (`probe_english`) is SVO in every clause
and keeps every relative clause right after its noun, marking the difference so each German form has
one translation: embedded → restrictive "that"/"who", extraposed → non-restrictive ", which"/", who".
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from seq2seq.data.probe.english import english_tokens
from seq2seq.data.probe.lexicon import (
    ADJECTIVES, ANIMATE, INTRANSITIVE, NOUNS, PREPOSITIONS, RELATIVE, TRANSITIVE, VERBS, Adjective,
    Noun, Preposition, Verb, adjective_de, article_de,
)

CASE_OF_ROLE = {"subj": "nom", "obj": "acc"}


@dataclass
class NP:
    noun: Noun
    definite: bool = True
    adjective: Adjective | None = None
    pp: PP | None = None  # attached to the noun: "die Katze auf der Matte"
    rc: RC | None = None


@dataclass
class PP:
    prep: Preposition
    np: NP


@dataclass
class RC:
    """A relative clause; `kind` is the relative pronoun's role inside it.

    "subj": die [np (object)] [pp] sah/saß;  "obj": den [np (subject)] [pp] sah;
    "prep": auf der [np (subject)] [pp] saß — `prep` is the preposition before the pronoun.
    German puts the verb last ("den der Kater nach einem Ritter berührte"), English after the
    pronoun or subject ("whom the tomcat touched after a knight").
    """

    kind: str
    verb: Verb
    np: NP | None = None
    pp: PP | None = None  # verb-attached, after the object or subject, if any
    prep: Preposition | None = None
    extraposed: bool = False


@dataclass
class Clause:
    """The main clause: subject, verb second, then the object (transitive verbs) and a PP, if any."""

    subject: NP
    verb: Verb
    obj: NP | None = None
    pp: PP | None = None


@dataclass(frozen=True)
class Word:
    """One German token with what a checker needs to verify agreement and word order.

    `head` is the noun an article/adjective agrees with, or a relative pronoun's antecedent;
    `role` is what assigns its case ("subj", "obj" or a preposition); for verbs it is "main" or
    "rel". `clause` numbers relative clauses (0 = main clause) and `part` names the main-clause
    constituent (S, V, O, A) the word sits in.
    """

    text: str
    pos: str
    head: str = ""
    role: str = ""
    clause: int = 0
    part: str = ""


@dataclass
class Pair:
    """One realized tree: the annotated German words, both sentences, and the corpus metadata."""

    words: list[Word]  # German, with punctuation as separate PUNCT words
    src: str
    tgt: str
    meta: dict = field(default_factory=dict)


class _German:
    """Renders a tree to annotated German words, deferring extraposed clauses to after their verb."""

    def __init__(self) -> None:
        self.words: list[Word] = []
        self.relative_verbs: list[tuple[int, Verb]] = []  # (position in `words`, verb) of each relative clause
        self.clauses = 0
        self.part = ""

    def add(self, text: str, pos: str, head: str = "", role: str = "", clause: int = 0) -> None:
        self.words.append(Word(text, pos, head, role, clause, self.part))

    def np(self, np: NP, role: str, case: str, clause: int, deferred: list[tuple[RC, Noun]]) -> None:
        noun = np.noun
        self.add(article_de(np.definite, case, noun.gender), "ART", noun.de, role, clause)
        if np.adjective:
            self.add(adjective_de(np.adjective, np.definite, case, noun.gender), "ADJ", noun.de, role, clause)
        self.add(noun.de, "NOUN", noun.de, role, clause)
        if np.pp:
            self.pp(np.pp, clause, deferred)
        if np.rc and np.rc.extraposed:
            deferred.append((np.rc, noun))
        elif np.rc:
            self.rc(np.rc, noun)

    def pp(self, pp: PP, clause: int, deferred: list[tuple[RC, Noun]]) -> None:
        self.add(pp.prep.de, "PREP", role=pp.prep.de, clause=clause)
        self.np(pp.np, pp.prep.de, pp.prep.case, clause, deferred)

    def rc(self, rc: RC, antecedent: Noun) -> None:
        self.clauses += 1
        clause, deferred = self.clauses, []
        self.add(",", "PUNCT", clause=clause)
        role = rc.prep.de if rc.kind == "prep" else rc.kind
        case = rc.prep.case if rc.kind == "prep" else CASE_OF_ROLE[rc.kind]
        if rc.kind == "prep":
            self.add(rc.prep.de, "PREP", role=rc.prep.de, clause=clause)
        self.add(RELATIVE[case][antecedent.gender], "REL", antecedent.de, role, clause)
        if rc.np:
            self.np(rc.np, "obj" if rc.kind == "subj" else "subj", "acc" if rc.kind == "subj" else "nom",
                    clause, deferred)
        if rc.pp:
            self.pp(rc.pp, clause, deferred)
        self.relative_verbs.append((len(self.words), rc.verb))
        self.add(rc.verb.de, "VERB", role="rel", clause=clause)
        self.add(",", "PUNCT", clause=clause)
        for inner, noun in deferred:
            self.rc(inner, noun)

    def clause(self, clause: Clause) -> None:
        deferred: list[tuple[RC, Noun]] = []
        self.part = "S"
        self.np(clause.subject, "subj", "nom", 0, deferred)
        self.part = "V"
        self.add(clause.verb.de, "VERB", role="main")
        if clause.obj:
            self.part = "O"
            self.np(clause.obj, "obj", "acc", 0, deferred)
        if clause.pp:
            self.part = "A"
            self.pp(clause.pp, 0, deferred)
        self.part = ""
        self.add(".", "PUNCT")
        if deferred:
            raise ValueError("only relative clauses inside relative clauses can be extraposed; "
                             "set extraposed=False on main-clause noun phrases")


def _join(tokens: list[str]) -> str:
    """Attach punctuation to the preceding word; a closing comma merges into the next comma or period."""
    out: list[str] = []
    for token in tokens:
        if token in ",.":
            if out[-1].endswith(","):
                out[-1] = out[-1][:-1]
            out[-1] += token
        else:
            out.append(token)
    return " ".join(out)


def _depth(np: NP | None) -> int:
    if np is None:
        return 0
    below = _depth(np.pp.np) if np.pp else 0
    if np.rc:
        inner = max(_depth(np.rc.np), _depth(np.rc.pp.np) if np.rc.pp else 0)
        below = max(below, 1 + inner)
    return below


def realize(clause: Clause) -> Pair:
    """Render both sides and record the subject head noun and main verb positions (German words).

    For the contrastive verb test the metadata also locates the main verb among the English words
    (`main_verb_word`, an index into `tgt.split()`) and lists every relative-clause verb with its
    English form, German word position and transitivity, so a contrast can be built from the tree
    rather than by searching strings.
    """
    german = _German()
    german.clause(clause)
    src = _join([w.text for w in german.words])
    src = src[0].upper() + src[1:]
    english, main_verb_token = english_tokens(clause)
    tgt = _join(english)
    tgt = tgt[0].upper() + tgt[1:]
    main_verb_word = sum(len(token.split()) for token in english[:main_verb_token] if token not in ",.")

    index, subject_index, verb_index = -1, -1, -1
    word_index: dict[int, int] = {}  # position in german.words -> German word index (punctuation skipped)
    for position, word in enumerate(german.words):
        if word.pos == "PUNCT":
            continue
        index += 1
        word_index[position] = index
        if word.pos == "NOUN" and word.part == "S" and word.role == "subj" and word.clause == 0:
            subject_index = index
        elif word.pos == "VERB" and word.role == "main":
            verb_index = index
    depth = max(_depth(clause.subject), _depth(clause.obj), _depth(clause.pp.np) if clause.pp else 0)
    meta = {
        "subject_index": subject_index,
        "verb_index": verb_index,
        "distance": verb_index - subject_index,
        "main_verb": clause.verb.en,
        "main_verb_de": clause.verb.de,
        "main_verb_word": main_verb_word,
        "main_verb_transitive": clause.verb.transitive,
        "relative_verbs": [{"en": verb.en, "index": word_index[position], "transitive": verb.transitive}
                           for position, verb in german.relative_verbs],
        "subject": clause.subject.noun.en,
        "subject_de": clause.subject.noun.de,
        "depth": depth,
        "length": index + 1,
    }
    return Pair(german.words, src, tgt, meta)


# --- Sampling: grow a random tree of a given relative-clause depth up to a target length. ---

MAX_PP_CHAIN = 2  # "the cat on the mat next to the dog", but no longer chains of noun PPs (ProbeConfig.max_pp_chain)
ADJ, NOUN_PP, REL, VERB_PP = range(4)  # kinds of expansion site
MASCULINE_ANIMATE = [noun for noun in ANIMATE if noun.gender == "m"]


class _Grower:
    """Grows one tree by random expansions, counting German words as it goes.

    A skeleton holds a chain of exactly `depth` nested relative clauses, hung from the subject or
    from the end of the main clause; expansions (adjective, noun PP, verb PP, more relative clauses
    no deeper than `depth`) are then drawn until the sentence reaches the target length. Each
    expansion lands inside the subject with probability `subject_share` (drawn per sentence), so
    subject–verb distance varies independently of length. Subjects are people or animals; nouns do
    not repeat within a sentence; and no relative clause uses the main verb, so the main verb's
    English form occurs exactly once in the reference.

    Three rules keep the German unambiguous, so that it fixes the English: a noun takes a PP or a
    relative clause, never both (a relative clause belongs to the noun right before it); only the
    last noun of a relative clause (`last`) may have its own clause extraposed; and an object
    relative on a feminine or neuter noun, whose pronoun reads as nominative too, has a masculine
    subject ("die der Hund sah"), since "die eine Eule hob" reads as "that lifted an owl". The
    subject of an object or prepositional relative stays bare (an adjective at most), so a PP after
    it belongs to the verb and English, with the verb right after that subject, need not nest.
    """

    def __init__(self, rng: random.Random, depth: int, max_pp_chain: int = MAX_PP_CHAIN) -> None:
        self.rng, self.depth, self.length, self.max_pp_chain = rng, depth, 0, max_pp_chain
        self.used: set[str] = set()
        self.sites: tuple[list[list], list[list]] = ([[], [], [], []], [[], [], [], []])  # [in subject?][kind]
        self.side = 0  # 1 while building inside the main subject
        self.subject_share = rng.random() ** 0.3  # leans towards the subject: long distances are rarer
        self.main_verb = rng.choice(VERBS)

    def noun_phrase(self, level: int, last: bool = True, chain: int = 0, pool: list[Noun] = NOUNS,
                    bare: bool = False) -> NP:
        noun = self.rng.choice(pool)
        while noun.de in self.used:
            noun = self.rng.choice(pool)
        self.used.add(noun.de)
        np = NP(noun, definite=self.rng.random() < 0.6)
        self.length += 2
        sites = self.sites[self.side]
        sites[ADJ].append(np)
        if bare:
            return np
        if chain < self.max_pp_chain:
            sites[NOUN_PP].append((np, level, last, chain))
        if level < self.depth:
            sites[REL].append((np, level, last))
        return np

    def prep_phrase(self, level: int, last: bool = True, chain: int = 0) -> PP:
        self.length += 1
        return PP(self.rng.choice(PREPOSITIONS), self.noun_phrase(level, last, chain))

    def verb(self, transitive: bool) -> Verb:
        pool = TRANSITIVE if transitive else INTRANSITIVE
        verb = self.rng.choice(pool)
        while verb is self.main_verb:
            verb = self.rng.choice(pool)
        return verb

    def relative_clause(self, host: NP, level: int, last: bool, needs_np: bool = False) -> RC:
        """Attach a relative clause to `host`; `needs_np` guarantees a noun to continue a chain on."""
        kind = self.rng.choice(("subj", "subj", "obj", "prep") if host.noun.animate else ("obj", "prep"))
        transitive = kind == "obj" or (kind == "subj" and self.rng.random() < 0.5)
        rc = RC(kind, self.verb(transitive), extraposed=level > 0 and last and self.rng.random() < 0.5)
        self.length += 2  # pronoun and verb
        inner = level + 1
        if kind == "prep":
            rc.prep = self.rng.choice(PREPOSITIONS)
            self.length += 1
        if kind != "subj":
            ambiguous = kind == "obj" and host.noun.gender != "m"
            rc.np = self.noun_phrase(inner, pool=MASCULINE_ANIMATE if ambiguous else ANIMATE, bare=True)
            rc.pp = self.prep_phrase(inner) if needs_np else None
            if not needs_np:
                self.sites[self.side][VERB_PP].append((rc, inner))
        elif transitive:
            with_pp = self.rng.random() < 0.5
            rc.np = self.noun_phrase(inner, last=not with_pp)
            rc.pp = self.prep_phrase(inner) if with_pp else None
        elif needs_np:
            rc.pp = self.prep_phrase(inner)
        else:
            self.sites[self.side][VERB_PP].append((rc, inner))
        host.rc = rc
        return rc

    def skeleton(self, on_subject: bool) -> Clause:
        """The main clause and the chain of relative clauses, hung from the subject or the end."""
        on_subject = on_subject or self.depth == 0
        self.side = 1
        clause = Clause(self.noun_phrase(0, pool=ANIMATE), self.main_verb)
        self.side = 0
        self.length += 1
        if self.main_verb.transitive:
            clause.obj = self.noun_phrase(0)
        if not (on_subject or self.main_verb.transitive):
            clause.pp = self.prep_phrase(0)
        else:
            self.sites[0][VERB_PP].append((clause, 0))
        host = clause.subject if on_subject else (clause.obj or clause.pp.np)
        self.side = int(on_subject)
        for level in range(self.depth):
            rc = self.relative_clause(host, level, last=True, needs_np=level + 1 < self.depth)
            host = rc.pp.np if rc.pp else rc.np
        return clause

    def expand(self) -> bool:
        """Apply one random expansion; False when none is left."""
        self.side = int(self.rng.random() < self.subject_share)
        options = [(kind, sites) for kind, sites in enumerate(self.sites[self.side]) if sites]
        if not options:
            self.side = 1 - self.side
            options = [(kind, sites) for kind, sites in enumerate(self.sites[self.side]) if sites]
            if not options:
                return False
        kind, sites = self.rng.choice(options)
        site = sites.pop(self.rng.randrange(len(sites)))
        if kind == ADJ:
            site.adjective = self.rng.choice(ADJECTIVES)
            self.length += 1
        elif kind == NOUN_PP and site[0].rc is None:
            np, level, last, chain = site
            np.pp = self.prep_phrase(level, last, chain + 1)
        elif kind == REL and site[0].rc is None and site[0].pp is None:
            self.relative_clause(*site)
        elif kind == VERB_PP:
            clause, level = site
            clause.pp = self.prep_phrase(level)
        return True


def sample_clause(rng: random.Random, target: int, depth: int, max_words: int,
                  max_pp_chain: int = MAX_PP_CHAIN) -> Clause | None:
    """A random tree with relative-clause depth `depth` and between `target` and `max_words`
    German words (noun PP chains of at most `max_pp_chain`), or None when this attempt overshot or ran
    out of room to grow."""
    grower = _Grower(rng, depth, max_pp_chain)
    clause = grower.skeleton(on_subject=rng.random() < grower.subject_share)
    while grower.length < target and grower.expand():
        pass
    return clause if target <= grower.length <= max_words else None
