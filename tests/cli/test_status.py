"""Exit statuses through the command line: every command's 0/1/2, one exception mapping, Ctrl-C.

``dipdiff.status`` is the one mapping (0 no differences, 1 differences, 2 trouble, 130
interrupted); these tests meet it as a user does: the exit code and stderr of real commands,
in-process and, for Ctrl-C, as real processes sent SIGINT while a server stalls.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main

from dipdiff.cli.app import app
from dipdiff.pipeline.demo import page_bytes
from dipdiff.pipeline.server import Response
from dipdiff.status import ExitStatus
from dipdiff.store.layout import VERSION_NAME
from dipdiff.store.store import Store
from dipdiff.store.verify import verify

LIBYA = "state-dept/the-situation-in-libya"
HAFTAR = "white-house/statement-from-the-press-secretary-libya"


def test_the_statuses_are_diff1_and_the_shells_ctrl_c():
    assert [int(s) for s in ExitStatus] == [0, 1, 2, 130]
    assert ExitStatus.found(["a change"]) is ExitStatus.DIFFERENCES
    assert ExitStatus.found(()) is ExitStatus.SUCCESS


def _import(cli, page: str, url: str, when: str, source: str, agency: str, tmp: Path) -> None:
    path = tmp / page
    # Re-dated to within a week of the White House readout: statements about the same events.
    path.write_bytes(page_bytes(page).replace(b"2019-04-07T16:30:00", b"2019-04-18T16:30:00"))
    r = cli(
        "import",
        str(path),
        "--url",
        url,
        "--fetched-at",
        when,
        "--source",
        source,
        "--agency",
        agency,
    )
    assert r.exit_code == 1, r.output  # each import records a new or changed version


@pytest.fixture
def demo_store(cli, tmp_path):
    """The demo's State statement in two versions and the White House readout, imported."""
    state = "https://www.state.gov/the-situation-in-libya/"
    _import(
        cli, "state-libya.day1.html", state, "2019-04-20T09:00:00Z", "state-dept", "State", tmp_path
    )
    _import(
        cli, "state-libya.day2.html", state, "2019-04-21T09:00:00Z", "state-dept", "State", tmp_path
    )
    _import(
        cli,
        "whitehouse-haftar.day1.html",
        "https://www.whitehouse.gov/statement-from-the-press-secretary-libya/",
        "2019-04-20T10:00:00Z",
        "white-house",
        "The White House",
        tmp_path,
    )
    return cli


# Each command with the statuses it can end with: (arguments, expected status).
READING = {
    "diff": [((LIBYA,), 1), ((f"{LIBYA}@1", f"{LIBYA}@1"), 0), (("nope/none",), 2)],
    "compare": [
        ((f"{LIBYA}@1", HAFTAR), 1),
        ((f"{LIBYA}@1", f"{LIBYA}@1"), 0),
        ((LIBYA, "nope/none"), 2),
    ],
    "related": [((LIBYA,), 0), ((LIBYA, "--window", "soon"), 2)],
    "divergences": [((), 1), (("--since", "2030-01-01"), 0), (("--window", "soon"), 2)],
    "list": [((), 0), (("--json",), 0)],
    "log": [((LIBYA,), 0), (("nope/none",), 2)],
    "show": [((f"{LIBYA}@2",), 0), ((f"{LIBYA}@9",), 2)],
    "report": [(("--out", "-"), 0), (("--date", "someday"), 2)],
    "verify": [((), 0)],
}


@pytest.mark.parametrize(
    ("command", "args", "status"),
    [(c, a, s) for c, cases in READING.items() for a, s in cases],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else str(v),
)
def test_reading_commands_exit_codes(demo_store, command, args, status):
    r = demo_store(command, *args)
    assert r.exit_code == status, r.output
    if status == ExitStatus.TROUBLE:
        (_line,) = [ln for ln in r.output.splitlines() if ln.startswith("dipdiff: error: ")]
        assert "Traceback" not in r.output


def test_verify_exits_2_naming_a_damaged_version(demo_store):
    (version,) = sorted((demo_store.store / HAFTAR).glob("*.md"))
    version.write_text(
        version.read_text(encoding="utf-8").replace("Haftar", "Hifter"), encoding="utf-8"
    )
    r = demo_store("verify")
    assert r.exit_code == 2, r.output
    assert version.name in r.output


def _site(server, pages: dict[str, Response]) -> None:
    links = "".join(f'<li class="item"><a href="{p}">{p}</a></li>' for p in pages)
    server.set("/releases/", Response(f"<html><body><ul>{links}</ul></body></html>".encode()))
    for path, response in pages.items():
        server.set(path, response)


