"""Who and where a statement names: rules, capitalisation and a gazetteer, no model download.

A statement is split into sentences, each sentence into tokens, and the tokens are
matched against ``data/gazetteer.toml`` (countries and their demonyms and cities,
international organisations, armed forces and groups, named governments, well-known
figures, titles). What the gazetteer does not know is found by rules: a title followed
by capitalised words is a person ("Special Representative Ghassan Salamé"), a name with
an initial is a person ("Antony J. Blinken"), a capitalised run with an organisation
word is an organisation ("Ministry of Foreign Affairs"). A bare surname refers back to
a person the text has already named.

Whether a named country is an *actor* or only a *place* is decided later, by
:mod:`dipdiff.analyse.stance`, from what is said about it.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any, NamedTuple

from dipdiff.analyse.lexicons import foreign_names
from dipdiff.analyse.scripts import HAN_CHAR, WORD_CHARS, elision_cut, proclitic_forms, word_key
from dipdiff.errors import ConfigError
from dipdiff.text import canonical

KINDS = ("person", "force", "government", "organisation", "country", "place", "generic")
ACTOR_KINDS = frozenset({"person", "force", "government", "organisation", "country"})

# Tokens: abbreviations with dots ("U.S."), words with inner apostrophes or hyphens
# ("Haftar’s", "al-Sarraj", "Kata'ib"), a trailing plural-possessive apostrophe, punctuation.
# A Han character is a token of its own (:mod:`dipdiff.analyse.scripts`).
_TOKEN = re.compile(
    rf"(?:[A-Za-z]\.){{2,}}|{HAN_CHAR}|{WORD_CHARS}+(?:[’'\-]{WORD_CHARS}+)*[’']?|[^\w\s]"
)
_POSSESSIVE = re.compile(r"(?:[’']s|(?<=s)[’'])$")

# Words that never start or continue a name, even capitalised at the start of a sentence.
STOPWORDS = frozenset(
    """
a an the this that these those we our us i you he she it its they them their his her him my your and
or but nor of for to from in on at by with without about over under into onto upon as than then is
are was were be been being has have had do does did will would shall should can could may might must
not no all both each every any some such other another more most many much few several today
yesterday tomorrow monday tuesday wednesday thursday friday saturday sunday january february march
april may june july august september october november december statement readout remarks press
release briefing fact sheet joint media note also however furthermore moreover meanwhile there here
where when while after before during since until see read visit contact please according following
including regarding q
""".split()
)

# A capitalised run that contains one of these is an organisation, not a person.
ORG_WORDS = frozenset(
    """
ministry department council office army forces force committee commission union nations republic
agency bank organization organisation party front movement brigade brigades government court
assembly parliament congress senate house authority coalition alliance militia corps guard navy
police service services institute foundation mission embassy consulate secretariat group network
association league federation bureau directorate administration cabinet tribunal programme program
fund centre center university command regiment division battalion agency
""".split()
)

# A capitalised run that ends in one of these is a document or an event, not an actor.
DOCUMENT_WORDS = frozenset(
    """
act acts bill report reports treaty convention charter resolution declaration accord accords
agreement agreements consensus communique communiqué games summit strategy plan standards standard
law code framework initiative review practices day week award prize programme
""".split()
)

# A possessor followed by one of these names the possessor's armed forces ("Haftar's forces").
FORCE_NOUNS = frozenset(
    """
forces troops fighters militia militias army soldiers units brigades loyalists army's military
""".split()
)

# A demonym before one of these is a country acting ("Russian forces", "the Libyan government").
ACTOR_NOUNS = frozenset(
    """
government governments authorities authority forces troops military army navy regime officials
leadership delegation side counterparts counterpart president leaders
""".split()
)

# A country before one of these names a topic, not an actor ("the Libya conflict", "One China
# policy", "the Sudan crisis").
TOPIC_NOUNS = frozenset(
    """
policy policies conflict crisis issue issues question war file situation talks peace process
strategy border borders region sanctions deal agreement summit ceasefire envoy relationship
relations program programme strait straits sea coast embassy mission team case dossier initiative
plan framework meeting visit trip dialogue negotiations compact partnership agenda portfolio accord
accords day member members states countries
""".split()
)

# A demonym followed by one of these names the country that acts ("the Russian missile attack").
AGENT_NOUNS = frozenset(
    """
