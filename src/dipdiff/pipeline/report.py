"""Monitoring: what happened in a window of time, read from the store, and the files that say so.

A *run* is one ``dipdiff run``: it is recorded in its own file under the store's ``runs/``
(start, finish, status) and every page it checks adds a check, naming the run, to that
statement's history. Each check records at most one event, decided by the recorder when it
happened. A report shows the events of the checks in its window: a day (by the checks' time:
which report shows an event, never what happened), or a run (by the runs that made the checks,
never by a clock that can go backwards). So a run that was killed loses nothing (the next
run's report includes what it recorded), and every event is reported once. What the command
itself recorded is not described again: a :class:`History` takes the events its results carry,
and describes the other checks with the recorder's own function
(:func:`dipdiff.pipeline.events.describe`), each diff once.

This module reads the store and writes ``reports/`` (through the store's atomic writer);
the rendering itself is pure (:mod:`dipdiff.render.markdown`, :mod:`dipdiff.render.feed`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from dipdiff.clock import parse_timestamp, utc_timestamp
from dipdiff.errors import InputError
from dipdiff.models import CHANGE_KINDS, PROBLEM_KINDS, Divergence, Event, SnapshotResult
from dipdiff.pipeline.events import DiffCache, describe, spells
from dipdiff.render.feed import Feed, FeedEntry, feed_entry, render_feed
from dipdiff.render.markdown import (
    IndexEntry,
    ReportInput,
    render_index,
    render_report,
    report_counts,
)
from dipdiff.store.atomic import atomic_write
from dipdiff.store.meta import event_kind
from dipdiff.store.recent import Recent
from dipdiff.store.runs import RunRecord
from dipdiff.store.store import Store

FEED_NAME = "feed.xml"
INDEX_NAME = "README.md"
FEED_ENTRIES = 50
REPORTS_GITATTRIBUTES = "* merge=union\n"
#: Events that give a statement a text to compare with others.
TEXT_KINDS = ("new", "changed", "restored")

#: Finds divergences between the statements of the given events and the rest of the store,
#: among the statements known by the given time (None: now).
DivergenceFinder = Callable[[Store, Sequence[Event], "datetime | None"], Sequence[Divergence]]


@dataclass(frozen=True)
class Window:
    """The checks a report shows.

    A day or a span of days: the checks whose time is within ``since`` (exclusive) and
    ``until`` (inclusive). A run (``by_run``): the checks made by the runs of ``runs``, and
    those other commands made after the runs of ``after`` ("" before any run); only checks
    written before checks named their run are taken by time.
    """

    label: str  # the report's title date
    filename: str  # its default file name under reports/
    since: datetime | None
    until: datetime | None
    runs: tuple[str, ...] = ()  # the runs it covers (their notes: interrupted, trouble)
    by_run: bool = False
    after: tuple[str, ...] = ()

    def candidates(self, recent: Recent) -> set[str]:
        """The statements the index knows to have a check this window may contain."""
        if self.by_run:
            return recent.checked(self.since, self.until, self.runs, self.after)
        return recent.checked(self.since, self.until)

    def contains(self, check: dict[str, Any]) -> bool:
        if self.by_run:
            if check.get("run") is not None:
                return check["run"] in self.runs
            if check.get("after") is not None:
                return check["after"] in self.after
        return bool(check.get("time")) and self.covers(parse_timestamp(str(check["time"])))

    def covers(self, t: datetime) -> bool:
        return (self.since is None or t > self.since) and (self.until is None or t <= self.until)


def day_window(day: date, store: Store | None = None) -> Window:
    """One UTC calendar day: the window of the daily report ``reports/YYYY-MM-DD.md``."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    w = Window(
        day.isoformat(),
        f"{day.isoformat()}.md",
        start - timedelta(seconds=1),
        start + timedelta(days=1) - timedelta(seconds=1),
    )
    if store is not None:
        runs = tuple(r.id for r in store.runs() if w.covers(parse_timestamp(r.started_at)))
        w = Window(w.label, w.filename, w.since, w.until, runs)
    return w


