"""Cross-agency comparison: what two statements say, side by side, and where they diverge.

Pure: statements in, a :class:`Comparison` out. No I/O, no clock.

* **Shared wording**: each sentence of A is aligned with its counterpart in B (exact,
  near-identical, or a paraphrase with substantial word overlap), one-to-one, best pairs
  first; each pair carries its word-level changes from the diff engine.
* **Across languages** (a statement and its translation, two governments' readouts): sentences are
  aligned by the multilingual encoder (:mod:`dipdiff.analyse.crosslingual`), each pair with its
  score and the numbers and names it does not share; without the encoder nothing is aligned, and
  nothing is "only in" one text for want of it.
* **Only in A / only in B**: the sentences without a counterpart.
* **Actors and stances**: the actors of both texts (:mod:`dipdiff.analyse.stance`), matched across
  texts by identity (a gazetteer entry, a person's surname, an organisation's name) and by
  the ties each text makes ("Haftar's LNA"). An actor named in both texts is *divergent*
  when one text is supportive and the other critical, or when one text demands something
  of it (halt, withdraw, stand down, release) and the other names it without such a
  demand. An actor named in one text only is reported, never divergent; the speaker of a
  statement is never judged.

Finding what to compare across a whole store (:func:`related`, :func:`find_divergences`)
works on per-statement analyses, so a store of thousands of statements is never compared
pair by pair: candidates share an actor or place within a date window, are ranked by how
rare the shared names are, and only the best few per statement are compared.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any, Protocol, TypeVar

from dipdiff.analyse import crosslingual
from dipdiff.analyse.crosslingual import (
    MULTILINGUAL,
    UNAVAILABLE,
    Difference,
    Encode,
    encoder,
    sentence_names,
)
from dipdiff.analyse.diff import Change, Segment, diff_pair
from dipdiff.analyse.entities import Sentence
from dipdiff.analyse.language import ENGLISH, NOT_ANALYSED
from dipdiff.analyse.stance import ActorInText, TextAnalysis, analyze, stance_of
from dipdiff.models import Statement
from dipdiff.text import canonical

WORDS = "words"  # Comparison.alignment: one language, sentences aligned by their words
TRANSLATION = "translation"  # SharedSentence.match across languages
_NEAR = 0.8  # word similarity at or above which two sentences are "near-identical"
# word similarity, or content-word overlap, at or above which two sentences are counterparts
_PAIR = 0.5
_MIN_SHARED_CONTENT = 3  # a paraphrase shares at least this many content words
_WORD = re.compile(r"\w+(?:['\-]\w+)*")
_STOP = frozenset(
    """