missile missiles attack attacks strike strikes airstrike airstrikes shelling invasion aggression
offensive bombardment bombing bombings occupation drone drones aircraft warplanes blockade incursion
incursions
""".split()
)

NAME_PARTICLES = frozenset(
    {
        "al",
        "el",
        "bin",
        "ibn",
        "bint",
        "de",
        "da",
        "van",
        "von",
        "der",
        "le",
        "la",
        "abu",
        "abd",
        "ben",
        "del",
        "di",
        "du",
    }
)

GENERIC_HEADS = frozenset(
    {
        "parties",
        "sides",
        "actors",
        "stakeholders",
        "factions",
        "combatants",
        "belligerents",
        "groups",
        "armed groups",
    }
)


class Token(NamedTuple):
    """A word or punctuation mark (a tuple: thousands are made per statement)."""

    text: str  # as written, without a possessive ending
    start: int  # character offsets of the whole token (with the possessive ending)
    end: int
    lower: str  # canonical, case-folded ``text``
    possessive: bool = False
    capitalised: bool = False  # starts with an upper-case letter


@dataclass(frozen=True)
class Sentence:
    text: str
    paragraph: int
    index: int  # position in the whole statement
    # Characters at the start that label rather than say: a transcript's "MR. PRICE:", a report's
    # run-in heading "Access to Basic Services:". They name no actor.
    label: int = 0
    heading: bool = False  # the whole paragraph is a heading ("Freedom of Movement"): no actors


@dataclass(frozen=True)
class Mention:
    """One naming of an actor or a place, as token indices ``[start, end)`` into its sentence."""

    key: str  # identity across texts: gazetteer key, "p:surname", "o:name"
    name: str  # display name ("Khalifa Haftar", "United Nations")
    kind: str  # one of KINDS
    text: str  # as written, with title and possessive ("Field Marshal Haftar’s")
    start: int
    end: int
    possessive: bool = False
    actor_form: bool = (
        False  # a country named as acting: "Russian forces", "the Government of Libya"
    )
    modifier: bool = (
        False  # inside a compound: "UN-facilitated", "Iran-backed" (names, never judged)
    )
    country: str | None = None  # the country key of a city, demonym, force or government
    title: str = ""
    seat: str = ""  # a seat of power that names its state: "Moscow", "the Kremlin", "Beijing"


@dataclass(frozen=True)
class Entry:
    """One gazetteer entry."""

    key: str
    name: str
    kind: str
    country: str | None = None


@dataclass(frozen=True)
class Issuer:
    country: str  # gazetteer key
    hosts: tuple[str, ...]
    agency_words: tuple[str, ...]


@dataclass(frozen=True)
class _Phrase:
    words: tuple[str, ...]
    exact: tuple[str, ...]  # the name's words as written (canonical form)
    entry: Entry
    role: str  # name | demonym | place | seat
    label: str = ""  # the phrase as the gazetteer writes it


def fold(text: str) -> str:
    """ASCII, lower-case, dash-joined: a stable key fragment ("Salamé" -> "salame")."""
    text = unicodedata.normalize("NFKD", canonical(text)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def tokenize(text: str) -> list[Token]:
    out: list[Token] = []
    for m in _TOKEN.finditer(text):
        raw, start = m.group(), m.start()
        # "Haftar-led", "UN-facilitated", "Unity-recognized": a name and a participle. Split, the
        # name matches the gazetteer as written ("Government of National Unity") and ends a
        # capitalised run there, instead of gluing itself to the words after the participle.
        # "l’offensive", "d’Haftar": the elided article is a token, the word after it another.
        elided = elision_cut(raw)
        if elided:
            out.append(_token(raw[:elided], start, start + elided))
            raw, start = raw[elided:], start + elided
        cut = _compound_cut(raw)
        if cut:
            out.append(_token(raw[:cut], start, start + cut))
            out.append(Token("-", start + cut, start + cut + 1, "-"))
            raw, start = raw[cut + 1 :], start + cut + 1
        out.append(_token(raw, start, m.end()))
    return out


def _token(raw: str, start: int, end: int) -> Token:
    poss = len(raw) > 2 and raw[-1] in "s’'" and bool(_POSSESSIVE.search(raw))
    word = _POSSESSIVE.sub("", raw) if poss else raw
    return Token(word, start, end, word_key(word), poss, word[:1].isupper())


def _compound_cut(raw: str) -> int:
    """Where a capitalised name ends in a "Name-participle" compound ("Iran-backed"), else 0."""
    if "-" not in raw or not raw[:1].isupper():
        return 0
    head, _, tail = raw.partition("-")
    tail = _POSSESSIVE.sub("", tail)
    return len(head) if tail.isalpha() and tail.islower() else 0


class Gazetteer:
    """Countries, organisations, forces, governments, figures, places and titles, on tokens."""

    def __init__(self, data: Mapping[str, Any], *, where: str = "gazetteer") -> None:
        self.entries: dict[str, Entry] = {}
        self.places: dict[str, Entry] = {}  # the cities and regions of countries, by key
        self._phrases: dict[str, list[_Phrase]] = {}
        self._titles: dict[str, list[tuple[str, ...]]] = {}
        self.issuers: list[Issuer] = []
        # "the junta" -> the forces and governments so described, each with its country
        self.descriptions: dict[str, list[Entry]] = {}
        self.leaders: dict[str, str] = {}  # a force's key -> its leader's key ("LNA" -> Haftar)
        leader_of: dict[str, tuple[str, str]] = {}
        country_of: dict[str, str] = {}
        for section, kind in (
            ("country", "country"),
            ("organisation", "organisation"),
            ("force", "force"),
            ("government", "government"),
            ("person", "person"),
            ("place", "place"),
        ):
            for n, raw in enumerate(data.get(section, [])):
                here = f"{where}: {section}[{n}]"
                name = raw.get("name") if isinstance(raw, Mapping) else None
                if not isinstance(name, str) or not name.strip():
                    raise ConfigError("'name' must be a non-empty string", key=here)
                key = fold(name)
                if kind == "country":
                    country_of[name] = key
                entry = Entry(key, name, kind, raw.get("country"))
                self.entries[key] = entry
                self._add(name, entry, "name", here)
                for alias in _strings(raw, "aliases", here):
                    self._add(alias, entry, "name", here)
                for dem in _strings(raw, "demonyms", here):
                    self._add(dem, entry, "demonym", here)
                for place in _strings(raw, "places", here):
                    self.places[fold(place)] = Entry(fold(place), place, "place", key)
                    self._add(place, self.places[fold(place)], "place", here)
                for seat in _strings(raw, "seats", here):
                    self._add(seat, entry, "seat", here)
                for word in _strings(raw, "descriptions", here):
                    self.descriptions.setdefault(word.casefold(), []).append(entry)
                leader = raw.get("leader")
                if leader is not None:
                    if not isinstance(leader, str):
                        raise ConfigError("'leader' must be a string", key=here)
                    leader_of[key] = (leader, here)
        # Forces and governments name their country: names become keys once all are read.
        for key, e in list(self.entries.items()):
            if e.country is not None:
                if e.country not in country_of:
                    raise ConfigError(
                        f"unknown country {e.country!r}", key=f"{where}: {e.kind} {e.name!r}"
                    )
                self.entries[key] = replace(e, country=country_of[e.country])
        for key, (leader, here) in leader_of.items():
            person = self.entries.get(fold(leader))
            if person is None or person.kind != "person":
                raise ConfigError(f"unknown person {leader!r} as leader", key=here)
            self.leaders[key] = person.key
        self.descriptions = {
            w: [self.entries[e.key] for e in es] for w, es in self.descriptions.items()
        }
        self._phrases = {
            k: [
                replace(
                    p,
                    entry=self.entries.get(p.entry.key, p.entry) if p.role != "place" else p.entry,
                )
                for p in v
            ]
            for k, v in self._phrases.items()
        }
        for bucket in self._phrases.values():
            bucket.sort(key=lambda p: -len(p.words))
        for title in (data.get("titles") or {}).get("before_name", []):
            words = tuple(t.lower for t in tokenize(title))
            if words:
                self._titles.setdefault(words[0], []).append(words)
        for titles in self._titles.values():
            titles.sort(key=len, reverse=True)
        for n, raw in enumerate(data.get("issuer", [])):
            here = f"{where}: issuer[{n}]"
            c = raw.get("country")
            if c not in country_of and fold(str(c)) not in self.entries:
                raise ConfigError(f"unknown country {c!r}", key=here)
            self.issuers.append(
                Issuer(
                    country_of.get(c, fold(str(c))),
                    tuple(_strings(raw, "hosts", here)),
                    tuple(_strings(raw, "agency_words", here)),
                )
            )

    def _add(self, phrase: str, entry: Entry, role: str, where: str) -> None:
        toks = tokenize(phrase)
        if not toks:
            raise ConfigError(f"empty name {phrase!r}", key=where)
        words = tuple(t.lower for t in toks)
        exact = tuple(canonical(t.text) for t in toks)
        # Arabic: the name with a conjunction or preposition joined to it too ("وحفتر")
        for first in (words[0], *proclitic_forms(words[0])):
            self._phrases.setdefault(first, []).append(
                _Phrase((first, *words[1:]), exact, entry, role, phrase)
            )

    def add_names(self, names: Iterable[tuple[str, str, str, str]]) -> None:
        """Names in other languages for entries of this gazetteer: (its name, the name as that
        language writes it, ``name`` or ``demonym``, where it is written)."""
        for name, written, role, where in names:
            entry = self.entries.get(fold(name))
            place = self.places.get(fold(name))
            if entry is None and place is None:
                raise ConfigError(f"{name!r} is not in the gazetteer", key=where)
            if entry is not None:
                self._add(written, entry, role, where)
            elif place is not None:
                self._add(written, place, "place", where)
        for bucket in self._phrases.values():
            bucket.sort(key=lambda p: -len(p.words))

    def match(self, tokens: Sequence[Token], i: int) -> tuple[int, _Phrase] | None:
        """The longest gazetteer phrase starting at token ``i``: (end index, phrase).

        Names match as written, except that a word's first letter may change case ("al-Qaeda" at
        the start of a sentence); all-capitals words match only as written ("US" is not "us",
        "WHO" is not "who", "LeT" is not "Let"). A lower-case word is never the start of a
        capitalised name ("china", "turkey").
        """
        first = tokens[i]
        for p in self._phrases.get(first.lower, ()):
            n = len(p.words)
            if i + n > len(tokens):
                continue
            window = tokens[i : i + n]
            if tuple(t.lower for t in window) != p.words:
                continue
            if not all(
                _same_name(canonical(t.text), w) for t, w in zip(window, p.exact, strict=True)
            ):
                continue
            if not first.capitalised and p.exact[0][:1].isupper():
                continue
            return i + n, p
        return None

    def title_at(self, tokens: Sequence[Token], i: int) -> int | None:
        """End index of the longest title starting at ``i`` (trailing dots skipped), if any."""
        if not tokens[i].capitalised:
            return None
        for words in self._titles.get(tokens[i].lower, ()):
            j, k = i, 0
            while k < len(words) and j < len(tokens):
                if tokens[j].lower == words[k]:
                    j, k = j + 1, k + 1
                elif tokens[j].text == "." and words[k] != ".":
                    j += 1
                else:
                    break
            if k == len(words):
                if j < len(tokens) and tokens[j].text == ".":
                    j += 1
                return j
        return None

    def speaker(self, url: str = "", agency: str = "") -> str | None:
        """The country that speaks through a statement, from its URL host or agency."""
        host = re.sub(r"^[a-z]+://", "", url.lower()).split("/")[0].split(":")[0]
        for iss in self.issuers:
            if host and any(
                host == h.lstrip(".") or host.endswith(h if h.startswith(".") else "." + h)
                for h in iss.hosts
            ):
                return iss.country
        for iss in self.issuers:
            if agency and any(w.lower() in agency.lower() for w in iss.agency_words):
                return iss.country
        return None

    def is_issuer_body(self, name: str, country: str | None) -> bool:
        """Is ``name`` ("Department of State", "White House") a body of the speaking country?"""
        if country is None:
            return False
        for iss in self.issuers:
            if iss.country == country and any(
                w.lower() in name.lower() for w in iss.agency_words if len(w) > 4
            ):
                return True
        return False


def _same_name(written: str, name: str) -> bool:
    if written == name or name.lower() == name.upper():
        return True  # the same, or in a script without case (Arabic, Chinese): keys decided
    if len(name) > 1 and (name.isupper() or any(c.isupper() for c in name[1:])):
        return False  # "US", "WHO", "LeT": case matters
    return written[:1].lower() == name[:1].lower() and written[1:] == name[1:]


def _strings(raw: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key!r} must be a list of strings", key=where)
    return value


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The gazetteer shipped with dipdiff (``data/gazetteer.toml``)."""
    text = resources.files("dipdiff").joinpath("data", "gazetteer.toml").read_text(encoding="utf-8")
    gz = Gazetteer(tomllib.loads(text), where="data/gazetteer.toml")
    gz.add_names(foreign_names())
    return gz


