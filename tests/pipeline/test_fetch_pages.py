"""`dipdiff fetch` on page-based sources: a real listing, real statement pages, gov.uk JSON,
sitemaps, and scripted faults for every outcome."""

from __future__ import annotations

import json
from datetime import UTC

from dipdiff.config import Schedule, parse_config
from dipdiff.models import Outcome
from dipdiff.pipeline.fetch import exit_status, fetch_sources
from dipdiff.pipeline.plan import Known, due
from dipdiff.pipeline.server import Response
from dipdiff.store.store import Store
from routes import conditional, redirect, sequence

LISTING = "whitehouse-gov-listing-2025/fetched_whitehouse__2025-06-23__c32d803.html"
BRIEFS = "obama-whitehouse-press-office-2009-2016/briefs"
CAPTCHA = Response(
    b"<html><head><title>Access Denied</title></head><body><h1>Access Denied</h1>"
    b"<p>You don't have permission to access this server. Reference #18.2f</p></body></html>"
)


def at(when):
    return lambda: when


def listing_site(server, corpus):
    """The real 2025 White House listing served locally; each item links to a real statement."""
    html = (
        corpus(LISTING)
        .read_text(encoding="utf-8")
        .replace("https://www.whitehouse.gov/", server.url("/"))
    )
    server.set("/briefings-statements/", Response(html.encode()))
    from dipdiff.config import preset
    from dipdiff.scrape.discover import parse_listing

    wh = preset("white-house")
    items = parse_listing(
        html,
        server.url("/briefings-statements/"),
        selector=wh.selector,
        link=wh.link,
        item_date=wh.item_date,
    ).items
    briefs = sorted(corpus(BRIEFS).glob("*.html"))
    paths = {}
    for item, brief in zip(items, briefs, strict=False):  # more items listed than saved briefs
        path = item.url.removeprefix(server.url(""))
        paths[path] = brief.read_bytes()
        server.set(path, conditional(Response(paths[path])))
    return list(paths), paths


def listing_config(server, extra=""):
    return parse_config(
        "[dipdiff]\nallow_private = true\ndelay = 0\nbackoff = 0.001\nrobots = false\n"
        "[schedule]\nremoved_after = 3\n"
        '[sources.white-house]\npreset = "white-house"\n'
        f'url = "{server.url("/briefings-statements/")}"\n'
        f"include = []\npages = 1\n{extra}"
    )


IDS: dict[str, str] = {}  # path -> statement ID, from the first run


def result_for(run, path):
    found = [r for r in run.results if r.url.endswith(path) or r.statement_id == IDS.get(path)]
    assert len(found) == 1, (path, found)
    if path not in IDS:
        IDS[path] = found[0].statement_id
    return found[0]


