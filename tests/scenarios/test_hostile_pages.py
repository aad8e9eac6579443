"""One hostile page costs one page: `dipdiff fetch` over a real local site where one page is built
to break the pipeline, and every other page is checked and stored as usual.

Each case was seen to stop whole runs: a page nested 1,000 elements deep (the recursive walk
overflowed), a lone surrogate in a gov.uk content item (the version could not be written), an RSS
feed with HTML's named entities outside CDATA (texts cut at the first one), 700,000 tiny
paragraphs within the size cap (minutes of CPU and a gigabyte), and, for whatever comes next, a
page on which dipdiff itself fails.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from dipdiff.pipeline.server import Response
from dipdiff.scrape.extract import MAX_DEPTH, MAX_ELEMENTS
from dipdiff.store.store import Store
from faultkit import FIGURES, fetch_config, statement_html
from helpers import Cli

HEALTHY = [
    (
        f"/releases/healthy-{i}/",
        statement_html(
            f"Healthy Statement {i}",
            [
                (
                    f"The department welcomes the agreement number {i} reached by the parties "
                    "and calls on all sides to respect the ceasefire and protect civilians."
                ),
                "We will continue to work with our partners toward a lasting political solution.",
            ],
        ),
    )
    for i in range(3)
]


def serve(server, hostile: list[tuple[str, bytes]]) -> None:
    pages = HEALTHY + hostile
    items = "".join(f'<li class="item"><a href="{p}">{p}</a></li>' for p, _ in pages)
    server.set("/releases/", Response(f"<html><body><ul>{items}</ul></body></html>".encode()))
    for path, body in pages:
        server.set(path, Response(body))


def fetch(cli, config: Path, when: str = "2024-01-01T00:00:00Z") -> dict:
    r = cli("fetch", "--config", str(config), "--json", env={"DIPDIFF_NOW": when})
    assert r.exit_code in (0, 1), r.output
    return json.loads(r.stdout)


def by_url(doc: dict, server) -> dict[str, dict]:
    return {r["url"].removeprefix(server.url("")): r for r in doc["results"]}


def assert_healthy_stored(doc: dict, server, store_dir: Path) -> None:
    results = by_url(doc, server)
    for path, _ in HEALTHY:
        assert results["/" + path.lstrip("/")]["outcome"] == "new", doc
    assert Store(store_dir).statement_ids(), "nothing stored"
    FIGURES["fault scenarios"] += 1
    FIGURES["runs past a hostile page"] += 1


def nested(depth: int) -> bytes:
    words = " ".join(["the minister spoke about the talks"] * 4)
    return (
        "<html><head><title>Deep</title></head><body><main>"
        + "<div><span>" * depth
        + f"<p>{words}.</p>"
        + "</span></div>" * depth
        + "</main></body></html>"
    ).encode()


def test_a_page_nested_thousands_deep_is_read_and_the_run_goes_on(cli, server, tmp_path, store_dir):
    # 2,000 elements deep: the recursive walk overflowed at 1,000 (55 KB) and failed the run.
    serve(server, [("/releases/deep/", nested(1_000))])
    doc = fetch(cli, fetch_config(tmp_path / "dipdiff.toml", server))
    assert_healthy_stored(doc, server, store_dir)
    deep = by_url(doc, server)["/releases/deep/"]
    assert deep["outcome"] == "new", deep
    r = cli("show", deep["id"])
    assert r.exit_code == 0 and "the minister spoke about the talks" in r.output, r.output


def test_a_page_nested_deeper_than_the_parser_reads_is_never_stored_cut_short(
    cli, server, tmp_path, store_dir
):
    # libxml2 drops what lies deeper than its limit: the text would be stored cut short.
    serve(server, [("/releases/deeper/", nested(2_500))])
    doc = fetch(cli, fetch_config(tmp_path / "dipdiff.toml", server))
    assert_healthy_stored(doc, server, store_dir)
    deeper = by_url(doc, server)["/releases/deeper/"]
    assert deeper["outcome"] == "blocked", deeper
    assert f"nested too deep (over {MAX_DEPTH:,} elements)" in deeper["message"], deeper


def test_a_page_of_too_many_elements_is_refused_quickly_and_named(cli, server, tmp_path, store_dir):
    page = b"<html><body><main>" + b"<p>a</p>" * 700_000 + b"</main></body></html>"
    assert len(page) < 10_485_760  # within the size cap: only the element bound stops it
    serve(server, [("/releases/huge/", page)])
    doc = fetch(cli, fetch_config(tmp_path / "dipdiff.toml", server))
    assert_healthy_stored(doc, server, store_dir)
    huge = by_url(doc, server)["/releases/huge/"]
    assert huge["outcome"] == "blocked", huge
    assert "too many elements (about 700,00" in huge["message"], huge
    assert f"at most {MAX_ELEMENTS:,} are read" in huge["message"], huge


def test_a_bug_met_on_one_page_costs_that_page_only(cli, server, tmp_path, store_dir, monkeypatch):
    """Whatever fails next: an exception dipdiff does not expect is that page's outcome."""
    from dipdiff.pipeline import record

    real = record.extract

    def failing(html, url="", **kw):
        if "/releases/cursed/" in url:
            raise RecursionError("maximum recursion depth exceeded")
        return real(html, url, **kw)

    monkeypatch.setattr(record, "extract", failing)
    serve(server, [("/releases/cursed/", HEALTHY[0][1].replace(b"Healthy", b"Cursed"))])
    config = fetch_config(tmp_path / "dipdiff.toml", server)
    r = cli("fetch", "--config", str(config), env={"DIPDIFF_NOW": "2024-01-01T00:00:00Z"})
    assert r.exit_code == 1, r.output  # changes found; the run finished
    line = next(x for x in r.output.splitlines() if "/releases/cursed/" in x)
    assert "internal error (RecursionError: maximum recursion depth exceeded)" in line, r.output
    assert r.output.count("new ") >= len(HEALTHY), r.output
    assert len(Store(store_dir).statement_ids()) == len(HEALTHY)
    assert cli("verify").exit_code == 0
    FIGURES["fault scenarios"] += 1
    FIGURES["runs past a hostile page"] += 1


