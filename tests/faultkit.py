"""Tools of the fault suite: synthetic statement sites, a crash driver, and kill campaigns.

Used by the fault tests (``tests/store/test_crash.py`` and others) and
``benchmarks/fault_summary.py``. Run as a script it is the *driver*: a real dipdiff process
that runs the real CLI commands over many pages and that can be told to SIGKILL itself at its
Nth file-system step (fsync, rename) so that a campaign can hit every point of a write, not
only the points a timer happens to land on::

    python tests/faultkit.py drive STORE SITE DAY [--kill-at N] [--trace FILE]
    python tests/faultkit.py hold STORE SECONDS      # hold the store's lock, then exit

The pages are written by us (modelled on state.gov's press-statement template), so the
suite needs no corpus and runs anywhere.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable

# What the fault tests tried; printed at the end of a pytest run (see conftest.py).
FIGURES: Counter[str] = Counter()


def figures_line(f: Counter[str]) -> str:
    lost = f["versions expected"] - f["versions found"]
    return (
        f"fault suite: {f['fault scenarios']} fault scenarios "
        f"({f['runs past a hostile page']} runs went on past a hostile page, "
        f"{f['runs past a network fault']} past a slow, faulty or refused request), "
        f"{f['kills survived']} SIGKILLs "
        f"survived, {f['pages fuzzed']} damaged pages and {f['configs fuzzed']} damaged configs "
        f"fuzzed, {f['damaged files tried']} damaged store files and git faults tried, "
        f"{f['runs that went on']} runs went on past them, "
        f"versions expected {f['versions expected']} / found {f['versions found']} "
        f"({'none' if lost == 0 else lost} lost)"
    )


_WORDS = (
    "the united states condemns welcomes urges calls for restraint ceasefire talks between "
    "parties government forces civilians humanitarian access support sovereignty territorial "
    "integrity of partners allies region security council resolution immediate halt military "
    "operations dialogue peaceful political solution we remain committed to working with "
    "international community sanctions accountability those responsible violence"
).split()

_TEMPLATE = """<!DOCTYPE html>
<html lang="en-US"><head><meta charset="UTF-8">
<title>{title} - United States Department of State</title>
<meta property="article:published_time" content="2019-04-{day:02d}T16:30:00+00:00">
<script>window.dataLayer = window.dataLayer || [];</script></head>
<body><header class="site-header"><nav><ul><li><a href="/about/">About</a></li></ul></nav></header>
<main id="content"><div class="featured-content"><p class="doctype-meta">Press Statement</p>
<h1 class="featured-content__headline">{title}</h1>
<div class="article-meta"><p class="article-meta__author-bureau">Office of the Spokesperson</p>
</div></div>
<div class="entry-content">
{paragraphs}
</div></main><footer>State Department footer</footer></body></html>
"""

_CAPTCHA = (
    b"<html><head><title>Just a moment...</title></head><body><h1>Checking your browser</h1>"
    b"<p>Please enable JavaScript and cookies to continue.</p></body></html>"
)


def statement_html(title: str, paragraphs: list[str], day: int = 1) -> bytes:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return _TEMPLATE.format(title=title, paragraphs=body, day=day).encode("utf-8")


@dataclass
class Site:
    """``pages`` statements over ``days`` days; each day some are edited, reverted or walled."""

    root: Path
    pages: int
    days: int
    seed: int = 0
    flips: bool = True  # A->B->A reverts (a restore: stored again, as the latest version)
    urls: list[str] = field(default_factory=list)

    def build(self, base_url: str = "https://www.state.gov/releases/2019/04/") -> Site:
        rng = random.Random(self.seed)
        self.urls = [
            f"{base_url}statement-{i:03d}-on-regional-security/" for i in range(self.pages)
        ]
        for i in range(self.pages):
            paras = [
                " ".join(rng.choice(_WORDS) for _ in range(rng.randint(18, 40))).capitalize() + "."
                for _ in range(rng.randint(2, 5))
            ]
            first = list(paras)
            title = f"Statement {i} on Regional Security"
            for day in range(1, self.days + 1):
                roll = rng.random()
                if day > 1 and roll < 0.35:  # a silent edit
                    k = rng.randrange(len(paras))
                    words = paras[k].split()
                    words[rng.randrange(len(words))] = rng.choice(_WORDS)
                    paras[k] = " ".join(words)
                elif (
                    day > 1 and roll < 0.45 and self.flips
                ):  # flip back to the first text (CDN flip-flop)
                    paras = list(first)
                content = (
                    _CAPTCHA
                    if day > 1 and 0.45 <= roll < 0.5
                    else statement_html(title, paras, day)
                )
                self.page_path(day, i).parent.mkdir(parents=True, exist_ok=True)
                self.page_path(day, i).write_bytes(content)
        return self

    def serve_day(self, server, day: int, listing: str = "/releases/") -> None:
        """Serve day ``day`` of the site on a :class:`~dipdiff.pipeline.server.LocalServer`.

        A listing and the pages.
        """
        from dipdiff.pipeline.server import Response

        items = "".join(
            f'<li class="item"><a href="{u}">Statement {i}</a></li>'
            for i, u in enumerate(self.urls)
        )
        server.set(listing, Response(f"<html><body><ul>{items}</ul></body></html>".encode()))
        for i, url in enumerate(self.urls):
            server.set(
                url.split(str(server.port), 1)[1], Response(self.page_path(day, i).read_bytes())
            )

    def page_path(self, day: int, i: int) -> Path:
        return self.root / f"day{day}" / f"{i:03d}.html"

    def fetched_at(self, day: int) -> str:
        return f"2019-04-{day:02d}T09:00:00Z"

    def expected_versions(self, through_day: int) -> dict[str, int]:
        """The versions a store must hold up to a day, by the recorder's rules: each new text of a
        page, and each return to an earlier text (a restore), except while the page flaps: its
        text changed on each of its last checks within the flap window (72 h, 3 days here), back
        and forth between two stored texts; that is recorded once and stores nothing until one
        text holds for ``SETTLE_SIGHTINGS`` checks."""
        from itertools import pairwise

        from dipdiff.config import Schedule
        from dipdiff.errors import ExtractError
        from dipdiff.pipeline.record import FLAP_SIGHTINGS, SETTLE_SIGHTINGS
        from dipdiff.scrape.charset import decode_html
        from dipdiff.scrape.extract import blocked_reason, extract
        from dipdiff.text import content_hash

        window = Schedule().flap_window / 86400
        out: dict[str, int] = {}
        for i, url in enumerate(self.urls):
            stored: list[str] = []
            seen: list[tuple[int, str]] = []  # (day, text) of each check that read the page
            flapping: set[str] = set()  # the two texts, while the last check saw one of them
            for day in range(1, through_day + 1):
                html = decode_html(self.page_path(day, i).read_bytes())
                try:
                    st = extract(html, url)
                except ExtractError:
                    st = None
                if st is None or blocked_reason(html, st):
                    flapping = set()  # a blocked check ends the spell's state
                    continue
                sha = content_hash(st.title, st.paragraphs)
                texts = [t for _, t in seen]
                if flapping and sha in flapping:
                    held = texts[-(SETTLE_SIGHTINGS - 1) :]
                    if len(held) == SETTLE_SIGHTINGS - 1 and set(held) == {sha}:
                        flapping = set()
                        if sha != stored[-1]:
                            stored.append(sha)
                elif not stored:
                    stored.append(sha)
                elif sha == stored[-1] or (texts and texts[-1] == sha and not flapping):
                    flapping = set()
                elif sha in stored:
                    recent = [t for d, t in seen if day - d <= window][-(FLAP_SIGHTINGS - 1) :]
                    both = [*recent, sha]
                    if (
                        len(both) >= FLAP_SIGHTINGS
                        and len(set(both)) == 2
                        and all(a != b for a, b in pairwise(both))
                    ):
                        flapping = set(both)
                    else:
                        stored.append(sha)
                else:
                    flapping = set()
                    stored.append(sha)
                seen.append((day, sha))
            out[url] = len(stored)
        return out


def stored_versions(store: Path) -> dict[str, int]:
    """URL -> number of version files, read straight from the store's files."""
    out: dict[str, int] = {}
    for meta in store.glob("*/*/meta.json"):
        url = json.loads(meta.read_text(encoding="utf-8"))["url"]
        out[url] = sum(1 for p in meta.parent.glob("*.md"))
    return out


