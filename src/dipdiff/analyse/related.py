"""Finding what to compare across a whole store: related statements and divergent pairs.

Works on per-statement analyses, so a store of thousands of statements is never compared
pair by pair: candidates share an actor or place (found through an inverted index), are
ranked by how rare the shared names and terms are and by how close their dates are, and only
the best few per statement are compared. Pure: records in, ranked pairs out.

Time is a weight, not a cut: statements about one event can be weeks apart (a call readout
after the statement it contradicts), so a shared name counts less the farther apart the
dates are, and ``window`` only bounds the search (nothing farther apart is looked at).
"""

from __future__ import annotations

import heapq
import itertools
import math
import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Protocol, TypeVar

from dipdiff.analyse import crosslingual
from dipdiff.analyse.compare import ActorComparison, Comparison, compare, diverges
from dipdiff.analyse.entities import default_gazetteer
from dipdiff.analyse.stance import TextAnalysis, analyze
from dipdiff.models import Statement
from dipdiff.text import canonical


@dataclass(frozen=True)
class Record:
    """One statement to cross-check: its store ID, text and date (published, else first fetched),
    and what is read of its text when already known (a store keeps it), else read here."""

    id: str
    statement: Statement
    date: datetime | None
    version: int | None = None
    reading: Reading | None = field(default=None, compare=False, repr=False)

    @property
    def source(self) -> str:
        return self.id.split("/", 1)[0]


@dataclass(frozen=True)
class Reading:
    """What cross-checking reads of one text: its analysis and its content words (the longer
    words of the title and the opening, where a statement says what it is about)."""

    analysis: TextAnalysis
    terms: frozenset[str]
    # the figures of the title and opening: what a translation keeps when it shares no word
    numbers: frozenset[str] = frozenset()


def read(statement: Statement) -> Reading:
    """The costly part of cross-checking a statement, the same whatever it is compared with."""
    return Reading(analyze(statement), _terms(statement), _numbers(statement))


@dataclass(frozen=True)
class Related:
    """A statement related to another: same event by shared actors and places, within the window."""

    record: Record
    score: float
    shared: tuple[str, ...]  # display names of the shared actors and places
    days: float | None  # |date difference| in days


@dataclass(frozen=True)
class DivergentPair:
    """Two related statements of different sources that diverge about at least one actor."""

    a: Record
    b: Record
    comparison: Comparison
    related_score: float

    @property
    def score(self) -> float:
        return self.comparison.score

    @property
    def actors(self) -> tuple[ActorComparison, ...]:
        return self.comparison.divergent_actors


@dataclass
class _Profile:
    record: Record
    analysis: TextAnalysis
    names: dict[str, str] = field(default_factory=dict)  # key -> display name (actors and places)
    weights: dict[str, float] = field(
        default_factory=dict
    )  # key -> how much it says what the text is about
    actor_keys: set[str] = field(default_factory=set)
    terms: frozenset[str] = frozenset()  # content words, for rare shared terms
    numbers: frozenset[str] = frozenset()  # of the title and opening: what a translation keeps

    @property
    def source(self) -> str:
        return self.record.source


# A shared person or armed group says more about "the same event" than a shared country or place.
_KIND_WEIGHT = {"person": 1.5, "force": 1.5, "government": 1.0, "organisation": 1.0, "country": 1.0}
_PLACE_WEIGHT = 0.5
MIN_RELATED_SCORE = 1.0
_RARE_AT = math.log(11)  # names in at most a tenth of the statements count fully
# How far apart two statements of one event may be at most; within it, closeness is a weight.
DEFAULT_WINDOW = timedelta(days=60)
_HALF_WEIGHT_DAYS = 30.0  # a shared name counts half at 30 days apart, a fifth at 60
# Rare terms ("Gharyan", "ceasefire talks") add to a pair that already shares a name, never
# make one on their own: a word alone is too weak a sign of one event.
_TERM_WEIGHT = 0.1
_MAX_TERM_BONUS = 0.5
_RARE_TERM_SHARE = 0.005  # a term in at most 0.5% of the statements (at least 2) is rare
_MIN_TERM_LEN = 5
_TERM_WORDS = 400


