"""The probe corpus: German agreement and word order, exact translations, split controls, verb accuracy."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from seq2seq.errors import UserError
from seq2seq.data.probe import ProbeConfig, ProbeCorpus
from seq2seq.data.probe.corpus import length_buckets
from seq2seq.data.probe.factorial import factorial_item
from seq2seq.data.probe.grammar import NP, PP, RC, Clause, realize, sample_clause
from seq2seq.data.probe.lexicon import ADJECTIVES, NOUNS, PREPOSITIONS, VERBS
from seq2seq.data.probe.metrics import verb_accuracy

# Written out here, independently of the generator's tables. Index: [case] -> (m, f, n).
DEFINITE = {"nom": ("der", "die", "das"), "acc": ("den", "die", "das"), "dat": ("dem", "der", "dem")}
INDEFINITE = {"nom": ("ein", "eine", "ein"), "acc": ("einen", "eine", "ein"), "dat": ("einem", "einer", "einem")}
WEAK = {"nom": ("e", "e", "e"), "acc": ("en", "e", "e"), "dat": ("en", "en", "en")}
MIXED = {"nom": ("er", "e", "es"), "acc": ("en", "e", "es"), "dat": ("en", "en", "en")}
GENDERS = "mfn"
PREPOSITION_CASE = {"auf": "dat", "neben": "dat", "mit": "dat", "hinter": "dat", "unter": "dat", "vor": "dat",
                    "über": "dat", "aus": "dat", "nach": "dat",
                    "durch": "acc", "für": "acc", "ohne": "acc", "gegen": "acc", "um": "acc"}
ROLE_CASE = {"subj": "nom", "obj": "acc", **PREPOSITION_CASE}
GENDER = {noun.de: noun.gender for noun in NOUNS}
ADJECTIVE_STEMS = {a.de[:-1] if a.de.endswith("e") else a.de for a in ADJECTIVES}
SMALL = {"seed": 7, "splits": {"train": 1500, "valid": 120, "test": 600}, "stratified_splits": ["valid", "test"]}

NOUN = {n.de: n for n in NOUNS}
VERB = {v.de: v for v in VERBS}
PREP = {p.de: p for p in PREPOSITIONS}
ADJ = {a.de: a for a in ADJECTIVES}
ENGLISH_TAG = {**{n.en: "NOUN" for n in NOUNS}, **{a.en: "ADJ" for a in ADJECTIVES}, **{v.en: "VERB" for v in VERBS},
               **{p.en: "PREP" for p in PREPOSITIONS}, "the": "ART", "a": "ART", "an": "ART", ",": ",",
               "that": "REL", "which": "REL", "who": "REL", "whom": "REL"}
PERSON = {n.en for n in NOUNS if n.person}


def tag_english(sentence: str) -> tuple[list[str], list[str]]:
    """English tokens (multi-word prepositions as one, commas as tokens, no final period) and their
    tags, looked up in the lexicon: every English word form belongs to exactly one category."""
    text = sentence[0].lower() + sentence[1:].removesuffix(".")
    for prep in (p.en for p in PREPOSITIONS if " " in p.en):
        text = re.sub(rf"\b{prep}\b", prep.replace(" ", "_"), text)
    tokens = [t.replace("_", " ") for t in re.findall(r"[\w_]+|,", text)]
    return tokens, [ENGLISH_TAG[t] for t in tokens]


def sampled_pairs(count: int = 400, seed: int = 0):
    rng, pairs = random.Random(seed), []
    while len(pairs) < count:
        clause = sample_clause(rng, rng.randint(4, 60), rng.randrange(5), 60)
        if clause is not None:
            pairs.append(realize(clause))
    return pairs


def factorial_pairs(items: int = 100, seed: int = 0):
    rng = random.Random(seed)
    return [pair for _ in range(items) for pair in factorial_item(rng, fillers=3)]


@pytest.fixture(scope="module", params=["sampled", "factorial"])
def pairs(request):
    """The grammar's checks hold for sampled sentences and for the factorial split's built ones alike."""
    return sampled_pairs() if request.param == "sampled" else factorial_pairs()


@pytest.fixture(scope="module")
def corpus():
    return ProbeCorpus(**SMALL)


def test_lexicon_is_large_and_one_to_one():
    assert len(NOUNS) >= 200 and len(VERBS) >= 60 and len(ADJECTIVES) >= 40
    for words in ([n.de for n in NOUNS], [n.en for n in NOUNS], [v.de for v in VERBS], [v.en for v in VERBS]):
        assert len(set(words)) == len(words)
    assert (GENDER["Katze"], GENDER["Hund"], GENDER["Mädchen"], GENDER["Matte"]) == ("f", "m", "n", "f")
    other_english = {n.en for n in NOUNS} | {a.en for a in ADJECTIVES} | {w for p in PREPOSITIONS for w in p.en.split()}
    assert not other_english & {v.en for v in VERBS}, "a verb form spelled like another word breaks verb accuracy"
    categories = [{n.en for n in NOUNS}, {a.en for a in ADJECTIVES}, {v.en for v in VERBS}, {p.en for p in PREPOSITIONS}]
    assert len(ENGLISH_TAG) == sum(map(len, categories)) + 8, "tag_english needs one category per English word"


def test_articles_adjectives_and_relative_pronouns_agree(pairs):
    checked = {"ART": 0, "ADJ": 0, "REL": 0}
    for pair in pairs:
        words = [w for w in pair.words if w.pos != "PUNCT"]
        for i, word in enumerate(words):
            if word.pos not in checked:
                continue
            checked[word.pos] += 1
            gender, case = GENDERS.index(GENDER[word.head]), ROLE_CASE[word.role]
            if word.pos == "REL":
                assert word.text == DEFINITE[case][gender], (pair.src, word)
            elif word.pos == "ART":
                assert word.text.lower() in (DEFINITE[case][gender], INDEFINITE[case][gender]), (pair.src, word)
                noun = words[i + 2] if words[i + 1].pos == "ADJ" else words[i + 1]
                assert noun.pos == "NOUN" and noun.text == word.head, pair.src
            else:
                definite = words[i - 1].text.lower() in ("der", "die", "das", "den", "dem")
                ending = (WEAK if definite else MIXED)[case][gender]
                assert word.text.endswith(ending) and word.text[: -len(ending)] in ADJECTIVE_STEMS, (pair.src, word)
    assert min(checked.values()) > 300


def test_word_order_verb_second_and_relative_verb_last(pairs):
    for pair in pairs:
        tokens = pair.src.split()
        words = [w for w in pair.words if w.pos != "PUNCT"]
        assert [w.text for w in words] == [tokens[0].lower()] + [t.rstrip(",.") for t in tokens[1:]]
        parts = "".join(w.part for w in words)
        assert re.fullmatch(r"S+V[OA]*", parts), pair.src
        for clause in {w.clause for w in words} - {0}:
            positions = [i for i, w in enumerate(words) if w.clause == clause]
            first, last = words[positions[0]], words[positions[-1]]
            assert first.pos == "REL" or (first.pos == "PREP" and words[positions[1]].pos == "REL"), pair.src
            assert last.pos == "VERB" and last.role == "rel", pair.src
            assert tokens[positions[0] - 1].endswith(","), pair.src  # comma before the clause
            assert tokens[positions[-1]][-1] in ",.", pair.src  # and after its final verb


def test_relative_clauses_attach_unambiguously(pairs):
    """Embedded: right after its noun. Extraposed: after a verb, to that clause's last noun."""
    extraposed = 0
    for pair in pairs:
        words = [w for w in pair.words if w.pos != "PUNCT"]
        for clause in {w.clause for w in words} - {0}:
            start = next(i for i, w in enumerate(words) if w.clause == clause)
            head = next(w.head for w in words[start:] if w.pos == "REL")
            before = words[start - 1]
            if before.pos == "VERB":
                extraposed += 1
                before = [w for w in words[:start] if w.clause == before.clause and w.pos == "NOUN"][-1]
            assert before.pos == "NOUN" and before.text == head, pair.src
    assert extraposed > 50 or all("cell" in pair.meta for pair in pairs)  # factorial items extrapose nothing


