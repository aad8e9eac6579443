"""One recorder: `snapshot`, `import` and `fetch` record a page by the same rules.

Each scenario is played three ways through the real CLI, with the clock pinned per run: a
page fetched with `snapshot` from a local server, the same pages saved and `import`ed with
their capture times, and a listing source checked with `fetch`. The three stores must tell
the same story: the same outcomes, notes and versions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dipdiff.errors import StoreError
from dipdiff.models import Outcome
from dipdiff.pipeline.demo import page_bytes
from dipdiff.pipeline.server import Response
from dipdiff.store.store import Store
from dipdiff.store.verify import verify

LIBYA = "/state/the-situation-in-libya/"
A = page_bytes("state-libya.day1.html")
B = page_bytes("state-libya.day2.html")
TIMES = [
    "2019-04-20T09:00:00Z",
    "2019-04-20T10:00:00Z",
    "2019-04-20T11:00:00Z",
    "2019-04-24T11:00:00Z",
]


def _config(tmp_path: Path, server) -> Path:
    listing = f'<html><body><ul><li><a href="{LIBYA}">Libya</a></li></ul></body></html>'.encode()
    server.set("/state/", Response(listing))
    path = tmp_path / "dipdiff.toml"
    path.write_text(
        "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\n"
        "[schedule]\nmin_interval = 0\nmax_interval = 0\n"
        f'[sources.state-dept]\nkind = "listing"\nurl = "{server.url("/state/")}"\n'
        'selector = "li"\nlink = "a"\n',
        encoding="utf-8",
    )
    return path


def play(how: str, pages: list[bytes], cli, server, tmp_path: Path, first: int = 0) -> list[dict]:
    """Record ``pages`` in turn (at TIMES from ``first`` on) with one command; the checks."""
    url = server.url(LIBYA)
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = _config(tmp_path, server) if how == "fetch" else None
    for n, (page, when) in enumerate(zip(pages, TIMES[first:], strict=False), first):
        server.set(LIBYA, Response(page))
        if how == "snapshot":
            r = cli("snapshot", url, "--source", "state-dept", env={"DIPDIFF_NOW": when})
        elif how == "import":
            saved = tmp_path / f"capture-{n}.html"
            saved.write_bytes(page)
            r = cli(
                "import", str(saved), "--url", url, "--source", "state-dept", "--fetched-at", when
            )
        else:
            r = cli("fetch", "--config", str(config), env={"DIPDIFF_NOW": when})
        assert r.exit_code in (0, 1), r.output
    (sid,) = Store(cli.store).statement_ids()
    log = cli("log", sid, "--checks", "--json")
    assert log.exit_code == 0, log.output
    doc = json.loads(log.stdout)
    assert verify(Store(cli.store)) == []
    return [
        {
            "outcome": c["outcome"],
            "version": c.get("version"),
            "note": c.get("note", ""),
            "versions": len(doc["versions"]),
        }
        for c in doc["checks"]
    ]


HOW = ("snapshot", "import", "fetch")


def story(checks: list[dict]) -> list[tuple[str, str]]:
    """What a reader of the check history learns: each outcome and what its note says."""
    words = ("restored to the text of @1", "only in case", "change")
    return [(c["outcome"], next((w for w in words if w in c["note"]), "")) for c in checks]


def test_a_restore_is_recorded_alike_by_snapshot_import_and_fetch(cli, server, tmp_path):
    # A, B, back to A an hour later (a deletion reversed), then A four days later.
    stories = {}
    for how in HOW:
        cli.store = tmp_path / how / "snapshots"
        checks = play(how, [A, B, A, A], cli, server, tmp_path / how)
        stories[how] = story(checks)
        # The return to A is stored again, as the latest version: the page's text is A.
        assert checks[-1]["versions"] == 3, (how, checks)
        assert checks[-1]["version"] == 3, (how, checks)
    assert (
        stories["snapshot"]
        == stories["import"]
        == stories["fetch"]
        == [
            ("new", ""),
            ("changed", "change"),
            ("restored", "restored to the text of @1"),
            ("unchanged", ""),
        ]
    ), stories


def test_a_title_changed_only_in_case_is_no_version_whichever_command(cli, server, tmp_path):
    lowered = A.replace(b"The Situation in Libya", b"The situation in Libya")
    assert lowered != A
    stories = {}
    for how in HOW:
        cli.store = tmp_path / how / "snapshots"
        checks = play(how, [A, lowered], cli, server, tmp_path / how)
        stories[how] = story(checks)
        assert checks[-1]["versions"] == 1, (how, checks)
    assert (
        stories["snapshot"]
        == stories["import"]
        == stories["fetch"]
        == [("new", ""), ("unchanged", "only in case")]
    ), stories


def test_every_stored_change_names_the_version_it_was_compared_with(cli, server, tmp_path):
    for how in HOW:
        cli.store = tmp_path / how / "snapshots"
        play(how, [A, B], cli, server, tmp_path / how)
        store = Store(cli.store)
        (sid,) = store.statement_ids()
        v1, v2 = store.versions(sid)
        stored = [c for c in store.meta(sid).checks if c["outcome"] == "changed"]
        assert [(c["sha256"], c["base_sha256"]) for c in stored] == [(v2.sha256, v1.sha256)], how


@pytest.mark.parametrize("how", ["snapshot", "fetch"])
def test_a_check_that_cannot_be_written_undoes_its_version(how, cli, server, tmp_path, monkeypatch):
    """The version of a change whose check fails to write is undone, so the next run reports it."""
    cli.store = tmp_path / "snapshots"
    play(how, [A], cli, server, tmp_path)
    real = Store.record_check

    def disk_full_for_changes(self, sid, check, meta=None):
        if check.outcome is Outcome.CHANGED:
            raise StoreError(
                str(self.root / sid / "meta.json"), "cannot write: No space left on device"
            )
        return real(self, sid, check, meta)

    monkeypatch.setattr(Store, "record_check", disk_full_for_changes)
    server.set(LIBYA, Response(B))
    if how == "snapshot":
        r = cli(
            "snapshot", server.url(LIBYA), "--source", "state-dept", env={"DIPDIFF_NOW": TIMES[1]}
        )
        assert (
            r.exit_code == 2
            and "No space left on device" in r.stderr
            and len(r.stderr.splitlines()) == 1
        )
    else:
        r = cli(
            "fetch",
            "--config",
            str(tmp_path / "dipdiff.toml"),
            "--json",
            env={"DIPDIFF_NOW": TIMES[1]},
        )
        (result,) = json.loads(r.stdout)["results"]
        assert (
            result["outcome"] == "unavailable" and "No space left on device" in result["message"]
        ), r.output
    store = Store(cli.store)
    (sid,) = store.statement_ids()
    assert len(store.versions(sid)) == 1 and verify(store) == []  # no version without its check

    monkeypatch.setattr(Store, "record_check", real)
    checks = play(how, [B], cli, server, tmp_path, first=2)
    assert checks[-1]["outcome"] == "changed" and checks[-1]["versions"] == 2
