"""Monitoring: what happened in a window of time, read from the store, and the files that say so.

A *run* is one ``dipdiff run``: it is recorded in the store's ``runs.json`` (start, finish,
status) and every page it checks adds a check to that statement's ``meta.json``. Reports
are built from those records only, never from what a process remembers, so a run that was
killed loses nothing: the next run's report includes what the killed one found.

This module reads the store and writes ``reports/`` (through the store's atomic writer);
the rendering itself is pure (:mod:`dipdiff.digest`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from dipdiff.diff import diff_statements
from dipdiff.digest import (
    CHANGE_KINDS,
    Divergence,
    Event,
    Feed,
    IndexEntry,
    Quote,
    ReportInput,
    StanceRow,
    StatementRef,
    change_note,
    feed_entry,
    render_feed,
    render_index,
    render_report,
    report_counts,
)
from dipdiff.errors import DipdiffError, InputError
from dipdiff.models import Outcome, RunResult
from dipdiff.store import RunRecord, Store, parse_timestamp, utc_timestamp, write_file_atomic

FEED_NAME = "feed.xml"
INDEX_NAME = "README.md"
FEED_ENTRIES = 50

#: Finds divergences between the statements of the given events and the rest of the store,
#: among the statements known by the given time (None: now).
DivergenceFinder = Callable[[Store, Sequence[Event], "datetime | None"], Sequence[Divergence]]


@dataclass(frozen=True)
class Window:
    """A span of check times: ``since`` exclusive, ``until`` inclusive (both UTC, or None)."""

    label: str  # the report's title date
    filename: str  # its default file name under reports/
    since: datetime | None
    until: datetime | None
    runs: tuple[str, ...] = ()

    def contains(self, t: datetime) -> bool:
        return (self.since is None or t > self.since) and (self.until is None or t <= self.until)


# -- windows --------------------------------------------------------------------------------


def day_window(day: date, store: Store | None = None) -> Window:
    """One UTC calendar day: the window of the daily report ``reports/YYYY-MM-DD.md``."""
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    w = Window(day.isoformat(), f"{day.isoformat()}.md", start - timedelta(seconds=1),
               start + timedelta(days=1) - timedelta(seconds=1))
    if store is not None:
        runs = tuple(r.id for r in store.runs() if w.contains(parse_timestamp(r.started_at)))
        w = Window(w.label, w.filename, w.since, w.until, runs)
    return w


def since_window(day: date, store: Store) -> Window:
    """From the start of ``day`` to the newest check in the store."""
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    last = latest_check_time(store)
    end = max(last, start) if last else start
    label = day.isoformat() if end.date() == day else f"{day.isoformat()} to {end.date().isoformat()}"
    name = f"{day.isoformat()}.md" if end.date() == day else f"{day.isoformat()}--{end.date().isoformat()}.md"
    runs = tuple(r.id for r in store.runs() if parse_timestamp(r.started_at) >= start)
    return Window(label, name, start - timedelta(seconds=1), end, runs)


def run_window(store: Store, run_id: str = "latest") -> Window:
    """The checks of one run: after the previous *complete* run finished, up to this one's end.

    Runs that were interrupted in between are folded in, so their findings are reported.
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
    previous = next((r for r in reversed(runs[:index]) if r.status == "complete" and r.finished_at), None)
    since = parse_timestamp(previous.finished_at) if previous and previous.finished_at else None
    until = parse_timestamp(run.finished_at or latest_run_time(store, run))
    covered = tuple(r.id for r in runs[:index + 1]
                    if r is run or (r.status != "complete" and (since is None or parse_timestamp(r.started_at) > since)))
    stamp = run.id.replace(":", "")
    return Window(f"{until.date().isoformat()} (run {run.id})", f"run-{stamp}.md", since, until, covered)


def latest_run_time(store: Store, run: RunRecord) -> str:
    last = latest_check_time(store)
    return utc_timestamp(last) if last else run.started_at


def latest_check_time(store: Store) -> datetime | None:
    times = [parse_timestamp(c["time"]) for sid in store.statement_ids()
             for c in store.meta(sid).checks if c.get("time")]
    return max(times) if times else None