def test_english_side_is_consistent(pairs):
    for pair in pairs:
        english = pair.tgt.rstrip(".").replace(",", "").split()
        relatives = sum(w in ("that", "which", "who", "whom") for w in english)
        assert relatives == len({w.clause for w in pair.words} - {0}), (pair.src, pair.tgt)
        for article, following in zip(english, english[1:]):
            if article in ("a", "an", "A", "An"):
                assert (article.lower() == "an") == (following[0] in "aeiou"), pair.tgt
        assert len(re.findall(rf"\b{pair.meta['main_verb']}\b", pair.tgt)) == 1, pair.tgt
        assert pair.tgt[0].isupper() and pair.tgt.endswith(".") and ",," not in pair.tgt + pair.src


def test_english_relative_clauses_are_svo_and_follow_their_noun(pairs):
    """Each English relative clause follows its head noun (after a comma when German extraposes it),
    with its verb right after the pronoun (subject relatives) or after a bare subject (object and
    prepositional relatives), so a clause with an object or PP never ends in its verb. Clause by
    clause, head, verb and extraposition match the German."""
    for pair in pairs:
        tokens, tags = tag_english(pair.tgt)
        english = {}
        for i in (i for i, tag in enumerate(tags) if tag == "REL"):
            before = i - 1 - (tags[i - 1] == "PREP")
            comma = tags[before] == ","
            head = before - comma
            assert tags[head] == "NOUN", (pair.tgt, tokens[i])
            assert (tokens[i] in ("who", "whom")) == (tokens[head] in PERSON), pair.tgt
            assert tokens[i] != "that" or not comma, pair.tgt
            verb = i + 1
            if tags[verb] == "ART":  # object or prepositional relative: its subject comes first
                verb += 3 if tags[verb + 1] == "ADJ" else 2
                assert tags[verb - 1] == "NOUN", (pair.tgt, tokens[i])
            assert tags[verb] == "VERB", (pair.tgt, tokens[i])
            english[tokens[head]] = (tokens[verb], comma, tags[verb + 1] if verb + 1 < len(tags) else ".")
        words = [w for w in pair.words if w.pos != "PUNCT"]
        german = {}
        for clause in {w.clause for w in words} - {0}:
            own = [i for i, w in enumerate(words) if w.clause == clause]
            head = next(NOUN[words[i].head].en for i in own if words[i].pos == "REL")
            extraposed = words[own[0] - 1].pos == "VERB"
            tail = any(words[i].pos == "NOUN" and words[i].role != "subj" for i in own)  # object or PP
            german[head] = (VERB[words[own[-1]].text].en, extraposed, tail)
        assert english.keys() == german.keys(), (pair.src, pair.tgt)
        for head, (verb, extraposed, tail) in german.items():
            assert english[head][:2] == (verb, extraposed), (pair.src, pair.tgt, head)
            assert not tail or english[head][2] in ("ART", "PREP"), (pair.src, pair.tgt, head)


