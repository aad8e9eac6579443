"""What the index knows of each statement's latest version: dating every statement (to find
the few that a day's divergences can involve) lists no statement's folder.

A report's divergences, ``divergences --since`` and ``related`` date every statement of the
store by its latest version (its ``published``, else when it was first fetched), then read
the texts of the few dated near the statements asked about. Through the version index that
dating lists every folder and stats every version file: at 50,000 statements, 200,000 system
calls and as many rows parsed. Here the index keeps, per statement, its latest version's ref
and its first fetch time under the *stamp of its folder* (inode and mtime): a version file is
only ever created, replaced or removed by a rename, a create or an unlink in that folder
(dipdiff's atomic writes, an older dipdiff's, ``verify --repair``, git's checkout, pull and
merge, which unlink a file before they write it anew), and each of those changes the folder's
mtime. So one ``lstat`` per statement proves its row; a folder that changed, or that is
younger than :data:`~dipdiff.store.index.SETTLE_NS`, is read through :meth:`Store.versions`
as before. A file rewritten in place, byte by byte, by some other tool is not seen here (it is
by ``verify``, and by every command that reads the version).

The files stay the truth: a missing, stale or damaged table costs time, never an answer.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
from collections.abc import Callable, Container, Sequence
from typing import Literal

from dipdiff.errors import DamagedFileError
from dipdiff.models import Provenance, VersionRef
from dipdiff.store.index import SETTLE_NS, StoreIndex

TABLE = """
CREATE TABLE IF NOT EXISTS latest_versions (
    sid TEXT PRIMARY KEY, folder TEXT NOT NULL, number INTEGER NOT NULL, filename TEXT,
    fetched_at TEXT, sha256 TEXT, published TEXT, provenance TEXT, first_fetched TEXT);
"""
#: A statement's latest version and when its first was fetched; None: it has no version.
Newest = tuple[VersionRef, str] | None
#: A statement's versions, as the store reads them (they may raise DamagedFileError).
Versions = Callable[[str], list[VersionRef]]


def folder_stamp(folder: str, settled_before: int) -> tuple[str, bool] | None:
    """The stamp of a statement's folder and whether it has settled; None: not a folder."""
    try:
        st = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return None  # a link where a folder should be: the store's own reading says so
    return f"{st.st_ino}:{st.st_mtime_ns}", st.st_mtime_ns < settled_before


def newest(refs: Sequence[VersionRef]) -> Newest:
    return (refs[-1], refs[0].fetched_at) if refs else None


def latest_versions(
    index: StoreIndex,
    root: str,
    ids: Sequence[str],
    versions: Versions,
    *,
    held: Container[str] = (),
    noted: Callable[[DamagedFileError], object],
) -> dict[str, Newest]:
    """Each statement's :data:`Newest`, from the index where its folder is as it was, else
    from ``versions`` (and remembered once its folder has settled): always for those of
    ``held``, which this command holds in memory. A damaged statement is left out, its error
    passed to ``noted``."""
    db = index.connection()
    known: dict[str, tuple[object, ...]] = {}
    if db is not None:
        try:
            db.executescript(TABLE)
            known = {row[0]: row[1:] for row in db.execute("SELECT * FROM latest_versions")}
        except sqlite3.Error as e:
            index.failed(e)
            db = None
    settled_before = time.time_ns() - SETTLE_NS
    found: dict[str, Newest] = {}
    fresh: list[tuple[object, ...]] = []
    for sid in ids:
        stamped = folder_stamp(f"{root}/{sid}", settled_before)
        was = known.get(sid)
        if stamped is not None and was is not None and was[0] == stamped[0] and sid not in held:
            kept = _from_row(sid, was)
            if kept is not False:
                found[sid] = kept
                continue
        try:
            refs = versions(sid)
        except DamagedFileError as e:
            noted(e)
            continue
        found[sid] = newest(refs)
        if stamped is not None and stamped[1]:
            fresh.append((sid, stamped[0], *_to_row(found[sid])))
    if db is not None and fresh:
        try:
            db.executemany(
                "INSERT OR REPLACE INTO latest_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", fresh
            )
            db.commit()
        except sqlite3.Error as e:
            index.failed(e)
    return found


def _to_row(found: Newest) -> tuple[object, ...]:
    if found is None:
        return (0, None, None, None, None, None, None)
    ref, first = found
    p = ref.provenance
    archived = json.dumps([p.origin, p.memento, p.captured_at, p.digest]) if p else None
    return (ref.number, ref.filename, ref.fetched_at, ref.sha256, ref.published, archived, first)


def _from_row(sid: str, row: tuple[object, ...]) -> Newest | Literal[False]:
    """The row's :data:`Newest`; False: a row that does not hold one (a damaged index)."""
    _, number, filename, fetched_at, sha, published, archived, first = row
    if number == 0:
        return None
    if not (
        isinstance(number, int)
        and isinstance(filename, str)
        and isinstance(fetched_at, str)
        and isinstance(sha, str)
        and isinstance(first, str)
        and (published is None or isinstance(published, str))
    ):
        return False
    provenance = None
    if archived is not None:
        try:
            provenance = Provenance(*json.loads(str(archived)))
        except (ValueError, TypeError):
            return False
    return VersionRef(sid, number, fetched_at, sha, filename, published, provenance), first
