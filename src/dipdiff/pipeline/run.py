"""``dipdiff run``: fetch, record, report and (optionally) commit, under one lock; what it found."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dipdiff.analyse.related import DEFAULT_WINDOW, DivergentPair, Record
from dipdiff.clock import parse_timestamp
from dipdiff.errors import DipdiffError
from dipdiff.models import (
    PROBLEM_KINDS,
    Divergence,
    Event,
    Outcome,
    Quote,
    RunResult,
    SnapshotResult,
    StanceRow,
    StatementRef,
)
from dipdiff.pipeline.crosscheck import find_divergences
from dipdiff.pipeline.health import newly_broken
from dipdiff.pipeline.notify import Delivery, Post, Targets, deliver, notify_targets
from dipdiff.pipeline.report import (
    FEED_NAME,
    INDEX_NAME,
    TEXT_KINDS,
    DivergenceFinder,
    History,
    WrittenReport,
    build_report,
    day_window,
    involving,
    run_window,
    write_reports,
)
from dipdiff.pipeline.shard import Shard
from dipdiff.render.markdown import event_counts
from dipdiff.render.notification import divergence_item, event_item, report_anchor
from dipdiff.render.plain import change_note
from dipdiff.status import ExitStatus
from dipdiff.store.git import check_branch, commit_paths, has_uncommitted_versions
from dipdiff.store.runs import RunRecord
from dipdiff.store.store import Store


@dataclass(frozen=True)
class RunReport:
    """What ``dipdiff run`` did: the recorded run, what it found, what it wrote and committed."""

    run: RunRecord
    fetched: RunResult
    events: tuple[Event, ...]  # the news of the run's window (models.CHANGE_KINDS)
    divergences: tuple[Divergence, ...]
    written: WrittenReport | None  # None: nothing to report, nothing written
    interrupted: tuple[RunRecord, ...] = ()
    commit: str | None = None
    delivery: Delivery | None = None  # what the webhook got (None: no webhook)
    problems: tuple[Event, ...] = ()  # spells of trouble that began or ended in the window
    notified: Mapping[str, Delivery] = field(default_factory=dict)  # by [notify] target

    @property
    def changed(self) -> bool:
        return bool(self.events or self.divergences)

    @property
    def all_failed(self) -> bool:
        """Every page failed, and that began now: the network or every source went down.

        A failure that goes on is said once, when it begins, not on every run while it lasts.
        """
        results = self.fetched.results
        return (
            bool(results)
            and all(r.outcome in TROUBLE_OUTCOMES for r in results)
            and any(r.event is not None and r.event.kind in PROBLEM_KINDS for r in results)
        )

    @property
    def exit_code(self) -> ExitStatus:
        """diff(1) style: 0 nothing changed, 1 changes found, 2 a source or every page failed,
        or the webhook was not reached."""
        trouble = self.fetched.problems or self.fetched.damaged or self.all_failed
        if trouble or self.undelivered:
            return ExitStatus.TROUBLE
        return ExitStatus.found(self.changed)

    @property
    def undelivered(self) -> list[str]:
        return undelivered(self.delivery, self.notified)

    def counts(self) -> dict[str, int]:
        return event_counts(self.events) | {"divergent": len(self.divergences)}

    def summary(self) -> str:
        c = self.counts()
        extra = [
            f"{n} {kind}"
            for kind in ("restored", "back", "moved", "flapping")
            if (n := sum(1 for e in self.events if e.kind == kind))
        ]
        return ", ".join([*(f"{v} {k}" for k, v in c.items()), *extra])


def undelivered(delivery: Delivery | None, notified: Mapping[str, Delivery]) -> list[str]:
    """Why the webhook or a ``[notify]`` target did not get its message, one line each."""
    deliveries = [*([delivery] if delivery else []), *notified.values()]
    return [d.error for d in deliveries if d.error]


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
    log: Log = lambda *_: None,
    webhook: Post | None = None,
    base_url: str = "",
    targets: Targets | None = None,
    shard: Shard | None = None,
) -> RunReport:
    """Fetch, record, report, (optionally) commit and tell the webhook, under the store's lock.

    The run is entered in its run record before anything is fetched and marked
    ``complete`` once its report is written, so a run killed at any point is
    found ``interrupted`` by the next one, whose report and commit include it.
    ``webhook`` gets the run's summary when something changed, after the summaries
    it missed before (:mod:`dipdiff.pipeline.notify`); so does each of ``targets`` (the
    ``[notify]`` targets), with what passes its rules.

    A ``shard`` writes only what is its own: its statements and its run record. The
    reports, index and feed, which every run rewrites, are written once from the merged
    store by :func:`dipdiff.pipeline.merge.merge_shards`.
    """

    if commit:
        check_branch(
            reports_dir.parent if not reports_dir.exists() else reports_dir
        )  # fail before fetching
    with store.lock(wait=lock_wait):
        record, interrupted = store.begin_run(now(), (shard.label, shard.tag) if shard else None)
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
        # Everything below is rendered from what the fetch step recorded (its results carry each
        # event and diff); only checks of other runs (a killed one, a `dipdiff fetch` in between)
        # are described from the store, by the same function, and nothing is diffed twice.
        _warn_broken(store, fetched, record.started_at, log)
        history = History(store, fetched.results)
        mine = history.window(run_window(store, record.id))
        changes = mine.changes
        for event in mine.problems:
            # Said when a page goes bad and when it is back, never on each run while it stays
            # bad: cron mails it.
            level = "info" if event.kind == "recovered" else "warning"
            log(
                level,
                f"{event.kind} {event.statement.id}" + (f": {event.note}" if event.note else ""),
            )
        day = day_window(parse_timestamp(record.finished_at).date(), store)
        path = reports_dir / day.filename
        # A shard knows only its part of the day: the day's report (and the divergences it
        # shows) is the merge's, from the merged store.
        day_events = history.window(day).events if shard is None else ()
        # Divergences once, for the run's changes and the day's together; each output takes its own.
        found = (
            tuple(find_divergences(store, changes + day_events, day.until))
            if find_divergences
            else ()
        )
        divergences = involving(found, changes)
        report = (
            build_report(store, day, history=history, divergences=involving(found, day_events))
            if shard is None
            else None
        )
        # A damaged file met while reporting costs its statement too: the run says so.
        damaged = tuple(store.damage.values())
        if damaged != fetched.damaged:
            for line in damaged[len(fetched.damaged) :]:
                log("warning", line)
            fetched = replace(fetched, damaged=damaged)
        record.problems = [*fetched.problems, *damaged]
        written: WrittenReport | None = None
        # A run in which nothing happened writes nothing (its check lines wait for the next
        # commit); one with news, trouble that began or ended, or run-level problems does.
        if report is None:
            log("debug", f"a shard: `dipdiff merge` writes {path}")
        elif changes or mine.problems or interrupted or record.problems:
            written = write_reports(
                store,
                reports_dir,
                report,
                filename=day.filename,
                history=history,
                base_url=base_url,
            )
            log("debug", f"wrote {path}, {INDEX_NAME} and {FEED_NAME}")
        else:
            log("debug", f"nothing happened: {path} not written")
        record.status = "complete"
        record.counts = event_counts(changes)
        record.counts["divergent"] = len(divergences)
        record.counts["checked"] = len(fetched.results)
        result = RunReport(
            record,
            fetched,
            changes,
            divergences,
            written,
            tuple(interrupted),
            problems=mine.problems,
        )
        if commit:
            # Also commit versions a killed or failed run left uncommitted.
            paths = [store.root] if shard else [store.root, reports_dir]
            if result.changed or has_uncommitted_versions(store.root):
                try:
                    store.end_run(record)
                    sha = commit_paths(
                        store.root,
                        paths,
                        commit_message(result),
                        leave=[Path(p) for p in store.damage],
                    )
                except DipdiffError as e:
                    # Not complete after all: the next run folds this one in and commits it.
                    record.status, record.problems = "failed", [str(e)]
                    store.end_run(record)
                    raise
                result = replace(result, commit=sha)
            else:
                log("debug", "nothing changed: no commit")
        store.end_run(record)
        label = f"dipdiff run {record.id}"
        if webhook is not None:
            delivery = tell(
                store,
                webhook,
                webhook_payload(result) if result.changed else None,
                started_at=record.started_at,
                label=label,
                commit=commit,
                log=log,
            )
            result = replace(result, delivery=delivery)
        if targets is not None and targets.targets:
            items = notification_items(
                result.events,
                result.divergences,
                result.written,
                targets.report_url,
                targets.site_url,
            )
            notified = notify(
                store,
                targets,
                items,
                period=record.id,
                started_at=record.started_at,
                now=now(),
                label=label,
                commit=commit,
                log=log,
            )
            result = replace(result, notified=notified)
    return result


def notification_items(
    events: Sequence[Event],
    divergences: Sequence[Divergence],
    written: WrittenReport | None,
    report_url: str = "",
    site_url: str = "",
) -> list[dict[str, Any]]:
    """Events (as the recorder decided them) and divergences as message items, linked to the
    day's report (a run's or a merge's) and, when its address is known, to the site's pages."""
    page = f"{report_url.rstrip('/')}/{written.report.name}" if report_url and written else ""

    def link(title: str, section: bool) -> str:
        return f"{page}#{report_anchor(title)}" if page and section else page

    items = [
        event_item(
            e,
            link(e.statement.title or e.statement.id, e.kind in ("changed", "restored")),
            site_url,
        )
        for e in events
    ]
    return items + [
        divergence_item(
            d, link(f"{d.a.agency or d.a.source} ↔ {d.b.agency or d.b.source}", True), site_url
        )
        for d in divergences
    ]


def notify(
    store: Store,
    targets: Targets,
    items: list[dict[str, Any]],
    *,
    period: str,
    started_at: str,
    now: str,
    label: str,
    commit: bool,
    log: Log,
) -> dict[str, Delivery]:
    """Each ``[notify]`` target gets what passes its rules, after what it missed before; the
    outbox's changes committed with ``label`` (``dipdiff run ID``) when ``commit``."""
    deliveries = notify_targets(
        store,
        targets.targets,
        targets.channels,
        items,
        period=period,
        started_at=started_at,
        now=now,
    )
    for name, d in deliveries.items():
        for problem in d.problems:
            log("warning", problem)
        if d.delivered:
            log("debug", f"notify target {name!r} got {d.delivered} message(s)")
    if commit and any(d.outbox_changed for d in deliveries.values()):
        kept = sum(d.kept for d in deliveries.values())
        commit_paths(
            store.root,
            [store.root],
            f"{label}: notifications; {kept} message(s) kept in the outbox\n",
        )
    return deliveries


