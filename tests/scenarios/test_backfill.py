"""``dipdiff backfill`` against a local Wayback Machine serving real saved pages (tests/archive.py).

The backfilled history must be the one live fetching would have recorded: the same pages served
live at the captures' times (``DIPDIFF_NOW``) and recorded by ``dipdiff snapshot`` give the same
versions, texts, times and events, only without the archive's provenance.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archive import ArchiveServer, Row
from dipdiff.store.store import Store
from helpers import README, Cli, corpus_file

FEMA_A = "edgi-web-monitoring-diff/versions/f2d5d701-707a-42e0-8881-653346d01e0a.html"
FEMA_B = "edgi-web-monitoring-diff/versions/fc74d750-c651-46b7-bf74-434ad8c62e04.html"
DOI_A = "edgi-web-monitoring-processing/archives-2017/falsepos-footer-a.html"
DOI_B = "edgi-web-monitoring-processing/archives-2017/falsepos-footer-b.html"
CHALLENGE = (
    b"<html><head><title>Just a moment...</title></head><body><p>Checking your browser before "
    b"accessing the site. This process is automatic; your browser will redirect shortly."
    b"</p></body></html>"
)
CONFIG = """
[dipdiff]
allow_private = true
delay = 0
retries = 1
backoff = 0
[backfill]
archive = "{archive}"
cdx_delay = 0
memento_delay = 0
"""


def iso(stamp: str) -> str:
    return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[8:10]}:{stamp[10:12]}:{stamp[12:]}Z"


@pytest.fixture
def arc() -> Iterator[ArchiveServer]:
    with ArchiveServer(page_size=2) as a:
        yield a


@pytest.fixture
def config(tmp_path: Path, arc: ArchiveServer) -> Path:
    path = tmp_path / "dipdiff.toml"
    path.write_text(CONFIG.format(archive=arc.url), encoding="utf-8")
    return path


def maria(arc: ArchiveServer) -> tuple[str, list[tuple[str, bytes]]]:
    """FEMA's Hurricane Maria page in the archive, with its real edit of 5 October 2017, and the
    captures live fetching would have seen at those times (what the backfill must record)."""
    a, b = corpus_file(FEMA_A).read_bytes(), corpus_file(FEMA_B).read_bytes()
    url = arc.page("/live/maria")
    rotated = b.replace(b"</body>", b"<!-- token 8f3a2c --></body>", 1)
    rows = [
        Row("20171003120000", url, a),
        Row("20171003180000", url, a),  # same digest, next to it: collapsed by the archive
        Row(
            "20171004000000",
            url,
            status="-",
            mimetype="warc/revisit",
            digest=Row("", "", a).fields()[5],
        ),
        Row("20171005120000", url, b),
        Row("20171005120000", url, b),  # in the index twice, across a page boundary
        Row("20171006000000", url, CHALLENGE),  # a challenge page, captured with HTTP 200
        Row("20171007000000", url, rotated),  # new bytes, the same statement
        Row("20171008000000", url, a, redirect="20180101000000"),  # -> outside the window
        Row("20180101000000", url, a),
    ]
    for r in rows:
        arc.add(r)
    seen = [
        (r.timestamp, r.body)
        for r in rows
        if r.timestamp in ("20171003120000", "20171005120000", "20171006000000", "20171007000000")
    ]
    return url, list(dict(seen).items())


def history(store: Path) -> dict[str, Any]:
    """What a store recorded, statement by statement, without where it came from."""
    s = Store(store)
    out: dict[str, Any] = {}
    for sid in s.statement_ids():
        versions = [
            (r.number, r.fetched_at, r.sha256, s.read_version(sid, r.number).statement)
            for r in s.versions(sid)
        ]
        checks = [
            {k: v for k, v in c.items() if k not in ("archive", "memento", "after", "run")}
            for c in s.meta(sid).checks
        ]
        out[sid] = {"versions": versions, "checks": checks}
    return out


def files(store: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(store)): p.read_bytes()
        for p in sorted(store.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def test_backfill_records_what_live_fetching_would_have(
    arc: ArchiveServer, config: Path, cli: Cli, tmp_path: Path
) -> None:
    url, live = maria(arc)
    r = cli("backfill", url, "--to", "2017-12-31", "--config", str(config), "--json")
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    item = doc["statements"][0]
    # 5 distinct captures in the window; the revisit and the collapsed row never listed.
    assert (item["found"], item["fetched"], item["stored"]) == (5, 5, 2), doc
    assert (item["blocked"], item["skipped"]) == (1, 1), doc
    assert item["duplicates"] == 2, doc  # the row listed twice, the rotated token's capture
    assert [v["outcome"] for v in item["versions"]] == ["new", "changed"]
    assert [v["time"] for v in item["versions"]] == [iso("20171003120000"), iso("20171005120000")]

    live_store = tmp_path / "live"
    live_cli = Cli(live_store)
    said = []
    for stamp, body in live:
        arc.live["/live/maria"] = body
        r = live_cli("snapshot", url, env={"DIPDIFF_NOW": iso(stamp)})
        said.append((r.exit_code, r.output.split(" ", 1)[0], r.output))
    # What a user saw live, capture by capture: a blocked page is a state that goes on (0).
    assert [(code, word) for code, word, _ in said] == [
        (1, "new"),
        (1, "changed"),
        (0, "blocked"),
        (0, "unchanged"),  # the rotated token: new bytes, the same statement
    ], said
    assert history(cli.store) == history(live_store)

    # Every version and check says where it came from.
    sid = item["id"]
    refs = Store(cli.store).versions(sid)
    assert [r.provenance.origin if r.provenance else None for r in refs] == ["wayback"] * 2
    assert refs[1].provenance is not None
    assert refs[1].provenance.memento == f"{arc.url}/web/20171005120000id_/{url}"
    assert refs[1].provenance.captured_at == "20171005120000"
    checks = Store(cli.store).meta(sid).checks
    assert all(c["archive"] == "wayback" for c in checks), checks
    assert not any(r.provenance for r in Store(live_store).versions(sid))


def test_backfill_twice_adds_nothing(arc: ArchiveServer, config: Path, cli: Cli) -> None:
    url, _ = maria(arc)
    r = cli("backfill", url, "--to", "2017-12-31", "--config", str(config))
    assert r.exit_code == 1, r.output
    before = files(cli.store)
    mementos = arc.hits("/web/")
    r = cli("backfill", url, "--to", "2017-12-31", "--config", str(config))
    assert r.exit_code == 0, r.output
    assert arc.hits("/web/") == mementos  # nothing fetched again
    after = files(cli.store)
    assert {k: v for k, v in after.items() if not k.startswith(".backfill")} == {
        k: v for k, v in before.items() if not k.startswith(".backfill")
    }


def test_text_not_digest_decides(arc: ArchiveServer, config: Path, cli: Cli) -> None:
    """Two captures whose bytes differ (rotating photo captions) are one statement text."""
    url = arc.page("/live/mission")
    arc.add(Row("20170120000000", url, corpus_file(DOI_A).read_bytes()))
    arc.add(Row("20170201000000", url, corpus_file(DOI_B).read_bytes()))
    r = cli("backfill", url, "--config", str(config), "--json")
    assert r.exit_code == 1, r.output
    item = json.loads(r.stdout)["statements"][0]
    assert (item["found"], item["fetched"], item["stored"], item["duplicates"]) == (2, 2, 1, 1)
    assert "1 duplicate(s) skipped (50% of captures)" in r.stderr


def test_retry_after_is_honoured(arc: ArchiveServer, config: Path, cli: Cli) -> None:
    url, _ = maria(arc)
    arc.limit_after, arc.too_many, arc.retry_after = 2, 1, "1"
    r = cli("backfill", url, "--to", "2017-12-31", "--config", str(config))
    assert r.exit_code == 1, r.output
    limited = 2 + 1  # the request answered 429 (robots.txt and the first CDX page before it)
    assert arc.times[limited] - arc.times[limited - 1] >= 0.9, arc.requests


def test_repeated_429_stops_and_the_next_backfill_resumes(
    arc: ArchiveServer, config: Path, cli: Cli
) -> None:
    url, _ = maria(arc)
    # robots.txt, 3 CDX pages, 2 mementos: then the archive limits us.
    arc.limit_after, arc.too_many, arc.retry_after = 6, 10, "0"
    r = cli("backfill", url, "--to", "2017-12-31", "--config", str(config))
    assert r.exit_code == 2, r.output
    assert "the archive is limiting requests" in r.stderr
    assert "run again to go on" in r.stderr
    assert len(Store(cli.store).versions(Store(cli.store).statement_ids()[0])) == 2
    fetched = [p for p in arc.requests[:6] if p.startswith("/web/")]
    arc.too_many = 0
    arc.requests.clear()
    r = cli("backfill", url, "--to", "2017-12-31", "--config", str(config), "--json")
    assert r.exit_code == 0, r.output
    again = [p for p in arc.requests if p.startswith("/web/")]
    assert not set(again) & set(fetched), (fetched, again)
    assert json.loads(r.stdout)["statements"][0]["complete"] is True


def test_an_archive_whose_robots_txt_answers_429_stops_the_backfill_cleanly(
    arc: ArchiveServer, config: Path, cli: Cli
) -> None:
    url, _ = maria(arc)
    arc.limit_after, arc.too_many, arc.retry_after = 0, 10, "0"  # robots.txt is asked first
    r = cli("backfill", url, "--to", "2017-12-31", "--config", str(config))
    assert r.exit_code == 2, r.output
    assert "the archive is limiting requests" in r.stderr, r.stderr
    assert [p for p in arc.requests if not p.startswith("/robots.txt")] == [], arc.requests
    assert Store(cli.store).statement_ids() == []


def test_reports_and_log_say_from_the_archive(arc: ArchiveServer, config: Path, cli: Cli) -> None:
    url, _ = maria(arc)
    r = cli("backfill", url, "--to", "2017-12-31", "--config", str(config))
    assert r.exit_code == 1, r.output
    sid = Store(cli.store).statement_ids()[0]
    r = cli("log", sid)
    assert r.exit_code == 0, r.output
    assert r.output.count("(from the archive: wayback)") == 2, r.output
    r = cli("log", sid, "--json")
    versions = json.loads(r.stdout)["versions"]
    assert versions[0]["archive"]["memento"].endswith(f"/web/20171003120000id_/{url}")
    report = cli.store.parent / "r.md"
    r = cli("report", "--date", "2017-10-05", "--out", str(report))
    assert r.exit_code in (0, 1), r.output
    text = report.read_text(encoding="utf-8")
    assert "from the archive (the Wayback Machine, captured 2017-10-05T12:00:00Z)" in text, text
    feed = (cli.store.parent / "reports" / "feed.xml").read_text(encoding="utf-8")
    assert "Changed: Hurricane Maria [from the archive]" in feed, feed
    assert "from the archive (the Wayback Machine, captured 2017-10-05T12:00:00Z)." in feed


def test_bad_input_is_one_line(cli: Cli, config: Path) -> None:
    r = cli("backfill", "--config", str(config))
    assert r.exit_code == 2
    assert r.stderr.strip().count("\n") == 0 and "give statement URLs" in r.stderr
    r = cli("backfill", "ftp://x/y", "--config", str(config))
    assert r.exit_code == 2 and "must be http(s)" in r.stderr
    r = cli("backfill", "https://x.example/y", "--from", "April", "--config", str(config))
    assert r.exit_code == 2 and "--from 'April'" in r.stderr


def test_the_readme_transcript(arc: ArchiveServer, config: Path, cli: Cli) -> None:
    """The README's backfill transcript (listed in test_readme's UNCHECKED: it needs this archive):
    the same captures give the lines it shows."""
    a, b = corpus_file(FEMA_A).read_bytes(), corpus_file(FEMA_B).read_bytes()
    url = "https://www.fema.gov/hurricane-maria"
    for stamp, body in (
        ("20171003120000", a),
        ("20171004000000", a.replace(b"</body>", b"<!-- t1 --></body>")),
        ("20171005120000", b),
        ("20171006000000", CHALLENGE),
        ("20171007000000", b.replace(b"</body>", b"<!-- t2 --></body>")),
    ):
        arc.add(Row(stamp, url, body))
    r = cli("backfill", url, "--to", "2017-12-31", "--config", str(config))
    assert r.exit_code == 1, r.output
    readme = README.read_text(encoding="utf-8")
    shown = readme.split(f"$ dipdiff backfill {url} --archive", 1)[1].split("\n$ ", 1)[0]
    expected = [line.replace("http://127.0.0.1:8750", arc.url) for line in shown.split("\n")[1:3]]
    assert r.stderr.splitlines() == expected
    r = cli("log", "fema-gov/hurricane-maria", env={"COLUMNS": "200"})
    log = readme.split("$ dipdiff log fema-gov/hurricane-maria\n", 1)[1].split("```", 1)[0]
    assert [ln.rstrip() for ln in r.stdout.splitlines()] == log.rstrip("\n").split("\n")


def test_provenance_survives_the_store_index(arc: ArchiveServer, config: Path, cli: Cli) -> None:
    """``log`` read from .index.sqlite (files settled) says "from the archive" as from the files."""
    url, _ = maria(arc)
    r = cli("backfill", url, "--to", "2017-12-31", "--config", str(config))
    assert r.exit_code == 1, r.output
    for p in cli.store.rglob("*.md"):
        os.utime(p, ns=(1_500_000_000 * 10**9, 1_500_000_000 * 10**9))  # settled: indexed
    sid = Store(cli.store).statement_ids()[0]
    outputs = [cli("log", sid, "--json").stdout for _ in range(2)]
    assert (cli.store / ".index.sqlite").exists()
    assert outputs[0] == outputs[1]
    versions = json.loads(outputs[1])["versions"]
    assert [v["archive"]["origin"] for v in versions] == ["wayback", "wayback"]


def test_the_archive_is_the_only_host_asked(arc: ArchiveServer, cli: Cli, tmp_path: Path) -> None:
    """A capture redirected off the archive (to the cloud metadata address) is not followed: the
    archive is the one host a backfill may ask, whatever its captures say."""
    url = arc.page("/live/mission")
    arc.add(Row("20170120000000", url, corpus_file(DOI_A).read_bytes()))
    arc.add(Row("20170201000000", url, redirect="http://169.254.169.254/latest/meta-data/"))
    config = tmp_path / "quick.toml"  # no allow_private: the archive named is private, that is all
    config.write_text(CONFIG.replace("allow_private = true\n", "").format(archive=arc.url))
    r = cli("backfill", url, "--config", str(config), "--json")
    assert r.exit_code == 1, r.output
    item = json.loads(r.stdout)["statements"][0]
    assert (item["fetched"], item["stored"], item["failed"]) == (1, 1, 1), item
    assert "169.254.169.254" in item["note"] and "outside the source's site" in item["note"]


def test_older_captures_take_their_place_before_live_versions(
    arc: ArchiveServer, config: Path, cli: Cli
) -> None:
    """Watched live since 2026 under --source fema; the archive's 2017 captures go before it."""
    url, _ = maria(arc)
    arc.live["/live/maria"] = corpus_file(DOI_A).read_bytes().replace(b"Mission", b"Maria", 1)
    r = cli("snapshot", url, "--source", "fema", env={"DIPDIFF_NOW": "2026-11-30T09:00:00Z"})
    assert r.exit_code == 1, r.output
    r = cli("backfill", "--source", "fema", "--to", "2017-12-31", "--config", str(config))
    assert r.exit_code == 1, r.output
    s = Store(cli.store)
    (sid,) = s.statement_ids()
    refs = s.versions(sid)
    assert [r.fetched_at for r in refs] == [
        "2017-10-03T12:00:00Z",
        "2017-10-05T12:00:00Z",
        "2026-11-30T09:00:00Z",
    ]
    assert [bool(r.provenance) for r in refs] == [True, True, False]
    assert s.meta(sid).title == s.read_version(sid, 3).statement.title  # the live one still


