"""``dipdiff fetch``: discover statements, re-check known ones, record one outcome for each.

The run: for every source, read its discovery document (feed, listing,
sitemap, JSON API), plan which statements are due (new ones always, known ones
on a schedule that backs off with the time since they last changed), fetch
them politely (:class:`dipdiff.scrape.http.Fetcher`) and record what happened in the
store. Each statement checked gets exactly one :class:`~dipdiff.models.Outcome`:

* ``new`` / ``changed`` / ``restored`` — a version was stored (``restored``: the text of
  an earlier version is back);
* ``unchanged`` — same canonical text (also: a 304, an identical body, a title that
  changed only in case); the check notes which;
* ``flapping`` — one of two texts the page alternates between on each check; not stored;
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
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from dipdiff.clock import Clock, parse_timestamp, utc_timestamp
from dipdiff.config import Config, FetchSettings, SourceConfig
from dipdiff.errors import DamagedFileError, DipdiffError, ExtractError, FetchError
from dipdiff.models import Outcome, RunResult, SnapshotResult, Statement
from dipdiff.pipeline.plan import Index, Task, content_url, plan_source
from dipdiff.pipeline.record import Recorder, extract_item
from dipdiff.render.common import plural
from dipdiff.scrape.discover import Item, discover
from dipdiff.scrape.extract import blocked_reason
from dipdiff.scrape.http import FEED_TYPES, HTML_TYPES, JSON_TYPES, AsyncClient, Fetcher, Sleep
from dipdiff.scrape.policy import NetPolicy, is_web_url
from dipdiff.status import ExitStatus
from dipdiff.store.store import Store
from dipdiff.text import clip

#: Whether to check a statement of a source, by the URL it is fetched from (a shard's choice).
Keep = Callable[[SourceConfig, str], bool]


class Listener(Protocol):
    """What a run tells its caller as it goes (the CLI draws a progress bar from it)."""

    def planned(self, source: str, count: int) -> None:
        """``count`` statements of ``source`` will be checked."""

    def checked(self, result: SnapshotResult) -> None:
        """One statement was checked."""

    def problem(self, message: str) -> None:
        """Source-level trouble (one line)."""


class _Unheard:
    """The listener of a run that nobody watches."""

    def planned(self, source: str, count: int) -> None:
        pass

    def checked(self, result: SnapshotResult) -> None:
        pass

    def problem(self, message: str) -> None:
        pass


#: How often (seconds) a run looks whether its staged files are due for a commit.
COMMIT_TICK = 0.1
_ACCEPT = {"feed": FEED_TYPES, "sitemap": FEED_TYPES, "json": JSON_TYPES, "listing": HTML_TYPES}


def source_policy(source: SourceConfig, settings: FetchSettings) -> NetPolicy:
    """Where ``source``'s requests may go: its own site (that of its url, base_url and
    content_api), its ``allow_hosts``, and private addresses only with ``allow_private``."""
    return NetPolicy.for_urls(
        (source.url, source.base_url, source.content_api),
        source.allow_hosts,
        allow_private=settings.allow_private
        if source.allow_private is None
        else source.allow_private,
    )


def _followed(
    source: SourceConfig, policy: NetPolicy, items: list[Item]
) -> tuple[list[Item], str | None]:
    """The items whose links the policy lets dipdiff follow, and one line about the others.

    A full-text feed item is not fetched: its link (a mirror's feed names the original site's
    pages) needs only to be a web link, never ``javascript:`` or ``data:``.
    """
    kept: list[Item] = []
    refused: list[str] = []
    for item in items:
        fetched = item.fetch_url or (item.url if item.statement is None else None)
        if not is_web_url(item.url):
            refused.append(f"{item.url}: only http:// and https:// links are stored")
        elif fetched is not None and (why := policy.refusal(fetched)):
            refused.append(why)
        else:
            kept.append(item)
    if not refused:
        return kept, None
    more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
    return kept, f"{source.name}: {plural(len(refused), 'link')} not followed: {refused[0]}{more}"


async def _discover(
    source: SourceConfig, fetcher: Fetcher, clock: Clock, policy: NetPolicy
) -> tuple[list[Item], set[str], list[str]]:
    """All items of a source (following next pages / child sitemaps up to ``pages``)."""

    accept = _ACCEPT[source.kind]
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
            page = await fetcher.get(
                url,
                accept_types=accept,
                robots=source.robots,
                delay=source.delay,
                fetched_at=clock(),
                policy=policy,
            )
            found = discover(
                source, page.content if source.kind != "listing" else page.text, page.final_url
            )
        except (FetchError, ExtractError) as e:
            problems.append(f"{source.name}: {e}")
            continue
        except Exception as e:  # noqa: BLE001 - one hostile document costs its source only
            problems.append(f"{source.name}: {internal_error(url, e)}")
            continue
        followed, refused = _followed(source, policy, list(found.items))
        if refused:
            problems.append(refused)
        items += followed
        urls += [u for u in found.next_urls if u not in visited and policy.allows(u)]
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
    client: AsyncClient | None = None,
    listener: Listener | None = None,
    sleep: Sleep | None = None,
    keep: Keep | None = None,
) -> RunResult:
    """The asynchronous form of :func:`fetch_sources` (the caller holds the store's lock)."""

    listener = listener or _Unheard()
    started = clock()
    now = parse_timestamp(started)
    since_dt = parse_timestamp(since) if isinstance(since, str) else since
    selected = (
        [config.source(n) for n in sources] if sources else [s for s in config.sources if s.enabled]
    )
    recorder = Recorder(store, config.schedule, clock)
    results: list[SnapshotResult] = []
    problems: list[str] = []
    fetcher = (
        Fetcher(config.fetch, client=client, sleep=sleep)
        if sleep is not None
        else Fetcher(config.fetch, client=client)
    )
    try:
        budget = limit if limit is not None else None
        for source in selected:
            policy = source_policy(source, config.fetch)
            items, listing_urls, trouble = await _discover(source, fetcher, clock, policy)
            for p in trouble:
                problems.append(p)
                listener.problem(p)
            index = Index.load(store, source.name)
            tasks = plan_source(
                source, items, index, now, config.schedule, check_all=check_all, since=since_dt
            )
            if keep is not None:
                tasks = [t for t in tasks if keep(source, t.fetch_url or t.url)]
            if budget is not None:
                tasks, budget = tasks[:budget], max(0, budget - len(tasks))
            listener.planned(source.name, len(tasks))
            listing_urls.add(source.url)
            await _check_all(
                tasks,
                index,
                recorder,
                fetcher,
                listing_urls,
                clock,
                results,
                listener,
                config.fetch.concurrency,
                policy,
            )
    finally:
        await fetcher.aclose()
    for line in store.damage.values():
        listener.problem(line)
    return RunResult(
        tuple(results),
        started,
        clock(),
        tuple(problems),
        fetcher.requests,
        damaged=tuple(store.damage.values()),
    )


async def _check_all(
    tasks: list[Task],
    index: Index,
    recorder: Recorder,
    fetcher: Fetcher,
    listing_urls: set[str],
    clock: Clock,
    results: list[SnapshotResult],
    listener: Listener,
    workers: int,
    policy: NetPolicy,
) -> None:
    queue: asyncio.Queue[tuple[int, Task]] = asyncio.Queue()
    for n, t in enumerate(tasks):
        queue.put_nowait((n, t))
    # Results in the plan's order, not the order the pages happened to answer in: the same
    # run gives the same `fetch --json` and the same report every time.
    done: dict[int, SnapshotResult] = {}

    async def work() -> None:
        while True:
            try:
                n, task = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            result = await _check_one(
                task, index, recorder, fetcher, listing_urls, clock, JSON_TYPES, policy
            )
            recorder.store.commit_due()
            done[n] = result
            listener.checked(result)

    async def commits(running: asyncio.Future[Any]) -> None:
        # While every worker waits on a slow page, what the others stored still reaches the
        # disk in time: a group commit is due by age, not only by number.
        while not running.done():
            await asyncio.wait([running], timeout=COMMIT_TICK)
            recorder.store.commit_due()

    running = asyncio.gather(*(work() for _ in range(max(1, min(workers * 2, len(tasks))))))
    await asyncio.gather(running, commits(running))
    results.extend(done[n] for n in sorted(done))


async def _check_one(
    task: Task,
    index: Index,
    recorder: Recorder,
    fetcher: Fetcher,
    listing_urls: set[str],
    clock: Clock,
    json_types: tuple[str, ...],
    policy: NetPolicy,
) -> SnapshotResult:
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
                accept_types=json_types if task.fetch_url else HTML_TYPES,
                robots=src.robots,
                delay=src.delay,
                fetched_at=clock(),
                policy=policy,
            )
        except FetchError as e:
            return recorder.failure(task, index, e)
        return recorder.page(task, index, page, listing_urls)
    except DamagedFileError as e:  # a damaged file of the store: this statement only
        recorder.store.damage.setdefault(e.path, str(e))
        return SnapshotResult(task.sid or "", Outcome.UNAVAILABLE, task.url, message=str(e))
    except DipdiffError as e:  # an unwritable folder: this statement only
        return SnapshotResult(task.sid or "", Outcome.UNAVAILABLE, task.url, message=str(e))
    except Exception as e:  # noqa: BLE001 - a bug met on one hostile page costs that page only
        return SnapshotResult(
            task.sid or "", Outcome.UNAVAILABLE, task.url, message=internal_error(task.url, e)
        )


