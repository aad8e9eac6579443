"""``dipdiff fetch``: discover statements, re-check known ones, record one outcome for each.

The run: for every source, read its discovery document (feed, listing,
sitemap, JSON API), plan which statements are due (new ones always, known ones
on a schedule that backs off with the time since they last changed), fetch
them politely (:class:`dipdiff.fetch.Fetcher`) and record what happened in the
store. Each statement checked gets exactly one :class:`~dipdiff.models.Outcome`:

* ``new`` / ``changed`` — a version was stored;
* ``unchanged`` — same canonical text (also: a 304, an identical body, a flap
  back to a version seen within ``flap_window``, a title that changed only in
  case); the check notes which;
* ``unavailable`` — timeout, connection error, 5xx, 429, or a 404/410 not yet
  seen ``removed_after`` times in a row; retried on the next run;
* ``blocked`` — a bot wall, a 401/403/451, robots.txt, a body that extracted to
  nearly nothing; never stored as a version;
* ``removed`` — 404/410 ``removed_after`` times in a row, or a redirect to a
  listing page;
* ``moved`` — the same text at a new URL; the statement keeps its ID, the old
  URL goes to ``previous_urls``.

One failing page never stops a run; a source whose discovery fails is reported
in ``RunResult.problems`` and its known statements are still re-checked.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from dipdiff.config import Config, Schedule, SourceConfig
from dipdiff.discover import (
    ContentItem,
    Item,
    discover,
    parse_content_item,
    same_release,
    title_case_only,
)
from dipdiff.errors import DipdiffError, ExtractError, FetchError, RobotsDisallowed, StoreError
from dipdiff.extract import blocked_reason, extract
from dipdiff.models import Check, Outcome, Page, RunResult, SnapshotResult, Statement
from dipdiff.normalize import content_hash, slugify
from dipdiff.store import StatementMeta, Store, parse_timestamp, slug_for_url, utc_timestamp

Clock = Callable[[], str]
_SEEN = (Outcome.NEW, Outcome.CHANGED, Outcome.UNCHANGED, Outcome.MOVED)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NEWS = frozenset({Outcome.NEW, Outcome.CHANGED, Outcome.MOVED, Outcome.REMOVED})


class Listener:
    """What a run tells its caller as it goes (the CLI draws a progress bar from it)."""

    def planned(self, source: str, count: int) -> None:
        """``count`` statements of ``source`` will be checked."""

    def checked(self, result: SnapshotResult) -> None:
        """One statement was checked."""

    def problem(self, message: str) -> None:
        """Source-level trouble (one line)."""


# -- what the store knows, in compact form ----------------------------------------------------


@dataclass
class Known:
    """The part of a statement's ``meta.json`` that planning needs."""

    sid: str
    url: str
    guid: str | None = None
    published: str | None = None
    previous_urls: tuple[str, ...] = ()
    last_check: datetime | None = None
    last_change: datetime | None = None
    last_outcome: str | None = None
    sha: str | None = None  # of the text last seen (not necessarily the latest version)
    raw_sha: str | None = None
    etag: str | None = None
    last_modified: str | None = None


def summarize(meta: StatementMeta) -> Known:
    k = Known(meta.id, meta.url, meta.guid, meta.published, tuple(meta.previous_urls))
    for c in meta.checks:
        outcome = c.get("outcome")
        when = _time(c.get("time"))
        k.last_check, k.last_outcome = when or k.last_check, outcome
        if outcome in (Outcome.NEW, Outcome.CHANGED, Outcome.MOVED) or k.last_change is None:
            k.last_change = when or k.last_change
        if outcome in _SEEN and c.get("sha256"):
            k.sha = c["sha256"]
            k.raw_sha = c.get("raw_sha256") or (k.raw_sha if c.get("status") == 304 else None)
            if c.get("status") != 304 or c.get("etag") or c.get("last_modified"):
                k.etag, k.last_modified = c.get("etag") or k.etag, c.get("last_modified") or k.last_modified
    return k


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except DipdiffError:
        return None


