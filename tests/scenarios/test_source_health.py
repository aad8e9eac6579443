"""Source health through the CLI: a site "redesigned" under a running monitor.

Three `dipdiff run` days in a real git repository against a local server. The White House's
pages are written here: on day 1 with the body where the source's selector looks, from day 2
on as a script-rendered shell (a title, an empty app <div>): the pages still answer 200, and
extract to a title only. `dipdiff run` warns once that the source's extraction is broken, and
`dipdiff sources` shows it with each source's last success, last failure and its reason.
"""

from __future__ import annotations

import json
from pathlib import Path

from dipdiff.pipeline.demo import page_bytes
from dipdiff.pipeline.server import Response
from helpers import Cli, monitoring_folder

LIBYA = "/state/the-situation-in-libya/"
WORDS = "The Press Secretary said the United States welcomes the talks and urges all parties "


def white_house_page(n: int, redesigned: bool) -> bytes:
    title = f"Statement on the talks, part {n}"
    if redesigned:  # the new site renders its text with a script: the selector finds nothing
        body = '<div id="app" data-page="statement"></div><script>render()</script>'
    else:
        body = f'<div class="entry-content"><p>{WORDS * 3}{n}.</p></div>'
    head = f"<html><head><title>{title}</title></head>"
    return f"{head}<body><h1>{title}</h1>{body}</body></html>".encode()


def publish(server, listing: str, pages: dict[str, bytes]) -> None:
    items = "".join(f'<li><a href="{p}">{p}</a></li>' for p in pages)
    server.set(listing, Response(f"<html><body><ul>{items}</ul></body></html>".encode()))
    for path, body in pages.items():
        server.set(path, Response(body))


def white_house(server, redesigned: bool, count: int = 3) -> None:
    pages = {f"/wh/statement-{n}/": white_house_page(n, redesigned) for n in range(1, count + 1)}
    publish(server, "/wh/", pages)


def test_a_redesigned_source_is_reported_once_and_shown_by_sources(tmp_path: Path, server):
    folder = monitoring_folder(
        tmp_path,
        "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\ntimeout = 2\n"
        f'[sources.state-dept]\nkind = "listing"\nurl = "{server.url("/state/")}"\n'
        'selector = "li"\nlink = "a"\n'
        f'[sources.white-house]\nkind = "listing"\nurl = "{server.url("/wh/")}"\n'
        'selector = "li"\nlink = "a"\n'
        '[sources.white-house.extract]\ntitle = ["h1"]\nbody = ["div.entry-content"]\n',
    )
    cli = Cli(folder / "snapshots")
    config = str(folder / "dipdiff.toml")

    def run(when: str):
        return cli("run", "--config", config, env={"DIPDIFF_NOW": when})

    def sources(when: str) -> str:
        r = cli("sources", "--config", config, env={"DIPDIFF_NOW": when, "COLUMNS": "200"})
        assert r.exit_code == 0, r.output
        return r.output

    publish(server, "/state/", {LIBYA: page_bytes("state-libya.day1.html")})
    white_house(server, redesigned=False)
    r = run("2019-04-20T09:00:00Z")
    assert r.exit_code == 1, r.output
    assert "extraction" not in r.stderr
    shown = sources("2019-04-20T10:00:00Z")
    assert "white-house: 3 statements · last success 2019-04-20T09:00:00Z · no failure" in shown
    assert "1 check(s) in the last day · extraction ok" in shown

    white_house(server, redesigned=True, count=4)  # the redesign, and a new statement in it
    r = run("2019-04-21T09:00:00Z")
    assert r.exit_code == 0, r.output
    warnings = [ln for ln in r.stderr.splitlines() if "extraction broken" in ln]
    assert warnings == [
        (
            "2019-04-21T09:00:00Z dipdiff: warning: source white-house: extraction broken: the "
            "last 4 pages extracted to no body (has the site changed? try `dipdiff sources "
            "check white-house`)"
        )
    ]

    server.set("/state/", Response(b"down", 500))  # and the State Department's listing fails
    r = run("2019-04-21T12:00:00Z")
    assert r.exit_code == 2, r.output
    assert "extraction broken" not in r.stderr  # reported once, not on every run

    shown = sources("2019-04-21T13:00:00Z")
    assert "white-house: 3 statements · last success 2019-04-20T09:00:00Z" in shown
    assert "last failure 2019-04-21T12:00:00Z: no statement text found on the page" in shown
    assert "extraction BROKEN: the last 8 pages had no body" in shown
    # Its listing failed, and its known statement was still re-checked, fine: both are shown.
    assert "state-dept: 1 statement · last success 2019-04-21T12:00:00Z · last failure " in shown
    assert "/state/: HTTP 500 Internal Server Error · 2 check(s) in the last day" in shown

    r = cli("sources", "--config", config, "--json", env={"DIPDIFF_NOW": "2019-04-21T13:00:00Z"})
    rows = {row["name"]: row for row in json.loads(r.output) if row["where"] == "config"}
    assert rows["white-house"]["health"]["extraction_broken"] is True
    assert rows["state-dept"]["health"]["extraction_broken"] is False
    assert rows["state-dept"]["health"]["statements"] == 1
