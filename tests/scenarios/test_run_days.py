"""`dipdiff run --commit` day by day in a real git repository, against a real local server.

Day 1: two State Department statements appear. Day 2: one is silently edited, and the White
House publishes a statement that contradicts the other. Day 3: the edited page is removed.
Each day's report, the index and the feed are compared with golden files under
tests/cases/run/ (set DIPDIFF_UPDATE_GOLDEN=1 to rewrite them after a deliberate change).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from dipdiff.pipeline.demo import page_bytes
from dipdiff.pipeline.server import Response
from dipdiff.store.store import Store
from dipdiff.store.verify import verify
from helpers import CASES as CASES_DIR
from helpers import Cli, git, monitoring_folder

CASES = CASES_DIR / "run"
DAYS = {
    "day1": "2019-04-20T09:00:00Z",
    "day2": "2019-04-21T09:00:00Z",
    "day3": "2019-04-22T09:00:00Z",
}
LIBYA = "/state/the-situation-in-libya/"
READOUT = "/state/secretary-pompeos-call-with-un-special-representative-salame/"
HAFTAR = "/wh/statement-from-the-press-secretary-libya/"
# The Libya statement re-dated to within a week of the White House readout, so that the two
# count as statements about the same events (the real ones were twelve days apart).
LIBYA_PAGE = page_bytes("state-libya.day1.html").replace(
    b"2019-04-07T16:30:00", b"2019-04-18T16:30:00"
)
READOUT_EDITED = page_bytes("state-readout.day2.html").replace(
    b"called on all parties to agree to an immediate ceasefire",
    b"called on all parties to de-escalate",
)


def listing(*paths: str) -> Response:
    items = "".join(f'<li><a href="{p}">{p.strip("/").split("/")[-1]}</a></li>' for p in paths)
    return Response(f"<html><body><h1>Press releases</h1><ul>{items}</ul></body></html>".encode())


def publish(server, day: str) -> None:
    """What the two sites serve on each day of the scenario."""
    if day == "day1":
        server.set("/state/", listing(LIBYA, READOUT))
        server.set("/wh/", listing())
        server.set(LIBYA, Response(LIBYA_PAGE))
        server.set(READOUT, Response(page_bytes("state-readout.day2.html")))
    elif day == "day2":
        server.set(READOUT, Response(READOUT_EDITED))  # a silent edit: same URL, no notice
        server.set("/wh/", listing(HAFTAR))
        server.set(HAFTAR, Response(page_bytes("whitehouse-haftar.day1.html")))
    else:
        server.set("/state/", listing(LIBYA))
        server.set(READOUT, Response(b"<h1>Page not found</h1>", 404))


@pytest.fixture
def folder(tmp_path: Path, server) -> Path:
    return monitoring_folder(
        tmp_path,
        "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\n"
        "[schedule]\nremoved_after = 1\n"
        f'[sources.state-dept]\nkind = "listing"\nurl = "{server.url("/state/")}"\n'
        'agency = "U.S. Department of State"\nselector = "li"\nlink = "a"\n'
        f'[sources.white-house]\nkind = "listing"\nurl = "{server.url("/wh/")}"\n'
        'agency = "The White House"\nselector = "li"\nlink = "a"\n',
    )


def run(cli, folder: Path, when: str, *args: str):
    return cli(
        "run",
        "--config",
        str(folder / "dipdiff.toml"),
        "--commit",
        *args,
        env={"DIPDIFF_NOW": when},
    )


def golden(name: str, text: str, server) -> None:
    text = text.replace(server.url(""), "http://127.0.0.1:PORT")
    text = re.sub(r"store-[0-9a-f]{32}", "store-UID", text)  # random, given by the first run
    path = CASES / name
    if os.environ.get("DIPDIFF_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.fixture
def cli_in(folder):
    return Cli(folder / "snapshots")


def test_three_days_of_monitoring(folder, server, cli_in):
    reports = folder / "reports"

    publish(server, "day1")
    r = run(cli_in, folder, DAYS["day1"])
    assert r.exit_code == 1, r.output
    assert r.stdout == ""  # logs go to stderr, for cron
    assert r.stderr.startswith(
        "2019-04-20T09:00:00Z dipdiff: run 2019-04-20T09:00:00Z: 2 new, 0 changed"
    )
    assert (
        git(folder, "log", "-1", "--format=%s")
        == "dipdiff run 2019-04-20T09:00:00Z: 2 new, 0 changed, 0 removed, 0 divergent\n"
    )
    golden("2019-04-20.md", (reports / "2019-04-20.md").read_text(encoding="utf-8"), server)

    # The same day again: nothing due to change, so no output at all, exit 0, no commit.
    r = run(cli_in, folder, "2019-04-20T15:00:00Z")
    assert (r.exit_code, r.output) == (0, ""), r.output
    assert len(git(folder, "log", "--format=%h").splitlines()) == 2

    publish(server, "day2")
    r = run(cli_in, folder, DAYS["day2"])
    assert r.exit_code == 1, r.output
    body = git(folder, "log", "-1", "--format=%B")
    assert body.startswith("dipdiff run 2019-04-21T09:00:00Z: 1 new, 1 changed, 0 removed")
    assert (
        "- changed state-dept/secretary-pompeos-call-with-un-special-representative-salame@2"
        in body
    )
    assert "- new white-house/statement-from-the-press-secretary-libya@1" in body
    # The new White House statement contradicts the (unchanged) State Department one on Haftar.
    assert body.startswith(
        "dipdiff run 2019-04-21T09:00:00Z: 1 new, 1 changed, 0 removed, 1 divergent"
    )
    assert (
        "- divergent state-dept/the-situation-in-libya <-> "
        "white-house/statement-from-the-press-secretary-libya" in body
    )
    day2 = (reports / "2019-04-21.md").read_text(encoding="utf-8")
    golden("2019-04-21.md", day2, server)
    assert "<del>agree to an immediate ceasefire</del> → <ins>**de-escalate**</ins>" in day2
    assert "| Khalifa Haftar | critical | supportive |" in day2

    publish(server, "day3")
    r = run(cli_in, folder, DAYS["day3"])
    assert r.exit_code == 1, r.output
    assert (
        "- removed state-dept/secretary-pompeos-call-with-un-special-representative-salame"
        in git(folder, "log", "-1", "--format=%B")
    )
    golden("2019-04-22.md", (reports / "2019-04-22.md").read_text(encoding="utf-8"), server)
    golden("README.md", (reports / "README.md").read_text(encoding="utf-8"), server)
    golden("feed.xml", (reports / "feed.xml").read_text(encoding="utf-8"), server)

    # Everything is committed: the store, the reports, and nothing else is left dirty there.
    assert git(folder, "status", "--porcelain", "--", "snapshots", "reports") == ""
    assert len(git(folder, "log", "--format=%h").splitlines()) == 4
    assert verify(Store(folder / "snapshots")) == []

    # The day-2 report renders as GitHub-flavoured markdown: tables, details, del/ins.
    html = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(day2)
    assert "<table>" in html and "|---" not in html
    assert "<del>agree to an immediate ceasefire</del>" in html
    assert "<ins><strong>de-escalate</strong></ins>" in html  # visible without colour
    assert "&lt;del&gt;" not in html

    feed = ET.fromstring((reports / "feed.xml").read_bytes())
    titles = [
        e.findtext("{http://www.w3.org/2005/Atom}title")
        for e in feed.findall("{http://www.w3.org/2005/Atom}entry")
    ]
    assert titles[0].startswith("Removed: ") and len(titles) == 5

    # Re-rendering from the committed store gives the same reports: the same events, byte for
    # byte, except that day 1's count of checks now includes the quiet run of 15:00 (a run in
    # which nothing happened writes no report; its checks were committed with day 2).
    before = {p.name: p.read_text(encoding="utf-8") for p in reports.iterdir()}
    for day in ("2019-04-20", "2019-04-21", "2019-04-22"):
        assert cli_in("report", "--date", day).exit_code == 0
    after = {p.name: p.read_text(encoding="utf-8") for p in reports.iterdir()}
    assert {k: v for k, v in after.items() if k != "2019-04-20.md"} == {
        k: v for k, v in before.items() if k != "2019-04-20.md"
    }
    old_day1, new_day1 = before["2019-04-20.md"].splitlines(), after["2019-04-20.md"].splitlines()
    changed = [(a, b) for a, b in zip(old_day1, new_day1, strict=True) if a != b]
    span = "Checks from 2019-04-20T00:00:00Z to 2019-04-20T23:59:59Z in"
    assert changed == [
        (f"{span} 1 run: 2 statement checks.", f"{span} 2 runs: 4 statement checks.")
    ], changed
    for day in ("2019-04-20", "2019-04-21", "2019-04-22"):
        assert cli_in("report", "--date", day).exit_code == 0
    assert {p.name: p.read_text(encoding="utf-8") for p in reports.iterdir()} == after


def test_run_logs_quiet_and_verbose(folder, server, cli_in):
    publish(server, "day1")
    r = run(cli_in, folder, DAYS["day1"], "--quiet")
    assert (r.exit_code, r.output) == (1, "")
    publish(server, "day2")
    r = run(cli_in, folder, DAYS["day2"], "--verbose")
    assert r.exit_code == 1
    lines = r.stderr.splitlines()
    assert all(line.startswith("2019-04-21T09:00:00Z dipdiff: ") for line in lines)
    assert any("debug: changed     state-dept/secretary-pompeos" in line for line in lines)
    assert any("debug: unchanged   state-dept/the-situation-in-libya" in line for line in lines)


def test_trouble_is_exit_2_with_one_line(folder, server, cli_in):
    publish(server, "day1")
    server.set("/wh/", Response(b"down", 503))
    r = run(cli_in, folder, DAYS["day1"])
    assert r.exit_code == 2, r.output
    assert "warning: white-house: " in r.stderr
    report = (folder / "reports" / "2019-04-20.md").read_text(encoding="utf-8")
    assert "## Problems" in report and "white-house: " in report
    # The findings of a run in trouble are still committed.
    assert "2 new" in git(folder, "log", "-1", "--format=%s")

    missing = cli_in("run", "--config", str(folder / "nope.toml"))
    assert missing.exit_code == 2 and len(missing.stderr.strip().splitlines()) == 1
    assert "nope.toml" in missing.stderr


def test_run_not_in_a_git_repo_fails_before_fetching(tmp_path, server):
    (tmp_path / "dipdiff.toml").write_text(
        f'[sources.s]\nkind = "listing"\nselector = "li"\nurl = "{server.url("/s/")}"\n',
        encoding="utf-8",
    )
    r = Cli(tmp_path / "snapshots")("run", "--config", str(tmp_path / "dipdiff.toml"), "--commit")
    assert r.exit_code == 2
    assert "not a git repository" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert server.hits("/s/") == 0


def test_overlapping_run_waits_then_exits_clearly(folder, server, cli_in):
    publish(server, "day1")
    with Store(folder / "snapshots").lock():
        r = run(cli_in, folder, DAYS["day1"], "--wait", "0.2")
    assert r.exit_code == 2
    assert "another dipdiff run holds the lock" in r.stderr
    assert server.hits("/state/") == 0


def test_webhook_gets_the_summary(folder, server, cli_in):
    publish(server, "day1")
    server.set("/hook", Response(b"", 204))
    r = run(cli_in, folder, DAYS["day1"], "--webhook", server.url("/hook"))
    assert r.exit_code == 1, r.output
    ((_path, body),) = server.posted
    doc = json.loads(body)
    assert doc["event"] == "dipdiff.run" and doc["counts"]["new"] == 2
    assert doc["commit"] == git(folder, "rev-parse", "HEAD").strip()
    assert {c["kind"] for c in doc["changes"]} == {"new"}
    # Nothing changed: no POST.
    run(cli_in, folder, "2019-04-20T15:00:00Z", "--webhook", server.url("/hook"))
    assert len(server.posted) == 1
    # A failing webhook is trouble, in one line.
    publish(server, "day2")
    server.set("/hook", Response(b"", 500))
    r = run(cli_in, folder, DAYS["day2"], "--webhook", server.url("/hook"))
    assert r.exit_code == 2 and "webhook answered HTTP 500" in r.stderr


@pytest.mark.slow
def test_a_run_killed_mid_fetch_is_picked_up_by_the_next(folder, server, cli_in):
    import signal
    import sys
    import threading
    import time

    publish(server, "day1")
    release = threading.Event()

    def stalled(handler):
        release.wait(60)
        return Response(page_bytes("state-readout.day2.html"))

    server.set(READOUT, stalled)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dipdiff",
            "--store",
            str(folder / "snapshots"),
            "run",
            "--config",
            str(folder / "dipdiff.toml"),
            "--commit",
        ],
        cwd=folder,
        env={**os.environ, "DIPDIFF_NOW": DAYS["day1"]},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        snapshots = folder / "snapshots"

        def stalled_on_the_readout() -> bool:
            # Killed while the readout stalls, after the other page is wholly stored (its check
            # line is the last thing written): a kill halfway through storing that page is
            # test_crash's business, and a sleep would let one through on a slow machine.
            return (
                server.hits(READOUT) > 0
                and any(snapshots.glob("runs/*.json"))
                and any(snapshots.glob("state-dept/*/checks.jsonl"))
            )

        deadline = time.monotonic() + 20
        while not stalled_on_the_readout():
            assert time.monotonic() < deadline and proc.poll() is None, (
                proc.stderr.read() if proc.stderr else ""
            )
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    store = Store(folder / "snapshots")
    assert verify(store) == []
    assert [r.status for r in store.runs()] == ["running"]
    assert git(folder, "log", "--format=%s").splitlines() == ["config"]  # nothing committed

    server.set(READOUT, Response(page_bytes("state-readout.day2.html")))
    r = run(cli_in, folder, "2019-04-20T09:05:00Z")
    assert r.exit_code == 1, r.output
    assert "warning: run 2019-04-20T09:00:00Z was interrupted" in r.stderr
    assert [r.status for r in Store(folder / "snapshots").runs()] == ["interrupted", "complete"]
    body = git(folder, "log", "-1", "--format=%B")
    assert body.startswith(
        "dipdiff run 2019-04-20T09:05:00Z: 2 new"
    )  # the killed run's finding too
    assert git(folder, "status", "--porcelain", "--", "snapshots", "reports") == ""
    report = (folder / "reports" / "2019-04-20.md").read_text(encoding="utf-8")
    assert "run 2019-04-20T09:00:00Z was interrupted" in report


def test_a_page_that_stays_down_warns_once(folder, server, cli_in):
    publish(server, "day1")
    run(cli_in, folder, DAYS["day1"])
    server.set(READOUT, Response(b"busy", 503))
    first = run(cli_in, folder, DAYS["day2"])
    assert first.exit_code == 0  # a page that is down for now is not a change
    assert "warning: unavailable state-dept/secretary-pompeos" in first.stderr
    again = run(cli_in, folder, DAYS["day3"])
    assert "unavailable" not in again.stderr  # still down: no news, no mail
    assert "unavailable" in run(cli_in, folder, "2019-04-23T09:00:00Z", "--verbose").stderr


def count_diffs(monkeypatch) -> Counter:
    """Count every diff made, by the sha256 of the two texts, in each dipdiff module that diffs."""
    import sys

    from dipdiff.analyse import diff as engine
    from dipdiff.text import content_hash

    calls: Counter = Counter()
    real = engine.diff_statements

    def counted(a, b, *args, **kw):
        calls[(content_hash(a.title, a.paragraphs), content_hash(b.title, b.paragraphs))] += 1
        return real(a, b, *args, **kw)

    for name, module in list(sys.modules.items()):
        if name.startswith("dipdiff") and getattr(module, "diff_statements", None) is real:
            monkeypatch.setattr(module, "diff_statements", counted)
    return calls


def _feed_entries(reports: Path, when: str) -> dict[tuple[str, str], str]:
    """(kind, statement id) -> entry title, for the feed's entries of the checks at ``when``."""
    atom = "{http://www.w3.org/2005/Atom}"
    out = {}
    for e in ET.fromstring((reports / "feed.xml").read_bytes()).findall(f"{atom}entry"):
        if e.findtext(f"{atom}updated") == when:
            kind = e.findtext(f"{atom}title").split(":", 1)[0].lower()
            sid = re.search(r"tag:dipdiff,[\d-]+:([^@:]+)", e.findtext(f"{atom}id")).group(1)
            out[(kind, sid)] = e.findtext(f"{atom}title")
    return out


