"""The index's check rows (store/recent.py): commands that need only recent data read only the
statements it names, and a damaged, stale or missing index never changes their answer.
Files are aged by hand (os.utime): a folder written in the last seconds is never indexed."""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import date

import pytest

from dipdiff.models import Check, Outcome, Statement
from dipdiff.pipeline.report import History, day_window
from dipdiff.store.index import INDEX_NAME
from dipdiff.store.meta import StatementMeta
from dipdiff.store.store import RELEASED, Store

DAYS = ("2024-05-01", "2024-05-02", "2024-05-03")


def age(root, seconds=3600):
    """Make every file of the store look written an hour ago."""
    then = time.time() - seconds
    for path in root.rglob("*"):
        os.utime(path, (then, then))


def sid(i: int) -> str:
    return f"x-gov/statement-{i}"


@pytest.fixture
def store(store_dir):
    """Three statements, each new on its own day."""
    store = Store(store_dir)
    with store.lock():
        for i, day in enumerate(DAYS):
            url = f"https://x.gov/a/statement-{i}"
            store.write_meta(StatementMeta(id=sid(i), source="x-gov", url=url))
            st = Statement(f"Statement {i}", (f"The text of statement {i}.",), url=url)
            when = f"{day}T10:00:00Z"
            ref = store.add_version(sid(i), st, when, b"<html></html>")
            check = Check(
                time=when, outcome=Outcome.NEW, url=url, status=200, sha256=ref.sha256, event="new"
            )
            store.record_check(sid(i), check)
    age(store_dir)
    return store


def report(cli, day: str) -> str:
    r = cli("report", "--date", day, "--out", "-")
    assert r.exit_code == 0, r.output
    return r.stdout


def records_read(store_dir, day: str) -> int:
    """How many check histories a day's window reads, in a new command."""
    fresh = Store(store_dir)
    with fresh.reading():
        History(fresh).window(day_window(date.fromisoformat(day), fresh))
    return fresh.reads["meta"]


def test_a_days_report_reads_the_histories_of_that_days_statements_only(store, cli):
    expected = report(cli, DAYS[1])  # the first command builds the index
    assert sid(1) in expected and sid(0) not in expected
    assert records_read(store.root, DAYS[1]) == 1
    assert report(cli, DAYS[1]) == expected


def test_a_check_added_behind_the_index_is_seen(store, cli):
    report(cli, DAYS[2])
    with store.lock():  # a later check of statement 0, on day 3
        url = "https://x.gov/a/statement-0"
        store.record_check(sid(0), Check(time=f"{DAYS[2]}T11:00:00Z", outcome="removed", url=url))
    age(store.root)
    assert '"removed": 1' in report(cli, DAYS[2])
    assert records_read(store.root, DAYS[2]) == 2


@pytest.mark.parametrize("damage", ["garbage", "rows dropped"])
def test_a_damaged_index_gives_the_same_report(store, cli, damage):
    expected = report(cli, DAYS[0])
    path = store.root / INDEX_NAME
    if damage == "garbage":
        path.write_bytes(b"not a database\x00" * 100)
    else:
        with sqlite3.connect(path) as db:
            db.execute("DELETE FROM recent_records")
    assert report(cli, DAYS[0]) == expected
    assert records_read(store.root, DAYS[0]) == 1  # rebuilt by the report above


def test_verify_drops_check_rows_that_contradict_the_files(store, cli):
    expected = report(cli, DAYS[2])
    with sqlite3.connect(store.root / INDEX_NAME) as db:
        db.execute("UPDATE recent_checks SET ts = 0, time = '1970-01-01T00:00:00Z'")
    assert report(cli, DAYS[2]) != expected  # rows are trusted while their files' stamp holds
    r = cli("verify")
    assert r.exit_code == 0, r.output  # the index is a cache: its faults are no store problem
    assert report(cli, DAYS[2]) == expected


def test_a_clean_release_spares_the_next_writer_the_sweep(store, cli):
    assert (store.root / ".lock").read_text().startswith(RELEASED)
    leftover = store.root / sid(0) / ".meta.json.abc123.tmp"
    leftover.write_text("{", encoding="utf-8")  # not made by dipdiff: no writer stopped halfway
    with store.lock():
        pass
    assert leftover.exists()
    r = cli("verify")
    assert r.exit_code == 2 and "leftover temporary file" in r.stderr, r.output
    r = cli("verify", "--repair")  # always sweeps
    assert r.exit_code == 0 and f"removed {leftover}" in r.stdout, r.output


def test_a_writer_that_stopped_halfway_is_swept_after(store):
    leftover = store.root / sid(0) / ".meta.json.abc123.tmp"
    leftover.write_text("{", encoding="utf-8")
    # What a holder killed halfway leaves in the lock file: its own note.
    (store.root / ".lock").write_text("pid 1 on elsewhere since 2024-05-03T10:00:00Z")
    with store.lock():
        pass
    assert not leftover.exists()


def test_a_second_listing_reads_no_record(store, cli):
    from dipdiff.pipeline.listing import statement_rows

    r = cli("list", "--json")
    assert r.exit_code == 0, r.output
    fresh = Store(store.root)
    assert [row["id"] for row in statement_rows(fresh)] == [sid(i) for i in range(3)]
    assert fresh.reads["meta"] == 0, fresh.reads
    with sqlite3.connect(store.root / INDEX_NAME) as db:  # damaged summaries: read again
        db.execute("UPDATE recent_docs SET doc = '[1, 2'")
    again = cli("list", "--json")
    assert again.exit_code == 0 and again.stdout == r.stdout, again.output
