"""Where dipdiff goes on the network: a source's own site, the hosts it allows, public addresses.

A feed on one host made dipdiff fetch a page on another and commit it to the store (with a
link-local address, the classic cloud-metadata SSRF). `dipdiff fetch` against a real local
server: links and redirects off the source's site are not followed, private addresses are
refused unless the config allows them, and no request reaches what was refused.
``localhost`` and ``127.0.0.1`` are the same server under two names, and two sites.
"""

from __future__ import annotations

import json
import socket
from dataclasses import replace
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from dipdiff.models import Event, Statement, StatementRef
from dipdiff.pipeline.server import Response
from dipdiff.scrape.policy import NetPolicy, registrable_domain
from dipdiff.store.store import Store
from faultkit import FIGURES, statement_html

TEXT = [
    (
        "The department welcomes the agreement reached by the parties and calls on all sides to "
        "respect the ceasefire and protect civilians."
    ),
    "We will continue to work with our partners toward a lasting political solution.",
]


def page(title: str) -> Response:
    return Response(statement_html(title, TEXT))


def listing(server, *links: str) -> None:
    items = "".join(f'<li class="item"><a href="{u}">{u}</a></li>' for u in links)
    server.set("/releases/", Response(f"<html><body><ul>{items}</ul></body></html>".encode()))


def config(path: Path, url: str, *, dipdiff: str = "", source: str = "") -> Path:
    path.write_text(
        f"[dipdiff]\ndelay = 0\nrobots = false\nretries = 0\ntimeout = 5\n{dipdiff}"
        f'[sources.site]\nkind = "listing"\nurl = "{url}"\nselector = "li.item"\n{source}',
        encoding="utf-8",
    )
    return path


def fetch(cli, cfg: Path):
    r = cli("fetch", "--config", str(cfg), "--json", env={"DIPDIFF_NOW": "2024-01-01T00:00:00Z"})
    return r, json.loads(r.stdout)


def other_name(server, path: str) -> str:
    """The same server under another host name: another site."""
    return f"http://localhost:{server.port}{path}"


def test_a_link_to_another_site_is_not_followed_unless_its_host_is_allowed(cli, server, tmp_path):
    off_site = other_name(server, "/elsewhere/")
    listing(server, "/releases/own/", off_site)
    server.set("/releases/own/", page("Own Statement"))
    server.set("/elsewhere/", page("Elsewhere"))
    cfg = config(tmp_path / "a.toml", server.url("/releases/"), dipdiff="allow_private = true\n")
    r, doc = fetch(cli, cfg)
    assert r.exit_code == 2, r.output  # trouble: a person decides whether to allow the host
    assert doc["problems"] == [
        (
            f"site: 1 link not followed: {off_site}: localhost is outside the source's site "
            "(127.0.0.1); list it in the source's allow_hosts to follow it"
        )
    ]
    assert [x["url"] for x in doc["results"]] == [server.url("/releases/own/")]
    assert server.hits("/elsewhere/") == 0
    # Listed in allow_hosts: followed.
    cfg = config(
        tmp_path / "b.toml",
        server.url("/releases/"),
        dipdiff="allow_private = true\n",
        source='allow_hosts = ["localhost"]\n',
    )
    r, doc = fetch(cli, cfg)
    assert r.exit_code == 1 and not doc["problems"], r.output
    assert {x["url"]: x["outcome"] for x in doc["results"]}[off_site] == "new"
    FIGURES["fault scenarios"] += 1
    FIGURES["runs past a network fault"] += 1


