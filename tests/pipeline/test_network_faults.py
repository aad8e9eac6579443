"""Network faults from a real server on 127.0.0.1: each page gets the right outcome and a clear
one-line message, and the rest of the run is unaffected.

Routes that misbehave below the HTTP level (resets, stalls, lying headers) write raw bytes to
the socket. ``dipdiff snapshot`` (the synchronous fetcher) and ``dipdiff fetch`` (the polite
asynchronous one) share their response handling, and both are run here.
"""

from __future__ import annotations

import gzip
import json
import socket
import time
import zlib

import pytest

from dipdiff.pipeline.server import Response
from faultkit import FIGURES, fetch_config, statement_html
from routes import head, raw, redirect

TEXT = (
    "The United States condemns the attack on the embassy and calls on all parties to exercise "
    "restraint, protect civilians and return to talks without delay."
)
PAGE = statement_html(
    "Statement on the Embassy Attack", [TEXT, "We stand with our partners in the region."]
)


def bomb(decompressed: int) -> bytes:
    """A gzip body that inflates ``decompressed`` bytes of zeros from about 1/1000 of that."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    zero = bytes(1 << 20)
    out = [z.compress(zero) for _ in range(decompressed >> 20)]
    return b"".join(out) + z.flush()


def one_line_error(r, *needles):
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dipdiff: error: "), r.output
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def nothing_stored(store_dir):
    return not list(store_dir.glob("*/*/*.md"))


# -- the synchronous path: dipdiff snapshot -----------------------------------------------------


def test_connection_refused(cli, store_dir):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    one_line_error(
        cli("snapshot", f"http://127.0.0.1:{port}/x"), f"127.0.0.1:{port}/x", "cannot connect"
    )
    assert nothing_stored(store_dir)


def test_reset_mid_body(cli, server, store_dir):
    server.set(
        "/reset",
        raw(head(Content_Type="text/html", Content_Length=str(len(PAGE))), PAGE[:300], reset=True),
    )
    one_line_error(cli("snapshot", server.url("/reset")), "/reset", "connection")
    assert nothing_stored(store_dir)


def test_body_shorter_than_its_content_length(cli, server, store_dir):
    server.set(
        "/short", raw(head(Content_Type="text/html", Content_Length=str(len(PAGE) + 500)), PAGE)
    )
    one_line_error(cli("snapshot", server.url("/short")), "/short")
    assert nothing_stored(store_dir)


def test_truncated_gzip_is_never_stored(cli, server, store_dir):
    body = gzip.compress(PAGE)[:-40]  # the stream ends early; the Content-Length is honest
    server.set(
        "/trunc",
        raw(
            head(Content_Type="text/html", Content_Encoding="gzip", Content_Length=str(len(body))),
            body,
        ),
    )
    one_line_error(cli("snapshot", server.url("/trunc")), "/trunc", "truncated")
    assert nothing_stored(store_dir)


def test_corrupt_gzip(cli, server, store_dir):
    body = b"\x1f\x8b\x08\x00" + b"not deflate at all" * 20
    server.set(
        "/corrupt",
        raw(
            head(Content_Type="text/html", Content_Encoding="gzip", Content_Length=str(len(body))),
            body,
        ),
    )
    one_line_error(cli("snapshot", server.url("/corrupt")), "/corrupt", "decode")
    assert nothing_stored(store_dir)


def test_gzip_bomb_is_stopped_by_the_decompressed_size(server):
    from dipdiff.errors import FetchError
    from dipdiff.scrape.http import fetch_page, make_client

    body = bomb(64 << 20)  # 64 MB of zeros in ~64 KB
    cap = 1 << 20
    assert len(body) < cap // 4
    server.set(
        "/bomb", Response(body, headers={"Content-Type": "text/html", "Content-Encoding": "gzip"})
    )
    with make_client() as client, pytest.raises(FetchError) as e:
        fetch_page(client, server.url("/bomb"), max_bytes=cap)
    assert "too large" in e.value.reason and "decompressed" in e.value.reason


def test_body_far_over_the_cap_without_a_content_length(server):
    from dipdiff.errors import FetchError
    from dipdiff.scrape.http import fetch_page, make_client

    chunk = b"<p>" + b"x" * 65536 + b"</p>"
    parts = [head(Content_Type="text/html", Transfer_Encoding="chunked")]
    parts += [f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"] * 64  # 4 MB, no end in sight
    server.set("/huge", raw(*parts))
    with make_client() as client, pytest.raises(FetchError) as e:
        fetch_page(client, server.url("/huge"), max_bytes=1 << 20)
    assert "too large" in e.value.reason


def test_declared_size_over_the_cap_is_refused_before_reading(cli, server, store_dir):
    server.set("/big", raw(head(Content_Type="text/html", Content_Length=str(50 << 20)), b"<html>"))
    one_line_error(cli("snapshot", server.url("/big")), "/big", "too large")


def test_slow_loris_body_hits_the_total_deadline(server):
    from dipdiff.errors import FetchError
    from dipdiff.scrape.http import fetch_page, make_client

    drip = [head(Content_Type="text/html", Content_Length=str(len(PAGE)))] + [
        PAGE[i : i + 20] for i in range(0, 400, 20)
    ]
    server.set("/drip", raw(*drip, pause=0.15))  # a byte run every 0.15 s: never a read timeout
    started = time.monotonic()
    with make_client() as client, pytest.raises(FetchError) as e:
        fetch_page(client, server.url("/drip"), max_seconds=1.0)
    assert time.monotonic() - started < 2.5
    assert "too slow" in e.value.reason and e.value.transient


def test_redirect_loop(cli, server, store_dir):
    server.set("/a", redirect("/b"))
    server.set("/b", redirect("/a"))
    one_line_error(cli("snapshot", server.url("/a")), "/a", "too many redirects")
    assert nothing_stored(store_dir)


def test_redirect_to_another_host_is_followed_and_recorded(cli, server, store_dir):
    server.set("/page", Response(PAGE))
    server.set("/old", redirect(f"http://localhost:{server.port}/page"))
    r = cli("snapshot", server.url("/old"))
    assert r.exit_code == 1 and r.output.startswith("new"), r.output
    (checks,) = store_dir.glob("*/*/checks.jsonl")
    assert f"redirected to http://localhost:{server.port}/page" in checks.read_text()


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/"]
)
def test_redirect_to_another_scheme_is_refused(cli, server, store_dir, target):
    server.set("/evil", redirect(target))
    one_line_error(cli("snapshot", server.url("/evil")), "/evil")
    assert nothing_stored(store_dir)


def test_missing_content_type_is_sniffed(cli, server):
    server.set("/untyped", raw(head(Content_Length=str(len(PAGE))), PAGE))
    r = cli("snapshot", server.url("/untyped"))
    assert r.exit_code == 1 and r.output.startswith("new"), r.output


def test_wrong_content_type_is_named(cli, server, store_dir):
    server.set("/json", Response(b'{"a": 1}', headers={"Content-Type": "application/json"}))
    one_line_error(
        cli("snapshot", server.url("/json")), "/json", "not an HTML page", "application/json"
    )
    assert nothing_stored(store_dir)


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" * 20, "PDF"),
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(300), "ZIP"),
        (b"\x89PNG\r\n\x1a\n" + bytes(300), "PNG"),
    ],
)
def test_a_binary_document_served_as_html_is_named_and_not_stored(
    cli, server, store_dir, body, what
):
    server.set("/doc", Response(body, headers={"Content-Type": "text/html; charset=utf-8"}))
    one_line_error(cli("snapshot", server.url("/doc")), "/doc", what, "not an HTML page")
    assert nothing_stored(store_dir)


@pytest.mark.parametrize(
    ("title", "body"),
    [
        (
            "Just a moment...",
            (
                "<h1>Checking your browser before accessing state.gov</h1><p>This process is "
                "automatic."
            ),
        ),
        (
            "Access Denied",
            (
                "<h1>Access Denied</h1><p>You don't have permission to access this server. "
                "Reference #18"
            ),
        ),
        (
            "Request Rejected",
            "<p>The requested URL was rejected. Please consult with your administrator.</p>",
        ),
        (
            "Pardon Our Interruption",
            (
                "<p>As you were browsing something about your browser made us think you were a "
                "bot.</p>"
            ),
        ),
        (
            "Technical Difficulties",
            "<p>We are experiencing technical difficulties. Please try again later.</p>",
        ),
        (
            "Page Not Found - United States Department of State",
            "<h1>Page Not Found</h1><p>"
            + "We could not find the page you were looking for. " * 4
            + "</p>",
        ),
        (
            "Service Unavailable",
            "<h1>Service Unavailable</h1><p>"
            + "The server is temporarily unable to service your request. " * 3
            + "</p>",
        ),
    ],
)
def test_200_error_and_captcha_pages_are_blocked_not_stored(cli, server, store_dir, title, body):
    html = f"<html><head><title>{title}</title></head><body>{body}</body></html>".encode()
    server.set("/p", Response(html))
    r = cli("snapshot", server.url("/p"))
    assert r.exit_code == 0 and r.output.startswith("blocked"), r.output
    assert nothing_stored(store_dir)


def _snapshot_text(cli, server, body, content_type):
    server.set("/c", Response(body, headers={"Content-Type": content_type}))
    r = cli("snapshot", server.url("/c"))
    assert r.exit_code == 1 and r.output.startswith("new"), r.output
    sid = r.output.split()[1].split("@")[0]
    return cli("show", sid).output


CHARSET_PAGE = (
    "<html><head><title>Déclaration sur la Côte d’Ivoire</title></head><body><h1>Déclaration sur "
    "la Côte d’Ivoire</h1><p>Le ministère « condamne » l’attaque contre la mission à Abidjan et "
    "appelle toutes les parties à la retenue, à la protection des civils et au "
    "dialogue.</p></body></html>"
)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (
            CHARSET_PAGE.encode("cp1252"),
            "text/html; charset=utf-8",
        ),  # declared UTF-8, really Windows-1252
        (
            CHARSET_PAGE.encode("latin-1", "replace").replace(b"?", b"'"),
            "text/html; charset=iso-8859-1",
        ),
        (
            b"\xef\xbb\xbf" + CHARSET_PAGE.encode("utf-8"),
            "text/html; charset=iso-8859-1",
        ),  # a BOM wins
        (b"\xff\xfe" + CHARSET_PAGE.encode("utf-16-le"), "text/html"),
        (CHARSET_PAGE.encode("utf-8"), "text/html; charset=utf-16"),  # a wrong UTF-16 declaration
        (CHARSET_PAGE.encode("utf-8"), "text/html; charset=no-such-charset"),
        (CHARSET_PAGE.encode("utf-8"), "text/html"),
    ],
)
def test_charsets(cli, server, body, content_type):
    out = _snapshot_text(cli, server, body, content_type)
    assert "Abidjan" in out and "\ufffd" not in out
    assert "ministère" in out and "à la retenue" in out, out


def test_mixed_charsets_in_one_page(cli, server):
    body = CHARSET_PAGE.encode("utf-8").replace(
        "à la retenue".encode(), "à la retenue".encode("cp1252")
    )
    out = _snapshot_text(cli, server, body, "text/html; charset=utf-8")
    assert "ministère" in out and "à la retenue" in out and "Côte" in out, out


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_are_one_line_for_snapshot(cli, server, store_dir, status):
    server.set(
        "/busy",
        Response(b"slow down", status, {"Content-Type": "text/plain", "Retry-After": "3600"}),
    )
    one_line_error(cli("snapshot", server.url("/busy")), "/busy", f"HTTP {status}")
    assert nothing_stored(store_dir)


# -- the asynchronous path: a dipdiff fetch run over many pages, each with its fault ----------

GOOD = [f"/releases/good-{i}/" for i in range(4)]


def _faults(server):
    """path -> (route, expected outcome, words expected in the message)."""
    gz = gzip.compress(PAGE)
    return {
        "/releases/reset/": (
            raw(
                head(Content_Type="text/html", Content_Length=str(len(PAGE))),
                PAGE[:200],
                reset=True,
            ),
            "unavailable",
            "connection broken mid-response",
        ),
        "/releases/truncated-gzip/": (
            raw(
                head(
                    Content_Type="text/html",
                    Content_Encoding="gzip",
                    Content_Length=str(len(gz) - 40),
                ),
                gz[:-40],
            ),
            "unavailable",
            "truncated gzip body",
        ),
        "/releases/bomb/": (
            Response(
                bomb(32 << 20), headers={"Content-Type": "text/html", "Content-Encoding": "gzip"}
            ),
            "unavailable",
            "too large",
        ),
        "/releases/drip/": (
            raw(
                head(Content_Type="text/html", Content_Length=str(len(PAGE))),
                *[PAGE[i : i + 10] for i in range(0, 300, 10)],
                pause=0.1,
            ),
            "unavailable",
            "too slow",
        ),
        "/releases/pdf/": (
            Response(b"%PDF-1.4\n" + bytes(500), headers={"Content-Type": "text/html"}),
            "unavailable",
            "PDF document",
        ),
        "/releases/captcha/": (
            Response(
                b"<html><head><title>Just a moment...</title></head><body>"
                b"<p>Checking your browser.</p></body></html>"
            ),
            "blocked",
            "bot-block",
        ),
        "/releases/soft-404/": (
            Response(
                b"<html><head><title>Page Not Found</title></head><body><p>"
                + b"Sorry, we cannot find that page on our site today. " * 4
                + b"</p></body></html>"
            ),
            "blocked",
            "error page",
        ),
        "/releases/too-many/": (
            Response(b"slow down", 429, {"Retry-After": "3600"}),
            "unavailable",
            "HTTP 429",
        ),
        "/releases/down/": (Response(b"down", 503), "unavailable", "HTTP 503"),
        "/releases/loop/": (redirect("/releases/loop/"), "unavailable", "too many redirects"),
        "/releases/json/": (
            Response(b"{}", headers={"Content-Type": "application/json"}),
            "unavailable",
            "Content-Type application/json",
        ),
        "/releases/cp1252/": (Response(CHARSET_PAGE.encode("cp1252")), "new", ""),
    }


def _listing(server, paths):
    items = "".join(f'<li class="item"><a href="{p}">{p}</a></li>' for p in paths)
    server.set("/releases/", Response(f"<html><body><ul>{items}</ul></body></html>".encode()))


@pytest.mark.slow
def test_a_fetch_run_gives_each_faulty_page_its_outcome_and_the_rest_is_unaffected(
    cli, server, tmp_path, store_dir
):
    faults = _faults(server)
    for i, path in enumerate(GOOD):
        server.set(
            path,
            Response(statement_html(f"Good Statement {i}", [f"Statement number {i}. " + TEXT])),
        )
    for path, (route, _, _) in faults.items():
        server.set(path, route)
    _listing(server, GOOD[:2] + list(faults) + GOOD[2:])  # good pages before and after the faults
    config = fetch_config(tmp_path / "dipdiff.toml", server, timeout=0.5)

    r = cli("fetch", "--config", str(config), "--json")
    assert r.exit_code == 1, r.output  # new statements were found
    doc = json.loads(r.stdout)
    by_url = {res["url"].removeprefix(server.url("")): res for res in doc["results"]}
    for path in GOOD:
        assert by_url[path]["outcome"] == "new", by_url[path]
    for path, (_, outcome, words) in faults.items():
        got = by_url[path]
        assert got["outcome"] == outcome, (path, got)
        assert words in got["message"] and "\n" not in got["message"], (path, got)
    assert doc["problems"] == []
    assert len(doc["results"]) == len(GOOD) + len(faults)
    cp = next(res for res in doc["results"] if res["url"].endswith("/cp1252/"))
    assert "Côte d’Ivoire" in cp["title"]
    assert {p.parent.name for p in store_dir.glob("*/*/*.md")} == {
        by_url[p]["id"].split("/")[1] for p in [*GOOD, "/releases/cp1252/"]
    }

    # The sites recover: every faulty page now serves a statement, and nothing else changes.
    for i, path in enumerate(p for p in faults if faults[p][1] != "new"):
        server.set(
            path, Response(statement_html(f"Recovered {i}", [f"Recovered statement {i}. " + TEXT]))
        )
    r = cli("fetch", "--config", str(config), "--json", "--all")
    doc = json.loads(r.stdout)
    outcomes = {res["url"].removeprefix(server.url("")): res["outcome"] for res in doc["results"]}
    assert all(outcomes[p] == "unchanged" for p in [*GOOD, "/releases/cp1252/"]), outcomes
    assert {
        p: outcomes[p] for p in faults if p != "/releases/cp1252/" and outcomes[p] != "new"
    } == {}
    assert cli("verify").exit_code == 0
    FIGURES["fault scenarios"] += len(faults)
    FIGURES["runs past a network fault"] += 1


def test_a_429_and_503_storm_leaves_the_good_pages_alone(cli, server, tmp_path, store_dir):
    """Half the pages answer 429 or 503 on every request; the other half are stored, nothing retried
    beyond the configured retries."""
    paths = [f"/releases/s{i}/" for i in range(12)]
    for i, path in enumerate(paths):
        if i % 2:
            server.set(path, Response(b"busy", 429 if i % 4 == 1 else 503, {"Retry-After": "1"}))
        else:
            server.set(
                path, Response(statement_html(f"Storm {i}", [f"Storm statement {i}. " + TEXT]))
            )
    _listing(server, paths)
    config = fetch_config(tmp_path / "dipdiff.toml", server)
    r = cli("fetch", "--config", str(config), "--json")
    doc = json.loads(r.stdout)
    outcomes = {
        res["url"].removeprefix(server.url("")): (res["outcome"], res["message"])
        for res in doc["results"]
    }
    for i, path in enumerate(paths):
        if i % 2:
            assert (
                outcomes[path][0] == "unavailable" and "HTTP 4" in outcomes[path][1]
            ) or "HTTP 5" in outcomes[path][1]
            assert server.hits(path) == 1  # retries = 0 in this config: no hammering
        else:
            assert outcomes[path] == ("new", "")
    assert len(list(store_dir.glob("*/*/*.md"))) == 6
    FIGURES["fault scenarios"] += 1
    FIGURES["runs past a network fault"] += 1


def test_many_retries_never_wait_longer_than_max_retry_after(server):
    """retries = 12 with exponential backoff would wait 2,048 s at the end; each wait is capped."""
    import asyncio

    from dipdiff.config import FetchSettings
    from dipdiff.errors import FetchError
    from dipdiff.scrape.http import Fetcher

    server.set("/down", Response(b"down", 500))
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def go():
        async with Fetcher(
            FetchSettings(
                delay=0, retries=12, backoff=1, max_retry_after=120, robots=False, timeout=5
            ),
            sleep=sleep,
        ) as f:
            await f.get(server.url("/down"))

    with pytest.raises(FetchError) as e:
        asyncio.run(go())
    assert e.value.status == 500 and len(waits) == 12
    assert waits[:4] == [1, 2, 4, 8] and max(waits) == 120 and sum(waits) < 12 * 120