def test_object_relatives_mark_case(pairs):
    """"die eine Eule hob" reads as "that lifted an owl", so an object relative whose pronoun is also
    nominative (die, das) has a subject marked nominative (der, ein)."""
    checked = 0
    for pair in pairs:
        words = [w for w in pair.words if w.pos != "PUNCT"]
        for word, subject in zip(words, words[1:]):
            if word.pos == "REL" and word.role == "obj" and word.text in ("die", "das"):
                checked += 1
                assert subject.text in ("der", "ein"), pair.src
    assert checked > 20


def cat_on_the_mat(extraposed: bool) -> Clause:
    dog = NP(NOUN["Hund"])
    mat = NP(NOUN["Matte"], rc=RC("subj", VERB["lag"], pp=PP(PREP["neben"], dog), extraposed=extraposed))
    return Clause(NP(NOUN["Katze"], rc=RC("subj", VERB["saß"], pp=PP(PREP["auf"], mat))), VERB["sprang"])


def test_the_example_sentence():
    pair = realize(cat_on_the_mat(extraposed=True))
    assert pair.src == "Die Katze, die auf der Matte saß, die neben dem Hund lag, sprang."
    assert pair.tgt == "The cat that sat on the mat, which lay next to the dog, jumped."
    assert {k: pair.meta[k] for k in ("subject_index", "verb_index", "distance", "main_verb", "depth", "length")} == \
        {"subject_index": 1, "verb_index": 12, "distance": 11, "main_verb": "jumped", "depth": 2, "length": 13}
    embedded = realize(cat_on_the_mat(extraposed=False))
    assert embedded.src == "Die Katze, die auf der Matte, die neben dem Hund lag, saß, sprang."
    assert embedded.tgt == "The cat that sat on the mat that lay next to the dog jumped."


