"""The store's derived index: ``snapshots/.index.sqlite``, a cache of what version files say.

Listing a statement's versions means reading and parsing every version file of it (the
header holds the time and the sha256); at 50,000 statements that is 150,000 files for one
``dipdiff list``. The index keeps, per statement, the refs that parsing gave, under the
*signature* of the files they came from: the name, size and mtime of every version file.
A command lists the folder (it must, to know which files exist), compares the signature and
reads the files only when it differs.

The files stay the truth. The index is never committed (the store's ``.gitignore`` names it,
and it is only created once it does), never required (a missing, unreadable, corrupt or
stale index is rebuilt silently; a store it cannot be written in simply goes without), and
never written inside a version or meta write: a run killed at any point leaves at worst a
stale entry, which the signature exposes. A folder whose newest file is younger than
:data:`SETTLE_NS` is not indexed: a file rewritten within the file system's timestamp
granularity could otherwise keep its old signature ("racy git").

It also keeps what ``divergences`` and ``related`` read of every text in reach (its
analysis: actors, stances, language; and its content words), and its brief (the same without
the sentences: what ranking candidates reads of every statement, where the full reading is
read only for the pairs compared in full), under a key that hashes the
text and the analyser (:mod:`dipdiff.analyse.serial`): a text or an analyser that changed
finds no entry and is read again. Entries of another analyser are dropped when the first new
one is written. And, per statement, which reading its latest version file gave (its key and
title, under the file's stamp: name, size and mtime, as in a signature): a warm
``divergences`` ranks every statement from the briefs without reading its version file.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dipdiff.models import Provenance
from dipdiff.store.layout import INDEX_NAME, provenance_of

GITIGNORE_LINE = f"{INDEX_NAME}*"  # the database and its journal (a line of layout.GITIGNORE)
SCHEMA = 5  # 3: a version's provenance (a web archive's capture); 4: each text's reading;
# 5: and its brief
SETTLE_NS = 2_000_000_000
BATCH = 500  # entries per transaction when a command reads statement after statement

Signature = str
# (filename, fetched_at, sha256, published, provenance) of each version file, in file-name
# order; provenance is [origin, memento, captured_at, digest] or None (fetched live).
Row = tuple[str, str, str, str | None, list[str] | None]
Rows = list[Row]


def row_of(name: str, header: dict[str, Any]) -> Row:
    """What the index keeps of a version file's header."""
    p = provenance_of(header)
    archived = [p.origin, p.memento, p.captured_at, p.digest] if p else None
    return (name, header["fetched_at"], header["sha256"], header["published"], archived)


def from_row(archived: list[str] | None) -> Provenance | None:
    """A row's provenance as the version file's header gave it."""
    return Provenance(*archived) if archived else None


def signature(folder: Path, names: list[str]) -> tuple[Signature, bool]:
    """The signature of a statement's version files, and whether it is settled (old enough
    that a later write must change it)."""
    parts = []
    newest = 0
    where = str(folder)
    for name in names:
        st = os.stat(f"{where}/{name}")  # noqa: PTH116 - every version file of `list`: no pathlib
        newest = max(newest, st.st_mtime_ns)
        parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    return ";".join(parts), newest < time.time_ns() - SETTLE_NS


_SELECT_READING = {
    "doc": "SELECT doc FROM readings WHERE key = ?",
    "brief": "SELECT brief FROM readings WHERE key = ?",
}


def file_stamp(path: Path) -> tuple[str, bool]:
    """A version file's part of a :func:`signature` (``name:size:mtime``), and whether it is
    settled."""
    st = path.stat()
    return f"{path.name}:{st.st_size}:{st.st_mtime_ns}", st.st_mtime_ns < time.time_ns() - SETTLE_NS


# A statement's latest version file, the key of its reading and its title: one row per
# statement (a newer version replaces it), looked up with its analyser's brief at once.
_FILE_READINGS = (
    "CREATE TABLE IF NOT EXISTS file_readings (sid TEXT PRIMARY KEY, stamp TEXT NOT NULL, "
    "key TEXT NOT NULL, title TEXT NOT NULL)"
)
_SELECT_FILE_READING = (
    "SELECT f.title, r.brief FROM file_readings f JOIN readings r ON r.key = f.key "
    "WHERE f.sid = ? AND f.stamp = ? AND r.analyser = ?"
)


