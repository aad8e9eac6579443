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
import sys
from array import array
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol, TypeAlias, TypeVar, cast

from dipdiff.analyse.compare import (
    ActorComparison,
    Comparison,
    Verdicts,
    compare,
    diverges,
    verdicts,
)
from dipdiff.analyse.entities import default_gazetteer
from dipdiff.analyse.reading import Brief, Reading, read
from dipdiff.models import Statement
from dipdiff.text import canonical


@dataclass(frozen=True)
class Record:
    """One statement to cross-check: its store ID, text and date (published, else first fetched),
    and what is read of its text when already known (a store keeps it), else read here (a
    brief is enough for an :class:`Index` that can read the record again)."""

    id: str
    statement: Statement
    date: datetime | None
    version: int | None = None
    reading: Reading | Brief | None = field(default=None, compare=False, repr=False)

    @property
    def source(self) -> str:
        return self.id.split("/", 1)[0]

    @property
    def title(self) -> str:
        return self.statement.title


@dataclass(frozen=True)
class Known:
    """A stored version known by the brief of its reading and its title alone, its text
    unread: all that an :class:`Index` that can read it again (``reread``) needs to rank it."""

    id: str
    title: str
    date: datetime | None
    version: int | None
    reading: Brief


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


class Dated(Protocol):
    """What :func:`within_reach` needs of a record: a :class:`Record`, or less (its text unread)."""

    @property
    def id(self) -> str: ...

    @property
    def date(self) -> datetime | None: ...


class Stored(Dated, Protocol):
    """A statement's version in a store, its text unread: what :data:`Reread` is given."""

    @property
    def version(self) -> int | None: ...


#: The record of a stored version, read again (its text, and what was read of it): an
#: :class:`Index` given one keeps no text, and asks for the few that it compares in full or
#: returns.
Reread = Callable[[Stored], Record]


@dataclass(slots=True)
class _Profile:
    """What ranking candidates and the quick verdict read of one statement: a few hundred
    bytes, where its text and analysis take tens of kilobytes."""

    id: str
    date: datetime | None
    version: int | None
    language: str
    # key -> how much it says what the text is about (actors and places), and each key's
    # display name, in the same order
    weights: dict[str, float]
    names: tuple[str, ...]
    terms: frozenset[str]  # the rare ones of its content words
    numbers: tuple[str, ...]  # of the title and opening: what a translation keeps
    verdicts: Verdicts

    @property
    def source(self) -> str:
        return self.id.split("/", 1)[0]


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


class _Shared:
    """One copy of what many statements' profiles hold alike (names, weights, verdicts): a
    year of statements names the same actors, the same way, again and again."""

    def __init__(self) -> None:
        self._objects: dict[Any, Any] = {}

    def __call__(self, x: H) -> H:
        return cast("H", self._objects.setdefault(x, x))

    def text(self, s: str) -> str:
        return sys.intern(s)


H = TypeVar("H", bound=Hashable)


def _profile(record: Record | Known, reading: Reading | Brief, shared: _Shared) -> _Profile:
    analysis = reading.analysis
    names: dict[str, str] = {}
    weights: dict[str, float] = {}
    title = record.title
    for a in analysis.actors:
        if a.speaker:
            continue
        w = _KIND_WEIGHT.get(a.kind, 1.0) * _salience(a.sentences, [a.name, *a.aliases], title)
        for k in a.keys:
            names[k] = a.name
            weights[k] = max(weights.get(k, 0.0), w)
    for k in analysis.places:
        if k != analysis.speaker and k not in names:
            name = analysis.place_names.get(k, k)
            names[k] = name
            weights[k] = _PLACE_WEIGHT * _salience(
                analysis.place_sentences.get(k, []), [name], title
            )
    # A list of twenty signatories says little about which event a statement is about.
    countries = [k for k in names if k in _COUNTRY_KEYS()]
    if len(countries) > _MAX_COUNTRIES:
        for k in countries:
            weights[k] *= _MAX_COUNTRIES / len(countries)
    return _Profile(
        record.id,
        record.date,
        record.version,
        shared.text(analysis.language),
        {shared.text(k): shared(w) for k, w in weights.items()},
        shared(tuple(shared.text(n) for n in names.values())),
        frozenset(),  # the index sets the rare ones, once it knows them
        tuple(map(shared.text, sorted(reading.numbers))),
        shared(Verdicts(tuple(map(shared, verdicts(analysis).actors)), analysis.analysed)),
    )


_MAX_COUNTRIES = 6


def translation_bonus(p: _Profile, q: _Profile, days: float | None) -> float:
    """How surely ``q`` is ``p`` in another language: the same names (and numbers) within days.

    Words cannot link a statement to its translation (no term is shared), so what it does share
    must: the actors and places it names, its figures and dates, on (nearly) the same day.
    """
    if p.language == q.language or days is None or days > _TRANSLATION_DAYS:
        return 0.0
    names = set(p.weights) | set(q.weights)
    if not names:
        return 0.0
    overlap = len(set(p.weights) & set(q.weights)) / len(names)
    figures = set(p.numbers) | set(q.numbers)
    if figures:
        overlap = (overlap + len(set(p.numbers) & set(q.numbers)) / len(figures)) / 2
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