a an the and or but of for to from in on at by with about as is are was were be been has have had
will would shall should can could may might must this that these those it its we our they their he
she his her not no all any also which who whom than then there here into over under more most such
""".split()
)


@dataclass(frozen=True)
class SharedSentence:
    a: str
    b: str
    similarity: float
    match: str  # exact | near | paraphrase | translation (across languages)
    changes: tuple[Change, ...]
    segments: tuple[Segment, ...]  # the redline a -> b
    a_index: int
    b_index: int
    # Across languages: the numbers and names the two sentences do not share
    differences: tuple[Difference, ...] = ()

    @property
    def translated(self) -> bool:
        """Aligned across languages (by the encoder, with a score, not a redline)."""
        return self.match == TRANSLATION


@dataclass(frozen=True)
class Side:
    """One actor as one text presents it."""

    stance: str  # supportive | critical | neutral | absent | not-analysed
    signals: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    demands: tuple[str, ...] = ()
    speaker: bool = False
    language: str = ENGLISH  # of the text this side is read from

    def to_json(self) -> dict[str, Any]:
        return {
            "stance": self.stance,
            "signals": list(self.signals),
            "evidence": list(self.evidence),
            "demands": list(self.demands),
            "speaker": self.speaker,
            "language": self.language,
        }


@dataclass(frozen=True)
class ActorComparison:
    name: str
    kind: str
    aliases: tuple[str, ...]
    a: Side
    b: Side
    divergent: bool
    reasons: tuple[str, ...] = ()

    @property
    def weight(self) -> float:
        """How strong the divergence is: opposite stances weigh more than a one-sided demand."""
        if not self.divergent:
            return 0.0
        w = 0.0
        if {self.a.stance, self.b.stance} == {"supportive", "critical"}:
            w += 2.0 + 0.25 * min(len(self.a.signals), len(self.b.signals), 4)
        if bool(self.a.demands) != bool(self.b.demands):
            w += 1.0
        return w

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "aliases": list(self.aliases),
            "a": self.a.to_json(),
            "b": self.b.to_json(),
            "divergent": self.divergent,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class Comparison:
    a: Statement
    b: Statement
    similarity: float
    shared: tuple[SharedSentence, ...]
    only_a: tuple[str, ...]
    only_b: tuple[str, ...]
    actors: tuple[ActorComparison, ...]
    languages: tuple[str, str] = (ENGLISH, ENGLISH)  # of A and B, detected
    analysed: tuple[bool, bool] = (True, True)  # whether stances were judged in A and in B
    # How sentences were aligned: "words" (one language), "multilingual" (the encoder), or
    # "unavailable" (two languages, no encoder installed: nothing aligned, nothing "only in")
    alignment: str = WORDS

    @property
    def divergent(self) -> bool:
        return any(x.divergent for x in self.actors)

    @property
    def divergent_actors(self) -> tuple[ActorComparison, ...]:
        return tuple(x for x in self.actors if x.divergent)

    @property
    def score(self) -> float:
        """How divergent the pair is (0 when not divergent); ranks ``dipdiff divergences``."""
        return round(sum(x.weight for x in self.actors), 2)


def compare(
    a: Statement,
    b: Statement,
    *,
    analyses: tuple[TextAnalysis, TextAnalysis] | None = None,
    align: bool = True,
) -> Comparison:
    """Compare two statements: shared wording, what only one says, actors and their stances.

    ``analyses`` reuses :func:`dipdiff.analyse.stance.analyze` results; ``align=False`` skips the
    sentence alignment (for scanning many pairs for divergences only).
    """
    ta, tb = analyses or (analyze(a), analyze(b))
    shared: Sequence[SharedSentence] = ()
    only_a: Sequence[str] = ()
    only_b: Sequence[str] = ()
    sim = 0.0
    method = WORDS
    if align and ta.language != tb.language:
        encode = encoder()
        method = UNAVAILABLE if encode is None else MULTILINGUAL
        if encode is not None:
            shared, only_a, only_b = align_languages(ta, tb, encode)
            sim = shared_share(shared, ta.sentences, tb.sentences)
    elif align:
        shared, only_a, only_b = align_sentences(ta.sentences, tb.sentences)
        sim = shared_share(shared, ta.sentences, tb.sentences)
    return Comparison(
        a,
        b,
        sim,
        tuple(shared),
        tuple(only_a),
        tuple(only_b),
        compare_actors(ta, tb),
        (ta.language, tb.language),
        (ta.analysed, tb.analysed),
        method,
    )


def align_languages(
    ta: TextAnalysis, tb: TextAnalysis, encode: Encode
) -> tuple[list[SharedSentence], list[str], list[str]]:
    """Sentences of texts in two languages aligned by the multilingual encoder, each pair with the
    numbers and names it does not share; the rest are only in A or only in B."""
    sa, sb = ta.sentences, tb.sentences
    pairs = crosslingual.align([s.text for s in sa], [s.text for s in sb], encode)
    names = (sentence_names(ta), sentence_names(tb))
    shared = [
        SharedSentence(
            sa[p.a_index].text,
            sb[p.b_index].text,
            p.score,
            TRANSLATION,
            (),
            (),
            p.a_index,
            p.b_index,
            crosslingual.differences(p.a_index, p.b_index, ta, tb, names),
        )
        for p in pairs
    ]
    used_a = {p.a_index for p in pairs}
    used_b = {p.b_index for p in pairs}
    only_a = [s.text for i, s in enumerate(sa) if i not in used_a]
    only_b = [s.text for j, s in enumerate(sb) if j not in used_b]
    return shared, only_a, only_b


def shared_share(
    shared: Sequence[SharedSentence], sa: Sequence[Sentence], sb: Sequence[Sentence]
) -> float:
    """Share of both texts' words in aligned sentences, weighted by each pair's similarity."""
    total = sum(len(_words(s.text)) for s in sa) + sum(len(_words(s.text)) for s in sb)
    if not total:
        return 1.0
    common = sum(p.similarity * (len(_words(p.a)) + len(_words(p.b))) for p in shared)
    return round(common / total, 4)


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(canonical(text))]


def align_sentences(
    sa: Sequence[Sentence], sb: Sequence[Sentence]
) -> tuple[list[SharedSentence], list[str], list[str]]:
    """One-to-one alignment of sentences, best pairs first; the rest are only in A or only in B."""
    wa = [_words(s.text) for s in sa]
    wb = [_words(s.text) for s in sb]
    ca = [{w for w in ws if w not in _STOP and len(w) > 2} for ws in wa]
    cb = [{w for w in ws if w not in _STOP and len(w) > 2} for ws in wb]
    index: dict[str, list[int]] = defaultdict(list)
    for j, content in enumerate(cb):
        for w in content:
            index[w].append(j)
    exact_b: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for j, ws in enumerate(wb):
        exact_b[tuple(ws)].append(j)
    candidates: list[tuple[float, int, int, float, str]] = []
    for i, ws in enumerate(wa):
        if not ws:
            continue
        candidates.extend((2.0, i, j, 1.0, "exact") for j in exact_b.get(tuple(ws), ()))
        shared: dict[int, int] = defaultdict(int)
        for w in ca[i]:
            for j in index.get(w, ()):
                shared[j] += 1
        for j, n in shared.items():
            if ws == wb[j]:
                continue
            dice = 2 * n / (len(ca[i]) + len(cb[j]))
            if dice < 0.3:
                continue
            ratio = SequenceMatcher(None, ws, wb[j], autojunk=False).ratio()
            if ratio >= _NEAR:
                candidates.append((1.0 + ratio, i, j, ratio, "near"))
            elif ratio >= _PAIR or (dice >= _PAIR and n >= _MIN_SHARED_CONTENT):
                candidates.append((max(ratio, dice), i, j, ratio, "paraphrase"))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_a: set[int] = set()
    used_b: set[int] = set()
    pairs = []
    for _, i, j, ratio, kind in candidates:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        x, y = sa[i].text, sb[j].text
        if x != y:
            found, segments = diff_pair(x, y)
            changes = tuple(found)
        else:
            changes, segments = (), (Segment("equal", y),)
        pairs.append(SharedSentence(x, y, round(ratio, 4), kind, changes, segments, i, j))
    pairs.sort(key=lambda p: (p.a_index, p.b_index))
    only_a = [s.text for i, s in enumerate(sa) if i not in used_a]
    only_b = [s.text for j, s in enumerate(sb) if j not in used_b]
    return pairs, only_a, only_b


def _side(actor: ActorInText | None, text: TextAnalysis) -> Side:
    if not text.analysed:
        # Absent too is unknown: a name may be written otherwise in another language.
        evidence = tuple(text.sentences[k].text for k in actor.sentences) if actor else ()
        return Side(NOT_ANALYSED, evidence=evidence, language=text.language)
    if actor is None:
        return Side("absent", language=text.language)
    return Side(
        actor.stance,
        tuple(actor.signal_labels),
        tuple(text.sentences[k].text for k in actor.sentences),
        tuple(actor.demands),
        actor.speaker,
        text.language,
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    """What deciding a divergence reads of one actor of one text: how it is named (to match it
    across texts), how many supportive and critical signals it has, its demands and whether
    it is the speaker. Small and hashable, so that a store's statements, which name the same
    actors the same way, share them: ``divergences`` holds one set per statement."""

    key: str
    name: str
    kind: str
    keys: frozenset[str]
    supportive: int
    critical: int
    demands: tuple[str, ...]
    speaker: bool

    @property
    def stance(self) -> str:
        return stance_of(self.supportive, self.critical)


@dataclass(frozen=True, slots=True)
class Verdicts:
    """The :class:`Verdict` of every actor of one text, and whether its stances were judged."""

    actors: tuple[Verdict, ...]
    analysed: bool


def verdicts(text: TextAnalysis) -> Verdicts:
    """What :func:`diverges` reads of an analysis."""
    return Verdicts(
        tuple(
            Verdict(
                a.key,
                a.name,
                a.kind,
                frozenset(a.keys),
                sum(1 for s in a.signals if s.polarity == "supportive"),
                sum(1 for s in a.signals if s.polarity == "critical"),
                tuple(a.demands),
                a.speaker,
            )
            for a in text.actors
        ),
        text.analysed,
    )


def diverges(ta: TextAnalysis | Verdicts, tb: TextAnalysis | Verdicts) -> bool:
    """Whether :func:`compare_actors` would find a divergent actor, at a fraction of its cost
    (no evidence or signal labels gathered): ``divergences`` asks it of every candidate pair,
    and most pairs do not diverge. Reads only the texts' :func:`verdicts`."""
    va = ta if isinstance(ta, Verdicts) else verdicts(ta)
    vb = tb if isinstance(tb, Verdicts) else verdicts(tb)
    for group_a, group_b in _match_actors(va.actors, vb.actors):
        side_a = _verdict_side(_combine_verdicts(group_a), va.analysed)
        side_b = _verdict_side(_combine_verdicts(group_b), vb.analysed)
        if divergence_reasons(side_a, side_b):
            return True
    return False