def internal_error(where: str, e: Exception) -> str:
    """One line for an exception dipdiff did not expect: what it was, and where."""
    return f"{where}: internal error ({e.__class__.__name__}: {clip(str(e), 160)}); please report"


def fetch_sources(
    config: Config,
    store: Store,
    *,
    sources: list[str] | None = None,
    check_all: bool = False,
    since: datetime | str | None = None,
    limit: int | None = None,
    clock: Clock = utc_timestamp,
    client: AsyncClient | None = None,
    listener: Listener | None = None,
    lock_wait: float = 0.0,
    sleep: Sleep | None = None,
    keep: Keep | None = None,
) -> RunResult:
    """Discover and check the statements of ``config``'s sources; one outcome per statement.

    ``sources`` narrows the run to those source names; ``check_all`` re-checks every
    known statement whatever the schedule says; ``since`` skips statements published
    before it; ``limit`` caps the number of statements checked. ``clock`` returns the
    time of each check (``2026-11-25T12:00:00Z``); ``client`` is an
    ``httpx.AsyncClient`` to use (tests); ``keep`` says which statements (by the URL
    fetched) of a source to check, the others are left alone (a shard's, :mod:`.shard`).
    Takes the store's lock for the whole run.
    """
    with store.lock(wait=lock_wait), store.group_commit():
        return asyncio.run(
            afetch_sources(
                config,
                store,
                sources=sources,
                check_all=check_all,
                since=since,
                limit=limit,
                clock=clock,
                client=client,
                listener=listener,
                sleep=sleep,
                keep=keep,
            )
        )