class Index:
    """Statements of one source by URL and by guid, built from the store at the start of a run."""

    def __init__(self, known: Iterable[Known]) -> None:
        self.by_sid: dict[str, Known] = {}
        self.by_url: dict[str, str] = {}
        self.by_guid: dict[str, str] = {}
        self.by_sha: dict[str, str] = {}
        self.discovered: set[str] = set()  # URLs that this run's discovery listed
        for k in sorted(known, key=lambda k: k.last_check or _EPOCH):
            self.add(k)

    def add(self, k: Known) -> None:
        self.by_sid[k.sid] = k
        for u in (*k.previous_urls, k.url):
            self.by_url[u] = k.sid
        if k.guid:
            self.by_guid[k.guid] = k.sid  # a reused guid points at its newest statement
        if k.sha:
            self.by_sha[k.sha] = k.sid

    @classmethod
    def load(cls, store: Store, source: str) -> Index:
        known = []
        for sid in store.statement_ids():
            if sid.split("/")[0] == source:
                known.append(summarize(store.meta(sid)))
        return cls(known)


def due(k: Known, now: datetime, schedule: Schedule) -> bool:
    """Is a known statement due for a re-check? Backs off with the time since it last changed."""
    if k.last_check is None:
        return True
    if k.last_outcome == Outcome.REMOVED:
        return False  # until it shows up in discovery again, or --all
    if k.last_outcome in (Outcome.UNAVAILABLE, Outcome.BLOCKED):
        interval = schedule.min_interval
    else:
        age = (now - (k.last_change or k.last_check)).total_seconds()
        interval = min(max(age * schedule.factor, schedule.min_interval), schedule.max_interval)
    return (now - k.last_check).total_seconds() >= interval


# -- planning -----------------------------------------------------------------------------------


@dataclass
class Task:
    source: SourceConfig
    url: str  # the statement's public URL
    sid: str | None = None  # None: not in the store yet
    item: Item | None = None
    fetch_url: str | None = None  # e.g. the gov.uk content API address
    published: str | None = None


@dataclass
class Plan:
    tasks: list[Task] = field(default_factory=list)
    listing_urls: set[str] = field(default_factory=set)


def plan_source(
    source: SourceConfig, items: list[Item], index: Index, now: datetime, schedule: Schedule, *,
    check_all: bool, since: datetime | None,
) -> list[Task]:
    """The statements of one source to check in this run, newest first."""
    tasks: list[Task] = []
    seen: set[str] = set()
    index.discovered = {i.url for i in items}
    for item in items:
        sid = (index.by_guid.get(item.guid) if item.guid else None) or index.by_url.get(item.url)
        published = _time(item.published)
        if since and published is not None and published < since:
            continue
        if sid:
            seen.add(sid)
            k = index.by_sid[sid]
            # Full-text items cost nothing to check; pages wait for their turn.
            if item.statement is None and not check_all and k.last_outcome != Outcome.REMOVED \
                    and not due(k, now, schedule):
                continue
        url = item.url
        if sid and item.statement is None and url in index.by_sid[sid].previous_urls:
            url = index.by_sid[sid].url  # listed under an old address: ask where it lives now
        tasks.append(Task(source, url, sid, item, item.fetch_url, item.published))
    if not source.full_text:
        for sid, k in index.by_sid.items():
            if sid in seen:
                continue
            published = _time(k.published)
            if since and (published is None or published < since):
                continue
            if check_all or due(k, now, schedule):
                tasks.append(Task(source, k.url, sid, None, _content_url(source, k.url), k.published))
    tasks.sort(key=lambda t: (t.sid is not None, _sort_key(t.published)))
    return tasks


def _sort_key(published: str | None) -> float:
    when = _time(published) if published else None
    return -when.timestamp() if when else 0.0


