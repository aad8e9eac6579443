"""Notifications through Apprise: each target receives exactly what its rules let through.

`dipdiff run --commit` day by day (clock pinned per run) in a real git repository, against a
local server that serves the demo's State Department and White House pages and records every
POST. The targets are Apprise `json://` URLs on 127.0.0.1 (Apprise's JSON plugin POSTs
`{"title", "message", ...}`), so what arrives is what a Slack or Matrix user would read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dipdiff.pipeline.demo import page_bytes
from dipdiff.pipeline.server import Response
from helpers import Cli, git, monitoring_folder
from routes import dripped

LIBYA = "/state/the-situation-in-libya/"
READOUT = "/state/secretary-pompeos-call-with-un-special-representative-salame/"
HAFTAR = "/wh/statement-from-the-press-secretary-libya/"


def config(server, targets: str, site: str = "") -> str:
    return (
        (f'[site]\nbase_url = "{site}"\n' if site else "")
        + "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\ntimeout = 2\n"
        f'[sources.state-dept]\nkind = "listing"\nurl = "{server.url("/state/")}"\n'
        'agency = "U.S. Department of State"\nselector = "li"\nlink = "a"\n'
        f'[sources.white-house]\nkind = "listing"\nurl = "{server.url("/wh/")}"\n'
        'agency = "The White House"\nselector = "li"\nlink = "a"\n'
        '[reports]\nbase_url = "https://github.com/desk/watch/blob/main/reports"\n' + targets
    )


def target(server, name: str, rules: str = "") -> str:
    # Apprise's json:// plugin POSTs to the path given; the local server records it.
    url = server.url(f"/{name}").replace("http://", "json://")
    return f'[notify.targets.{name}]\nurl = "{url}"\n{rules}\n'


def publish(server, listing: str, *pages: tuple[str, bytes]) -> None:
    items = "".join(f'<li><a href="{p}">{p}</a></li>' for p, _ in pages)
    server.set(listing, Response(f"<html><body><ul>{items}</ul></body></html>".encode()))
    for path, body in pages:
        server.set(path, Response(body))


def run(folder: Path, when: str, *extra: str):
    return Cli(folder / "snapshots")(
        "run",
        "--config",
        str(folder / "dipdiff.toml"),
        "--commit",
        *extra,
        env={"DIPDIFF_NOW": when},
    )


def received(server, name: str) -> list[dict]:
    return [json.loads(body) for path, body in server.posted if path == f"/{name}"]


def outbox(folder: Path) -> list[Path]:
    return sorted((folder / "snapshots" / ".outbox").glob("*.json"))


@pytest.fixture
def endpoints(server):
    names = ("everything", "substantive", "wh-new", "wh-agency", "flaky", "daily", "restores")
    for name in (*names, "edits"):
        server.set(f"/{name}", Response(b"ok"))
    return server


def day1(server) -> None:
    publish(server, "/state/", (LIBYA, page_bytes("state-libya.day1.html")))
    publish(server, "/wh/", (HAFTAR, page_bytes("whitehouse-haftar.day1.html")))


def day2(server) -> None:
    publish(
        server,
        "/state/",
        (LIBYA, page_bytes("state-libya.day2.html")),
        (READOUT, page_bytes("state-readout.day2.html")),
    )
    # The White House page changes only its apostrophes: no edit, nothing to tell.
    publish(server, "/wh/", (HAFTAR, page_bytes("whitehouse-haftar.day2.html")))


def test_each_target_gets_what_its_rules_allow_over_several_runs(tmp_path, endpoints):
    server = endpoints
    folder = monitoring_folder(
        tmp_path,
        config(
            server,
            target(server, "everything", 'min_significance = "cosmetic"')
            + target(server, "substantive", 'min_significance = "substantive"\nkinds = ["edits"]')
            + target(server, "wh-new", 'sources = ["white-house"]\nkinds = ["new"]')
            # By the agency's name, as statements carry it: the State Department's edit is not
            # the White House's business, whatever source recorded it.
            + target(
                server, "wh-agency", 'agencies = ["The White House"]\nkinds = ["new", "edits"]'
            ),
        ),
    )
    day1(server)
    r = run(folder, "2019-04-20T09:00:00Z")
    assert r.exit_code == 1, r.output
    (first,) = received(server, "everything")
    assert first["title"] == "dipdiff run 2019-04-20T09:00:00Z: 2 new, 1 divergent"
    assert "Divergent: U.S. Department of State ↔ The White House" in first["message"]
    assert "New: The Situation in Libya" in first["message"]
    assert "U.S. Department of State · state-dept/the-situation-in-libya" in first["message"]
    assert received(server, "substantive") == []  # no edit yet
    (wh,) = received(server, "wh-new")
    assert wh["title"] == "New: Statement from the Press Secretary (The White House)"
    assert "state-dept" not in wh["message"]
    (agency,) = received(server, "wh-agency")
    assert agency["title"] == wh["title"]

    server.posted.clear()
    day2(server)
    r = run(folder, "2019-04-21T09:00:00Z")
    assert r.exit_code == 1, r.output
    (edit,) = received(server, "substantive")
    assert edit["title"] == "Changed: The Situation in Libya (U.S. Department of State)"
    body = edit["message"]
    assert "version 1 → 2 · 5 changes: 4 substantive, 1 minor" in body
    assert "flags: entity, signal" in body
    # The changed sentences, as a redline; the minor one (offer → offers) is below the rule.
    assert "[-urge the immediate-]{+call for a+} halt" in body
    assert "offers" not in body
    assert (
        "report: https://github.com/desk/watch/blob/main/reports/2019-04-21.md"
        "#the-situation-in-libya" in body
    )
    (both,) = received(server, "everything")
    assert both["title"] == "dipdiff run 2019-04-21T09:00:00Z: 1 changed, 1 new, 1 divergent"
    assert "[-offer-]{+offers+}" in both["message"]  # this target takes minor changes too
    assert received(server, "wh-new") == []  # the White House page did not change
    assert received(server, "wh-agency") == []  # the edit is the State Department's

    server.posted.clear()
    r = run(folder, "2019-04-21T15:00:00Z")  # nothing changed: nothing is sent, to anyone
    assert r.exit_code == 0, r.output
    assert server.posted == []
    assert outbox(folder) == []


def test_a_failed_delivery_waits_in_the_outbox_and_is_sent_by_the_next_run(tmp_path, endpoints):
    server = endpoints
    folder = monitoring_folder(tmp_path, config(server, target(server, "flaky")))
    server.set("/flaky", Response(b"down", 503))
    day1(server)
    r = run(folder, "2019-04-20T09:00:00Z")
    assert r.exit_code == 2, r.output
    assert "notify target 'flaky' not reached" in r.stderr
    assert "1 message(s) kept in" in r.stderr
    (kept,) = outbox(folder)
    doc = json.loads(kept.read_text(encoding="utf-8"))
    assert doc["target"] == "flaky" and doc["attempts"] == 1
    assert server.url("/flaky").split("//")[1] not in kept.read_text(encoding="utf-8")
    assert git(folder, "ls-files", "snapshots/.outbox").split() == [
        f"snapshots/.outbox/{kept.name}"
    ]
    assert len(received(server, "flaky")) == 1  # tried once

    server.set("/flaky", Response(b"ok"))
    server.posted.clear()
    r = run(folder, "2019-04-20T15:00:00Z")  # nothing new: only the kept message goes
    assert r.exit_code == 0, r.output
    (late,) = received(server, "flaky")
    assert late["title"] == "dipdiff run 2019-04-20T09:00:00Z: 2 new, 1 divergent"
    assert outbox(folder) == []
    assert git(folder, "status", "--porcelain", "snapshots") == ""


def test_a_daily_digest_gathers_the_days_runs_and_is_sent_once_after_the_day(tmp_path, endpoints):
    server = endpoints
    folder = monitoring_folder(
        tmp_path, config(server, target(server, "daily", 'digest = "daily"'))
    )
    day1(server)
    assert run(folder, "2019-04-20T09:00:00Z").exit_code == 1
    day2(server)  # the same day, later: the edit and the readout
    assert run(folder, "2019-04-20T18:00:00Z").exit_code == 1
    assert received(server, "daily") == []  # the day is not over
    (gathering,) = outbox(folder)
    # Both runs found the divergence: gathered twice, told once.
    assert len(json.loads(gathering.read_text(encoding="utf-8"))["payload"]["items"]) == 6

    r = run(folder, "2019-04-21T09:00:00Z")  # the first run of the next day sends it
    assert r.exit_code == 0, r.output
    (digest,) = received(server, "daily")
    assert digest["title"] == "dipdiff digest of 2019-04-20: 1 changed, 3 new, 1 divergent"
    assert digest["message"].count("Divergent: ") == 1
    assert digest["message"].count("New: ") == 3
    assert "[-urge the immediate-]{+call for a+} halt" in digest["message"]
    assert outbox(folder) == []
    server.posted.clear()
    assert run(folder, "2019-04-21T15:00:00Z").exit_code == 0
    assert received(server, "daily") == []  # sent once


def test_notify_test_sends_a_sample_to_every_target(tmp_path, endpoints):
    server = endpoints
    folder = monitoring_folder(
        tmp_path, config(server, target(server, "everything") + target(server, "flaky"))
    )
    server.set("/flaky", Response(b"down", 500))
    r = Cli(folder / "snapshots")("notify", "--config", str(folder / "dipdiff.toml"), "--test")
    assert r.exit_code == 2, r.output
    (sample,) = received(server, "everything")
    assert sample["title"] == "[test] Changed: The Situation in Libya (U.S. Department of State)"
    assert "{+call for a+}" in sample["message"]
    assert "everything" in r.output and "sample sent" in r.output
    assert "flaky" in r.output and "sample NOT sent" in r.output


def test_a_target_apprise_does_not_know_is_a_config_error_before_fetching(tmp_path, server):
    folder = monitoring_folder(
        tmp_path,
        config(server, '[notify.targets.chat]\nurl = "nosuchservice://token"\n'),
    )
    r = run(folder, "2019-04-20T09:00:00Z")
    assert r.exit_code == 2
    assert r.stderr.strip() == (
        f"dipdiff: error: {folder / 'dipdiff.toml'}: [notify.targets.chat]: Apprise does not "
        "know the URL 'nosuchservice://…'"
    )
    assert not (folder / "snapshots").exists()  # nothing fetched, nothing recorded


def test_a_plain_https_target_is_the_built_in_webhook_and_gets_the_items(tmp_path, endpoints):
    server = endpoints
    folder = monitoring_folder(
        tmp_path,
        config(server, f'[notify.targets.hook]\nurl = "{server.url("/everything")}"\n'),
    )
    day1(server)
    assert run(folder, "2019-04-20T09:00:00Z").exit_code == 1
    (doc,) = received(server, "everything")
    assert doc["event"] == "dipdiff.notify" and doc["period"] == "2019-04-20T09:00:00Z"
    assert sorted(it["id"] for it in doc["items"] if it["kind"] == "new") == [
        "state-dept/the-situation-in-libya",
        "white-house/statement-from-the-press-secretary-libya",
    ]
    assert doc["title"] == "dipdiff run 2019-04-20T09:00:00Z: 2 new, 1 divergent"


SITE = "https://desk.example/archive/"


def test_a_restore_goes_to_the_targets_that_take_restores_linked_to_the_sites_pages(
    tmp_path, endpoints
):
    server = endpoints
    folder = monitoring_folder(
        tmp_path,
        config(
            server,
            target(server, "restores", 'kinds = ["restores"]')
            + target(server, "edits", 'kinds = ["edits", "new", "divergences"]'),
            site=SITE,
        ),
    )
    site = tmp_path / "_site"
    day1(server)
    assert run(folder, "2019-04-20T09:00:00Z", "--site", str(site)).exit_code == 1
    (first,) = received(server, "edits")
    # With the site's address known, each item links to its page on the site, which the run
    # has just built: the version first seen, the event page of the divergence.
    libya = "state-dept/the-situation-in-libya"
    assert f"site: {SITE}{libya}/v/1/" in first["message"], first["message"]
    (event_page,) = [
        line.split("site: ")[1] for line in first["message"].splitlines() if "/_events/" in line
    ]
    assert (site / event_page.removeprefix(SITE) / "index.html").is_file()
    assert received(server, "restores") == []

    server.posted.clear()
    day2(server)
    assert run(folder, "2019-04-21T09:00:00Z", "--site", str(site)).exit_code == 1
    (edit,) = received(server, "edits")
    assert f"site: {SITE}{libya}/diff/1..2/" in edit["message"], edit["message"]
    assert (site / libya / "diff" / "1..2" / "index.html").is_file()
    assert received(server, "restores") == []

    server.posted.clear()
    publish(  # the State Department puts the first text back
        server,
        "/state/",
        (LIBYA, page_bytes("state-libya.day1.html")),
        (READOUT, page_bytes("state-readout.day2.html")),
    )
    r = run(folder, "2019-04-22T09:00:00Z", "--site", str(site))
    assert r.exit_code == 1, r.output
    (restore,) = received(server, "restores")
    assert restore["title"] == "Restored: The Situation in Libya (U.S. Department of State)"
    body = restore["message"]
    assert "version 2 → 3 (the text of version 1)" in body, body
    assert "[-call for a-]{+urge the immediate+} halt" in body, body
    assert f"site: {SITE}{libya}/diff/2..3/" in body, body
    assert (site / libya / "diff" / "2..3" / "index.html").is_file()
    # A restore is not an edit: that target is told only of the divergence the old text has.
    (again,) = received(server, "edits")
    assert again["title"].startswith("Divergent: "), again["title"]
    assert "Restored" not in again["message"] and "Changed" not in again["message"]


def test_a_slow_apprise_target_is_one_deadline_for_the_whole_exchange(tmp_path, endpoints):
    server = endpoints
    folder = monitoring_folder(tmp_path, config(server, target(server, "flaky")))
    # The answer comes a byte every 0.3 s: each read gets something, so no read timeout trips;
    # only a deadline for the whole exchange ends it (timeout = 2 in the config).
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    server.set("/flaky", dripped(answer, 1, 0.3))
    day1(server)
    r = run(folder, "2019-04-20T09:00:00Z")
    assert r.exit_code == 2, r.output
    # Cut at the deadline (2 s, and Apprise's 0.1 s of grace), not after the 12 s of the drip.
    assert re.search(r"notify target 'flaky' not reached \(Service 'JSON' did not finish "
                     r"within 2\.1\d*s\.\)", r.stderr), r.stderr  # fmt: skip
    assert len(outbox(folder)) == 1  # kept for the next run


def test_a_target_by_tag_gets_the_urls_of_the_apprise_config_file_that_carry_it(
    tmp_path, endpoints
):
    server = endpoints
    json_url = server.url("/{}").replace("http://", "json://")
    (tmp_path / "apprise.yml").write_text(
        "urls:\n"
        f"  - {json_url.format('daily')}:\n      tag: desk\n"
        f"  - {json_url.format('wh-new')}:\n      tag: desk\n"
        f"  - {json_url.format('flaky')}:\n      tag: other\n",
        encoding="utf-8",
    )
    folder = monitoring_folder(
        tmp_path,
        config(server, '[notify]\nconfig = "apprise.yml"\n[notify.targets.desk]\ntag = "desk"\n'),
    )
    day1(server)
    assert run(folder, "2019-04-20T09:00:00Z").exit_code == 1
    (one,) = received(server, "daily")
    (two,) = received(server, "wh-new")
    assert one["title"] == two["title"] == "dipdiff run 2019-04-20T09:00:00Z: 2 new, 1 divergent"
    assert received(server, "flaky") == []  # tagged "other": not this target's
