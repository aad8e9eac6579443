"""Benchmark: one `dipdiff run` against N shards (`run --shard I/N`) as processes, and the merge.

    python benchmarks/bench_shards.py [--sources 1000] [--hosts 50] [--delay 0.1]
                                      [--latency 0.02] [--shards 1,2,4,8]

Each of ``--hosts`` local servers (127.0.0.1, one port each: one host each, as the fetcher
is polite to scheme and authority) serves ``--sources / --hosts`` listing sources, each
listing one statement page, answering every request after ``--latency`` seconds (a
government server's think time). The config asks a ``--delay`` between two requests to
one host, as dipdiff's politeness does. Sources are listed host by host in turn.

For each N, a bare git remote holds the config; N clones each run their shard at the same
time (N processes; the wall time is until the last one finishes, interpreter start-up
included), commit and push their own branch; then one clone runs ``dipdiff merge`` of the
N branches with ``--commit`` (timed: git's merge, the report, the index and the feed).
N = 1 is the baseline: one unsharded ``dipdiff run --commit``, measured in the same run,
and no merge. The speed-up is the baseline's wall time over the sharded run's, with and
without the merge; on a machine of few cores the processes also share the CPU, which the
figures show as the gap to N. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from dipdiff.pipeline.server import LocalServer, Response, Route

NOW = "2026-11-20T09:00:00Z"
PAGE = """<!DOCTYPE html>
<html lang="en-US"><head><meta charset="UTF-8"><title>{title}</title>
<meta property="article:published_time" content="2026-11-19T16:30:00+00:00"></head>
<body><header><nav><a href="/about/">About</a></nav></header>
<main id="content"><h1>{title}</h1>
<div class="entry-content">{paragraphs}</div></main><footer>Footer</footer></body></html>
"""
WORDS = (
    "the ministry calls on all parties to respect the ceasefire return to talks and protect "
    "civilians while humanitarian access must be restored without delay across the region"
).split()


def slow(response: Response, latency: float) -> Route:
    def serve(_: BaseHTTPRequestHandler) -> Response:
        time.sleep(latency)
        return response

    return serve


def serve_sources(servers: list[LocalServer], sources: int, latency: float) -> str:
    """Routes for ``sources`` listings of one statement each, in turn on each server; the
    config that names them."""
    config = ""
    for n in range(sources):
        srv = servers[n % len(servers)]
        page = f"/s{n}/statement-{n}-on-the-ceasefire/"
        text = "".join(
            f"<p>Source {n}, paragraph {k}: {' '.join(WORDS[k:] + WORDS[:k])}.</p>"
            for k in range(4)
        )
        html = PAGE.format(title=f"Statement {n} on the ceasefire", paragraphs=text)
        srv.set(page, slow(Response(html.encode()), latency))
        listing = f'<html><ul><li class="item"><a href="{page}">{n}</a></li></ul></html>'
        srv.set(f"/s{n}/", slow(Response(listing.encode()), latency))
        config += (
            f'[sources.src{n:04d}]\nkind = "listing"\nurl = "{srv.url(f"/s{n}/")}"\n'
            f'agency = "Agency {n % len(servers)}"\nselector = "li.item"\n'
        )
    return config


def git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@example.org", *args],
        cwd=folder,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def dipdiff(*args: str) -> list[str]:
    return [sys.executable, "-m", "dipdiff", *args]


def timed(commands: list[tuple[list[str], Path]]) -> float:
    """Start every command at once; the wall time until the last one finishes."""
    env = {**os.environ, "DIPDIFF_NOW": NOW}
    started = time.perf_counter()
    procs = [
        subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for cmd, cwd in commands
    ]
    for p in procs:
        _, err = p.communicate()
        if p.returncode not in (0, 1):
            raise SystemExit(f"failed ({p.returncode}): {err.decode()[-800:]}")
    return time.perf_counter() - started


def remote(root: Path, config: str) -> Path:
    root.mkdir(parents=True)
    bare = root / "origin.git"
    git(root, "init", "-q", "--bare", "-b", "main", str(bare))
    setup = root / "setup"
    git(root, "clone", "-q", str(bare), str(setup))
    (setup / "dipdiff.toml").write_text(config, encoding="utf-8")
    git(setup, "add", "dipdiff.toml")
    git(setup, "commit", "-qm", "config")
    git(setup, "push", "-q", "origin", "main")
    return bare


def one_round(root: Path, config: str, n: int) -> tuple[float, float | None, int]:
    """Wall time of the N shards, of the merge (None for the unsharded baseline), and the
    statements the merged store holds."""
    bare = remote(root, config)
    clones = [root / f"shard{i}" for i in range(1, n + 1)]
    for c in clones:
        git(root, "clone", "-q", str(bare), str(c))
    if n == 1:
        wall = timed([(dipdiff("run", "--commit"), clones[0])])
        return wall, None, count(clones[0])
    for i, c in enumerate(clones, 1):
        git(c, "checkout", "-q", "-b", f"shard-{i}")
    wall = timed(
        [(dipdiff("run", "--shard", f"{i}/{n}", "--commit"), c) for i, c in enumerate(clones, 1)]
    )
    for i, c in enumerate(clones, 1):
        git(c, "push", "-q", "origin", f"shard-{i}")
    merger = root / "merger"
    git(root, "clone", "-q", str(bare), str(merger))
    git(merger, "fetch", "-q", "origin")
    branches = [f"origin/shard-{i}" for i in range(1, n + 1)]
    merge = timed([(dipdiff("merge", *branches, "--commit"), merger)])
    return wall, merge, count(merger)


def count(folder: Path) -> int:
    return sum(1 for _ in (folder / "snapshots").rglob("meta.json"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sources", type=int, default=1000)
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--delay", type=float, default=0.1, help="politeness: s between requests")
    ap.add_argument("--latency", type=float, default=0.02, help="each response's think time")
    ap.add_argument("--shards", default="1,2,4,8")
    args = ap.parse_args()
    counts = [int(x) for x in args.shards.split(",")]
    servers = [LocalServer() for _ in range(args.hosts)]
    for srv in servers:
        srv.__enter__()
    root = Path(tempfile.mkdtemp(prefix="bench-shards-"))
    try:
        head = (
            f"[dipdiff]\nallow_private = true\ndelay = {args.delay}\nrobots = false\nretries = 0\n"
        )
        config = head + serve_sources(servers, args.sources, args.latency)
        print(
            f"{args.sources} sources on {args.hosts} hosts, one statement each; delay "
            f"{args.delay:g} s per host, latency {args.latency:g} s per response; "
            f"{os.cpu_count()} CPU(s)"
        )
        print(
            f"{'shards':>6} {'run s':>8} {'merge s':>8} {'total s':>8} {'speed-up':>9} "
            f"{'with merge':>11} {'statements':>11}"
        )
        baseline: float | None = None
        for n in counts:
            wall, merge, stored = one_round(root / f"n{n}", config, n)
            total = wall + (merge or 0.0)
            baseline = baseline or total
            print(
                f"{n:>6} {wall:>8.1f} {merge if merge is not None else 0:>8.1f} {total:>8.1f} "
                f"{baseline / wall:>8.2f}x {baseline / total:>10.2f}x {stored:>11}"
            )
            if stored != args.sources:
                raise SystemExit(f"{n} shards stored {stored} statements, not {args.sources}")
    finally:
        for srv in servers:
            srv.__exit__(None, None, None)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