def _content_url(source: SourceConfig, url: str) -> str | None:
    if source.kind == "json" and source.content_api:
        return source.content_api.rstrip("/") + urlsplit(url).path
    return None


# -- recording ----------------------------------------------------------------------------------


@dataclass
class Recorder:
    """Turns one fetched page (or feed item, or failure) into one outcome in the store."""

    store: Store
    schedule: Schedule
    clock: Clock

    def _meta(self, task: Task, sid: str) -> StatementMeta:
        if self.store.exists(sid):
            return self.store.meta(sid)
        guid = task.item.guid if task.item else None
        return StatementMeta(id=sid, source=task.source.name, url=task.url, guid=guid)

    def allocate(self, task: Task, index: Index, title: str = "") -> str:
        """A fresh ID for a statement not in the store (readable slug, else slug+hash)."""
        slug = slug_for_url(task.url)
        key = task.url + "\n" + (task.item.guid if task.item and task.item.guid else "") + "\n" + title
        candidates = [slug]
        if title:
            candidates.append(slugify(title, 80))
        candidates.append(f"{slug[:71]}-{hashlib.sha1(key.encode()).hexdigest()[:8]}")
        for c in candidates:
            sid = f"{task.source.name}/{c}"
            if sid not in index.by_sid and not self.store.exists(sid):
                return sid
        return f"{task.source.name}/{slug[:62]}-{hashlib.sha1((key + self.clock()).encode()).hexdigest()[:17]}"

    def failure(self, task: Task, index: Index, error: FetchError) -> SnapshotResult:
        now = self.clock()
        sid = task.sid or self.allocate(task, index)
        meta = self._meta(task, sid)
        status = error.status
        if isinstance(error, RobotsDisallowed) or status in (401, 403, 451):
            outcome, message = Outcome.BLOCKED, error.reason
        elif status in (404, 410):
            gone = 1
            for c in reversed(meta.checks):
                if c.get("status") in (404, 410):
                    gone += 1
                else:
                    break
            if gone >= self.schedule.removed_after:
                outcome, message = Outcome.REMOVED, f"HTTP {status} on {gone} checks in a row"
            else:
                outcome = Outcome.UNAVAILABLE
                message = f"HTTP {status} ({gone} of {self.schedule.removed_after} before removed)"
        else:
            outcome, message = Outcome.UNAVAILABLE, error.reason
        check = Check(time=now, outcome=outcome, url=task.fetch_url or task.url, status=status, note=message)
        self.store.record_check(sid, check, meta)
        self._reindex(index, meta)
        return SnapshotResult(sid, outcome, task.url, message=message, title=meta.title)

    def page(self, task: Task, index: Index, page: Page, listing_urls: set[str]) -> SnapshotResult:
        """Record a fetched statement page (or gov.uk content item)."""
        sid = task.sid
        known = index.by_sid.get(sid) if sid else None
        raw_sha = _raw_sha(task.source, page.content) if page.status != 304 else (known.raw_sha if known else None)
        note = None
        if page.final_url != (task.fetch_url or task.url):
            note = f"redirected to {page.final_url}"
            if _is_listing(task.fetch_url or task.url, page.final_url, listing_urls):
                return self._simple(task, index, Outcome.REMOVED, page, f"redirected to a listing page "
                                    f"({page.final_url})")
        if known and (page.status == 304 or (raw_sha and raw_sha == known.raw_sha)) and known.sha:
            if note and task.fetch_url is None and page.final_url != known.url:  # same page, new address
                return self._moved(task, index, known.sid, page.final_url, known.sha, page, raw_sha)
            why = "304 Not Modified" if page.status == 304 else "identical page"
            return self._simple(task, index, Outcome.UNCHANGED, page, note or why, sha=known.sha,
                                raw_sha=raw_sha, quiet=True)
        if page.status == 304:  # a 304 without anything to compare to: ask again in full next time
            return self._simple(task, index, Outcome.UNAVAILABLE, page, "304 without a stored version")
        try:
            statement, govuk = self._extract_item(task, page)
        except ExtractError as e:
            statement, govuk, reason = None, None, e.reason
        else:
            reason = None
        if govuk is not None and govuk.withdrawn:
            return self._simple(task, index, Outcome.REMOVED, page, f"withdrawn on GOV.UK: {govuk.withdrawn}")
        change_note = None
        if govuk is not None and govuk.change_notes:
            # GOV.UK's own edit log: shown with a new version, never part of the text.
            when, text = govuk.change_notes[-1]
            change_note = f"GOV.UK change note {when}: {text}"
        reason = (blocked_reason(page.text, statement) if task.source.kind != "json" or statement is None
                  else (None if statement.words >= 15 else f"body extracted to only {statement.words} words")) \
            or reason
        if statement is None or reason:
            return self._simple(task, index, Outcome.BLOCKED, page, reason or "no statement text")
        public_url = page.final_url if note and task.fetch_url is None else task.url
        return self.statement(task, index, replace(statement, url=public_url), page=page, raw_sha=raw_sha,
                              note=note, change_note=change_note)

    def _extract(self, task: Task, page: Page) -> Statement:
        return self._extract_item(task, page)[0]

    def _extract_item(self, task: Task, page: Page) -> tuple[Statement, ContentItem | None]:
        src = task.source
        if task.fetch_url and src.kind == "json":
            item = parse_content_item(page.content, page.final_url, agency=src.agency, source=src.name)
            return item.statement, item
        return extract(page.text, page.final_url, rules=src.extract, agency=src.agency or None,
                       source=src.name), None

    def _simple(
        self, task: Task, index: Index, outcome: Outcome, page: Page, message: str, *, sha: str | None = None,
        raw_sha: str | None = None, quiet: bool = False,
    ) -> SnapshotResult:
        sid = task.sid or self.allocate(task, index)
        meta = self._meta(task, sid)
        known = index.by_sid.get(sid)
        check = Check(time=self.clock(), outcome=outcome, url=task.fetch_url or task.url, status=page.status,
                      etag=page.etag or (known.etag if known and page.status == 304 else None),
                      last_modified=page.last_modified or (known.last_modified if known and page.status == 304
                                                           else None),
                      sha256=sha, raw_sha256=raw_sha, note=None if quiet else message)
        self.store.record_check(sid, check, meta)
        self._reindex(index, meta)
        version = None
        return SnapshotResult(sid, outcome, task.url, version=version, message="" if quiet else message,
                              title=meta.title)

    def statement(
        self, task: Task, index: Index, statement: Statement, *, page: Page | None = None,
        raw_sha: str | None = None, note: str | None = None, change_note: str | None = None,
    ) -> SnapshotResult:
        """Record an extracted statement: new, changed, unchanged (incl. flaps) or moved.

        ``note`` goes with every outcome (a redirect); ``change_note`` (the site's own
        edit log) only with a stored version.
        """
        from dipdiff.diff import diff_statements

        now = self.clock()
        sha = content_hash(statement.title, statement.paragraphs)
        guid = task.item.guid if task.item else None
        sid = task.sid
        message = note or ""
        if sid is None and sha in index.by_sha:
            # Same text under a new URL: the statement moved (the slug was edited, the
            # section renamed). It keeps its identity.
            old = index.by_sid[index.by_sha[sha]]
            if old.url != statement.url and old.url not in index.discovered:
                return self._moved(task, index, old.sid, statement.url, sha, page, raw_sha)
        latest: Statement | None = None
        known = index.by_sid.get(sid) if sid else None
        if known and known.sha == sha:
            if known.url != statement.url and page is not None and page.final_url != (task.fetch_url or task.url):
                return self._moved(task, index, sid, statement.url, sha, page, raw_sha)
            return self._store_check(task, index, sid, Outcome.UNCHANGED, statement, sha, page, raw_sha, note)
        # Only now read the version files: the common case above needs none of them.
        refs = self.store.versions(sid) if sid and self.store.exists(sid) else []
        stored = None
        if refs and refs[-1].sha256 == sha:
            if any(c.get("sha256") == sha for c in self.store.meta(sid).checks):
                # Back to the latest stored text (after a case-only title change, or the
                # other side of an A/B/A flap): nothing new to store.
                return self._store_check(task, index, sid, Outcome.UNCHANGED, statement, sha, page, raw_sha,
                                         note or f"flap: back to the text of @{refs[-1].number}; not stored again")
            # Stored by a run killed before it recorded the check: record it now, as the change
            # it was (storing it again would make a duplicate version).
            stored, refs = refs[-1], refs[:-1]
            note = "; ".join(m for m in (note, "stored by an interrupted run, recorded now") if m)
            message = note
        if refs:
            latest = self.store.read_version(sid, refs[-1].number).statement
        if refs and stored is None:
            if guid and not same_release(latest, statement):
                # The feed reused this guid for a different release: a new statement.
                sid = self.allocate(task, index, statement.title)
                message = f"guid {guid} reused: a new release, not an edit of {task.sid}"
                refs, latest = [], None
            elif title_case_only(latest, statement):
                return self._store_check(
                    task, index, sid, Outcome.UNCHANGED, statement, sha, page, raw_sha,
                    f"title changed only in case ({latest.title!r} -> {statement.title!r}); not stored")
            else:
                flap = self._flap(sid, sha, refs, now)
                if flap:
                    return self._store_check(task, index, sid, Outcome.UNCHANGED, statement, sha, page,
                                             raw_sha, flap)
        if sid is None:
            sid = self.allocate(task, index)
        meta = self._meta(task, sid)
        if not self.store.exists(sid):
            meta.guid = guid
            self.store.write_meta(meta)  # the folder's identity first; a crash here leaves 0 versions
        raw = page.content if page else (task.item.raw if task.item else None)
        ref = stored or self.store.add_version(sid, statement, now, raw)
        outcome = Outcome.CHANGED if refs else Outcome.NEW
        changes = 0
        if latest is not None:
            diff = diff_statements(latest, statement)
            changes = len(diff.changes)
            from dipdiff.service import _change_note

            message = "; ".join(m for m in (_change_note(diff), note, change_note) if m)
        elif change_note:
            message = "; ".join(m for m in (message, change_note) if m)
        meta.title, meta.agency, meta.published = statement.title, statement.agency, statement.published
        if guid:
            meta.guid = guid
        check = Check(time=now, outcome=outcome, url=task.fetch_url or task.url,
                      status=page.status if page else None, etag=page.etag if page else None,
                      last_modified=page.last_modified if page else None, sha256=sha, version=ref.number,
                      raw_sha256=raw_sha, note=message or None)
        try:
            self.store.record_check(sid, check, meta)
        except StoreError:
            if stored is None:  # a version without its check would be a change never reported
                self.store.undo_version(sid, ref)
            raise
        self._reindex(index, meta)
        return SnapshotResult(sid, outcome, statement.url, version=ref.number, changes=changes,
                              message=message, title=statement.title)

    def _flap(self, sid: str, sha: str, refs: list, now: str) -> str | None:
        """A return to a version seen within ``flap_window``: noted, not stored again."""
        match = [r for r in refs if r.sha256 == sha]
        if not match:
            return None
        meta = self.store.meta(sid)
        when = parse_timestamp(now)
        for c in reversed(meta.checks):
            if c.get("sha256") == sha:
                seen = _time(c.get("time"))
                if seen and (when - seen).total_seconds() <= self.schedule.flap_window:
                    return (f"flap: back to the text of @{match[-1].number} (seen {c.get('time')}); "
                            "not stored again")
                break
        return None

    def _store_check(
        self, task: Task, index: Index, sid: str, outcome: Outcome, statement: Statement, sha: str,
        page: Page | None, raw_sha: str | None, note: str | None,
    ) -> SnapshotResult:
        meta = self._meta(task, sid)
        check = Check(time=self.clock(), outcome=outcome, url=task.fetch_url or task.url,
                      status=page.status if page else None, etag=page.etag if page else None,
                      last_modified=page.last_modified if page else None, sha256=sha, raw_sha256=raw_sha,
                      note=note)
        self.store.record_check(sid, check, meta)
        self._reindex(index, meta)
        refs_n = None
        return SnapshotResult(sid, outcome, statement.url, version=refs_n, message=note or "",
                              title=statement.title)

    def _moved(
        self, task: Task, index: Index, sid: str, new_url: str, sha: str, page: Page | None,
        raw_sha: str | None,
    ) -> SnapshotResult:
        meta = self.store.meta(sid)
        old_url = meta.url
        if old_url not in meta.previous_urls:
            meta.previous_urls.append(old_url)
        meta.url = new_url
        message = f"same text, moved from {old_url}"
        check = Check(time=self.clock(), outcome=Outcome.MOVED, url=task.fetch_url or new_url,
                      status=page.status if page else None, etag=page.etag if page else None,
                      last_modified=page.last_modified if page else None, sha256=sha, raw_sha256=raw_sha,
                      note=message)
        self.store.record_check(sid, check, meta)
        self._reindex(index, meta)
        return SnapshotResult(sid, Outcome.MOVED, new_url, message=message, title=meta.title)

    def _reindex(self, index: Index, meta: StatementMeta) -> None:
        index.add(summarize(meta))