def default_window(store: Store) -> Window:
    """The daily report of the latest run's day (or of the newest check when no run is recorded)."""
    runs = store.runs()
    if runs:
        last = parse_timestamp(runs[-1].finished_at or runs[-1].started_at)
    else:
        last = latest_check_time(store)
        if last is None:
            raise InputError(f"{store.root}: no checks recorded yet; nothing to report")
    return day_window(last.date(), store)


# -- events ---------------------------------------------------------------------------------


def window_events(store: Store, window: Window) -> tuple[list[Event], int, list[str]]:
    """One event per statement that did something in the window; the checks; the sources checked."""
    events: list[Event] = []
    n_checks = 0
    sources: set[str] = set()
    for sid in store.statement_ids():
        meta = store.meta(sid)
        checks = [c for c in meta.checks if c.get("time") and window.contains(parse_timestamp(c["time"]))]
        n_checks += len(checks)
        if checks:
            sources.add(meta.source)
            event = _statement_event(store, sid, checks)
            if event is not None:
                events.append(event)
    return events, n_checks, sorted(sources)


def _statement_event(store: Store, sid: str, checks: list[dict]) -> Event | None:
    meta = store.meta(sid)
    refs = store.versions(sid)
    by_sha = {r.sha256: r for r in refs}
    storing = [c for c in checks if c.get("outcome") in ("new", "changed") and c.get("sha256") in by_sha]
    last = checks[-1]
    if last.get("outcome") in ("removed", "unavailable", "blocked") and (
            last.get("outcome") == "removed" or not storing):
        # A removal is news even after an edit; trouble only when nothing was stored.
        ref = refs[-1] if refs else None
        st = StatementRef(sid, meta.title, meta.url, meta.agency, ref.number if ref else None)
        return Event(str(last["outcome"]), st, last["time"], note=str(last.get("note") or ""))
    if not storing:
        moved = [c for c in checks if c.get("outcome") == "moved"]
        if not moved:
            return None
        ref = refs[-1] if refs else None
        st = StatementRef(sid, meta.title, meta.url, meta.agency, ref.number if ref else None)
        return Event("moved", st, moved[-1]["time"], note=str(moved[-1].get("note") or ""))
    b = by_sha[storing[-1]["sha256"]]
    first = by_sha[storing[0]["sha256"]]
    b_version = store.read_version(sid, b.number)
    st = StatementRef(sid, b_version.statement.title or meta.title, meta.url,
                      b_version.statement.agency or meta.agency, b.number)
    if first.number == 1 or any(c.get("outcome") == "new" for c in storing):
        return Event("new", st, storing[-1]["time"], b_time=b.fetched_at)
    a = store.read_version(sid, first.number - 1)
    diff = diff_statements(a.statement, b_version.statement)
    return Event("changed", st, storing[-1]["time"], a_version=a.ref.number, a_time=a.ref.fetched_at,
                 b_time=b.fetched_at, diff=diff)


def build_report(store: Store, window: Window, *, find_divergences: DivergenceFinder | None = None,
                 notes: Sequence[str] = ()) -> ReportInput:
    events, n_checks, sources = window_events(store, window)
    divergences = find_divergences(store, events, window.until) if find_divergences else ()
    run_notes = [f"run {r.id} was interrupted; what it recorded is included here"
                 for r in store.runs() if r.id in window.runs and r.status == "interrupted"]
    run_notes += [p for r in store.runs() if r.id in window.runs for p in r.problems]
    return ReportInput(
        date=window.label,
        since=utc_timestamp(window.since + timedelta(seconds=1)) if window.since else None,
        until=utc_timestamp(window.until) if window.until else "",
        events=tuple(events),
        divergences=tuple(divergences),
        checks=n_checks,
        runs=window.runs,
        sources=tuple(sources),
        notes=tuple(run_notes) + tuple(notes),
    )


# -- the feed -------------------------------------------------------------------------------