def _combine_verdicts(group: list[Verdict]) -> Verdict | None:
    """The verdict of one actor named several ways in one text: what :func:`_combine` gives."""
    if len(group) <= 1:
        return group[0] if group else None
    first = group[0]
    return Verdict(
        first.key,
        first.name,
        first.kind,
        frozenset().union(*(g.keys for g in group)),
        sum(g.supportive for g in group),
        sum(g.critical for g in group),
        tuple(dict.fromkeys(d for g in group for d in g.demands)),
        any(g.speaker for g in group),
    )


def _verdict_side(actor: Verdict | None, analysed: bool) -> Side:
    """What :func:`divergence_reasons` reads of :func:`_side`: the stance, demands, speaker."""
    if not analysed:
        return Side(NOT_ANALYSED)
    if actor is None:
        return Side("absent")
    return Side(actor.stance, demands=actor.demands, speaker=actor.speaker)


def compare_actors(ta: TextAnalysis, tb: TextAnalysis) -> tuple[ActorComparison, ...]:
    """Match the actors of two texts and decide, for each, whether the texts diverge."""
    groups = _match_actors(ta.actors, tb.actors)
    out = []
    for group_a, group_b in groups:
        a = _combine(group_a)
        b = _combine(group_b)
        side_a, side_b = _side(a, ta), _side(b, tb)
        reasons = divergence_reasons(side_a, side_b)
        main = group_a + group_b
        name, kind = _display(main)
        aliases = []
        for x in main:
            for al in x.aliases:
                if al not in aliases and al != name:
                    aliases.append(al)
        out.append(
            ActorComparison(
                name, kind, tuple(aliases), side_a, side_b, bool(reasons), tuple(reasons)
            )
        )
    order = {"person": 0, "force": 1, "government": 2, "organisation": 3, "country": 4}
    out.sort(
        key=lambda x: (
            not x.divergent,
            x.a.stance in ("absent", NOT_ANALYSED) or x.b.stance in ("absent", NOT_ANALYSED),
            order.get(x.kind, 5),
            x.name.casefold(),
        )
    )
    return tuple(out)