def _raw_sha(source: SourceConfig, content: bytes) -> str:
    # The rules are part of the key: after a selector fix, the same page is extracted anew.
    h = hashlib.sha256(repr((source.kind, source.extract)).encode())
    h.update(content)
    return h.hexdigest()


def _is_listing(asked: str, final: str, listing_urls: set[str]) -> bool:
    """A redirect that lands on a listing page (or the home page) means the statement is gone."""
    if final in listing_urls:
        return True
    a, f = urlsplit(asked), urlsplit(final)
    if a.netloc != f.netloc:
        return False
    fpath = f.path.rstrip("/")
    return fpath == "" or (a.path.rstrip("/").startswith(fpath + "/") and fpath != a.path.rstrip("/"))


# -- the run ------------------------------------------------------------------------------------


_ACCEPT = {"feed": "FEED_TYPES", "sitemap": "FEED_TYPES", "json": "JSON_TYPES", "listing": "_HTML_TYPES"}


async def _discover(source: SourceConfig, fetcher, clock: Clock) -> tuple[list[Item], set[str], list[str]]:
    """All items of a source (following next pages / child sitemaps up to ``pages``)."""
    from dipdiff import fetch as f

    accept = getattr(f, _ACCEPT[source.kind])
    items: list[Item] = []
    problems: list[str] = []
    urls = [source.url]
    visited: set[str] = set()
    limit = max(source.pages, 1) if source.kind != "sitemap" else max(source.pages, 1) + 20
    while urls and len(visited) < limit and len(items) < source.max_items:
        url = urls.pop(0)
        if url in visited:
            continue
        visited.add(url)
        try:
            page = await fetcher.get(url, accept_types=accept, robots=source.robots, delay=source.delay,
                                     fetched_at=clock())
            found = discover(source, page.content if source.kind != "listing" else page.text, page.final_url)
        except (FetchError, ExtractError) as e:
            problems.append(f"{source.name}: {e}")
            continue
        items += found.items
        urls += [u for u in found.next_urls if u not in visited]
    return items[: source.max_items], visited, problems


