"""The index of check histories changes no answer: `run` and `report` read from it give what they
give reading every file.

Two clones of one monitoring repository run, edit, pull and merge; one store is rewritten the way
an older dipdiff wrote it; a merge conflict is mended by `verify --repair`. At each step the
same commands run twice, with the clock pinned: in the folder itself, where the index (warm,
its files settled) picks the statements to read, and in a copy whose index cannot be opened, so
that every statement is read. Their outputs, the reports and the stores they leave must be equal.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

import helpers
from faultkit import ListingSite
from helpers import Cli

pytestmark = pytest.mark.slow  # real git clones and a dozen runs, each done twice: ~30 s

PAGES = 4
CONFIG = (
    "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\n"
    '[schedule]\nmin_interval = "1h"\nmax_interval = "30d"\nfactor = 0.5\n'
    '[sources.state-dept]\nkind = "listing"\nurl = "{url}"\n'
    'agency = "U.S. Department of State"\nselector = "li.item"\n'
)


def git(repo: Path, *args: str) -> str:
    return helpers.git(repo, *helpers.IDENTITY, *args)


@pytest.fixture
def clones(tmp_path, server):
    # The store's identity (its feed's id) is random when a run makes it: made here, once.
    _origin, laptop, ci = helpers.laptop_and_ci(
        tmp_path,
        {
            "dipdiff.toml": CONFIG.format(url=server.url("/releases/")),
            "snapshots/store.json": '{"uid": "0123456789abcdef"}\n',
        },
    )
    return laptop, ci


def settle(folder: Path) -> None:
    """Age every file of the store by a minute, as files at rest between two cron runs are:
    the index vouches only for files older than the file system's timestamp granularity."""
    for top, _, files in os.walk(folder / "snapshots"):
        for path in (*(Path(top) / name for name in files), Path(top)):  # folders too
            st = path.stat()
            os.utime(path, ns=(st.st_atime_ns - 60 * 10**9, st.st_mtime_ns - 60 * 10**9))


def without_index(folder: Path, twin: Path) -> Path:
    """A copy of the monitoring folder whose index cannot be opened: commands read every file."""
    if twin.exists():
        shutil.rmtree(twin)
    shutil.copytree(folder, twin, symlinks=True)
    index = twin / "snapshots" / ".index.sqlite"
    for leftover in twin.glob("snapshots/.index.sqlite*"):
        leftover.unlink()
    index.mkdir(parents=True)  # sqlite cannot open a folder: the store goes without its index
    return twin


def indexed(folder: Path, table: str = "recent_checks") -> int:
    """How many statements the index has rows of in ``table`` (it is really used)."""
    with sqlite3.connect(folder / "snapshots" / ".index.sqlite") as db:
        sql = f"SELECT COUNT(DISTINCT sid) FROM {table}"  # noqa: S608 - the test's own names
        return int(db.execute(sql).fetchone()[0])


def tree(folder: Path, under: str) -> dict[str, bytes]:
    """The files below ``under`` that dipdiff writes (not its lock, not its index)."""
    root = folder / under
    if not root.exists():
        return {}
    found = {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith((".index", ".lock"))
    }
    # A run's record file is named with a random token: the records, not their names.
    runs = sorted(found.pop(k) for k in [k for k in found if k.startswith("runs/")])
    return found | {f"runs/{i}": doc for i, doc in enumerate(runs)}


def dipdiff(folder: Path, *args: str, when: str) -> tuple[int, str, str]:
    r = Cli(folder / "snapshots")(*args, env={"DIPDIFF_NOW": when})
    assert r.exit_code in (0, 1), r.output
    return r.exit_code, r.stdout, r.stderr


def run(folder: Path, twin: Path, when: str, *extra: str) -> int:
    """``dipdiff run`` in the folder and in a copy without its index: the same run."""
    other = without_index(folder, twin)
    args = ("run", "--config", "dipdiff.toml", "--reports", "reports", *extra)
    with_index = _in(folder, args, when)
    walked = _in(other, args, when)
    assert with_index == walked
    for under in ("reports", "snapshots"):
        assert tree(folder, under) == tree(other, under), under
    return with_index[0]


