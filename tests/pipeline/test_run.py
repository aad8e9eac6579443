"""Runs, reports and commits read from a real store, with real git and a real local server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dipdiff.errors import LockError
from dipdiff.models import RunResult
from dipdiff.pipeline import report as reports_
from dipdiff.pipeline import run as monitor
from dipdiff.pipeline.demo import page_bytes
from dipdiff.pipeline.record import Recorder
from dipdiff.pipeline.server import Response
from dipdiff.scrape.http import fetch_page, make_client, post_json
from dipdiff.store.git import GitError, commit_paths, repo_root
from dipdiff.store.store import Store
from dipdiff.store.verify import verify
from helpers import SRC, git

LIBYA = "/releases/2019/04/the-situation-in-libya/"
READOUT = "/releases/2019/04/secretary-pompeos-call-with-un-special-representative-salame/"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    return tmp_path


def fetch_step(server, paths, when):
    """A fetch step like the real one: every page checked once, at ``when``."""

    def fetch(store: Store) -> RunResult:
        with make_client() as client:
            results = [
                Recorder(store).capture(
                    fetch_page(client, server.url(p), fetched_at=when),
                    source="state-dept",
                    agency="U.S. Department of State",
                )
                for p in paths
            ]
        return RunResult(tuple(results), when, when)

    return fetch


def run(repo, server, paths, when, **kw):
    store = Store(repo / "snapshots")
    return monitor.run_monitor(
        store, fetch_step(server, paths, when), now=lambda: when, reports_dir=repo / "reports", **kw
    )


def test_runs_commit_only_when_something_changed(repo, server):
    server.set(LIBYA, Response(page_bytes("state-libya.day1.html")))
    day1 = run(repo, server, [LIBYA], "2019-04-20T09:00:00Z", commit=True)
    assert day1.exit_code == 1 and day1.counts()["new"] == 1 and day1.commit
    assert git(repo, "log", "--format=%s").splitlines() == [
        "dipdiff run 2019-04-20T09:00:00Z: 1 new, 0 changed, 0 removed, 0 divergent"
    ]
    assert "reports/2019-04-20.md" in git(repo, "show", "--name-only", "--format=", "HEAD")

    same = run(repo, server, [LIBYA], "2019-04-20T15:00:00Z", commit=True)
    assert same.exit_code == 0 and same.commit is None and not same.events
    assert len(git(repo, "log", "--format=%h").splitlines()) == 1

    server.set(LIBYA, Response(page_bytes("state-libya.day2.html")))
    day2 = run(repo, server, [LIBYA], "2019-04-21T09:00:00Z", commit=True)
    assert day2.exit_code == 1 and [e.kind for e in day2.events] == ["changed"]
    body = git(repo, "log", "-1", "--format=%B")
    assert (
        "- changed state-dept/the-situation-in-libya@2 (5 changes: 4 substantive, 1 minor)" in body
    )
    report = (repo / "reports" / "2019-04-21.md").read_text(encoding="utf-8")
    assert "<del>urge the immediate</del>" in report
    index = (repo / "reports" / "README.md").read_text(encoding="utf-8")
    assert index.index("2019-04-21.md") < index.index("2019-04-20.md")
    assert git(repo, "status", "--porcelain", "--", "reports") == ""
    runs = Store(repo / "snapshots").runs()
    assert [r.status for r in runs] == ["complete"] * 3
    assert runs[-1].counts == {"new": 0, "changed": 1, "removed": 0, "divergent": 0, "checked": 1}


def test_same_store_gives_byte_identical_reports(repo, server):
    server.set(LIBYA, Response(page_bytes("state-libya.day1.html")))
    run(repo, server, [LIBYA], "2019-04-20T09:00:00Z")
    server.set(LIBYA, Response(page_bytes("state-libya.day2.html")))
    run(repo, server, [LIBYA], "2019-04-21T09:00:00Z")
    files = {p.name: p.read_bytes() for p in (repo / "reports").iterdir()}
    store = Store(repo / "snapshots")
    for day in ("2019-04-20", "2019-04-21"):
        window = reports_.day_window(__import__("datetime").date.fromisoformat(day), store)
        reports_.write_reports(
            store, repo / "reports", reports_.build_report(store, window), filename=window.filename
        )
    assert {p.name: p.read_bytes() for p in (repo / "reports").iterdir()} == files


def test_a_killed_run_is_picked_up_by_the_next(repo, server):
    server.set(LIBYA, Response(page_bytes("state-libya.day1.html")))
    run(repo, server, [LIBYA], "2019-04-20T09:00:00Z", commit=True)
    # A run that dies after storing a version, before its report and commit: exactly the
    # state a SIGKILL leaves (every store write is atomic, the lock dies with the process).
    server.set(LIBYA, Response(page_bytes("state-libya.day2.html")))
    store = Store(repo / "snapshots")
    with store.lock():
        store.begin_run("2019-04-21T09:00:00Z")
        fetch_step(server, [LIBYA], "2019-04-21T09:00:00Z")(store)
    assert verify(store) == []

    nxt = run(repo, server, [LIBYA], "2019-04-21T10:00:00Z", commit=True)
    assert [r.id for r in nxt.interrupted] == ["2019-04-21T09:00:00Z"]
    assert [e.kind for e in nxt.events] == ["changed"]  # found by the killed run, reported now
    assert nxt.exit_code == 1 and nxt.commit
    assert git(repo, "status", "--porcelain", "--", "snapshots") == ""
    report = (repo / "reports" / "2019-04-21.md").read_text(encoding="utf-8")
    assert "run 2019-04-21T09:00:00Z was interrupted" in report
    assert [r.status for r in Store(repo / "snapshots").runs()] == [
        "complete",
        "interrupted",
        "complete",
    ]


def test_an_overlapping_run_waits_then_gives_up(repo, server):
    server.set(LIBYA, Response(page_bytes("state-libya.day1.html")))
    other = Store(repo / "snapshots")  # another process, as far as flock is concerned
    with other.lock(), pytest.raises(LockError, match="another dipdiff run holds the lock"):
        run(repo, server, [LIBYA], "2019-04-20T09:00:00Z", lock_wait=0.3)
    assert server.hits(LIBYA) == 0  # it fetched nothing
    assert run(repo, server, [LIBYA], "2019-04-20T09:00:00Z").exit_code == 1


def test_a_failed_fetch_is_recorded_and_raised(repo):
    def boom(store):
        raise KeyboardInterrupt

    store = Store(repo / "snapshots")
    with pytest.raises(KeyboardInterrupt):
        monitor.run_monitor(
            store, boom, now=lambda: "2019-04-20T09:00:00Z", reports_dir=repo / "reports"
        )
    (rec,) = store.runs()
    assert rec.status == "failed" and rec.problems == ["KeyboardInterrupt"]


def test_run_window_covers_interrupted_runs(tmp_path):
    store = Store(tmp_path / "snapshots")
    with store.lock():
        first, _ = store.begin_run("2019-04-20T09:00:00Z")
        first.status, first.finished_at = "complete", "2019-04-20T09:01:00Z"
        store.end_run(first)
        store.begin_run("2019-04-21T09:00:00Z")  # killed
        third, interrupted = store.begin_run("2019-04-21T09:00:00Z")  # same second: a new id
    assert third.id == "2019-04-21T09:00:00Z-2" and [r.status for r in interrupted] == [
        "interrupted"
    ]
    window = reports_.run_window(store, "latest")
    assert window.runs == ("2019-04-21T09:00:00Z", "2019-04-21T09:00:00Z-2")
    assert str(window.since) == "2019-04-20 09:01:00+00:00"


def test_git_errors_are_one_line(tmp_path, monkeypatch):
    with pytest.raises(GitError, match="not a git repository"):
        repo_root(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GitError, match="git: not found on PATH"):
        repo_root(tmp_path)


def test_commit_paths_commits_only_its_paths(repo):
    (repo / "notes.txt").write_text("mine", encoding="utf-8")
    git(repo, "add", "notes.txt")
    (repo / "reports").mkdir()
    (repo / "reports" / "a.md").write_text("a\n", encoding="utf-8")
    sha = commit_paths(repo, [repo / "reports"], "reports only")
    assert sha and git(repo, "show", "--name-only", "--format=", sha).split() == ["reports/a.md"]
    assert "A  notes.txt" in git(repo, "status", "--porcelain")  # still staged, not committed
    assert commit_paths(repo, [repo / "reports"], "again") is None


def test_webhook_posts_json_to_a_real_server(server):
    server.set("/hook", Response(b"ok", 200, {"Content-Type": "text/plain"}))
    assert post_json(server.url("/hook"), {"event": "dipdiff.run", "counts": {"new": 1}}) == 200
    ((path, body),) = server.posted
    assert path == "/hook" and json.loads(body) == {"event": "dipdiff.run", "counts": {"new": 1}}
    server.set("/broken", Response(b"no", 500))
    with pytest.raises(Exception, match="webhook answered HTTP 500"):
        post_json(server.url("/broken"), {})


def test_a_damaged_run_record_costs_that_record_and_verify_names_it(tmp_path):
    store = Store(tmp_path / "snapshots")
    with store.lock():
        store.begin_run("2019-04-20T09:00:00Z")
        store.begin_run("2019-04-21T09:00:00Z")
    (path,) = store.runs_path.glob("2019-04-20T*.json")
    path.write_text('{"id": 1}', encoding="utf-8")
    problem = (
        f"{path}: corrupt run record (unexpected structure); "
        f"restore it from git: `git checkout -- {path}`"
    )
    assert [r.id for r in store.runs()] == ["2019-04-21T09:00:00Z"]
    assert store.damage == {str(path): problem}
    assert verify(store) == [problem]


def test_report_command_windows_and_errors(cli, store_dir, tmp_path):
    demo = SRC / "data" / "demo"
    url = "https://www.state.gov/the-situation-in-libya/"
    for name, when in (
        ("state-libya.day1.html", "2019-04-20T09:00:00Z"),
        ("state-libya.day2.html", "2019-04-21T09:00:00Z"),
    ):
        assert cli("import", str(demo / name), "--url", url, "--fetched-at", when).exit_code == 1

    r = cli("report")  # the day of the newest check, beside the store
    assert r.exit_code == 0, r.output
    reports = store_dir.parent / "reports"
    assert (
        r.stdout.strip()
        == f"{reports / '2019-04-21.md'}  (0 new, 1 changed, 0 removed, 0 divergent)"
    )
    assert sorted(p.name for p in reports.iterdir()) == [
        ".gitattributes",  # reports of two clones that both ran merge by union
        "2019-04-21.md",
        "README.md",
        "feed.xml",
    ]

    r = cli("report", "--since", "2019-04-20", "--out", "-")
    assert (
        r.exit_code == 0
        and r.stdout.splitlines()[1] == "# dipdiff report — 2019-04-20 to 2019-04-21"
    )
    assert '"new": 1' in r.stdout.splitlines()[0]  # new within the period, edited since

    r = cli("report", "--date", "2019-04-20", "--out", str(tmp_path / "x" / "day1.md"))
    assert (
        r.exit_code == 0
        and (tmp_path / "x" / "day1.md").read_text(encoding="utf-8").count("version 1") == 1
    )

    for args, message in (
        (("--date", "2019-04-20", "--run", "latest"), "use only one of"),
        (("--since", "yesterday"), "--since 'yesterday': expected a date"),
        (("--run", "latest"), "no runs recorded yet"),
    ):
        r = cli("report", *args)
        assert r.exit_code == 2 and message in r.stderr and len(r.stderr.splitlines()) == 1, (
            r.stderr
        )


def test_a_moved_statement_is_news(repo, server):
    from dipdiff.models import Check, Outcome

    server.set(LIBYA, Response(page_bytes("state-libya.day1.html")))
    run(repo, server, [LIBYA], "2019-04-20T09:00:00Z", commit=True)
    store = Store(repo / "snapshots")
    (sid,) = store.statement_ids()

    def moved(st: Store) -> RunResult:  # what fetch records when the same text shows up elsewhere
        meta = st.meta(sid)
        old, meta.url = meta.url, "https://www.state.gov/libya-2/"
        meta.previous_urls.append(old)
        st.record_check(
            sid,
            Check(
                "2019-04-21T09:00:00Z",
                Outcome.MOVED,
                meta.url,
                200,
                note=f"same text, moved from {old}",
            ),
            meta,
        )
        return RunResult()

    result = monitor.run_monitor(
        store, moved, now=lambda: "2019-04-21T09:00:00Z", reports_dir=repo / "reports", commit=True
    )
    assert result.exit_code == 1 and result.commit
    assert f"- moved {sid}@1 (same text, moved from {server.url(LIBYA)})" in git(
        repo, "log", "-1", "--format=%B"
    )
    report = (repo / "reports" / "2019-04-21.md").read_text(encoding="utf-8")
    assert "## Moved statements" in report and "https://www.state.gov/libya-2/" in report
    assert "Nothing changed." not in report