async def afetch_sources(
    config: Config,
    store: Store,
    *,
    sources: list[str] | None = None,
    check_all: bool = False,
    since: datetime | str | None = None,
    limit: int | None = None,
    clock: Clock = utc_timestamp,
    client=None,
    listener: Listener | None = None,
    sleep=None,
) -> RunResult:
    """The asynchronous form of :func:`fetch_sources` (the caller holds the store's lock)."""
    from dipdiff.fetch import Fetcher, Politeness

    listener = listener or Listener()
    started = clock()
    now = parse_timestamp(started)
    since_dt = parse_timestamp(since) if isinstance(since, str) else since
    selected = [config.source(n) for n in sources] if sources else [s for s in config.sources if s.enabled]
    recorder = Recorder(store, config.schedule, clock)
    results: list[SnapshotResult] = []
    problems: list[str] = []
    kwargs = {"sleep": sleep} if sleep is not None else {}
    fetcher = Fetcher(Politeness.from_settings(config.fetch), client=client, **kwargs)
    try:
        budget = limit if limit is not None else None
        for source in selected:
            items, listing_urls, trouble = await _discover(source, fetcher, clock)
            for p in trouble:
                problems.append(p)
                listener.problem(p)
            index = Index.load(store, source.name)
            tasks = plan_source(source, items, index, now, config.schedule, check_all=check_all,
                                since=since_dt)
            if budget is not None:
                tasks, budget = tasks[:budget], max(0, budget - len(tasks))
            listener.planned(source.name, len(tasks))
            listing_urls.add(source.url)
            await _check_all(tasks, index, recorder, fetcher, listing_urls, clock, results, listener,
                             config.fetch.concurrency)
    finally:
        await fetcher.aclose()
    return RunResult(tuple(results), started, clock(), tuple(problems), fetcher.requests)