def tell(
    store: Store,
    webhook: Post,
    payload: dict[str, Any] | None,
    *,
    started_at: str,
    label: str,
    commit: bool,
    log: Log,
) -> Delivery:
    """The webhook gets what it missed and ``payload`` (None: nothing new); the outbox keeps
    the rest, committed with ``label`` (``dipdiff run ID``) when ``commit``."""
    delivery = deliver(store, webhook, payload, started_at)
    for problem in delivery.problems:
        log("warning", problem)
    if delivery.delivered:
        log("debug", f"the webhook got {delivery.delivered} summary(ies)")
    if commit and delivery.outbox_changed:
        what = (
            f"webhook not reached; {delivery.kept} summary(ies) kept for the next run"
            if delivery.error
            else f"webhook reached; {delivery.delivered} kept summary(ies) delivered"
        )
        commit_paths(store.root, [store.root], f"{label}: {what}\n")
    return delivery


def _warn_broken(store: Store, fetched: RunResult, started_at: str, log: Log) -> None:
    """Once, on the run that shows it: a source whose pages no longer extract to a body."""
    sources = sorted({r.statement_id.split("/", 1)[0] for r in fetched.results})
    for name, pages in newly_broken(store, sources, started_at):
        log(
            "warning",
            f"source {name}: extraction broken: the last {pages} pages extracted to no body "
            f"(has the site changed? try `dipdiff sources check {name}`)",
        )