def test_one_edit_is_diffed_once_and_every_output_tells_the_same_run(
    folder, server, cli_in, monkeypatch
):
    import dipdiff.pipeline.run  # noqa: F401 - the CLI imports its modules lazily: load them to count
    from dipdiff.store.ids import slug_for_url

    reports = folder / "reports"
    publish(server, "day1")
    assert run(cli_in, folder, DAYS["day1"]).exit_code == 1
    server.set("/hook", Response(b"", 204))
    publish(server, "day2")  # one silent edit (the readout), one new statement
    diffs = count_diffs(monkeypatch)
    r = run(cli_in, folder, DAYS["day2"], "--webhook", server.url("/hook"))
    assert r.exit_code == 1, r.output
    store = Store(folder / "snapshots")
    readout = f"state-dept/{slug_for_url(READOUT)}"
    v1, v2 = store.versions(readout)
    assert diffs == {(v1.sha256, v2.sha256): 1}, diffs  # the edit, once, for every output

    # The commit message, the webhook, the log, the report and the feed tell the same changes.
    body = git(folder, "log", "-1", "--format=%B")
    committed = {
        (k, sid, int(v)): note
        for k, sid, v, note in re.findall(
            r"^- (new|changed) (\S+)@(\d+)(?: \((.*)\))?$", body, re.MULTILINE
        )
    }
    ((_, posted),) = server.posted
    hook = json.loads(posted)
    webhook = {(c["kind"], c["id"], c["version"]) for c in hook["changes"]}
    assert (
        set(committed)
        == webhook
        == {
            ("changed", readout, 2),
            ("new", "white-house/statement-from-the-press-secretary-libya", 1),
        }
    )
    (change,) = [c for c in hook["changes"] if c["kind"] == "changed"]
    assert change["previous_version"] == 1 and change["summary"]["substantive"] == 1
    note = committed[("changed", readout, 2)]
    assert note == "1 change: 1 substantive"
    assert all(f"dipdiff: - {k} {sid}@{v}" in r.stderr for k, sid, v in committed)
    report = (reports / "2019-04-21.md").read_text(encoding="utf-8")
    assert f"`{readout}` · version 1 (2019-04-20) → version 2 (2019-04-21) · {note}" in report
    assert "`white-house/statement-from-the-press-secretary-libya` · version 1" in report
    assert (
        report_counts_line(report)
        == {"changed": 1, "new": 1, "removed": 0, "divergent": 1}
        == {k: hook["counts"][k] for k in ("changed", "new", "removed", "divergent")}
    )
    feed = _feed_entries(reports, DAYS["day2"])
    assert set(feed) == {(k, sid) for k, sid, _ in committed}
    assert feed[("changed", readout)].endswith(f"({note})")

    # A later run of the same day changes nothing, and rewrites the day's report: the edit it
    # shows (recorded by the earlier run) is described from the store, and diffed once again.
    diffs.clear()
    r = run(cli_in, folder, "2019-04-21T15:00:00Z")
    assert (r.exit_code, r.output) == (0, ""), r.output
    assert diffs == {(v1.sha256, v2.sha256): 1}, diffs
    again = (reports / "2019-04-21.md").read_text(encoding="utf-8")
    assert again.split("## Changed statements")[1] == report.split("## Changed statements")[1]

    # `dipdiff report` writes the report and the feed, which both show the edit: one diff.
    diffs.clear()
    assert cli_in("report", "--date", "2019-04-21").exit_code == 0
    assert diffs == {(v1.sha256, v2.sha256): 1}, diffs