_ABBREVIATIONS = frozenset(
    """
mr mrs ms dr st gen lt col maj sgt capt adm rev sen rep gov jr sr vs etc inc ltd co corp dept
jan feb mar apr jun jul aug sep sept oct nov dec approx est
""".split()
)

_NUMBER_ABBREVIATIONS = frozenset(
    {"no", "nos", "fig", "vol", "art", "p", "pp"}
)  # "No. 5", not "No. It is"
# Chinese ends a sentence with 。！？ and no space after; Arabic asks with ؟.
_SENTENCE_END = re.compile(r"[.!?؟]+[\"'”’)\]]*\s+|[。！？]+[”’」』）)]*\s*")


def split_sentences(paragraphs: Iterable[str]) -> list[Sentence]:
    """Sentences of each paragraph, in order; abbreviations and initials do not end a sentence.

    A paragraph that is a heading makes heading sentences; a label at the start of a paragraph
    (a speaker's, or a run-in heading) is marked on its first sentence.
    """
    out: list[Sentence] = []
    for p_index, paragraph in enumerate(paragraphs):
        text = " ".join(paragraph.split())
        first = len(out)
        _split(text, p_index, out)
        if len(out) > first:
            if is_heading(text):
                out[first:] = [replace(x, heading=True) for x in out[first:]]
            else:
                out[first] = replace(out[first], label=label_end(out[first].text))
    return out