# -- running real processes -------------------------------------------------------------------


def driver_command(
    store: Path,
    site: Site,
    day: int,
    *,
    kill_at: int | None = None,
    trace: Path | None = None,
    retry_lock: bool = False,
) -> list[str]:
    cmd = [
        PYTHON,
        str(HERE / "faultkit.py"),
        "drive",
        str(store),
        str(site.root),
        str(day),
        "--urls",
        ",".join(site.urls),
    ]
    if kill_at is not None:
        cmd += ["--kill-at", str(kill_at)]
    if trace is not None:
        cmd += ["--trace", str(trace)]
    if retry_lock:
        cmd += ["--retry-lock"]
    return cmd


def run_driver(store: Path, site: Site, day: int, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        driver_command(store, site, day, **kw),
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
        check=False,
    )


def fetch_config(path: Path, server, listing: str = "/releases/", timeout: float = 30) -> Path:
    """A ``dipdiff.toml`` with one listing source: the site served by ``server``. The timeout is
    long (a test that wants one passes its own): a page of the local server that is not slow by
    design must never time out, and 5 s did on a loaded machine (load 9, the suite on 4 workers),
    which lost a version a kill campaign then counted as lost."""
    path.write_text(
        "[dipdiff]\nallow_private = true\n"
        f"delay = 0\nrobots = false\nbackoff = 0.001\nretries = 0\ntimeout = {timeout}\n"
        f'[sources.fault-site]\nkind = "listing"\nurl = "{server.url(listing)}"\n'
        'selector = "li.item"\n'
        'agency = "Fault Site"\n',
        encoding="utf-8",
    )
    return path


