"""``dipdiff site OUT``: the store as a static web site, with a permalink for every version and
every redline, rebuilt incrementally.

What the pages show is what the rest of dipdiff computes: events come from the recorder's
own description of the check history (:class:`dipdiff.pipeline.report.History`), redlines
from the diff engine through one diff cache, divergences from
:func:`dipdiff.pipeline.crosscheck.find_divergences`, feeds from :mod:`dipdiff.render.feed`;
:mod:`dipdiff.render.site` turns them into HTML.

Deterministic: a page holds only what the store holds (no build time), so the same store
gives the same bytes. Incremental: every page has a *key*, a hash of the inputs it is made
from (and of the templates); the manifest ``OUT/.dipdiff-site.json`` keeps each page's key,
and a page whose key is unchanged and whose file exists is neither rendered nor written. Pages
that are gone from the store are removed (only files the manifest lists: nothing else in OUT
is touched).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from dipdiff.analyse.diff import DiffResult
from dipdiff.analyse.related import DEFAULT_WINDOW, DivergentPair
from dipdiff.errors import StoreError
from dipdiff.models import SIG_RANK, Divergence, Event, VersionRef
from dipdiff.pipeline.crosscheck import find_divergences
from dipdiff.pipeline.report import History, build_feed, history_events, site_entry
from dipdiff.pipeline.run import divergence_record
from dipdiff.render.feed import Feed, render_feed
from dipdiff.render.html import compare_fragment, diff_fragment
from dipdiff.render.permalinks import (
    ASSETS,
    SEARCH,
    SEARCH_INDEX,
    agency_path,
    diff_path,
    event_key,
    event_path,
    feed_path,
    permalink,
    statement_path,
    version_path,
)
from dipdiff.render.plain import change_note
from dipdiff.render.site import (
    assets,
    render_key,
    render_page,
    safe_url,
    search_index,
    search_text,
    trusted,
)
from dipdiff.store.atomic import atomic_write, os_reason
from dipdiff.store.meta import StatementMeta
from dipdiff.store.store import Store

MANIFEST = ".dipdiff-site.json"
LATEST = 50  # changes on the home page and in the site's and agencies' feeds
SITE_TITLE = "dipdiff archive"
_EVENT_OUTCOMES = ("new", "changed", "removed", "moved")


@dataclass(frozen=True)
class SiteResult:
    """What a build did: pages written (paths under OUT), pages left as they were, removed."""

    out: Path
    written: tuple[str, ...]
    unchanged: int
    removed: tuple[str, ...]

    @property
    def pages(self) -> int:
        return len(self.written) + self.unchanged


@dataclass(frozen=True)
class _Page:
    path: str  # a file under OUT
    key: str  # hash of its inputs; "" when the page is keyed by its bytes
    render: Callable[[], bytes]


def _hash(*parts: Any) -> str:
    blob = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{render_key()}\n{blob}".encode()).hexdigest()


def _index(path: str) -> str:
    return f"{path}index.html"


def _root(path: str) -> str:
    """The relative way back to the site's root from the page at ``path`` (a folder path)."""
    return "../" * path.count("/")


def origin(check: dict[str, Any] | None) -> str:
    """Where a version came from: the check's recorded ``origin`` (an archive), else ``live``."""
    return str((check or {}).get("origin") or "live")


