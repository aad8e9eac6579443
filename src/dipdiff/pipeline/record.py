"""Recording: one look at a statement (a page fetched or imported, a feed item, a failure)
becomes one check in the store, and at most one stored version.

One recorder for ``snapshot``, ``import``, ``fetch`` and ``run``, with one set of rules for
a statement's text, whichever command saw it:

* the text the last check saw: ``unchanged``, decided without reading a version;
* the text of the version in place at that time (or of the next one, for an older capture
  imported later): ``unchanged``. When that version is the latest and no check records it, a
  run was killed between storing it and recording it: it is recorded now, as the change it
  was, never stored twice;
* a feed item whose guid now carries a different release: a new statement;
* a title that changed only in case, or a return to a version seen within ``flap_window``
  (a flap): ``unchanged``, with a note;
* anything else is stored, ``new`` or ``changed``, and diffed once against the version in
  place. If its check cannot be written the version is undone (and a statement left empty
  removed), so that the next run finds the change again.

Every result carries the check it recorded and the event that check makes
(:func:`dipdiff.pipeline.events.describe`): the reports of the run are rendered from it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from dipdiff.analyse.diff import DiffResult
from dipdiff.clock import Clock, parse_timestamp, utc_timestamp
from dipdiff.config import ExtractRules, Schedule, SourceConfig
from dipdiff.errors import ExtractError, FetchError, RobotsDisallowed, StoreError
from dipdiff.models import Check, Outcome, Page, SnapshotResult, Statement, VersionRef
from dipdiff.pipeline.events import DiffCache, describe
from dipdiff.pipeline.plan import Index, Task, parse_time, summarize
from dipdiff.render import plain
from dipdiff.scrape.discover import ContentItem, parse_content_item, same_release, title_case_only
from dipdiff.scrape.extract import blocked_reason, extract
from dipdiff.store.ids import hashed_slug, slug_for_url, source_for_url
from dipdiff.store.meta import StatementMeta
from dipdiff.store.store import Store
from dipdiff.text import content_hash, slugify

INTERRUPTED = "stored by an interrupted run, recorded now"


@dataclass(frozen=True)
class Sighting:
    """One look at a statement: when, at which address, and what the server said."""

    time: str  # the check's time (dipdiff's one timestamp form)
    url: str  # the address asked
    page: Page | None = None
    raw: bytes | None = None  # kept beside a stored version
    raw_sha: str | None = None
    note: str | None = None  # goes with every outcome (a redirect)
    change_note: str | None = None  # the site's own edit log: only with a stored version

    def check(self, outcome: Outcome, **fields: Any) -> Check:
        p = self.page
        http = {"status": p.status, "etag": p.etag, "last_modified": p.last_modified} if p else {}
        return Check(
            **{
                "time": self.time,
                "outcome": outcome,
                "url": self.url,
                "raw_sha256": self.raw_sha,
                **http,
                **fields,
            }
        )


@dataclass
class Target:
    """The statement a sighting is about (``sid`` None: not in the store yet)."""

    sid: str | None
    source: str
    url: str  # the statement's address, for a new statement's identity
    name: Callable[[str], str]  # a fresh ID for a new statement, given its title
    guid: str | None = None
    index: Index | None = None  # a fetch run's view of its source, kept up to date


@dataclass
class Recorder:
    """Turns each sighting of a statement into one outcome in the store."""

    store: Store
    schedule: Schedule = field(default_factory=Schedule)
    clock: Clock = utc_timestamp
    diffs: DiffCache = field(default_factory=DiffCache)

    # -- snapshot and import: a page, its statement found by URL ----------------------------

    def capture(
        self,
        page: Page,
        *,
        source: str | None = None,
        agency: str | None = None,
        rules: ExtractRules | None = None,
    ) -> SnapshotResult:
        """Record a page fetched now or saved earlier (``page.fetched_at``); needs the lock."""
        source = source or source_for_url(page.url)
        sid = self.store.find_url(page.url, source) or self.store.new_id(page.url, source)
        target = Target(sid, source, page.url, name=lambda _: sid)
        seen = Sighting(
            utc_timestamp(parse_timestamp(page.fetched_at)),
            page.url,
            page,
            raw=page.content,
            note=f"redirected to {page.final_url}" if page.final_url != page.url else None,
        )
        statement: Statement | None = None
        reason: str | None = None
        try:
            statement = extract(page.text, page.url, rules=rules, agency=agency, source=source)
        except ExtractError as e:
            reason = e.reason
        reason = blocked_reason(page.text, statement) or reason
        if statement is None or reason:
            return self._record(
                target, seen.check(Outcome.BLOCKED, note=reason), page.url, message=reason or ""
            )
        return self._text(target, statement, seen)

    # -- fetch: a task of a run, with its source's index -------------------------------------

    def allocate(self, task: Task, index: Index, title: str = "") -> str:
        """A fresh ID for a statement not in the store (readable slug, else slug+hash)."""
        slug = slug_for_url(task.url)
        key = (
            task.url
            + "\n"
            + (task.item.guid if task.item and task.item.guid else "")
            + "\n"
            + title
        )
        candidates = [slug]
        if title:
            candidates.append(slugify(title, 80))
        candidates.append(hashed_slug(slug, key))
        for c in candidates:
            sid = f"{task.source.name}/{c}"
            if sid in index.damaged:
                raise index.damaged[sid]  # perhaps this very statement: never a second copy
            if sid not in index.by_sid and not self.store.exists(sid):
                return sid
        digest = hashlib.sha1((key + self.clock()).encode(), usedforsecurity=False).hexdigest()
        return f"{task.source.name}/{slug[:62]}-{digest[:17]}"

    def _target(self, task: Task, index: Index, sid: str | None = None) -> Target:
        return Target(
            sid or task.sid,
            task.source.name,
            task.url,
            lambda title: self.allocate(task, index, title),
            guid=task.item.guid if task.item else None,
            index=index,
        )

    def failure(self, task: Task, index: Index, error: FetchError) -> SnapshotResult:
        target = self._target(task, index)
        meta = self._meta(target)
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
        check = Check(
            time=self.clock(),
            outcome=outcome,
            url=task.fetch_url or task.url,
            status=status,
            note=message,
        )
        return self._record(target, check, task.url, meta=meta, message=message)

    def page(self, task: Task, index: Index, page: Page, listing_urls: set[str]) -> SnapshotResult:
        """Record a fetched statement page (or gov.uk content item)."""
        known = index.by_sid.get(task.sid) if task.sid else None
        raw_sha = (
            _raw_sha(task.source, page.content)
            if page.status != 304
            else (known.raw_sha if known else None)
        )
        asked = task.fetch_url or task.url
        note = f"redirected to {page.final_url}" if page.final_url != asked else None
        seen = Sighting(self.clock(), asked, page, raw=page.content, raw_sha=raw_sha, note=note)
        target = self._target(task, index)
        if note and _is_listing(asked, page.final_url, listing_urls):
            message = f"redirected to a listing page ({page.final_url})"
            return self._record(
                target, seen.check(Outcome.REMOVED, note=message), task.url, message=message
            )
        if known and (page.status == 304 or (raw_sha and raw_sha == known.raw_sha)) and known.sha:
            if (
                note and task.fetch_url is None and page.final_url != known.url
            ):  # same page, new address
                return self._moved(task, index, known.sid, page.final_url, known.sha, seen)
            # Nothing to parse: the page is the one the last check saw.
            check = seen.check(
                Outcome.UNCHANGED,
                sha256=known.sha,
                note=None,
                etag=page.etag or (known.etag if page.status == 304 else None),
                last_modified=page.last_modified
                or (known.last_modified if page.status == 304 else None),
            )
            return self._record(target, check, task.url, message="")
        if page.status == 304:  # a 304 without anything to compare to: ask again in full next time
            message = "304 without a stored version"
            return self._record(
                target, seen.check(Outcome.UNAVAILABLE, note=message), task.url, message=message
            )
        statement: Statement | None = None
        govuk: ContentItem | None = None
        reason: str | None = None
        try:
            statement, govuk = extract_item(task, page)
        except ExtractError as e:
            reason = e.reason
        if govuk is not None and govuk.withdrawn:
            message = f"withdrawn on GOV.UK: {govuk.withdrawn}"
            return self._record(
                target, seen.check(Outcome.REMOVED, note=message), task.url, message=message
            )
        if govuk is not None and govuk.change_notes:
            # GOV.UK's own edit log: shown with a new version, never part of the text.
            when, text = govuk.change_notes[-1]
            seen = replace(seen, change_note=f"GOV.UK change note {when}: {text}")
        reason = (
            blocked_reason(page.text, statement)
            if task.source.kind != "json" or statement is None
            else (
                None if statement.words >= 15 else f"body extracted to only {statement.words} words"
            )
        ) or reason
        if statement is None or reason:
            message = reason or "no statement text"
            return self._record(
                target, seen.check(Outcome.BLOCKED, note=message), task.url, message=message
            )
        public_url = page.final_url if note and task.fetch_url is None else task.url
        return self._statement(task, index, replace(statement, url=public_url), seen)

    def statement(self, task: Task, index: Index, statement: Statement) -> SnapshotResult:
        """Record a statement given in full by the source's feed (nothing fetched)."""
        raw = task.item.raw if task.item else None
        return self._statement(
            task, index, statement, Sighting(self.clock(), task.fetch_url or task.url, raw=raw)
        )

    def _statement(
        self, task: Task, index: Index, statement: Statement, seen: Sighting
    ) -> SnapshotResult:
        sha = content_hash(statement.title, statement.paragraphs)
        if task.sid is None and sha in index.by_sha:
            # Same text under a new URL: the statement moved (the slug was edited, the
            # section renamed). It keeps its identity.
            old = index.by_sid[index.by_sha[sha]]
            if old.url != statement.url and old.url not in index.discovered:
                return self._moved(task, index, old.sid, statement.url, sha, seen)
        known = index.by_sid.get(task.sid) if task.sid else None
        if known and known.sha == sha and known.url != statement.url and seen.note:
            return self._moved(task, index, known.sid, statement.url, sha, seen)
        return self._text(self._target(task, index), statement, seen, sha)

    def _moved(
        self, task: Task, index: Index, sid: str, new_url: str, sha: str, seen: Sighting
    ) -> SnapshotResult:
        target = self._target(task, index, sid)
        meta = self.store.meta(sid)
        old_url = meta.url
        if old_url not in meta.previous_urls:
            meta.previous_urls.append(old_url)
        meta.url = new_url
        message = f"same text, moved from {old_url}"
        check = seen.check(Outcome.MOVED, url=task.fetch_url or new_url, sha256=sha, note=message)
        return self._record(target, check, new_url, meta=meta, message=message)

    # -- the rules for a statement's text ------------------------------------------------------

    def _text(
        self, target: Target, statement: Statement, seen: Sighting, sha: str | None = None
    ) -> SnapshotResult:
        store = self.store
        sha = sha or content_hash(statement.title, statement.paragraphs)
        meta = store.meta(target.sid) if target.sid and store.exists(target.sid) else None
        when = parse_timestamp(seen.time)
        last = _last_seen(meta, seen.time)
        if last is not None and last.get("sha256") == sha:
            check = seen.check(
                Outcome.UNCHANGED, sha256=sha, version=last.get("version"), note=seen.note
            )
            return self._record(target, check, statement.url, meta=meta, title=statement.title)
        refs = store.versions(target.sid) if meta is not None and target.sid else []
        before = [r for r in refs if parse_timestamp(r.fetched_at) <= when]
        later = [r for r in refs if parse_timestamp(r.fetched_at) > when]
        in_place = before[-1] if before else None
        same = next(
            (
                r
                for r in (in_place, later[0] if later else None)
                if r is not None and r.sha256 == sha
            ),
            None,
        )
        healed: VersionRef | None = None
        notes: list[str | None] = [seen.note]
        if same is not None and meta is not None:
            if same != refs[-1] or _recorded(meta, sha):
                if same == refs[-1] and last is not None:  # the other side of an A/B/A flap
                    notes.append(f"flap: back to the text of @{same.number}; not stored again")
                check = seen.check(
                    Outcome.UNCHANGED, sha256=sha, version=same.number, note=_join(*notes)
                )
                return self._record(target, check, statement.url, meta=meta, title=statement.title)
            # Stored by a run killed before it recorded the check: record it now, as the change it
            # was (storing it again would make a duplicate version).
            healed, in_place = (
                same,
                next((r for r in reversed(refs) if r.number < same.number), None),
            )
            notes.append(INTERRUPTED)
        elif in_place is not None and meta is not None:
            latest = store.read_version(meta.id, in_place.number).statement
            if target.guid and not same_release(latest, statement):
                # The feed reused this guid for a different release: a new statement.
                notes.append(
                    f"guid {target.guid} reused: a new release, not an edit of {target.sid}"
                )
                target = replace(target, sid=target.name(statement.title))
                meta, refs, later, in_place = None, [], [], None
            elif title_case_only(latest, statement):
                note = (
                    f"title changed only in case ({latest.title!r} -> {statement.title!r});"
                    " not stored"
                )
                check = seen.check(Outcome.UNCHANGED, sha256=sha, note=_join(seen.note, note))
                return self._record(target, check, statement.url, meta=meta, title=statement.title)
            else:
                flap = self._flap(meta, sha, refs, when)
                if flap:
                    check = seen.check(Outcome.UNCHANGED, sha256=sha, note=_join(seen.note, flap))
                    return self._record(
                        target, check, statement.url, meta=meta, title=statement.title
                    )
        return self._store(
            target,
            meta,
            statement,
            sha,
            seen,
            healed=healed,
            base=in_place,
            others=[r for r in refs if r != healed],
            current=not later,
            notes=notes,
        )

    def _store(
        self,
        target: Target,
        meta: StatementMeta | None,
        statement: Statement,
        sha: str,
        seen: Sighting,
        *,
        healed: VersionRef | None,
        base: VersionRef | None,
        others: list[VersionRef],
        current: bool,
        notes: list[str | None],
    ) -> SnapshotResult:
        """Store the version (unless a killed run did), then its check; if that fails, undo it."""
        store = self.store
        sid = target.sid or target.name("")
        created = meta is None
        if meta is None:
            meta = StatementMeta(id=sid, source=target.source, url=target.url, guid=target.guid)
            store.write_meta(meta)  # the folder's identity first; a crash here leaves 0 versions
        try:
            ref = healed or store.add_version(sid, statement, seen.time, seen.raw)
        except StoreError:
            if created:  # disk full, read-only: leave no empty statement behind
                store.discard_empty(sid)
            raise
        diff = self._diff(sid, base, ref) if base is not None else None
        message = _join(plain.change_note(diff) if diff else None, *notes, seen.change_note) or ""
        if current:  # an older capture (import) does not describe the statement as it is now
            meta.title, meta.agency, meta.published = (
                statement.title,
                statement.agency,
                statement.published,
            )
        if target.guid:
            meta.guid = target.guid
        outcome = Outcome.CHANGED if others else Outcome.NEW
        check = seen.check(
            outcome,
            sha256=sha,
            version=ref.number,
            base_sha256=base.sha256 if base else None,
            note=message or None,
        )
        try:
            self._write(meta, check, target.index)
        except StoreError:
            # Without its check the change would never be reported: undo the version, so that the
            # next run finds the change again (a kill here instead is healed above).
            if healed is None:
                store.undo_version(sid, ref)
            if created:
                store.discard_empty(sid)
            raise
        return self._result(
            meta,
            check,
            statement.url,
            message=message,
            title=statement.title,
            changes=len(diff.changes) if diff else 0,
        )

    def _diff(self, sid: str, a: VersionRef, b: VersionRef) -> DiffResult:
        """The redline of a stored change, between its two versions as stored (cached reads)."""
        numbers = {r.filename: r.number for r in self.store.versions(sid)}
        return self.diffs.diff(
            self.store.read_version(sid, numbers[a.filename]),
            self.store.read_version(sid, numbers[b.filename]),
        )

    def _flap(
        self, meta: StatementMeta, sha: str, refs: list[VersionRef], when: datetime
    ) -> str | None:
        """A return to a version seen within ``flap_window``: noted, not stored again."""
        match = [r for r in refs if r.sha256 == sha]
        if not match:
            return None
        for c in reversed(meta.checks):
            if c.get("sha256") == sha:
                seen = parse_time(c.get("time"))
                if seen and abs((when - seen).total_seconds()) <= self.schedule.flap_window:
                    return (
                        f"flap: back to the text of @{match[-1].number} (seen {c.get('time')}); "
                        "not stored again"
                    )
                break
        return None

    # -- writing a check -----------------------------------------------------------------------

    def _meta(self, target: Target) -> StatementMeta:
        if target.sid and self.store.exists(target.sid):
            return self.store.meta(target.sid)
        sid = target.sid or target.name("")
        target.sid = sid
        return StatementMeta(id=sid, source=target.source, url=target.url, guid=target.guid)

    def _record(
        self,
        target: Target,
        check: Check,
        url: str,
        *,
        meta: StatementMeta | None = None,
        message: str | None = None,
        title: str | None = None,
    ) -> SnapshotResult:
        """Record a check that stores no version."""
        meta = meta or self._meta(target)
        self._write(meta, check, target.index)
        return self._result(meta, check, url, message=message, title=title)

    def _write(self, meta: StatementMeta, check: Check, index: Index | None) -> None:
        self.store.record_check(meta.id, check, meta)
        if index is not None:
            index.add(summarize(meta))

    def _result(
        self,
        meta: StatementMeta,
        check: Check,
        url: str,
        *,
        message: str | None,
        title: str | None,
        changes: int = 0,
    ) -> SnapshotResult:
        """The outcome of a recorded check and the event it makes: the one description of events."""
        event = describe(self.store, meta.id, [check.entry()], self.diffs)
        version = (
            check.version
            if check.outcome in (Outcome.NEW, Outcome.CHANGED, Outcome.UNCHANGED)
            else None
        )
        return SnapshotResult(
            meta.id,
            check.outcome,
            url,
            version=version,
            changes=changes,
            message=(check.note or "") if message is None else message,
            title=meta.title if title is None else title,
            check=check,
            event=event,
        )