def since_window(day: date, store: Store) -> Window:
    """From the start of ``day`` to the newest check in the store."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    last = latest_check_time(store)
    end = max(last, start) if last else start
    label = (
        day.isoformat() if end.date() == day else f"{day.isoformat()} to {end.date().isoformat()}"
    )
    name = (
        f"{day.isoformat()}.md"
        if end.date() == day
        else f"{day.isoformat()}--{end.date().isoformat()}.md"
    )
    runs = tuple(r.id for r in store.runs() if parse_timestamp(r.started_at) >= start)
    return Window(label, name, start - timedelta(seconds=1), end, runs)


def run_window(store: Store, run_id: str = "latest") -> Window:
    """The checks of one run, of the runs since the previous *complete* one (interrupted or
    failed: folded in, so that their findings are reported), and of other commands since then.

    Runs are taken in the order they were recorded, never by their clocks.
    """
    runs = store.runs()
    if not runs:
        raise InputError(f"{store.runs_path}: no runs recorded yet (`dipdiff run` records them)")
    if run_id == "latest":
        index = len(runs) - 1
    else:
        matches = [i for i, r in enumerate(runs) if r.id == run_id]
        if not matches:
            raise InputError(f"--run {run_id!r}: no such run in {store.runs_path}")
        index = matches[0]
    run = runs[index]
    start = next(
        (
            i
            for i in range(index - 1, -1, -1)
            if runs[i].status == "complete" and runs[i].finished_at
        ),
        None,
    )
    previous = runs[start] if start is not None else None
    folded = runs[(start + 1 if start is not None else 0) : index]
    since = parse_timestamp(previous.finished_at) if previous and previous.finished_at else None
    until = parse_timestamp(run.finished_at or latest_run_time(store, run))
    covered = (*(r.id for r in folded), run.id)
    after = (previous.id if previous else "", *(r.id for r in folded))
    stamp = run.id.replace(":", "")
    return Window(
        f"{until.date().isoformat()} (run {run.id})",
        f"run-{stamp}.md",
        since,
        until,
        covered,
        by_run=True,
        after=after,
    )


def latest_run_time(store: Store, run: RunRecord) -> str:
    last = latest_check_time(store)
    return utc_timestamp(last) if last else run.started_at


def latest_check_time(store: Store) -> datetime | None:
    times: list[datetime] = []
    for sid in store.candidates(lambda recent: recent.latest()):
        with store.guard():
            times += [parse_timestamp(c["time"]) for c in store.meta(sid).checks if c.get("time")]
    return max(times) if times else None


def default_window(store: Store) -> Window:
    """The daily report of the latest run's day (or of the newest check when no run is recorded)."""
    runs = store.runs()
    last: datetime | None
    if runs:
        last = parse_timestamp(runs[-1].finished_at or runs[-1].started_at)
    else:
        last = latest_check_time(store)
        if last is None:
            raise InputError(f"{store.root}: no checks recorded yet; nothing to report")
    return day_window(last.date(), store)


@dataclass(frozen=True)
class WindowEvents:
    events: tuple[Event, ...]  # one per check in the window that recorded one, in their order
    spells: tuple[Event, ...]  # spells of trouble in the window, one each (Problems)
    checks: int  # checks made within the window
    sources: tuple[str, ...]  # the sources checked

    @property
    def changes(self) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.kind in CHANGE_KINDS)

    @property
    def problems(self) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.kind in PROBLEM_KINDS)