def _split(text: str, p_index: int, out: list[Sentence]) -> None:
    start = 0
    for m in _SENTENCE_END.finditer(text):
        before = text[start : m.start()].rsplit(" ", 1)[-1]
        word = before.rstrip(".").lower().strip("(\"'“‘")
        nxt = text[m.end() : m.end() + 1]
        if (
            text[m.start()] == "."
            and (
                word in _ABBREVIATIONS
                or (word in _NUMBER_ABBREVIATIONS and nxt.isdigit())
                or re.fullmatch(r"[a-z]", word)  # an initial: "Donald J. Trump"
                or (
                    re.fullmatch(
                        r"(?:[a-z]\.)+[a-z]", word
                    )  # "U.S. officials" (but "U.S. We..." splits below)
                    and not (
                        nxt.isupper()
                        and before.count(".") >= 2
                        and _starts_sentence(text[m.end() :])
                    )
                )
            )
        ):
            continue
        # A letter without case (Arabic, Chinese) may start a sentence as a capital does.
        if nxt and not (
            nxt.isupper()
            or nxt.isdigit()
            or nxt in "\"“‘'(["
            or (nxt.isalpha() and not nxt.islower())
        ):
            continue
        piece = text[start : m.end()].strip()
        if piece:
            out.append(Sentence(piece, p_index, len(out)))
        start = m.end()
    piece = text[start:].strip()
    if piece:
        out.append(Sentence(piece, p_index, len(out)))


# Words a heading leaves in lower case: "Freedom of Movement and the Right to Leave the Country".
_HEADING_SMALL = frozenset(
    "a an and as at by for from in including into of on or other the to with within without".split()
)
# Outline markers of long reports: "Section 2.", "d.", "iv.", "3.1".
_OUTLINE = re.compile(
    r"^(?:(?:section|part|chapter|annex)\s+[\dIVX]+[.:]?|[a-z]\.|[ivx]+\.|\d+(?:\.\d+)*\.)(?:\s+|$)",
    re.IGNORECASE,
)
_MAX_HEADING_WORDS = 16
# A transcript's speaker label: "MR. PRICE:", "SECRETARY BLINKEN:", "PRESIDENT OBAMA:".
_SPEAKER_LABEL = re.compile(r"^[A-Z][A-Z.'’ -]{1,40}:")
_RUN_IN = re.compile(r"^([^:]{2,80}):\s+(?=[\"“‘(]?[A-Z0-9])")
_MAX_RUN_IN_WORDS = 12


def _title_case(words: Sequence[str]) -> bool:
    """Every word capitalised, a number, or a small word; at least one capitalised word."""
    capitalised = 0
    for raw in words:
        w = raw.strip(",()\"“”‘’'")
        if not w:
            continue
        if w[:1].isupper():
            capitalised += 1
        elif not (w[:1].isdigit() or w.lower() in _HEADING_SMALL or not w[:1].isalnum()):
            return False
    return capitalised > 0


def is_heading(paragraph: str) -> bool:
    """A heading of a long text ("Section 1.", "d. Freedom of Movement", "EXECUTIVE SUMMARY",
    "Prison and Detention Center Conditions"): short, title case, no closing punctuation."""
    text = paragraph.strip()
    m = _OUTLINE.match(text)
    rest = text[m.end() :] if m else text
    if not rest:
        return m is not None
    words = rest.split()
    if len(words) > _MAX_HEADING_WORDS or rest[-1] in '.!?;:,"”’)':
        return False
    return _title_case(words)


def label_end(sentence: str) -> int:
    """Length of a label opening a paragraph: a speaker's ("MR. PRICE:") or a run-in heading
    ("Access to Basic Services: Refugees registered ..."); 0 when there is none."""
    m = _SPEAKER_LABEL.match(sentence)
    if m:
        return m.end()
    m = _RUN_IN.match(sentence)
    if m:
        words = m.group(1).split()
        if len(words) <= _MAX_RUN_IN_WORDS and _title_case(words):
            return m.end(1) + 1
    return 0


def _starts_sentence(rest: str) -> bool:
    first = rest.split(" ", 1)[0].lower()
    return first in {"the", "we", "this", "it", "they", "he", "she", "our", "in", "a", "i", "these"}