def cli_command(*args: str, kill_at: int | None = None) -> list[str]:
    """The real CLI (``dipdiff ARGS``) in a driver process that can kill itself at a step."""
    return [PYTHON, str(HERE / "faultkit.py"), "cli", str(kill_at or 0), *args]


def fetch_kill_campaign(
    store: Path, site: Site, server, config: Path, kills_per_day: int, *, seed: int = 1
) -> CampaignResult:
    """Like :func:`kill_campaign`, for ``dipdiff fetch --all`` runs over the site on ``server``,
    killed by a timer (step kills of fetch runs: ``fetch_step_kills``)."""
    from dipdiff.store.store import Store
    from dipdiff.store.verify import verify as verify_store

    rng = random.Random(seed)
    res = CampaignResult()
    fetch = ("--store", str(store), "fetch", "--all", "--config", str(config))
    for day in range(1, site.days + 1):
        site.serve_day(server, day)
        for k in range(kills_per_day):
            proc = subprocess.Popen(
                cli_command(*fetch),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=_env(),
            )
            time.sleep(rng.uniform(0.3, 1.0))  # startup takes ~0.3 s, a run of 10 pages ~0.5 s
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            res.timer_kills += 1
            res.kills += 1
            after = subprocess.run(
                cli_command(*fetch), capture_output=True, text=True, env=_env(), check=False
            )
            if after.returncode not in (0, 1):
                res.problems.append(
                    f"day {day} kill {k}: next run failed: {after.stderr.strip()[-300:]}"
                )
                continue
            res.runs_after_kill_ok += 1
            problems = verify_store(Store(store)) + reported_once(store)
            res.problems += [f"day {day} kill {k}: verify: {p}" for p in problems]
            res.verifies_ok += not problems
        expected, found = site.expected_versions(day), stored_versions(store)
        lost = {u: (n, found.get(u, 0)) for u, n in expected.items() if found.get(u, 0) != n}
        if lost:
            res.problems.append(
                f"day {day}: versions expected/found differ for {len(lost)} page(s): "
                f"{sorted(lost.items())[:3]}"
            )
    _count_versions(res, site, store)
    return res


