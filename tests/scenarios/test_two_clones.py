"""Two clones of one monitoring repository (a laptop and a CI job) that both ran and committed.

Both run `dipdiff run --commit` against the same local server, at different times, with edits in
between; then one pulls the other. The merge must succeed without a conflict, the merged store
must verify, and every version must be in it, and be reported, exactly once.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dipdiff.store.store import Store
from dipdiff.store.verify import verify
from faultkit import FIGURES, ListingSite, reported_once
from helpers import Cli, laptop_and_ci

pytestmark = pytest.mark.slow  # real git clones, merges and several runs: ~20 s

ATOM = "{http://www.w3.org/2005/Atom}"
PAGES = 5


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=check,
    )


@pytest.fixture
def clones(tmp_path, server):
    """A bare origin, a laptop clone that set the folder up, and a CI clone of it."""
    config = (
        "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\n"
        f'[sources.state-dept]\nkind = "listing"\nurl = "{server.url("/releases/")}"\n'
        'agency = "U.S. Department of State"\nselector = "li.item"\n'
    )
    return laptop_and_ci(tmp_path, {"dipdiff.toml": config})


def run(folder: Path, when: str) -> int:
    r = Cli(folder / "snapshots")(
        "run", "--config", str(folder / "dipdiff.toml"), "--commit", env={"DIPDIFF_NOW": when}
    )
    assert r.exit_code in (0, 1), r.output
    return r.exit_code


def pull(folder: Path) -> None:
    r = git(folder, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main", check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert git(folder, "ls-files", "--unmerged").stdout == ""
    conflicted = git(folder, "grep", "-l", "-e", "^<<<<<<< ", "-e", "^>>>>>>> ", check=False)
    assert conflicted.stdout == "", conflicted.stdout


def versions(folder: Path) -> dict[str, int]:
    r = Cli(folder / "snapshots")("list", "--json")
    assert r.exit_code == 0, r.output
    return {row["id"].split("/")[1]: row["versions"] for row in json.loads(r.stdout)}


def test_two_clones_that_both_ran_merge_without_a_conflict(clones, server):
    _origin, laptop, ci = clones
    site = ListingSite(server, PAGES)
    assert run(laptop, "2019-04-20T09:00:00Z") == 1  # day 1: five new statements
    git(laptop, "push", "-q", "origin", "main")
    pull(ci)

    # Day 2. The laptop sees two edits and a new statement; CI, an hour later, sees those and
    # more: a second edit of statement 0, an edit of statement 2 and another new statement.
    site.edit(0, "without preconditions")
    site.edit(1, "and to protect civilians")
    site.add(5)
    assert run(laptop, "2019-04-21T09:00:00Z") == 1
    site.edit(0, "at once")
    site.edit(2, "under United Nations auspices")
    site.add(6)
    assert run(ci, "2019-04-21T10:00:00Z") == 1
    git(laptop, "push", "-q", "origin", "main")
    pull(ci)  # a true merge: both sides committed since they parted
    assert len(git(ci, "rev-list", "--parents", "-1", "HEAD").stdout.split()) == 3

    store = ci / "snapshots"
    assert verify(Store(store)) == []
    assert reported_once(store) == []
    expected = {
        "statement-0-on-regional-talks": 3,  # the first text, the laptop's edit, CI's edit
        "statement-1-on-regional-talks": 2,  # one edit, stored by both clones: one version
        "statement-2-on-regional-talks": 2,
        "statement-3-on-regional-talks": 1,
        "statement-4-on-regional-talks": 1,
        "statement-5-on-regional-talks": 1,  # new, found by both: one statement, one version
        "statement-6-on-regional-talks": 1,
    }
    assert versions(ci) == expected
    assert len(list(store.glob("*/statement-1-*/*.md"))) == 3  # both clones' files are there

    # The day's report, rewritten from the merged store, tells each change once: statement 0
    # was edited twice that day (the laptop's edit, then CI's), each a change with its redline.
    cli = Cli(store)
    r = cli("report", "--date", "2019-04-21", "--out", "-")
    assert r.exit_code == 0, r.output
    for i, changes in ((0, 2), (1, 1), (2, 1), (5, 1), (6, 1)):
        assert r.stdout.count(f"[Statement {i} on Talks]") == changes, (i, r.stdout)
    assert "Statement 3 on Talks" not in r.stdout
    assert cli("report", "--date", "2019-04-21").exit_code == 0
    feed = ET.fromstring((ci / "reports" / "feed.xml").read_bytes())
    ids = [e.findtext(f"{ATOM}id") for e in feed.findall(f"{ATOM}entry")]
    assert len(ids) == len(set(ids)) == sum(expected.values()), ids

    # Both go on from the merged store: no duplicate on the next runs, and merges stay clean.
    git(ci, "add", "reports")
    git(ci, "commit", "-qm", "reports")
    git(ci, "push", "-q", "origin", "main")
    pull(laptop)
    site.edit(3, "in Geneva")
    assert run(laptop, "2019-04-22T09:00:00Z") == 1
    assert run(ci, "2019-04-22T09:30:00Z") == 1
    git(laptop, "push", "-q", "origin", "main")
    pull(ci)
    assert verify(Store(store)) == []
    assert versions(ci) == {**expected, "statement-3-on-regional-talks": 2}
    assert run(ci, "2019-04-23T09:00:00Z") == 0  # nothing new: nothing stored again
    assert versions(ci) == {**expected, "statement-3-on-regional-talks": 2}
    FIGURES["fault scenarios"] += 1


def _to_older_layout(store: Path) -> None:
    """Rewrite a store the way dipdiff wrote it before checks.jsonl and runs/ existed."""
    st = Store(store)
    for sid in st.statement_ids():
        meta = st.meta(sid)
        folder = store / sid
        doc = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        doc |= {"title": meta.title, "agency": meta.agency, "published": meta.published}
        doc["checks"] = meta.checks
        (folder / "meta.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")
        (folder / "checks.jsonl").unlink()
    uid = json.loads((store / "store.json").read_text(encoding="utf-8"))["uid"]
    runs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((store / "runs").iterdir())]
    (store / "runs.json").write_text(json.dumps({"store": uid, "runs": runs}, indent=1))
    shutil.rmtree(store / "runs")
    for name in ("store.json", ".gitattributes"):
        (store / name).unlink()


def test_two_clones_of_an_older_store_move_to_the_new_layout_and_merge(clones, server):
    _origin, laptop, ci = clones
    site = ListingSite(server, PAGES)
    assert run(laptop, "2019-04-20T09:00:00Z") == 1
    _to_older_layout(laptop / "snapshots")
    git(laptop, "add", "-A", "snapshots")
    git(laptop, "commit", "-qm", "the store as an older dipdiff wrote it")
    git(laptop, "push", "-q", "origin", "main")
    pull(ci)
    uid = json.loads((ci / "snapshots" / "runs.json").read_text(encoding="utf-8"))["store"]

    site.edit(0, "without preconditions")
    assert run(laptop, "2019-04-21T09:00:00Z") == 1
    site.edit(1, "and to protect civilians")
    assert run(ci, "2019-04-21T10:00:00Z") == 1
    git(laptop, "push", "-q", "origin", "main")
    pull(ci)
    assert len(git(ci, "rev-list", "--parents", "-1", "HEAD").stdout.split()) == 3

    store = ci / "snapshots"
    assert not (store / "runs.json").exists() and not list(store.glob("*/*/meta.json.*"))
    assert json.loads((store / "store.json").read_text(encoding="utf-8")) == {"uid": uid}
    assert verify(Store(store)) == []
    assert reported_once(store) == []
    assert versions(ci) == {
        f"statement-{i}-on-regional-talks": 2 if i in (0, 1) else 1 for i in range(PAGES)
    }
    assert all("checks" not in json.loads(p.read_text()) for p in store.glob("*/*/meta.json"))
    FIGURES["fault scenarios"] += 1
