"""Recording: one fetched page (or feed item, or failure) becomes one outcome in the store."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from dipdiff.analyse.diff import diff_statements
from dipdiff.clock import Clock, parse_timestamp
from dipdiff.config import ExtractRules, Schedule, SourceConfig
from dipdiff.errors import ExtractError, FetchError, RobotsDisallowed, StoreError
from dipdiff.models import Check, Outcome, Page, SnapshotResult, Statement
from dipdiff.pipeline.plan import Index, Task, parse_time, summarize
from dipdiff.render import plain
from dipdiff.scrape.discover import ContentItem, parse_content_item, same_release, title_case_only
from dipdiff.scrape.extract import blocked_reason, extract
from dipdiff.store.ids import slug_for_url, source_for_url
from dipdiff.store.meta import StatementMeta
from dipdiff.store.store import Store
from dipdiff.text import content_hash, slugify


def record_page(
    store: Store,
    page: Page,
    *,
    source: str | None = None,
    agency: str | None = None,
    rules: ExtractRules | None = None,
) -> SnapshotResult:
    """Extract the statement from a fetched page and store it if its text is new.

    The caller holds the store's lock. A page that is a bot wall or extracts to
    nearly nothing is recorded as ``blocked`` and never stored as a version.
    """
    source = source or source_for_url(page.url)
    sid = store.find_url(page.url, source) or store.new_id(page.url, source)
    meta = store.meta(sid) if store.exists(sid) else StatementMeta(id=sid, source=source, url=page.url)
    check = Check(
        time=page.fetched_at, outcome=Outcome.UNCHANGED, url=page.url, status=page.status,
        etag=page.etag, last_modified=page.last_modified,
        note=f"redirected to {page.final_url}" if page.final_url != page.url else None,
    )
    try:
        statement = extract(page.text, page.url, rules=rules, agency=agency, source=source)
    except ExtractError as e:
        statement, reason = None, e.reason
    else:
        reason = None
    reason = blocked_reason(page.text, statement) or reason
    if statement is None or reason:
        store.record_check(sid, replace(check, outcome=Outcome.BLOCKED, note=reason), meta)
        return SnapshotResult(sid, Outcome.BLOCKED, page.url, message=reason or "")

    sha = content_hash(statement.title, statement.paragraphs)
    refs = store.versions(sid) if store.exists(sid) else []
    when = parse_timestamp(page.fetched_at)
    before = [r for r in refs if parse_timestamp(r.fetched_at) <= when]
    after = [r for r in refs if parse_timestamp(r.fetched_at) > when]
    neighbours = ([before[-1]] if before else []) + ([after[0]] if after else [])
    same = next((r for r in neighbours if r.sha256 == sha), None)
    if same is not None and (same != refs[-1] or _recorded(meta, sha)):
        if same == refs[-1]:  # heals a meta.json left behind by a run killed after the version
            meta.title, meta.agency, meta.published = statement.title, statement.agency, statement.published
        store.record_check(sid, replace(check, sha256=sha, version=same.number), meta)
        return SnapshotResult(sid, Outcome.UNCHANGED, page.url, version=same.number,
                              title=statement.title)

    created = added = False
    if same is not None:
        # The latest version is stored but no check says so: the run that stored it was
        # killed before recording it. Report it now, so that the change is never silent.
        ref = same
        earlier = [r for r in refs if r.number < same.number]
        previous = store.read_version(sid, earlier[-1].number).statement if earlier else None
        outcome = Outcome.CHANGED if earlier else Outcome.NEW
        check = replace(check, note=_join(check.note, "stored by an interrupted run, recorded now"))
    else:
        previous = store.read_version(sid, before[-1].number).statement if before else None
        created = not store.exists(sid)
        if created:
            store.write_meta(meta)  # the folder's identity first; a crash here leaves 0 versions
        try:
            ref = store.add_version(sid, statement, page.fetched_at, page.content)
        except StoreError:
            if created:  # disk full, read-only: leave no empty statement behind
                store.discard_empty(sid)
            raise
        added = True
        outcome = Outcome.CHANGED if refs else Outcome.NEW
    diff = diff_statements(previous, statement) if previous is not None else None
    if not after:  # an older capture (import) does not describe the statement as it is now
        meta.title, meta.agency, meta.published = statement.title, statement.agency, statement.published
    try:
        store.record_check(sid, replace(check, outcome=outcome, sha256=sha, version=ref.number), meta)
    except StoreError:
        # Without its check the change would never be reported: undo the version, so that the
        # next run finds the change again (a kill here instead is healed above).
        if added:
            store.undo_version(sid, ref)
        if created:
            store.discard_empty(sid)
        raise
    return SnapshotResult(
        sid, outcome, page.url, version=ref.number,
        changes=len(diff.changes) if diff else 0,
        message=plain.change_note(diff) if diff else "",
        title=statement.title,
    )


def _recorded(meta: StatementMeta, sha: str) -> bool:
    return any(c.get("sha256") == sha for c in meta.checks)


def _join(*notes: str | None) -> str | None:
    return "; ".join(n for n in notes if n) or None


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

            message = "; ".join(m for m in (plain.change_note(diff), note, change_note) if m)
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
                seen = parse_time(c.get("time"))
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
