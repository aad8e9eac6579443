"""``dipdiff related`` and ``divergences`` over a store: the store's statements as records for
:mod:`dipdiff.analyse.related`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from dipdiff.analyse.reading import Brief, Reading, brief, read
from dipdiff.analyse.related import (
    DEFAULT_WINDOW,
    DivergentPair,
    Index,
    Known,
    Record,
    Related,
    Stored,
    within_reach,
)
from dipdiff.analyse.serial import analyser_version, dumps, loads, loads_brief, reading_key
from dipdiff.clock import parse_timestamp
from dipdiff.errors import InputError
from dipdiff.models import Statement, VersionRef
from dipdiff.store.index import file_stamp
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
    ref: VersionRef

    @property
    def version(self) -> int:
        return self.ref.number


def store_records(
    store: Store, reach: Callable[[list[Latest]], list[Latest]] | None = None
) -> list[Record]:
    """The latest version of every statement in the store (of those that ``reach`` keeps),
    dated and analysed, for cross-checking. Only the texts of the statements kept are read,
    and only those the store's index has no analysis of are analysed."""
    latest = _latest(store, reach)
    out = []
    with store.reading():
        for x in latest:
            with store.guard():
                out.append(_record(store, x))
    return out


def _latest(store: Store, reach: Callable[[list[Latest]], list[Latest]] | None) -> list[Latest]:
    """Every statement's latest version, dated (of those that ``reach`` keeps).

    Best called outside a hold of the store: a hold would keep every version's ref of every
    statement (a hundred megabytes at 50,000 statements) where one per statement is needed."""
    latest = [
        Latest(sid, statement_date(ref.published, first), ref)
        for sid, found in store.latest_versions().items()  # a damaged one left out, and noted
        if found is not None
        for ref, first in (found,)
    ]
    return reach(latest) if reach is not None else latest


def _records(store: Store, latest: Iterable[Latest]) -> Iterator[Record | Known]:
    """The records of ``latest`` with the brief of their readings, one at a time (a damaged
    one is left out, and noted): known from the store's index while their version files are
    the ones it saw, else their texts read."""
    analyser = analyser_version()
    for x in latest:
        with store.guard():
            yield _known(store, x, analyser) or _briefed(store, x)


def _known(store: Store, x: Latest, analyser: str) -> Known | None:
    """``x`` as the store's index knows it, if its version file is the one it saw."""
    try:
        stamp, _ = file_stamp(store.statement_dir(x.id) / x.ref.filename)
    except OSError:
        return None  # reading it says what is wrong
    found = store.index.file_reading(x.id, stamp, analyser)
    if found is None:
        return None
    title, doc = found
    try:
        return Known(x.id, title, x.date, x.version, loads_brief(doc))
    except (ValueError, KeyError, TypeError, IndexError):
        return None  # a damaged entry: read again and replaced


def _briefed(store: Store, x: Latest) -> Record:
    """The record of ``x`` with the brief of its reading, its text read (and the index told
    which reading that file gave, once it has settled)."""
    # The stamp before the text: a file replaced in between is then read again next time.
    path = store.statement_dir(x.id) / x.ref.filename
    try:
        stamp, settled = file_stamp(path)
    except OSError:
        stamp, settled = "", False
    statement = store.read_ref(x.ref).statement
    key = reading_key(statement)
    record = Record(x.id, statement, x.date, x.version, _brief(store, statement, key))
    if settled:
        store.index.remember_file_reading(x.id, stamp, key, statement.title)
    return record


def _record(store: Store, x: Latest) -> Record:
    """The record of one stored version: its text, and its reading from the store's index."""
    statement = store.read_ref(x.ref).statement
    return Record(x.id, statement, x.date, x.version, _read(store, statement))


def _brief(store: Store, statement: Statement, key: str) -> Brief:
    """The brief of ``read(statement)`` (of key ``key``), from the store's index when it has it."""
    doc = store.index.brief(key)
    if doc is not None:
        try:
            return loads_brief(doc)
        except (ValueError, KeyError, TypeError, IndexError):
            pass  # a damaged entry: read again and replaced
    return brief(_read(store, statement))


def _read(store: Store, statement: Statement) -> Reading:
    """``read(statement)``, from the store's index when it has it (and kept there, with its
    brief, if not)."""
    key = reading_key(statement)
    doc = store.index.reading(key)
    if doc is not None:
        try:
            return loads(doc)
        except (ValueError, KeyError, TypeError, IndexError):
            pass  # a damaged entry: read again and replaced
    reading = read(statement)
    store.index.remember_reading(key, analyser_version(), dumps(reading), dumps(brief(reading)))
    return reading


def _index(store: Store, latest: Iterable[Latest]) -> Index:
    """The index of ``latest``, reading one text at a time and keeping none: a pair compared
    in full, or a statement shown, is read again (inside the same hold of the store)."""
    by_id = {x.id: x for x in latest}

    def reread(x: Stored) -> Record:
        return _record(store, by_id[x.id])

    return Index(_records(store, by_id.values()), reread=reread)


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

    latest = _latest(store, near_target)
    # One hold of the store for the texts: each read once (the stored readings written once).
    with store.reading():
        target = next(x for x in latest if x.id == sid)
        if target.date is None:
            return _record(store, target), []
        index = _index(store, within_reach(latest, window=window, around=target.date))
        if sid not in index.by_id:  # its text could not be read (the store's damage says why)
            raise InputError(f"{sid}: its latest version cannot be read")
        return index.record(sid), index.related(sid, window, limit=limit)


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
    latest = _latest(
        store, lambda xs: within_reach(xs, since=since, window=window, involving=wanted)
    )
    # One hold of the store for the texts: each read once (the stored readings written once).
    with store.reading():
        return _index(store, latest).divergences(since=since, window=window, involving=wanted)
