"""`dipdiff site` and `dipdiff export sqlite`: a store made of real feed histories, published.

The site is checked as a reader and a host meet it: every link followed, every page parsed by an
HTML5 parser, the build repeated (same bytes), brought up to date after one new version (only
what it touches rewritten), hostile page text kept text, and the home, statement, redline and
search pages opened in Debian's chromium (through Playwright: what is *visible* needs a browser's
computed styles). The export is queried with sqlite3: counts, foreign keys, full-text search,
and a re-export after one new version equal to a fresh one.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import re
import shutil
import sqlite3
import threading
import xml.etree.ElementTree as ET
from contextlib import closing
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import html5lib
import pytest

from dipdiff.config import parse_config
from dipdiff.pipeline.demo import page_bytes
from dipdiff.pipeline.fetch import fetch_sources
from dipdiff.pipeline.server import Response
from dipdiff.render.permalinks import (
    diff_path,
    event_path,
    permalink,
    statement_path,
    version_path,
)
from dipdiff.store.store import Store
from helpers import Cli

pytestmark = pytest.mark.corpus

RSS = {"Content-Type": "application/rss+xml; charset=UTF-8"}
# Two real feed histories with real silent edits: the State Department's food-security chair's
# statement (edited three times in two hours) and the White House's Russia fact sheet.
HISTORIES = (
    ("state-dept", "state-gov-press-releases-rss/food-security-chairs-statement-2022-06-24"),
    ("white-house", "whitehouse-gov-briefing-room-rss/russia-costs-fact-sheet-2022-02-24"),
)


class Clock:
    def __init__(self, when: str) -> None:
        self.when = when

    def __call__(self) -> str:
        return self.when


def versions(corpus, folder: str) -> list[tuple[Path, str]]:
    """The saved feed files of one history and when each was captured."""
    event = json.loads((corpus(folder) / "event.json").read_text(encoding="utf-8"))
    return [
        (corpus(folder) / v["file"], v["commit_date"].replace("+00:00", "Z"))
        for v in event["versions"]
    ]


def replay(server, store: Store, source: str, files: list[tuple[Path, str]]) -> None:
    cfg = parse_config(
        f"[dipdiff]\nallow_private = true\ndelay = 0\nbackoff = 0.001\nrobots = false\n"
        f'[sources.{source}]\nkind = "feed"\nurl = "{server.url(f"/{source}/")}"\n'
        "full_text = true\n"
    )
    for path, when in files:
        server.set(f"/{source}/", Response(path.read_bytes(), headers=RSS))
        fetch_sources(cfg, store, clock=Clock(when))


@pytest.fixture
def histories(corpus):
    return {source: versions(corpus, folder) for source, folder in HISTORIES}


@pytest.fixture
def real_store(server, store_dir, histories) -> Store:
    """Both histories replayed, all but the last version of the State Department's."""
    store = Store(store_dir)
    replay(server, store, "state-dept", histories["state-dept"][:-1])
    replay(server, store, "white-house", histories["white-house"])
    return store


def build(cli, out: Path, *args: str):
    r = cli("site", str(out), *args)
    assert r.exit_code == 0, r.output
    return r


def pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def links(page: Path) -> list[str]:
    doc = html5lib.parse(page.read_bytes(), namespaceHTMLElements=False)
    return [
        el.get(attr)
        for el in doc.iter()
        for attr in ("href", "src", "action", "data-index")
        if el.get(attr) is not None
    ]


def edited_statement(store: Store) -> str:
    [sid] = [s for s in store.statement_ids() if len(store.versions(s)) >= 3]
    return sid