def lamb_clause() -> Clause:
    squirrel = NP(NOUN["Eichhörnchen"], False, ADJ["mutig"])
    koala = NP(NOUN["Koala"], adjective=ADJ["schön"], rc=RC("obj", VERB["hielt"], np=squirrel))
    singer = NP(NOUN["Sänger"], adjective=ADJ["schnell"], rc=RC("obj", VERB["kaufte"], np=koala))
    chicken = NP(NOUN["Huhn"], rc=RC("prep", VERB["rutschte"], np=singer, prep=PREP["neben"]))
    lamb = NP(NOUN["Lamm"], False, rc=RC("subj", VERB["sprang"], pp=PP(PREP["neben"], chicken)))
    fisherman = NP(NOUN["Fischer"], adjective=ADJ["kalt"], rc=RC("subj", VERB["nickte"]))
    return Clause(lamb, VERB["sank"], pp=PP(PREP["ohne"], fisherman))


@pytest.mark.parametrize("clause, src, tgt", [
    (Clause(NP(NOUN["Mann"], rc=RC("obj", VERB["sah"], np=NP(NOUN["Mädchen"]))), VERB["schlief"]),
     "Der Mann, den das Mädchen sah, schlief.", "The man whom the girl saw slept."),
    (Clause(NP(NOUN["Kind"], rc=RC("prep", VERB["spielte"], np=NP(NOUN["Hund"]), prep=PREP["mit"])), VERB["lachte"]),
     "Das Kind, mit dem der Hund spielte, lachte.", "The child with whom the dog played laughed."),
    (Clause(NP(NOUN["Hund"], False, ADJ["klein"]), VERB["sah"], obj=NP(NOUN["Eule"], False, ADJ["alt"])),
     "Ein kleiner Hund sah eine alte Eule.", "A small dog saw an old owl."),
    (Clause(NP(NOUN["Pferd"], False, ADJ["müde"]), VERB["lag"], pp=PP(PREP["unter"], NP(NOUN["Baum"], False, ADJ["grün"]))),
     "Ein müdes Pferd lag unter einem grünen Baum.", "A tired horse lay under a green tree."),
    (Clause(NP(NOUN["Katze"]), VERB["jagte"], obj=NP(NOUN["Hund"], rc=RC("subj", VERB["lief"], pp=PP(PREP["durch"], NP(NOUN["Garten"]))))),
     "Die Katze jagte den Hund, der durch den Garten lief.", "The cat chased the dog that ran through the garden."),
    # English verb right after the subject of an object relative; German keeps it last.
    (Clause(NP(NOUN["Tochter"], rc=RC("obj", VERB["berührte"], np=NP(NOUN["Kater"]), pp=PP(PREP["nach"], NP(NOUN["Ritter"], False)))),
            VERB["gähnte"]),
     "Die Tochter, die der Kater nach einem Ritter berührte, gähnte.",
     "The daughter whom the tomcat touched after a knight yawned."),
    (Clause(NP(NOUN["Hund"], rc=RC("prep", VERB["schwamm"], np=NP(NOUN["Frau"]), prep=PREP["mit"],
                                   pp=PP(PREP["aus"], NP(NOUN["Topf"])))), VERB["bellte"]),
     "Der Hund, mit dem die Frau aus dem Topf schwamm, bellte.", "The dog with which the woman swam out of the pot barked."),
    # The clause German extraposes after "hob" is about the owl, the last noun: in English it follows "owl".
    (Clause(NP(NOUN["Wespe"], False, ADJ["grau"], rc=RC("subj", VERB["hob"], np=NP(NOUN["Eule"], False, ADJ["traurig"], rc=RC(
        "prep", VERB["kletterte"], np=NP(NOUN["Gast"], adjective=ADJ["grau"]), prep=PREP["neben"], extraposed=True)))),
        VERB["sprang"]),
     "Eine graue Wespe, die eine traurige Eule hob, neben der der graue Gast kletterte, sprang.",
     "A gray wasp that lifted a sad owl, next to which the gray guest climbed, jumped."),
    # A relative clause on the subject of an object relative nests in English too: English has no
    # other place for it (the sampler never builds one).
    (lamb_clause(),
     "Ein Lamm, das neben dem Huhn, neben dem der schnelle Sänger, den der schöne Koala, den ein mutiges Eichhörnchen "
     "hielt, kaufte, rutschte, sprang, sank ohne den kalten Fischer, der nickte.",
     "A lamb that jumped next to the chicken next to which the fast singer whom the beautiful koala that a brave "
     "squirrel held bought slipped sank without the cold fisherman who nodded."),
])
def test_hand_built_trees(clause, src, tgt):
    pair = realize(clause)
    assert (pair.src, pair.tgt) == (src, tgt)