@dataclass
class History:
    """What the store says happened, for one command: each event described once, each diff once.

    ``known``: the results of what this command recorded; their events are taken as they
    are (the recorder described them when it wrote their checks), everything else is
    described from the check history with the recorder's own function.
    """

    store: Store
    known: Iterable[SnapshotResult] = ()
    diffs: DiffCache = field(default_factory=DiffCache)

    def __post_init__(self) -> None:
        self.known = tuple(self.known)
        self.diffs.add(self.known)
        self._own: dict[str, list[tuple[dict[str, Any], Event | None]]] = {}
        for r in self.known:
            if r.check is not None:
                self._own.setdefault(r.statement_id, []).append((r.check.entry(), r.event))
        self._windows: dict[Window, WindowEvents] = {}

    def event(self, sid: str, checks: Sequence[dict[str, Any]], i: int) -> Event | None:
        """The event check ``i`` of ``sid`` records (the one a result of this command carries)."""
        for entry, event in self._own.get(sid, ()):
            if entry == checks[i]:
                return event
        return describe(self.store, sid, checks, i, self.diffs)

    def window(self, window: Window) -> WindowEvents:
        if window not in self._windows:
            self._windows[window] = self._window(window)
        return self._windows[window]

    def _window(self, window: Window) -> WindowEvents:
        events: list[Event] = []
        found: list[Event] = []
        n_checks = 0
        sources: set[str] = set()
        # Only the statements that may have a check in the window: the others add nothing.
        for sid in self.store.candidates(window.candidates):
            with self.store.guard():  # a damaged statement is left out, and noted
                meta = self.store.meta(sid)
                inside = [i for i, c in enumerate(meta.checks) if window.contains(c)]
                n_checks += len(inside)
                if not inside:
                    continue
                sources.add(meta.source)
                for i in inside:
                    if event_kind(meta.checks, i) is not None:
                        event = self.event(sid, meta.checks, i)
                        if event is not None:
                            events.append(event)
                found += spells(self.store, sid, meta.checks, window.contains)
        return WindowEvents(tuple(events), tuple(found), n_checks, tuple(sorted(sources)))


def involving(divergences: Iterable[Divergence], events: Iterable[Event]) -> tuple[Divergence, ...]:
    """The divergences of a statement whose text is new, changed or restored in ``events``."""
    ids = {e.statement.id for e in events if e.kind in TEXT_KINDS}
    return tuple(d for d in divergences if d.a.id in ids or d.b.id in ids)


def build_report(
    store: Store,
    window: Window,
    *,
    find_divergences: DivergenceFinder | None = None,
    notes: Sequence[str] = (),
    history: History | None = None,
    divergences: Sequence[Divergence] | None = None,
) -> ReportInput:
    """The report of a window; ``divergences`` when already found, else ``find_divergences``."""
    found = (history or History(store)).window(window)
    if divergences is None:
        divergences = (
            find_divergences(store, found.events, window.until) if find_divergences else ()
        )
    runs = store.runs()
    run_notes = [
        f"run {r.id} was interrupted; what it recorded is included here"
        for r in runs
        if r.id in window.runs and r.status == "interrupted"
    ]
    run_notes += repeated_problems([r for r in runs if r.id in window.runs])
    # Damaged files met while building it: the report says what it had to leave out.
    run_notes += [f"left out: {p}" for p in store.damage.values() if p not in run_notes]
    return ReportInput(
        date=window.label,
        since=utc_timestamp(window.since + timedelta(seconds=1)) if window.since else None,
        until=utc_timestamp(window.until) if window.until else "",
        events=found.events,
        spells=found.spells,
        divergences=tuple(divergences),
        checks=found.checks,
        runs=window.runs,
        sources=found.sources,
        notes=tuple(run_notes) + tuple(notes),
    )


def repeated_problems(runs: Sequence[RunRecord]) -> list[str]:
    """Each run-level problem once (a source that could not be read), with when it was seen."""
    seen: dict[str, list[str]] = {}
    for r in runs:
        for problem in r.problems:
            seen.setdefault(problem, []).append(r.id)
    return [
        f"{problem} (run {ids[0]})"
        if len(ids) == 1
        else f"{problem} ({len(ids)} runs, first {ids[0]}, last {ids[-1]})"
        for problem, ids in seen.items()
    ]