def history_events(store: Store, limit: int = FEED_ENTRIES) -> list[Event]:
    """The newest ``limit`` changes of the whole store, one per stored version or removal."""
    found: list[tuple[str, str, dict]] = []
    for sid in store.statement_ids():
        prev = None
        for c in store.meta(sid).checks:
            outcome = c.get("outcome")
            if outcome in ("new", "changed") or (outcome == "removed" and prev != "removed"):
                found.append((c["time"], sid, c))
            if outcome in ("new", "changed", "unchanged", "removed"):
                prev = outcome
    found.sort(key=lambda f: (parse_timestamp(f[0]), f[1]), reverse=True)
    events: list[Event] = []
    for _, sid, c in found[:limit]:
        event = _statement_event(store, sid, [c])
        if event is not None and event.kind in CHANGE_KINDS:
            events.append(event)
    return events


def build_feed(store: Store, *, self_link: str = "") -> Feed:
    events = history_events(store)
    uid = store.store_uid() or hashlib.sha1(
        "\n".join(sorted(store.meta(s).url for s in store.statement_ids())).encode()).hexdigest()[:16]
    return Feed(
        # A fixed tag date: the id must never change, and the store's uid makes it unique.
        id=f"tag:dipdiff,2026:store-{uid}",
        title="dipdiff: changes to watched statements",
        entries=tuple(_entry_with_stable_id(store, e) for e in events),
        self_link=self_link,
    )


def _entry_with_stable_id(store: Store, e: Event):
    entry = feed_entry(e)
    if e.kind == "removed" or e.statement.version is None:
        return entry
    # Version numbers shift when an older capture is imported; the content hash does not.
    sha = store.version_ref(e.statement.id, e.statement.version).sha256[:12]
    return type(entry)(**{**entry.__dict__, "id": entry.id.rsplit("@", 1)[0] + f"@{sha}"})


# -- writing reports/ -----------------------------------------------------------------------


@dataclass(frozen=True)
class WrittenReport:
    report: Path
    index: Path
    feed: Path
    input: ReportInput


def write_reports(store: Store, reports_dir: Path, report: ReportInput, out: Path | None = None,
                  *, filename: str) -> WrittenReport:
    """Write the report, then regenerate the index and the feed. Each file atomically."""
    path = out or reports_dir / filename
    write_file_atomic(path, render_report(report).encode("utf-8"))
    index = reports_dir / INDEX_NAME
    write_file_atomic(index, render_index(index_entries(reports_dir), FEED_NAME).encode("utf-8"))
    feed = reports_dir / FEED_NAME
    write_file_atomic(feed, render_feed(build_feed(store)).encode("utf-8"))
    return WrittenReport(path, index, feed, report)


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


# -- one monitoring run ---------------------------------------------------------------------

EXIT_NOTHING, EXIT_CHANGES, EXIT_TROUBLE = 0, 1, 2


@dataclass(frozen=True)
class RunReport:
    """What ``dipdiff run`` did: the recorded run, what it found, what it wrote and committed."""

    run: RunRecord
    fetched: RunResult
    events: tuple[Event, ...]  # new/changed/removed since the last complete run
    divergences: tuple[Divergence, ...]
    written: WrittenReport | None  # None: nothing to report that day, nothing written
    interrupted: tuple[RunRecord, ...] = ()
    commit: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.events or self.divergences)

    @property
    def all_failed(self) -> bool:
        """Nothing could be checked at all: the network or every source is down."""
        results = self.fetched.results
        return bool(results) and all(r.outcome in TROUBLE_OUTCOMES for r in results)

    @property
    def exit_code(self) -> int:
        """diff(1) style: 0 nothing changed, 1 changes found, 2 a source or every page failed."""
        if self.fetched.problems or self.all_failed:
            return EXIT_TROUBLE
        return EXIT_CHANGES if self.changed else EXIT_NOTHING

    def counts(self) -> dict[str, int]:
        c = {k: sum(1 for e in self.events if e.kind == k) for k in ("new", "changed", "removed")}
        return c | {"divergent": len(self.divergences)}

    def summary(self) -> str:
        c = self.counts()
        moved = sum(1 for e in self.events if e.kind == "moved")
        return ", ".join(f"{v} {k}" for k, v in c.items()) + (f", {moved} moved" if moved else "")


