"""Events: what the checks of one statement record, read the same way by everyone.

The recorder decides each event once, when it happens, and writes it into the check
(``event``: new, changed, restored, removed, back, moved, flapping, unavailable, blocked,
recovered; ``since`` on the checks of a state that lasts). Everyone who tells what happened
reads those checks with these functions: the recorder for the result of the check it has just
written, and the reports, the feed and ``dipdiff run`` for the checks they show. Nothing is
derived again from a window of checks: a check is one event or none.

Diffs go through one :class:`DiffCache` per command, keyed by the two versions' sha256, so that
an edit is diffed once however many outputs show it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dipdiff.analyse.language import stored_language
from dipdiff.models import (
    STORING_KINDS,
    Event,
    SnapshotResult,
    Statement,
    StatementRef,
    Version,
    VersionRef,
)
from dipdiff.store.languages import known_language, remember_language
from dipdiff.store.meta import TROUBLE, event_kind
from dipdiff.store.store import Store

if TYPE_CHECKING:
    from dipdiff.analyse.diff import DiffResult

Checks = Sequence[dict[str, Any]]

STATES = (*TROUBLE, "flapping")
#: Outcomes of a check that read the statement's text.
SIGHTINGS = ("new", "changed", "restored", "unchanged", "flapping", "moved")


class DiffCache:
    """The diffs of one command, by the sha256 of the two versions compared."""

    def __init__(self) -> None:
        self._diffs: dict[tuple[str, str], DiffResult] = {}

    def diff(self, a: Version, b: Version) -> DiffResult:
        key = (a.ref.sha256, b.ref.sha256)
        found = self._diffs.get(key)
        if found is None:
            from dipdiff.analyse.diff import diff_statements  # lazy: not for `log`, a quiet run

            found = self._diffs[key] = diff_statements(a.statement, b.statement)
        return found

    def add(self, results: Iterable[SnapshotResult]) -> None:
        """Take in the diffs that recorded changes carry (they were computed when recorded)."""
        for r in results:
            c = r.check
            if c is not None and c.base_sha256 and c.sha256 and r.diff is not None:
                self._diffs.setdefault((c.base_sha256, c.sha256), r.diff)


def in_time_order(checks: Checks) -> list[tuple[int, dict[str, Any]]]:
    """(index, check) by time, then by the order they were recorded.

    Times are in dipdiff's one timestamp form, so string order is time order. Live checks
    are recorded in time order; only an imported older capture lands among earlier ones.
    """
    return sorted(enumerate(checks), key=lambda ic: (str(ic[1].get("time", "")), ic[0]))


@dataclass(frozen=True)
class State:
    """Where a statement stands after its latest check: a state that lasts, or none."""

    kind: str | None = None  # unavailable, blocked, removed, flapping, or None
    since: str | None = None  # when it began
    checks: int = 0  # how many checks it has lasted
    text: str | None = None  # flapping: the sha256 of the text the latest check saw...
    other: str | None = None  # ...and of the other text


def state_of(checks: Checks) -> State:
    """The state the latest check (by time) leaves the statement in."""
    ordered = [c for _, c in in_time_order(checks)]
    if not ordered or ordered[-1].get("outcome") not in STATES:
        return State()
    kind = str(ordered[-1]["outcome"])
    run = 0
    for c in reversed(ordered):
        if c.get("outcome") != kind:
            break
        run += 1
    first = ordered[-run]
    # Checks written before `since` existed: the state began with the first of the run.
    since = ordered[-1].get("since") or first.get("time")
    last = ordered[-1]
    return State(kind, str(since), run, last.get("sha256"), last.get("base_sha256"))


def last_sighting(checks: Checks) -> dict[str, Any] | None:
    """The latest check (by time) that read the statement's text."""
    seen = [
        c for _, c in in_time_order(checks) if c.get("sha256") and c.get("outcome") in SIGHTINGS
    ]
    return seen[-1] if seen else None


def sightings(checks: Checks) -> list[dict[str, Any]]:
    """The checks that read a text, by time."""
    return [
        c for _, c in in_time_order(checks) if c.get("sha256") and c.get("outcome") in SIGHTINGS
    ]


def stored_by(refs: Sequence[VersionRef], check: dict[str, Any]) -> VersionRef | None:
    """The version a storing check stored: its text, at its time (a healed check: the latest)."""
    same = [r for r in refs if r.sha256 == check.get("sha256")]
    exact = [r for r in same if r.fetched_at == check.get("time")]
    if exact:
        return exact[0]
    before = [r for r in same if r.fetched_at <= str(check.get("time", ""))]
    found = before or same
    return found[-1] if found else None


def latest_with(
    refs: Sequence[VersionRef], sha: str | None, below: int | None = None
) -> VersionRef | None:
    """The latest version with text ``sha`` (numbered below ``below``, when given)."""
    found = [r for r in refs if r.sha256 == sha and (below is None or r.number < below)]
    return found[-1] if found else None


def version_events(refs: Sequence[VersionRef], checks: Checks) -> dict[str, tuple[str, int | None]]:
    """For each version file: the event that stored it (new, changed, restored) and, for a
    restore, the earlier version whose text it restored (``dipdiff log``)."""
    out: dict[str, tuple[str, int | None]] = {}
    for i, c in enumerate(checks):
        kind = event_kind(checks, i)
        if kind not in STORING_KINDS:
            continue
        ref = stored_by(refs, c)
        if ref is not None and ref.filename not in out:
            back = latest_with(refs, ref.sha256, below=ref.number) if kind == "restored" else None
            out[ref.filename] = (kind, back.number if back else None)
    return out


