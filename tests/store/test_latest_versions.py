"""Each statement's latest version from the index (store/latest.py): dating every statement
lists no folder it can vouch for, and every writer that changes a version file is seen, in a
real git repository: dipdiff's own writes, git's reset and pull, a damaged or missing index.
Files and folders are aged by hand (os.utime): a folder changed in the last seconds is never
vouched for."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time

import pytest

import helpers
from dipdiff.models import Statement
from dipdiff.store.index import INDEX_NAME
from dipdiff.store.latest import newest
from dipdiff.store.meta import StatementMeta
from dipdiff.store.store import Store

SIDS = [f"x-gov/statement-{i}" for i in range(3)]


def age(root, seconds=3600):
    """Make every file and folder of the store look written ``seconds`` ago."""
    then = time.time() - seconds
    for path in [root, *root.rglob("*")]:
        os.utime(path, (then, then))


def git(repo, *args):
    return helpers.git(repo, *helpers.IDENTITY, *args)


def add(store: Store, sid: str, text: str, when: str) -> None:
    with store.lock():
        if not store.exists(sid):
            url = f"https://x.gov/a/{sid.split('/')[1]}"
            store.write_meta(StatementMeta(id=sid, source="x-gov", url=url))
        store.add_version(sid, Statement(sid, (text,), url=f"https://x.gov/{sid}"), when)


def walked(root, damaged: str = "") -> dict:
    """What reading every statement's version files gives (a new store, no index of ours)."""
    store = Store(root)
    return {sid: newest(store.versions(sid)) for sid in store.statement_ids() if sid != damaged}


def from_index(root) -> tuple[dict, int]:
    """The index's answer in a new command, and how many folders it listed."""
    store = Store(root)
    found = store.latest_versions()
    return found, store.reads["versions"]


def rows(root) -> int:
    with sqlite3.connect(root / INDEX_NAME) as db:
        return int(db.execute("SELECT COUNT(*) FROM latest_versions").fetchone()[0])


@pytest.fixture
def repo(tmp_path):
    """A monitoring repository with three statements (the first with two versions), committed."""
    root = tmp_path / "snapshots"
    store = Store(root)
    for i, sid in enumerate(SIDS):
        add(store, sid, f"The first text of statement {i}.", f"2024-05-0{i + 1}T10:00:00Z")
    add(store, SIDS[0], "The second text of statement 0.", "2024-05-04T10:00:00Z")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "three statements")
    age(root)
    return root


def test_settled_folders_are_dated_from_the_index_and_every_change_is_seen(repo):
    found, listed = from_index(repo)
    assert found == walked(repo) and listed == len(SIDS)  # first: every folder read
    assert rows(repo) == len(SIDS)
    found, listed = from_index(repo)
    assert found == walked(repo) and listed == 0, found  # then: none
    assert found[SIDS[0]][0].number == 2

    # dipdiff stores a new version: that folder is read, the others are not.
    add(Store(repo), SIDS[1], "The second text of statement 1.", "2024-05-05T10:00:00Z")
    found, listed = from_index(repo)
    assert found == walked(repo) and listed == 1
    assert found[SIDS[1]][0].number == 2
    age(repo, 1800)
    from_index(repo)  # settled now: remembered

    # git takes the version away again (reset --hard unlinks the file it had not committed).
    git(repo.parent, "reset", "-q", "--hard")
    git(repo.parent, "clean", "-qfd", "--", "snapshots/x-gov")
    age(repo, 900)
    found, listed = from_index(repo)
    assert found == walked(repo) and found[SIDS[1]][0].number == 1, found


def test_a_pulled_version_changes_the_answer(repo, tmp_path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo.parent), str(clone))
    second = "The second text of statement 2."
    add(Store(clone / "snapshots"), SIDS[2], second, "2024-05-06T10:00:00Z")
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "a second version")
    from_index(repo)  # the index of every statement, before the pull
    git(repo.parent, "pull", "-q", "--no-rebase", str(clone), "main")
    found, listed = from_index(repo)
    assert found == walked(repo) and listed == 1
    assert found[SIDS[2]][0].number == 2 and found[SIDS[2]][1] == "2024-05-03T10:00:00Z"


def test_young_folders_are_not_remembered_and_a_damaged_index_changes_nothing(repo):
    add(Store(repo), SIDS[0], "A third text of statement 0.", "2024-05-07T10:00:00Z")
    found, _ = from_index(repo)  # statement 0's folder was written just now
    assert found == walked(repo) and rows(repo) == len(SIDS) - 1
    age(repo)
    from_index(repo)
    with sqlite3.connect(repo / INDEX_NAME) as db:
        db.execute("UPDATE latest_versions SET filename = NULL, number = 9 WHERE sid = ?", SIDS[:1])
        db.execute("UPDATE latest_versions SET provenance = '[1' WHERE sid = ?", SIDS[1:2])
    found, listed = from_index(repo)
    assert found == walked(repo) and listed == 2, found
    (repo / INDEX_NAME).unlink()
    found, listed = from_index(repo)
    assert found == walked(repo) and listed == len(SIDS)


def test_a_folder_replaced_by_a_link_is_read_and_its_damage_noted(repo, tmp_path):
    from_index(repo)
    moved = tmp_path / "elsewhere"
    shutil.move(repo / SIDS[2], moved)
    (repo / SIDS[2]).symlink_to(moved, target_is_directory=True)
    store = Store(repo)
    found = store.latest_versions()
    assert SIDS[2] not in found and any("statement-2" in p for p in store.damage), store.damage
    assert found == walked(repo, SIDS[2])