def divergence_reasons(a: Side, b: Side) -> list[str]:
    """Why two sides diverge about one actor; empty when they do not.

    A one-sided demand is a divergence when the other text names the actor without
    pressing it: its stance is neutral or supportive. Two texts that both criticise an
    actor, one of them adding a demand, differ in degree, not in direction.
    """
    if {a.stance, b.stance} & {"absent", NOT_ANALYSED} or a.speaker or b.speaker:
        return []
    reasons = []
    if {a.stance, b.stance} == {"supportive", "critical"}:
        reasons.append(f"A is {a.stance}, B is {b.stance}")
    for x, y, xn, yn in ((a, b, "A", "B"), (b, a, "B", "A")):
        if x.demands and not y.demands and y.stance in ("neutral", "supportive"):
            reasons.append(
                f"{xn} demands ({', '.join(x.demands)}); {yn} names the actor without such a demand"
            )
    return reasons


def _combine(group: list[ActorInText]) -> ActorInText | None:
    if not group:
        return None
    if len(group) == 1:
        return group[0]
    first = group[0]
    merged = ActorInText(first.key, first.name, first.kind, set().union(*(g.keys for g in group)))
    for g in group:
        merged.aliases += [x for x in g.aliases if x not in merged.aliases]
        merged.sentences = sorted(set(merged.sentences) | set(g.sentences))
        merged.signals += g.signals
        merged.speaker = merged.speaker or g.speaker
        merged.acting = True
    return merged