class StoreIndex:
    """Version refs by statement, valid while their files' signature holds."""

    def __init__(self, root: Path) -> None:
        self.path = root / INDEX_NAME
        self._root = root
        self._db: sqlite3.Connection | None = None
        self._broken = False  # could not be opened or written: the command goes without
        self._rebuilt = False
        self._pending = 0
        self._committed = False  # the first entry is committed at once, later ones in batches
        #: Whether the store's .gitignore names the index (None: not looked yet). The store
        #: sets it when it has just made sure, so that the file is read once per command.
        self.ignored_by_git: bool | None = None
        self._at_exit = False
        self._analyser = ""  # the analyser whose entries this command keeps (once it wrote one)
        self._file_readings = False  # whether this command made sure that table exists

    def lookup(self, sid: str, sig: Signature) -> Rows | None:
        """The rows remembered for ``sid`` if its files still have signature ``sig``."""
        db = self._open(create=False)
        if db is None:
            return None
        try:
            row = db.execute("SELECT sig, refs FROM versions WHERE sid = ?", (sid,)).fetchone()
            if row is None or row[0] != sig:
                return None
            rows: Rows = [(a, b, c, d, e) for a, b, c, d, e in json.loads(row[1])]
        except (sqlite3.Error, ValueError, TypeError):
            self._rebuild()
            return None
        if [r[0] for r in rows] != [p.split(":", 1)[0] for p in sig.split(";")]:
            self._rebuild()  # an entry that does not match its own signature: a damaged index
            return None
        return rows

    def remember(self, sid: str, sig: Signature, rows: Rows) -> None:
        self._write(
            "INSERT OR REPLACE INTO versions (sid, sig, refs) VALUES (?, ?, ?)",
            (sid, sig, json.dumps(rows)),
        )

    def _write(
        self,
        sql: str,
        params: tuple[str, ...],
        first: Callable[[sqlite3.Connection], None] | None = None,
    ) -> bool:
        """One row into the command's open transaction (``first`` runs before it, in it);
        False when the index cannot be written and the command goes without it."""
        db = self._open(create=True)
        if db is None:
            return False
        try:
            if first is not None:
                first(db)
            db.execute(sql, params)
        except sqlite3.Error:
            self._give_up()
            return False
        self._written()
        return True

    def _written(self) -> None:
        self._pending += 1
        if not self._at_exit:
            atexit.register(self.flush)  # the last batch of a command that never said it ended
            self._at_exit = True

    def flush(self, *, batch: bool = False) -> None:
        """Commit what was remembered; with ``batch``, only a full batch (a commit costs about
        as much as reading a version file) or the first entry."""
        if self._db is None or not self._pending:
            return
        if batch and self._committed and self._pending < BATCH:
            return
        try:
            self._db.commit()
        except sqlite3.Error:
            self._give_up()
        self._pending = 0
        self._committed = True

    def reading(self, key: str) -> str | None:
        """The reading remembered under ``key`` (a document of :mod:`dipdiff.analyse.serial`)."""
        return self._reading("doc", key)

    def brief(self, key: str) -> str | None:
        """The brief of the reading remembered under ``key``: what ranking candidates reads."""
        return self._reading("brief", key)

    def _reading(self, column: str, key: str) -> str | None:
        db = self._open(create=False)
        if db is None:
            return None
        try:
            row = db.execute(_SELECT_READING[column], (key,)).fetchone()
        except sqlite3.Error:
            self._rebuild()
            return None
        return None if row is None else str(row[0])

    def remember_reading(self, key: str, analyser: str, doc: str, brief: str) -> None:
        """Keep a text's reading and its brief (documents of :mod:`dipdiff.analyse.serial`)."""

        def only_this_analyser(db: sqlite3.Connection) -> None:
            if self._analyser != analyser:
                # What an older analyser found is never looked up again: no dead weight.
                db.execute("DELETE FROM readings WHERE analyser != ?", (analyser,))
                self._analyser = analyser

        if self._write(
            "INSERT OR REPLACE INTO readings (key, analyser, doc, brief) VALUES (?, ?, ?, ?)",
            (key, analyser, doc, brief),
            only_this_analyser,
        ):
            self.flush(batch=True)

    def file_reading(self, sid: str, stamp: str, analyser: str) -> tuple[str, str] | None:
        """(title, brief) of the reading by ``analyser`` of ``sid``'s latest version file, while
        the file's stamp (:func:`file_stamp`) is ``stamp``."""
        db = self._open(create=False)
        if db is None:
            return None
        try:
            row = db.execute(_SELECT_FILE_READING, (sid, stamp, analyser)).fetchone()
        except sqlite3.OperationalError:
            return None  # no such table yet (an index of an older dipdiff), or locked
        except sqlite3.Error:
            self._rebuild()
            return None
        return None if row is None else (str(row[0]), str(row[1]))

    def remember_file_reading(self, sid: str, stamp: str, key: str, title: str) -> None:
        """Keep which reading (``key``, of :meth:`remember_reading`) ``sid``'s latest version
        file, of stamp ``stamp``, gave, and its title."""

        def table_made(db: sqlite3.Connection) -> None:
            if not self._file_readings:
                db.execute(_FILE_READINGS)
                self._file_readings = True

        if self._write(
            "INSERT OR REPLACE INTO file_readings (sid, stamp, key, title) VALUES (?, ?, ?, ?)",
            (sid, stamp, key, title),
            table_made,
        ):
            self.flush(batch=True)

    def forget(self, sid: str) -> None:
        """Drop an entry found wrong (``verify``): it is rebuilt from the files."""
        db = self._open(create=False)
        if db is None:
            return
        try:
            db.execute("DELETE FROM versions WHERE sid = ?", (sid,))
            db.commit()
        except sqlite3.Error:
            self._give_up()

    def connection(self) -> sqlite3.Connection | None:
        """The open index, created if it may be (the tables of :mod:`dipdiff.store.recent`)."""
        db = self._open(create=True)
        if db is None and not self._broken:  # a damaged file, deleted just now: a new one
            db = self._open(create=True)
        return db

    def failed(self, error: sqlite3.Error) -> None:
        """An error of the database met by another module: an index that is damaged is
        deleted (rebuilt by the next write); one that is locked or read-only is done without."""
        if isinstance(error, sqlite3.OperationalError):
            self._give_up()
        else:
            self._rebuild()

    # -- opening, and going without --------------------------------------------------------

    def _open(self, *, create: bool) -> sqlite3.Connection | None:
        if self._db is not None or self._broken:
            return self._db
        if not self.path.exists() and (not create or not self._is_ignored_by_git()):
            return None
        try:
            self._db = self._connect()
        except sqlite3.Error:
            self._rebuild()
        return self._db

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=1.0)
        try:
            # A cache: losing the last transaction to a power cut costs a re-read, nothing else.
            db.execute("PRAGMA synchronous = OFF")
            if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA:
                db.execute("DROP TABLE IF EXISTS versions")
                db.execute("DROP TABLE IF EXISTS readings")
                db.execute("DROP TABLE IF EXISTS file_readings")
                db.execute(
                    "CREATE TABLE versions (sid TEXT PRIMARY KEY, sig TEXT NOT NULL, "
                    "refs TEXT NOT NULL)"
                )
                db.execute(
                    "CREATE TABLE readings (key TEXT PRIMARY KEY, analyser TEXT NOT NULL, "
                    "doc TEXT NOT NULL, brief TEXT NOT NULL)"
                )
                db.execute(f"PRAGMA user_version = {SCHEMA}")
                db.commit()
        except sqlite3.Error:
            db.close()
            raise
        return db

    def _is_ignored_by_git(self) -> bool:
        """Only an index the store's ``.gitignore`` keeps out of commits may be created."""
        if self.ignored_by_git is None:
            try:
                lines = (self._root / ".gitignore").read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                lines = []
            self.ignored_by_git = GITIGNORE_LINE in lines
        return self.ignored_by_git

    def _rebuild(self) -> None:
        """A corrupt index is deleted, to be created anew by the next write; a second
        failure in one command means it cannot be had here (the command goes without)."""
        self._close()
        if self._rebuilt:
            self._broken = True
            return
        self._rebuilt = True
        with contextlib.suppress(OSError):
            self.path.unlink()

    def _give_up(self) -> None:
        """The index cannot be written (read-only store, disk full, locked): go without it."""
        self._close()
        self._broken = True

    def _close(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None
        self._file_readings = False
        self._pending = 0
