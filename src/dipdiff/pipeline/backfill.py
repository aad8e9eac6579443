"""``dipdiff backfill``: a statement's history before dipdiff watched it, from the Wayback Machine.

For each statement URL: one exact-URL CDX query (its pages followed by resume key) lists the
captures in the window; each capture's original bytes are fetched and recorded through the one
recorder (:mod:`dipdiff.pipeline.record`), so that a backfilled history follows the rules of a
live one: the same extraction, normalisation and blocked-page detection, a text already stored
is no new version (the CDX digest covers raw bytes, so it only cuts the work), and a capture
older than the statement's live checks takes its place in the history. Each version and check
says where it came from (:class:`dipdiff.models.Provenance`).

All HTTP goes through one :class:`dipdiff.scrape.http.Fetcher`, whose per-host gate keeps the
archive's limits: ``[backfill] cdx_delay`` between CDX queries, ``memento_delay`` between
captures, ``Retry-After`` honoured. A 429 that outlasts the retries stops the run cleanly;
where each statement stood is kept in the store (:mod:`dipdiff.store.resume`) and the next
backfill goes on from there. Running it again adds nothing: a capture already recorded
(a check from the archive at its time) is skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from dipdiff.clock import utc_timestamp
from dipdiff.config import BackfillSettings, Config, ExtractRules, FetchSettings, Schedule
from dipdiff.errors import FetchError
from dipdiff.models import Outcome, Page, Provenance, SnapshotResult
from dipdiff.pipeline.record import Recorder
from dipdiff.scrape.http import (
    HTML_TYPES,
    JSON_TYPES,
    AsyncClient,
    Fetcher,
    Sleep,
    one_off_policy,
)
from dipdiff.scrape.policy import NetPolicy
from dipdiff.scrape.wayback import (
    Capture,
    cdx_query,
    memento_of,
    memento_url,
    parse_cdx,
    parse_wayback_time,
    wayback_time,
)
from dipdiff.store.ids import source_for_url
from dipdiff.store.resume import ResumeState, read_state, write_state
from dipdiff.store.store import Store

WAYBACK = "wayback"  # the origin of versions backfilled from a Wayback (CDX) archive
#: What became of a statement's captures:
#: found (listed in the window: distinct times, HTTP 200), fetched, stored (versions), duplicates
#: (a text already stored, a revisit, a CDX row listed twice), blocked (error, challenge and
#: "Access Denied" pages: never versions), skipped (already backfilled, or redirected to a
#: capture outside the window), failed (captures the archive could not serve: not HTML, 404, 5xx).
COUNTS = ("found", "fetched", "stored", "duplicates", "blocked", "skipped", "failed")


@dataclass(frozen=True)
class Target:
    """A statement to backfill: its URL and how to read it."""

    url: str
    source: str
    agency: str | None = None
    rules: ExtractRules | None = None


@dataclass
class StatementBackfill:
    """What the archive held for one statement, and what became of it."""

    url: str
    id: str | None = None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    results: list[SnapshotResult] = field(default_factory=list)
    complete: bool = False  # every capture in the window was read
    note: str = ""


@dataclass
class BackfillResult:
    archive: str
    statements: list[StatementBackfill] = field(default_factory=list)
    stopped: str | None = None  # why the archive stopped the run (resumed next time)
    requests: int = 0

    def total(self, name: str) -> int:
        return sum(s.counts[name] for s in self.statements)

    @property
    def news(self) -> bool:
        return any(r.news for s in self.statements for r in s.results)


class Listener(Protocol):
    def found(self, item: StatementBackfill, count: int) -> None: ...

    def fetched(self, item: StatementBackfill, result: SnapshotResult | None) -> None: ...

    def done(self, item: StatementBackfill) -> None: ...


class _LimitedError(Exception):
    """The archive keeps answering 429: stop here, resume next time."""


def targets_of(
    store: Store,
    urls: Sequence[str],
    *,
    source: str | None,
    config: Config | None,
) -> list[Target]:
    """The statements to backfill: the URLs given, else every known statement of ``source``."""
    conf = next((s for s in config.sources if s.name == source), None) if config else None
    agency = conf.agency or None if conf else None
    rules = conf.extract if conf else None
    if urls:
        return [Target(u, source or source_for_url(u), agency, rules) for u in urls]
    if source is None:
        return []
    found = []
    for sid in store.statement_ids():
        if sid.split("/", 1)[0] == source:
            with store.guard():
                found.append(Target(store.meta(sid).url, source, agency, rules))
    return found


def backfill(
    store: Store,
    targets: Sequence[Target],
    *,
    settings: BackfillSettings | None = None,
    fetch: FetchSettings | None = None,
    schedule: Schedule | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int | None = None,
    listener: Listener | None = None,
    client: AsyncClient | None = None,
    sleep: Sleep | None = None,
    lock_wait: float = 0.0,
) -> BackfillResult:
    """Backfill each target from the archive (``settings.archive``); holds the store's lock."""
    settings = settings or BackfillSettings()
    fetch = fetch or FetchSettings()
    run = _Backfill(
        store,
        Recorder(store, schedule or Schedule()),
        settings,
        archive_policy(settings.archive, fetch),
        start,
        end,
        limit,
        listener,
    )
    with store.lock(wait=lock_wait), store.deferred_sync():
        return asyncio.run(run.all(targets, fetch, client, sleep))