def _in(folder: Path, args: tuple[str, ...], when: str) -> tuple[int, str]:
    cwd = Path.cwd()
    os.chdir(folder)  # the config and reports are named relative to the folder
    try:
        code, out, err = dipdiff(folder, *args, when=when)
    finally:
        os.chdir(cwd)
    # The commit's own id differs (git dates it by the wall clock), nothing else may.
    return code, out + "".join(line for line in err.splitlines(True) if "commit" not in line)


def same_reports(folder: Path, twin: Path, days: list[str]) -> None:
    """Every report the index helps with gives what the file walk gives: a day's, a span's, a
    run's, the feed and the reports' index they rewrite, and the listing."""
    other = without_index(folder, twin)
    commands = [("list", "--json")]
    for day in days:
        commands += [
            ("report", "--date", day, "--out", "-"),
            ("report", "--since", day, "--out", "-"),
        ]
    commands += [("report", "--run", "latest", "--out", "-"), ("report", "--date", days[-1])]
    for args in commands:
        mine = dipdiff(folder, *args, when="2019-05-01T00:00:00Z")
        theirs = dipdiff(other, *args, when="2019-05-01T00:00:00Z")
        assert mine[0] == theirs[0] and mine[1] == theirs[1].replace(str(other), str(folder)), args
    assert tree(folder, "reports") == tree(other, "reports")


def test_run_and_report_from_the_index_answer_as_the_files_do(clones, server, tmp_path):
    laptop, ci = clones
    twin = tmp_path / "twin"
    site = ListingSite(server, PAGES)
    assert run(laptop, twin, "2019-04-20T09:00:00Z", "--commit") == 1  # four new statements
    git(laptop, "push", "-q", "origin", "main")
    git(ci, "pull", "-q", "--no-rebase", "origin", "main")
    settle(laptop)

    # Ten minutes on, nothing is due: planning reads the index alone.
    assert run(laptop, twin, "2019-04-20T09:10:00Z") == 0
    assert indexed(laptop) == PAGES

    # Day 2 on both clones, with other edits; then the laptop pulls CI's commits (a merge).
    site.edit(0, "without preconditions")
    site.add(4)
    assert run(laptop, twin, "2019-04-21T09:00:00Z", "--commit") == 1
    settle(ci)
    site.edit(1, "and to protect civilians")
    assert run(ci, twin, "2019-04-21T10:00:00Z", "--commit") == 1
    git(ci, "push", "-q", "origin", "main")
    git(laptop, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")
    settle(laptop)
    same_reports(laptop, twin, ["2019-04-20", "2019-04-21"])
    assert indexed(laptop) == PAGES + 1
    assert indexed(laptop, "latest_versions") == PAGES + 1  # divergences dated them from it

    # A third clone's commit, pulled: an edit the laptop's index never saw, checked later.
    site.edit(2, "under United Nations auspices")
    assert run(laptop, twin, "2019-04-22T12:00:00Z", "--commit") == 1
    settle(laptop)
    assert run(laptop, twin, "2019-04-22T12:20:00Z") == 0  # nothing due again

    # The store as an older dipdiff wrote one statement: its history inside meta.json.
    folder = laptop / "snapshots" / "state-dept"
    meta = next(p for p in sorted(folder.glob("*/meta.json")))
    checks = meta.parent / "checks.jsonl"
    doc = json.loads(meta.read_text(encoding="utf-8"))
    doc["checks"] = [json.loads(line) for line in checks.read_text(encoding="utf-8").splitlines()]
    meta.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    checks.unlink()
    settle(laptop)
    same_reports(laptop, twin, ["2019-04-21", "2019-04-22"])

    # A merge conflict in a check history, mended by `verify --repair`, then a day's run.
    other = next(p for p in sorted(folder.glob("*/checks.jsonl")))
    lines = other.read_text(encoding="utf-8").splitlines(True)
    other.write_text("<<<<<<< HEAD\n" + lines[-1] + "=======\n" + lines[-1] + ">>>>>>> ci\n")
    r = Cli(laptop / "snapshots")("verify", "--repair")
    assert "repaired" in r.stdout, r.output
    settle(laptop)
    same_reports(laptop, twin, ["2019-04-22"])
    site.edit(3, "in Geneva")
    assert run(laptop, twin, "2019-04-26T12:00:00Z") == 1
    settle(laptop)
    same_reports(laptop, twin, ["2019-04-20", "2019-04-26"])