def test_every_outcome_on_a_real_listing(server, store_dir, corpus):
    paths, pages = listing_site(server, corpus)
    store = Store(store_dir)
    cfg = listing_config(server)

    first = fetch_sources(cfg, store, clock=at("2025-06-23T10:00:00Z"))
    assert first.count(Outcome.NEW) == 10, [(r.outcome, r.message) for r in first.results]
    assert exit_status(first) == 1
    IDS.clear()
    for p in paths:
        result_for(first, p)
    r0 = result_for(first, paths[0])
    assert store.read_version(r0.statement_id).statement.title  # real page, real extraction

    # Ten minutes later nothing is due: the schedule backs off.
    quiet = fetch_sources(cfg, store, clock=at("2025-06-23T10:10:00Z"))
    assert quiet.results == () and exit_status(quiet) == 0

    # --all re-checks everything; the pages answer 304 to the stored validators.
    again = fetch_sources(cfg, store, clock=at("2025-06-23T11:00:00Z"), check_all=True)
    assert again.count(Outcome.UNCHANGED) == 10 and exit_status(again) == 0
    assert all(h.get("If-None-Match") for m, p, h in server.requests[-10:] if p in paths)

    # Scripted trouble.
    edited = pages[paths[0]].replace(b"<p>", b"<p>Updated: the President also spoke by phone. ", 1)
    server.set(paths[0], Response(edited))
    server.set(paths[1], Response(b"busy", 500))
    server.set(paths[2], CAPTCHA)
    server.set(
        paths[3],
        sequence(
            Response(b"gone", 404),
            Response(b"gone", 404),
            Response(b"gone", 404),
            Response(pages[paths[3]]),
        ),
    )
    new_home = "/briefings-statements/2025/06/renamed-statement/"
    server.set(paths[4], redirect(new_home))
    server.set(new_home, Response(pages[paths[4]]))
    server.set(paths[5], redirect("/briefings-statements/", 302))
    server.set(paths[6], Response(pages[paths[6]]))  # same bytes, no validators
    run = fetch_sources(cfg, store, clock=at("2025-06-23T12:00:00Z"), check_all=True)
    got = {i: result_for(run, paths[i]) for i in range(7)}
    assert got[0].outcome is Outcome.CHANGED and got[0].version == 2
    assert got[1].outcome is Outcome.UNAVAILABLE and "500" in got[1].message
    assert got[2].outcome is Outcome.BLOCKED
    assert got[3].outcome is Outcome.UNAVAILABLE and "1 of 3" in got[3].message
    assert got[4].outcome is Outcome.MOVED
    assert got[5].outcome is Outcome.REMOVED and "listing" in got[5].message
    assert got[6].outcome is Outcome.UNCHANGED
    assert len(run.results) == 10 and exit_status(run) == 1
    for i in (1, 2, 3, 5):
        assert len(store.versions(got[i].statement_id)) == 1  # never stored as a version
    moved = store.meta(got[4].statement_id)
    assert moved.url == server.url(new_home) and server.url(paths[4]) in moved.previous_urls

    run2 = fetch_sources(cfg, store, clock=at("2025-06-23T13:00:00Z"), check_all=True)
    assert result_for(run2, paths[3]).outcome is Outcome.UNAVAILABLE
    assert result_for(run2, paths[4]).outcome is Outcome.UNCHANGED  # found again under its new URL
    run3 = fetch_sources(cfg, store, clock=at("2025-06-23T14:00:00Z"), check_all=True)
    assert result_for(run3, paths[3]).outcome is Outcome.REMOVED
    # Removed statements wait for rediscovery or --all; the fourth answer is a 200 again.
    run4 = fetch_sources(cfg, store, clock=at("2025-06-23T15:00:00Z"), check_all=True)
    assert result_for(run4, paths[3]).outcome is Outcome.UNCHANGED


def test_one_failing_source_does_not_stop_the_run(server, store_dir, corpus):
    listing_site(server, corpus)
    cfg = parse_config(
        "[dipdiff]\nallow_private = true\ndelay = 0\nbackoff = 0.001\nrobots = false\n"
        f'[sources.broken]\nkind = "feed"\nurl = "{server.url("/no-feed/")}"\n'
        '[sources.white-house]\npreset = "white-house"\n'
        f'url = "{server.url("/briefings-statements/")}"\n'
        "include = []\npages = 1\n"
    )
    run = fetch_sources(cfg, Store(store_dir), clock=at("2025-06-23T10:00:00Z"))
    assert run.count(Outcome.NEW) == 10
    assert run.problems and run.problems[0].startswith("broken: ") and "404" in run.problems[0]
    assert exit_status(run) == 2


def test_limit_and_since_narrow_a_run(server, store_dir, corpus):
    listing_site(server, corpus)
    cfg = listing_config(server)
    store = Store(store_dir)
    limited = fetch_sources(cfg, store, clock=at("2025-06-23T10:00:00Z"), limit=3)
    assert len(limited.results) == 3
    recent = fetch_sources(
        cfg, store, clock=at("2025-06-23T10:00:00Z"), since="2025-06-04T00:00:00Z"
    )
    # Only the listing items dated 4 June 2025 or later, minus those already stored.
    assert all(r.outcome is Outcome.NEW for r in recent.results)
    assert 0 < len(limited.results) + len(recent.results) < 10


def govuk_site(server, corpus, files):
    results = []
    for f in files:
        data = json.loads(corpus(f"govuk-content-api-examples/{f}").read_text(encoding="utf-8"))
        path = data["base_path"]
        server.set(
            "/api/content" + path,
            conditional(
                Response(json.dumps(data).encode(), headers={"Content-Type": "application/json"})
            ),
        )
        results.append(
            {"link": path, "title": data["title"], "public_timestamp": data["public_updated_at"]}
        )
    server.set(
        "/api/search.json",
        Response(
            json.dumps({"results": results}).encode(), headers={"Content-Type": "application/json"}
        ),
    )


