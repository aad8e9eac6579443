"""The polite async fetcher against a real local server with scripted faults."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import UTC

import pytest

from dipdiff.config import FetchSettings
from dipdiff.errors import FetchError, RobotsDisallowed
from dipdiff.pipeline.server import Response
from dipdiff.scrape.http import Fetcher, retry_after_seconds
from routes import conditional, redirect, sequence, slow

PAGE = Response(
    b"<html><head><title>T</title></head><body><p>" + b"word " * 40 + b"</p></body></html>"
)
FAST = FetchSettings(delay=0, backoff=0.001, retries=2, timeout=5, robots=False)


class Sleeps:
    """An injected sleep that records every wait and yields without waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(round(seconds, 3))
        await asyncio.sleep(0)


def get(url, politeness=FAST, sleep=None, **kwargs):
    async def go():
        async with Fetcher(politeness, **({"sleep": sleep} if sleep else {})) as f:
            return await f.get(url, **kwargs), f.requests

    return asyncio.run(go())


def test_ok_page_with_user_agent(server):
    server.set("/a", PAGE)
    page, requests = get(
        server.url("/a"), FetchSettings(delay=0, robots=False, user_agent="test-agent/1")
    )
    assert page.status == 200 and b"word" in page.content and requests == 1
    assert server.requests[-1][2]["User-Agent"] == "test-agent/1"


def test_5xx_is_retried_with_exponential_backoff(server):
    server.set("/a", sequence(Response(b"", 500), Response(b"", 502), PAGE))
    sleeps = Sleeps()
    page, requests = get(
        server.url("/a"), FetchSettings(delay=0, backoff=0.5, retries=2, robots=False), sleeps
    )
    assert page.status == 200 and requests == 3
    assert sleeps.waits == [0.5, 1.0]


def test_5xx_that_persists_is_a_transient_error(server):
    server.set("/a", Response(b"down", 503))
    with pytest.raises(FetchError) as e:
        get(server.url("/a"))
    assert e.value.status == 503 and e.value.transient
    assert server.hits("/a") == 3


def test_429_and_503_honour_retry_after(server):
    server.set("/a", sequence(Response(b"", 429, {"Retry-After": "7"}), PAGE))
    sleeps = Sleeps()
    page, _ = get(server.url("/a"), sleep=sleeps)
    assert page.status == 200 and sleeps.waits == [7.0]


def test_retry_after_beyond_the_cap_gives_up_at_once(server):
    server.set("/a", Response(b"", 429, {"Retry-After": "3600"}))
    with pytest.raises(FetchError) as e:
        get(server.url("/a"), FetchSettings(delay=0, max_retry_after=60, robots=False))
    assert e.value.status == 429 and e.value.retry_after == 3600 and server.hits("/a") == 1


def test_retry_after_as_http_date():
    from datetime import datetime

    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("Wed, 25 Nov 2026 12:00:30 GMT", now) == 30
    assert retry_after_seconds("120") == 120 and retry_after_seconds("soon") is None


def test_404_is_not_retried(server):
    with pytest.raises(FetchError) as e:
        get(server.url("/missing"))
    assert e.value.status == 404 and not e.value.transient and server.hits("/missing") == 1


def test_slow_response_times_out_once_and_is_left_for_the_next_run(server):
    """A server that ran out the deadline is not asked again at once: each retry would hold the
    run (and the store's lock) for another timeout."""
    server.set("/slow", slow(1.0, PAGE))
    started = time.monotonic()
    with pytest.raises(
        FetchError, match=r"timed out: no complete response headers after 0\.2 s"
    ) as e:
        get(
            server.url("/slow"),
            FetchSettings(delay=0, timeout=0.2, retries=2, backoff=0.001, robots=False),
        )
    assert e.value.transient and e.value.slow and e.value.status is None
    assert server.hits("/slow") == 1
    assert time.monotonic() - started < 0.9


def test_conditional_request_gets_304_without_a_body(server):
    server.set("/a", conditional(PAGE, last_modified="Wed, 25 Nov 2026 10:00:00 GMT"))
    first, _ = get(server.url("/a"))
    assert first.status == 200 and first.etag
    again, _ = get(server.url("/a"), etag=first.etag, last_modified=first.last_modified)
    assert again.status == 304 and again.content == b""
    headers = server.requests[-1][2]
    assert headers["If-None-Match"] == first.etag
    assert headers["If-Modified-Since"] == "Wed, 25 Nov 2026 10:00:00 GMT"


