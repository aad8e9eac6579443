"""A failed webhook delivery is kept and sent by the next run, not lost.

`dipdiff run --commit --webhook URL` day by day in a real git repository, against a real local
server whose webhook endpoint fails, drips and recovers. The summary a webhook missed waits in
`snapshots/.outbox/` (committed with the store, so that a CI runner's next clone has it), and the
run that missed it still exits 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dipdiff.pipeline.demo import page_bytes
from dipdiff.pipeline.server import Response
from faultkit import FIGURES
from helpers import Cli, git, monitoring_folder
from routes import dripped

LIBYA = "/state/the-situation-in-libya/"
READOUT = "/state/secretary-pompeos-call-with-un-special-representative-salame/"


@pytest.fixture
def folder(tmp_path: Path, server) -> Path:
    return monitoring_folder(
        tmp_path,
        "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\ntimeout = 0.5\n"
        f'[sources.state-dept]\nkind = "listing"\nurl = "{server.url("/state/")}"\n'
        'agency = "U.S. Department of State"\nselector = "li"\nlink = "a"\n',
    )


def publish(server, *pages: tuple[str, bytes]) -> None:
    items = "".join(f'<li><a href="{p}">{p}</a></li>' for p, _ in pages)
    server.set("/state/", Response(f"<html><body><ul>{items}</ul></body></html>".encode()))
    for path, body in pages:
        server.set(path, Response(body))


def run(folder: Path, server, when: str):
    return Cli(folder / "snapshots")(
        "run",
        "--config",
        str(folder / "dipdiff.toml"),
        "--commit",
        "--webhook",
        server.url("/hook"),
        env={"DIPDIFF_NOW": when},
    )


def outbox(folder: Path) -> list[Path]:
    return sorted((folder / "snapshots" / ".outbox").glob("*.json"))


def committed_outbox(folder: Path) -> list[str]:
    return git(folder, "ls-files", "snapshots/.outbox").split()


def posted_runs(server) -> list[str]:
    return [json.loads(body)["run"] for path, body in server.posted if path == "/hook"]


def test_a_missed_summary_waits_in_the_outbox_and_arrives_with_the_next_run(folder, server):
    publish(server, (LIBYA, page_bytes("state-libya.day1.html")))
    server.set("/hook", Response(b"down", 503))
    r = run(folder, server, "2019-04-20T09:00:00Z")
    assert r.exit_code == 2, r.output  # the change was found and committed, but not told
    hook = server.url("/hook")
    assert r.stderr.strip().splitlines()[-1] == (
        f"dipdiff: error: {hook}: webhook answered HTTP 503 Service Unavailable; 1 summary(ies) "
        f"kept in {folder / 'snapshots' / '.outbox'} for the next run"
    )
    (kept,) = outbox(folder)
    doc = json.loads(kept.read_text(encoding="utf-8"))
    assert doc["payload"]["run"] == "2019-04-20T09:00:00Z" and doc["attempts"] == 1
    assert doc["payload"]["counts"]["new"] == 1
    assert committed_outbox(folder) == [f"snapshots/.outbox/{kept.name}"]  # a CI clone has it
    assert hook not in kept.read_text(encoding="utf-8")  # a webhook URL is a secret: never kept
    assert git(folder, "status", "--porcelain", "snapshots") == ""

    # Still down the next day, with a new change: one request, both summaries kept, in order.
    publish(
        server,
        (LIBYA, page_bytes("state-libya.day1.html")),
        (READOUT, page_bytes("state-readout.day2.html")),
    )
    server.posted.clear()
    r = run(folder, server, "2019-04-21T09:00:00Z")
    assert r.exit_code == 2, r.output
    assert len(server.posted) == 1  # an endpoint that is down costs one request per run
    assert "2 summary(ies) kept" in r.stderr
    kept = outbox(folder)
    assert [json.loads(p.read_text(encoding="utf-8"))["attempts"] for p in kept] == [2, 1]

    # The webhook is back; nothing new today: the two kept summaries arrive, oldest first.
    server.set("/hook", Response(b"", 204))
    server.posted.clear()
    r = run(folder, server, "2019-04-21T15:00:00Z")
    assert r.exit_code == 0, r.output
    assert posted_runs(server) == ["2019-04-20T09:00:00Z", "2019-04-21T09:00:00Z"]
    assert outbox(folder) == [] and committed_outbox(folder) == []  # the removal is committed
    assert git(folder, "status", "--porcelain", "snapshots") == ""
    FIGURES["fault scenarios"] += 1


def test_a_slow_webhook_is_one_deadline_and_its_summary_is_kept(folder, server):
    publish(server, (LIBYA, page_bytes("state-libya.day1.html")))
    server.set("/hook", dripped(b"HTTP/1.1 204 No Content\r\n\r\n", 1, 0.2))
    r = run(folder, server, "2019-04-20T09:00:00Z")
    assert r.exit_code == 2, r.output
    assert "webhook timed out (no complete answer after 0.5 s)" in r.stderr
    assert len(outbox(folder)) == 1
    server.set("/hook", Response(b"", 204))
    server.posted.clear()
    assert run(folder, server, "2019-04-20T15:00:00Z").exit_code == 0
    assert posted_runs(server) == ["2019-04-20T09:00:00Z"]
    FIGURES["fault scenarios"] += 1


def test_a_damaged_outbox_file_is_named_and_the_others_are_delivered(folder, server):
    publish(server, (LIBYA, page_bytes("state-libya.day1.html")))
    server.set("/hook", Response(b"", 500))
    assert run(folder, server, "2019-04-20T09:00:00Z").exit_code == 2
    damaged = folder / "snapshots" / ".outbox" / "0000-damaged.json"
    damaged.write_text('{"payload": {"run": "x"', encoding="utf-8")
    server.set("/hook", Response(b"", 204))
    server.posted.clear()
    r = run(folder, server, "2019-04-20T15:00:00Z")
    assert posted_runs(server) == ["2019-04-20T09:00:00Z"]
    assert f"{damaged}: corrupt undelivered webhook summary (JSONDecodeError)" in r.stderr
    assert outbox(folder) == [damaged]  # left for a person to look at
    v = Cli(folder / "snapshots")("verify")
    assert v.exit_code == 2 and str(damaged) in v.output, v.output
    FIGURES["fault scenarios"] += 1
