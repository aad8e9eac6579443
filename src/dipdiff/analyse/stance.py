"""What one statement says about each actor it names: signals attached to actors, and a stance.

A signal from the lexicon (:mod:`dipdiff.analyse.signals`) is attached to an actor only when the
sentence makes that actor its *target*, never its speaker:

* stance verbs and nouns ("oppose", "condemn", "urge", "support", "recognized") are said
  by their subject ("The United States", "we") about what follows them: the first actor
  after the signal in the same clause, unless a preposition makes it a victim or a place
  ("the attack *on* Tripoli", "concern *in* Libya");
* evaluations ("unacceptable", "aggression", "significant role") are about their
  possessor or the actor they are predicated of ("Haftar's significant role",
  "the attack by X was unacceptable", "aggression *by* X");
* demanded actions ("halt", "withdraw", "release", "must") are asked of the actor that is
  to act ("urge X to halt", "X must withdraw", "an end to X's offensive"); an action with no
  actor of its own continues the clause's critical signal ("we oppose X's offensive and
  urge the immediate halt ...");
* an appeal to "all parties" is an appeal to no one in particular;
* negation flips supportive and critical, and undoes a demand.

The speaker of the statement (the issuing country, from its URL or agency) is reported
but never judged. Countries that are only places ("fighting near Tripoli", "peace in
Libya") are places, not actors.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise

from dipdiff.analyse.entities import (
    ACTOR_KINDS,
    Gazetteer,
    Mention,
    Sentence,
    Token,
    default_gazetteer,
    described,
    find_mentions,
    fold,
    label_end,
    split_sentences,
    surnames,
    tokenize,
)
from dipdiff.analyse.language import ENGLISH, language_of
from dipdiff.analyse.lexicons import Grammar
from dipdiff.analyse.signals import Lexicon, Signal, SignalMatch, default_lexicon
from dipdiff.models import Statement

# The demanded actions themselves: asked of whoever is to act.
ACTIONS = frozenset(
    {
        "halt",
        "cease",
        "stop",
        "withdraw",
        "stand down",
        "pull back",
        "refrain",
        "release",
        "end",
        "lay down arms",
        "de-escalate",
        "must",
    }
)

# Evaluations: about their possessor or the actor they are said of.
EVALUATIONS = frozenset(
    {
        "outrageous",
        "despicable",
        "reprehensible",
        "unacceptable",
        "unprovoked",
        "aggression",
        "atrocity",
        "war crime",
        "crimes against humanity",
        "violation",
        "illegal",
        "illegitimate",
        "destabilizing",
        "malign",
        "provocation",
        "significant role",
        "legitimate",
        "accountability",
        "consequences",
        "shared vision",
        "partnership",
        "cooperation",
    }
)

# Context: the register of a statement, not a judgement of anyone.
CONTEXT_CATEGORIES = frozenset(
    {
        "restraint",
        "ceasefire",
        "humanitarian",
        "process",
        "sovereignty",
        "principle",
        "security",
        "modality",
        "warning",
    }
)

APPEALS = frozenset({"urge", "call on", "call upon", "call for", "appeal to", "encourage", "press"})

# What "demands something of the actor" means for divergence: the hard demands.
HARD_DEMAND_CATEGORY = "demand"

_DETERMINERS = frozenset(
    {
        "the",
        "a",
        "an",
        "this",
        "these",
        "those",
        "its",
        "their",
        "his",
        "her",
        "our",
        "any",
        "such",
        "recent",
        "continued",
        "ongoing",
        "latest",
        "military",
        "brutal",
    }
)

_PREPOSITIONS = frozenset(
    {
        "on",
        "against",
        "in",
        "near",
        "at",
        "into",
        "across",
        "throughout",
        "toward",
        "towards",
        "to",
        "inside",
        "within",
        "around",
        "from",
        "among",
        "with",
        "for",
        "of",
        "by",
        "about",
        "over",
        "regarding",
        "including",
        "between",
        "upon",
        "outside",
        "beyond",
        "through",
        "via",
        "under",
        "after",
        "during",
        "before",
        "since",
        "amid",
        "amidst",
        "despite",
        "following",
        "ahead",
        "like",
        "as",
        "than",
        "unlike",
        "behind",
        "along",
        "alongside",
        "concerning",
        "versus",
        "per",
        "until",
    }
)

# Prepositions after which an actor can be what a signal is about.
_TARGET_PREPS = {
    "critical": frozenset({"by", "of", "about", "over", "regarding", "including", "from"}),
    "supportive": frozenset({"for", "to", "with", "of", "toward", "towards"}),
    "neutral": frozenset({"including", "for", "to", "with", "of"}),
}

_REPORTING = frozenset(
    {
        "said",
        "says",
        "say",
        "stated",
        "states",
        "state",
        "believe",
        "believes",
        "believed",
        "think",
        "thinks",
        "consider",
        "considers",
        "considered",
        "noted",
        "notes",
        "note",
        "added",
        "stressed",
        "emphasized",
        "emphasised",
        "underscored",
        "reiterated",
        "reiterate",
        "reiterates",
        "affirmed",
        "highlighted",
        "agreed",
        "agree",
        "told",
        "announced",
        "declared",
        "discussed",
        "spoke",
        "that",
        "whether",
        "clear",
    }
)

_CLAUSE_CONJ = frozenset(
    {"but", "while", "whereas", "although", "though", "yet", "and", "which", "who"}
)

# Words after which a country named without a preposition is the subject of a clause.
_ACTS = frozenset(
    """is are was were has have had will would must should can could may continues continue