def find_mentions(
    tokens: Sequence[Token],
    gazetteer: Gazetteer | None = None,
    known_surnames: Mapping[str, Mention] | None = None,
    sentence: str | None = None,
) -> list[Mention]:
    """Actors and places named in one sentence, left to right, without overlaps.

    With ``sentence`` (the text ``tokens`` came from), each mention's ``text`` is as written.
    """
    found = _find(tokens, gazetteer or default_gazetteer(), known_surnames or {})
    found = [_forces_of(tokens, _compound(tokens, m)) for m in found]
    found = [_apposition(tokens, m, found[n - 1] if n else None) for n, m in enumerate(found)]
    if sentence is not None:
        found = [
            replace(m, text=sentence[tokens[m.start].start : tokens[m.end - 1].end]) for m in found
        ]
    return found


def _forces_of(tokens: Sequence[Token], m: Mention) -> Mention:
    """ "Haftar's forces", "forces loyal to Haftar": the forces are named after their commander."""
    if m.kind not in ("person", "force", "government") or m.modifier:
        return m
    j = m.end
    if (
        m.possessive
        and j < len(tokens)
        and tokens[j].lower in FORCE_NOUNS
        and not tokens[j].capitalised
    ):
        return replace(m, end=j + 1, possessive=tokens[j].possessive)
    i = m.start
    for lead in (
        ("loyal", "to"),
        ("aligned", "with"),
        ("affiliated", "with"),
        ("led", "by"),
        ("commanded", "by"),
        ("under",),
        ("of",),
    ):
        k = i - len(lead)
        if (
            k >= 1
            and tuple(t.lower for t in tokens[k:i]) == lead
            and tokens[k - 1].lower in FORCE_NOUNS
            and (lead != ("of",) or m.kind == "person")
        ):
            return replace(m, start=k - 1)
    return m


def _find(tokens: Sequence[Token], gz: Gazetteer, known: Mapping[str, Mention]) -> list[Mention]:
    out: list[Mention] = []
    i = 0
    n = len(tokens)
    while i < n:
        t = tokens[i]
        # Fast path: most tokens are lower-case words that start no name.
        if not t.text[:1].isalnum() or (
            not t.capitalised
            and t.lower not in gz._phrases  # noqa: SLF001 - the hot path, in the gazetteer's module
            and t.lower not in _GENERIC_START
            and "-" not in t.text
        ):
            i += 1
            continue
        ref = _anaphor(tokens, i, known) if known else None
        if ref:
            out.append(ref)
            i = ref.end
            continue
        generic = _generic_at(tokens, i, gz)
        if generic:
            out.append(generic)
            i = generic.end
            continue
        doc = _document_at(tokens, i)
        if doc is not None:
            i = doc
            continue
        org = _organisation_at(tokens, i, gz)
        if org:
            out.append(org)
            i = org.end
            continue
        hit = gz.match(tokens, i)
        if hit:
            end, phrase = hit
            # "UN Special Representative Ghassan Salamé", "Russian Foreign Minister Sergey Lavrov"
            title_end = (
                gz.title_at(tokens, end)
                if phrase.entry.kind != "person" and end < n and not tokens[end - 1].possessive
                else None
            )
            person = (
                _person_after_title(tokens, i, title_end, gz)
                if title_end and title_end < n
                else None
            )
            if person:
                out.append(person)
                i = person.end
                continue
            m = _gazetteer_mention(tokens, i, end, phrase)
            m = _widen(tokens, m, gz)
            if title_end is not None and m.end == end:
                # "the UN Special Representative": the UN's official, not the UN, is meant
                m = replace(m, modifier=True)
            out.append(m)
            i = m.end
            continue
        title_end = gz.title_at(tokens, i)
        if title_end is not None and title_end < n:
            person = _person_after_title(tokens, i, title_end, gz)
            if person:
                out.append(person)
                i = person.end
                continue
        if t.capitalised:
            person = _person_with_initial(tokens, i) or _known_surname(tokens, i, known)
            if person:
                out.append(person)
                i = person.end
                continue
        i += 1
    return out


def _text(tokens: Sequence[Token], i: int, j: int) -> str:
    return " ".join(t.text for t in tokens[i:j]).replace(" .", ".").replace(" - ", "-")


def _gazetteer_mention(tokens: Sequence[Token], i: int, end: int, p: _Phrase) -> Mention:
    e = p.entry
    text = " ".join(t.text for t in tokens[i:end])
    poss = tokens[end - 1].possessive
    if p.role == "seat":  # the state itself, acting or only a place as the sentence decides
        return Mention(e.key, e.name, "country", text, i, end, poss, country=e.key, seat=p.label)
    if p.role == "demonym":
        return Mention(e.key, e.name, "place", text, i, end, poss, country=e.key)
    if p.role == "place" or e.kind == "place":
        return Mention(e.key, e.name, "place", text, i, end, poss, country=e.country)
    return Mention(
        e.key,
        e.name,
        e.kind,
        text,
        i,
        end,
        poss,
        country=e.country if e.kind != "country" else e.key,
    )


def _widen(tokens: Sequence[Token], m: Mention, gz: Gazetteer) -> Mention:
    """A demonym or country followed by an actor noun is the country acting ("Russian forces")."""
    return _topic(tokens, _widen_actor(tokens, m, gz))


def _topic(tokens: Sequence[Token], m: Mention) -> Mention:
    """ "the Libya conflict", "One China policy", "two EU member states": a name that only
    qualifies the noun after it is not an actor there."""
    if (
        m.kind in ("country", "organisation")
        and not m.possessive
        and not m.actor_form
        and m.end < len(tokens)
        and tokens[m.end].lower in TOPIC_NOUNS
        and not tokens[m.end].capitalised
    ):
        return replace(m, modifier=True)
    return m