def test_main_clause_cannot_extrapose():
    clause = Clause(NP(NOUN["Katze"], rc=RC("subj", VERB["schlief"], extraposed=True)), VERB["sprang"])
    with pytest.raises(ValueError, match="extraposed"):
        realize(clause)


def test_loading_an_evaluation_split_generates_only_the_splits_before_it(corpus, monkeypatch):
    import seq2seq.data.probe.corpus as module

    full, fingerprint = corpus.load("test"), corpus.fingerprint()
    generated = []
    real = module.generate_split
    monkeypatch.setattr(module, "generate_split", lambda config, name, seen: generated.append(name) or real(config, name, seen))
    alone = ProbeCorpus(**SMALL)
    test = alone.load("test")
    assert "train" not in generated and generated[-1] == "test"
    assert (test.src, test.tgt, test.meta) == (full.src, full.tgt, full.meta)
    assert alone.fingerprint() == fingerprint and generated.count("test") == 1


def test_splits_are_disjoint_and_deterministic(corpus):
    texts = {name: corpus.load(name) for name in SMALL["splits"]}
    assert {name: len(t) for name, t in texts.items()} == SMALL["splits"]
    sources = [set(t.src) for t in texts.values()]
    assert sum(len(s) for s in sources) == len(set().union(*sources)) == sum(SMALL["splits"].values())
    again = ProbeCorpus(**SMALL)
    for name, text in texts.items():
        twin = again.load(name)
        assert (twin.src, twin.tgt, twin.meta) == (text.src, text.tgt, text.meta)
    assert again.fingerprint() == corpus.fingerprint()
    other = ProbeCorpus(**{**SMALL, "seed": 8})
    assert other.load("test").src != texts["test"].src and other.fingerprint() != corpus.fingerprint()
    bigger_train = ProbeCorpus(**{**SMALL, "splits": {**SMALL["splits"], "train": 1600}})
    assert bigger_train.load("test").src == texts["test"].src  # evaluation splits come first
    assert bigger_train.fingerprint() != corpus.fingerprint()


def test_fingerprint_does_not_depend_on_string_hashing(corpus):
    code = f"from seq2seq.data.probe import ProbeCorpus; print(ProbeCorpus(**{SMALL!r}).fingerprint())"
    root = Path(__file__).resolve().parents[1]
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(root)}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == corpus.fingerprint()


def test_lengths_buckets_and_positions(corpus):
    buckets = length_buckets(4, 60, 10)
    assert buckets == [(4, 9), (10, 19), (20, 29), (30, 39), (40, 49), (50, 60)]
    test = corpus.load("test")
    per_bucket = [sum(low <= m["length"] <= high for m in test.meta) for low, high in buckets]
    assert per_bucket == [100] * 6
    assert sum(50 <= m["length"] <= 59 for m in test.meta) >= 80
    for name in SMALL["splits"]:
        text = corpus.load(name)
        for src, tgt, meta in zip(text.src, text.tgt, text.meta):
            tokens = src.split()
            assert 4 <= meta["length"] == len(tokens) <= 60
            assert tokens[meta["subject_index"]].rstrip(",.") == meta["subject_de"]
            assert tokens[meta["verb_index"]].rstrip(",.") == meta["main_verb_de"]
            assert meta["distance"] == meta["verb_index"] - meta["subject_index"] >= 1
            assert re.search(rf"\b{meta['main_verb']}\b", tgt)
    train_lengths = [m["length"] for m in corpus.load("train").meta]
    weights = [1 / 6] * 6  # uniform: the dataclass's default, as before length_weights existed
    shares = [sum(low <= n <= high for n in train_lengths) / len(train_lengths) for low, high in buckets]
    assert shares == pytest.approx(weights, abs=0.03)