def test_a_lone_surrogate_in_a_govuk_item_is_stored_as_a_replacement_character(
    cli, server, tmp_path, store_dir
):
    body = (
        "<p>The Foreign Secretary welcomed the agreement \\ud800 and called on all parties to "
        "protect civilians and return to talks without delay.</p>"
    )
    items = {
        "/government/news/surrogate": f'"title": "Statement \\udfff on talks", "details": '
        f'{{"body": "{body}"}}, "base_path": "/government/news/surrogate"',
        "/government/news/plain": '"title": "Statement on talks", "details": {"body": '
        '"<p>The Foreign Secretary welcomed the agreement and called on all parties to protect '
        'civilians and return to talks without delay.</p>"}, "base_path": "/government/news/plain"',
    }
    json_type = {"Content-Type": "application/json"}
    results = ",".join(f'{{"link": "{p}", "title": "t"}}' for p in items)
    server.set(
        "/api/search.json", Response(f'{{"results": [{results}]}}'.encode(), headers=json_type)
    )
    for path, fields in items.items():
        # Written as JSON text: json.dumps would never write a lone surrogate's \u escape.
        server.set("/api/content" + path, Response(f"{{{fields}}}".encode(), headers=json_type))
    config = tmp_path / "dipdiff.toml"
    config.write_text(
        "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\n"
        f'[sources.fcdo]\npreset = "fcdo"\nurl = "{server.url("/api/search.json")}"\n'
        f'base_url = "{server.url("/")}"\ncontent_api = "{server.url("/api/content")}"\n',
        encoding="utf-8",
    )
    doc = fetch(cli, config)
    assert [r["outcome"] for r in doc["results"]] == ["new", "new"], [
        r["message"] for r in doc["results"]
    ]
    sid = next(r["id"] for r in doc["results"] if r["url"].endswith("/surrogate"))
    v = Store(store_dir).read_version(sid)
    assert v.statement.title == "Statement \ufffd on talks"
    assert "agreement \ufffd and called" in v.statement.paragraphs[0]
    assert cli("verify").exit_code == 0
    FIGURES["fault scenarios"] += 1
    FIGURES["runs past a hostile page"] += 1


FEED = "state-gov-press-releases-rss/blinken-abc-this-week-2021-05-23"
NAMED = {"\u2019": "&rsquo;", "\u2018": "&lsquo;", "\u2013": "&ndash;", "\u00a0": "&nbsp;"}


def feed_file(corpus) -> Path:
    """The state.gov press releases feed of 23 May 2021, as saved."""
    return min(corpus(FEED).glob("01__*.rss"))


def with_named_entities(feed: bytes) -> bytes:
    """The feed as some CMSs write it: HTML's named entities outside CDATA."""
    parts = re.split(rb"(<!\[CDATA\[.*?\]\]>)", feed, flags=re.DOTALL)
    out = []
    for part in parts:
        text = part.decode("utf-8")
        if not part.startswith(b"<![CDATA["):
            text = text.replace("&#8211;", "\u2013")
            for char, entity in NAMED.items():
                text = text.replace(char, entity)
        out.append(text.encode("utf-8"))
    return b"".join(out)


def test_a_feed_with_html_named_entities_is_read_whole(server, tmp_path, corpus):
    original = feed_file(corpus).read_bytes()
    named = with_named_entities(original)
    assert named.count(b"&rsquo;") >= 5, "the corpus feed has no apostrophes outside CDATA"
    stored = {}
    for name, feed in (("original", original), ("named", named)):
        server.set("/feed/", Response(feed, headers={"Content-Type": "application/rss+xml"}))
        config = tmp_path / f"{name}.toml"
        config.write_text(
            "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\n"
            f'[sources.state-dept]\nkind = "feed"\nurl = "{server.url("/feed/")}"\n'
            "full_text = true\n",
            encoding="utf-8",
        )
        r = Cli(tmp_path / name)("fetch", "--config", str(config))
        assert r.exit_code == 1, r.output
        store = Store(tmp_path / name)
        stored[name] = sorted(
            (v.statement.title, v.statement.paragraphs)
            for v in (store.read_version(sid) for sid in store.statement_ids())
        )
    assert stored["named"] == stored["original"]  # every title and text whole, to the character
    titles = [t for t, _ in stored["named"]]
    assert (
        "Secretary Blinken\u2019s Call with Turkish Foreign Minister \u00c7avu\u015fo\u011flu"
        in (titles)
    )
    FIGURES["fault scenarios"] += 1


def test_every_item_title_of_a_feed_with_named_entities_is_whole(corpus):
    """Discovery alone (a feed of links): the titles and links of every item."""
    from dipdiff.scrape.discover import parse_feed

    feed = feed_file(corpus).read_bytes()
    original = parse_feed(feed, "https://www.state.gov/feed/")
    named = parse_feed(with_named_entities(feed), "https://www.state.gov/feed/")
    assert [(i.title, i.url) for i in named.items] == [(i.title, i.url) for i in original.items]
    assert len(named.items) >= 5
