"""Sharded runs (`dipdiff run --shard I/N`) in separate clones, merged through git.

Four local servers stand for four hosts, two sources each. Every shard runs in its own
clone of one bare remote and pushes its own branch; a third clone merges the branches with
`dipdiff merge`. The merged store must be the store one unsharded run makes, the shards
must never write the same file, and merging again must change nothing.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import yaml

from dipdiff.errors import InputError
from dipdiff.pipeline.init import WORKFLOW_PATH, sharded_workflow
from dipdiff.pipeline.server import LocalServer, Response, Route
from dipdiff.pipeline.shard import Shard, parse_shard, shard_of
from faultkit import statement_html
from helpers import Cli

pytestmark = pytest.mark.slow  # real clones, pushes and merges: several seconds per N

HOSTS = 4
STORE_OWN = {f"snapshots/{f}" for f in (".gitignore", ".gitattributes", "store.json")}
WORDS = (
    "the united states calls on all parties to respect the ceasefire and return to talks".split()
)
SHARD_TAG = re.compile(rb'("(?:run|after)": "[^"]+?)-shard\d+of\d+(?=")')
DAY1, DAY2 = "2026-11-20T09:00:00Z", "2026-11-21T09:00:00Z"


def git(repo: Path, *args: str) -> str:
    r = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, f"git {' '.join(args)}: {r.stdout}{r.stderr}"
    return r.stdout


@pytest.fixture
def hosts() -> Iterator[list[LocalServer]]:
    servers = [LocalServer() for _ in range(HOSTS)]
    for h, srv in enumerate(servers):
        srv.__enter__()
        for src in "ab":
            items = ""
            for i in range(2):
                path = f"/{src}/statement-{h}-{src}-{i}-on-talks/"
                text = [
                    f"Host {h} source {src} statement {i}: {' '.join(WORDS[k:] + WORDS[:k])}."
                    for k in (h, i + 3)
                ]
                srv.set(path, Response(statement_html(f"Statement {h}{src}{i}", text)))
                items += f'<li class="item"><a href="{path}">{i}</a></li>'
            srv.set(f"/{src}/", Response(f"<html><ul>{items}</ul></html>".encode()))
    yield servers
    for srv in servers:
        srv.__exit__(None, None, None)


@pytest.fixture
def origin(tmp_path: Path, hosts: list[LocalServer]) -> Path:
    """A bare remote whose main holds the config of eight sources on four hosts."""
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    setup = clone(bare, tmp_path / "setup")
    (setup / "dipdiff.toml").write_text(config_text(hosts), encoding="utf-8")
    git(setup, "add", "dipdiff.toml")
    git(setup, "commit", "-qm", "config")
    git(setup, "push", "-q", "origin", "main")
    return bare


def config_text(hosts: list[LocalServer], fetch: str = "") -> str:
    """Eight sources, two on each host; ``fetch``: more [dipdiff] keys."""
    config = f"[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\n{fetch}"
    for h, srv in enumerate(hosts):
        for src in "ab":
            config += (
                f'[sources.host{h}-{src}]\nkind = "listing"\nurl = "{srv.url(f"/{src}/")}"\n'
                f'agency = "Agency {h}"\nselector = "li.item"\n'
            )
    return config


def clone(bare: Path, folder: Path) -> Path:
    git(bare.parent, "clone", "-q", str(bare), str(folder))
    return folder


def dipdiff(folder: Path, *args: str, when: str) -> int:
    r = Cli(folder / "snapshots")(*args, env={"DIPDIFF_NOW": when})
    assert r.exit_code in (0, 1), r.output
    return r.exit_code


def run_shard(
    bare: Path, folder: Path, shard: str, when: str, *, push: bool = True
) -> dict[str, str]:
    """One shard's job: clone (or pull), run, commit, push its branch; the files it changed
    (path -> git blob)."""
    if not folder.exists():
        clone(bare, folder)
    branch = "shard-" + shard.replace("/", "-of-")
    git(folder, "fetch", "-q", "origin")
    git(folder, "checkout", "-q", "-B", branch, "origin/main")
    config = str(folder / "dipdiff.toml")
    dipdiff(folder, "run", "--config", config, "--commit", "--shard", shard, when=when)
    names = git(folder, "diff", "--name-only", "origin/main", "HEAD").split()
    changed = {n: git(folder, "rev-parse", f"HEAD:{n}").strip() for n in names}
    if push:
        git(folder, "push", "-q", "-f", "origin", branch)
    return changed


def merge(bare: Path, folder: Path, n: int, when: str) -> str:
    """The merge job: fetch the shards' branches, `dipdiff merge` them, push main."""
    git(folder, "checkout", "-q", "main")
    git(folder, "pull", "-q", "--ff-only", "origin", "main")
    git(folder, "fetch", "-q", "origin")
    branches = git(folder, "branch", "-r", "--list", "origin/shard-*").split()
    dipdiff(folder, "merge", *sorted(branches), "--commit", when=when)
    assert git(folder, "ls-files", "--unmerged") == ""
    git(folder, "push", "-q", "origin", "main")
    for b in branches:  # each shard's branch is used once
        git(folder, "push", "-q", "origin", "--delete", b.removeprefix("origin/"))
    return git(folder, "rev-parse", "HEAD").strip()