@dataclass
class _Statement:
    """One statement as the site sees it, read once."""

    sid: str
    meta: StatementMeta
    refs: list[VersionRef]
    storing: dict[str, dict[str, Any]] = field(default_factory=dict)  # sha256 -> its check

    @property
    def source(self) -> str:
        return self.meta.source or self.sid.split("/", 1)[0]

    @property
    def last(self) -> str:
        return self.meta.checks[-1]["time"] if self.meta.checks else self.refs[-1].fetched_at

    @property
    def removed(self) -> bool:
        outcomes = [c.get("outcome") for c in self.meta.checks if c.get("outcome") != "unchanged"]
        return bool(outcomes) and outcomes[-1] == "removed"

    def pairs(self) -> list[tuple[int, int]]:
        """The redlines that get a permalink: each version against the one before, and each
        change the check history announced against its base (a flap's base is older)."""
        by_sha = {r.sha256: r.number for r in self.refs}
        found = {(n - 1, n) for n in range(2, len(self.refs) + 1)}
        for sha, c in self.storing.items():
            a, b = by_sha.get(c.get("base_sha256") or ""), by_sha.get(sha)
            if a is not None and b is not None and a != b:
                found.add((a, b))
        return sorted(found, key=lambda p: (p[1], p[0]))

    def identity(self) -> list[Any]:
        m = self.meta
        return [self.sid, m.url, m.title, m.agency, m.published]

    def version_keys(self) -> list[list[str]]:
        return [[r.filename, r.sha256, r.fetched_at] for r in self.refs]