remains remain says said held holds met meets signed signs agreed agrees announced announces
launched launches attacked attacks invaded invades refused refuses rejected rejects joined joins
took takes made makes did does do seeks sought wants wanted""".split()
)

_THIRD_PARTY = frozenset({"its", "their", "his", "her"})

_POPULATION = frozenset(
    {
        "people",
        "peoples",
        "citizens",
        "population",
        "populations",
        "civilians",
        "residents",
        "children",
        "women",
        "families",
        "nationals",
        "refugees",
        "victims",
        "youth",
    }
)

# Words that make an action a demand: "X must withdraw", "X should halt", "X needs to release".
_MODALS = frozenset(
    {
        "must",
        "should",
        "needs",
        "need",
        "has",
        "have",
        "ought",
        "immediately",
        "immediate",
        "unconditional",
        "unconditionally",
    }
)

_DEMANDING = APPEALS | {"demand", "insist"}
_POSSESSIVE_END = re.compile(r"(?:[’']s|(?<=s)[’'])$")
_MAX_FORWARD = 8
_MAX_BACKWARD = 8


@dataclass(frozen=True)
class Attached:
    """A signal attached to one actor in one sentence."""

    signal: Signal
    text: str  # as written
    negated: bool
    sentence: int

    @property
    def polarity(self) -> str:
        p = self.signal.polarity
        if self.negated and p in ("supportive", "critical"):
            return "critical" if p == "supportive" else "supportive"
        return p

    @property
    def hard_demand(self) -> bool:
        return (
            self.signal.category == HARD_DEMAND_CATEGORY and self.signal.demand and not self.negated
        )

    @property
    def label(self) -> str:
        """The signal as its language writes it ("not condemn", "salue", "не поддерживает")."""
        return ("not " if self.negated else "") + (self.signal.native or self.signal.phrase)


@dataclass
class ActorInText:
    """One actor as one statement presents it: its names, sentences and attached signals."""

    key: str
    name: str
    kind: str
    keys: set[str] = field(default_factory=set)
    aliases: list[str] = field(default_factory=list)
    sentences: list[int] = field(default_factory=list)
    signals: list[Attached] = field(default_factory=list)
    acting: bool = False  # named as an actor (not only as a place)
    speaker: bool = False  # the issuer of the statement, never judged

    @property
    def stance(self) -> str:
        """``supportive``/``critical`` only when that side outweighs the other at least two to one;
        a mixed picture is ``neutral`` (its signals are still listed)."""
        sup = sum(1 for s in self.signals if s.polarity == "supportive")
        crit = sum(1 for s in self.signals if s.polarity == "critical")
        return stance_of(sup, crit)

    @property
    def demands(self) -> list[str]:
        return _unique(s.signal.phrase for s in self.signals if s.hard_demand)

    @property
    def signal_labels(self) -> list[str]:
        return _unique(s.label for s in self.signals)


def stance_of(supportive: int, critical: int) -> str:
    """The stance of so many supportive and critical signals: see :attr:`ActorInText.stance`."""
    if supportive and supportive >= 2 * critical:
        return "supportive"
    if critical and critical >= 2 * supportive:
        return "critical"
    return "neutral"


@dataclass(frozen=True)
class TextAnalysis:
    """Sentences, actors (with stances) and places of one statement."""

    sentences: tuple[Sentence, ...]
    actors: tuple[ActorInText, ...]
    places: tuple[str, ...]  # gazetteer keys of places and of countries named only as places
    speaker: str | None
    place_sentences: dict[str, list[int]] = field(
        default_factory=dict
    )  # place key -> sentence indices
    place_names: dict[str, str] = field(default_factory=dict)  # place key -> display name
    language: str = ENGLISH  # ISO 639-1, detected
    analysed: bool = True  # False: the lexicon has no phrases in this language; no stance judged

    def actor(self, key: str) -> ActorInText | None:
        for a in self.actors:
            if key in a.keys:
                return a
        return None


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


@dataclass
class _Sig:
    match: SignalMatch
    start: int  # token indices
    end: int
    role: str  # verb | action | evaluation | context
    targets: list[int] = field(default_factory=list)  # indices into the sentence's mentions
    reported: bool = False  # a third party's stance, reported ("Russia condemned ...")


def role_of(signal: Signal) -> str:
    if signal.phrase in ACTIONS:
        return "action"
    if signal.phrase in EVALUATIONS:
        return "evaluation"
    if signal.category in CONTEXT_CATEGORIES or signal.phrase == "all parties":
        return "context"
    return "verb"


def analyze(
    statement: Statement, *, lexicon: Lexicon | None = None, gazetteer: Gazetteer | None = None
) -> TextAnalysis:
    """Find the actors of ``statement`` and what it says about each of them."""
    lex = lexicon or default_lexicon()
    gz = gazetteer or default_gazetteer()
    speaker = gz.speaker(statement.url, statement.agency)
    language = language_of(statement)
    # Without phrases in its language, a text signals nothing we can read: its actors are "not
    # analysed", never neutral (a Bulgarian translation is not a divergence).
    own = lex.for_language(language)
    analysed = own is not None
    lex = own or lex
    glosses = lex.grammar.glosses
    sentences = split_sentences(statement.paragraphs)
    tokenized = [tokenize(s.text) for s in sentences]
    # Headings ("Freedom of Movement", "Basic Services") name no actor and state no position.
    first_pass = [
        [] if s.heading else find_mentions(toks, gz)
        for s, toks in zip(sentences, tokenized, strict=True)
    ]
    others = others_turns(statement.paragraphs)
    named = [m for ms in first_pass for m in ms]
    known = surnames(named)
    known |= described(named, gz, known)
    actors: dict[str, ActorInText] = {}
    parent: dict[str, str] = {}
    places: dict[str, list[int]] = {}
    place_names: dict[str, str] = {}

    def find(k: str) -> str:
        while parent.get(k, k) != k:
            k = parent[k]
        return k

    def union(x: str, y: str) -> None:
        rx, ry = find(x), find(y)
        if rx != ry:
            # The person is the actor; their forces are an alias.
            if actors[ry].kind == "person" and actors[rx].kind != "person":
                rx, ry = ry, rx
            parent[ry] = rx

    per_sentence: list[tuple[list[Mention], list[_Sig], list[bool]]] = []
    for sent, toks, found in zip(sentences, tokenized, first_pass, strict=True):
        # A second look only where a bare surname may refer back to a person named elsewhere.
        covered = {k for m in found for k in range(m.start, m.end)}
        again = any(
            k not in covered
            and (
                (t.capitalised and t.lower in known)
                or (t.lower == "the" and k + 1 < len(toks) and "the " + toks[k + 1].lower in known)
            )
            for k, t in enumerate(toks)
        )
        mentions = (
            [replace(m, text=sent.text[toks[m.start].start : toks[m.end - 1].end]) for m in found]
            if not again
            else find_mentions(toks, gz, known, sentence=sent.text)
        )
        if sent.label:  # "SECRETARY BLINKEN:", "Basic Services:" label the text; they name no actor
            mentions = [m for m in mentions if toks[m.start].start >= sent.label]
        sigs = (
            []
            if not analysed or sent.heading or sent.paragraph in others or _is_question(sent)
            else [
                s
                for s in _signals(lex, sent.text, toks)
                # "Rapid Support Forces" names a force; it does not support anyone.
                if not any(
                    m.start < s.end and s.start < m.end and m.kind != "generic" for m in mentions
                )
            ]
        )
        # The rules read English function words: another language's are read as the English
        # ones they stand for ("de" as "of", "contre" as "against").
        read = [t._replace(lower=glosses.get(t.lower, t.lower)) for t in toks] if glosses else toks
        acting = _attribute(
            read,
            mentions,
            sigs,
            _NO_SPEAKER
            if speaker is None
            else (
                lambda m: (
                    m.key == speaker
                    or (m.country == speaker and m.actor_form)
                    or gz.is_issuer_body(m.name, speaker)
                )
            ),
            lex.grammar,
        )
        per_sentence.append((mentions, sigs, acting))
        for m, is_acting in zip(mentions, acting, strict=True):
            if m.kind == "generic":
                continue
            if m.kind == "place" or (m.kind == "country" and not is_acting and not m.actor_form):
                for key, name in (
                    (m.key, m.name),
                    (m.country, gz.entries[m.country].name if m.country in gz.entries else None),
                    (fold(m.seat), m.seat),  # "talks in Moscow": Moscow is the place
                ):
                    if key and name:
                        places.setdefault(key, []).append(sent.index)
                        place_names.setdefault(key, name)
                if m.kind == "place" or m.modifier:
                    continue
            a = actors.get(m.key)
            if a is None:
                a = actors[m.key] = ActorInText(m.key, m.name, m.kind, {m.key})
                parent[m.key] = m.key
            alias = _POSSESSIVE_END.sub("", m.text) if m.possessive else m.text
            if alias not in a.aliases:
                a.aliases.append(alias)
            if sent.index not in a.sentences:
                a.sentences.append(sent.index)
            a.acting = a.acting or is_acting or m.actor_form or m.kind in ACTOR_KINDS - {"country"}
        for x, y in _ties(read, mentions):
            if x in actors and y in actors:
                union(x, y)

    # A force and its leader are one actor in every text, named or not ("the LNA" is Haftar's).
    for key in list(actors):
        leader = gz.leaders.get(key)
        if leader is not None:
            actors[key].keys.add(leader)
            if leader in actors:
                union(leader, key)

    for sent, (mentions, sigs, _) in zip(sentences, per_sentence, strict=True):
        for s in sigs:
            for t in dict.fromkeys(s.targets):
                m = mentions[t]
                if m.key in actors:
                    actors[m.key].signals.append(
                        Attached(s.match.signal, s.match.text, s.match.negated, sent.index)
                    )
                    actors[m.key].acting = True

    merged: dict[str, ActorInText] = {}
    for key, a in actors.items():
        root = find(key)
        if root == key:
            merged[key] = a
    for key, a in actors.items():
        root = find(key)
        if root != key:
            r = merged[root]
            r.keys |= a.keys
            r.aliases += [x for x in a.aliases if x not in r.aliases]
            r.sentences = sorted(set(r.sentences) | set(a.sentences))
            r.signals = sorted(r.signals + a.signals, key=lambda s: s.sentence)
            r.acting = r.acting or a.acting
    out = []
    for a in merged.values():
        if not a.acting:
            continue
        a.speaker = speaker is not None and (
            speaker in a.keys or gz.is_issuer_body(a.name, speaker)
        )
        a.sentences.sort()
        out.append(a)
    for a in out:
        places.pop(a.key, None) if a.kind == "country" else None
    return TextAnalysis(
        tuple(sentences),
        tuple(out),
        tuple(places),
        speaker,
        {k: sorted(set(v)) for k, v in places.items()},
        place_names,
        language,
        analysed,
    )


# A journalist's turn: "Q    Josh, ...", "QUESTION: ...", "Question: ..."; never "Qatar", "Q4".
_QUESTIONER = re.compile(
    r"^(?:(?:QUESTION|Q|AUDIENCE MEMBER|REPORTER|PARTICIPANT)(?:\s*:|\s|$)|Question:)"
)
_INTERPRETED = re.compile(
    r"^\(?\s*(?:as interpreted|through (?:an |the )?interpreter)", re.IGNORECASE
)


def _is_question(sent: Sentence) -> bool:
    return sent.text.rstrip("\"'”’)").endswith("?")


def others_turns(paragraphs: Sequence[str]) -> frozenset[int]:
    """The paragraphs of a transcript spoken by someone other than the statement's speaker.

    A turn starts with a speaker label ("MR. EARNEST:") or a journalist's "Q" and runs on
    through the paragraphs without a label. Journalists' turns are questions, not positions;
    a turn "(As interpreted.)" is a foreign guest's, not the issuer's.
    """
    out: set[int] = set()
    turn: str | None = None
    interpreted: set[str] = set()
    turns: list[str | None] = []
    for paragraph in paragraphs:
        text = " ".join(paragraph.split())
        label = label_end(text)
        if _QUESTIONER.match(text):
            turn = "Q"
        elif label:
            turn = text[: label - 1].strip()
            if _INTERPRETED.match(text[label:].strip()):
                interpreted.add(turn)
        turns.append(turn)
    for n, t in enumerate(turns):
        if t == "Q" or t in interpreted:
            out.add(n)
    return frozenset(out)


def _signals(lex: Lexicon, text: str, tokens: Sequence[Token]) -> list[_Sig]:
    out = []
    for m in lex.find(text):
        start = next((k for k, t in enumerate(tokens) if t.end > m.start), len(tokens))
        end = start
        while end < len(tokens) and tokens[end].start < m.end:
            end += 1
        out.append(_Sig(m, start, max(end, start + 1), role_of(m.signal)))
    return out


def _clauses(tokens: Sequence[Token]) -> list[int]:
    """Clause number of each token: ``;``, ``:``, dashes and ", but/while/and <lower-case>" start
    a new one."""
    out, n = [], 0
    for k, t in enumerate(tokens):
        if (
            t.text in (";", ":", "—", "–")
            or (t.text == "-" and k and tokens[k - 1].end < t.start)
            or (
                t.text == ","
                and k + 2 < len(tokens)
                and tokens[k + 1].lower in _CLAUSE_CONJ
                and not tokens[k + 2].capitalised
                and tokens[k + 2].lower != "including"
            )
        ):
            n += 1
        out.append(n)
    return out


def _targetable(m: Mention) -> bool:
    return not m.modifier and (m.kind in ACTOR_KINDS or m.actor_form)


def _NO_SPEAKER(_: Mention) -> bool:  # noqa: N802 - a sentinel: the statement's speaker is unknown
    return False


def _attribute(
    tokens: Sequence[Token],
    mentions: list[Mention],
    sigs: list[_Sig],
    is_speaker: Callable[[Mention], bool] = _NO_SPEAKER,
    grammar: Grammar | None = None,
) -> list[bool]:
    """Fill each signal's targets; returns, per mention, whether it is named as acting."""
    return _Attribution(tokens, mentions, sigs, is_speaker, grammar).run()