def _config(tmp_path: Path, server, listing: str = "/releases/") -> Path:
    path = tmp_path / "dipdiff.toml"
    path.write_text(
        "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\nbackoff = 0.001\n"
        f'[sources.site]\nkind = "listing"\nurl = "{server.url(listing)}"\nselector = "li.item"\n'
        'agency = "U.S. Department of State"\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("command", ["fetch", "run"])
def test_fetch_and_run_exit_1_on_news_0_on_nothing_2_on_trouble(cli, server, tmp_path, command):
    _site(server, {"/libya/": Response(page_bytes("state-libya.day1.html"))})
    config = _config(tmp_path, server)
    extra = ("--reports", str(tmp_path / "reports")) if command == "run" else ()
    env = {"DIPDIFF_NOW": "2019-04-20T09:00:00Z"}
    r = cli(command, "--config", str(config), *extra, env=env)
    assert r.exit_code == 1, r.output
    r = cli(command, "--config", str(config), *extra, env=env)
    assert r.exit_code == 0, r.output
    server.set("/releases/", Response(b"gone", 500))
    r = cli(command, "--config", str(config), *extra, env={"DIPDIFF_NOW": "2019-04-20T10:00:00Z"})
    assert r.exit_code == 2, r.output
    r = cli(command, "--config", str(tmp_path / "missing.toml"))
    assert r.exit_code == 2, r.output
    assert "missing.toml" in r.output


def test_merge_exits_1_on_a_day_with_changes_0_on_none_2_on_a_bad_merge(cli, server, tmp_path):
    _site(server, {"/libya/": Response(page_bytes("state-libya.day1.html"))})
    config = _config(tmp_path, server)
    reports = ("--reports", str(tmp_path / "reports"))

    def shard(day: str):  # one sharded run on that day
        return cli("run", "--config", str(config), "--shard", "1/1", env={"DIPDIFF_NOW": day})

    r = shard("2019-04-20T09:00:00Z")
    assert r.exit_code == 1, r.output
    assert not (tmp_path / "reports").exists()  # a shard leaves the report to the merge
    r = cli("merge", *reports)
    assert r.exit_code == 1, r.output
    assert (tmp_path / "reports" / "2019-04-20.md").exists()
    r = shard("2019-04-21T09:00:00Z")
    assert r.exit_code == 0, r.output
    r = cli("merge", *reports)
    assert r.exit_code == 0, r.output
    assert not (tmp_path / "reports" / "2019-04-21.md").exists()  # a quiet day: no report
    r = cli("merge", "no-such-branch", *reports)  # tmp_path is no git repository
    assert r.exit_code == 2, r.output
    assert "not a git repository" in r.output and len(r.output.strip().splitlines()) == 1


def test_snapshot_and_import_exit_0_1_or_2(cli, server, tmp_path):
    server.set("/libya/", Response(page_bytes("state-libya.day1.html")))
    r = cli("snapshot", server.url("/libya/"))
    assert r.exit_code == 1, r.output
    r = cli("snapshot", server.url("/libya/"))
    assert r.exit_code == 0 and r.output.startswith("unchanged"), r.output
    server.set("/libya/", Response(page_bytes("state-libya.day2.html")))
    r = cli("snapshot", server.url("/libya/"))
    assert r.exit_code == 1 and r.output.startswith("changed"), r.output
    r = cli("snapshot", server.url("/missing/"))
    assert r.exit_code == 2, r.output
    assert "/missing/" in r.output and "404" in r.output
    r = cli("import", str(tmp_path / "none.html"), "--url", "https://www.state.gov/x/")
    assert r.exit_code == 2, r.output
    assert "none.html" in r.output


def test_backfill_exits_1_on_versions_0_on_nothing_new_2_when_the_archive_stops_it(cli, tmp_path):
    from archive import ArchiveServer, Row

    with ArchiveServer() as arc:
        url = "https://www.state.gov/the-situation-in-libya/"
        arc.add(Row("20190407163000", url, page_bytes("state-libya.day1.html")))
        arc.add(Row("20190420090000", url, page_bytes("state-libya.day2.html")))
        config = tmp_path / "dipdiff.toml"
        config.write_text(
            "[dipdiff]\ndelay = 0\nretries = 0\n[backfill]\ncdx_delay = 0\nmemento_delay = 0\n"
        )
        args = ("backfill", url, "--archive", arc.url, "--config", str(config))
        r = cli(*args)
        assert r.exit_code == 1, r.output
        r = cli(*args)
        assert r.exit_code == 0, r.output
        arc.too_many, arc.retry_after = 5, "0"
        r = cli(*args)
        assert r.exit_code == 2 and "the archive is limiting requests" in r.output, r.output


def test_setup_commands_exit_0_or_2(cli, server, tmp_path):
    folder = tmp_path / "project"
    r = cli("init", str(folder))
    assert r.exit_code == 0, r.output
    r = cli("sources", "--config", str(folder / "dipdiff.toml"))
    assert r.exit_code == 0, r.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[dipdiff]\nallow_private = true\ndelay = 'soon'\n", encoding="utf-8")
    r = cli("sources", "--config", str(bad))
    assert r.exit_code == 2, r.output
    assert "bad.toml" in r.output
    _site(server, {"/libya/": Response(page_bytes("state-libya.day1.html"))})
    config = _config(tmp_path, server)
    r = cli("sources", "--config", str(config), "check", "site")
    assert r.exit_code == 0, r.output
    server.set("/releases/", Response(b"<h1>Not found</h1>", 404))
    r = cli("sources", "--config", str(config), "check", "site")
    assert r.exit_code == 2, r.output
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine", encoding="utf-8")
    r = cli("demo", "--dir", str(tmp_path / "taken"))
    assert r.exit_code == 2, r.output
    assert (tmp_path / "taken" / "notes.txt").exists()


def test_site_exits_0_or_2_naming_what_is_wrong(cli, demo_store, tmp_path):
    out = tmp_path / "site"
    r = cli("site", str(out))
    assert r.exit_code == 0, r.output
    (out / ".dipdiff-site.json").write_text("{not json", encoding="utf-8")
    r = cli("site", str(out))
    assert r.exit_code == 2, r.output
    assert ".dipdiff-site.json" in r.output and "Traceback" not in r.output
    (tmp_path / "a-file").write_text("mine", encoding="utf-8")
    r = cli("site", str(tmp_path / "a-file"))
    assert r.exit_code == 2, r.output
    assert "a-file" in r.output and len(r.output.strip().splitlines()) == 1
    assert (tmp_path / "a-file").read_text(encoding="utf-8") == "mine"
    r = cli("site", str(out), "--window", "soon")
    assert r.exit_code == 2, r.output


def test_export_exits_0_or_2_naming_what_is_wrong(cli, demo_store, tmp_path):
    r = cli("export", "sqlite", str(tmp_path / "dipdiff.db"))
    assert r.exit_code == 0, r.output
    (tmp_path / "notes.db").write_text("mine", encoding="utf-8")
    r = cli("export", "sqlite", str(tmp_path / "notes.db"))
    assert r.exit_code == 2, r.output
    assert "notes.db" in r.output and "Traceback" not in r.output
    r = cli("export", "sqlite", str(tmp_path / "dipdiff.db"), "--window", "soon")
    assert r.exit_code == 2, r.output
    r = cli("export", "sqlite", str(tmp_path / "no" / "such" / "dir.db"))
    assert r.exit_code == 2, r.output
    assert "dir.db" in r.output and len(r.output.strip().splitlines()) == 1


def test_notify_exits_0_or_2(cli, server, tmp_path):
    config = tmp_path / "dipdiff.toml"
    config.write_text("", encoding="utf-8")
    r = cli("notify", "--config", str(config), "--test")
    assert r.exit_code == 0 and "no [notify] targets" in r.output, r.output
    server.set("/ok", Response(b"ok"))
    server.set("/down", Response(b"down", 503))
    for path, status in (("/ok", 0), ("/down", 2)):
        url = server.url(path).replace("http://", "json://")
        config.write_text(f'[notify.targets.t]\nurl = "{url}"\n', encoding="utf-8")
        r = cli("notify", "--config", str(config), "--test")
        assert r.exit_code == status, r.output
    r = cli("notify", "--config", str(tmp_path / "missing.toml"))
    assert r.exit_code == 2 and "missing.toml" in r.output, r.output


def test_config_check_exits_0_or_2(cli, tmp_path):
    config = tmp_path / "dipdiff.toml"
    config.write_text('[sources.state-dept]\npreset = "state-dept"\n', encoding="utf-8")
    r = cli("config", "check", "--config", str(config))
    assert r.exit_code == 0, r.output
    config.write_text("[signals]\nadd = 'oops'\n", encoding="utf-8")
    r = cli("config", "check", "--config", str(config))
    assert r.exit_code == 2 and "'add'" in r.output, r.output
    r = cli("config", "check", "--config", str(tmp_path / "missing.toml"))
    assert r.exit_code == 2 and "missing.toml" in r.output, r.output


def _command_names() -> set[str]:
    group = typer.main.get_command(app)
    names = set()
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        names.add(name)
        names |= {f"{name} {sub}" for sub in getattr(command, "commands", {})}
    return names


def test_every_command_has_its_exit_codes_tested():
    tested = set(READING) | {
        "fetch",
        "run",
        "merge",
        "snapshot",
        "import",
        "backfill",
        "init",
        "sources",
        "sources check",
        "demo",
        "site",
        "export",
        "export sqlite",
        "notify",
        "config",
        "config check",
    }
    assert _command_names() == tested  # a new command gets its statuses tested here


@pytest.mark.parametrize(
    ("raised", "status", "line"),
    [
        (
            RuntimeError("boom"),
            2,
            (
                "dipdiff: error: internal error: RuntimeError: boom "
                "(set DIPDIFF_DEBUG=1 for a traceback)"
            ),
        ),
        (
            PermissionError(13, "Permission denied", "/srv/snapshots/x/meta.json"),
            2,
            "dipdiff: error: /srv/snapshots/x/meta.json: Permission denied",
        ),
        (KeyboardInterrupt(), 130, "dipdiff: interrupted"),
    ],
)
def test_an_exception_becomes_its_status_and_one_line(
    demo_store, monkeypatch, raised, status, line
):
    def fail(*args, **kwargs):
        raise raised

    monkeypatch.setattr("dipdiff.store.store.Store.statement_ids", fail)
    r = demo_store("list")
    assert r.exit_code == status, r.output
    assert r.output.splitlines() == [line]


def test_dipdiff_debug_shows_an_internal_errors_traceback(demo_store, monkeypatch):
    monkeypatch.setattr("dipdiff.store.store.Store.statement_ids", lambda self: 1 / 0)
    r = demo_store("list", env={"DIPDIFF_DEBUG": "1"})
    assert isinstance(r.exception, ZeroDivisionError)


# Ctrl-C for real: the process is sent SIGINT while the server holds one page back.


class _Stall:
    """A route that holds its response until released (or 60 s)."""

    def __init__(self, response: Response) -> None:
        self.response = response
        self.release = threading.Event()

    def __call__(self, handler) -> Response:
        self.release.wait(60)
        return self.response


@contextlib.contextmanager
def _sigint_as_a_terminal_gives_it() -> Iterator[None]:
    """Children started here get Ctrl-C's default action. A suite started in the background by
    a shell without job control (`(pytest &)`, some CI runners) inherits SIGINT *ignored* and
    passes that on, and a Python started so ignores Ctrl-C: the run would end by itself. A
    handler (unlike "ignored") is reset to the default when the child starts its program."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def _wait_for(predicate, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _versions(store: Path) -> list[Path]:
    return [p for p in store.rglob("*.md") if VERSION_NAME.match(p.name)]


@pytest.mark.slow
@pytest.mark.parametrize("command", ["fetch", "run"])
def test_ctrl_c_exits_130_with_one_line_and_the_store_verifies(server, tmp_path, command):
    stall = _Stall(Response(page_bytes("whitehouse-haftar.day1.html")))
    _site(server, {"/libya/": Response(page_bytes("state-libya.day1.html")), "/haftar/": stall})
    config = _config(tmp_path, server)
    store = tmp_path / "snapshots"
    args = ["--store", str(store), command, "--config", str(config)]
    if command == "run":
        args += ["--quiet", "--reports", str(tmp_path / "reports")]
    env = {**os.environ, "NO_COLOR": "1", "DIPDIFF_NOW": "2019-04-20T09:00:00Z"}
    with _sigint_as_a_terminal_gives_it():
        proc = subprocess.Popen(
            [sys.executable, "-m", "dipdiff", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
    try:
        _wait_for(
            lambda: server.hits("/haftar/") and _versions(store),
            "the stalled request and one version",
        )
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        stall.release.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == ExitStatus.INTERRUPTED, err
    lines = err.splitlines()
    assert lines[-1] == "dipdiff: interrupted" and sum("interrupted" in ln for ln in lines) == 1, (
        err
    )
    assert "Traceback" not in err and "Aborted" not in err, err
    if command == "run":
        assert lines == ["dipdiff: interrupted"]
        (record,) = (store / "runs").iterdir()
        entry = json.loads(record.read_text(encoding="utf-8"))
        assert entry["status"] == "failed", entry
    assert verify(Store(store)) == []
    assert len(_versions(store)) == 1
    # The next run checks what the interrupted one did not finish, and records it.
    stall.release.set()
    r = subprocess.run(
        [sys.executable, "-m", "dipdiff", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "DIPDIFF_NOW": "2019-04-20T09:05:00Z"},
        check=False,
    )
    assert r.returncode == ExitStatus.DIFFERENCES, r.stderr
    assert len(_versions(store)) == 2
    assert verify(Store(store)) == []