def time_weight(days: float) -> float:
    """How much a shared name counts at ``days`` apart: 1 on the same day, 0.5 at 30 days."""
    return 1.0 / (1.0 + (days / _HALF_WEIGHT_DAYS) ** 2)


def _salience(sentences: Sequence[int], names: Iterable[str], title: str) -> float:
    """1 when a name is in the title or the first two sentences, 0.5 when repeated, else 0.25."""
    folded = canonical(title).casefold()
    if (sentences and min(sentences) <= 1) or any(
        n and canonical(n).casefold() in folded for n in names
    ):
        return 1.0
    return 0.5 if len(sentences) >= 2 else 0.25


def _profile(record: Record) -> _Profile:
    reading = record.reading or read(record.statement)
    analysis = reading.analysis
    p = _Profile(record, analysis)
    title = record.statement.title
    for a in analysis.actors:
        if a.speaker:
            continue
        w = _KIND_WEIGHT.get(a.kind, 1.0) * _salience(a.sentences, [a.name, *a.aliases], title)
        for k in a.keys:
            p.names[k] = a.name
            p.actor_keys.add(k)
            p.weights[k] = max(p.weights.get(k, 0.0), w)
    for k in analysis.places:
        if k != analysis.speaker and k not in p.names:
            name = analysis.place_names.get(k, k)
            p.names[k] = name
            p.weights[k] = _PLACE_WEIGHT * _salience(
                analysis.place_sentences.get(k, []), [name], title
            )
    p.terms = reading.terms
    p.numbers = reading.numbers
    # A list of twenty signatories says little about which event a statement is about.
    countries = [k for k in p.names if k in _COUNTRY_KEYS()]
    if len(countries) > _MAX_COUNTRIES:
        for k in countries:
            p.weights[k] *= _MAX_COUNTRIES / len(countries)
    return p


_MAX_COUNTRIES = 6
_TERM = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def _terms(statement: Statement) -> frozenset[str]:
    """The longer words of the title and the opening (bounded, so that a store of long
    reports does not hold every word of every text)."""
    text = canonical(" ".join((statement.title, *statement.paragraphs[:6]))).casefold()
    words = _TERM.findall(text)[:_TERM_WORDS]
    return frozenset(w for w in words if len(w) >= _MIN_TERM_LEN)


def _numbers(statement: Statement) -> frozenset[str]:
    text = " ".join((statement.title, *statement.paragraphs[:6]))
    return frozenset(n for n in crosslingual.numbers(text) if len(n) >= 2)


def translation_bonus(p: _Profile, q: _Profile, days: float | None) -> float:
    """How surely ``q`` is ``p`` in another language: the same names (and numbers) within days.

    Words cannot link a statement to its translation (no term is shared), so what it does share
    must: the actors and places it names, its figures and dates, on (nearly) the same day.
    """
    if p.analysis.language == q.analysis.language or days is None or days > _TRANSLATION_DAYS:
        return 0.0
    names = set(p.names) | set(q.names)
    if not names:
        return 0.0
    overlap = len(set(p.names) & set(q.names)) / len(names)
    figures = p.numbers | q.numbers
    if figures:
        overlap = (overlap + len(p.numbers & q.numbers) / len(figures)) / 2
    return _TRANSLATION_WEIGHT * overlap if overlap >= _TRANSLATION_OVERLAP else 0.0


_TRANSLATION_DAYS = 3.0
_TRANSLATION_OVERLAP = 0.6
_TRANSLATION_WEIGHT = 3.0


@lru_cache(maxsize=1)
def _COUNTRY_KEYS() -> frozenset[str]:  # noqa: N802 - a constant, computed once
    return frozenset(k for k, e in default_gazetteer().entries.items() if e.kind == "country")