def _widen_actor(tokens: Sequence[Token], m: Mention, gz: Gazetteer) -> Mention:
    described = _described(tokens, m, gz)
    if described is not None:
        return described
    if m.country is None or m.kind not in ("place", "country") or m.possessive:
        return m
    if m.kind == "place" and m.key != m.country:  # a city
        return m
    j = m.end
    if (
        m.kind == "place"
        and j < len(tokens)
        and tokens[j].lower in AGENT_NOUNS
        and not tokens[j].capitalised
    ):
        # "the Russian missile attack", "Iranian drones": the demonym names who acts.
        e = gz.entries[m.country]
        return Mention(
            e.key,
            e.name,
            "country",
            f"{m.text} {tokens[j].text}",
            m.start,
            j + 1,
            tokens[j].possessive,
            actor_form=True,
            country=e.key,
        )
    if (
        j < len(tokens)
        and tokens[j].lower in ACTOR_NOUNS
        and not (j + 1 < len(tokens) and tokens[j + 1].capitalised and tokens[j].capitalised)
    ):
        e = gz.entries[m.country]
        if tokens[j].lower in ("president", "leaders"):
            return m  # "Libyan leaders", "the Libyan president": people, not the state
        text = f"{m.text} {tokens[j].text}"
        return Mention(
            e.key,
            e.name,
            "country",
            text,
            m.start,
            j + 1,
            tokens[j].possessive,
            actor_form=True,
            country=e.key,
        )
    # "the Government of Libya", "authorities of Libya"
    if (
        m.start >= 2
        and tokens[m.start - 1].lower == "of"
        and tokens[m.start - 2].lower
        in ("government", "authorities", "president", "leadership", "forces", "army", "military")
    ):
        if tokens[m.start - 2].lower == "president":
            return m
        e = gz.entries[m.country]
        text = f"{tokens[m.start - 2].text} of {m.text}"
        return Mention(
            e.key,
            e.name,
            "country",
            text,
            m.start - 2,
            m.end,
            m.possessive,
            actor_form=True,
            country=e.key,
        )
    return m


def _described(tokens: Sequence[Token], m: Mention, gz: Gazetteer) -> Mention | None:
    """ "the Burmese junta", "Burma's regime": the country's force or government so described."""
    j = m.end
    if (
        m.country is None
        or m.key != m.country  # a country or its demonym, not a city
        or m.modifier
        or j >= len(tokens)
        or tokens[j].capitalised
    ):
        return None
    found = [e for e in gz.descriptions.get(tokens[j].lower, ()) if e.country == m.country]
    if len(found) != 1:
        return None
    e = found[0]
    text = f"{m.text} {tokens[j].text}"
    return Mention(
        e.key, e.name, e.kind, text, m.start, j + 1, tokens[j].possessive, country=e.country
    )


_GENERIC_START = frozenset({"all", "both", "the"})


def _generic_at(tokens: Sequence[Token], i: int, gz: Gazetteer) -> Mention | None:
    """ "all parties", "both sides", "all Libyan parties": an appeal to all, not to one actor."""
    if tokens[i].lower not in ("all", "both", "the"):
        return None
    j = i + 1
    if j < len(tokens) and tokens[j].lower in (
        "relevant",
        "concerned",
        "warring",
        "conflict",
        "armed",
        "political",
        "other",
    ):
        j += 1
    elif j < len(tokens):
        hit = gz.match(tokens, j)
        if hit and hit[1].role == "demonym":
            j = hit[0]
    if j < len(tokens) and tokens[j].lower in GENERIC_HEADS:
        if tokens[i].lower == "the" and tokens[j].lower not in ("parties", "sides", "belligerents"):
            return None
        return Mention(
            "generic",
            "all parties",
            "generic",
            " ".join(t.text for t in tokens[i : j + 1]),
            i,
            j + 1,
        )
    return None


def _capitalised_run(tokens: Sequence[Token], i: int) -> int:
    """End of a run of capitalised words joined by "of", "for", "and", "on", "the", "&"."""
    j, last = i, i
    while j < len(tokens):
        t = tokens[j]
        if t.capitalised and t.text[:1].isalpha():
            j += 1
            last = j
            if t.possessive:
                break
        elif (
            t.lower in ("of", "for", "and", "on", "the", "&")
            and j + 1 < len(tokens)
            and tokens[j + 1].capitalised
            and j > i
        ):
            j += 1
        else:
            break
    return last


def _document_at(tokens: Sequence[Token], i: int) -> int | None:
    """End of a title of a law, report, treaty or event ("Country Reports on Human Rights
    Practices", "Commonwealth Games"): names that contain other names but judge no one."""
    if not tokens[i].capitalised or tokens[i].lower in STOPWORDS:
        return None
    j = _capitalised_run(tokens, i)
    caps = [t for t in tokens[i:j] if t.capitalised]
    if len(caps) >= 2 and caps[-1].lower in DOCUMENT_WORDS:
        return j
    return None


# Stopwords that can open an organisation's name: "Joint Operations Force", "Fact-Finding Mission".
_ORG_OPENERS = frozenset({"joint", "fact", "media", "press"})