def fetch_step_kills(
    tmp: Path,
    site: Site,
    server,
    config: Path,
    day: int,
    stride: int = 1,
    pick: Callable[[list[str]], list[int]] | None = None,
) -> CampaignResult:
    """Kill a ``dipdiff fetch --all`` run of day ``day`` before each of its fsyncs/renames in turn
    (each time on a fresh copy of the store as it was after the day before); the next run must
    report every change exactly once and store no duplicate. ``pick``: which steps, from the
    trace of a run nobody killed (else every ``stride``-th). The trace is kept in
    ``CampaignResult.trace``."""
    import shutil

    from dipdiff.store.store import Store
    from dipdiff.store.verify import verify as verify_store

    res = CampaignResult()
    seed = tmp / "seed"
    for d in range(1, day):
        site.serve_day(server, d)
        subprocess.run(
            cli_command("--store", str(seed), "fetch", "--all", "--config", str(config)),
            capture_output=True,
            env=_env(),
            check=False,
        )
    site.serve_day(server, day)
    probe = tmp / "probe"
    shutil.copytree(seed, probe) if seed.exists() else None
    clean = subprocess.run(
        cli_command("--store", str(probe), "fetch", "--all", "--config", str(config)),
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    reported = [line for line in clean.stderr.splitlines() if line.startswith(("new ", "changed "))]
    res.trace = trace_of(clean)
    steps = (
        pick(res.trace) if pick else range(1, steps_of(clean) + 1, stride)
    )  # stride 3: before each write of a lone atomic write (fsync, rename, fsync)
    for n in steps:
        store = tmp / f"kill{n}"
        shutil.copytree(seed, store) if seed.exists() else None
        killed = subprocess.run(
            cli_command(
                "--store", str(store), "fetch", "--all", "--config", str(config), kill_at=n
            ),
            capture_output=True,
            env=_env(),
            check=False,
        )
        res.kills += 1
        res.step_kills += 1
        if killed.returncode != -signal.SIGKILL:
            res.problems.append(f"step {n}: the run was not killed (exit {killed.returncode})")
        after = subprocess.run(
            cli_command("--store", str(store), "fetch", "--all", "--config", str(config)),
            capture_output=True,
            text=True,
            env=_env(),
            check=False,
        )
        if after.returncode not in (0, 1):
            res.problems.append(f"step {n}: next run failed: {after.stderr.strip()[-300:]}")
            continue
        res.runs_after_kill_ok += 1
        problems = verify_store(Store(store))
        res.problems += [f"step {n}: verify: {p}" for p in problems]
        res.verifies_ok += not problems
        res.problems += [f"step {n}: {p}" for p in reported_once(store)]
        if stored_versions(store) != site.expected_versions(day):
            res.problems.append(
                f"step {n}: versions {stored_versions(store)} != {site.expected_versions(day)}"
            )
    res.versions_expected = sum(site.expected_versions(day).values()) * res.runs_after_kill_ok
    res.versions_found = sum(sum(stored_versions(tmp / f"kill{n}").values()) for n in steps)
    FIGURES["kills survived"] += res.runs_after_kill_ok
    FIGURES["versions expected"] += res.versions_expected
    FIGURES["versions found"] += res.versions_found
    assert reported  # the day really had news to report
    return res


def reported_once(store: Path) -> list[str]:
    """Every version was reported exactly once: one new/changed/restored check per version."""
    from dipdiff.store.store import Store

    out = []
    st = Store(store)
    for sid in st.statement_ids():
        storing = ("new", "changed", "restored")
        reports = sum(1 for c in st.meta(sid).checks if c["outcome"] in storing)
        versions = len(st.versions(sid))
        if reports != versions:
            out.append(f"{sid}: {versions} version(s) but {reports} storing report(s)")
    return out


def _count_versions(res: CampaignResult, site: Site, store: Path) -> None:
    expected, found = site.expected_versions(site.days), stored_versions(store)
    res.versions_expected = sum(expected.values())
    res.versions_found = sum(found.get(u, 0) for u in expected)
    FIGURES["kills survived"] += res.runs_after_kill_ok
    FIGURES["versions expected"] += res.versions_expected
    FIGURES["versions found"] += res.versions_found


def steps_of(run: subprocess.CompletedProcess) -> int:
    """The number of fsyncs and renames a finished driver run made (its last line says)."""
    return int(run.stdout.rsplit("steps ", 1)[1].split()[0])


def trace_of(run: subprocess.CompletedProcess) -> list[str]:
    """Each fsync and rename of a finished ``cli`` run, in order (``fsync PATH``,
    ``rename FROM TO``): the line before its last."""
    return json.loads(run.stdout.splitlines()[-2])


def around_renames(trace: list[str]) -> list[int]:
    """The steps (from 1) to kill before so that every state a group commit passes through is
    met: before each rename (the files before it in place, itself and those after it not: the
    first one leaves only synced temp files), and right after the last rename of a commit
    (every file in place, no folder synced, no check line appended yet)."""
    return [
        i
        for i, step in enumerate(trace, 1)
        if step.startswith("rename") or (i > 1 and trace[i - 2].startswith("rename"))
    ]


def dipdiff(*args: str, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    """Run the real ``dipdiff`` command (``python -m dipdiff``) in a child process."""
    return subprocess.run(
        [PYTHON, "-m", "dipdiff", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
        **kw,
        check=False,
    )


def _env() -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"}


@dataclass
class CampaignResult:
    kills: int = 0
    step_kills: int = 0
    timer_kills: int = 0
    runs_after_kill_ok: int = 0
    verifies_ok: int = 0
    versions_expected: int = 0
    versions_found: int = 0
    problems: list[str] = field(default_factory=list)
    clean_seconds: list[float] = field(default_factory=list)  # runs that nobody killed
    trace: list[str] = field(default_factory=list)  # the steps of a run nobody killed
    after_seconds: list[float] = field(default_factory=list)  # the runs right after a kill


def kill_campaign(
    store: Path, site: Site, kills_per_day: int, *, seed: int = 1, verify=None
) -> CampaignResult:
    """For each day: kill runs at random points (steps and timers), and after every kill
    check that the next run succeeds, the store verifies and no version is lost."""
    from dipdiff.store.store import Store
    from dipdiff.store.verify import verify as verify_store

    rng = random.Random(seed)
    res = CampaignResult()
    verify = verify or (lambda: verify_store(Store(store)))
    for day in range(1, site.days + 1):
        started = time.monotonic()
        full = run_driver(store, site, day)  # a clean run first: measures the day's steps and time
        if full.returncode != 0:
            res.problems.append(f"day {day}: clean run failed: {full.stderr.strip()[-300:]}")
            return res
        steps = steps_of(full)
        seconds = time.monotonic() - started
        res.clean_seconds.append(seconds)
        for k in range(kills_per_day):
            # Re-running a finished day writes only check history, so kills land in
            # meta.json writes; the store is rolled back to the previous day first to
            # kill runs that write versions too, every other time.
            if k % 2 == 0:
                _rewind(store, site, day)
            if k % 3 == 2:  # a timer: lands anywhere, including mid-write and during startup
                proc = subprocess.Popen(
                    driver_command(store, site, day),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    env=_env(),
                )
                time.sleep(rng.uniform(0.05, seconds))
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                res.timer_kills += 1
            else:  # the Nth fsync/rename of the run, before it happens
                proc = subprocess.Popen(
                    driver_command(store, site, day, kill_at=rng.randint(1, max(steps, 1))),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    env=_env(),
                )
                proc.wait()
                res.step_kills += 1
            res.kills += 1
            started = time.monotonic()
            after = run_driver(store, site, day)
            res.after_seconds.append(time.monotonic() - started)
            if after.returncode != 0:
                res.problems.append(
                    f"day {day} kill {k}: next run failed: {after.stderr.strip()[-300:]}"
                )
                continue
            res.runs_after_kill_ok += 1
            problems = verify() + reported_once(store)
            if problems:
                res.problems += [f"day {day} kill {k}: verify: {p}" for p in problems]
            else:
                res.verifies_ok += 1
        expected, found = site.expected_versions(day), stored_versions(store)
        lost = {u: (n, found.get(u, 0)) for u, n in expected.items() if found.get(u, 0) != n}
        if lost:
            res.problems.append(
                f"day {day}: versions expected/found differ for {len(lost)} page(s): "
                f"{sorted(lost.items())[:3]}"
            )
    expected, found = site.expected_versions(site.days), stored_versions(store)
    res.versions_expected = sum(expected.values())
    res.versions_found = sum(found.get(u, 0) for u in expected)
    FIGURES["kills survived"] += res.runs_after_kill_ok
    FIGURES["versions expected"] += res.versions_expected
    FIGURES["versions found"] += res.versions_found
    return res


def _rewind(store: Path, site: Site, day: int) -> None:
    """Undo day ``day`` in the store (as if it had not run yet), keeping earlier days."""
    from dipdiff.store.store import Store

    cutoff = site.fetched_at(day).replace(":", "")
    for version in sorted(store.glob("*/*/*.md")):
        if version.name >= cutoff:
            raw = version.parent / "raw" / (version.name[:-3] + ".html.gz")
            raw.unlink(missing_ok=True)
            version.unlink()
    for history in store.glob("*/*/checks.jsonl"):
        lines = history.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [ln for ln in lines if json.loads(ln)["time"] < site.fetched_at(day)]
        history.write_text("".join(kept), encoding="utf-8")
    Store(store).repair()  # statements that now hold nothing


# -- the driver (runs in the child process) ------------------------------------------------------


def _arm_kill(n: int) -> None:
    """SIGKILL this process right before its Nth fsync or rename."""
    count = 0

    def wrap(fn):
        def inner(*a, **k):
            nonlocal count
            count += 1
            if count == n:
                os.kill(os.getpid(), signal.SIGKILL)
            return fn(*a, **k)

        return inner

    os.fsync = wrap(os.fsync)
    os.replace = wrap(os.replace)


def _count_steps(trace: list[str] | None = None) -> list[int]:
    """Count fsyncs and renames; ``trace`` gets one line per step: ``fsync PATH`` (the file
    or folder synced) or ``rename FROM TO``."""
    counter = [0]

    def wrap(fn, kind):
        def inner(*a, **k):
            counter[0] += 1
            if trace is not None:
                what = [Path(f"/proc/self/fd/{a[0]}").readlink()] if kind == "fsync" else a[:2]
                trace.append(" ".join([kind, *map(str, what)]))
            return fn(*a, **k)

        return inner

    os.fsync = wrap(os.fsync, "fsync")
    os.replace = wrap(os.replace, "rename")
    return counter


def _trace_lock(trace: Path) -> None:
    """Append ``pid enter|write|exit monotonic_ns`` lines, to prove that writers never overlap."""
    import contextlib
    import fcntl

    from dipdiff.store import store as store_mod

    fd = os.open(trace, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def note(what: str) -> None:
        os.write(fd, f"{os.getpid()} {what} {time.monotonic_ns()}\n".encode())

    original_lock = store_mod.Store.lock
    original_replace = os.replace
    original_flock = store_mod.fcntl.flock

    def flock(fd, op):
        original_flock(fd, op)
        if op & fcntl.LOCK_EX:
            note("enter")  # the moment the lock is granted

    @contextlib.contextmanager
    def lock(self, wait: float = 0.0):
        with original_lock(self, wait):
            try:
                yield
            finally:
                note("exit")  # before the lock is released

    class _Fcntl:  # the store module's view of fcntl, with flock traced
        def __getattr__(self, name):
            return flock if name == "flock" else getattr(fcntl, name)

    store_mod.fcntl = _Fcntl()  # type: ignore[assignment]

    def replace(*a, **k):
        note("write")
        return original_replace(*a, **k)

    store_mod.Store.lock = lock  # type: ignore[method-assign]
    os.replace = replace


def _drive(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("site")
    ap.add_argument("day", type=int)
    ap.add_argument("--urls", required=True)
    ap.add_argument("--kill-at", type=int)
    ap.add_argument("--trace", type=Path)
    ap.add_argument("--retry-lock", action="store_true")
    args = ap.parse_args(argv)
    if args.trace:
        _trace_lock(args.trace)
    steps = _count_steps()
    if args.kill_at:
        _arm_kill(args.kill_at)
    from dipdiff.cli.app import app

    site = Site(Path(args.site), 0, 0, urls=args.urls.split(","))
    failed = 0
    for i, url in enumerate(site.urls):
        cmd = [
            "--store",
            args.store,
            "import",
            str(site.page_path(args.day, i)),
            "--url",
            url,
            "--fetched-at",
            site.fetched_at(args.day),
        ]
        # 0 nothing new, 1 a change recorded, 2 trouble (a lock held, a write that failed)
        for _attempt in range(200):
            code = app(cmd, standalone_mode=False)
            if code not in (None, 0, 1) and args.retry_lock:
                time.sleep(0.01)  # another run holds the lock: its error line went to stderr
                continue
            break
        failed += code not in (None, 0, 1)
    print(f"steps {steps[0]} failed {failed}")
    return 1 if failed else 0


def _cli(argv: list[str]) -> int:
    """``cli N ARGS...``: run ``dipdiff ARGS`` (the real CLI); SIGKILL at step N unless N is 0."""
    from dipdiff.clock import utc_timestamp

    print(f"started {utc_timestamp()}", flush=True)
    trace: list[str] = []
    steps = _count_steps(trace)
    if int(argv[0]):
        _arm_kill(int(argv[0]))
    from dipdiff.cli.app import app

    code = app(argv[1:], standalone_mode=False)
    print(json.dumps(trace), flush=True)
    print(f"steps {steps[0]}", flush=True)
    return code or 0


def _hold(argv: list[str]) -> int:
    from dipdiff.store.store import Store

    with Store(argv[0]).lock():
        print("locked", flush=True)
        time.sleep(float(argv[1]))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    command, rest = sys.argv[1], sys.argv[2:]
    sys.exit({"drive": _drive, "hold": _hold, "cli": _cli}[command](rest))


_TALKS = (
    "the united states calls on all parties to respect the ceasefire and return to talks".split()
)


class ListingSite:
    """Statements on one listing page of a local server, for whole monitoring runs: `edit(i)`
    changes statement i, `add(i)` publishes one more."""

    def __init__(self, server: Any, pages: int) -> None:
        self.server = server
        self.listed: list[int] = []
        self.texts: dict[int, list[str]] = {}
        for i in range(pages):
            self.add(i)

    def path(self, i: int) -> str:
        return f"/releases/statement-{i}-on-regional-talks/"

    def add(self, i: int) -> None:
        self.texts[i] = [" ".join(_TALKS[k:] + _TALKS[:k]).capitalize() + "." for k in (i, i + 3)]
        self.listed.append(i)
        self._serve(i)

    def edit(self, i: int, words: str) -> None:
        self.texts[i] = [f"{self.texts[i][0][:-1]} {words}.", *self.texts[i][1:]]
        self._serve(i)

    def _serve(self, i: int) -> None:
        from dipdiff.pipeline.server import Response

        self.server.set(
            self.path(i), Response(statement_html(f"Statement {i} on Talks", self.texts[i]))
        )
        items = "".join(
            f'<li class="item"><a href="{self.path(n)}">{n}</a></li>' for n in self.listed
        )
        self.server.set("/releases/", Response(f"<html><ul>{items}</ul></html>".encode()))