def test_a_redirect_off_the_site_is_refused_before_it_is_requested(cli, server, tmp_path):
    target = other_name(server, "/latest/meta-data/")
    listing(server, "/releases/moved/", "/releases/own/")
    server.set("/releases/moved/", Response(b"", 302, {"Location": target}))
    server.set("/latest/meta-data/", page("Secret"))
    server.set("/releases/own/", page("Own Statement"))
    cfg = config(tmp_path / "c.toml", server.url("/releases/"), dipdiff="allow_private = true\n")
    _, doc = fetch(cli, cfg)
    result, own = doc["results"]
    assert own["outcome"] == "new", own  # the run goes on past the refused redirect
    assert result["outcome"] == "blocked", result
    assert result["message"] == (
        f"redirected to {target}: localhost is outside the source's site (127.0.0.1); list it "
        "in the source's allow_hosts to follow it"
    )
    assert server.hits("/latest/meta-data/") == 0
    store = Store(cli.store)
    assert len(store.versions(result["id"])) == 0 and len(store.versions(own["id"])) == 1
    FIGURES["fault scenarios"] += 1
    FIGURES["runs past a network fault"] += 1


@pytest.mark.parametrize(
    ("host", "why"),
    [
        ("127.0.0.1", "127.0.0.1 is a private, loopback or link-local address (127.0.0.1)"),
        ("localhost", "localhost resolves to a private, loopback or link-local address"),
    ],
)
def test_private_addresses_are_refused_unless_the_config_allows_them(
    cli, server, tmp_path, host, why
):
    listing(server, "/releases/own/")
    server.set("/releases/own/", page("Own Statement"))
    url = f"http://{host}:{server.port}/releases/"
    r, doc = fetch(cli, config(tmp_path / "d.toml", url))
    assert r.exit_code == 2, r.output
    (problem,) = doc["problems"]
    assert why in problem and "not fetched (allow_private = true allows it)" in problem, problem
    assert server.hits("/releases/") == 0 and doc["results"] == []
    # allow_private for this source only (the [dipdiff] default stays false).
    r, doc = fetch(cli, config(tmp_path / "e.toml", url, source="allow_private = true\n"))
    assert r.exit_code == 1 and [x["outcome"] for x in doc["results"]] == ["new"], r.output
    FIGURES["fault scenarios"] += 1


