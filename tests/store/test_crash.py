"""Crash safety and concurrency with real processes: SIGKILL at random points, two runs at once.

The driver (``tests/faultkit.py drive``) runs the real ``dipdiff import`` command over many
pages in one process, and can SIGKILL itself right before its Nth fsync or rename.
"""

from __future__ import annotations

import itertools
import signal
import subprocess
from pathlib import Path

import pytest

from dipdiff.store.store import Store
from dipdiff.store.verify import verify
from faultkit import (
    FIGURES,
    Site,
    around_renames,
    dipdiff,
    driver_command,
    fetch_config,
    fetch_kill_campaign,
    fetch_step_kills,
    kill_campaign,
    run_driver,
    steps_of,
    stored_versions,
)

pytestmark = pytest.mark.slow  # real processes killed and restarted: ~80 s in all


@pytest.fixture
def site(tmp_path):
    return Site(tmp_path / "site", pages=6, days=3, seed=7).build()


def test_sigkill_at_random_points_loses_nothing(tmp_path, site):
    store = tmp_path / "snapshots"
    result = kill_campaign(store, site, kills_per_day=2, seed=11)
    assert result.problems == []
    assert result.kills == 6 and result.runs_after_kill_ok == 6 and result.verifies_ok == 6
    assert result.versions_found == result.versions_expected > site.pages
    assert not list(store.rglob("*.tmp"))


def test_sigkill_before_every_other_step_of_a_write(tmp_path, cli):
    """One new page: kill before every other fsync and rename in turn (each atomic write is
    fsync, rename, fsync of the folder, so this lands before and inside every write);
    every state must recover. The benchmark kills before every single step."""
    site = Site(tmp_path / "site", pages=1, days=1, seed=3).build()
    probe = run_driver(tmp_path / "probe", site, 1)
    steps = steps_of(probe)
    assert steps >= 9  # meta.json, raw page, version, check history: 3 steps each at least
    for n in range(1, steps + 1, 2):
        store = tmp_path / f"s{n}"
        killed = subprocess.run(
            driver_command(store, site, 1, kill_at=n), capture_output=True, check=False
        )
        assert killed.returncode == -signal.SIGKILL, (n, killed.stderr)
        # Right after the kill, the only problems are leftovers that the next run removes.
        assert all("a run was interrupted" in p for p in verify(Store(store))), n
        if n % 2:
            Store(store).repair()
            assert all("no check records this version" in p for p in verify(Store(store))), n
        recorded = [
            c for sid in Store(store).statement_ids() for c in Store(store).meta(sid).checks
        ]
        cli.store = store  # the next run, in-process: the same command, a faster test
        r = cli(
            "import",
            str(site.page_path(1, 0)),
            "--url",
            site.urls[0],
            "--fetched-at",
            site.fetched_at(1),
        )
        assert r.exit_code == (0 if recorded else 1), (n, r.output)
        # No change is ever silent: unless the killed run recorded it, the next run reports it.
        assert r.output.startswith("unchanged" if recorded else "new"), (n, r.output)
        assert stored_versions(store) == site.expected_versions(1), n
        assert verify(Store(store)) == []
        FIGURES["kills survived"] += 1
    FIGURES["fault scenarios"] += 1


def _intervals(trace):
    spans, writes, open_ = [], [], {}
    for line in trace.read_text().splitlines():
        pid, what, t = line.split()
        if what == "enter":
            open_[pid] = int(t)
        elif what == "exit":
            spans.append((open_.pop(pid), int(t), pid))
        else:
            writes.append((int(t), pid))
    return sorted(spans), writes


