"""Recording: one look at a statement (a page fetched or imported, a feed item, a failure)
becomes one check in the store, at most one stored version, and at most one event.

One recorder for ``snapshot``, ``import``, ``fetch`` and ``run``, with one set of rules for
a statement's text, whichever command saw it. Each event is decided here, once, when it
happens, and written into the check (``event``); every report renders what was written.

* the text the last check saw: ``unchanged``, decided without reading a version;
* a text stored before, not the latest (A -> B -> A): stored again as the latest version,
  ``restored`` to the text of the earlier one; unless the page alternates between two texts
  on each of its last checks (two servers behind a balancer): then it is ``flapping``, one
  event, and its checks are quiet until a third text appears or one text holds;
* the latest version's text, when no check records that version: a run was killed between
  storing it and recording it; it is recorded now, as the change it was, never stored twice;
* a feed item whose guid now carries a different release: a new statement;
* a title that changed only in case: ``unchanged``, with a note;
* anything else is stored, ``new`` or ``changed``, and diffed once against the latest version.
  If its check cannot be written the version is undone (and a statement left empty removed),
  so that the next run finds the change again.

Removed, unavailable, blocked and flapping are states: an event when they begin (and ``back``
or ``recovered`` when a check reads the page again), ``since`` on each check while they last.
A live check is never recorded before the statement's latest check (a clock behind, on another
host or in a backfill, records at that check's time), so that versions keep the order of what
happened; only ``import`` places an older capture in the past. A check made by ``dipdiff run``
names the run; one made by another command, the run recorded last before it.

Every result carries the check it recorded and the event that check makes
(:func:`dipdiff.pipeline.events.describe`): the reports of the run are rendered from it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any
from urllib.parse import urlsplit

from dipdiff.analyse.diff import DiffResult
from dipdiff.clock import Clock, parse_timestamp, utc_timestamp
from dipdiff.config import ExtractRules, Schedule, SourceConfig
from dipdiff.errors import ExtractError, FetchError, NotAllowed, RobotsDisallowed, StoreError
from dipdiff.models import (
    Check,
    Outcome,
    Page,
    Provenance,
    SnapshotResult,
    Statement,
    VersionRef,
)
from dipdiff.pipeline.events import (
    DiffCache,
    State,
    describe,
    last_sighting,
    latest_with,
    sightings,
    state_of,
)
from dipdiff.pipeline.plan import Index, Task, parse_time, summarize
from dipdiff.render import plain
from dipdiff.scrape.discover import ContentItem, parse_content_item, same_release, title_case_only
from dipdiff.scrape.extract import blocked_reason, extract
from dipdiff.store.ids import hashed_slug, slug_for_url, source_for_url
from dipdiff.store.meta import TROUBLE, StatementMeta
from dipdiff.store.store import Store
from dipdiff.text import content_hash, slugify

INTERRUPTED = "stored by an interrupted run, recorded now"
_STORING = ("new", "changed", "restored")
_SEEN = (*_STORING, "unchanged", "flapping")
#: Flapping: the text changed on each of the last checks, back and forth between two texts
#: (this many sightings, within ``flap_window``). It ends when one text holds this long.
FLAP_SIGHTINGS = 4
SETTLE_SIGHTINGS = 6


@dataclass(frozen=True)
class Sighting:
    """One look at a statement: when, at which address, and what the server said."""

    time: str  # the check's time (dipdiff's one timestamp form)
    url: str  # the address asked
    page: Page | None = None
    raw: bytes | None = None  # kept beside a stored version
    raw_sha: str | None = None
    note: str | None = None  # goes with every outcome (a redirect)
    # The site's own edit log (GOV.UK change history): its newest note, and when it was published.
    change_note: str | None = None
    change_note_at: str | None = None
    archived: bool = False  # a saved capture (import): placed in the history by its own time
    provenance: Provenance | None = None  # a web archive's capture (backfill, WARC import)

    def check(self, outcome: Outcome, **fields: Any) -> Check:
        p = self.page
        http = {"status": p.status, "etag": p.etag, "last_modified": p.last_modified} if p else {}
        if self.provenance is not None:
            http |= {"archive": self.provenance.origin, "memento": self.provenance.memento}
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


_LIVE = Sighting("", "")


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
        archived: bool = False,
        provenance: Provenance | None = None,
    ) -> SnapshotResult:
        """Record a page fetched now, or saved earlier (``archived``: an import, placed in the
        history at ``page.fetched_at``; ``provenance``: the web archive it came from); needs
        the lock."""
        source = source or source_for_url(page.url)
        sid = self.store.find_url(page.url, source) or self.store.new_id(page.url, source)
        target = Target(sid, source, page.url, name=lambda _: sid)
        seen = Sighting(
            utc_timestamp(parse_timestamp(page.fetched_at)),
            page.url,
            page,
            raw=page.content,
            note=f"redirected to {page.final_url}" if page.final_url != page.url else None,
            archived=archived or provenance is not None,
            provenance=provenance,
        )
        statement: Statement | None = None
        reason: str | None = None
        try:
            statement = extract(page.text, page.url, rules=rules, agency=agency, source=source)
        except ExtractError as e:
            reason = e.reason
        reason = blocked_reason(page.text, statement) or reason
        if statement is None or reason:
            check = seen.check(Outcome.BLOCKED, note=reason)
            return self._record(target, check, page.url, message=reason or "", seen=seen)
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
        if isinstance(error, (RobotsDisallowed, NotAllowed)) or status in (401, 403, 451):
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
            seen = replace(
                seen,
                note=None,
                page=replace(
                    page,
                    etag=page.etag or (known.etag if page.status == 304 else None),
                    last_modified=page.last_modified
                    or (known.last_modified if page.status == 304 else None),
                ),
            )
            meta = self.store.meta(known.sid)
            seen = self._in_order(meta, seen)
            quick = self._unchanged(target, meta, known.sha, seen, task.url, None)
            return quick or self._again(target, meta, known.sha, seen, None, task.url)
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
            # GOV.UK's own edit log: recorded when a new note appears, never part of the text.
            when, text = govuk.change_notes[-1]
            seen = replace(seen, change_note=text, change_note_at=when)
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
        check = seen.check(
            Outcome.MOVED, url=task.fetch_url or new_url, sha256=sha, note=message, event="moved"
        )
        return self._record(target, check, new_url, meta=meta, message=message)

    # -- the rules for a statement's text ------------------------------------------------------

    def _text(
        self, target: Target, statement: Statement, seen: Sighting, sha: str | None = None
    ) -> SnapshotResult:
        store = self.store
        sha = sha or content_hash(statement.title, statement.paragraphs)
        meta = store.meta(target.sid) if target.sid and store.exists(target.sid) else None
        if meta is None:
            return self._store(target, meta, statement, sha, seen, Outcome.NEW, base=None)
        if seen.archived and any(str(c.get("time", "")) > seen.time for c in meta.checks):
            return self._archived(target, meta, statement, sha, seen)
        seen = self._in_order(meta, seen)
        quick = self._unchanged(target, meta, sha, seen, statement.url, statement.title)
        if quick is not None:
            return quick
        refs = store.versions(meta.id)
        if not refs:
            return self._store(target, meta, statement, sha, seen, Outcome.NEW, base=None)
        state = state_of(meta.checks)
        latest = refs[-1]
        if sha == latest.sha256:
            if self._unrecorded(meta, refs, latest):
                # Stored by a run killed before it recorded the check: record it now, as the
                # change it was (storing it again would make a duplicate version).
                before = refs[-2] if len(refs) > 1 else None
                kind = (
                    Outcome.NEW
                    if before is None
                    else Outcome.RESTORED
                    if latest_with(refs, sha, below=latest.number)
                    else Outcome.CHANGED
                )
                return self._store(
                    target,
                    meta,
                    statement,
                    sha,
                    seen,
                    kind,
                    base=before,
                    healed=latest,
                    notes=[seen.note, INTERRUPTED],
                )
            return self._again(target, meta, sha, seen, statement)
        if state.kind == "flapping" and sha in (state.text, state.other):
            return self._again(target, meta, sha, seen, statement)
        earlier = latest_with(refs, sha)
        if earlier is not None:
            if self._flapping(meta, refs, sha, seen.time):
                return self._flap(target, meta, refs, sha, seen, statement.url)
            return self._store(target, meta, statement, sha, seen, Outcome.RESTORED, base=latest)
        in_place = store.read_version(meta.id, latest.number).statement
        if target.guid and not same_release(in_place, statement):
            # The feed reused this guid for a different release: a new statement.
            note = f"guid {target.guid} reused: a new release, not an edit of {target.sid}"
            target = replace(target, sid=target.name(statement.title))
            return self._store(
                target, None, statement, sha, seen, Outcome.NEW, base=None, notes=[seen.note, note]
            )
        if title_case_only(in_place, statement):
            return self._case_only(target, meta, in_place, statement, sha, seen)
        return self._store(target, meta, statement, sha, seen, Outcome.CHANGED, base=latest)

    def _case_only(
        self,
        target: Target,
        meta: StatementMeta,
        old: Statement,
        statement: Statement,
        sha: str,
        seen: Sighting,
    ) -> SnapshotResult:
        """A title that changed only in case: noted, not stored."""
        note = f"title changed only in case ({old.title!r} -> {statement.title!r}); not stored"
        check = seen.check(Outcome.UNCHANGED, sha256=sha, note=_join(seen.note, note))
        return self._record(
            target, check, statement.url, meta=meta, title=statement.title, seen=seen
        )

    def _unchanged(
        self,
        target: Target,
        meta: StatementMeta,
        sha: str,
        seen: Sighting,
        url: str,
        title: str | None,
    ) -> SnapshotResult | None:
        """The text the last check saw, outside a flapping spell: ``unchanged``, decided without
        reading a version (the common case); None when the rules must look further."""
        last = last_sighting(meta.checks)
        if last is None or last.get("sha256") != sha or last.get("outcome") == "flapping":
            return None
        check = seen.check(
            Outcome.UNCHANGED, sha256=sha, version=last.get("version"), note=seen.note
        )
        return self._record(target, check, url, meta=meta, title=title, seen=seen)

    def _again(
        self,
        target: Target,
        meta: StatementMeta,
        sha: str,
        seen: Sighting,
        statement: Statement | None,
        url: str | None = None,
    ) -> SnapshotResult:
        """A text the statement has now: the latest version's, the last check's, or one of the
        two a flapping page alternates between."""
        refs = self.store.versions(meta.id)
        version = latest_with(refs, sha)
        number = version.number if version else None
        url = url or (statement.url if statement else target.url)
        title = statement.title if statement else None
        state = state_of(meta.checks)
        pair = (state.text, state.other)
        if state.kind == "flapping" and sha in pair:
            if not self._settled(meta, sha):
                check = seen.check(
                    Outcome.FLAPPING,
                    sha256=sha,
                    version=number,
                    base_sha256=pair[0] if sha == pair[1] else pair[1],
                    since=state.since,
                    note=seen.note,
                )
                return self._record(target, check, url, meta=meta, title=title, seen=seen)
            if version is not None and version != refs[-1]:
                # The page settled on the text that is not the latest version: it is back.
                text = statement or self.store.read_version(meta.id, version.number).statement
                return self._store(
                    target,
                    meta,
                    text,
                    sha,
                    seen,
                    Outcome.RESTORED,
                    base=refs[-1],
                    notes=[seen.note, f"no longer flapping (since {state.since})"],
                )
            note = f"no longer flapping (since {state.since})"
            check = seen.check(
                Outcome.UNCHANGED, sha256=sha, version=number, note=_join(seen.note, note)
            )
            return self._record(target, check, url, meta=meta, title=title, seen=seen)
        check = seen.check(Outcome.UNCHANGED, sha256=sha, version=number, note=seen.note)
        return self._record(target, check, url, meta=meta, title=title, seen=seen)

    def _archived(
        self,
        target: Target,
        meta: StatementMeta,
        statement: Statement,
        sha: str,
        seen: Sighting,
    ) -> SnapshotResult:
        """An older capture, imported after later checks: its place in the history is its time."""
        refs = self.store.versions(meta.id)
        when = parse_timestamp(seen.time)
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
        if same is not None:
            check = seen.check(Outcome.UNCHANGED, sha256=sha, version=same.number, note=seen.note)
            return self._record(
                target, check, statement.url, meta=meta, title=statement.title, seen=seen
            )
        if in_place is not None:
            in_text = self.store.read_version(meta.id, in_place.number).statement
            if title_case_only(in_text, statement):
                return self._case_only(target, meta, in_text, statement, sha, seen)
        kind = (
            Outcome.NEW
            if not refs
            else Outcome.RESTORED
            if in_place is not None and latest_with(before, sha)
            else Outcome.CHANGED
        )
        return self._store(
            target, meta, statement, sha, seen, kind, base=in_place, current=not later
        )

    def _in_order(self, meta: StatementMeta, seen: Sighting) -> Sighting:
        """A live check is never recorded before the statement's latest check."""
        times = [str(c["time"]) for c in meta.checks if c.get("time")]
        latest = max(times, default="")
        if seen.archived or latest <= seen.time:
            return seen
        return replace(seen, time=latest, note=_join(seen.note, f"clock behind: {seen.time}"))

    def _unrecorded(self, meta: StatementMeta, refs: list[VersionRef], ref: VersionRef) -> bool:
        """Is ``ref`` a version that no check records (its run was killed before the check)?"""
        stored = sum(1 for r in refs if r.sha256 == ref.sha256)
        recorded = sum(
            1 for c in meta.checks if c.get("sha256") == ref.sha256 and c.get("outcome") in _STORING
        )
        return recorded < stored

    def _flapping(self, meta: StatementMeta, refs: list[VersionRef], sha: str, time: str) -> bool:
        """Has the text changed on each of the last checks, back and forth between two texts?"""
        now = parse_timestamp(time)
        recent = [
            c
            for c in sightings(meta.checks)
            if (when := parse_time(c.get("time"))) is not None
            and (now - when).total_seconds() <= self.schedule.flap_window
        ][-(FLAP_SIGHTINGS - 1) :]
        texts = [str(c["sha256"]) for c in recent] + [sha]
        if len(texts) < FLAP_SIGHTINGS or len(set(texts)) != 2:
            return False
        stored = {r.sha256 for r in refs}
        return set(texts) <= stored and all(a != b for a, b in pairwise(texts))

    def _flap(
        self,
        target: Target,
        meta: StatementMeta,
        refs: list[VersionRef],
        sha: str,
        seen: Sighting,
        url: str,
    ) -> SnapshotResult:
        """The page alternates between two stored texts: one event, nothing stored."""
        last = last_sighting(meta.checks)
        other = str(last["sha256"]) if last else None
        a, b = latest_with(refs, other), latest_with(refs, sha)
        pair = sorted(r.number for r in (a, b) if r is not None)
        note = "flapping between the texts of " + " and ".join(f"@{n}" for n in pair)
        check = seen.check(
            Outcome.FLAPPING,
            sha256=sha,
            version=b.number if b else None,
            base_sha256=other,
            event="flapping",
            since=seen.time,
            note=_join(seen.note, note),
        )
        return self._record(target, check, url, meta=meta)

    def _settled(self, meta: StatementMeta, sha: str) -> bool:
        texts = [c.get("sha256") for c in sightings(meta.checks)][-(SETTLE_SIGHTINGS - 1) :]
        return len(texts) == SETTLE_SIGHTINGS - 1 and all(t == sha for t in texts)

    def _store(
        self,
        target: Target,
        meta: StatementMeta | None,
        statement: Statement,
        sha: str,
        seen: Sighting,
        outcome: Outcome,
        *,
        base: VersionRef | None,
        healed: VersionRef | None = None,
        current: bool = True,
        notes: list[str | None] | None = None,
    ) -> SnapshotResult:
        """Store the version (unless a killed run did), then its check; if that fails, undo it."""
        store = self.store
        sid = target.sid or target.name("")
        created = meta is None
        if meta is None:
            meta = StatementMeta(id=sid, source=target.source, url=target.url, guid=target.guid)
            store.write_meta(meta)  # the folder's identity first; a crash here leaves 0 versions
        try:
            ref = healed or store.add_version(sid, statement, seen.time, seen.raw, seen.provenance)
        except StoreError:
            if created:  # disk full, read-only: leave no empty statement behind
                store.discard_empty(sid)
            raise
        diff = self._diff(sid, base, ref) if base is not None else None
        notes = [seen.note] if notes is None else notes
        back = latest_with(store.versions(sid), sha, below=ref.number)
        lead = (
            f"restored to the text of @{back.number}"
            if outcome is Outcome.RESTORED and back
            else None
        )
        new_note = self._new_change_note(meta, seen)
        undisclosed = bool(
            outcome is not Outcome.NEW
            and diff is not None
            and seen.change_note_at
            and not new_note
            and any(c.significance == "substantive" for c in diff.changes)
        )
        message = (
            _join(
                lead,
                plain.change_note(diff) if diff else None,
                *notes,
                f"GOV.UK change note {seen.change_note_at}: {seen.change_note}"
                if new_note
                else None,
                "undisclosed edit: no new GOV.UK change note" if undisclosed else None,
            )
            or ""
        )
        if current:  # an older capture (import) does not describe the statement as it is now
            meta.title, meta.agency, meta.published = (
                statement.title,
                statement.agency,
                statement.published,
            )
        if target.guid:
            meta.guid = target.guid
        check = seen.check(
            outcome,
            sha256=sha,
            version=ref.number,
            base_sha256=base.sha256 if base else None,
            event=str(outcome),
            note=message or None,
            undisclosed=True if undisclosed else None,
            **self._change_note_fields(new_note, seen),
        )
        check = self._stamped(check)
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

    def _new_change_note(self, meta: StatementMeta | None, seen: Sighting) -> bool:
        """Does the sighting carry a note of the site's edit log that no earlier check saw?"""
        if not seen.change_note_at:
            return False
        known = [
            parsed
            for c in (meta.checks if meta else [])
            if (parsed := parse_time(c.get("change_note_at"))) is not None
        ]
        when = parse_time(seen.change_note_at)
        return when is not None and (not known or when > max(known))

    def _change_note_fields(self, new: bool, seen: Sighting) -> dict[str, Any]:
        if not new:
            return {}
        return {"change_note": seen.change_note, "change_note_at": seen.change_note_at}

    def _diff(self, sid: str, a: VersionRef, b: VersionRef) -> DiffResult:
        """The redline of a stored change, between its two versions as stored (cached reads)."""
        numbers = {r.filename: r.number for r in self.store.versions(sid)}
        return self.diffs.diff(
            self.store.read_version(sid, numbers[a.filename]),
            self.store.read_version(sid, numbers[b.filename]),
        )

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
        seen: Sighting | None = None,
    ) -> SnapshotResult:
        """Record a check that stores no version: a state begins, lasts or ends with it."""
        meta = meta or self._meta(target)
        if seen is None or not seen.archived:
            check = replace(check, time=self._in_order(meta, replace(_LIVE, time=check.time)).time)
        check = self._stamped(self._state(state_of(meta.checks), check))
        if seen is not None and self._new_change_note(meta, seen):
            check = replace(check, **self._change_note_fields(True, seen))
        self._write(meta, check, target.index)
        return self._result(meta, check, url, message=message, title=title)

    def _state(self, state: State, check: Check) -> Check:
        """The event of a check that stores nothing, from the state the statement was in."""
        outcome = str(check.outcome)
        if outcome in TROUBLE:
            if state.kind == outcome:
                return replace(check, since=state.since)
            return replace(check, event=outcome, since=check.time)
        if state.kind not in TROUBLE:
            return check
        ended = f"{state.kind} since {state.since}, {state.checks} check(s)"
        if check.event:  # a move or flapping found on the way back: that is the news
            return replace(check, note=_join(check.note, f"readable again after: {ended}"))
        kind = "back" if state.kind == "removed" else "recovered"
        return replace(check, event=kind, note=_join(check.note, f"{kind} after: {ended}"))

    def _stamped(self, check: Check) -> Check:
        """Name the run that made the check, or the run recorded last before it."""
        run = self.store.active_run()
        if run is not None:
            return replace(check, run=run)
        return replace(check, after=self.store.last_run() or "")

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
        checks = (
            meta.checks if meta.checks and meta.checks[-1] == check.entry() else [check.entry()]
        )
        event = describe(self.store, meta.id, checks, len(checks) - 1, self.diffs)
        version = check.version if str(check.outcome) in _SEEN else None
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
