"""``dipdiff related`` and ``divergences`` over a store: the store's statements as records for
:mod:`dipdiff.analyse.related`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from dipdiff.analyse.related import (
    DEFAULT_WINDOW,
    DivergentPair,
    Index,
    Reading,
    Record,
    Related,
    read,
    within_reach,
)
from dipdiff.analyse.related import find_divergences as compare_find_divergences
from dipdiff.analyse.serial import analyser_version, dumps, loads, reading_key
from dipdiff.clock import parse_timestamp
from dipdiff.errors import InputError
from dipdiff.models import Statement
from dipdiff.store.lookup import resolve_ref
from dipdiff.store.store import Store


def statement_date(published: str | None, fetched_at: str | None) -> datetime | None:
    """When a statement was issued: its ``published`` date, else when it was first fetched."""
    for value in (published, fetched_at):
        if value:
            try:
                return parse_timestamp(value)
            except InputError:
                continue
    return None


@dataclass(frozen=True)
class Latest:
    """A statement's latest version as its refs tell it: enough to date it, its text unread."""

    id: str
    date: datetime | None
    version: int


def store_records(
    store: Store, reach: Callable[[list[Latest]], list[Latest]] | None = None
) -> list[Record]:
    """The latest version of every statement in the store (of those that ``reach`` keeps),
    dated and analysed, for cross-checking. Only the texts of the statements kept are read,
    and only those the store's index has no analysis of are analysed."""
    # One hold of the store: each statement's files listed once, the index written once.
    with store.reading():
        latest = []
        for sid in store.statement_ids():
            with store.guard():  # a damaged statement is left out, and noted
                refs = store.versions(sid)
                if refs:
                    date = statement_date(refs[-1].published, refs[0].fetched_at)
                    latest.append(Latest(sid, date, refs[-1].number))
        if reach is not None:
            latest = reach(latest)
        out = []
        for x in latest:
            with store.guard():
                statement = store.read_version(x.id, x.version).statement
                out.append(Record(x.id, statement, x.date, x.version, _read(store, statement)))
        return out


def _read(store: Store, statement: Statement) -> Reading:
    """``read(statement)``, from the store's index when it has it (and kept there if not)."""
    key = reading_key(statement)
    doc = store.index.reading(key)
    if doc is not None:
        try:
            return loads(doc)
        except (ValueError, KeyError, TypeError, IndexError):
            pass  # a damaged entry: read again and replaced
    reading = read(statement)
    store.index.remember_reading(key, analyser_version(), dumps(reading))
    return reading


def related_in_store(
    store: Store, ref: str, window: timedelta, *, limit: int | None = None
) -> tuple[Record, list[Related]]:
    """``dipdiff related``: the statements of other sources about the same event as ``ref``."""
    sid, _ = resolve_ref(store, ref)

    def near_target(latest: list[Latest]) -> list[Latest]:
        target = next(x for x in latest if x.id == sid)
        if target.date is None:
            return [target]
        return within_reach(latest, window=window, around=target.date)

    records = store_records(store, near_target)
    target = next(r for r in records if r.id == sid)
    if target.date is None:
        return target, []
    index = Index(within_reach(records, window=window, around=target.date))
    return index.by_id[sid].record, index.related(sid, window, limit=limit)


def find_divergences(
    store: Store,
    *,
    since: datetime | None = None,
    window: timedelta = DEFAULT_WINDOW,
    involving: Iterable[str] | None = None,
) -> list[DivergentPair]:
    """``dipdiff divergences``: divergent pairs of related statements, most divergent first.

    ``involving`` restricts the result to pairs that include one of these statement IDs
    (for a run: the statements that are new or changed).
    """
    wanted = set(involving) if involving is not None else None
    records = store_records(
        store, lambda latest: within_reach(latest, since=since, window=window, involving=wanted)
    )
    return compare_find_divergences(records, since=since, window=window, involving=wanted)