def commit_message(result: RunReport) -> str:
    """``dipdiff run <id>: 1 new, 2 changed, ...`` and one line per change."""
    lines = [f"dipdiff run {result.run.id}: {result.summary()}", ""]
    lines += event_lines(result.events, result.divergences)
    return "\n".join(lines).rstrip() + "\n"


def event_lines(events: Sequence[Event], divergences: Sequence[Divergence]) -> list[str]:
    """One line per change (``- changed ID@2 (...)``) and per divergence, as commits list them."""
    lines = [
        f"- {e.kind} {e.statement.id}{_version(e)}{_note(e)}"
        for e in sorted(events, key=lambda e: (e.kind, e.statement.id))
    ]
    lines.extend(f"- divergent {d.a.id} <-> {d.b.id}" for d in divergences)
    return lines


def _version(e: Event) -> str:
    shown = e.kind in ("new", "changed", "restored", "back", "moved")
    return f"@{e.statement.version}" if e.statement.version and shown else ""


def _note(e: Event) -> str:
    """What a commit line says of its change, in parentheses (nothing for a new statement)."""
    bits = []
    if e.kind == "restored" and e.restores is not None:
        bits.append(f"restored to the text of @{e.restores}")
    if e.kind == "flapping" and e.pair:
        bits.append(f"between the texts of @{e.pair[0]} and @{e.pair[1]}")
    if e.diff is not None:
        bits.append(change_note(e.diff))
    if e.undisclosed:
        bits.append("undisclosed edit")
    if e.kind == "moved" and e.note:
        bits.append(e.note)
    return f" ({'; '.join(bits)})" if bits else ""