def test_every_page_is_valid_html_and_every_internal_link_resolves(cli, real_store, tmp_path):
    out = tmp_path / "site"
    r = build(cli, out)
    assert re.match(rf"{re.escape(str(out))}: \d+ pages, \d+ written, 0 unchanged", r.stdout)
    found = pages(out)
    sid = edited_statement(real_store)
    n = len(real_store.versions(sid))
    for expected in (
        "index.html",
        "state-dept/index.html",
        "white-house/index.html",
        f"{statement_path(sid)}index.html",
        f"{version_path(sid, n)}index.html",
        f"{diff_path(sid, n - 1, n)}index.html",
        "_search/index.html",
    ):
        assert out / expected in found, expected
    # One page per statement, per version and per redline between consecutive versions.
    ids = real_store.statement_ids()
    assert len(ids) > 10
    for s in ids:
        assert (out / statement_path(s) / "index.html").is_file()
        for v in real_store.versions(s):
            assert (out / version_path(s, v.number) / "index.html").is_file()
    parser = html5lib.HTMLParser(strict=True)
    checked = 0
    for page in found:
        parser.parse(page.read_bytes())  # raises on any parse error
        base = "http://site.test/" + str(page.relative_to(out))
        for link in links(page):
            assert not link.lower().startswith(("javascript:", "data:")), (page, link)
            url = urlsplit(urljoin(base, link))
            if url.netloc != "site.test":
                assert url.scheme in ("http", "https"), (page, link)
                continue
            target = out / unquote(url.path).lstrip("/")
            if url.path.endswith("/"):
                target = target / "index.html"
            assert target.is_file(), f"{page.relative_to(out)}: broken link {link}"
            checked += 1
    assert checked > 100
    for feed in out.rglob("feed.xml"):
        root = ET.fromstring(feed.read_bytes())
        assert root.tag == "{http://www.w3.org/2005/Atom}feed", feed


def test_the_redline_page_shows_the_real_edit(cli, real_store, tmp_path):
    out = tmp_path / "site"
    build(cli, out)
    sid = edited_statement(real_store)
    n = len(real_store.versions(sid))
    page = (out / diff_path(sid, n - 1, n) / "index.html").read_text(encoding="utf-8")
    diff = cli("diff", f"{sid}@{n - 1}", f"{sid}@{n}", "--format", "json")
    changes = json.loads(diff.stdout)["changes"]
    assert changes, diff.output
    # The words deleted and inserted, as `dipdiff diff` finds them, are on the page, marked up.
    for c in changes:
        for side in ("old", "new"):
            if c["kind"] != "move" and c[side].strip():
                assert html.escape(c[side].strip()) in page, (side, c)
    assert "<ins>" in page and "<del>" in page
    statement = (out / statement_path(sid) / "index.html").read_text(encoding="utf-8")
    assert f'/{diff_path(sid, n - 1, n)}"' in statement
    assert "substantive" in statement or "minor" in statement or "cosmetic" in statement


def test_same_store_same_bytes(cli, real_store, tmp_path):
    build(cli, tmp_path / "one")
    build(cli, tmp_path / "two")
    assert files(tmp_path / "one") == files(tmp_path / "two")


def test_a_rebuild_after_one_new_version_rewrites_only_what_it_touches(
    cli, server, real_store, histories, tmp_path
):
    out = tmp_path / "site"
    build(cli, out)
    before = files(out)
    again = build(cli, out)
    assert ", 0 written, " in again.stdout, again.stdout
    counts = {s: len(real_store.versions(s)) for s in real_store.statement_ids()}
    replay(server, real_store, "state-dept", histories["state-dept"][-1:])
    sid = edited_statement(real_store)
    n = len(real_store.versions(sid))
    r = build(cli, out)
    after = files(out)
    rewritten = {p for p in after if before.get(p) != after[p]}
    new_pages = {f"{version_path(sid, n)}index.html", f"{diff_path(sid, n - 1, n)}index.html"}
    assert new_pages <= rewritten
    others = [s for s in counts if len(real_store.versions(s)) == counts[s]]
    assert len(others) >= len(counts) - 1
    for s in others:
        # Checked again (and unchanged): their page's check history moves on, nothing else
        # of theirs — versions, redlines, feed — is rewritten.
        assert {p for p in rewritten if p.startswith(f"{s}/")} <= {f"{s}/index.html"}, s
    for k in range(1, n - 1):  # nor do the older versions and redlines of the edited one
        assert f"{version_path(sid, k)}index.html" not in rewritten
    # The other agency was not checked at all: not one of its pages is rewritten.
    assert not [p for p in rewritten if p.startswith("white-house/")], sorted(rewritten)
    assert len(rewritten) < len(after) / 3, sorted(rewritten)
    written = int(re.search(r"(\d+) written", r.stdout).group(1))
    assert written >= len(rewritten) - 1, (r.stdout, sorted(rewritten))
    # And the incremental result is exactly what a full build gives.
    build(cli, tmp_path / "full")
    assert files(tmp_path / "full") == after