def govuk_config(server):
    return parse_config(
        "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\n"
        f'[sources.fcdo]\npreset = "fcdo"\nurl = "{server.url("/api/search.json")}"\n'
        f'base_url = "{server.url("/")}"\ncontent_api = "{server.url("/api/content")}"\n'
    )


def test_govuk_content_api(server, store_dir, corpus):
    files = [
        "news_article/news_article_with_image_caption.json",
        "speech/best-practice-speaking-notes.json",
        "news_article/news_article.json",
    ]
    govuk_site(server, corpus, files)
    store = Store(store_dir)
    cfg = govuk_config(server)
    run = fetch_sources(cfg, store, clock=at("2024-01-01T00:00:00Z"))
    assert run.count(Outcome.NEW) == 3, run
    caption = next(r for r in run.results if "british-high-commission" in r.url)
    v = store.read_version(caption.statement_id)
    assert v.statement.url == server.url(
        "/government/news/british-high-commission-marks-his-majesty-king-charles-iiis-birthday"
    ) or v.statement.url.startswith(server.url("/government/news/british-high-commission"))
    assert v.statement.published and v.statement.paragraphs
    # The same speech with one more change-history note: text unchanged, so not a version.
    govuk_site(
        server,
        corpus,
        ["speech/speech-with-updates.json", "news_article/news_article_withdrawn.json"],
    )
    run2 = fetch_sources(cfg, store, clock=at("2024-01-02T00:00:00Z"), check_all=True)
    speech = next(r for r in run2.results if "/speeches/" in r.url)
    assert speech.outcome is Outcome.UNCHANGED
    withdrawn = next(r for r in run2.results if "christmas-2016" in r.url)
    assert withdrawn.outcome is Outcome.REMOVED and "withdrawn on GOV.UK" in withdrawn.message


def test_sitemap_discovery(server, store_dir, corpus):
    briefs = sorted(corpus(BRIEFS).glob("*.html"))[:3]
    urls = []
    for i, b in enumerate(briefs):
        server.set(f"/press/{i}/", Response(b.read_bytes()))
        urls.append(
            f"<url><loc>{server.url(f'/press/{i}/')}</loc><lastmod>2016-0{i + 1}-01</lastmod></url>"
        )
    urls.append(f"<url><loc>{server.url('/about/')}</loc></url>")
    server.set(
        "/sitemap.xml",
        Response(
            (
                '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                + "".join(urls)
                + "</urlset>"
            ).encode(),
            headers={"Content-Type": "application/xml"},
        ),
    )
    cfg = parse_config(
        "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\n"
        f'[sources.press]\nkind = "sitemap"\nurl = "{server.url("/sitemap.xml")}"\n'
        "include = ['/press/']\n"
    )
    run = fetch_sources(cfg, Store(store_dir), clock=at("2024-01-01T00:00:00Z"))
    assert run.count(Outcome.NEW) == 3 and not any("/about/" in r.url for r in run.results)


def test_schedule_backs_off_with_the_time_since_the_last_change():
    from datetime import datetime

    s = Schedule(min_interval=900, max_interval=7 * 86400, factor=0.1)
    now = datetime(2026, 1, 31, tzinfo=UTC)

    def k(changed_days_ago, checked_hours_ago, outcome="unchanged"):
        from datetime import timedelta

        return Known(
            "s/x",
            "u",
            last_change=now - timedelta(days=changed_days_ago),
            last_check=now - timedelta(hours=checked_hours_ago),
            last_outcome=outcome,
        )

    assert due(k(0.5, 1.5), now, s)  # changed 12 h ago: every ~1.2 h
    assert not due(k(30, 24), now, s)  # untouched for a month: every 3 days
    assert due(k(30, 73), now, s)
    assert not due(k(365, 24 * 6), now, s) and due(k(365, 24 * 7), now, s)  # capped at 7 days
    assert due(k(30, 0.5, "unavailable"), now, s)  # failures are retried soon
    assert not due(k(30, 24 * 30, "removed"), now, s)


