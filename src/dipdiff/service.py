"""The pipeline: fetch -> extract -> normalise -> store, one named outcome per statement.

No printing and no exit codes here: the CLI renders what these functions return.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from dipdiff.compare import DivergentPair, Index, Record, Related, within_reach
from dipdiff.compare import find_divergences as compare_find_divergences
from dipdiff.diff import DiffResult, diff_statements
from dipdiff.errors import ExtractError, InputError, StoreError
from dipdiff.extract import ExtractRules, blocked_reason, decode_html, extract
from dipdiff.models import Check, Outcome, Page, SnapshotResult, Statement
from dipdiff.normalize import clean, content_hash
from dipdiff.store import (
    StatementMeta,
    Store,
    looks_like_id,
    parse_ref,
    parse_timestamp,
    source_for_url,
    utc_timestamp,
)

Clock = Callable[[], str]
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")


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
        message=_change_note(diff) if diff else "",
        title=statement.title,
    )


def _recorded(meta: StatementMeta, sha: str) -> bool:
    return any(c.get("sha256") == sha for c in meta.checks)


def _join(*notes: str | None) -> str | None:
    return "; ".join(n for n in notes if n) or None


def _change_note(diff: DiffResult) -> str:
    s = diff.summary()
    parts = [f"{s[k]} {k}" for k in ("substantive", "minor", "cosmetic") if s[k]]
    return f"{s['changes']} change(s)" + (f": {', '.join(parts)}" if parts else "")


def snapshot_url(
    store: Store,
    fetcher: Callable[[str], Page],
    url: str,
    *,
    source: str | None = None,
    agency: str | None = None,
    rules: ExtractRules | None = None,
    lock_wait: float = 0.0,
) -> SnapshotResult:
    """Fetch one URL and record it. A fetch failure raises :class:`FetchError` (nothing stored)."""
    page = fetcher(url)
    with store.lock(wait=lock_wait):
        return record_page(store, page, source=source, agency=agency, rules=rules)


def import_file(
    store: Store,
    path: Path,
    url: str,
    *,
    fetched_at: str,
    source: str | None = None,
    agency: str | None = None,
    lock_wait: float = 0.0,
) -> SnapshotResult:
    """Store a saved HTML page (archive copy, Wayback capture) as if fetched at ``fetched_at``."""
    if not url.lower().startswith(("http://", "https://")):
        raise InputError(f"--url must be an http(s) URL, not {url!r}")
    content = _read_file(path)
    page = Page(url=url, final_url=url, status=200, content=content, text=decode_html(content),
                content_type="text/html", fetched_at=utc_timestamp(parse_timestamp(fetched_at)))
    with store.lock(wait=lock_wait):
        return record_page(store, page, source=source, agency=agency)


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a file") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None


@dataclass(frozen=True)
class Loaded:
    """A statement loaded from a store ID, a file or a URL, with a label for output."""

    statement: Statement
    label: str
    version: int | None = None


def load(ref: str, store: Store, fetcher: Callable[[str], Page] | None = None) -> Loaded:
    """Resolve ``ID[@N]``, a local file (.html/.htm/.txt/.md) or an http(s) URL."""
    if ref.lower().startswith(("http://", "https://")):
        if fetcher is None:
            raise InputError(f"{ref}: URLs cannot be loaded here")
        page = fetcher(ref)
        return Loaded(extract(page.text, page.url), ref)
    path = Path(ref)
    if path.exists() or path.suffix.lower() in TEXT_SUFFIXES + HTML_SUFFIXES:
        return Loaded(load_file(path), str(path))
    if looks_like_id(ref):
        sid, n = parse_ref(ref)
        v = store.read_version(sid, n if n is not None else -1)
        return Loaded(v.statement, f"{sid}@{v.ref.number}", v.ref.number)
    raise InputError(f"{ref!r} is not a statement ID (<source>/<slug>[@N]), a file or a URL")


def load_file(path: Path) -> Statement:
    content = _read_file(path)
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES:
        return extract(decode_html(content), path.resolve().as_uri())
    if suffix in TEXT_SUFFIXES:
        text = decode_html(content)
        if text.startswith("---\n"):  # a version file from a store
            from dipdiff.store import parse_version

            return parse_version(text, str(path))[1]
        blocks = [b.strip() for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
        title = blocks[0].lstrip("# ").strip() if blocks and blocks[0].startswith("#") else ""
        body = blocks[1:] if title else blocks
        # clean(): a text file is as untrusted as a page (escape sequences, bidi overrides).
        return Statement(title=clean(title), paragraphs=tuple(p for p in map(clean, body) if p),
                         url=path.resolve().as_uri())
    raise InputError(f"{path}: unsupported file type {suffix or '(none)'} (use .html, .htm, .txt or .md)")


def resolve_pair(refs: list[str], store: Store, fetcher: Callable[[str], Page] | None) -> tuple[Loaded, Loaded]:
    """``diff ID`` (latest two versions) or ``diff A B``."""
    if len(refs) == 1:
        sid, n = parse_ref(refs[0])
        refs_ = store.versions(sid)
        if len(refs_) < 2 and n is None:
            raise InputError(f"{sid} has only {len(refs_)} version(s); nothing to diff")
        b_n = n if n is not None else -1
        b = store.read_version(sid, b_n)
        if b.ref.number < 2:
            raise InputError(f"{sid}@{b.ref.number} is the first version; nothing before it")
        a = store.read_version(sid, b.ref.number - 1)
        return (Loaded(a.statement, f"{sid}@{a.ref.number}", a.ref.number),
                Loaded(b.statement, f"{sid}@{b.ref.number}", b.ref.number))
    if len(refs) != 2:
        raise InputError("diff takes one statement ID or two things to compare")
    return load(refs[0], store, fetcher), load(refs[1], store, fetcher)


# `dipdiff fetch` (sources, discovery, schedule, politeness) lives in watch.py; its entry
# point is part of the service API.
from dipdiff.watch import (  # noqa: E402,F401
    Listener, afetch_sources, check_source, exit_status, fetch_sources, summary,
)


# -- cross-agency comparison ------------------------------------------------------------------------


def statement_date(published: str | None, fetched_at: str | None):
    """When a statement was issued: its ``published`` date, else when it was first fetched."""
    for value in (published, fetched_at):
        if value:
            try:
                return parse_timestamp(value)
            except InputError:
                continue
    return None


def store_records(store: Store) -> list[Record]:
    """The latest version of every statement in the store, dated, for cross-checking."""
    out = []
    for sid in store.statement_ids():
        refs = store.versions(sid)
        if not refs:
            continue
        v = store.read_version(sid, refs[-1].number)
        out.append(Record(sid, v.statement, statement_date(v.statement.published, refs[0].fetched_at),
                          refs[-1].number))
    return out


def related_in_store(store: Store, ref: str, window: timedelta, *, limit: int | None = None
                     ) -> tuple[Record, list[Related]]:
    """``dipdiff related``: the statements of other sources about the same event as ``ref``."""
    sid, _ = parse_ref(ref)
    if not store.exists(sid):
        raise InputError(f"no statement {sid!r} in {store.root}")
    records = store_records(store)
    target = next(r for r in records if r.id == sid)
    if target.date is None:
        return target, []
    index = Index(within_reach(records, window=window, around=target.date))
    return index.by_id[sid].record, index.related(sid, window, limit=limit)


def find_divergences(store: Store, *, since: datetime | None = None, window: timedelta = timedelta(days=7),
                     involving: Iterable[str] | None = None) -> list[DivergentPair]:
    """``dipdiff divergences``: divergent pairs of related statements in the store, most divergent first.

    ``involving`` restricts the result to pairs that include one of these statement IDs
    (for a run: the statements that are new or changed).
    """
    return compare_find_divergences(store_records(store), since=since, window=window, involving=involving)