def exit_status(run: RunResult) -> ExitStatus:
    """0 no news, 1 news (a new, changed or restored statement, a removal, a move, flapping, a
    removed statement back: the events of models.CHANGE_KINDS), 2 a source could not be read
    or a damaged file of the store cost its statement.

    A state that goes on (a page still removed, still unavailable) is no news."""
    if run.problems or run.damaged:
        return ExitStatus.TROUBLE
    return ExitStatus.found(any(r.news for r in run.results))


async def acheck_source(
    source: SourceConfig,
    *,
    url: str | None = None,
    settings: FetchSettings | None = None,
    client: AsyncClient | None = None,
    clock: Clock = utc_timestamp,
) -> dict[str, Any]:
    """Fetch one discovery document and one statement of ``source``; report what was extracted.

    Nothing is stored. ``problems`` lists what went wrong (an empty discovery, a
    statement that extracted to nothing), so that a broken preset is obvious.
    """

    report: dict[str, Any] = {
        "source": source.name,
        "kind": source.kind,
        "url": source.url,
        "found": 0,
        "items": [],
        "statement": None,
        "problems": [],
    }
    fetcher = Fetcher(settings, client=client)
    policy = source_policy(source, fetcher.p)
    try:
        one = replace(source, pages=1)
        items, _, problems = await _discover(one, fetcher, clock, policy)
        report["problems"] += problems
        report["found"] = len(items)
        report["items"] = [
            {
                "url": i.url,
                "title": i.title,
                "published": i.published,
                "guid": i.guid,
                "full_text": i.statement is not None,
            }
            for i in items
        ]
        if not items and not problems:
            report["problems"].append(
                f"{source.name}: discovery found no statements at {source.url} "
                "(check selector/link/include)"
            )
        statement: Statement | None = None
        target = url or (items[0].url if items else None)
        if url is None and items and items[0].statement is not None:
            statement = items[0].statement
        elif target:
            fetch_url = (
                content_url(source, target) if url else (items[0].fetch_url if items else None)
            )

            try:
                page = await fetcher.get(
                    fetch_url or target,
                    robots=source.robots,
                    delay=source.delay,
                    accept_types=JSON_TYPES
                    if fetch_url
                    else ("text/html", "application/xhtml+xml", "text/plain", ""),
                    policy=policy,
                )
                task = Task(source, target, fetch_url=fetch_url)
                statement = extract_item(task, page)[0]
                reason = blocked_reason(page.text, statement) if not fetch_url else None
                if reason:
                    report["problems"].append(f"{target}: {reason}")
            except (FetchError, ExtractError) as e:
                report["problems"].append(str(e))
        if statement is not None:
            report["statement"] = {
                "url": statement.url or target,
                "title": statement.title,
                "published": statement.published,
                "agency": statement.agency,
                "words": statement.words,
                "paragraphs": list(statement.paragraphs),
            }
    finally:
        await fetcher.aclose()
    return report


def check_source(
    source: SourceConfig,
    *,
    url: str | None = None,
    settings: FetchSettings | None = None,
    client: AsyncClient | None = None,
) -> dict[str, Any]:
    return asyncio.run(acheck_source(source, url=url, settings=settings, client=client))