def _organisation_at(tokens: Sequence[Token], i: int, gz: Gazetteer) -> Mention | None:
    """An unknown capitalised run with an organisation word: "Ministry of Foreign Affairs".

    The run stops before a title that follows a complete name ("Central Bank | Governor Saddek
    al-Kaber"), and a known organisation followed by more of a name is a body of its own ("UN
    Population Fund", "United Nations Support Mission for Libya"), not a known name and a
    fragment.
    """
    first = tokens[i]
    if not first.capitalised or (first.lower in STOPWORDS and first.lower not in _ORG_OPENERS):
        return None
    j = i
    words: list[Token] = []
    in_title = 0  # inside a title that is part of the name: "Office of the High Commissioner"
    while j < len(tokens):
        t = tokens[j]
        if t.capitalised and t.text[:1].isalpha():
            title_end = gz.title_at(tokens, j) if j >= in_title else None
            if title_end is not None:
                if _org_complete(words):
                    break
                in_title = title_end
            words.append(t)
            j += 1
            if t.possessive:
                break
        elif words and _joins_name(tokens, j):
            words.append(t)
            j += 1
        else:
            break
    while words and not words[-1].capitalised:
        words.pop()
        j -= 1
    caps = [w for w in words if w.capitalised]
    if len(caps) < 2 or not any(w.lower in ORG_WORDS for w in caps):
        return None
    if (
        caps[0].lower in ("government", "authorities")
        and len(caps) == 2
        and gz.match(tokens, j - 1)
    ):
        return None  # "the Government of Afghanistan" is the country acting (see _widen)
    # A known name at the start wins ("Libyan National Army", "UN Security Council"), unless
    # more of an organisation's name follows it.
    hit = gz.match(tokens, i)
    if hit and hit[0] >= j:
        return None
    if (
        hit
        and hit[1].entry.kind == "country"
        and j - hit[0] == 1
        and tokens[j - 1].lower in ACTOR_NOUNS
    ):
        return None  # "the U.S. Government", "Libyan Authorities": the country acting (_widen)
    if (
        hit
        and hit[1].role == "name"
        and hit[1].entry.kind != "country"
        and not (
            hit[1].entry.kind == "organisation"
            and any(t.capitalised and t.lower in ORG_WORDS for t in tokens[hit[0] : j])
        )
    ):
        return None
    name = " ".join(t.text for t in tokens[i:j])
    country = None
    if hit and hit[1].role in ("demonym", "name") and hit[1].entry.kind == "country":
        country = hit[1].entry.key
    return Mention(
        "o:" + fold(name),
        name,
        "organisation",
        name,
        i,
        j,
        tokens[j - 1].possessive,
        country=country,
    )


def _joins_name(tokens: Sequence[Token], j: int) -> bool:
    """Does the small word at ``j`` join two parts of a name ("Office of the High Commissioner")?"""
    if tokens[j].lower not in ("of", "for", "and", "on", "the", "&"):
        return False
    k = j + 1
    if k < len(tokens) and tokens[k].lower == "the" and tokens[j].lower in ("of", "for", "on"):
        k += 1
    return k < len(tokens) and tokens[k].capitalised and tokens[k].lower not in STOPWORDS


def _org_complete(words: Sequence[Token]) -> bool:
    """Do these words already name an organisation ("Central Bank", "Government of X")?"""
    caps = [w for w in words if w.capitalised]
    return len(caps) >= 2 and words[-1].capitalised and any(w.lower in ORG_WORDS for w in caps)


def _compound(tokens: Sequence[Token], m: Mention) -> Mention:
    """ "UN-facilitated", "Iran-backed", "Haftar-led": a name inside a compound adjective, never
    judged (the tokenizer split it into name, hyphen and participle)."""
    j = m.end
    if (
        j + 1 < len(tokens)
        and tokens[j].text == "-"
        and tokens[j].start == tokens[j - 1].end
        and tokens[j + 1].start == tokens[j].end
        and tokens[j + 1].text.islower()
    ):
        return replace(m, end=j + 2, modifier=True, possessive=tokens[j + 1].possessive)
    return m


_APPOSITION_PREPS = frozenset(
    "in near at outside around from of to into across toward towards inside".split()
)


def _apposition(tokens: Sequence[Token], m: Mention, before: Mention | None) -> Mention:
    """ "fighting near Gharyan, Libya": a country after a town names where the town is, not an
    actor, whether or not the gazetteer knows the town."""
    k = m.start - 1
    if m.kind != "country" or m.possessive or m.actor_form or k < 1 or tokens[k].text != ",":
        return m
    j = k
    while j > 0 and tokens[j - 1].capitalised and tokens[j - 1].lower not in STOPWORDS:
        j -= 1
    if j == k or (before is not None and before.end > j and before.kind != "place"):
        return m  # "Russia, China and Iran": a list of actors
    if j == 0 or tokens[j - 1].lower not in _APPOSITION_PREPS:
        return m
    return replace(m, kind="place")


_TITLE_WORDS = frozenset(
    {
        "speaker",
        "president",
        "secretary",
        "minister",
        "chair",
        "chairman",
        "ambassador",
        "envoy",
        "spokesperson",
        "spokesman",
        "commissioner",
        "director",
        "governor",
        "representative",
        "excellency",
        "majesty",
        "highness",
        "deputy",
        "general",
    }
)


def _name_end(tokens: Sequence[Token], j: int, limit: int = 4) -> int:
    """End of a personal name starting at ``j``: capitalised words, particles, initials."""
    k, words, initial = j, 0, False
    while k < len(tokens) and words < limit:
        t = tokens[k]
        if (
            t.capitalised
            and t.text[:1].isalpha()
            and t.lower not in STOPWORDS
            and t.lower not in ORG_WORDS
            and t.lower not in _TITLE_WORDS
            and t.lower not in DOCUMENT_WORDS
            # "Marine Le Pen", but not "Michael R. Pompeo Le ...": a capitalised particle
            # belongs to the name only before the rest of it.
            and not (
                words
                and t.lower in NAME_PARTICLES
                and not (k + 1 < len(tokens) and tokens[k + 1].capitalised)
            )
        ):
            words += 1
            k += 1
            if len(t.text) == 1 and k < len(tokens) and tokens[k].text == ".":
                k += 1  # an initial
                initial = True
            elif initial or t.possessive:
                break  # the surname after a middle initial ends the name
        elif (
            (t.lower in NAME_PARTICLES or re.match(r"^(?:al|el|bin|abu|abd)-\w", t.text))
            and words
            and k + 1 < len(tokens)
            and tokens[k + 1].capitalised
        ):
            k += 1
        elif re.match(r"^(?:al|el)-[A-Z]", t.text):
            words += 1
            k += 1
            if t.possessive:
                break
        else:
            break
    return k if words else j