def test_redirects_are_followed_and_recorded(server):
    server.set("/old", redirect("/middle", 301))
    server.set("/middle", redirect("/new", 302))
    server.set("/new", PAGE)
    page, _ = get(server.url("/old"))
    assert page.final_url == server.url("/new")
    assert page.redirects == (server.url("/old"), server.url("/middle"))


def test_size_cap(server):
    server.set("/big", Response(b"<p>" + b"x" * 5000 + b"</p>"))
    with pytest.raises(FetchError, match="too large") as e:
        get(server.url("/big"), FetchSettings(delay=0, max_bytes=1000, robots=False))
    assert not e.value.transient


def test_robots_txt_is_respected_unless_disabled(server):
    server.set(
        "/robots.txt",
        Response(
            b"User-agent: dipdiff\nDisallow: /private/\n", headers={"Content-Type": "text/plain"}
        ),
    )
    server.set("/private/a", PAGE)
    server.set("/public/a", PAGE)
    polite = FetchSettings(delay=0, robots=True)
    with pytest.raises(RobotsDisallowed):
        get(server.url("/private/a"), polite)
    assert server.hits("/private/a") == 0
    assert get(server.url("/public/a"), polite)[0].status == 200
    assert get(server.url("/private/a"), polite, robots=False)[0].status == 200


def test_missing_robots_allows_and_unreachable_robots_forbids(server):
    server.set("/a", PAGE)
    assert (
        get(server.url("/a"), FetchSettings(delay=0, robots=True))[0].status == 200
    )  # robots.txt is a 404
    server.set("/robots.txt", Response(b"", 500))
    with pytest.raises(FetchError, match=r"robots\.txt is unreachable") as e:
        get(server.url("/a"), FetchSettings(delay=0, robots=True, backoff=0.001))
    assert e.value.transient


def _in_flight_route(state, delay):
    lock = threading.Lock()

    def route(handler):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(delay)
        with lock:
            state["now"] -= 1
        return PAGE

    return route


def test_global_and_per_host_limits(server):
    state = {"now": 0, "max": 0}
    for i in range(8):
        server.set(f"/p{i}", _in_flight_route(state, 0.05))

    async def go(p):
        async with Fetcher(p) as f:
            await asyncio.gather(*(f.get(server.url(f"/p{i}")) for i in range(8)))

    asyncio.run(go(FetchSettings(delay=0, concurrency=8, per_host=3, robots=False)))
    assert state["max"] == 3
    state["max"] = 0
    asyncio.run(go(FetchSettings(delay=0, concurrency=2, per_host=8, robots=False)))
    assert state["max"] == 2


def test_per_host_delay_spaces_request_starts(server):
    for i in range(4):
        server.set(f"/d{i}", PAGE)

    async def go():
        async with Fetcher(FetchSettings(delay=0.05, per_host=4, robots=False)) as f:
            started = time.monotonic()
            await asyncio.gather(*(f.get(server.url(f"/d{i}")) for i in range(4)))
            return time.monotonic() - started

    assert asyncio.run(go()) >= 0.15  # three gaps of 50 ms between four starts


def test_the_configs_settings_are_what_a_fetch_run_uses(cli, server, tmp_path):
    """[dipdiff] keys reach the Fetcher as loaded: its user agent, its size cap, its robots rule."""
    server.set(
        "/releases/",
        Response(
            b'<html><body><ul><li class="item"><a href="/small/">a</a></li>'
            b'<li class="item"><a href="/big/">b</a></li></ul></body></html>'
        ),
    )
    server.set("/small/", PAGE)
    server.set("/big/", Response(PAGE.body.replace(b"word ", b"words " * 100)))
    server.set(
        "/robots.txt",
        Response(b"User-agent: *\nDisallow: /", headers={"Content-Type": "text/plain"}),
    )
    config = tmp_path / "dipdiff.toml"
    config.write_text(
        "[dipdiff]\nallow_private = true\n"
        f'user_agent = "watcher/9"\nmax_bytes = {len(PAGE.body) + 100}\ndelay = 0\n'
        f'robots = false\nretries = 0\n[sources.site]\nkind = "listing"\n'
        f'url = "{server.url("/releases/")}"\nselector = "li.item"\n',
        encoding="utf-8",
    )
    r = cli("fetch", "--config", str(config), "--json")
    doc = json.loads(r.stdout)
    assert doc["outcomes"]["new"] == 1 and doc["outcomes"]["unavailable"] == 1, r.output
    assert "response too large" in r.output
    agents = {
        headers.get("User-Agent") for _, path, headers in server.requests if path != "/robots.txt"
    }
    assert agents == {"watcher/9"} and server.hits("/robots.txt") == 0