class _Builder:
    def __init__(
        self,
        store: Store,
        out: Path,
        base_url: str,
        title: str,
        window: timedelta,
        cached: dict[str, Any] | None = None,
    ) -> None:
        self.store = store
        self.cached = cached or {}
        self.found: dict[str, Any] = {}  # this build's divergences, for the manifest
        self.window = window
        self.out = out
        self.base_url = base_url
        self.title = title
        self.history = History(store)
        self.statements: dict[str, _Statement] = {}
        self.built_from = ""

    # -- reading the store --------------------------------------------------------------------

    def read(self) -> None:
        for sid in self.store.statement_ids():
            refs = self.store.versions(sid)
            if not refs:
                continue
            meta = self.store.meta(sid)
            st = _Statement(sid, meta, refs)
            for c in meta.checks:
                if c.get("outcome") in ("new", "changed") and c.get("sha256"):
                    st.storing.setdefault(str(c["sha256"]), c)
            self.statements[sid] = st
        times = [st.last for st in self.statements.values()]
        self.built_from = max(times, default="")

    def events_of(self, st: _Statement) -> list[Event]:
        return history_events(self.store, None, self.history, ids=[st.sid])

    # -- pages ----------------------------------------------------------------------------------

    def common(self, path: str, title: str, feed: str = "") -> dict[str, Any]:
        return {
            "root": _root(path),
            "title": title,
            "site_title": self.title,
            "feed": feed,
        }

    def change_row(self, e: Event) -> dict[str, Any]:
        s = e.statement
        if e.kind == "changed" and e.diff is not None and e.a_version and s.version:
            path, note = diff_path(s.id, e.a_version, s.version), change_note(e.diff)
            note = f"version {e.a_version} → {s.version}: {note}"
        elif e.kind == "new" and s.version:
            path, note = version_path(s.id, s.version), f"version {s.version}"
        else:
            path, note = statement_path(s.id), e.note
        return {
            "kind": e.kind,
            "time": e.time,
            "title": s.title or s.id,
            "agency": s.agency or s.source,
            "path": path,
            "note": note,
            "significance": e.worst if e.kind == "changed" else "",
        }

    def pages(self) -> Iterable[_Page]:
        self.read()
        div_rows, events = self.divergences()
        by_statement: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in div_rows:
            by_statement[row["a_id"]].append(row)
            by_statement[row["b_id"]].append(row)
        yield from self.home(div_rows)
        yield from self.search()
        for source in sorted({st.source for st in self.statements.values()}):
            yield from self.agency(source)
        for st in self.statements.values():
            yield from self.statement(st, by_statement.get(st.sid, []))
        yield from events
        for name, data in sorted(assets().items()):
            yield _Page(f"{ASSETS}{name}", "", _const(data))
        # GitHub Pages would hide the `_` folders from Jekyll's build without it.
        yield _Page(".nojekyll", "", _const(b""))

    def divergences(self) -> tuple[list[dict[str, Any]], list[_Page]]:
        """The divergent pairs and their event pages; found again only when the latest version
        of some statement changed (finding them analyses every statement's text, which is most
        of a build's time). Otherwise the previous build's, from the manifest."""
        records = [
            [st.sid, st.refs[0].fetched_at, st.refs[-1].sha256, len(st.refs)]
            for st in self.statements.values()
        ]
        key = _hash("divergences", records, self.window.total_seconds(), self.title)
        old = self.cached
        if old.get("key") == key and all((self.out / p).is_file() for p in old.get("pages", {})):
            self.found = old
            kept = [_Page(p, k, _stale(p)) for p, k in sorted(old["pages"].items())]
            return list(old["rows"]), kept
        divs = [
            (pair, divergence_record(self.store, pair))
            for pair in find_divergences(self.store, window=self.window)
        ]
        rows = [self.divergence_row(d, pair.score) for pair, d in divs]
        pages = [self.event(pair, d) for pair, d in divs]
        self.found = {"key": key, "rows": rows, "pages": {pg.path: pg.key for pg in pages}}
        return rows, pages

    def divergence_row(self, d: Divergence, score: float) -> dict[str, Any]:
        return {
            "path": event_path(d.a.id, d.b.id),
            "a_id": d.a.id,
            "b_id": d.b.id,
            "a_title": d.a.title or d.a.id,
            "b_title": d.b.title or d.b.id,
            "a_agency": d.a.agency or d.a.source,
            "b_agency": d.b.agency or d.b.source,
            "a_version": d.a.version,
            "b_version": d.b.version,
            "score": f"{score:.2f}",
            "summary": d.summary,
        }

    def home(self, div_rows: list[dict[str, Any]]) -> Iterable[_Page]:
        latest = history_events(self.store, LATEST, self.history)
        by_source: dict[str, list[_Statement]] = defaultdict(list)
        for st in self.statements.values():
            by_source[st.source].append(st)
        agencies = [
            {
                "name": _agency_name(sts),
                "path": agency_path(source),
                "statements": len(sts),
                "edits": sum(len(st.refs) - 1 for st in sts),
            }
            for source, sts in sorted(by_source.items())
        ]
        counts = {
            "statements": len(self.statements),
            "versions": sum(len(st.refs) for st in self.statements.values()),
            "edits": sum(len(st.refs) - 1 for st in self.statements.values()),
        }
        ctx = self.common("", self.title, feed_path())
        html = render_page(
            "home.html",
            **ctx,
            built_from=self.built_from,  # only here: the home page is rendered on every build
            changes=[self.change_row(e) for e in latest],
            divergences=div_rows,
            agencies=agencies,
            counts=counts,
        )
        yield _Page(_index(""), "", _const(html.encode()))
        feed = build_feed(self.store, history=self.history)
        # The site's feed links to the site's pages, not to sections of reports/.
        entries = [replace(entry, report="") for entry in feed.entries]
        feed = replace(
            feed,
            title=self.title,
            self_link=self.link(feed_path()),
            entries=tuple(self.linked(entries, latest)),
        )
        yield _Page(feed_path(), "", lambda: render_feed(feed).encode())

    def link(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}/{path}" if self.base_url else ""

    def linked(self, entries: Iterable[Any], events: Iterable[Event]) -> Iterable[Any]:
        """Feed entries that link to the site's pages when the site's address is known."""
        for entry, e in zip(entries, events, strict=True):
            if not self.base_url:
                yield entry
                continue
            s = e.statement
            diff = (e.a_version, s.version) if e.a_version and s.version else None
            version = s.version if e.kind == "new" else None
            yield replace(entry, link=permalink(self.base_url, s.id, version=version, diff=diff))

    def search(self) -> Iterable[_Page]:
        sts = sorted(self.statements.values(), key=lambda st: (st.last, st.sid), reverse=True)
        rows = [
            {
                "sid": st.sid,
                "title": st.meta.title or st.sid,
                "agency": st.meta.agency or st.source,
                "path": statement_path(st.sid),
                "last": st.last,
            }
            for st in sts
        ]
        ctx = self.common(SEARCH, "All statements")
        yield _Page(
            _index(SEARCH),
            _hash("search", ctx, rows),
            lambda: render_page("search.html", **ctx, statements=rows).encode(),
        )
        latest = {st.sid: [st.refs[-1].filename, st.refs[-1].sha256] for st in sts}

        def index() -> bytes:
            texts = {sid: search_text(self.store.read_version(sid, -1).statement) for sid in latest}
            return search_index(texts)

        yield _Page(SEARCH_INDEX, _hash("index", latest), index)

    def agency(self, source: str) -> Iterable[_Page]:
        sts = sorted(
            (st for st in self.statements.values() if st.source == source),
            key=lambda st: (st.last, st.sid),
            reverse=True,
        )
        rows = [
            {
                "title": st.meta.title or st.sid,
                "path": statement_path(st.sid),
                "last": st.last,
                "versions": len(st.refs),
                "edits": len(st.refs) - 1,
                "removed": st.removed,
            }
            for st in sts
        ]
        path = agency_path(source)
        ctx = self.common(path, _agency_name(sts), feed_path(path))
        yield _Page(
            _index(path),
            _hash("agency", ctx, rows),
            lambda: render_page("agency.html", **ctx, statements=rows).encode(),
        )
        ids = [st.sid for st in sts]
        material = [[st.identity(), st.version_keys(), _event_checks(st)] for st in sts]

        def feed() -> bytes:
            events = history_events(self.store, LATEST, self.history, ids=ids)
            return self.feed(f"{self.title}: {ctx['title']}", path, events)

        yield _Page(feed_path(path), _hash("agency-feed", path, self.base_url, material), feed)

    def feed(self, title: str, path: str, events: list[Event]) -> bytes:
        entries = [site_entry(e) for e in events]
        uid = hashlib.sha256(f"{self.title}\n{path}".encode()).hexdigest()[:16]
        feed = Feed(
            id=f"tag:dipdiff,2026:site-{uid}",
            title=title,
            entries=tuple(self.linked(entries, events)),
            self_link=self.link(feed_path(path)),
        )
        return render_feed(feed).encode()

    def statement(self, st: _Statement, div_rows: list[dict[str, Any]]) -> Iterable[_Page]:
        path = statement_path(st.sid)
        agency = st.meta.agency or st.source
        content = [st.identity(), st.version_keys(), _event_checks(st)]
        outcomes = Counter(str(c.get("outcome")) for c in st.meta.checks)
        checks = {
            "total": len(st.meta.checks),
            "first": st.meta.checks[0]["time"] if st.meta.checks else "",
            "last": st.meta.checks[-1]["time"] if st.meta.checks else "",
            "outcomes": ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())) or "none",
        }
        title = st.meta.title or st.sid
        ctx = self.common(path, title, feed_path(path))

        def page() -> bytes:
            return self.statement_page(st, ctx, checks, div_rows).encode()

        key = _hash("statement", ctx, content, checks, div_rows)
        yield _Page(_index(path), key, page)
        yield _Page(
            feed_path(path),
            _hash("statement-feed", self.base_url, content),
            lambda: self.feed(f"{self.title}: {title}", path, self.events_of(st)),
        )
        count = len(st.refs)
        for ref in st.refs:
            vpath = version_path(st.sid, ref.number)
            vkey = _hash(
                "version",
                st.identity(),
                # "next" is all a version page knows of the later ones: a new version
                # rewrites only the page of the one before it.
                [ref.filename, ref.sha256, ref.fetched_at, ref.number, ref.number < count],
                origin(st.storing.get(ref.sha256)),
                self.title,
            )
            yield _Page(_index(vpath), vkey, self.version_renderer(st, ref, agency))
        for a, b in st.pairs():
            ra, rb = st.refs[a - 1], st.refs[b - 1]
            dkey = _hash(
                "diff",
                st.identity(),
                [a, ra.sha256, ra.fetched_at, b, rb.sha256, rb.fetched_at],
                self.title,
            )
            yield _Page(_index(diff_path(st.sid, a, b)), dkey, self.diff_renderer(st, a, b))

    def statement_page(
        self,
        st: _Statement,
        ctx: dict[str, Any],
        checks: dict[str, Any],
        div_rows: list[dict[str, Any]],
    ) -> str:
        events = {
            e.statement.version: e for e in self.events_of(st) if e.kind in ("new", "changed")
        }
        timeline = []
        for ref in st.refs:
            e = events.get(ref.number)
            a = e.a_version if e is not None and e.kind == "changed" else None
            if a is None and ref.number > 1:
                a = ref.number - 1
            row: dict[str, Any] = {
                "number": ref.number,
                "path": version_path(st.sid, ref.number),
                "fetched_at": ref.fetched_at,
                "origin": origin(st.storing.get(ref.sha256)),
                "diff_path": "",
                "significance": "",
                "note": "first version" if ref.number == 1 else "",
            }
            if a is not None:
                d = e.diff if e is not None and e.diff is not None else self.diff(st, a, ref.number)
                row |= {
                    "diff_path": diff_path(st.sid, a, ref.number),
                    "note": f"from version {a}: {change_note(d)}",
                    "significance": _worst(d),
                }
            timeline.append(row)
        current = self.store.read_version(st.sid, -1)
        return render_page(
            "statement.html",
            **ctx,
            sid=st.sid,
            agency=st.meta.agency or st.source,
            agency_path=agency_path(st.source),
            published=st.meta.published or "",
            url=safe_url(st.meta.url),
            timeline=list(reversed(timeline)),
            events=div_rows,
            checks=checks,
            current={"number": current.ref.number, "paragraphs": current.statement.paragraphs},
        )

    def diff(self, st: _Statement, a: int, b: int) -> DiffResult:
        va, vb = self.store.read_version(st.sid, a), self.store.read_version(st.sid, b)
        return self.history.diffs.diff(va, vb)

    def version_renderer(self, st: _Statement, ref: VersionRef, agency: str) -> Callable[[], bytes]:
        def render() -> bytes:
            v = self.store.read_version(st.sid, ref.number).statement
            path = version_path(st.sid, ref.number)
            n, count = ref.number, len(st.refs)
            ctx = self.common(path, v.title or st.meta.title or st.sid)
            return render_page(
                "version.html",
                **ctx,
                number=n,
                statement_title=st.meta.title or st.sid,
                statement_path=statement_path(st.sid),
                agency=v.agency or agency,
                agency_path=agency_path(st.source),
                prev_path=version_path(st.sid, n - 1) if n > 1 else "",
                next_path=version_path(st.sid, n + 1) if n < count else "",
                diff_path=diff_path(st.sid, n - 1, n) if n > 1 else "",
                fetched_at=ref.fetched_at,
                origin=origin(st.storing.get(ref.sha256)),
                url=safe_url(v.url or st.meta.url),
                url_text=v.url or st.meta.url,
                published=v.published or "",
                sha256=ref.sha256,
                paragraphs=v.paragraphs,
            ).encode()

        return render

    def diff_renderer(self, st: _Statement, a: int, b: int) -> Callable[[], bytes]:
        def render() -> bytes:
            result = self.diff(st, a, b)
            ra, rb = st.refs[a - 1], st.refs[b - 1]
            path = diff_path(st.sid, a, b)
            ctx = self.common(path, result.b.title or st.meta.title or st.sid)
            return render_page(
                "diff.html",
                **ctx,
                statement_title=st.meta.title or st.sid,
                statement_path=statement_path(st.sid),
                agency=st.meta.agency or st.source,
                agency_path=agency_path(st.source),
                a=a,
                b=b,
                a_path=version_path(st.sid, a),
                b_path=version_path(st.sid, b),
                a_time=ra.fetched_at,
                b_time=rb.fetched_at,
                note=change_note(result),
                redline=trusted(
                    diff_fragment(result, a_label=f"version {a}", b_label=f"version {b}")
                ),
            ).encode()

        return render

    def event(self, pair: DivergentPair, d: Divergence) -> _Page:
        path = event_path(d.a.id, d.b.id)
        row = self.divergence_row(d, pair.score)
        row["related_score"] = f"{pair.related_score:.2f}"
        row["a_path"] = statement_path(d.a.id)
        row["b_path"] = statement_path(d.b.id)
        shas = [self.store.version_ref(r.id, r.version or -1).sha256 for r in (pair.a, pair.b)]
        ctx = self.common(path, f"{row['a_agency']} ↔ {row['b_agency']}")

        # The comparison links to the statements' own pages: only http(s) addresses.
        c = pair.comparison
        c = replace(c, a=replace(c.a, url=safe_url(c.a.url)), b=replace(c.b, url=safe_url(c.b.url)))

        def render() -> bytes:
            fragment = compare_fragment(c, row["a_agency"], row["b_agency"])
            return render_page("event.html", **ctx, **row, comparison=trusted(fragment)).encode()

        return _Page(
            _index(path), _hash("event", ctx, row, shas, event_key(d.a.id, d.b.id)), render
        )