def store_files(folder: Path) -> dict[str, bytes]:
    """The store's files that are not per run (run records differ by nature: N vs 1), each
    check naming its run without the shard's tag (a shard's run ID is the run's plus it)."""
    root = folder / "snapshots"
    return {
        str(p.relative_to(root)): SHARD_TAG.sub(rb"\1", p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and "runs" not in p.relative_to(root).parts
        and not p.name.startswith(".")
        and p.name != "store.json"
    }


def counts_line(folder: Path, day: str) -> str:
    return (folder / "reports" / f"{day}.md").read_text(encoding="utf-8").splitlines()[0]


@pytest.mark.parametrize("n", [1, 2, 4, 8])
def test_sharded_runs_merge_into_the_store_of_one_run(tmp_path, origin, n):
    single = clone(origin, tmp_path / "single")
    dipdiff(single, "run", "--config", str(single / "dipdiff.toml"), "--commit", when=DAY1)

    changed = [run_shard(origin, tmp_path / f"shard{i}", f"{i}/{n}", DAY1) for i in range(1, n + 1)]
    for i in range(n):
        for j in range(i + 1, n):
            both = changed[i].keys() & changed[j].keys()
            # A store's first run writes its own files; every shard writes the same bytes.
            assert both <= STORE_OWN, f"shards {i + 1} and {j + 1} both wrote {both - STORE_OWN}"
            assert all(changed[i][f] == changed[j][f] for f in both), both
    assert sum(1 for c in changed for f in c if f.endswith("meta.json")) == 2 * 2 * HOSTS

    merger = clone(origin, tmp_path / "merger")
    head = merge(origin, merger, n, DAY1)
    assert store_files(merger) == store_files(single)
    # One run record per shard that had sources (a shard with none has nothing to commit).
    assert len(list((merger / "snapshots" / "runs").glob("*.json"))) == sum(1 for c in changed if c)
    day = DAY1[:10]
    assert counts_line(merger, day) == counts_line(single, day)
    assert f'"new": {2 * 2 * HOSTS},' in counts_line(merger, day)
    # The merge commit lists each event as the shards' recorders wrote it, once.
    message = git(merger, "log", "-1", "--format=%B")
    assert message.count("\n- new ") == 2 * 2 * HOSTS, message

    # Merging again changes nothing: no commit, no modified file.
    dipdiff(merger, "merge", "--commit", when=DAY1)
    assert git(merger, "rev-parse", "HEAD").strip() == head
    assert git(merger, "status", "--porcelain") == ""


def test_a_shard_that_never_pushed_is_picked_up_by_the_next_run(tmp_path, origin, hosts):
    # The ports are random: take the first N for which the four hosts fall in two shards or more.
    n = next(n for n in range(2, 9) if len({shard_of(srv.url("/"), n) for srv in hosts}) > 1)
    owned = sorted({shard_of(srv.url("/"), n) for srv in hosts})
    lost_shard, kept = owned[0], owned[1:]
    # Killed before its push: its commit never reaches the remote.
    lost = run_shard(origin, tmp_path / "lost", f"{lost_shard}/{n}", DAY1, push=False)
    assert lost.keys() - STORE_OWN
    for i in kept:
        run_shard(origin, tmp_path / f"shard{i}", f"{i}/{n}", DAY1)
    merger = clone(origin, tmp_path / "merger")
    merge(origin, merger, n, DAY1)
    first = {f"snapshots/{f}" for f in store_files(merger)}
    assert not (lost.keys() - STORE_OWN) & first

    # The next day every shard runs in a fresh job from the merged main: the lost ones are new.
    for i in owned:
        run_shard(origin, tmp_path / f"day2-shard{i}", f"{i}/{n}", DAY2)
    merge(origin, merger, n, DAY2)
    metas = [f for f in store_files(merger) if f.endswith("meta.json")]
    assert len(metas) == 2 * 2 * HOSTS
    report = (merger / "reports" / f"{DAY2[:10]}.md").read_text(encoding="utf-8")
    new = [f.split("/")[-2] for f in lost if f.endswith("meta.json")]
    assert new and all(name in report for name in new), report


def test_shard_assignment_is_stable_and_by_host():
    assert shard_of("https://www.state.gov/a/", 4) == shard_of("HTTPS://www.State.gov/b/?x", 4)
    spread = {shard_of(f"https://host{i}.example/", 4) for i in range(40)}
    assert spread == {1, 2, 3, 4}
    assert parse_shard(" 2/4 ") == Shard(2, 4)
    for bad in ("0/4", "5/4", "2", "a/b", "2/0"):
        with pytest.raises(InputError, match="--shard"):
            parse_shard(bad)


def test_shard_option_errors_are_one_line(tmp_path):
    cli = Cli(tmp_path / "snapshots")
    (tmp_path / "dipdiff.toml").write_text("", encoding="utf-8")
    r = cli("run", "--config", str(tmp_path / "dipdiff.toml"), "--shard", "3/2")
    assert r.exit_code == 2, r.output
    assert "--shard '3/2'" in r.output and "Traceback" not in r.output


def workflow_jobs(n: int) -> dict[str, Any]:
    doc = yaml.safe_load(sharded_workflow(n))
    assert doc["on"] if "on" in doc else doc[True]  # YAML 1.1 reads the key `on` as true
    jobs: dict[str, Any] = doc["jobs"]
    return jobs


def step_script(job: dict[str, Any], command: str) -> str:
    scripts = [s["run"] for s in job["steps"] if command in s.get("run", "")]
    assert len(scripts) == 1, job["steps"]
    return str(scripts[0])


@pytest.mark.parametrize("n", [1, 3, 8])
def test_init_shards_writes_a_matrix_of_shards_and_one_merge_that_retries(tmp_path, n):
    r = Cli(tmp_path / "watch" / "snapshots")("init", str(tmp_path / "watch"), "--shards", str(n))
    assert r.exit_code == 0, r.output
    text = (tmp_path / "watch" / WORKFLOW_PATH).read_text(encoding="utf-8")
    assert text == sharded_workflow(n)
    jobs = workflow_jobs(n)
    assert list(jobs) == ["shard", "merge", "site"]
    shard, merge_job = jobs["shard"], jobs["merge"]
    assert shard["strategy"] == {"fail-fast": False, "matrix": {"shard": list(range(1, n + 1))}}
    run = step_script(shard, "dipdiff run")
    assert f'--shard "${{{{ matrix.shard }}}}/{n}" --commit' in run
    assert 'git push -q -f origin "$branch"' in run  # each shard its own branch
    assert merge_job["needs"] == "shard" and "always()" in merge_job["if"]
    assert merge_job["concurrency"] == {"group": "dipdiff-merge", "cancel-in-progress": False}
    script = step_script(merge_job, "dipdiff merge")
    # The retry loop: a refused push is followed by a fetch, a rebase and the report again,
    # before the next push; never the same push twice in a row.
    loop = script[script.index("for attempt in") : script.index("done\n")]
    push, fetch, rebase = (loop.index(s) for s in ("git push", "git fetch", "git rebase"))
    assert push < fetch < rebase < loop.index("dipdiff merge --commit")
    assert jobs["site"]["needs"] == "merge"
    cron = (tmp_path / "watch" / "crontab.example").read_text(encoding="utf-8")
    assert f"run --shard K/{n} --commit" in cron and "merge $(git branch -r" in cron


def test_the_readme_shows_the_workflow_init_shards_writes():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert sharded_workflow(4) in readme


def test_the_workflow_steps_run_against_a_bare_remote_and_retry_a_refused_push(tmp_path, origin):
    n = 2
    jobs = workflow_jobs(n)
    home = tmp_path / "home"  # no global git identity, as on a runner
    home.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    other = clone(origin, tmp_path / "other")
    race = tmp_path / "raced"
    # dipdiff as the steps call it, and someone pushing main just after the merge job's merge.
    (bin_dir / "dipdiff").write_text(
        f'#!/bin/sh\n"{sys.executable}" -m dipdiff "$@"\nstatus=$?\n'
        f'if [ "$1" = merge ] && [ ! -e "{race}" ]; then\n'
        f'  touch "{race}"\n'
        f'  cd "{other}" && git pull -q --ff-only origin main && echo note > NOTES.md'
        " && git add NOTES.md && git -c user.name=o -c user.email=o@example.org"
        ' commit -qm "someone else" && git push -q origin main\n'
        "fi\nexit $status\n",
        encoding="utf-8",
    )
    (bin_dir / "dipdiff").chmod(0o755)
    output = tmp_path / "github_output"
    env = {
        **os.environ,
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "DIPDIFF_NOW": DAY1,
        "GITHUB_OUTPUT": str(output),
    }

    def step(script: str, folder: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    for i in range(1, n + 1):  # actions/checkout: a clone at main
        folder = clone(origin, tmp_path / f"runner{i}")
        script = step_script(jobs["shard"], "dipdiff run").replace("${{ matrix.shard }}", str(i))
        done = step(script, folder)
        assert done.returncode == 0, done.stdout + done.stderr
    merger = clone(origin, tmp_path / "runner-merge")
    done = step(step_script(jobs["merge"], "dipdiff merge"), merger)
    assert done.returncode == 0, done.stdout + done.stderr
    assert race.exists()  # the first push was refused: main had moved
    assert output.read_text(encoding="utf-8") == "changed=true\n"
    check = clone(origin, tmp_path / "check")
    log = git(check, "log", "--format=%s", "main").splitlines()
    # Rebased onto the other push, the round's report last; nothing of the other push lost.
    assert log[0].startswith("dipdiff merge: report of 2026-11-20"), log
    assert "someone else" in log
    assert (check / "NOTES.md").exists() and (check / "reports" / "2026-11-20.md").exists()
    metas = list((check / "snapshots").rglob("meta.json"))
    assert len(metas) == 2 * 2 * HOSTS
    assert git(check, "ls-remote", "origin", "refs/heads/shard-*") == ""  # each branch used once


def test_the_merge_tells_the_webhook_and_rebuilds_the_site_once_for_the_round(tmp_path, hosts):
    config = tmp_path / "dipdiff.toml"
    target = f'[notify.targets.desk]\nurl = "{hosts[0].url("/desk")}"\n'
    config.write_text(config_text(hosts) + target, encoding="utf-8")
    hosts[0].set("/desk", Response(b"ok"))
    cli = Cli(tmp_path / "snapshots")
    hook = hosts[0].url("/hook")
    hosts[0].set("/hook", Response(b"ok"))
    run = ("run", "--config", str(config))
    r = cli(*run, "--shard", "1/2", "--webhook", hook, env={"DIPDIFF_NOW": DAY1})
    assert r.exit_code == 2 and "give it to dipdiff merge" in r.output, r.output
    # DIPDIFF_WEBHOOK in the environment is the merge's: the shards run and leave it alone.
    for i in (1, 2):
        r = cli(*run, "--shard", f"{i}/2", env={"DIPDIFF_NOW": DAY1, "DIPDIFF_WEBHOOK": hook})
        assert r.exit_code in (0, 1), r.output
    assert hosts[0].posted == []  # neither the webhook nor the [notify] target heard a shard
    site = tmp_path / "site"
    merge_args = ("merge", "--config", str(config), "--webhook", hook, "--site", str(site))
    r = cli(*merge_args, env={"DIPDIFF_NOW": DAY1})
    assert r.exit_code == 1, r.output
    hook = [json.loads(b) for path, b in hosts[0].posted if path == "/hook"]
    desk = [json.loads(b) for path, b in hosts[0].posted if path == "/desk"]
    assert len(hook) == 1 and len(desk) == 1, hosts[0].posted
    body = hook[0]
    assert body["event"] == "dipdiff.merge" and body["counts"]["new"] == 2 * 2 * HOSTS
    assert sum(1 for it in desk[0]["items"] if it["kind"] == "new") == 2 * 2 * HOSTS
    assert len(body["runs"]) == 2 and body["run"] == body["runs"][-1]
    assert {c["kind"] for c in body["changes"]} == {"new"}
    assert (site / "index.html").is_file()
    # The next round finds nothing: nothing posted, the site left as it is.
    before = {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}
    for i in (1, 2):
        r = cli(*run, "--shard", f"{i}/2", env={"DIPDIFF_NOW": DAY2})
        assert r.exit_code == 0, r.output
    r = cli(*merge_args, env={"DIPDIFF_NOW": DAY2})
    assert r.exit_code == 0, r.output
    assert len(hosts[0].posted) == 2  # nothing new: nothing told
    assert {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()} == before


class HostCounter:
    """Requests in flight per Host header, as the servers see them; ``company``: how long a
    request waits for a second one to the same host (to show that two processes overlap)."""

    def __init__(self, hosts: list[LocalServer], company: float = 0.0) -> None:
        self.now: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.cond = threading.Condition()
        self.company = company
        for srv in hosts:
            for path, route in list(srv.routes.items()):
                assert isinstance(route, Response)
                srv.set(path, self.counted(route))

    def counted(self, response: Response) -> Route:
        def serve(handler: BaseHTTPRequestHandler) -> Response:
            host = handler.headers["Host"]
            with self.cond:
                self.now[host] += 1
                self.peak[host] = max(self.peak[host], self.now[host])
                self.cond.notify_all()
                if self.company:
                    self.cond.wait_for(lambda: self.now[host] >= 2, timeout=self.company)
            time.sleep(0.05)
            with self.cond:
                self.now[host] -= 1
            return response

        return serve


def processes(tmp_path: Path, commands: list[list[str]]) -> None:
    """Start every command at once, each with a store of its own (a machine of its own)."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "dipdiff", "--store", str(tmp_path / f"m{i}"), *cmd],
            env={**os.environ, "DIPDIFF_NOW": DAY1},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i, cmd in enumerate(commands)
    ]
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode in (0, 1), out


def test_the_per_host_limit_holds_across_shards_counted_by_the_servers(tmp_path, hosts):
    config = tmp_path / "dipdiff.toml"
    config.write_text(config_text(hosts, "per_host = 1\n"), encoding="utf-8")
    counter = HostCounter(hosts)
    shards = [["run", "--config", str(config), "--shard", f"{i}/4"] for i in range(1, 5)]
    processes(tmp_path, shards)
    assert set(counter.peak) == {srv.url("/").split("/")[2] for srv in hosts}
    assert max(counter.peak.values()) == 1, counter.peak


def test_the_host_counter_sees_two_processes_on_one_host(tmp_path, hosts):
    # What a split by source would do: two sources of one host fetched by two processes.
    config = tmp_path / "dipdiff.toml"
    config.write_text(config_text(hosts, "per_host = 1\n"), encoding="utf-8")
    counter = HostCounter(hosts, company=5.0)
    processes(tmp_path, [["fetch", "--config", str(config), "-s", f"host0-{s}"] for s in "ab"])
    assert counter.peak[hosts[0].url("/").split("/")[2]] == 2, counter.peak


def separating(hosts: list[LocalServer]) -> tuple[int, LocalServer, list[LocalServer]]:
    """A shard count and three of the servers that it puts in three different shards, and the
    fourth for the listing. The ports are random, so the pick is made from them (one fixed
    trio found no count in 2..8 on about 1 run in 70)."""
    for n in range(3, 9):
        for trio in itertools.combinations(hosts, 3):
            if len({shard_of(s.url("/"), n) for s in trio}) == 3:
                (listing,) = (s for s in hosts if s not in trio)
                return n, listing, list(trio)
    pytest.fail(f"no shard count in 3..8 separates three of {[s.url('/') for s in hosts]}")


def test_one_big_source_is_split_across_shards_by_its_statements_hosts(tmp_path, hosts):
    # One listing names four statements on each of three other hosts (an aggregator, or a
    # ministry with one site per embassy); with `split = true` each shard checks those of its
    # own hosts, each statement is fetched once, and no host sees two requests at a time.
    n, listing, sites = separating(hosts)
    items = ""
    for h, srv in enumerate(sites, 1):
        for i in range(4):
            path = f"/big/statement-{h}-{i}-on-talks/"
            text = [f"Embassy {h} statement {i}: {' '.join(WORDS[i:] + WORDS[:i])}."]
            srv.set(path, Response(statement_html(f"Embassy {h} {i}", text)))
            items += f'<li class="item"><a href="{srv.url(path)}">{h}{i}</a></li>'
    listing.set("/big/", Response(f"<html><ul>{items}</ul></html>".encode()))
    config = tmp_path / "dipdiff.toml"
    config.write_text(
        "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\nper_host = 1\n"
        f'[sources.big]\nkind = "listing"\nurl = "{listing.url("/big/")}"\n'
        'agency = "Ministry"\nselector = "li.item"\nsplit = true\n',
        encoding="utf-8",
    )
    counter = HostCounter(hosts)
    for srv in hosts:
        srv.requests.clear()
    processes(
        tmp_path, [["run", "--config", str(config), "--shard", f"{i}/{n}"] for i in range(1, n + 1)]
    )
    stored = [{p.parent.name for p in (tmp_path / f"m{i}").rglob("meta.json")} for i in range(n)]
    assert sum(len(s) for s in stored) == 3 * 4 == len(set().union(*stored))  # disjoint, all
    fetched = [path for srv in sites for _, path, _ in srv.requests]
    assert sorted(fetched) == sorted(set(fetched)) and len(fetched) == 3 * 4
    assert max(counter.peak[s.url("/").split("/")[2]] for s in sites) == 1, counter.peak
    # The listing is the one page each shard reads.
    assert sum(1 for _, path, _ in listing.requests if path == "/big/") == n