def archive_policy(archive: str, fetch: FetchSettings) -> NetPolicy:
    """A backfill asks the archive only, and follows its redirects only within the archive's
    site (a capture's page is never fetched from the site itself, nor from where a redirect
    points). The user named the archive (``--archive``, ``[backfill] archive``): like a URL given
    on the command line, it may be a private address (a local mirror, the tests' archive)."""
    named = one_off_policy(archive).allow_private
    return NetPolicy.for_urls([archive], allow_private=fetch.allow_private or named)


@dataclass
class _Backfill:
    store: Store
    recorder: Recorder
    settings: BackfillSettings
    policy: NetPolicy
    start: datetime | None
    end: datetime | None
    limit: int | None
    listener: Listener | None

    async def all(
        self,
        targets: Sequence[Target],
        fetch: FetchSettings,
        client: AsyncClient | None,
        sleep: Sleep | None,
    ) -> BackfillResult:
        result = BackfillResult(self.settings.archive)
        fetcher = (
            Fetcher(fetch, client=client, sleep=sleep)
            if sleep is not None
            else Fetcher(fetch, client=client)
        )
        async with fetcher:
            for target in targets:
                item = StatementBackfill(target.url, self.store.find_url(target.url, target.source))
                result.statements.append(item)
                try:
                    await self.one(fetcher, target, item)
                except _LimitedError as e:
                    result.stopped = str(e)
                    item.note = str(e)
                    break
                finally:
                    if self.listener is not None:
                        self.listener.done(item)
            result.requests = fetcher.requests
        return result

    async def one(self, fetcher: Fetcher, target: Target, item: StatementBackfill) -> None:
        archive = self.settings.archive
        asked = wayback_time(self.start) if self.start else ""
        state = read_state(self.store.root, archive, target.url)
        # Where the last backfill stopped, if its window began no later than this one's: a
        # window reaching further back asks the archive for all of it again (the captures
        # already recorded are still not fetched again: see _recorded).
        if state is not None and state.start > asked:
            state = None
        through = state.through if state else ""
        covered = state.start if state else asked
        start = self.start
        if through and (start is None or parse_wayback_time(through) > start):
            start = parse_wayback_time(through)
        captures = await self._list(fetcher, target.url, start, item)
        todo = [c for c in captures if c.timestamp > through]
        item.counts["skipped"] += len(captures) - len(todo)
        seen = self._recorded(item.id, archive)
        if self.listener is not None:
            self.listener.found(item, len(todo))
        last = through
        try:
            for n, capture in enumerate(todo):
                if self.limit is not None and n >= self.limit:
                    return
                if capture.timestamp in seen:
                    item.counts["skipped"] += 1
                else:
                    await self._capture(fetcher, target, capture, item)
                last = capture.timestamp
            item.complete = True
        finally:
            if (last and last != through) or item.complete:
                write_state(
                    self.store.root,
                    ResumeState(target.url, archive, last, item.complete, covered),
                )

    async def _list(
        self, fetcher: Fetcher, url: str, start: datetime | None, item: StatementBackfill
    ) -> list[Capture]:
        """The captures of ``url`` in the window, one per time, oldest first."""
        captures: dict[str, Capture] = {}
        key: str | None = None
        while True:
            query = cdx_query(self.settings.archive, url, start=start, end=self.end, resume_key=key)
            page = parse_cdx(
                (await self._get(fetcher, query, self.settings.cdx_delay, JSON_TYPES)).text, query
            )
            for c in page.captures:
                if c.timestamp in captures or c.status != "200":
                    item.counts["duplicates"] += (
                        1  # listed twice, or a revisit: bytes already listed
                    )
                elif self._inside(c.timestamp):
                    captures[c.timestamp] = c
            if not page.resume_key or page.resume_key == key:
                break
            key = page.resume_key
        item.counts["found"] = len(captures)
        return [captures[t] for t in sorted(captures)]

    def _inside(self, stamp: str) -> bool:
        when = parse_wayback_time(stamp)
        return (self.start is None or when >= self.start) and (self.end is None or when <= self.end)

    def _recorded(self, sid: str | None, archive: str) -> set[str]:
        """The archive timestamps of the captures already recorded for the statement."""
        if sid is None:
            return set()
        prefix = f"{archive.rstrip('/')}/web/"
        out = set()
        for c in self.store.meta(sid).checks:
            memento = str(c.get("memento") or "")
            if memento.startswith(prefix):
                found = memento_of(memento)
                if found:
                    out.add(found[0])
        return out

    async def _get(self, fetcher: Fetcher, url: str, delay: float, types: tuple[str, ...]) -> Page:
        try:
            return await fetcher.get(url, delay=delay, accept_types=types, policy=self.policy)
        except FetchError as e:
            # A 429 on the page or on the archive's robots.txt (the Fetcher passes its status on).
            if e.status == 429:
                raise _LimitedError(
                    f"the archive is limiting requests ({e.reason}); stopped, "
                    "run the same backfill later to go on"
                ) from None
            raise

    async def _capture(
        self, fetcher: Fetcher, target: Target, capture: Capture, item: StatementBackfill
    ) -> None:
        asked = memento_url(self.settings.archive, capture)
        try:
            page = await self._get(fetcher, asked, self.settings.memento_delay, HTML_TYPES)
        except FetchError as e:
            item.counts["failed"] += 1
            item.note = f"{capture.timestamp}: {e.reason}"
            self._tell(item, None)
            return
        item.counts["fetched"] += 1
        stamp, original = memento_of(page.final_url) or (capture.timestamp, capture.original)
        if stamp != capture.timestamp and not self._inside(stamp):
            # The archive sent us to its nearest capture, outside the window asked for.
            item.counts["skipped"] += 1
            item.note = (
                f"{capture.timestamp} redirected to a capture of {stamp}, outside the window"
            )
            self._tell(item, None)
            return
        when = parse_wayback_time(stamp)
        archived = Page(
            url=target.url,
            final_url=original if original != capture.original else target.url,
            status=200,
            content=page.content,
            text=page.text,
            content_type=page.content_type,
            fetched_at=utc_timestamp(when),
        )
        result = self.recorder.capture(
            archived,
            source=target.source,
            agency=target.agency,
            rules=target.rules,
            provenance=Provenance(WAYBACK, page.final_url, wayback_time(when), capture.digest),
        )
        item.id = result.statement_id
        item.results.append(result)
        if result.outcome in (Outcome.NEW, Outcome.CHANGED, Outcome.RESTORED):
            item.counts["stored"] += 1
        elif result.outcome is Outcome.BLOCKED:
            item.counts["blocked"] += 1
        else:
            item.counts["duplicates"] += 1
        self._tell(item, result)

    def _tell(self, item: StatementBackfill, result: SnapshotResult | None) -> None:
        if self.listener is not None:
            self.listener.fetched(item, result)