def _threshold(best: list[float], limit: int | None) -> float:
    """The score a statement not yet scored must be able to reach to change the answer: the
    minimum, or, once ``limit`` were found, what still outranks the last of them. Scores are
    compared rounded to two decimals: a score below the last one's minus 0.006 rounds below it."""
    if limit and len(best) >= limit:
        return max(MIN_RELATED_SCORE, best[0] - 0.006)
    return MIN_RELATED_SCORE


class _Walk:
    """The statements that share a name with one statement, nearest in time first, skipping
    those that cannot matter (the "max-score" pruning of search engines).

    A shared name adds at most its rarity times this statement's weight for it, and the
    terms at most their cap; the sum is multiplied by the time weight, which only falls with
    distance. So, walking outwards in time, once the names that add least cannot together
    reach the threshold at the current distance, a statement that shares only those names
    cannot either: their postings are no longer walked, and once no name is left, nothing
    farther can. Every statement that can reach the threshold is scored in full, so the
    answer is the one scoring every candidate gives.
    """

    def __init__(
        self,
        t: float,
        window: float,
        names: list[tuple[float, list[tuple[float, int]]]],
        terms: float,
        translation: float = 0.0,
    ) -> None:
        """``names``: for each name, the most it can add and its postings (time, statement);
        ``terms``: the most the shared terms can add; ``translation``: the most a translation's
        bonus can add, within its days."""
        self.t = t
        self._translation = translation
        self._low, self._high = t - window, t + window
        names = sorted(names, key=lambda x: x[0])
        # _reach[j]: the most the names before j, with the terms, can add (before time weight)
        self._reach = list(itertools.accumulate((b for b, _ in names), initial=terms))
        self._posts = [post for _, post in names]
        self._left = []
        self._right = []
        for post in self._posts:
            i = bisect_left(post, (t, -1))
            self._left.append(i - 1)
            self._right.append(i)
        self._skip = 0  # the names before this one are no longer walked
        self._seen: set[int] = set()

    def next(self, threshold: float) -> int | None:
        """The nearest statement not yet given that may still reach ``threshold``."""
        while True:
            nearest = self._nearest()
            if nearest is None:
                return None
            gap, j, right = nearest
            weight = time_weight(gap / 86400) * (1 + 1e-9)  # a margin for rounding errors
            # within a translation's days its bonus may come on top (it only ends, walking out)
            extra = self._translation if gap <= _TRANSLATION_DAYS * 86400 else 0.0
            skip = self._skip
            while skip < len(self._posts) and (self._reach[skip + 1] + extra) * weight < threshold:
                skip += 1
            if skip > self._skip:
                self._skip = skip
                continue  # the nearest may be on a name no longer walked
            post = self._posts[j]
            if right:
                n = post[self._right[j]][1]
                self._right[j] += 1
            else:
                n = post[self._left[j]][1]
                self._left[j] -= 1
            if n not in self._seen:
                self._seen.add(n)
                return n

    def _nearest(self) -> tuple[float, int, bool] | None:
        """(distance, name, whether later) of the nearest entry still walked, within the window."""
        best: tuple[float, int, bool] | None = None
        t = self.t
        for j in range(self._skip, len(self._posts)):
            post = self._posts[j]
            i = self._left[j]
            # The window's bounds as the postings were always cut: t - window <= time <= t + window
            if i >= 0 and post[i][0] >= self._low:
                gap = t - post[i][0]
                if best is None or gap < best[0]:
                    best = (gap, j, False)
            i = self._right[j]
            if i < len(post) and post[i][0] <= self._high:
                gap = post[i][0] - t
                if best is None or gap < best[0]:
                    best = (gap, j, True)
        return best