#: The statements that name one key: their times (ascending) and their numbers in the index.
Posting: TypeAlias = "tuple[array[float], array[int]]"


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
        names: list[tuple[float, Posting]],
        terms: float,
        translation: float = 0.0,
    ) -> None:
        """``names``: for each name, the most it can add and its postings;
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
        for times, _ in self._posts:
            i = bisect_left(times, t)
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
            ids = self._posts[j][1]
            if right:
                n = ids[self._right[j]]
                self._right[j] += 1
            else:
                n = ids[self._left[j]]
                self._left[j] -= 1
            if n not in self._seen:
                self._seen.add(n)
                return n

    def _nearest(self) -> tuple[float, int, bool] | None:
        """(distance, name, whether later) of the nearest entry still walked, within the window."""
        best: tuple[float, int, bool] | None = None
        t = self.t
        for j in range(self._skip, len(self._posts)):
            times = self._posts[j][0]
            i = self._left[j]
            # The window's bounds as the postings were always cut: t - window <= time <= t + window
            if i >= 0 and times[i] >= self._low:
                gap = t - times[i]
                if best is None or gap < best[0]:
                    best = (gap, j, False)
            i = self._right[j]
            if i < len(times) and times[i] <= self._high:
                gap = times[i] - t
                if best is None or gap < best[0]:
                    best = (gap, j, True)
        return best


class Index:
    """What cross-checking reads of each statement and an inverted index of its actors and
    places, built once.

    Given ``reread``, the index keeps of each statement only what ranking candidates and the
    quick verdict read, and reads a text again (``reread``) for a pair it compares in full
    or a statement it returns: ``records`` may then be a generator, and a store of 50,000
    statements is never held in memory at once; and they may be :class:`Known`, their texts
    unread.
    """

    def __init__(self, records: Iterable[Record | Known], *, reread: Reread | None = None) -> None:
        self._reread = reread
        # the records and their readings, when they cannot be read again
        self._kept: dict[str, tuple[Record, Reading]] = {}
        shared = _Shared()
        self.profiles = []
        # Each statement's content words, until the rare ones are known: a tuple of shared
        # strings, a quarter of a set's size (sets of every word of 50,000 statements: 100 MB).
        words: list[tuple[str, ...]] = []
        counts: Counter[str] = Counter()
        for r in records:
            reading: Reading | Brief
            if reread is None:
                if not isinstance(r, Record):
                    raise TypeError(f"{r.id}: a record known by its brief needs reread")
                reading = _full_reading(r)
                self._kept[r.id] = (r, reading)
            elif isinstance(r, Known):
                reading = r.reading
            else:
                reading = r.reading or read(r.statement)
            self.profiles.append(_profile(r, reading, shared))
            words.append(tuple(map(shared.text, reading.terms)))
            counts.update(words[-1])
        self.by_id = {p.id: p for p in self.profiles}
        self._languages = len({p.language for p in self.profiles})
        times = [p.date.timestamp() if p.date else math.inf for p in self.profiles]
        numbers: dict[str, list[int]] = defaultdict(list)
        for n, p in enumerate(self.profiles):
            for k in p.weights:
                numbers[k].append(n)
        self._postings: dict[str, Posting] = {}
        for k, ns in numbers.items():
            ns.sort(key=times.__getitem__)  # stable: by time, then by number
            self._postings[k] = (array("d", map(times.__getitem__, ns)), array("l", ns))
        total = max(len(self.profiles), 50)  # a small store cannot tell rare names from common ones
        self._rarity = {
            k: min(1.0, math.log(1 + total / len(v[1])) / _RARE_AT)
            for k, v in self._postings.items()
        }
        most = max(2, int(_RARE_TERM_SHARE * total))
        for p, mine in zip(self.profiles, words, strict=True):
            # only the rare ones are ever looked at again
            p.terms = shared(frozenset(w for w in mine if 2 <= counts[w] <= most))

    def record(self, sid: str) -> Record:
        """The record of statement ``sid``, with its text and reading."""
        return self._full(self.by_id[sid])[0]

    def _full(self, p: _Profile) -> tuple[Record, Reading]:
        if self._reread is None:
            return self._kept[p.id]
        record = self._reread(p)
        return record, _full_reading(record)

    def related(self, sid: str, window: timedelta, *, limit: int | None = None) -> list[Related]:
        """Statements of other sources about the same event, best first."""
        p = self.by_id[sid]
        return [
            Related(
                self._full(self.profiles[n])[0],
                score,
                self._shared_names(p, self.profiles[n]),
                days,
            )
            for n, score, days in self._related(p, window, limit)
        ]

    @staticmethod
    def _shared_names(p: _Profile, q: _Profile) -> tuple[str, ...]:
        """The display names (in ``p``) of the actors and places that ``p`` and ``q`` share."""
        return tuple(
            dict.fromkeys(n for k, n in zip(p.weights, p.names, strict=True) if k in q.weights)
        )

    def _related(
        self, p: _Profile, window: timedelta, limit: int | None
    ) -> list[tuple[int, float, float | None]]:
        """The statements (number, score, days apart) of other sources that score at least
        MIN_RELATED_SCORE with ``p`` (the best ``limit`` of them), found without scoring every
        statement that shares a common name with ``p``: see :class:`_Walk`."""
        if p.date is None:
            return []
        walk = _Walk(
            p.date.timestamp(),
            window.total_seconds(),
            [(self._rarity[k] * w, self._postings[k]) for k, w in p.weights.items()],
            min(_MAX_TERM_BONUS, _TERM_WEIGHT * len(p.terms)),
            # a translation may add its bonus within its days, in a store of several languages
            _TRANSLATION_WEIGHT if self._languages > 1 else 0.0,
        )
        out: list[tuple[int, float, float | None]] = []
        best: list[float] = []  # with a limit: the best ``limit`` scores so far, a min-heap
        while (n := walk.next(_threshold(best, limit))) is not None:
            found = self._score(p, n, walk.t)
            if found is None:
                continue
            out.append((n, *found))
            if limit:
                if len(best) < limit:
                    heapq.heappush(best, found[0])
                elif found[0] > best[0]:
                    heapq.heapreplace(best, found[0])
        profiles = self.profiles
        out.sort(key=lambda x: (-x[1], x[2] if x[2] is not None else math.inf, profiles[x[0]].id))
        return out[:limit] if limit else out

    def _score(self, p: _Profile, n: int, t: float) -> tuple[float, float | None] | None:
        """How related statement ``n`` is to ``p``, and how many days apart (None: below
        MIN_RELATED_SCORE)."""
        q = self.profiles[n]
        # One source's own translation is its closest relative; its other statements are not
        # "another source on the same event".
        if q is p or (q.source == p.source and q.language == p.language):
            return None
        names = 0.0
        shared = False
        theirs = q.weights
        for k, w in p.weights.items():
            if k in theirs:
                names += self._rarity[k] * min(w, theirs[k])
                shared = True
        if not shared:
            return None
        terms = min(_MAX_TERM_BONUS, _TERM_WEIGHT * len(p.terms & q.terms))
        days = abs(q.date.timestamp() - t) / 86400 if q.date else None
        s = (names + terms + translation_bonus(p, q, days)) * time_weight(days or 0.0)
        if s < MIN_RELATED_SCORE:
            return None
        return round(s, 2), days

    def divergences(
        self,
        *,
        since: datetime | None = None,
        window: timedelta = DEFAULT_WINDOW,
        per_statement: int = 10,
        involving: Iterable[str] | None = None,
    ) -> list[DivergentPair]:
        """Each statement against its best related ones: divergent pairs, most divergent first.

        The quick verdict (:func:`~dipdiff.analyse.compare.diverges`) reads only what the index
        keeps; only the pairs that diverge are compared in full, their texts read again."""
        wanted = set(involving) if involving is not None else None
        seen: set[tuple[str, str]] = set()
        found: list[tuple[_Profile, _Profile, float]] = []
        for p in self.profiles:
            if wanted is not None and p.id not in wanted:
                continue
            if since is not None and (p.date is None or p.date < since):
                continue
            for n, score, _ in self._related(p, window, per_statement):
                q = self.profiles[n]
                pair = (p.id, q.id) if p.id <= q.id else (q.id, p.id)
                if pair in seen:
                    continue
                seen.add(pair)
                first, second = (p, q) if (p.date, p.id) <= (q.date, q.id) else (q, p)
                if diverges(first.verdicts, second.verdicts):
                    found.append((first, second, score))
        out = []
        # A text read again at most once while among the last few asked for: the pairs of one
        # statement are found together.
        full = lru_cache(maxsize=_REREAD)(lambda sid: self._full(self.by_id[sid]))
        for first, second, score in found:
            (a, reading_a), (b, reading_b) = full(first.id), full(second.id)
            comparison = compare(
                a.statement,
                b.statement,
                analyses=(reading_a.analysis, reading_b.analysis),
                align=False,
            )
            # what was read of the texts is in the comparison: the pair need not hold it
            out.append(DivergentPair(_bare(a), _bare(b), comparison, score))
        out.sort(key=lambda d: (-d.score, -d.related_score, d.a.id, d.b.id))
        return out


def _full_reading(record: Record) -> Reading:
    return record.reading if isinstance(record.reading, Reading) else read(record.statement)


def _bare(record: Record) -> Record:
    return replace(record, reading=None) if record.reading is not None else record


_REREAD = 64  # texts kept while divergent pairs are compared in full


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