def test_a_name_is_checked_by_the_address_it_resolves_to(cli, server, tmp_path, monkeypatch):
    """A public-looking name that resolves to a private address (DNS rebinding, a hostile
    resolver) is refused at the connection, after the lookup."""
    real = socket.getaddrinfo

    def resolver(host, *args, **kw):
        return real("127.0.0.1" if host == "www.state.gov" else host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    listing(server, "/releases/own/")
    url = f"http://www.state.gov:{server.port}/releases/"
    r, doc = fetch(cli, config(tmp_path / "f.toml", url))
    assert r.exit_code == 2, r.output
    assert (
        "www.state.gov resolves to a private, loopback or link-local address (127.0.0.1)"
        in doc["problems"][0]
    ), doc
    assert server.hits("/releases/") == 0
    FIGURES["fault scenarios"] += 1


def test_javascript_and_data_links_are_never_stored(cli, server, tmp_path):
    items = "".join(
        f"<item><title>Item {n}</title><link>{link}</link><guid>g{n}</guid>"
        f"<content:encoded><![CDATA[<p>{TEXT[0]}</p><p>{TEXT[1]} {n}</p>]]></content:encoded>"
        "</item>"
        for n, link in enumerate(
            [
                "javascript:alert(document.cookie)",
                "data:text/html,<script>alert(1)</script>",
                server.url("/releases/fine/"),
            ]
        )
    )
    feed = (
        '<?xml version="1.0"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title>'
        f"{items}</channel></rss>"
    )
    server.set("/feed/", Response(feed.encode(), headers={"Content-Type": "application/rss+xml"}))
    cfg = tmp_path / "g.toml"
    cfg.write_text(
        "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\n"
        f'[sources.site]\nkind = "feed"\nurl = "{server.url("/feed/")}"\nfull_text = true\n',
        encoding="utf-8",
    )
    r, doc = fetch(cli, cfg)
    assert r.exit_code == 2, r.output
    assert doc["problems"] == [
        (
            "site: 2 links not followed: javascript:alert(document.cookie): only http:// and "
            "https:// links are stored (and 1 more)"
        )
    ]
    assert [x["url"] for x in doc["results"]] == [server.url("/releases/fine/")]
    FIGURES["fault scenarios"] += 1
    FIGURES["runs past a network fault"] += 1


HOSTILE_URLS = (
    "javascript:alert(1)",
    " JavaScript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
)


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_hostile_statement_url_is_never_a_link_in_any_output(url):
    """Stores written before the policy, or by hand, may hold one: no output makes it a link."""
    from dipdiff.analyse.compare import compare
    from dipdiff.render.feed import Feed, feed_entry, render_feed
    from dipdiff.render.html import compare_html
    from dipdiff.render.markdown import ReportInput, compare_markdown, render_report
    from dipdiff.render.site import safe_url

    ref = StatementRef("site/x", "A statement", url, "Agency", 1)
    report = render_report(
        ReportInput("2024-01-01", "2024-01-01T23:59:59Z", events=(Event("new", ref, "t"),))
    )
    a = Statement("A", tuple(TEXT), url=url)
    b = Statement("B", tuple(TEXT), url="https://www.state.gov/b/")
    md = compare_markdown(compare(a, b))
    for markdown in (report, md):
        rendered = MarkdownIt("gfm-like").render(markdown)
        assert "javascript:" not in rendered.lower().replace("javascript:alert(1)</", ""), rendered
        assert 'href="' + url.strip() not in rendered
    page = compare_html(compare(a, b))
    assert f'href="{url.strip()}' not in page and 'href="https://www.state.gov/b/"' in page
    healthy = replace(ref, url="https://www.state.gov/x/")
    assert safe_url(url) == "" and safe_url(healthy.url) == healthy.url  # the site's pages
    entries = tuple(feed_entry(Event("new", r, "2024-01-01T00:00:00Z")) for r in (ref, healthy))
    atom = render_feed(Feed("tag:x", "t", entries))
    # the entry's link to the day's report stays; only the statement's own page is left out
    page_links = [line for line in atom.splitlines() if 'type="text/html"' in line]
    assert page_links == [
        '    <link rel="related" type="text/html" href="https://www.state.gov/x/"/>'
    ], atom
    FIGURES["fault scenarios"] += 1


@pytest.mark.parametrize(
    ("host", "site"),
    [
        ("www.state.gov", "state.gov"),
        ("state.gov", "state.gov"),
        ("feeds.whitehouse.gov", "whitehouse.gov"),
        ("www.gov.uk", "www.gov.uk"),  # gov.uk is a public suffix: www.gov.uk is a site
        ("assets.publishing.service.gov.uk", "publishing.service.gov.uk"),
        ("press.un.org", "un.org"),
        ("WWW.State.Gov.", "state.gov"),
        ("127.0.0.1", "127.0.0.1"),
        ("localhost", "localhost"),
    ],
)
def test_a_site_is_a_registrable_domain(host, site):
    assert registrable_domain(host) == site


def test_the_policy_allows_the_site_its_hosts_and_public_addresses_only():
    p = NetPolicy.for_urls(["https://www.state.gov/feed/"], ["media.defense.gov"])
    assert p.allows("https://state.gov/a") and p.allows("https://preview.state.gov/a")
    assert p.allows("https://media.defense.gov/x") and p.allows("https://a.media.defense.gov/x")
    assert not p.allows("https://www.defense.gov/x") and not p.allows("https://evilstate.gov/")
    assert not p.allows("https://state.gov.evil.example/") and not p.allows("ftp://state.gov/")
    refused = ("10.0.0.1", "169.254.169.254", "::1", "fe80::1", "::ffff:127.0.0.1", "0.0.0.0")  # noqa: S104
    for address in refused:
        with pytest.raises(Exception, match="private, loopback or link-local"):
            p.check_addresses("www.state.gov", [address])
    p.check_addresses("www.state.gov", ["23.45.67.89", "2600:1408::1"])  # public: no error