TROUBLE_OUTCOMES = frozenset({Outcome.UNAVAILABLE, Outcome.BLOCKED})
Log = Callable[[str, str], None]  # (level, message); level: debug | info | warning


def run_monitor(
    store: Store,
    fetch: Callable[[Store], RunResult],
    *,
    now: Callable[[], str],
    reports_dir: Path,
    commit: bool = False,
    find_divergences: DivergenceFinder | None = None,
    lock_wait: float = 0.0,
    log: Log = lambda level, msg: None,
) -> RunReport:
    """Fetch, record, report and (optionally) commit, all under the store's lock.

    The run is entered in ``runs.json`` before anything is fetched and marked
    ``complete`` once its report is written, so a run killed at any point is
    found ``interrupted`` by the next one, whose report and commit include it.
    """
    from dipdiff.gitrepo import commit_paths, has_uncommitted_versions, repo_root

    if commit:
        repo_root(reports_dir.parent if not reports_dir.exists() else reports_dir)  # fail before fetching
    with store.lock(wait=lock_wait):
        record, interrupted = store.begin_run(now())
        for r in interrupted:
            log("warning", f"run {r.id} was interrupted; this run includes what it recorded")
        log("debug", f"run {record.id} started")
        try:
            fetched = fetch(store)
        except BaseException as e:
            record.status, record.finished_at = "failed", now()
            record.problems = [str(e) or e.__class__.__name__]
            store.end_run(record)
            raise
        record.finished_at = now()
        record.problems = list(fetched.problems)
        store.end_run(record)  # still "running": a kill from here on is folded into the next run
        events, _, _ = window_events(store, run_window(store, record.id))
        changes = tuple(e for e in events if e.kind in CHANGE_KINDS)
        divergences = tuple(find_divergences(store, changes, None)) if find_divergences else ()
        for e in events:
            if e.kind not in CHANGE_KINDS:
                # Warn when a page goes bad, not on every run while it stays bad: cron mails warnings.
                level = "debug" if _was_already(store, e) else "warning"
                log(level, f"{e.kind} {e.statement.id}" + (f": {e.note}" if e.note else ""))
        day = day_window(parse_timestamp(record.finished_at).date(), store)
        report = build_report(store, day, find_divergences=find_divergences)
        path = reports_dir / day.filename
        if any(report.counts().values()) or report.notes or path.exists() or changes:
            written: WrittenReport | None = write_reports(store, reports_dir, report, filename=day.filename)
            log("debug", f"wrote {path}, {INDEX_NAME} and {FEED_NAME}")
        else:
            written = None
            log("debug", f"nothing to report for {day.label}: {path} not written")
        record.status = "complete"
        record.counts = {k: sum(1 for e in changes if e.kind == k) for k in ("new", "changed", "removed")}
        record.counts["divergent"] = len(divergences)
        record.counts["checked"] = len(fetched.results)
        result = RunReport(record, fetched, changes, divergences, written, tuple(interrupted))
        if commit:
            # Also commit versions a killed or failed run left uncommitted.
            paths = [store.root, reports_dir]
            if result.changed or has_uncommitted_versions(store.root):
                try:
                    store.end_run(record)
                    sha = commit_paths(store.root, paths, commit_message(result))
                except DipdiffError as e:
                    # Not complete after all: the next run folds this one in and commits it.
                    record.status, record.problems = "failed", [str(e)]
                    store.end_run(record)
                    raise
                result = replace(result, commit=sha)
            else:
                log("debug", "nothing changed: no commit")
        store.end_run(record)
    return result


def _was_already(store: Store, e: Event) -> bool:
    """Was the statement's check before this event's already of the same (trouble) kind?"""
    checks = [c for c in store.meta(e.statement.id).checks if c.get("time")]
    before = [c for c in checks if parse_timestamp(c["time"]) < parse_timestamp(e.time)]
    return bool(before) and before[-1].get("outcome") == e.kind


