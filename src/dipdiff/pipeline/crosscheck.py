"""``dipdiff related`` and ``divergences`` over a store: the store's statements as records for
:mod:`dipdiff.analyse.related`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from dipdiff.analyse.related import (
    DEFAULT_WINDOW,
    DivergentPair,
    Index,
    Record,
    Related,
    within_reach,
)
from dipdiff.analyse.related import find_divergences as compare_find_divergences
from dipdiff.clock import parse_timestamp
from dipdiff.errors import InputError
from dipdiff.store.ids import parse_ref
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


def store_records(store: Store) -> list[Record]:
    """The latest version of every statement in the store, dated, for cross-checking."""
    out = []
    for sid in store.statement_ids():
        with store.guard():  # a damaged statement is left out, and noted
            refs = store.versions(sid)
            if not refs:
                continue
            v = store.read_version(sid, refs[-1].number)
            out.append(
                Record(
                    sid,
                    v.statement,
                    statement_date(v.statement.published, refs[0].fetched_at),
                    refs[-1].number,
                )
            )
    return out


def related_in_store(
    store: Store, ref: str, window: timedelta, *, limit: int | None = None
) -> tuple[Record, list[Related]]:
    """``dipdiff related``: the statements of other sources about the same event as ``ref``."""
    sid, _ = parse_ref(ref)
    if not store.exists(sid):
        raise InputError(f"no statement {sid!r} in {store.root}")
    records = store_records(store)
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
    return compare_find_divergences(
        store_records(store), since=since, window=window, involving=involving
    )