def test_slow_pages_429_and_robots_at_the_service_level(server, store_dir, corpus):
    from routes import slow

    briefs = sorted(corpus(BRIEFS).glob("*.html"))[:4]
    for i, b in enumerate(briefs):
        server.set(f"/press/{i}/", Response(b.read_bytes()))
    server.set("/press/1/", slow(2.0, Response(briefs[1].read_bytes())))
    server.set("/press/2/", Response(b"", 429, {"Retry-After": "3600"}))
    server.set(
        "/robots.txt",
        Response(b"User-agent: *\nDisallow: /press/3/\n", headers={"Content-Type": "text/plain"}),
    )
    links = "".join(
        f'<li class="item"><a href="/press/{i}/">Statement {i}</a></li>' for i in range(4)
    )
    server.set("/press/", Response(f"<html><body><ul>{links}</ul></body></html>".encode()))
    cfg = parse_config(
        "[dipdiff]\nallow_private = true\n"
        "delay = 0\ntimeout = 0.3\nretries = 1\nbackoff = 0.001\nmax_retry_after = 5\n"
        f'[sources.press]\nkind = "listing"\nurl = "{server.url("/press/")}"\n'
        'selector = "li.item"\n'
    )
    run = fetch_sources(cfg, Store(store_dir), clock=at("2024-01-01T00:00:00Z"))
    got = {r.url.rsplit("/", 2)[-2]: r for r in run.results}
    assert got["0"].outcome is Outcome.NEW
    assert got["1"].outcome is Outcome.UNAVAILABLE and "timed out" in got["1"].message
    assert got["2"].outcome is Outcome.UNAVAILABLE and "429" in got["2"].message
    assert got["3"].outcome is Outcome.BLOCKED and "robots.txt" in got["3"].message
    assert (
        server.hits("/press/3/") == 0 and server.hits("/press/2/") == 1
    )  # no retry beyond the cap
    assert exit_status(run) == 1


def test_atom_feeds_and_sitemap_indexes():
    from dipdiff.scrape.discover import parse_feed, parse_sitemap

    atom = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
      <title>FCDO</title>
      <entry><id>tag:www.gov.uk,2005:/government/news/a</id><title>UK statement on Sudan</title>
        <link rel="alternate" type="text/html" href="https://www.gov.uk/government/news/a"/>
        <updated>2024-05-02T10:00:00+01:00</updated>
        <content type="html">&lt;p&gt;The United Kingdom condemns the attacks on civilians in
        El Fasher and calls on the parties to agree an immediate ceasefire and allow humanitarian
        access.&lt;/p&gt;</content></entry>
    </feed>"""
    d = parse_feed(atom, "https://www.gov.uk/x.atom", full_text=True)
    [item] = d.items
    assert item.guid == "tag:www.gov.uk,2005:/government/news/a"
    assert item.published == "2024-05-02T10:00:00+01:00"
    assert item.statement is not None and item.statement.paragraphs[0].startswith(
        "The United Kingdom condemns"
    )
    index = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://www.state.gov/sitemap-1.xml</loc></sitemap>
      <sitemap><loc>/sitemap-2.xml</loc></sitemap></sitemapindex>"""
    found = parse_sitemap(index, "https://www.state.gov/sitemap.xml")
    assert found.items == () and found.next_urls == (
        "https://www.state.gov/sitemap-1.xml",
        "https://www.state.gov/sitemap-2.xml",
    )


def test_fetch_json_lists_results_in_the_listings_order_whatever_answers_first(
    cli, server, tmp_path
):
    import time

    from faultkit import statement_html

    paths = [f"/releases/s{n}/" for n in range(4)]
    items = "".join(f'<li class="item"><a href="{p}">{p}</a></li>' for p in paths)
    server.set("/releases/", Response(f"<html><body><ul>{items}</ul></body></html>".encode()))

    def text(n: int) -> list[str]:
        sentence = (
            f"Statement {n}: the department welcomes the agreement reached by the parties and "
            "calls on all sides to respect the ceasefire and protect civilians."
        )
        return [sentence]

    def slow(handler):
        time.sleep(0.6)  # the first listed answers last
        return Response(statement_html("Statement 0", text(0)))

    server.set(paths[0], slow)
    for n, p in enumerate(paths[1:], 1):
        server.set(p, Response(statement_html(f"Statement {n}", text(n))))
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\n"
        f'[sources.site]\nkind = "listing"\nurl = "{server.url("/releases/")}"\n'
        'selector = "li.item"\n',
        encoding="utf-8",
    )
    r = cli("fetch", "--config", str(cfg), "--json", env={"DIPDIFF_NOW": "2024-01-01T00:00:00Z"})
    assert r.exit_code == 1, r.output
    urls = [x["url"] for x in json.loads(r.stdout)["results"]]
    assert urls == [server.url(p) for p in paths], r.stdout
