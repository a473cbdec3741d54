"""Word lists and inflection tables for the German→English probe grammar.

Every entry is chosen so the translation is exact and unambiguous: one German word ↔ one English
word form, no English verb form that is also a noun or adjective here (so finding the main verb in a
hypothesis means the verb, not a homograph), only strong nouns (no weak "-n" declension, so a
singular noun never changes with case), no adjective that drops an "e" when inflected (dunkel →
dunkle), and no preposition that contracts with the article (in dem → im).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Noun:
    de: str
    gender: str  # "m", "f" or "n": grammatical gender, which sets article and relative pronoun
    en: str
    person: bool = False  # English relative pronoun "who"/"whom" instead of "that"/"which"
    animate: bool = False  # may be the subject of a verb


@dataclass(frozen=True)
class Verb:
    de: str  # German preterite, 3rd person singular ("sprang")
    en: str  # English simple past ("jumped")
    transitive: bool


@dataclass(frozen=True)
class Adjective:
    de: str  # uninflected stem form ("klein")
    en: str


@dataclass(frozen=True)
class Preposition:
    de: str
    en: str
    case: str  # the case it governs: "acc" or "dat"


def _nouns(gender: str, pairs: str, person: bool = False, animate: bool = False) -> list[Noun]:
    return [Noun(de, gender, en, person, person or animate) for de, en in (p.split(":") for p in pairs.split())]


PERSONS = (
    _nouns("m", "Mann:man Lehrer:teacher Arzt:doctor Bäcker:baker Koch:cook Fischer:fisherman "
                "Jäger:hunter Maler:painter Sänger:singer Tänzer:dancer Schüler:pupil Bruder:brother "
                "Vater:father Onkel:uncle Freund:friend Gast:guest König:king Ritter:knight Dieb:thief "
                "Richter:judge Fahrer:driver Gärtner:gardener Metzger:butcher Schneider:tailor "
                "Kapitän:captain Wächter:guard Sohn:son Großvater:grandfather Zauberer:wizard "
                "Zwerg:dwarf Mönch:monk Priester:priest Bettler:beggar Händler:merchant Wirt:innkeeper "
                "Schmied:blacksmith Schäfer:shepherd Engel:angel", person=True)
    + _nouns("f", "Frau:woman Schwester:sister Mutter:mother Tante:aunt Königin:queen Tochter:daughter "
                  "Großmutter:grandmother Hexe:witch Witwe:widow Nonne:nun", person=True)
    + _nouns("n", "Kind:child Mädchen:girl Baby:baby", person=True)
)

ANIMALS = (
    _nouns("m", "Hund:dog Esel:donkey Fuchs:fox Wolf:wolf Hirsch:stag Vogel:bird Hahn:rooster "
                "Adler:eagle Fisch:fish Frosch:frog Käfer:beetle Igel:hedgehog Dachs:badger Tiger:tiger "
                "Wal:whale Hai:shark Pinguin:penguin Papagei:parrot Krebs:crab Delfin:dolphin "
                "Storch:stork Schwan:swan Kater:tomcat Hamster:hamster Wurm:worm Gorilla:gorilla "
                "Panda:panda Koala:koala Luchs:lynx Marder:marten Maulwurf:mole Otter:otter Biber:beaver "
                "Elch:moose Lachs:salmon Hering:herring Specht:woodpecker", animate=True)
    + _nouns("f", "Katze:cat Maus:mouse Kuh:cow Ziege:goat Ente:duck Gans:goose Taube:pigeon Eule:owl "
                  "Schlange:snake Spinne:spider Biene:bee Fliege:fly Ameise:ant Schnecke:snail Ratte:rat "
                  "Schildkröte:turtle Motte:moth Giraffe:giraffe Kröte:toad Libelle:dragonfly "
                  "Hummel:bumblebee Wespe:wasp Qualle:jellyfish Möwe:seagull Krähe:crow Amsel:blackbird", animate=True)
    + _nouns("n", "Pferd:horse Schwein:pig Schaf:sheep Reh:deer Huhn:chicken Krokodil:crocodile "
                  "Kamel:camel Zebra:zebra Känguru:kangaroo Eichhörnchen:squirrel Kaninchen:rabbit "
                  "Pony:pony Lamm:lamb Kalb:calf Fohlen:foal Nashorn:rhinoceros Nilpferd:hippo", animate=True)
)

THINGS = (
    _nouns("m", "Tisch:table Stuhl:chair Schrank:cupboard Teppich:carpet Baum:tree Busch:bush "
                "Stein:stone Felsen:rock Fluss:river See:lake Berg:mountain Hügel:hill Wald:forest "
                "Garten:garden Zaun:fence Brunnen:fountain Teich:pond Weg:path Korb:basket "
                "Koffer:suitcase Eimer:bucket Topf:pot Teller:plate Krug:jug Löffel:spoon Brief:letter "
                "Spiegel:mirror Schlüssel:key Hut:hat Mantel:coat Schuh:shoe Stiefel:boot "
                "Schirm:umbrella Ball:ball Ofen:oven Herd:stove Kühlschrank:fridge Wagen:wagon Zug:train "
                "Bus:bus Turm:tower Stall:stable Strand:beach Hafen:harbor Markt:market Platz:square "
                "Kamin:fireplace Vorhang:curtain Sack:sack Apfel:apple Kuchen:cake Käse:cheese "
                "Pilz:mushroom Kürbis:pumpkin Anker:anchor Sessel:armchair Hammer:hammer Nagel:nail "
                "Ast:branch Zweig:twig Umschlag:envelope")
    + _nouns("f", "Matte:mat Lampe:lamp Tür:door Wand:wall Blume:flower Brücke:bridge Straße:street "
                  "Bank:bench Kiste:crate Schachtel:box Tasche:bag Pfanne:pan Tasse:cup Flasche:bottle "
                  "Gabel:fork Zeitung:newspaper Uhr:clock Kerze:candle Puppe:doll Decke:blanket "
                  "Kirche:church Schule:school Scheune:barn Hütte:hut Burg:fortress Insel:island "
                  "Treppe:staircase Leiter:ladder Kommode:dresser Wiege:cradle Birne:pear Orange:orange "
                  "Zwiebel:onion Kartoffel:potato Karotte:carrot Nuss:nut Zitrone:lemon Melone:melon "
                  "Axt:axe Kette:chain Feder:feather Wurzel:root Kugel:sphere Trommel:drum Geige:violin "
                  "Flöte:flute Glocke:bell Harfe:harp Gitarre:guitar Laterne:lantern Fahne:flag "
                  "Teekanne:teapot")
    + _nouns("n", "Bett:bed Sofa:sofa Fenster:window Dach:roof Haus:house Glas:glass Messer:knife "
                  "Buch:book Bild:picture Kissen:pillow Auto:car Boot:boat Schiff:ship Fahrrad:bicycle "
                  "Zelt:tent Regal:shelf Fass:barrel Brot:bread Ei:egg Seil:rope Blatt:leaf "
                  "Klavier:piano Tor:gate Insekt:insect")
)

NOUNS: list[Noun] = PERSONS + ANIMALS + THINGS
ANIMATE: list[Noun] = PERSONS + ANIMALS  # the only possible subjects, so that "the cat sat" and not "the cup sat"


def _verbs(pairs: str, transitive: bool) -> list[Verb]:
    return [Verb(de, en, transitive) for de, en in (p.split(":") for p in pairs.split())]


INTRANSITIVE = _verbs(
    "sprang:jumped saß:sat lag:lay schlief:slept lief:ran stand:stood wartete:waited lachte:laughed "
    "weinte:cried tanzte:danced sang:sang schwamm:swam fiel:fell kam:came ging:went bellte:barked "
    "spielte:played arbeitete:worked schrie:screamed lächelte:smiled zitterte:trembled flog:flew "
    "kroch:crawled wuchs:grew rollte:rolled nickte:nodded hustete:coughed gähnte:yawned "
    "atmete:breathed flüsterte:whispered träumte:dreamed zögerte:hesitated verschwand:vanished "
    "erschien:appeared kletterte:climbed hüpfte:hopped stolperte:stumbled wanderte:wandered "
    "ruhte:rested blieb:stayed leuchtete:glowed summte:hummed pfiff:whistled sank:sank rutschte:slipped",
    transitive=False,
)

TRANSITIVE = _verbs(
    "sah:saw jagte:chased biss:bit fand:found hörte:heard trug:carried hielt:held fing:caught "
    "zog:pulled schob:pushed rief:called kannte:knew liebte:loved hasste:hated mochte:liked "
    "malte:painted baute:built kaufte:bought verkaufte:sold berührte:touched küsste:kissed "
    "umarmte:hugged fütterte:fed wusch:washed öffnete:opened aß:ate trank:drank versteckte:hid "
    "bewachte:guarded beobachtete:watched weckte:woke traf:met vermisste:missed bemerkte:noticed "
    "grüßte:greeted besuchte:visited rettete:saved stahl:stole verlor:lost holte:fetched "
    "brachte:brought schüttelte:shook hob:lifted leckte:licked kratzte:scratched",
    transitive=True,
)

VERBS: list[Verb] = INTRANSITIVE + TRANSITIVE

ADJECTIVES: list[Adjective] = [
    Adjective(de, en)
    for de, en in (p.split(":") for p in (
        "klein:small groß:big alt:old jung:young rot:red blau:blue grün:green schwarz:black "
        "weiß:white braun:brown gelb:yellow grau:gray müde:tired leise:quiet laut:loud schnell:fast "
        "langsam:slow warm:warm kalt:cold neu:new schön:beautiful hässlich:ugly dick:fat dünn:thin "
        "klug:clever dumm:stupid fröhlich:cheerful traurig:sad wild:wild zahm:tame hungrig:hungry "
        "stolz:proud ruhig:calm nass:wet trocken:dry sauber:clean schmutzig:dirty leer:empty "
        "voll:full rund:round kurz:short weich:soft hart:hard heiß:hot frisch:fresh krank:sick "
        "lustig:funny freundlich:friendly böse:angry seltsam:strange bunt:colorful faul:lazy "
        "mutig:brave schwer:heavy leicht:light süß:sweet lang:long"
    ).split())
]

PREPOSITIONS: list[Preposition] = [
    Preposition("auf", "on", "dat"),
    Preposition("neben", "next to", "dat"),
    Preposition("mit", "with", "dat"),
    Preposition("hinter", "behind", "dat"),
    Preposition("unter", "under", "dat"),
    Preposition("vor", "in front of", "dat"),
    Preposition("über", "above", "dat"),
    Preposition("aus", "out of", "dat"),
    Preposition("nach", "after", "dat"),
    Preposition("durch", "through", "acc"),
    Preposition("für", "for", "acc"),
    Preposition("ohne", "without", "acc"),
    Preposition("gegen", "against", "acc"),
    Preposition("um", "around", "acc"),
]

# Singular inflection, indexed [case][gender]. The relative pronoun has the definite article's
# singular forms in nominative, accusative and dative.
DEFINITE = {"nom": {"m": "der", "f": "die", "n": "das"},
            "acc": {"m": "den", "f": "die", "n": "das"},
            "dat": {"m": "dem", "f": "der", "n": "dem"}}
INDEFINITE = {"nom": {"m": "ein", "f": "eine", "n": "ein"},
              "acc": {"m": "einen", "f": "eine", "n": "ein"},
              "dat": {"m": "einem", "f": "einer", "n": "einem"}}
RELATIVE = DEFINITE
# Adjective endings: weak after the definite article, mixed after the indefinite one.
WEAK_ENDINGS = {"nom": {"m": "e", "f": "e", "n": "e"},
                "acc": {"m": "en", "f": "e", "n": "e"},
                "dat": {"m": "en", "f": "en", "n": "en"}}
MIXED_ENDINGS = {"nom": {"m": "er", "f": "e", "n": "es"},
                 "acc": {"m": "en", "f": "e", "n": "es"},
                 "dat": {"m": "en", "f": "en", "n": "en"}}


def article_de(definite: bool, case: str, gender: str) -> str:
    return (DEFINITE if definite else INDEFINITE)[case][gender]


def adjective_de(adjective: Adjective, definite: bool, case: str, gender: str) -> str:
    """Inflect an attributive adjective; a stem ending in "e" (müde) does not double it."""
    ending = (WEAK_ENDINGS if definite else MIXED_ENDINGS)[case][gender]
    stem = adjective.de[:-1] if adjective.de.endswith("e") else adjective.de
    return stem + ending


def indefinite_en(next_word: str) -> str:
    """"a" or "an" by spelling; the lexicon avoids words where spelling misleads ("a unicorn")."""
    return "an" if next_word[0] in "aeiou" else "a"