class Index:
    """Per-statement analyses and an inverted index of actors and places, built once."""

    def __init__(self, records: Iterable[Record]) -> None:
        self.profiles = [_profile(r) for r in records]
        self.by_id = {p.record.id: p for p in self.profiles}
        self._sources = [p.source for p in self.profiles]
        self._languages = len({p.analysis.language for p in self.profiles})
        self._postings: dict[str, list[tuple[float, int]]] = defaultdict(list)
        for n, p in enumerate(self.profiles):
            t = p.record.date.timestamp() if p.record.date else math.inf
            for k in p.names:
                self._postings[k].append((t, n))
        for v in self._postings.values():
            v.sort()
        total = max(len(self.profiles), 50)  # a small store cannot tell rare names from common ones
        self._rarity = {
            k: min(1.0, math.log(1 + total / len(v)) / _RARE_AT) for k, v in self._postings.items()
        }
        counts: dict[str, int] = defaultdict(int)
        for p in self.profiles:
            for w in p.terms:
                counts[w] += 1
        most = max(2, int(_RARE_TERM_SHARE * total))
        self._rare_terms = frozenset(w for w, c in counts.items() if 2 <= c <= most)
        for p in self.profiles:
            p.terms = p.terms & self._rare_terms  # only the rare ones are ever looked at again

    def related(self, sid: str, window: timedelta, *, limit: int | None = None) -> list[Related]:
        """Statements of other sources about the same event, best first."""
        p = self.by_id[sid]
        return [r for _, r in self._related(p, window, limit)]

    def _related(
        self, p: _Profile, window: timedelta, limit: int | None
    ) -> list[tuple[int, Related]]:
        """The statements of other sources that score at least MIN_RELATED_SCORE with ``p``
        (the best ``limit`` of them), found without scoring every statement that shares a
        common name with ``p``: see :class:`_Walk`."""
        if p.record.date is None:
            return []
        walk = _Walk(
            p.record.date.timestamp(),
            window.total_seconds(),
            [(self._rarity[k] * p.weights[k], self._postings[k]) for k in p.names],
            min(_MAX_TERM_BONUS, _TERM_WEIGHT * len(p.terms)),
            # a translation may add its bonus within its days, in a store of several languages
            _TRANSLATION_WEIGHT if self._languages > 1 else 0.0,
        )
        out: list[tuple[int, Related]] = []
        best: list[float] = []  # with a limit: the best ``limit`` scores so far, a min-heap
        while (n := walk.next(_threshold(best, limit))) is not None:
            found = self._score(p, n, walk.t)
            if found is None:
                continue
            out.append((n, found))
            if limit:
                if len(best) < limit:
                    heapq.heappush(best, found.score)
                elif found.score > best[0]:
                    heapq.heapreplace(best, found.score)
        out.sort(
            key=lambda x: (
                -x[1].score,
                x[1].days if x[1].days is not None else math.inf,
                x[1].record.id,
            )
        )
        return out[:limit] if limit else out

    def _score(self, p: _Profile, n: int, t: float) -> Related | None:
        """How related statement ``n`` is to ``p`` (None: below MIN_RELATED_SCORE)."""
        q = self.profiles[n]
        # One source's own translation is its closest relative; its other statements are not
        # "another source on the same event".
        if q is p or (self._sources[n] == p.source and q.analysis.language == p.analysis.language):
            return None
        names = 0.0
        shared = []
        for k, name in p.names.items():
            if k in q.weights:
                names += self._rarity[k] * min(p.weights[k], q.weights[k])
                shared.append(name)
        if not shared:
            return None
        terms = min(_MAX_TERM_BONUS, _TERM_WEIGHT * len(p.terms & q.terms))
        days = abs(q.record.date.timestamp() - t) / 86400 if q.record.date else None
        s = (names + terms + translation_bonus(p, q, days)) * time_weight(days or 0.0)
        if s < MIN_RELATED_SCORE:
            return None
        return Related(q.record, round(s, 2), tuple(dict.fromkeys(shared)), days)

    def divergences(
        self,
        *,
        since: datetime | None = None,
        window: timedelta = DEFAULT_WINDOW,
        per_statement: int = 10,
        involving: Iterable[str] | None = None,
    ) -> list[DivergentPair]:
        """Each statement against its best related ones: divergent pairs, most divergent first."""
        wanted = set(involving) if involving is not None else None
        seen: set[tuple[str, str]] = set()
        out = []
        for p in self.profiles:
            if wanted is not None and p.record.id not in wanted:
                continue
            if since is not None and (p.record.date is None or p.record.date < since):
                continue
            for n, rel in self._related(p, window, per_statement):
                q = self.profiles[n]
                ids = (p.record.id, q.record.id)
                pair = ids if ids[0] <= ids[1] else (ids[1], ids[0])
                if pair in seen:
                    continue
                seen.add(pair)
                first, second = (
                    (p, q)
                    if (p.record.date, p.record.id) <= (q.record.date, q.record.id)
                    else (q, p)
                )
                if not diverges(first.analysis, second.analysis):
                    continue
                full = compare(
                    first.record.statement,
                    second.record.statement,
                    analyses=(first.analysis, second.analysis),
                    align=False,
                )
                out.append(DivergentPair(first.record, second.record, full, rel.score))
        out.sort(key=lambda d: (-d.score, -d.related_score, d.a.id, d.b.id))
        return out