def test_two_runs_at_once_never_both_write(tmp_path):
    site = Site(tmp_path / "site", pages=20, days=1, seed=5).build()
    store, trace = tmp_path / "snapshots", tmp_path / "trace"
    procs = [
        subprocess.Popen(
            driver_command(store, site, 1, trace=trace, retry_lock=True),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    spans, writes = _intervals(trace)
    pids = {pid for *_, pid in spans}
    assert len(pids) == 2
    first = {pid: min(s for s, _, p in spans if p == pid) for pid in pids}
    last = {pid: max(e for _, e, p in spans if p == pid) for pid in pids}
    a, b = pids
    assert first[a] < last[b] and first[b] < last[a], "the two runs did not overlap in time"
    for (_, e1, p1), (s2, _, p2) in itertools.pairwise(spans):
        assert e1 <= s2, f"pid {p1} and pid {p2} held the lock at the same time"
    for t, pid in writes:
        assert any(s <= t <= e and p == pid for s, e, p in spans), (
            f"pid {pid} wrote without the lock"
        )
    assert stored_versions(store) == site.expected_versions(1)
    assert verify(Store(store)) == []
    FIGURES["fault scenarios"] += 1


def test_a_held_lock_is_one_line_and_a_killed_holders_lock_is_recovered(tmp_path):
    site = Site(tmp_path / "site", pages=1, days=1).build()
    store = tmp_path / "snapshots"
    holder = subprocess.Popen(
        [*driver_command(store, site, 1)[:2], "hold", str(store), "60"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        args = ("--store", str(store), "import", str(site.page_path(1, 0)), "--url", site.urls[0])
        r = dipdiff(*args)
        assert r.returncode == 2 and r.stdout == ""
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
        assert (
            f"{store / '.lock'}: another dipdiff run holds the lock (pid {holder.pid}" in r.stderr
        )
        assert stored_versions(store) == {}
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert f"pid {holder.pid}" in (store / ".lock").read_text()  # the stale note stays behind...
    r = dipdiff(*args)
    assert r.returncode == 1, r.stderr  # ...but the kernel released the lock with the process
    assert r.stdout.startswith("new")
    assert dipdiff("--store", str(store), "verify").returncode == 0
    FIGURES["fault scenarios"] += 2


def test_sigkill_during_fetch_runs_loses_nothing(tmp_path, server):
    """The real `dipdiff fetch --all` over a 10-page listing on a local server, killed and rerun."""
    site = Site(tmp_path / "site", pages=10, days=3, seed=9, flips=False).build(
        server.url("/releases/2019/")
    )
    store = tmp_path / "snapshots"
    config = fetch_config(tmp_path / "dipdiff.toml", server)
    result = fetch_kill_campaign(store, site, server, config, kills_per_day=1, seed=4)
    assert result.problems == []
    assert result.kills == 3 and result.runs_after_kill_ok == 3 and result.verifies_ok == 3
    assert result.versions_found == result.versions_expected > site.pages


def test_sigkill_before_every_step_of_a_fetch_run(tmp_path, server):
    """Day 2 of a fetch run changes one statement and finds a new one; kill before each step."""
    site = Site(tmp_path / "site", pages=2, days=2, seed=3, flips=False).build(
        server.url("/releases/2019/")
    )
    site.page_path(1, 1).write_bytes(b"<html><body><h1>Not yet</h1></body></html>")  # new on day 2
    site.page_path(2, 0).write_bytes(
        site.page_path(1, 0).read_bytes().replace(b"<p>", b"<p>Updated: ", 1)
    )
    config = fetch_config(tmp_path / "dipdiff.toml", server)
    result = fetch_step_kills(tmp_path, site, server, config, day=2, pick=around_renames)
    assert result.problems == []
    assert result.runs_after_kill_ok == result.kills == result.verifies_ok
    # What a power cut needs, which no kill can show: each file's bytes are synced before its
    # name appears, and its folder after (the run's check lines, appended after that, are
    # synced when it ends).
    renames = [step.split()[1:] for step in result.trace if step.startswith("rename")]
    assert len(renames) >= 4, result.trace  # a raw page and a version, for each statement
    assert result.kills > len(renames)  # before each, and after the last of each commit
    for tmp, final in renames:
        at = result.trace.index(f"rename {tmp} {final}")
        assert f"fsync {tmp}" in result.trace[:at], (tmp, result.trace)
        assert f"fsync {Path(final).parent}" in result.trace[at:], (final, result.trace)
    FIGURES["fault scenarios"] += 1