def summary_line(result: BackfillResult) -> str:
    """The run in one line: captures found, fetched, stored, and the duplicates' share."""
    fetched = result.total("fetched")
    dup = result.total("duplicates")
    seen = dup + result.total("stored") + result.total("blocked")
    share = f" ({dup / seen:.0%} of captures)" if seen else ""
    line = (
        f"backfilled {len(result.statements)} statement(s) from {result.archive}: "
        f"{result.total('found')} capture(s) found, {fetched} fetched, "
        f"{result.total('stored')} version(s) stored, {dup} duplicate(s) skipped{share}, "
        f"{result.total('blocked')} blocked"
    )
    return line + (f"; stopped: {result.stopped}" if result.stopped else "")


def statement_line(item: StatementBackfill) -> str:
    """One statement's backfill, as printed when stdout is not a terminal."""
    counts = ", ".join(f"{n} {k}" for k, n in item.counts.items() if n or k in ("found", "stored"))
    state = "" if item.complete else " (not finished: run again to go on)"
    note = f"  ({item.note})" if item.note else ""
    return f"{item.id or item.url}: {counts}{state}{note}"


def backfill_doc(result: BackfillResult) -> dict[str, Any]:
    """``dipdiff backfill --json``: a documented shape whose fields are only ever added."""
    return {
        "archive": result.archive,
        "stopped": result.stopped,
        "requests": result.requests,
        **{k: result.total(k) for k in COUNTS},
        "statements": [
            {
                "url": s.url,
                "id": s.id,
                **s.counts,
                "complete": s.complete,
                "note": s.note,
                "versions": [
                    {
                        "version": r.version,
                        "outcome": r.outcome.value,
                        "time": r.check.time if r.check else None,
                        "memento": r.check.memento if r.check else None,
                        "message": r.message,
                    }
                    for r in s.results
                    if r.outcome in (Outcome.NEW, Outcome.CHANGED, Outcome.RESTORED)
                ],
            }
            for s in result.statements
        ],
    }
