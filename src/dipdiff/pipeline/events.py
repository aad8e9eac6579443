"""Events: what the checks of one statement amount to (new, changed, removed, moved, trouble).

One description for everyone who tells what happened: the recorder describes the check it
has just written, and the reports, the feed and ``dipdiff run`` describe the checks of their
window, with the same function and the same rules. Diffs go through one :class:`DiffCache`
per command, keyed by the two versions' sha256, so that an edit is diffed once however many
outputs show it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from dipdiff.analyse.diff import DiffResult, diff_statements
from dipdiff.models import Event, SnapshotResult, StatementRef, Version
from dipdiff.store.store import Store

_TROUBLE = ("removed", "unavailable", "blocked")
_STORING = ("new", "changed")


class DiffCache:
    """The diffs of one command, by the sha256 of the two versions compared."""

    def __init__(self) -> None:
        self._diffs: dict[tuple[str, str], DiffResult] = {}

    def diff(self, a: Version, b: Version) -> DiffResult:
        key = (a.ref.sha256, b.ref.sha256)
        found = self._diffs.get(key)
        if found is None:
            found = self._diffs[key] = diff_statements(a.statement, b.statement)
        return found

    def add(self, results: Iterable[SnapshotResult]) -> None:
        """Take in the diffs that recorded changes carry (they were computed when recorded)."""
        for r in results:
            c = r.check
            if c is not None and c.base_sha256 and c.sha256 and r.diff is not None:
                self._diffs.setdefault((c.base_sha256, c.sha256), r.diff)


def describe(
    store: Store, sid: str, checks: Sequence[dict[str, Any]], diffs: DiffCache
) -> Event | None:
    """The event that ``checks`` (one statement's, oldest first) amount to; None: nothing happened.

    A stored version makes the statement ``new`` (its first version) or ``changed``: the
    redline runs from the version the first stored check was compared with (``base_sha256``;
    in stores written before it, the version before) to the last one stored. A removal is
    news even after an edit; ``unavailable``/``blocked`` only when nothing was stored.
    """
    if all(c.get("outcome") == "unchanged" for c in checks):
        return None  # the common case, decided without reading a version
    meta = store.meta(sid)
    refs = store.versions(sid)
    by_sha = {r.sha256: r for r in refs}
    storing = [c for c in checks if c.get("outcome") in _STORING and c.get("sha256") in by_sha]
    last = checks[-1]
    latest = refs[-1].number if refs else None
    if last.get("outcome") in _TROUBLE and (last.get("outcome") == "removed" or not storing):
        st = StatementRef(sid, meta.title, meta.url, meta.agency, latest)
        return Event(str(last["outcome"]), st, last["time"], note=str(last.get("note") or ""))
    if not storing:
        moved = [c for c in checks if c.get("outcome") == "moved"]
        if not moved:
            return None
        st = StatementRef(sid, meta.title, meta.url, meta.agency, latest)
        return Event("moved", st, moved[-1]["time"], note=str(moved[-1].get("note") or ""))
    b_ref = by_sha[storing[-1]["sha256"]]
    first = by_sha[storing[0]["sha256"]]
    b = store.read_version(sid, b_ref.number)
    st = StatementRef(
        sid,
        b.statement.title or meta.title,
        meta.url,
        b.statement.agency or meta.agency,
        b_ref.number,
    )
    if first.number == 1 or any(c.get("outcome") == "new" for c in storing):
        return Event("new", st, storing[-1]["time"], b_time=b_ref.fetched_at)
    a_ref = by_sha.get(storing[0].get("base_sha256") or "") or refs[first.number - 2]
    a = store.read_version(sid, a_ref.number)
    return Event(
        "changed",
        st,
        storing[-1]["time"],
        a_version=a_ref.number,
        a_time=a_ref.fetched_at,
        b_time=b_ref.fetched_at,
        diff=diffs.diff(a, b),
    )


def own_event(
    result: SnapshotResult | None, checks: Sequence[dict[str, Any]]
) -> tuple[bool, Event | None]:
    """The event a result of this command carries, when ``checks`` are exactly its check.

    (True, event) when the recorder already described these checks; (False, None) when
    they must be described (checks of other commands or runs, or more than one).
    """
    if (
        result is None
        or result.check is None
        or len(checks) != 1
        or checks[0] != result.check.entry()
    ):
        return False, None
    return True, result.event
