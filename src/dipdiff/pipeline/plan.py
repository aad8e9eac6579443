"""What a ``dipdiff fetch`` run checks: what the store knows of each statement, in compact form,
and the schedule that decides which known statements are due.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from dipdiff.clock import parse_timestamp
from dipdiff.config import Schedule, SourceConfig
from dipdiff.errors import DamagedFileError, DipdiffError
from dipdiff.models import Outcome
from dipdiff.scrape.discover import Item
from dipdiff.store.meta import StatementMeta
from dipdiff.store.store import Store

_SEEN = (
    Outcome.NEW,
    Outcome.CHANGED,
    Outcome.RESTORED,
    Outcome.UNCHANGED,
    Outcome.FLAPPING,
    Outcome.MOVED,
)
_CHANGES = (Outcome.NEW, Outcome.CHANGED, Outcome.RESTORED, Outcome.MOVED)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: The index's name for a statement's :class:`Known` (a new name when its fields change).
KNOWN_DOC = "plan.known.1"


@dataclass
class Known:
    """The part of a statement's record that planning needs."""

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
        when = parse_time(c.get("time"))
        k.last_check, k.last_outcome = when or k.last_check, outcome
        if outcome in _CHANGES or k.last_change is None:
            k.last_change = when or k.last_change
        if outcome in _SEEN and c.get("sha256"):
            k.sha = c["sha256"]
            k.raw_sha = c.get("raw_sha256") or (k.raw_sha if c.get("status") == 304 else None)
            if c.get("status") != 304 or c.get("etag") or c.get("last_modified"):
                k.etag, k.last_modified = (
                    c.get("etag") or k.etag,
                    c.get("last_modified") or k.last_modified,
                )
    return k


def to_doc(k: Known) -> str:
    """A summary as the index keeps it (:meth:`Index.load`)."""
    times = [t.isoformat() if t else None for t in (k.last_check, k.last_change)]
    described = [k.url, k.guid, k.published, k.previous_urls]
    seen = [k.last_outcome, k.sha, k.raw_sha, k.etag, k.last_modified]
    return json.dumps([*described, *times, *seen])


def from_doc(sid: str, doc: str) -> Known:
    url, guid, published, previous, check, change, outcome, sha, raw, etag, modified = json.loads(
        doc
    )
    k = Known(sid, url, guid, published, tuple(previous), last_outcome=outcome, sha=sha)
    k.last_check, k.last_change = (_when(t) for t in (check, change))
    k.raw_sha, k.etag, k.last_modified = raw, etag, modified
    return k


def _when(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso) if iso else None


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except DipdiffError:
        return None


class Index:
    """Statements of one source by URL and by guid, built from the store at the start of a run."""

    def __init__(
        self, known: Iterable[Known], damaged: dict[str, DamagedFileError] | None = None
    ) -> None:
        self.by_sid: dict[str, Known] = {}
        # Statements whose record cannot be read: a URL that may be theirs is not a new one.
        self.damaged = damaged or {}
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
        """The source's statements; a damaged one is left out (and noted in ``store.damage``).

        What planning needs of a statement whose record has not changed since a command last
        summarized it comes from the index: a run with nothing due reads no history."""
        known: list[Known] = []
        damaged: dict[str, DamagedFileError] = {}
        recent = store.recent({KNOWN_DOC: lambda meta: to_doc(summarize(meta))})
        kept = recent.docs(KNOWN_DOC, source) if recent is not None else {}
        ids = store.statement_ids()  # sorted: the source's statements are one slice of it
        first = bisect.bisect_left(ids, f"{source}/")
        for sid in ids[first : bisect.bisect_left(ids, f"{source}0", first)]:  # "0" follows "/"
            doc = kept.get(sid)
            if doc is not None:
                try:
                    known.append(from_doc(sid, doc))
                    continue
                except (ValueError, TypeError):
                    pass  # a damaged summary: the record is read again
            try:
                known.append(summarize(store.meta(sid)))
            except DamagedFileError as e:
                store.damage.setdefault(e.path, str(e))
                damaged[sid] = e
        return cls(known, damaged)


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


@dataclass
class Task:
    source: SourceConfig
    url: str  # the statement's public URL
    sid: str | None = None  # None: not in the store yet
    item: Item | None = None
    fetch_url: str | None = None  # e.g. the gov.uk content API address
    published: str | None = None


def plan_source(
    source: SourceConfig,
    items: list[Item],
    index: Index,
    now: datetime,
    schedule: Schedule,
    *,
    check_all: bool,
    since: datetime | None,
) -> list[Task]:
    """The statements of one source to check in this run, newest first."""
    tasks: list[Task] = []
    seen: set[str] = set()
    index.discovered = {i.url for i in items}
    for item in items:
        sid = (index.by_guid.get(item.guid) if item.guid else None) or index.by_url.get(item.url)
        published = parse_time(item.published)
        if since and published is not None and published < since:
            continue
        if sid:
            seen.add(sid)
            k = index.by_sid[sid]
            # Full-text items cost nothing to check; pages wait for their turn.
            if (
                item.statement is None
                and not check_all
                and k.last_outcome != Outcome.REMOVED
                and not due(k, now, schedule)
            ):
                continue
        url = item.url
        if sid and item.statement is None and url in index.by_sid[sid].previous_urls:
            url = index.by_sid[sid].url  # listed under an old address: ask where it lives now
        tasks.append(Task(source, url, sid, item, item.fetch_url, item.published))
    if not source.full_text:
        for sid, k in index.by_sid.items():
            if sid in seen:
                continue
            published = parse_time(k.published)
            if since and (published is None or published < since):
                continue
            if check_all or due(k, now, schedule):
                tasks.append(
                    Task(source, k.url, sid, None, content_url(source, k.url), k.published)
                )
    tasks.sort(key=lambda t: (t.sid is not None, _sort_key(t.published)))
    return tasks


def _sort_key(published: str | None) -> float:
    when = parse_time(published) if published else None
    return -when.timestamp() if when else 0.0


def content_url(source: SourceConfig, url: str) -> str | None:
    if source.kind == "json" and source.content_api:
        return source.content_api.rstrip("/") + urlsplit(url).path
    return None