def _display(actors: Sequence[ActorInText]) -> tuple[str, str]:
    people = [x for x in actors if x.kind == "person"]
    pool = people or list(actors)
    best = max(pool, key=lambda x: (not x.key.startswith(("p:", "o:")), len(x.name)))
    return best.name, best.kind


class _Named(Protocol):
    """How an actor is named in a text: what matching it across texts reads."""

    @property
    def key(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def keys(self) -> AbstractSet[str]: ...


N = TypeVar("N", bound=_Named)


def _match_actors(xs: Sequence[N], ys: Sequence[N]) -> list[tuple[list[N], list[N]]]:
    """Group the actors of two texts: one group per real-world actor (union over shared keys)."""
    nodes = [("a", n) for n in range(len(xs))] + [("b", n) for n in range(len(ys))]
    parent = list(range(len(nodes)))

    def find(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    owner: dict[str, int] = {}
    for k, (side, n) in enumerate(nodes):
        actor = xs[n] if side == "a" else ys[n]
        for key in actor.keys:
            if key in owner:
                parent[find(k)] = find(owner[key])
            else:
                owner[key] = k
    # "Prime Minister Abiy" and "Prime Minister Abiy Ahmed": a name inside another is one person.
    for i, x in enumerate(xs):
        for j, y in enumerate(ys):
            if x.kind == y.kind == "person" and (x.key.startswith("p:") or y.key.startswith("p:")):
                nx, ny = _name_words(x.name), _name_words(y.name)
                if nx and ny and (nx <= ny or ny <= nx):
                    parent[find(len(xs) + j)] = find(i)
    groups: dict[int, tuple[list[N], list[N]]] = {}
    for k, (side, n) in enumerate(nodes):
        g = groups.setdefault(find(k), ([], []))
        (g[0] if side == "a" else g[1]).append(xs[n] if side == "a" else ys[n])
    return list(groups.values())


@lru_cache(maxsize=4096)  # every person of one text against every person of the other
def _name_words(name: str) -> frozenset[str]:
    return frozenset(w for w in _words(name) if len(w) > 2)
