"""What the index knows of check histories: the commands that need only recent data read only it.

``dipdiff run`` with nothing due, a day's ``report`` and the feed used to read every
statement's ``meta.json`` and ``checks.jsonl`` to find the few checked in a window of time.
The index (``snapshots/.index.sqlite``, :mod:`dipdiff.store.index`) keeps, per statement, the
*stamp* of those two files (inode, size and mtime of each) and, under it, one row per check:
its time, the run that made it, the event it records. A command stamps every statement (two
``stat`` calls each), re-reads the few whose stamp changed (a run, a ``git pull``, a merge,
``verify --repair``, an older dipdiff that knows nothing of the index) and then asks the index
which statements can matter.

The files stay the truth, and nothing here decides an answer. Every query gives *candidates*:
each statement the index cannot vouch for (a stamp that changed and has not settled, no
``meta.json``, a damaged file, a time it cannot place, a statement this command has written),
plus those its rows name. The command then reads the candidates' files and applies its own
rules to them, exactly as when it read every statement; the index only spares it the
statements the rules would have found nothing in. Rows that are not vouched for are never
trusted: a missing, stale or corrupt index costs time, never an answer.

Entries are written by reading commands, never inside a store write (a killed write leaves at
worst a stamp that no longer matches), and a file younger than
:data:`~dipdiff.store.index.SETTLE_NS` is not indexed (a rewrite within the file system's
timestamp granularity could otherwise keep its stamp).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from dipdiff.clock import parse_timestamp
from dipdiff.errors import DipdiffError
from dipdiff.store.index import SETTLE_NS, StoreIndex
from dipdiff.store.layout import CHECKS, META
from dipdiff.store.meta import StatementMeta, event_kind

# Tables of their own, beside the index's: created when missing, so that no schema change of
# the version and reading tables is needed (and none of theirs drops these). A row is true
# only while its statement's stamp in ``recent_records`` matches the files.
TABLES = """
CREATE TABLE IF NOT EXISTS recent_records (
    sid TEXT PRIMARY KEY, stamp TEXT NOT NULL, odd INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS recent_checks (
    sid TEXT NOT NULL, i INTEGER NOT NULL, time TEXT, ts REAL, run TEXT, after TEXT, kind TEXT);
CREATE INDEX IF NOT EXISTS recent_checks_sid ON recent_checks (sid);
CREATE INDEX IF NOT EXISTS recent_checks_ts ON recent_checks (ts);
CREATE INDEX IF NOT EXISTS recent_checks_time ON recent_checks (time);
CREATE INDEX IF NOT EXISTS recent_checks_run ON recent_checks (run);
CREATE INDEX IF NOT EXISTS recent_checks_after ON recent_checks (after);
CREATE TABLE IF NOT EXISTS recent_docs (
    kind TEXT NOT NULL, sid TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (kind, sid));
"""
# Seconds of slack around a window's ends: candidates may be too many, never too few.
SLACK = 1.0
_CHUNK = 500  # parameters per IN (...) list
# (index in the sorted history, time as written, its epoch seconds, run, after, event)
CheckRow = tuple[int, str | None, float | None, str | None, str | None, str | None]
#: A statement's record as the store reads it, past its cache (it may raise).
Read = Callable[[str], StatementMeta]
#: What a command keeps of a record, by the name it keeps it under (``recent_docs.kind``):
#: planning's summary, the listing's fields. A new name when what is kept changes.
Summaries = Mapping[str, Callable[[StatementMeta], str]]


def stamp(folder: str, settled_before: int | None = None) -> tuple[str, bool] | None:
    """The stamp of a statement's record files and whether it has settled (written before
    ``settled_before``, in ns; by default :data:`SETTLE_NS` ago); None: not indexable (no
    ``meta.json``: its identity is rebuilt from the version files)."""
    # Strings, not pathlib: two stats per statement of the store, in every command that
    # needs only recent data; pathlib's objects cost more than the calls.
    try:
        m = os.stat(f"{folder}/{META}")  # noqa: PTH116
    except OSError:
        return None
    try:
        c = os.stat(f"{folder}/{CHECKS}")  # noqa: PTH116
    except FileNotFoundError:
        c = None
    except OSError:
        return None
    if settled_before is None:
        settled_before = time.time_ns() - SETTLE_NS
    if c is None:
        return f"{m.st_ino}:{m.st_size}:{m.st_mtime_ns};-", m.st_mtime_ns < settled_before
    newest = max(m.st_mtime_ns, c.st_mtime_ns)
    return (
        f"{m.st_ino}:{m.st_size}:{m.st_mtime_ns};{c.st_ino}:{c.st_size}:{c.st_mtime_ns}",
        newest < settled_before,
    )


def check_rows(checks: Sequence[dict[str, Any]]) -> list[CheckRow] | None:
    """The index's rows of a history; None when a check's time cannot be placed (the
    statement is then always a candidate, and its own rules meet the odd time)."""
    rows: list[CheckRow] = []
    for i, c in enumerate(checks):
        kind = event_kind(checks, i)
        if "time" not in c:
            if kind is not None:
                return None
            rows.append((i, None, None, None, None, kind))
            continue
        written = str(c["time"])
        ts = None
        if c["time"]:
            try:
                ts = parse_timestamp(written).timestamp()
            except DipdiffError:
                return None
        rows.append((i, written, ts, _text(c.get("run")), _text(c.get("after")), kind))
    return rows


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


class Recent:
    """The index's view of the store's check histories for one command (one hold of the store).

    ``vouched``: the statements whose rows are true, as stamped when the view was made;
    a statement the command writes leaves it (:meth:`touched`).
    """

    def __init__(
        self, index: StoreIndex, db: sqlite3.Connection, vouched: set[str], read: Read
    ) -> None:
        self._index = index
        self._db = db
        self._read = read
        self.vouched = vouched
        self._summarized: set[str] = set()

    def touched(self, sid: str) -> None:
        self.vouched.discard(sid)

    def among(self, ids: Iterable[str], pick: Callable[[Recent], set[str]]) -> list[str]:
        """The statements of ``ids`` that ``pick`` names or the index cannot vouch for, in
        their order; all of them when the index fails meanwhile."""
        try:
            found = pick(self)
        except sqlite3.Error as e:
            self._fail(e)  # from here on, every statement is a candidate
            found = set()
        return [sid for sid in ids if sid in found or sid not in self.vouched]

    def checked(
        self,
        since: datetime | None,
        until: datetime | None,
        runs: Collection[str] = (),
        after: Collection[str] = (),
    ) -> set[str]:
        """Vouched statements with a check in (since, until], or made by one of ``runs``,
        or after one of ``after`` (a superset: the window's own rule decides)."""
        lo = since.timestamp() - SLACK if since else None
        hi = until.timestamp() + SLACK if until else None
        where, args = "ts IS NOT NULL", []
        if lo is not None:
            where, args = where + " AND ts > ?", [lo]
        if hi is not None:
            where, args = where + " AND ts <= ?", [*args, hi]
        sql = f"SELECT DISTINCT sid FROM recent_checks WHERE {where}"  # noqa: S608 - no input
        found = self._sids(sql, args)
        for column, values in (("run", runs), ("after", after)):
            found |= self._among(column, values)
        return found & self.vouched

    def newest(self, kinds: Collection[str], limit: int | None) -> set[str]:
        """The vouched statements of the ``limit`` newest checks (by time, statement, order)
        that record an event of ``kinds``."""
        marks = ",".join("?" * len(kinds))
        rows = self._db.execute(
            f"SELECT sid FROM recent_checks WHERE kind IN ({marks}) "  # noqa: S608 - ?s only
            "ORDER BY time DESC, sid DESC, i DESC",
            sorted(kinds),
        )
        found: set[str] = set()
        taken = 0
        for (sid,) in rows:
            if limit is not None and taken >= limit:
                break
            if sid in self.vouched:
                found.add(sid)
                taken += 1
        return found

    def latest(self) -> set[str]:
        """The vouched statements whose newest check is the newest of all (within the slack)."""
        rows = self._db.execute(
            "SELECT sid, ts FROM recent_checks WHERE ts IS NOT NULL ORDER BY ts DESC"
        )
        found: set[str] = set()
        top: float | None = None
        for sid, ts in rows:
            if sid not in self.vouched:
                continue
            if top is None:
                top = ts
            elif ts < top - SLACK:
                break
            found.add(sid)
        return found

    def docs(self, kind: str, source: str | None = None) -> dict[str, str]:
        """What a command derived of the record of each vouched statement (of ``source``)
        (:meth:`remember`)."""
        low, high = (f"{source}/", f"{source}0") if source else ("", "\U0010ffff")
        try:
            rows = self._db.execute(
                "SELECT sid, doc FROM recent_docs WHERE kind = ? AND sid > ? AND sid < ?",
                (kind, low, high),  # "0" follows "/"
            ).fetchall()
        except sqlite3.Error as e:
            self._fail(e)
            return {}
        return {sid: doc for sid, doc in rows if sid in self.vouched}

    def summarize(self, summaries: Summaries) -> None:
        """Keep each of ``summaries`` of every vouched statement that has none yet (an index
        another command built): read once, past the store's cache, so that a command over
        every statement never holds every record."""
        for kind, summary in summaries.items():
            if kind in self._summarized:
                continue
            try:
                rows = self._db.execute("SELECT sid FROM recent_docs WHERE kind = ?", (kind,))
                have = {sid for (sid,) in rows}
                for sid in sorted(self.vouched - have):
                    try:
                        doc = summary(self._read(sid))
                    except (DipdiffError, OSError):
                        continue  # the command's own reading says what is wrong
                    self._db.execute(
                        "INSERT OR REPLACE INTO recent_docs (kind, sid, doc) VALUES (?, ?, ?)",
                        (kind, sid, doc),
                    )
                self._db.commit()
            except sqlite3.Error as e:
                self._fail(e)
                return
            self._summarized.add(kind)

    def _fail(self, error: sqlite3.Error) -> None:
        self._index.failed(error)
        self.vouched = set()

    def _sids(self, sql: str, args: Sequence[object]) -> set[str]:
        return {sid for (sid,) in self._db.execute(sql, args)}

    def _among(self, column: str, values: Collection[str]) -> set[str]:
        found: set[str] = set()
        todo = sorted(values)
        for k in range(0, len(todo), _CHUNK):
            part = todo[k : k + _CHUNK]
            marks = ",".join("?" * len(part))
            sql = f"SELECT DISTINCT sid FROM recent_checks WHERE {column} IN ({marks})"  # noqa: S608
            found |= self._sids(sql, part)
        return found


def view(
    index: StoreIndex, root: str, ids: Sequence[str], read: Read, summaries: Summaries
) -> Recent | None:
    """The index's view of the statements ``ids`` (None: no index can be had here), brought up
    to date with their files, with ``summaries`` of each. A statement that cannot be read is
    simply not vouched for."""
    for _ in range(2):  # a damaged index is deleted by the first failure, and made anew
        db = index.connection()
        if db is None:
            return None
        try:
            return Recent(index, db, refresh(db, root, ids, read, summaries), read)
        except sqlite3.Error as e:
            with contextlib.suppress(sqlite3.Error):
                db.rollback()
            index.failed(e)
    return None


def refresh(
    db: sqlite3.Connection, root: str, ids: Iterable[str], read: Read, summaries: Summaries
) -> set[str]:
    """Stamp every statement of ``ids`` and re-index those whose files changed; returns the
    statements whose rows are true."""
    db.executescript(TABLES)
    known = {sid: (st, odd) for sid, st, odd in db.execute("SELECT * FROM recent_records")}
    vouched: set[str] = set()
    present = set(ids)
    settled_before = time.time_ns() - SETTLE_NS
    for sid in present:
        stamped = stamp(f"{root}/{sid}", settled_before)
        if stamped is None:
            continue
        st, settled = stamped
        was = known.get(sid)
        if was is not None and was[0] == st:
            if not was[1]:
                vouched.add(sid)
            continue
        if not settled:
            continue
        try:
            meta = read(sid)
            docs = [(kind, sid, summary(meta)) for kind, summary in summaries.items()]
        except (DipdiffError, OSError):
            continue  # the command's own reading says what is wrong
        rows = check_rows(meta.checks)
        _forget(db, sid)
        db.execute(
            "INSERT INTO recent_records (sid, stamp, odd) VALUES (?, ?, ?)",
            (sid, st, rows is None),
        )
        if rows is not None:
            db.executemany(
                "INSERT INTO recent_checks (sid, i, time, ts, run, after, kind) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(sid, *r) for r in rows],
            )
            db.executemany("INSERT INTO recent_docs (kind, sid, doc) VALUES (?, ?, ?)", docs)
            vouched.add(sid)
    for sid in known.keys() - present:
        _forget(db, sid)
    db.commit()
    return vouched


def _forget(db: sqlite3.Connection, sid: str) -> None:
    for table in ("recent_records", "recent_checks", "recent_docs"):
        db.execute(f"DELETE FROM {table} WHERE sid = ?", (sid,))  # noqa: S608 - our own names


def drop_contradicted(index: StoreIndex, root: str, ids: Iterable[str], read: Read) -> None:
    """``verify``: drop every entry whose stamp still holds but whose rows say other than the
    files (a damaged index); the next command indexes those statements again."""
    db = index.connection()
    if db is None:
        return
    try:
        db.executescript(TABLES)
        known = {sid: (st, odd) for sid, st, odd in db.execute("SELECT * FROM recent_records")}
        for sid in ids:
            was = known.get(sid)
            stamped = stamp(f"{root}/{sid}") if was is not None else None
            if was is None or stamped is None or stamped[0] != was[0]:
                continue  # not indexed, or stale: not trusted anyway
            try:
                rows = check_rows(read(sid).checks)
            except (DipdiffError, OSError):
                rows = None
            held = db.execute(
                "SELECT i, time, ts, run, after, kind FROM recent_checks WHERE sid = ? ORDER BY i",
                (sid,),
            ).fetchall()
            if rows is None or bool(was[1]) or held != rows:
                _forget(db, sid)
        db.commit()
    except sqlite3.Error as e:
        index.failed(e)