def related(
    target: str,
    records: Iterable[Record],
    *,
    window: timedelta = DEFAULT_WINDOW,
    limit: int | None = None,
) -> list[Related]:
    """Statements in ``records`` from other sources that concern the same event as ``target``,
    and its translations (of any source)."""
    return Index(records).related(target, window, limit=limit)


def find_divergences(
    records: Iterable[Record],
    *,
    since: datetime | None = None,
    window: timedelta = DEFAULT_WINDOW,
    per_statement: int = 10,
    involving: Iterable[str] | None = None,
) -> list[DivergentPair]:
    """The divergent pairs among related statements of ``records``, most divergent first.

    ``since`` keeps pairs whose later-or-own statement is dated on or after it; ``involving``
    restricts to pairs that include one of these statement IDs (e.g. what a run changed).
    """
    wanted = set(involving) if involving is not None else None
    return Index(within_reach(records, since=since, window=window, involving=wanted)).divergences(
        since=since, window=window, per_statement=per_statement, involving=wanted
    )


class Dated(Protocol):
    """What :func:`within_reach` needs of a record: a :class:`Record`, or less (its text unread)."""

    @property
    def id(self) -> str: ...

    @property
    def date(self) -> datetime | None: ...


D = TypeVar("D", bound=Dated)


def within_reach(
    records: Iterable[D],
    *,
    since: datetime | None = None,
    window: timedelta = DEFAULT_WINDOW,
    involving: Iterable[str] | None = None,
    around: datetime | None = None,
) -> list[D]:
    """The records that can be part of a pair asked for, so that only they are analysed (and,
    over a store, only their texts read).

    A pair needs both dates within ``window``: with ``since``, nothing dated before
    ``since - window`` can take part; with ``involving``, nothing farther than ``window`` from
    an involved statement; with ``around``, nothing farther than ``window`` from that date.
    """
    records = list(records)
    if since is None and involving is None and around is None:
        return records
    wanted = set(involving) if involving is not None else None
    anchors = [
        r.date for r in records if wanted is not None and r.id in wanted and r.date is not None
    ]
    if around is not None:
        anchors.append(around)
    anchors.sort()
    out = []
    for r in records:
        if r.date is None:
            continue
        if since is not None and r.date < since - window:
            continue
        if (wanted is not None or around is not None) and r.id not in (wanted or ()):
            k = bisect_left(anchors, r.date)
            near = [anchors[j] for j in (k - 1, k) if 0 <= j < len(anchors)]
            if not any(abs(r.date - a) <= window for a in near):
                continue
        out.append(r)
    return out