def report_counts_line(text: str) -> dict:
    return json.loads(
        text.splitlines()[0].removeprefix("<!-- dipdiff-report ").removesuffix(" -->")
    )


def test_reports_read_stores_written_before_checks_named_their_base(folder, server, cli_in):
    """Check lines without ``base_sha256`` (older stores): every report reads the same."""
    for day in ("day1", "day2", "day3"):
        publish(server, day)
        assert run(cli_in, folder, DAYS[day]).exit_code == 1
    reports = folder / "reports"
    before = {p.name: p.read_bytes() for p in reports.iterdir()}
    stripped = 0
    for path in (folder / "snapshots").glob("*/*/checks.jsonl"):
        checks = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for c in checks:
            stripped += c.pop("base_sha256", None) is not None
        path.write_text("".join(json.dumps(c) + "\n" for c in checks), encoding="utf-8")
    assert stripped == 1  # the one stored change
    for day in ("2019-04-20", "2019-04-21", "2019-04-22"):
        assert cli_in("report", "--date", day).exit_code == 0
    assert {p.name: p.read_bytes() for p in reports.iterdir()} == before
    assert verify(Store(folder / "snapshots")) == []


def test_a_run_reads_each_file_of_the_store_once(folder, server, cli_in, monkeypatch):
    """The store caches what it read while the run holds it: no file is read twice in a run."""
    reads: Counter = Counter()
    snapshots = str(folder / "snapshots")
    for method in ("read_bytes", "read_text"):
        real = getattr(Path, method)

        def counted(path, *a, _real=real, **kw):
            if str(path).startswith(snapshots):
                reads[str(path)] += 1
            return _real(path, *a, **kw)

        monkeypatch.setattr(Path, method, counted)
    for day in ("day1", "day2", "day3"):
        publish(server, day)
        reads.clear()
        assert run(cli_in, folder, DAYS[day]).exit_code == 1
        assert reads and max(reads.values()) == 1, {p: n for p, n in reads.items() if n > 1}
    reads.clear()
    assert cli_in("report", "--date", "2019-04-21").exit_code == 0
    assert reads and max(reads.values()) == 1, {p: n for p, n in reads.items() if n > 1}