class _Attribution:
    """Who each signal of one sentence is about (see the module docstring for the rules)."""

    def __init__(
        self,
        tokens: Sequence[Token],
        mentions: list[Mention],
        sigs: list[_Sig],
        is_speaker: Callable[[Mention], bool],
        grammar: Grammar | None = None,
    ) -> None:
        self.tokens, self.mentions, self.sigs, self.is_speaker = tokens, mentions, sigs, is_speaker
        g = grammar or Grammar()
        self.verb_first, self.own_voice = g.verb_first, g.own_voice
        self.clause = _clauses(tokens)
        # Prepositions inside a stance verb ("call *on* X") belong to the verb, not to X.
        self.verb_tokens = frozenset(
            k for s in sigs if s.role == "verb" for k in range(s.start, s.end)
        )
        self.stops = [k for k, t in enumerate(tokens) if t.lower in _REPORTING]

    def clause_of(self, k: int) -> int:
        return self.clause[min(k, len(self.clause) - 1)] if self.clause else 0

    def governing(self, m: Mention, floor: int = 0) -> str | None:
        """The preposition that governs a mention ("by" in "the offensive by X"), None when direct.

        In "between China and Russia" the preposition governs both.
        """
        k = m.start - 1
        if k >= floor and self.tokens[k].lower in ("and", "or", ","):
            prev = next((p for p in self.mentions if p.end == k), None)
            if prev is not None:
                return self.governing(prev, floor)
        skipped = 0
        while k >= floor and skipped < 3 and self.tokens[k].lower in _DETERMINERS:
            k -= 1
            skipped += 1
        if k < floor or k in self.verb_tokens:
            return None
        w = self.tokens[k].lower
        return w if w in _PREPOSITIONS else None

    def population(self, m: Mention) -> bool:
        """ "the people of Russia", "Syrians": a population, not the state or its forces."""
        k = m.start
        return (
            k >= 2 and self.tokens[k - 1].lower == "of" and self.tokens[k - 2].lower in _POPULATION
        )

    def experiencer(self, m: Mention) -> bool:
        # "reaffirmed United States support for ...": a name that modifies a stance noun holds that
        # stance ("welcome Ukraine's commitment", "condemn Russia's support for ..." are about
        # them, not the speaker's stance on Ukraine or Russia).
        return not m.possessive and any(s.role == "verb" and s.start == m.end for s in self.sigs)

    def verb_between(
        self, lo: int, hi: int, roles: tuple[str, ...] = ("verb",), skip: _Sig | None = None
    ) -> bool:
        return any(o is not skip and o.role in roles and lo <= o.start < hi for o in self.sigs)

    def run(self) -> list[bool]:
        mentions, sigs = self.mentions, self.sigs
        acting = [m.actor_form for m in mentions]
        # Without a known speaker, "Mali supports ..." may be Mali speaking: nothing is "reported".
        speaker_known = self.is_speaker is not _NO_SPEAKER
        for s in sigs:
            c = self.clause_of(s.start)
            if s.role == "verb":
                # The subject: the nearest actors before the verb in its clause hold the stance.
                subject = self.subject(s, c) or self.subject_after(s, c)
                for k in subject:
                    if _targetable(mentions[k]) or mentions[k].kind == "country":
                        acting[k] = True
                # "Russia condemned Ukraine" in a US statement reports Russia's stance, not the
                # statement's. (Not so for people: the speaker's own officials are people too.)
                s.reported = (
                    speaker_known
                    and bool(subject)
                    and not any(self.is_speaker(mentions[k]) for k in subject)
                    and all(
                        mentions[k].kind in ("country", "government", "force", "organisation")
                        for k in subject
                    )
                )
                s.targets = [] if s.reported else self.forward(s, c, frozenset(subject))
            elif s.role == "evaluation":
                s.targets = self.evaluated(s, c)
            elif s.role == "action":
                s.targets = self.actor_of_action(s, c)
        self.inherit()
        for s in sigs:
            for t in s.targets:
                acting[t] = True
        # "Russia held talks", "Egypt has agreed": a country as the subject of a clause acts.
        tokens = self.tokens
        for k, m in enumerate(mentions):
            if (
                m.kind == "country"
                and not m.possessive
                and not m.modifier
                and m.end < len(tokens)
                and tokens[m.end].lower in _ACTS
                and self.governing(m) is None
            ):
                acting[k] = True
                j = k - 1
                while j >= 0 and [
                    t.lower for t in tokens[mentions[j].end : mentions[j + 1].start]
                ] in (["and"], [","]):
                    if mentions[j].kind == "country":
                        acting[j] = True
                    j -= 1
        return acting

    def subject(self, s: _Sig, c: int) -> list[int]:
        """The actors right before a verb ("The United States and Japan condemn"), nearest last."""
        out: list[int] = []
        for k in range(len(self.mentions) - 1, -1, -1):
            m = self.mentions[k]
            if m.end > s.start or self.clause_of(m.start) != c:
                continue
            if not out:
                if s.start - m.end > 5 or any(t.text in ",;" for t in self.tokens[m.end : s.start]):
                    break
            elif [t.lower for t in self.tokens[m.end : self.mentions[out[-1]].start]] not in (
                ["and"],
                [","],
                [",", "and"],
                ["and", "the"],
                [",", "the"],
                [",", "and", "the"],
            ):
                break
            out.append(k)
        return out

    def subject_after(self, s: _Sig, c: int) -> list[int]:
        """Where the verb comes first, the actors right after it are its subject ("تدين المملكة
        المتحدة ..."), unless the verb says who speaks ("ندعو", we call on)."""
        if not self.verb_first or self.tokens[s.start].lower in self.own_voice:
            return []
        for k, m in enumerate(self.mentions):
            if m.start >= s.end and self.clause_of(m.start) == c:
                return [k, *self.coordinated(k)] if m.start - s.end <= 1 else []
        return []

    def inherit(self) -> None:
        """An action with no actor of its own continues its clause's critical signal."""
        sigs = self.sigs
        for n, s in enumerate(sigs):
            if s.role != "action" or s.targets:
                continue
            c = self.clause_of(s.start)
            for prev in reversed(sigs[:n]):
                if self.clause_of(prev.start) != c:
                    break
                if (
                    prev.targets
                    and prev.match.signal.polarity == "critical"
                    and not prev.match.negated
                ):
                    s.targets = list(prev.targets)
                    break
            if s.targets:
                for prev in reversed(sigs[:n]):
                    if (
                        self.clause_of(prev.start) == c
                        and prev.match.signal.phrase in APPEALS
                        and not prev.targets
                    ):
                        prev.targets = list(s.targets)
                        break

    def forward(self, s: _Sig, c: int, subject: frozenset[int] = frozenset()) -> list[int]:
        """A stance verb is about the first actor after it in its clause, unless a preposition says
        otherwise."""
        signal = s.match.signal
        if s.start and (
            self.tokens[s.start - 1].possessive
            or (self.tokens[s.start - 1].lower in _THIRD_PARTY and not self.own(s, c))
        ):
            # "Tehran's support for the Houthis", "its condemnation of ...": someone else's stance
            return []
        appeal = signal.phrase in APPEALS
        allowed = _TARGET_PREPS["critical" if signal.category == "demand" else signal.polarity]
        if signal.category == "sanctions":
            allowed = allowed | {"on", "against"}
        passed_victim = False
        for k, m in enumerate(self.mentions):
            if m.start < s.end or self.clause_of(m.start) != c or m.modifier or k in subject:
                continue
            reach = _MAX_FORWARD + (6 if passed_victim else 0)
            if m.start - s.end > reach or self.verb_between(s.end, m.start, ("verb", "action"), s):
                break
            if m.kind == "generic":
                return []
            if self.experiencer(m):
                continue
            prep = self.governing(m, s.end)
            if self.population(m):
                return []
            if passed_victim:
                # "condemn the attack on a market in Sudan by the RSF": only the agent may follow.
                return [k, *self.coordinated(k)] if prep == "by" and _targetable(m) else []
            if _targetable(m) and (
                prep is None or (prep == "including" if appeal else prep in allowed)
            ):
                return [k, *self.coordinated(k)]
            if signal.polarity != "critical" or (
                signal.category == "concern" and prep in ("in", "at")
            ):
                return []  # the object is someone or somewhere else
            passed_victim = True
        return []

    def own(self, s: _Sig, c: int) -> bool:
        """ "The United States reaffirms its support": "its" is the speaker's when the speaker is
        the subject of the clause."""
        before = [m for m in self.mentions if m.end <= s.start and self.clause_of(m.start) == c]
        return bool(before) and self.is_speaker(before[-1]) and before[-1].start <= s.start - 3

    def coordinated(self, k: int) -> list[int]:
        """ "condemn X and Y": actors joined to the target by "and", "or" or commas."""
        out, mentions = [], self.mentions
        while k + 1 < len(mentions):
            gap = [t.lower for t in self.tokens[mentions[k].end : mentions[k + 1].start]]
            if (
                not gap
                or any(w not in ("and", "or", ",", "the") for w in gap)
                or not _targetable(mentions[k + 1])
            ):
                break
            out.append(k + 1)
            k += 1
        return out

    def evaluated(self, s: _Sig, c: int) -> list[int]:
        mentions = self.mentions
        if s.match.signal.category == "partnership":
            return self.partner(s, c)
        # "Haftar's significant role", "Russia's brutal and unprovoked aggression"
        for k in range(len(mentions) - 1, -1, -1):
            m = mentions[k]
            if m.end <= s.start and s.start - m.end <= 3 and m.possessive and _targetable(m):
                return [k]
        # "the attack by X was unacceptable"
        for k in range(len(mentions) - 1, -1, -1):
            m = mentions[k]
            if m.end > s.start or self.clause_of(m.start) != c:
                continue
            if (
                s.start - m.end > _MAX_BACKWARD
                or self.verb_between(m.end, s.start)
                or any(m.end <= x < s.start for x in self.stops)
                or m.kind == "generic"
            ):
                break
            if not _targetable(m):
                continue
            if self.governing(m) not in (None, "by"):
                continue
            return [k]
        # "aggression by X", "partnership with X"
        ok = {"by"} | ({"with"} if s.match.signal.category == "partnership" else set())
        for k, m in enumerate(mentions):
            if (
                m.start >= s.end
                and self.clause_of(m.start) == c
                and m.start - s.end <= 4
                and _targetable(m)
            ):
                return [k] if self.governing(m, s.end) in ok else []
        return []

    def partner(self, s: _Sig, c: int) -> list[int]:
        """ "our partnership with X", "cooperate with X".

        Not "its friendship with X": that is a third party's tie, not the speaker's.
        """
        before = self.tokens[s.start - 1] if s.start else None
        if before is not None and (
            before.possessive or before.lower in ("its", "their", "his", "her")
        ):
            return []
        if any(m.end == s.start for m in self.mentions):
            return []  # "China's partnership with ..."
        for k, m in enumerate(self.mentions):
            if (
                m.start >= s.end
                and self.clause_of(m.start) == c
                and m.start - s.end <= 4
                and _targetable(m)
            ):
                # "our allies, together with Russia": the allies are others, not Russia
                apart = any(t.text in ",;" for t in self.tokens[s.end : m.start])
                partner = self.governing(m, s.end) == "with" and not apart
                return [k, *self.coordinated(k)] if partner else []
        return []

    def demanded(self, s: _Sig, c: int) -> bool:
        """Is the action asked for ("urge X to halt", "X must withdraw"), not told ("X left")?"""
        if s.match.signal.phrase == "must":
            return True
        if any(
            o.match.signal.phrase in _DEMANDING
            and not o.match.negated
            and not o.reported
            and o.start < s.start
            and self.clause_of(o.start) == c
            for o in self.sigs
        ):
            return True
        return any(t.lower in _MODALS for t in self.tokens[max(0, s.start - 3) : s.start])

    def actor_of_action(self, s: _Sig, c: int) -> list[int]:
        if not self.demanded(s, c):
            return []
        mentions, tokens = self.mentions, self.tokens
        # "X ... must stop": a modal's subject may stand far back in its clause.
        reach = (
            _MAX_BACKWARD * 3
            if s.match.signal.phrase == "must"
            or any(t.lower in ("must", "should") for t in tokens[max(0, s.start - 2) : s.start])
            else _MAX_BACKWARD
        )
        # "urge X to halt", "X must withdraw": the actor before the action, up to the appeal verb.
        for k in range(len(mentions) - 1, -1, -1):
            m = mentions[k]
            if m.end > s.start or self.clause_of(m.start) != c:
                continue
            if s.start - m.end > reach or self.verb_between(m.end, s.start):
                break
            if m.kind == "generic":
                return []
            if not _targetable(m):
                continue
            if self.governing(m) not in (None, "including"):
                continue
            return [k]
        if s.match.signal.phrase == "release":
            return []  # what follows "release" is who is held, not who holds them
        # "a halt to Haftar's offensive", "the withdrawal of Russian forces"
        for k, m in enumerate(mentions):
            if m.start < s.end or self.clause_of(m.start) != c:
                continue
            if m.start - s.end > 6 or self.verb_between(s.end, m.start):
                break
            if not _targetable(m):
                continue
            armed = (
                m.possessive
                or m.actor_form
                or m.kind in ("force", "government")
                or tokens[m.end - 1].lower
                in ("forces", "troops", "fighters", "militia", "militias")
            )
            if self.governing(m, s.end) in (None, "of", "to", "by") and armed:
                return [k]
        return []