async def _check_all(tasks, index, recorder, fetcher, listing_urls, clock, results, listener, workers) -> None:
    from dipdiff.fetch import JSON_TYPES

    queue: asyncio.Queue[Task] = asyncio.Queue()
    for t in tasks:
        queue.put_nowait(t)

    async def work() -> None:
        while True:
            try:
                task = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            result = await _check_one(task, index, recorder, fetcher, listing_urls, clock, JSON_TYPES)
            results.append(result)
            listener.checked(result)

    await asyncio.gather(*(work() for _ in range(max(1, min(workers * 2, len(tasks))))))


async def _check_one(task, index, recorder, fetcher, listing_urls, clock, json_types) -> SnapshotResult:
    """One statement, one outcome; never raises for a page-level problem."""
    try:
        if task.item is not None and task.item.statement is not None:
            return recorder.statement(task, index, task.item.statement)
        known = index.by_sid.get(task.sid) if task.sid else None
        src = task.source
        try:
            page = await fetcher.get(
                task.fetch_url or task.url,
                etag=known.etag if known and known.sha else None,
                last_modified=known.last_modified if known and known.sha else None,
                accept_types=json_types if task.fetch_url else ("text/html", "application/xhtml+xml", "text/plain", ""),
                robots=src.robots, delay=src.delay, fetched_at=clock(),
            )
        except FetchError as e:
            return recorder.failure(task, index, e)
        return recorder.page(task, index, page, listing_urls)
    except DipdiffError as e:  # a corrupt meta.json, an unwritable folder: this statement only
        return SnapshotResult(task.sid or "", Outcome.UNAVAILABLE, task.url, message=str(e))