def test_pages_of_statements_gone_from_the_store_are_removed(cli, real_store, tmp_path):
    out = tmp_path / "site"
    build(cli, out)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    gone = real_store.statement_ids()[0]
    for p in sorted((real_store.root / gone).rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    (real_store.root / gone).rmdir()
    r = build(cli, out)
    assert " removed" in r.stdout, r.stdout
    assert not (out / statement_path(gone)).exists()
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"  # not the site's: kept


def test_search_index_and_the_list_it_filters(cli, real_store, tmp_path):
    out = tmp_path / "site"
    build(cli, out)
    index = json.loads((out / "_search" / "index.json").read_text(encoding="utf-8"))
    assert set(index) == set(real_store.statement_ids())
    sid = edited_statement(real_store)
    assert "food" in index[sid].split() and "security" in index[sid].split()
    listing = (out / "_search" / "index.html").read_text(encoding="utf-8")
    assert listing.count("<li data-id=") == len(index)  # the plain list, for readers without JS


def test_permalinks_name_the_pages_the_site_writes(cli, real_store, tmp_path):
    out = tmp_path / "site"
    build(cli, out, "--base-url", "https://example.org/archive/")
    sid = edited_statement(real_store)
    base = "https://example.org/archive/"
    for url in (
        permalink(base, sid),
        permalink(base, sid, version=2),
        permalink(base, sid, diff=(1, 2)),
    ):
        assert url.startswith(base)
        assert (out / url.removeprefix(base) / "index.html").is_file(), url
    feed = (out / statement_path(sid) / "feed.xml").read_text(encoding="utf-8")
    assert permalink(base, sid, diff=(1, 2)) in feed


def test_hostile_titles_and_text_stay_text(cli, server, tmp_path):
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    html = (
        f"<html><head><title>{evil}</title></head><body><main><h1>Talks &lt;script&gt;"
        f"alert(3)&lt;/script&gt; on {evil}</h1><p>The ministry condemns the attack "
        f"&lt;a href=&quot;javascript:alert(4)&quot;&gt;here&lt;/a&gt; and calls for talks. "
        f"{evil} </p><p><a href='javascript:alert(5)'>link</a> "
        "and more text about restraint and civilians and the talks.</p></main></body></html>"
    )
    server.set("/evil", Response(html.encode()))
    r = cli("snapshot", server.url("/evil"), env={"DIPDIFF_NOW": "2026-01-01T00:00:00Z"})
    assert r.exit_code == 1, r.output  # new
    server.set("/evil", Response(html.replace("calls for talks", "urges talks").encode()))
    r = cli("snapshot", server.url("/evil"), env={"DIPDIFF_NOW": "2026-01-02T00:00:00Z"})
    assert r.exit_code == 1, r.output  # changed
    out = tmp_path / "site"
    build(cli, out)
    found = pages(out)
    assert any("/diff/1..2/" in str(p) for p in found)
    for page in found:
        doc = html5lib.parse(page.read_bytes(), namespaceHTMLElements=False)
        scripts = [el.get("src") for el in doc.iter("script")]
        assert scripts in ([], ["../_assets/search.js"]), (page, scripts)
        assert not list(doc.iter("img")), page
        for el in doc.iter():
            assert not any(k.lower().startswith("on") for k in el.attrib), (page, el.attrib)
            href = (el.get("href") or "").strip().lower()
            assert not href.startswith(("javascript:", "data:")), (page, href)
    text = (out / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;" in text


# -- dipdiff export sqlite ----------------------------------------------------------------------


def export(cli, path: Path, *args: str):
    r = cli("export", "sqlite", str(path), *args)
    assert r.exit_code == 0, r.output
    return r


def tables(path: Path) -> dict[str, list[tuple]]:
    with closing(sqlite3.connect(path)) as db:
        names = [
            n
            for (n,) in db.execute("select name from sqlite_master where type = 'table'")
            if not n.startswith(("sqlite_", "versions_fts", "statements_fts"))
        ]
        return {n: sorted(db.execute(f"select * from [{n}]")) for n in sorted(names)}  # noqa: S608


def test_export_counts_foreign_keys_and_full_text_search(cli, real_store, tmp_path):
    path = tmp_path / "dipdiff.db"
    r = export(cli, path)
    ids = real_store.statement_ids()
    assert f"{len(ids)} statements" in r.stdout, r.stdout
    sid = edited_statement(real_store)
    with closing(sqlite3.connect(path)) as db:
        count = lambda sql, *a: db.execute(sql, a).fetchone()[0]  # noqa: E731
        assert count("select count(*) from statements") == len(ids)
        assert count("select count(*) from versions") == sum(
            len(real_store.versions(s)) for s in ids
        )
        assert count("select count(*) from checks") == sum(
            len(real_store.meta(s).checks) for s in ids
        )
        n = len(real_store.versions(sid))
        assert (
            count("select count(*) from events where statement_id = ? and kind = 'changed'", sid)
            >= n - 1
        )
        assert count("select count(*) from changes where statement_id = ?", sid) > 0
        assert (
            count(
                "select count(*) from changes where significance not in "
                "('substantive', 'minor', 'cosmetic')"
            )
            == 0
        )
        # Every foreign key points at a row, and the keys are declared (Datasette links them).
        assert db.execute("pragma foreign_key_check").fetchall() == []
        assert db.execute("pragma foreign_key_list(changes)").fetchall()
        # Full-text search over version text: "every statement that ever said X".
        hits = db.execute(
            "select distinct versions.statement_id from versions_fts "
            "join versions on versions.rowid = versions_fts.rowid "
            "where versions_fts match ?",
            ["roadmap"],
        ).fetchall()
        assert (sid,) in hits
        assert len(hits) < len(ids)
    metadata = json.loads((tmp_path / "metadata.json").read_text(encoding="utf-8"))
    labels = metadata["databases"]["dipdiff"]["tables"]
    assert labels["statements"]["label_column"] == "title"


def test_re_export_is_incremental_and_equals_a_fresh_export(
    cli, server, real_store, histories, tmp_path
):
    path = tmp_path / "dipdiff.db"
    export(cli, path)
    r = export(cli, path)
    assert ", 0 exported" in r.stdout, r.stdout
    replay(server, real_store, "state-dept", histories["state-dept"][-1:])
    r = export(cli, path)
    checked = {
        s for s in real_store.statement_ids() if s.startswith("state-dept/")
    }  # the feed's statements were checked again (their check history grew)
    exported = int(re.search(r"(\d+) exported", r.stdout).group(1))
    assert 1 <= exported <= len(checked), r.stdout
    export(cli, tmp_path / "fresh.db")
    assert tables(path) == tables(tmp_path / "fresh.db")


def test_export_to_a_file_that_is_not_a_database(cli, real_store, tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("my notes", encoding="utf-8")
    r = cli("export", "sqlite", str(path))
    assert r.exit_code == 2, r.output
    assert "notes.db" in r.output and len(r.output.strip().splitlines()) == 1
    assert path.read_text(encoding="utf-8") == "my notes"


# -- in a real browser: Debian's chromium, driven by Playwright -----------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's name
        pass


class _Host(http.server.ThreadingHTTPServer):
    request_queue_size = 64  # a browser opens several connections at once
    daemon_threads = True


@pytest.fixture
def browser(tmp_path):
    """Request it last: Playwright runs an event loop in this thread, and the store fixtures'
    fetches (asyncio.run) must be done by then."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (CI installs it: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def hosted(cli, real_store, tmp_path):
    """The site built and served over HTTP on 127.0.0.1, as a static host serves it."""
    out = tmp_path / "site"
    build(cli, out)
    handler = functools.partial(_Quiet, directory=str(out))
    host = _Host(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=host.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{host.server_address[1]}/"
    finally:
        host.shutdown()
        host.server_close()


def visible_texts(page, selector: str) -> list[str]:
    return [el.inner_text() for el in page.locator(selector).all() if el.is_visible()]


def test_in_a_browser_home_statement_and_redline(hosted, real_store, browser):
    sid = edited_statement(real_store)
    n = len(real_store.versions(sid))
    title = real_store.meta(sid).title
    page = browser.new_page()
    page.goto(hosted)
    assert page.title().startswith("dipdiff archive")
    assert title in visible_texts(page, "ol.changes-list a")
    page.goto(hosted + statement_path(sid))
    assert page.locator("h1").inner_text() == title
    rows = visible_texts(page, "table.timeline tbody tr")
    assert len(rows) == n and rows[0].startswith(f"version {n}"), rows
    page.goto(hosted + diff_path(sid, n - 1, n))
    deleted = visible_texts(page, ".view.inline del")
    inserted = visible_texts(page, ".view.inline ins")
    assert deleted or inserted
    words = cli_words(real_store, sid, n)
    shown = " ".join(deleted + inserted)
    assert all(w in shown for w in words), (words, shown)
    # Side by side is one click away, without a script: the inline view goes, the table comes.
    assert not page.locator(".view.side").is_visible()
    page.click("label[for=v-side]")
    assert page.locator(".view.side").is_visible() and not page.locator(".view.inline").is_visible()
    page.close()


def cli_words(store, sid: str, n: int) -> list[str]:
    """A few words the diff engine says were deleted or inserted between versions n-1 and n."""
    from dipdiff.analyse.diff import diff_statements

    a, b = store.read_version(sid, n - 1), store.read_version(sid, n)
    words = []
    for c in diff_statements(a.statement, b.statement).changes:
        if c.kind != "move":
            words += (c.old + " " + c.new).split()[:2]
    return [w for w in words if w][:6]


def test_in_a_browser_search_finds_a_statement(hosted, real_store, browser):
    sid = edited_statement(real_store)
    title = real_store.meta(sid).title
    page = browser.new_page()
    page.goto(hosted)
    page.fill("#q", "food security roadmap")
    page.click("form.search button")
    page.wait_for_function("document.getElementById('search-status').textContent.includes('match')")
    found = visible_texts(page, "#statements li a")
    assert title in found, found
    assert len(found) < len(real_store.statement_ids())
    page.fill("#q", "zzzunlikelyword")
    assert visible_texts(page, "#statements li a") == []
    page.close()


def test_without_javascript_the_search_page_is_the_whole_list(hosted, real_store, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(hosted + "_search/?q=food")
    assert len(visible_texts(page, "#statements li a")) == len(real_store.statement_ids())
    context.close()


# -- divergences, and `dipdiff run --site` --------------------------------------------------


def test_an_event_page_compares_the_two_agencies(cli, tmp_path):
    r = cli("demo", "--dir", str(tmp_path / "demo"))
    assert r.exit_code == 0, r.output
    store = Cli(tmp_path / "demo" / "snapshots")
    out = tmp_path / "site"
    r = store("site", str(out), "--window", "14d")
    assert r.exit_code == 0, r.output
    libya, haftar = (
        "state-dept/the-situation-in-libya",
        "white-house/statement-from-the-press-secretary-libya",
    )
    event = out / event_path(libya, haftar) / "index.html"
    page = event.read_text(encoding="utf-8")
    assert "Khalifa Haftar" in page and "critical" in page and "supportive" in page
    for where in ("index.html", f"{statement_path(libya)}index.html"):
        assert f"{event_path(libya, haftar)}" in (out / where).read_text(encoding="utf-8")
    # Nothing changed: the divergences are not looked for again, and nothing is written.
    r = store("site", str(out), "--window", "14d")
    assert ", 0 written, " in r.stdout, r.stdout
    # A window too narrow for the pair: its page goes, and so do the links to it.
    r = store("site", str(out), "--window", "1d")
    assert "1 removed" in r.stdout, r.stdout
    assert not event.exists()
    assert "_events/" not in (out / "index.html").read_text(encoding="utf-8")


def test_run_rebuilds_the_site_when_something_changed(cli, server, tmp_path):
    server.set("/state/", Response(b'<html><body><ul><li><a href="/libya/">Libya</a></li></ul>'))
    server.set("/libya/", Response(page_bytes("state-libya.day1.html")))
    config = tmp_path / "dipdiff.toml"
    config.write_text(
        "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\n"
        f'[sources.state-dept]\nkind = "listing"\nurl = "{server.url("/state/")}"\n'
        'agency = "U.S. Department of State"\nselector = "li"\nlink = "a"\n',
        encoding="utf-8",
    )
    out = tmp_path / "site"

    def run(when: str):
        return cli("run", "--config", str(config), "--site", str(out), env={"DIPDIFF_NOW": when})

    r = run("2019-04-20T09:00:00Z")
    assert r.exit_code == 1, r.output
    assert f"site {out}: " in r.stderr, r.stderr
    [sid] = Store(cli.store).statement_ids()
    assert (out / version_path(sid, 1) / "index.html").is_file()
    r = run("2019-04-20T10:00:00Z")  # nothing changed: no rebuild
    assert r.exit_code == 0, r.output
    assert "site" not in r.stderr, r.stderr
    server.set("/libya/", Response(page_bytes("state-libya.day2.html")))
    r = run("2019-04-21T09:00:00Z")
    assert r.exit_code == 1, r.output
    assert (out / diff_path(sid, 1, 2) / "index.html").is_file()