def webhook_payload(result: RunReport) -> dict[str, Any]:
    """The JSON body posted to ``--webhook``: counts, the report, one object per change."""
    return {
        "event": "dipdiff.run",
        "run": result.run.id,
        "started_at": result.run.started_at,
        "finished_at": result.run.finished_at,
        "counts": result.counts(),
        "report": str(result.written.report) if result.written else None,
        "commit": result.commit,
        **news_payload(result.events, result.divergences),
    }


def news_payload(events: Sequence[Event], divergences: Sequence[Divergence]) -> dict[str, Any]:
    """The ``changes`` and ``divergences`` of a webhook's summary (run's or merge's)."""
    return {
        "changes": [
            {
                "kind": e.kind,
                "id": e.statement.id,
                "title": e.statement.title,
                "url": e.statement.url,
                "agency": e.statement.agency,
                "version": e.statement.version,
                "previous_version": e.a_version,
                "time": e.time,
                "summary": e.diff.summary() if e.diff is not None else None,
                "restores": e.restores,
                "change_note": e.change_note or None,
                "undisclosed_edit": e.undisclosed,
                "note": e.note or None,
            }
            for e in sorted(events, key=lambda e: (e.kind, e.statement.id))
        ],
        "divergences": [{"a": d.a.id, "b": d.b.id, "summary": d.summary} for d in divergences],
    }


def divergence_finder(window: timedelta = DEFAULT_WINDOW) -> DivergenceFinder:
    """Divergences that involve a statement that is new or changed in the events (compare.py),
    between statements at most ``window`` apart."""

    def find(store: Store, events: Sequence[Event], until: datetime | None) -> list[Divergence]:
        ids = sorted({e.statement.id for e in events if e.kind in TEXT_KINDS})
        if not ids:
            return []
        pairs = find_divergences(store, involving=ids, window=window)
        if until is not None:
            # A report of a past day shows what was known then: a statement first seen later
            # does not add divergences to it (and the report stays the same).
            pairs = [
                p
                for p in pairs
                if _first_seen(store, p.a.id) <= until >= _first_seen(store, p.b.id)
            ]
        return [divergence_record(store, pair) for pair in pairs]

    return find


def _first_seen(store: Store, sid: str) -> datetime:
    refs = store.versions(sid)
    return parse_timestamp(refs[0].fetched_at) if refs else datetime.max.replace(tzinfo=UTC)


def divergence_record(store: Store, pair: DivergentPair) -> Divergence:
    """A :class:`dipdiff.analyse.related.DivergentPair` as the report shows it."""

    def ref(record: Record, language: str) -> StatementRef:
        meta = store.meta(record.id)
        st = record.statement
        return StatementRef(
            record.id,
            st.title or meta.title,
            meta.url,
            st.agency or meta.agency,
            record.version,
            language,
        )

    a, b = (
        ref(r, lang) for r, lang in zip((pair.a, pair.b), pair.comparison.languages, strict=True)
    )
    actors = pair.actors
    stances = tuple(StanceRow(x.name, x.a.stance, x.b.stance) for x in actors)
    evidence = tuple(
        Quote(rec.id, text, x.name)
        for x in actors
        for rec, side in ((pair.a, x.a), (pair.b, x.b))
        for text in side.evidence[:2]
    )
    reasons = [f"{x.name}: {'; '.join(x.reasons)}" for x in actors if x.reasons]
    return Divergence(a, b, ". ".join(reasons), stances, evidence, pair.score)


class LogListener:
    """Turns the fetch step's progress into log lines (one per statement at ``debug``)."""

    def __init__(self, log: Log) -> None:
        self.log = log

    def planned(self, source: str, count: int) -> None:
        self.log("debug", f"{source}: {count} statement(s) due")

    def checked(self, result: SnapshotResult) -> None:
        version = f"@{result.version}" if result.version else ""
        note = f" ({result.message})" if result.message else ""
        self.log("debug", f"{result.outcome.value:<11} {result.statement_id}{version}{note}")

    def problem(self, message: str) -> None:
        self.log("warning", message)
