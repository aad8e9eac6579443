"""Sharded runs (`dipdiff run --shard I/N`) in separate clones, merged through git.

Four local servers stand for four hosts, two sources each. Every shard runs in its own
clone of one bare remote and pushes its own branch; a third clone merges the branches with
`dipdiff merge`. The merged store must be the store one unsharded run makes, the shards
must never write the same file, and merging again must change nothing.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dipdiff.errors import InputError
from dipdiff.pipeline.server import LocalServer, Response
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
    config = "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\n"
    for h, srv in enumerate(hosts):
        for src in "ab":
            config += (
                f'[sources.host{h}-{src}]\nkind = "listing"\nurl = "{srv.url(f"/{src}/")}"\n'
                f'agency = "Agency {h}"\nselector = "li.item"\n'
            )
    (setup / "dipdiff.toml").write_text(config, encoding="utf-8")
    git(setup, "add", "dipdiff.toml")
    git(setup, "commit", "-qm", "config")
    git(setup, "push", "-q", "origin", "main")
    return bare


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