def commit_message(result: RunReport) -> str:
    """``dipdiff run <id>: 1 new, 2 changed, ...`` and one line per change."""
    lines = [f"dipdiff run {result.run.id}: {result.summary()}", ""]
    for e in sorted(result.events, key=lambda e: (e.kind, e.statement.id)):
        note = f" ({change_note(e.diff)})" if e.diff is not None else f" ({e.note})" if e.kind == "moved" else ""
        version = f"@{e.statement.version}" if e.statement.version and e.kind != "removed" else ""
        lines.append(f"- {e.kind} {e.statement.id}{version}{note}")
    for d in result.divergences:
        lines.append(f"- divergent {d.a.id} <-> {d.b.id}")
    return "\n".join(lines).rstrip() + "\n"


def webhook_payload(result: RunReport) -> dict:
    """The JSON body posted to ``--webhook``: counts, the report, one object per change."""
    return {
        "event": "dipdiff.run",
        "run": result.run.id,
        "started_at": result.run.started_at,
        "finished_at": result.run.finished_at,
        "counts": result.counts(),
        "report": str(result.written.report) if result.written else None,
        "commit": result.commit,
        "changes": [
            {"kind": e.kind, "id": e.statement.id, "title": e.statement.title, "url": e.statement.url,
             "agency": e.statement.agency, "version": e.statement.version, "previous_version": e.a_version,
             "time": e.time, "summary": e.diff.summary() if e.diff is not None else None}
            for e in sorted(result.events, key=lambda e: (e.kind, e.statement.id))
        ],
        "divergences": [{"a": d.a.id, "b": d.b.id, "summary": d.summary} for d in result.divergences],
    }


def divergence_finder() -> DivergenceFinder:
    """Divergences that involve a statement that is new or changed in the events (compare.py)."""
    from dipdiff.service import find_divergences

    def find(store: Store, events: Sequence[Event], until: datetime | None) -> list[Divergence]:
        ids = sorted({e.statement.id for e in events if e.kind in ("new", "changed")})
        if not ids:
            return []
        pairs = find_divergences(store, involving=ids)
        if until is not None:
            # A report of a past day shows what was known then: a statement first seen later
            # does not add divergences to it (and the report stays the same).
            pairs = [p for p in pairs if _first_seen(store, p.a.id) <= until >= _first_seen(store, p.b.id)]
        return [divergence_record(store, pair) for pair in pairs]

    return find


def _first_seen(store: Store, sid: str) -> datetime:
    refs = store.versions(sid)
    return parse_timestamp(refs[0].fetched_at) if refs else datetime.max.replace(tzinfo=timezone.utc)


def divergence_record(store: Store, pair) -> Divergence:
    """A :class:`dipdiff.compare.DivergentPair` as the report shows it."""

    def ref(record) -> StatementRef:
        meta = store.meta(record.id)
        st = record.statement
        return StatementRef(record.id, st.title or meta.title, meta.url, st.agency or meta.agency,
                            record.version)

    a, b = ref(pair.a), ref(pair.b)
    actors = pair.actors
    stances = tuple(StanceRow(x.name, x.a.stance, x.b.stance) for x in actors)
    evidence = tuple(Quote(rec.id, text, x.name)
                     for x in actors for rec, side in ((pair.a, x.a), (pair.b, x.b))
                     for text in side.evidence[:2])
    reasons = [f"{x.name}: {'; '.join(x.reasons)}" for x in actors if x.reasons]
    return Divergence(a, b, ". ".join(reasons), stances, evidence, pair.score)


class LogListener:
    """Turns the fetch step's progress into log lines (one per statement at ``debug``)."""

    def __init__(self, log: Log) -> None:
        self.log = log

    def planned(self, source: str, count: int) -> None:
        self.log("debug", f"{source}: {count} statement(s) due")

    def checked(self, result) -> None:  # a SnapshotResult
        version = f"@{result.version}" if result.version else ""
        note = f" ({result.message})" if result.message else ""
        self.log("debug", f"{result.outcome.value:<11} {result.statement_id}{version}{note}")

    def problem(self, message: str) -> None:
        self.log("warning", message)
