"""The derived index (snapshots/.index.sqlite): a cache of what version files say, never the
truth. Files are aged by hand (os.utime) because a folder written in the last seconds is
never indexed (store/index.py, SETTLE_NS)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from dipdiff.models import Check, Outcome, Statement
from dipdiff.store.index import INDEX_NAME
from dipdiff.store.layout import VERSION_NAME, parse_version, render_version
from dipdiff.store.meta import StatementMeta
from dipdiff.store.store import Store
from helpers import age, git

URL = "https://x.gov/a/statement-on-libya"
SID = "x-gov/statement-on-libya"
TEXTS = (
    Statement("A title", ("First paragraph of the statement.", "Second paragraph."), url=URL),
    Statement("A title", ("First paragraph, edited.", "Second paragraph."), url=URL),
)


@pytest.fixture
def store(store_dir):
    store = Store(store_dir)
    with store.lock():
        store.write_meta(StatementMeta(id=SID, source="x-gov", url=URL))
        for st, when, outcome in zip(
            TEXTS,
            ("2024-05-01T10:00:00Z", "2024-05-02T10:00:00Z"),
            (Outcome.NEW, Outcome.CHANGED),
            strict=True,
        ):
            ref = store.add_version(SID, st, when, b"<html></html>")
            store.record_check(
                SID, Check(time=when, outcome=outcome, url=URL, status=200, sha256=ref.sha256)
            )
    age(store_dir)
    return store


def log_json(cli):
    r = cli("log", SID, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.output)["versions"]


def version_files(store):
    return sorted(p for p in (store.root / SID).iterdir() if VERSION_NAME.match(p.name))


def test_a_second_command_reads_no_version_file_to_list_versions(store, cli):
    first = log_json(cli)
    assert (store.root / INDEX_NAME).is_file()
    fresh = Store(store.root)
    with fresh.reading():
        refs = fresh.versions(SID)
    assert fresh.reads["version"] == 0, fresh.reads
    assert [(r.number, r.fetched_at, r.sha256) for r in refs] == [
        (v["version"], v["fetched_at"], v["sha256"]) for v in first
    ]


def test_a_version_file_changed_behind_the_index_is_read_again(store, cli):
    log_json(cli)  # indexed
    path = version_files(store)[1]
    header, st = parse_version(path.read_text(encoding="utf-8"), str(path))
    path.write_text(render_version(st, "2024-05-03T10:00:00Z", header["sha256"]), "utf-8")
    age(store.root)  # even with an old mtime: the size changed
    assert [v["fetched_at"] for v in log_json(cli)] == [
        "2024-05-01T10:00:00Z",
        "2024-05-03T10:00:00Z",
    ]


def test_a_deleted_or_added_version_shows_at_once(store, cli):
    log_json(cli)
    version_files(store)[1].unlink()
    r = cli("list")
    assert r.exit_code == 0, r.output
    assert r.output.split("\t")[1] == "1", r.output
    with store.lock():
        store.add_version(SID, TEXTS[1], "2024-06-01T10:00:00Z")
    age(store.root)
    assert [v["version"] for v in log_json(cli)] == [1, 2]


@pytest.mark.parametrize("damage", ["garbage", "empty", "wrong table"])
def test_a_corrupt_index_is_rebuilt_silently(store, cli, damage):
    expected = log_json(cli)
    path = store.root / INDEX_NAME
    if damage == "garbage":
        path.write_bytes(b"not a database\x00" * 100)
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        with sqlite3.connect(path) as db:
            db.execute("UPDATE versions SET refs = '[[1, 2]]'")
    r = cli("log", SID, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["versions"] == expected
    r = cli("verify")
    assert r.exit_code == 0, r.output
    fresh = Store(store.root)
    with fresh.reading():
        fresh.versions(SID)
    assert fresh.reads["version"] == 0, "the index was rebuilt by the commands above"


def test_verify_drops_an_entry_that_contradicts_the_files(store, cli):
    expected = log_json(cli)
    with sqlite3.connect(store.root / INDEX_NAME) as db:
        (refs,) = db.execute("SELECT refs FROM versions").fetchone()
        rows = json.loads(refs)
        rows[0][2] = "0" * 64  # (name, fetched_at, sha256, published)
        db.execute("UPDATE versions SET refs = ?", (json.dumps(rows),))
    assert log_json(cli)[0]["sha256"] == "0" * 64  # the cache is trusted while its files hold
    r = cli("verify")
    assert r.exit_code == 0, r.output  # an index is a cache: its faults are no store problem
    assert log_json(cli) == expected


def test_the_index_is_never_committed(store, cli, tmp_path):
    git(store.root, "init", "-q")
    log_json(cli)
    assert (store.root / INDEX_NAME).is_file()
    status = git(store.root, "status", "--porcelain", "--untracked-files=all")
    assert INDEX_NAME not in status, status
    assert "meta.json" in status, status


def test_an_old_store_gitignore_gets_the_index_line_and_no_index_before(store, cli):
    gi = store.root / ".gitignore"
    gi.write_text(".lock\n.*.tmp\n", encoding="utf-8")
    log_json(cli)
    assert not (store.root / INDEX_NAME).exists()  # it would be committed
    with store.lock():
        pass
    assert gi.read_text(encoding="utf-8") == ".lock\n.*.tmp\n.index.sqlite*\n"
    log_json(cli)
    assert (store.root / INDEX_NAME).is_file()


def test_an_index_that_cannot_be_had_is_gone_without(store, cli):
    (store.root / INDEX_NAME).mkdir()  # in the way: no database can be opened or created there
    assert [v["version"] for v in log_json(cli)] == [1, 2]
    r = cli("verify")
    assert r.exit_code == 0, r.output


def test_fresh_files_are_not_indexed(store_dir, cli):
    store = Store(store_dir)
    with store.lock():
        store.write_meta(StatementMeta(id=SID, source="x-gov", url=URL))
        store.add_version(SID, TEXTS[0], "2024-05-01T10:00:00Z")
    log_json(cli)
    fresh = Store(store_dir)
    with fresh.reading():
        fresh.versions(SID)
    assert fresh.reads["version"] == 1  # written within SETTLE_NS: read again, not trusted


def test_divergences_since_reads_the_texts_of_recent_statements_only(store_dir, cli, monkeypatch):
    """The index dates each statement (its latest version's published date, else its first
    fetch): `divergences --since` reads the texts that can be part of a pair, no others."""
    store = Store(store_dir)
    with store.lock():
        for day in range(1, 31):
            for source in ("state-gov", "un-org"):
                url = f"https://{source}.example/statement-{day}"
                sid = f"{source}/statement-{day}"
                store.write_meta(StatementMeta(id=sid, source=source, url=url))
                st = Statement(
                    f"Statement on Libya {day}",
                    (f"We condemn the attack on Tripoli of day {day}.",),
                    url=url,
                    published=f"2024-05-{day:02d}T09:00:00+00:00",
                )
                ref = store.add_version(sid, st, "2024-06-01T10:00:00Z")
                store.record_check(
                    sid,
                    Check(
                        time="2024-06-01T10:00:00Z",
                        outcome=Outcome.NEW,
                        url=url,
                        status=200,
                        sha256=ref.sha256,
                    ),
                )
    age(store_dir)
    first = cli("list")  # indexes the store's versions: their dates
    assert first.exit_code == 0, first.output
    read: list[str] = []
    real = Path.read_bytes

    def counted(path, *a, **kw):
        if VERSION_NAME.match(path.name):
            read.append(path.parent.name)
        return real(path, *a, **kw)

    monkeypatch.setattr(Path, "read_bytes", counted)
    r = cli("divergences", "--since", "2024-05-28", "--window", "7d", "--json")
    assert r.exit_code in (0, 1), r.output
    # From day 28, pairs reach back the window of 7 days: days 21 to 30, of both sources.
    assert sorted(set(read)) == sorted(f"statement-{d}" for d in range(21, 31)), read
    assert r.output.strip() == "[]", r.output
    # And the index now says which reading each of those files gave: none is read again.
    read.clear()
    again = cli("divergences", "--since", "2024-05-28", "--window", "7d", "--json")
    assert (again.exit_code, again.output) == (r.exit_code, r.output)
    assert read == [], read