def _stale(path: str) -> Callable[[], bytes]:
    def render() -> bytes:  # the builder checked that the page exists: never called
        raise RuntimeError(f"{path}: an event page kept from the last build is missing")

    return render


def _const(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def _agency_name(sts: Sequence[_Statement]) -> str:
    """The agency most of a source's statements name (a source is one agency's feed or site)."""
    names = Counter(st.meta.agency for st in sts if st.meta.agency)
    if names:
        return min(names.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return sts[0].source


def _event_checks(st: _Statement) -> list[dict[str, Any]]:
    return [c for c in st.meta.checks if c.get("outcome") in _EVENT_OUTCOMES]


def _worst(diff: DiffResult) -> str:
    sigs = [c.significance for c in diff.changes]
    return min(sigs, key=SIG_RANK.__getitem__, default="cosmetic")


def build_site(
    store: Store,
    out: Path,
    *,
    base_url: str = "",
    title: str = SITE_TITLE,
    window: timedelta = DEFAULT_WINDOW,
) -> SiteResult:
    """Build (or bring up to date) the static site of ``store`` in ``out``."""
    manifest_path = out / MANIFEST
    doc = _read_manifest(manifest_path)
    old: dict[str, str] = doc["pages"]
    builder = _Builder(store, out, base_url, title, window, doc.get("divergences"))
    written: list[str] = []
    unchanged = 0
    keys: dict[str, str] = {}
    with store.reading():
        for page in builder.pages():
            target = out / page.path
            if page.key and old.get(page.path) == page.key and target.is_file():
                keys[page.path] = page.key
                unchanged += 1
                continue
            data = page.render()
            key = page.key or hashlib.sha256(data).hexdigest()
            keys[page.path] = key
            if old.get(page.path) == key and target.is_file():
                unchanged += 1
                continue
            atomic_write(target, data, sync=False)
            written.append(page.path)
    removed = [p for p in sorted(old) if p not in keys]
    for p in removed:
        _remove(out, p)
    doc = {"dipdiff-site": 1, "pages": dict(sorted(keys.items())), "divergences": builder.found}
    atomic_write(manifest_path, (json.dumps(doc, indent=0, sort_keys=True) + "\n").encode())
    os.sync()  # the pages were written without a sync each: one for the whole build
    return SiteResult(out, tuple(written), unchanged, tuple(removed))


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"pages": {}}
    except (OSError, ValueError) as e:
        reason = os_reason(e) if isinstance(e, OSError) else "not JSON"
        raise StoreError(str(path), f"cannot read the site's manifest: {reason}") from None
    pages = doc.get("pages") if isinstance(doc, dict) else None
    if not isinstance(pages, dict):
        raise StoreError(str(path), "not a dipdiff site manifest")
    found = doc.get("divergences")
    return {
        "pages": {str(k): str(v) for k, v in pages.items()},
        "divergences": found if isinstance(found, dict) else {},
    }


def _remove(out: Path, page: str) -> None:
    target = out / page
    try:
        target.unlink(missing_ok=True)
        folder = target.parent
        while folder != out and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
    except OSError as e:
        raise StoreError(
            str(target), f"cannot remove a page that is gone: {os_reason(e)}"
        ) from None