def fetch_sources(
    config: Config,
    store: Store,
    *,
    sources: list[str] | None = None,
    check_all: bool = False,
    since: datetime | str | None = None,
    limit: int | None = None,
    clock: Clock = utc_timestamp,
    client=None,
    listener: Listener | None = None,
    lock_wait: float = 0.0,
    sleep=None,
) -> RunResult:
    """Discover and check the statements of ``config``'s sources; one outcome per statement.

    ``sources`` narrows the run to those source names; ``check_all`` re-checks every
    known statement whatever the schedule says; ``since`` skips statements published
    before it; ``limit`` caps the number of statements checked. ``clock`` returns the
    time of each check (``2026-11-25T12:00:00Z``); ``client`` is an
    ``httpx.AsyncClient`` to use (tests). Takes the store's lock for the whole run.
    """
    with store.lock(wait=lock_wait), store.deferred_sync():
        return asyncio.run(afetch_sources(
            config, store, sources=sources, check_all=check_all, since=since, limit=limit, clock=clock,
            client=client, listener=listener, sleep=sleep))


def exit_status(run: RunResult) -> int:
    """0 nothing new, 1 new/changed/moved/removed statements, 2 a source could not be read."""
    if run.problems:
        return 2
    return 1 if any(r.outcome in _NEWS for r in run.results) else 0