_LEAD_WORDS = (
    ("led", "by"),
    ("under",),
    ("commanded", "by"),
    ("headed", "by"),
    ("loyal", "to"),
    ("of",),
    ("under", "the", "command", "of"),
)

_HEAD_WORDS = frozenset({"commander", "leader", "head", "chief", "chairman"})


def _ties(tokens: Sequence[Token], mentions: Sequence[Mention]) -> list[tuple[str, str]]:
    """Pairs of actors that the text makes one: "Haftar's LNA", "the LNA, led by Haftar", "LNA
    commander Haftar"."""
    out = []
    for a, b in pairwise(mentions):
        gap = [t.lower for t in tokens[a.end : b.start] if t.text != ","]
        kinds = {a.kind, b.kind}
        if "person" not in kinds or not kinds & {"force", "government"}:
            # "Haftar-led forces" / "Haftar-led LNA"
            if (
                a.modifier
                and a.kind == "person"
                and tokens[a.end - 1].lower == "led"
                and b.kind == "force"
            ):
                out.append((a.key, b.key))
            continue
        person, group = (a, b) if a.kind == "person" else (b, a)
        if a is person and a.possessive and not gap:
            out.append((person.key, group.key))  # "Haftar's LNA"
        elif a is group and (
            tuple(gap) in _LEAD_WORDS or (len(gap) == 1 and gap[0] in _HEAD_WORDS)
        ):
            out.append((person.key, group.key))  # "the LNA, led by Haftar", "LNA commander Haftar"
        elif (
            a is person
            and gap
            and gap[0] in ("the", *_HEAD_WORDS)
            and any(w in _HEAD_WORDS for w in gap)
            and gap[-1] in ("of", "the")
            and len(gap) <= 4
        ):
            out.append((person.key, group.key))  # "Haftar, the commander of the LNA"
    return out