def _language(store: Store, statement: Statement) -> str:
    """A stored version's language: its header's, else (a file written before headers kept
    it) its reading's in the store's index, or the one detected of it before (the same
    detector, on the same text: the key says so), else detected now and remembered. Either
    way what detecting it would give."""
    if statement.language is not None:
        return statement.language
    from dipdiff.analyse.serial import analyser_version, reading_key  # lazy: older files only

    key = reading_key(statement)
    doc = store.index.brief(key)
    if doc is not None:
        with contextlib.suppress(ValueError, TypeError, AttributeError):  # damaged: detect
            found = json.loads(doc).get("language")
            if isinstance(found, str) and found:
                return found
    known = known_language(store.index, key)
    if known is None:
        known = stored_language(statement)
        remember_language(store.index, key, analyser_version(), known)
    return known


def describe(store: Store, sid: str, checks: Checks, i: int, diffs: DiffCache) -> Event | None:
    """The event check ``i`` of ``sid`` records, with what each output shows of it; None: none.

    A stored version (new, changed, restored) comes with its redline, from the version it was
    compared with (``base_sha256``; in stores written before it, the version before).
    """
    kind = event_kind(checks, i)
    if kind is None:
        return None
    c = checks[i]
    meta = store.meta(sid)
    refs = store.versions(sid)
    note = str(c.get("note") or "")
    common: dict[str, Any] = {
        "note": note,
        "sha256": c.get("sha256"),
        "change_note": str(c.get("change_note") or ""),
        "archive": str(c.get("archive") or ""),
    }
    if kind not in STORING_KINDS:
        latest = refs[-1].number if refs else None
        version = c.get("version") if kind in ("back", "flapping", "moved") else latest
        st = StatementRef(sid, meta.title, meta.url, meta.agency, version or latest)
        pair = None
        if kind == "flapping":
            ends = [latest_with(refs, c.get(k)) for k in ("base_sha256", "sha256")]
            if all(ends):
                lo, hi = sorted(r.number for r in ends if r is not None)
                pair = (lo, hi)
        return Event(
            kind,
            st,
            str(c["time"]),
            key=f"{kind}-{c['time']}",
            pair=pair,
            since=c.get("since"),
            **common,
        )
    ref = stored_by(refs, c)
    if ref is None:  # a lost version (`dipdiff verify` names it): nothing to show
        return None
    b = store.read_version(sid, ref.number)
    st = StatementRef(
        sid,
        b.statement.title or meta.title,
        meta.url,
        b.statement.agency or meta.agency,
        ref.number,
        _language(store, b.statement),
    )
    base = (
        latest_with(refs, c.get("base_sha256"), below=ref.number) if c.get("base_sha256") else None
    )
    if base is None and kind != "new" and ref.number > 1 and not c.get("base_sha256"):
        base = refs[ref.number - 2]  # stores written before checks named their base
    restored = latest_with(refs, ref.sha256, below=ref.number) if kind == "restored" else None
    if base is None:
        return Event(
            kind,
            st,
            str(c["time"]),
            b_time=ref.fetched_at,
            key=ref.filename,
            restores=restored.number if restored else None,
            **common,
        )
    a = store.read_version(sid, base.number)
    return Event(
        kind,
        st,
        str(c["time"]),
        a_version=base.number,
        a_time=base.fetched_at,
        b_time=ref.fetched_at,
        diff=diffs.diff(a, b),
        key=ref.filename,
        restores=restored.number if restored else None,
        undisclosed=bool(c.get("undisclosed")),
        **common,
    )


def spells(
    store: Store, sid: str, checks: Checks, contains: Callable[[dict[str, Any]], bool]
) -> list[Event]:
    """The spells of trouble (unavailable, blocked) with a check that ``contains`` takes.

    One event per spell, however many checks it lasted: when it began (``since``), the last
    check within it that ``contains`` takes (``last``), how many checks it lasted until then,
    and, when it ended there, the time it ended (the event's kind is then ``recovered``).
    """
    out: list[Event] = []
    meta = None
    spell: list[dict[str, Any]] = []

    def close(end: dict[str, Any] | None) -> None:
        nonlocal meta
        if not spell:
            return
        inside = [c for c in spell if contains(c)]
        ended = end is not None and contains(end)
        if inside or ended:
            meta = meta or store.meta(sid)
            last = inside[-1] if inside else spell[-1]
            first = spell[0]
            out.append(
                Event(
                    "recovered" if ended else str(first["outcome"]),
                    StatementRef(sid, meta.title, meta.url, meta.agency),
                    str(end["time"]) if ended and end else str(first.get("since") or first["time"]),
                    note=str(last.get("note") or ""),
                    key=f"{first['outcome']}-{first.get('since') or first['time']}",
                    since=str(first.get("since") or first["time"]),
                    last=str(last["time"]),
                    checks=spell.index(last) + 1,
                    was=str(first["outcome"]),
                )
            )
        spell.clear()

    for _, c in in_time_order(checks):
        outcome = c.get("outcome")
        if outcome in ("unavailable", "blocked"):
            if spell and spell[-1].get("outcome") != outcome:
                close(None)
            spell.append(c)
        elif spell:
            close(c if outcome in SIGHTINGS else None)
    close(None)
    return out