def summary(run: RunResult) -> dict:
    """The machine-readable run summary (``dipdiff fetch --json``). Fields are only ever added."""
    counts = {o.value: run.count(o) for o in Outcome}
    return {
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "checked": len(run.results),
        "requests": run.requests,
        "outcomes": counts,
        "problems": list(run.problems),
        "results": [
            {"id": r.statement_id, "outcome": r.outcome.value, "url": r.url, "version": r.version,
             "changes": r.changes, "title": r.title, "message": r.message}
            for r in run.results
        ],
    }


# -- dipdiff sources check ----------------------------------------------------------------------


async def acheck_source(source: SourceConfig, *, url: str | None = None, settings=None, client=None,
                        clock: Clock = utc_timestamp) -> dict:
    """Fetch one discovery document and one statement of ``source``; report what was extracted.

    Nothing is stored. ``problems`` lists what went wrong (an empty discovery, a
    statement that extracted to nothing), so that a broken preset is obvious.
    """
    from dipdiff.config import FetchSettings
    from dipdiff.fetch import Fetcher, Politeness

    report: dict = {"source": source.name, "kind": source.kind, "url": source.url, "found": 0, "items": [],
                    "statement": None, "problems": []}
    fetcher = Fetcher(Politeness.from_settings(settings or FetchSettings()), client=client)
    try:
        one = replace(source, pages=1)
        items, _, problems = await _discover(one, fetcher, clock)
        report["problems"] += problems
        report["found"] = len(items)
        report["items"] = [{"url": i.url, "title": i.title, "published": i.published, "guid": i.guid,
                            "full_text": i.statement is not None} for i in items]
        if not items and not problems:
            report["problems"].append(f"{source.name}: discovery found no statements at {source.url} "
                                      "(check selector/link/include)")
        statement: Statement | None = None
        target = url or (items[0].url if items else None)
        if url is None and items and items[0].statement is not None:
            statement = items[0].statement
        elif target:
            fetch_url = _content_url(source, target) if url else (items[0].fetch_url if items else None)
            from dipdiff.fetch import JSON_TYPES

            try:
                page = await fetcher.get(fetch_url or target, robots=source.robots, delay=source.delay,
                                         accept_types=JSON_TYPES if fetch_url else
                                         ("text/html", "application/xhtml+xml", "text/plain", ""))
                task = Task(source, target, fetch_url=fetch_url)
                statement = Recorder(None, None, clock)._extract(task, page)  # type: ignore[arg-type]
                reason = blocked_reason(page.text, statement) if not fetch_url else None
                if reason:
                    report["problems"].append(f"{target}: {reason}")
            except (FetchError, ExtractError) as e:
                report["problems"].append(str(e))
        if statement is not None:
            report["statement"] = {"url": statement.url or target, "title": statement.title,
                                   "published": statement.published, "agency": statement.agency,
                                   "words": statement.words, "paragraphs": list(statement.paragraphs)}
    finally:
        await fetcher.aclose()
    return report


def check_source(source: SourceConfig, *, url: str | None = None, settings=None, client=None) -> dict:
    return asyncio.run(acheck_source(source, url=url, settings=settings, client=client))
