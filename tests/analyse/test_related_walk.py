"""``related`` and ``divergences`` find candidates without scoring every statement that shares
a common name (analyse/related.py, ``_Walk``): the answer must be the one that scoring every
pair gives. The reference here scores every pair of a store of synthetic analyses, dense
enough that common names are shared by hundreds of statements, and sparse ones that are not."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dipdiff.analyse.entities import Sentence
from dipdiff.analyse.reading import Reading
from dipdiff.analyse.related import (
    _MAX_TERM_BONUS,
    _TERM_WEIGHT,
    MIN_RELATED_SCORE,
    Index,
    Record,
    Related,
    Stored,
    time_weight,
)
from dipdiff.analyse.signals import Signal
from dipdiff.analyse.stance import ActorInText, Attached, TextAnalysis
from dipdiff.models import Statement

START = datetime(2025, 1, 1, tzinfo=UTC)
KINDS = ("person", "force", "government", "organisation", "country")


def synthetic_store(seed: int, n: int, names: int, days: int) -> list[Record]:
    """``n`` statements of three sources over ``days`` days, each naming a few of ``names``
    actors (a few of them very common), with a few content words that neighbours share."""
    rng = random.Random(seed)
    # Words shared by a handful of statements: rare, so that they count (see _RARE_TERM_SHARE).
    words = [f"term{i:04d}x" for i in range(n)]
    out = []
    for i in range(n):
        picked = {min(int(rng.expovariate(0.15)), names - 1) for _ in range(rng.randint(1, 6))}
        actors = tuple(
            ActorInText(
                f"k{a}",
                f"Actor {a}",
                KINDS[a % len(KINDS)],
                {f"k{a}"},
                sentences=sorted(rng.sample(range(8), rng.randint(1, 3))),
                acting=True,
            )
            for a in sorted(picked)
        )
        analysis = TextAnalysis(
            tuple(Sentence(f"Sentence {s}.", 0, s) for s in range(8)), actors, (), None
        )
        terms = frozenset(rng.sample(words[max(0, i - 6) : i + 6], rng.randint(0, 6)))
        # Whole hours, and now and then a fraction of a second: both ends of the window.
        when = START + timedelta(hours=rng.randrange(24 * days), seconds=rng.choice((0, 0.25)))
        title = f"Statement {i}" + (" on Actor 3" if rng.random() < 0.2 else "")
        statement = Statement(title, ("Text.",), url=f"https://x.example/{i}")
        source = ("alpha", "beta", "gamma")[rng.randrange(3)]
        out.append(Record(f"{source}/s{i}", statement, when, 1, Reading(analysis, terms)))
    return out


def every_pair(index: Index, sid: str, window: timedelta) -> list[Related]:
    """The definition: score ``sid`` against every other statement within the window, keep
    those at or above the minimum, best first."""
    p = index.by_id[sid]
    assert p.date is not None
    t = p.date.timestamp()
    w = window.total_seconds()
    out = []
    for q in index.profiles:
        if q is p or q.source == p.source or q.date is None:
            continue
        tq = q.date.timestamp()
        if not t - w <= tq <= t + w:
            continue
        names, shared = 0.0, []
        for k, name in zip(p.weights, p.names, strict=True):
            if k in q.weights:
                names += index._rarity[k] * min(p.weights[k], q.weights[k])
                shared.append(name)
        if not shared:
            continue
        terms = min(_MAX_TERM_BONUS, _TERM_WEIGHT * len(p.terms & q.terms))
        days = abs(tq - t) / 86400
        s = (names + terms) * time_weight(days)
        if s >= MIN_RELATED_SCORE:
            out.append(Related(index.record(q.id), round(s, 2), tuple(dict.fromkeys(shared)), days))
    out.sort(key=lambda r: (-r.score, r.days if r.days is not None else math.inf, r.record.id))
    return out


@pytest.mark.parametrize(
    ("seed", "n", "names", "days"),
    [(1, 800, 40, 40), (2, 800, 300, 365), (3, 300, 12, 15), (4, 150, 30, 120)],
)
def test_related_is_what_scoring_every_pair_gives(seed, n, names, days):
    records = synthetic_store(seed, n, names, days)
    index = Index(records)
    found = 0
    for r in records[::5]:
        for window in (timedelta(days=60), timedelta(days=3), timedelta(hours=1)):
            expected = every_pair(index, r.id, window)
            assert index.related(r.id, window) == expected, (r.id, window)
            assert index.related(r.id, window, limit=10) == expected[:10], (r.id, window)
            found += len(expected)
    assert found > 10, found  # the stores relate statements, or this would test nothing


def _record(sid: str, keys: list[int], terms: set[str], when: datetime) -> Record:
    actors = tuple(
        ActorInText(f"k{a}", f"Actor {a}", "government", {f"k{a}"}, sentences=[0], acting=True)
        for a in keys
    )
    analysis = TextAnalysis((Sentence("Sentence.", 0, 0),), actors, (), None)
    statement = Statement(sid, ("Text.",), url=f"https://x.example/{sid}")
    return Record(sid, statement, when, 1, Reading(analysis, frozenset(terms)))


def test_rare_terms_lift_a_pair_that_shares_only_a_common_name():
    """A name in 30% of the statements counts 0.61; five rare shared words add 0.5: the pair
    is related, although no walk over names alone could find it."""
    rare = {f"gharyan{i}" for i in range(5)}
    records = [
        _record("alpha/a", [0], rare, START),
        _record("beta/b", [0], rare, START + timedelta(hours=2)),
    ]
    records += [
        _record(f"gamma/f{i}", [0] if i % 10 < 3 else [1 + i], set(), START) for i in range(98)
    ]
    index = Index(records)
    (found,) = index.related("alpha/a", timedelta(days=60), limit=10)
    assert found.record.id == "beta/b" and found.shared == ("Actor 0",), found
    assert 1.0 <= found.score < 1.2, found  # names alone: below the minimum
    assert index.related("alpha/a", timedelta(days=60)) == every_pair(
        index, "alpha/a", timedelta(days=60)
    )


SIGNALS = (
    Signal("condemn", "condemnation", "critical"),
    Signal("welcome", "praise", "supportive"),
    Signal("halt", "demand", "neutral", demand=True),
    Signal("urge", "appeal", "neutral"),
)


def with_stances(records: list[Record], seed: int) -> list[Record]:
    """The synthetic store's actors with signals (condemned, welcomed, told to halt), some of
    them the speaker: pairs that diverge and pairs that do not."""
    rng = random.Random(seed)
    out = []
    for r in records:
        assert r.reading is not None
        actors = tuple(
            replace(
                a,
                signals=[
                    Attached(rng.choice(SIGNALS), "x", rng.random() < 0.1, 0)
                    for _ in range(rng.randint(0, 3))
                ],
                speaker=rng.random() < 0.05,
            )
            for a in r.reading.analysis.actors
        )
        analysis = replace(r.reading.analysis, actors=actors)
        out.append(replace(r, reading=replace(r.reading, analysis=analysis)))
    return out


def test_an_index_that_reads_texts_again_answers_what_one_holding_them_answers():
    """Given ``reread``, the index keeps no text or analysis (a store's records stream through
    it) and reads again only the statements of the pairs that diverge and those it returns:
    the answers are the ones of an index that holds every record."""
    records = with_stances(synthetic_store(5, 600, 40, 60), 5)
    by_id = {r.id: r for r in records}
    held = Index(records)
    asked: list[str] = []

    def reread(x: Stored) -> Record:
        asked.append(x.id)
        return by_id[x.id]

    streamed = Index(iter(records), reread=reread)
    expected = held.divergences()
    assert len(expected) > 20, len(expected)  # divergent pairs, and non-divergent ones below
    assert streamed.divergences() == expected
    in_pairs = {r.id for d in expected for r in (d.a, d.b)}
    assert set(asked) == in_pairs and len(asked) < 2 * len(expected), len(asked)
    asked.clear()
    for r in records[::40]:
        assert streamed.related(r.id, timedelta(days=60), limit=10) == held.related(
            r.id, timedelta(days=60), limit=10
        )
    assert len(asked) <= 10 * len(records[::40]), len(asked)
    since = START + timedelta(days=30)
    assert streamed.divergences(since=since, per_statement=3) == held.divergences(
        since=since, per_statement=3
    )