def test_custom_length_range_and_depths_are_respected():
    corpus = ProbeCorpus(seed=3, splits={"test": 150}, min_words=20, max_words=35, depth_weights=[0, 0, 1],
                         stratified_splits=["test"])
    meta = corpus.load("test").meta
    assert all(20 <= m["length"] <= 35 and m["depth"] == 2 for m in meta)
    assert [sum(low <= m["length"] <= high for m in meta) for low, high in [(20, 29), (30, 35)]] == [75, 75]


def test_default_config_spreads_distances_and_loads_from_yaml():
    yaml = Path(__file__).resolve().parents[1] / "seq2seq/conf/data/probe.yaml"
    node = OmegaConf.to_container(OmegaConf.load(yaml).corpus)
    assert node.pop("_target_") == "seq2seq.data.probe.ProbeCorpus"
    corpus = ProbeCorpus(**node)
    assert corpus.config == ProbeConfig(length_weights=[0.4, 0.3, 0.1, 0.1, 0.05, 0.05])  # the YAML adds the calibrated mix
    by_distance = corpus.extra_metrics(corpus.load("test"), corpus.load("test").tgt)["verb_accuracy"]["by_distance"]
    assert all(b["count"] >= 40 and b["accuracy"] == 1.0 for b in by_distance), by_distance


def test_unknown_split_names_the_available_ones(corpus):
    with pytest.raises(UserError, match=r"'dev'.*\['test', 'train', 'valid'\]"):
        corpus.load("dev")


def test_verb_accuracy_on_hand_made_hypotheses():
    meta = [{"main_verb": "jumped", "distance": 1}, {"main_verb": "sat", "distance": 4},
            {"main_verb": "jumped", "distance": 7}, {"main_verb": "lay", "distance": 25},
            {"main_verb": "saw", "distance": 100}]
    hypotheses = ["The cat JUMPED.", "The cat sat, then slept.", "The cat jumpedx outjumped.", "the dog lay", "I saw"]
    result = verb_accuracy(hypotheses, meta, [0, 5, 10, 20, 40])
    assert result["overall"] == {"accuracy": 0.8, "count": 5, "correct": 4}
    assert [(b["bucket"], b["low"], b["high"], b["count"], b["correct"], b["accuracy"]) for b in result["by_distance"]] == [
        ("0-4", 0, 5, 2, 2, 1.0), ("5-9", 5, 10, 1, 0, 0.0), ("10-19", 10, 20, 0, 0, None), ("20-39", 20, 40, 1, 1, 1.0)]
    with pytest.raises(ValueError):
        verb_accuracy(hypotheses[:2], meta, [0, 5])
    with pytest.raises(ValueError):
        verb_accuracy(hypotheses, meta, [5, 5])


def test_extra_metrics_sees_a_missing_main_verb(corpus):
    test = corpus.load("test")
    without_verb = [re.sub(rf"\b{m['main_verb']}\b", "", t) for t, m in zip(test.tgt, test.meta)]
    assert corpus.extra_metrics(test, test.tgt)["verb_accuracy"]["overall"]["accuracy"] == 1.0
    assert corpus.extra_metrics(test, without_verb)["verb_accuracy"]["overall"]["correct"] == 0


def test_length_weights_set_the_training_mix_and_stratified_splits_ignore_them():
    """A short-heavy mix: bucket shares follow the weights (shortest first); evaluation splits stay stratified."""
    corpus = ProbeCorpus(seed=5, splits={"train": 3000, "test": 300}, min_words=4, max_words=39,
                         length_weights=[0.7, 0.1], stratified_splits=["test"])  # 0.1 repeats for [20,29], [30,39]
    buckets = length_buckets(4, 39, 10)
    shares = [sum(low <= m["length"] <= high for m in corpus.load("train").meta) / 3000 for low, high in buckets]
    assert shares == pytest.approx([0.7, 0.1, 0.1, 0.1], abs=0.03)
    assert [sum(low <= m["length"] <= high for m in corpus.load("test").meta) for low, high in buckets] == [75] * 4
    uniform = ProbeCorpus(seed=5, splits={"train": 3000}, min_words=4, max_words=39, stratified_splits=[])
    assert uniform.fingerprint() != corpus.fingerprint()


@pytest.mark.parametrize("weights", [[], [0.5, -0.1], [0, 0]])
def test_bad_length_weights_are_named(weights):
    with pytest.raises(ValueError, match="length_weights"):
        ProbeCorpus(splits={"train": 10}, max_words=20, length_weights=weights).load("train")