def extract_item(task: Task, page: Page) -> tuple[Statement, ContentItem | None]:
    """The statement of a fetched page (and the gov.uk content item it came from, if any)."""
    src = task.source
    if task.fetch_url and src.kind == "json":
        item = parse_content_item(page.content, page.final_url, agency=src.agency, source=src.name)
        return item.statement, item
    return extract(
        page.text, page.final_url, rules=src.extract, agency=src.agency or None, source=src.name
    ), None


def _last_seen(meta: StatementMeta | None, time: str) -> dict[str, Any] | None:
    """The last check that saw a text, if this sighting comes after every check.

    An older capture (an import) has checks after it: the version in place at its time
    decides instead. Check times are in dipdiff's one timestamp form, so string order is
    time order, and nothing needs parsing in the common case.
    """
    if meta is None or any(str(c.get("time", "")) > time for c in meta.checks):
        return None
    return next((c for c in reversed(meta.checks) if c.get("sha256")), None)


def _recorded(meta: StatementMeta, sha: str) -> bool:
    return any(c.get("sha256") == sha for c in meta.checks)


def _join(*notes: str | None) -> str | None:
    return "; ".join(n for n in notes if n) or None


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
    return fpath == "" or (
        a.path.rstrip("/").startswith(fpath + "/") and fpath != a.path.rstrip("/")
    )
