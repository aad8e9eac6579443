"""``dipdiff merge``: the shards' commits merged through git, then the day's report written once.

Each shard (``dipdiff run --shard I/N``) commits only its statements and its run record,
so the shards' branches merge without conflicts. What every run would otherwise rewrite,
the day's report, ``reports/README.md`` and ``reports/feed.xml``, is written here, from the
merged store: the report covers every shard's checks, and divergences between statements
of two shards are found here, where both are known.

The merge follows the rules of an unsharded run. The events are the ones each shard's
recorder wrote in its checks (described by :class:`dipdiff.pipeline.report.History`, never
decided again), and the report is written only when the round merged in found something:
the shards' runs it brought in (a *round*) recorded an event, or one of them was
interrupted or met trouble. A quiet round writes nothing and commits nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dipdiff.models import CHANGE_KINDS, Divergence, Event
from dipdiff.pipeline.notify import Delivery, Post, Targets
from dipdiff.pipeline.report import (
    DivergenceFinder,
    History,
    Window,
    WrittenReport,
    build_report,
    default_window,
    involving,
    write_reports,
)
from dipdiff.pipeline.run import (
    Log,
    event_lines,
    news_payload,
    notification_items,
    notify,
    tell,
    undelivered,
)
from dipdiff.render.markdown import ReportInput, event_counts
from dipdiff.status import ExitStatus
from dipdiff.store.git import commit_paths, merge_refs
from dipdiff.store.store import Store


@dataclass(frozen=True)
class MergeReport:
    """What ``dipdiff merge`` did: the merge commit, the round's news, the report, its commit."""

    merged: str | None  # the merge commit (None: no refs given, or all merged already)
    report: ReportInput  # the report of the day
    runs: tuple[str, ...]  # the runs of the round: those the merge brought in (or the day's)
    events: tuple[Event, ...]  # what those runs recorded (models.CHANGE_KINDS)
    divergences: tuple[Divergence, ...]  # the divergences of their changes
    written: WrittenReport | None  # None: the round found nothing, nothing written
    commit: str | None = None
    delivery: Delivery | None = None  # what the webhook got (None: no webhook)
    notified: Mapping[str, Delivery] = field(default_factory=dict)  # by [notify] target

    @property
    def changed(self) -> bool:
        return bool(self.events or self.divergences)

    @property
    def exit_code(self) -> ExitStatus:
        """diff(1) style: 1 when the round's runs recorded changes or divergences, 2 when the
        webhook was not reached."""
        if self.undelivered:
            return ExitStatus.TROUBLE
        return ExitStatus.found(self.changed)

    @property
    def undelivered(self) -> list[str]:
        return undelivered(self.delivery, self.notified)

    def counts(self) -> dict[str, int]:
        return event_counts(self.events) | {"divergent": len(self.divergences)}


def merge_shards(
    store: Store,
    reports_dir: Path,
    refs: Sequence[str] = (),
    *,
    commit: bool = False,
    find_divergences: DivergenceFinder | None = None,
    lock_wait: float = 0.0,
    base_url: str = "",
    webhook: Post | None = None,
    targets: Targets | None = None,
    now: str = "",
    log: Log = lambda *_: None,
) -> MergeReport:
    """Merge ``refs`` into the store's repository, then write (and commit) the day's report.

    The round is the runs the merge brought in or changed (a later run of a shard marks
    its killed run ``interrupted``); without ``refs`` (the branches merged by plain git
    already), the runs of the latest run's day. Running it again changes nothing: the
    merge finds nothing new, and the report, built from the same store, is the same file.
    ``webhook`` gets the round's summary when it found something (after what it missed), as
    it would get an unsharded run's, and so do the ``[notify]`` ``targets`` (``now``: the
    time they are told): the merge is the one place that knows the whole round.
    """
    before = {r.id: r.status for r in store.runs()} if refs else None
    # git first: the lock would create the store's own files, and git does not merge
    # into a folder holding untracked copies of files the shards committed.
    merged = merge_refs(store.root.parent, refs) if refs else None
    with store.lock(wait=lock_wait):
        day = default_window(store)
        history = History(store)
        report = build_report(store, day, history=history, find_divergences=find_divergences)
        runs = (
            day.runs
            if before is None
            else tuple(r.id for r in store.runs() if before.get(r.id) != r.status)
        )
        # The round's checks: those its runs made (by their names, as run --run reads them).
        round_ = build_report(
            store, replace(day, runs=runs, by_run=True), history=history, divergences=()
        )
        events = tuple(e for e in round_.events if e.kind in CHANGE_KINDS)
        divergences = involving(report.divergences, events)
        written = None
        if runs and (round_.events or round_.notes):
            written = write_reports(
                store,
                reports_dir,
                report,
                filename=day.filename,
                history=history,
                base_url=base_url,
            )
        result = MergeReport(merged, report, runs, events, divergences, written)
        if commit and written is not None:
            sha = commit_paths(store.root, [reports_dir], merge_message(result, day))
            result = replace(result, commit=sha)
        if webhook is not None:
            delivery = tell(
                store,
                webhook,
                webhook_payload(result) if result.changed else None,
                started_at=_last_start(store, runs),
                label=f"dipdiff merge {day.label}",
                commit=commit,
                log=log,
            )
            result = replace(result, delivery=delivery)
        if targets is not None and targets.targets and runs:
            items = notification_items(
                events, divergences, written, targets.report_url, targets.site_url
            )
            notified = notify(
                store,
                targets,
                items,
                period=runs[-1],
                started_at=_last_start(store, runs),
                now=now,
                label=f"dipdiff merge {day.label}",
                commit=commit,
                log=log,
            )
            result = replace(result, notified=notified)
    return result


def _last_start(store: Store, runs: Sequence[str]) -> str:
    starts = [r.started_at for r in store.runs() if r.id in runs]
    return max(starts) if starts else ""


def webhook_payload(result: MergeReport) -> dict[str, Any]:
    """What ``dipdiff merge --webhook`` posts: a run's summary (:func:`run.webhook_payload`)
    for the whole round, ``run`` being its last run and ``runs`` all of them."""
    return {
        "event": "dipdiff.merge",
        "run": result.runs[-1] if result.runs else None,
        "runs": list(result.runs),
        "counts": result.counts(),
        "report": str(result.written.report) if result.written else None,
        "commit": result.commit,
        **news_payload(result.events, result.divergences),
    }


def merge_message(result: MergeReport, day: Window) -> str:
    """``dipdiff merge: report of DAY (1 new, ...)``, the round's runs, one line per change."""
    counts = ", ".join(f"{v} {k}" for k, v in result.counts().items())
    lines = [
        f"dipdiff merge: report of {day.label} ({counts})",
        "",
        f"Runs: {', '.join(result.runs)}",
        "",
        *event_lines(result.events, result.divergences),
    ]
    return "\n".join(lines).rstrip() + "\n"