def history_events(
    store: Store,
    limit: int | None = FEED_ENTRIES,
    history: History | None = None,
    *,
    ids: Iterable[str] | None = None,
) -> list[Event]:
    """The newest ``limit`` events (None: all) of the whole store, or of the statements ``ids``,
    that are news (a version stored, a removal, a move, flapping, a return), newest first."""
    history = history or History(store)
    found: list[tuple[str, str, int]] = []
    if ids is None:  # the statements of the newest events, as far as the index knows them
        ids = store.candidates(lambda recent: recent.newest(CHANGE_KINDS, limit))
    for sid in ids:
        with store.guard():
            checks = store.meta(sid).checks
            found += [
                (str(c["time"]), sid, i)
                for i, c in enumerate(checks)
                if event_kind(checks, i) in CHANGE_KINDS
            ]
    found.sort(key=lambda f: (f[0], f[1], f[2]), reverse=True)
    events: list[Event] = []
    for _, sid, i in found[:limit]:
        with store.guard():
            event = history.event(sid, store.meta(sid).checks, i)
            if event is not None:
                events.append(event)
    return events


def build_feed(store: Store, *, base_url: str = "", history: History | None = None) -> Feed:
    """The Atom feed; ``base_url``: where ``reports/`` is published (else links are relative)."""
    events = history_events(store, history=history)
    uid = (
        store.store_uid()
        or hashlib.sha1(
            "\n".join(sorted(_urls(store))).encode(),
            usedforsecurity=False,
        ).hexdigest()[:16]
    )
    base = base_url.rstrip("/") + "/" if base_url else ""
    return Feed(
        # A fixed tag date: the id must never change, and the store's uid makes it unique.
        id=f"tag:dipdiff,2026:store-{uid}",
        title="dipdiff: changes to watched statements",
        entries=tuple(feed_entry(e, base) for e in events),
        self_link=f"{base}{FEED_NAME}",
    )


def _urls(store: Store) -> list[str]:
    urls: list[str] = []
    for sid in store.statement_ids():
        with store.guard():
            urls.append(store.meta(sid).url)
    return urls


def site_entry(e: Event) -> FeedEntry:
    """The feed entry of an event on the site's feeds, which link to the site's own pages (its
    id is tied to the version's text, not its number, as in the reports' feed)."""
    return replace(feed_entry(e), report="")


@dataclass(frozen=True)
class WrittenReport:
    report: Path
    index: Path
    feed: Path


def write_reports(
    store: Store,
    reports_dir: Path,
    report: ReportInput,
    out: Path | None = None,
    *,
    filename: str,
    history: History | None = None,
    base_url: str = "",
) -> WrittenReport:
    """Write the report, then regenerate the index and the feed. Each file atomically.

    Every run rewrites these files: ``reports/.gitattributes`` has git merge them by union,
    so that two clones that both ran merge without a conflict (the next report writes them
    anew from the merged store)."""
    attributes = reports_dir / ".gitattributes"
    if not attributes.exists():
        atomic_write(attributes, REPORTS_GITATTRIBUTES.encode())
    path = out or reports_dir / filename
    atomic_write(path, render_report(report).encode("utf-8"))
    index = reports_dir / INDEX_NAME
    atomic_write(index, render_index(index_entries(reports_dir), FEED_NAME).encode("utf-8"))
    feed = reports_dir / FEED_NAME
    atomic_write(
        feed, render_feed(build_feed(store, base_url=base_url, history=history)).encode("utf-8")
    )
    return WrittenReport(path, index, feed)


def index_entries(reports_dir: Path) -> list[IndexEntry]:
    entries = []
    for p in sorted(reports_dir.glob("*.md")):
        if p.name == INDEX_NAME:
            continue
        try:
            with p.open(encoding="utf-8") as f:
                counts = report_counts(f.readline())
        except (OSError, UnicodeDecodeError):
            counts = None
        if counts is not None:  # only files dipdiff wrote
            entries.append(IndexEntry(p.stem, p.name, counts))
    return entries


def default_reports_dir(store: Store) -> Path:
    """``reports/`` beside the store: a monitoring folder holds ``snapshots/`` and ``reports/``."""
    return store.root.parent / "reports"