def _person(
    tokens: Sequence[Token], title_start: int, name_start: int, end: int, gz: Gazetteer
) -> Mention:
    title = " ".join(t.text for t in tokens[title_start:name_start] if t.text != ".")
    name_tokens = [t for t in tokens[name_start:end] if t.text != "."]
    name = " ".join(t.text + ("." if len(t.text) == 1 else "") for t in name_tokens)
    text = " ".join(t.text for t in tokens[title_start:end] if t.text != ".")
    poss = tokens[end - 1].possessive
    # A known figure under another spelling or with a title: "Field Marshal Haftar".
    for k in range(name_start, end):
        hit = gz.match(tokens, k)
        if hit and hit[1].entry.kind == "person" and hit[0] == end:
            e = hit[1].entry
            return Mention(e.key, e.name, "person", text, title_start, end, poss, title=title)
    surname = name_tokens[-1].text
    return Mention("p:" + fold(surname), name, "person", text, title_start, end, poss, title=title)


def _person_after_title(
    tokens: Sequence[Token], i: int, title_end: int, gz: Gazetteer
) -> Mention | None:
    start = _title_complement(tokens, title_end, gz)
    end = _name_end(tokens, start)
    if end == start:
        return None
    hit = gz.match(tokens, start)
    if hit and hit[1].entry.kind != "person":
        return None  # "President of the United States", "Minister Russia..."
    return _person(tokens, i, start, end, gz)


def _title_complement(tokens: Sequence[Token], j: int, gz: Gazetteer) -> int:
    """Where the name starts after a title's complement: "Special Representative [of the
    Secretary-General] Ghassan Salamé", "Special Envoy [for Syria] Geir Pedersen"."""
    n = len(tokens)
    if j >= n or tokens[j].lower not in ("of", "for", "to", "on"):
        return j
    k = j + 1
    if k < n and tokens[k].lower == "the":
        k += 1
    if k >= n:
        return j
    title = gz.title_at(tokens, k)
    hit = gz.match(tokens, k)
    end = title if title is not None else hit[0] if hit and hit[1].entry.kind != "person" else None
    if end is None or end >= n or not tokens[end].capitalised:
        return j
    return end


def _person_with_initial(tokens: Sequence[Token], i: int) -> Mention | None:
    """ "Antony J. Blinken", "Michael R. Pompeo": a name with a middle initial is a person."""
    end = _name_end(tokens, i)
    inner = [t for t in tokens[i:end] if t.text != "."]
    if len(inner) < 3 or not any(len(t.text) == 1 for t in inner[1:-1]) or len(inner[-1].text) < 2:
        return None
    if tokens[i].lower in STOPWORDS:
        return None
    name = " ".join(t.text + ("." if len(t.text) == 1 else "") for t in inner)
    return Mention(
        "p:" + fold(inner[-1].text),
        name,
        "person",
        _text(tokens, i, end),
        i,
        end,
        tokens[end - 1].possessive,
    )


def _known_surname(tokens: Sequence[Token], i: int, known: Mapping[str, Mention]) -> Mention | None:
    m = known.get(tokens[i].lower)
    if m is None:
        return None
    return Mention(
        m.key, m.name, "person", tokens[i].text, i, i + 1, tokens[i].possessive, title=m.title
    )


def _anaphor(tokens: Sequence[Token], i: int, known: Mapping[str, Mention]) -> Mention | None:
    """ "the regime" -> the actor the text named as a regime."""
    if i + 1 >= len(tokens) or tokens[i].lower != "the":
        return None
    m = known.get("the " + tokens[i + 1].lower)
    if m is None or (i + 2 < len(tokens) and tokens[i + 2].capitalised):
        return None
    return replace(
        m,
        text=f"{tokens[i].text} {tokens[i + 1].text}",
        start=i,
        end=i + 2,
        possessive=tokens[i + 1].possessive,
        actor_form=m.actor_form,
        modifier=False,
    )


# "the regime", "the junta": a definite description that refers back to the one actor so named.
ANAPHORA_HEADS = frozenset({"regime", "junta", "militia", "kremlin"})


def surnames(mentions: Iterable[Mention]) -> dict[str, Mention]:
    """Back-references a text can make: surname -> person ("Pompeo" after "Secretary Michael R.
    Pompeo"), and ``the <head>`` -> the force or government whose name has that head ("the
    regime" after "the Burma military regime") when exactly one actor of the text has it."""
    out: dict[str, Mention] = {}
    heads: dict[str, set[str]] = {}
    first: dict[str, Mention] = {}
    for m in mentions:
        if m.kind == "person" and " " in m.name:
            last = m.name.split()[-1]
            if len(last) > 2:
                out.setdefault(canonical(last).casefold(), m)
        if m.kind in ("force", "government") or m.actor_form:
            for w in (canonical(m.text) + " " + canonical(m.name)).casefold().split():
                if w in ANAPHORA_HEADS:
                    heads.setdefault(w, set()).add(m.key)
                    first.setdefault(w, m)
    for w, keys in heads.items():
        if len(keys) == 1:
            out["the " + w] = first[w]
    return out


def described(
    mentions: Iterable[Mention], gz: Gazetteer, known: Mapping[str, Mention]
) -> dict[str, Mention]:
    """ "the junta" in a text about Burma: the one force or government of a country the text
    names that the gazetteer describes so, unless the text itself named a junta."""
    countries = {m.country for m in mentions if m.country}
    out: dict[str, Mention] = {}
    for word, entries in gz.descriptions.items():
        found = [e for e in entries if e.country in countries]
        if "the " + word not in known and len(found) == 1:
            e = found[0]
            out["the " + word] = Mention(e.key, e.name, e.kind, e.name, 0, 0, country=e.country)
    return out