def test_a_progress_bar_on_a_terminal() -> None:
    from io import StringIO

    from rich.console import Console

    from dipdiff.cli.archive import BackfillProgress
    from dipdiff.pipeline.backfill import StatementBackfill

    out = StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    item = StatementBackfill("https://www.fema.gov/hurricane-maria", "fema-gov/hurricane-maria")
    with BackfillProgress(console) as progress:
        assert progress.bar is not None
        progress.found(item, 3)
        item.counts.update(found=3, fetched=3, stored=1, duplicates=2)
        for _ in range(3):
            progress.fetched(item, None)
        assert progress.bar.tasks[0].completed == 3 and progress.bar.tasks[0].total == 3
        progress.done(item)
    assert "fema-gov/hurricane-maria: 3 found, 3 fetched, 1 stored, 2 duplicates" in out.getvalue()


def test_a_window_reaching_further_back_is_read_again(
    arc: ArchiveServer, config: Path, cli: Cli
) -> None:
    """The resume state of a backfill from 5 October is no reason to skip 3 October later."""
    url, _ = maria(arc)
    args = ("backfill", url, "--to", "2017-12-31", "--config", str(config), "--json")
    r = cli(*args[:2], "--from", "2017-10-05", *args[2:])
    assert r.exit_code == 1, r.output
    assert json.loads(r.stdout)["stored"] == 1  # FEMA's page after its edit
    arc.requests.clear()
    r = cli(*args)
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    assert doc["stored"] == 1 and doc["skipped"] >= 3, doc  # the page before the edit, only
    again = [p for p in arc.requests if p.startswith("/web/")]
    assert "/web/20171003120000id_/" + url in again
    for recorded in ("20171005120000", "20171006000000", "20171007000000"):
        assert not any(recorded in p for p in again), again
    refs = Store(cli.store).versions(Store(cli.store).statement_ids()[0])
    assert [r.fetched_at for r in refs] == ["2017-10-03T12:00:00Z", "2017-10-05T12:00:00Z"]
