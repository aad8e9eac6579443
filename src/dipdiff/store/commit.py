"""Group commit: the files of many statements written now, made durable and visible together.

A first run stores a few thousand new statements, each with a raw page, a version file and
a ``meta.json``. Synced one at a time that is six fsyncs a statement, each one stopping the
run's event loop while every other request waits. Inside :meth:`Store.group_commit
<dipdiff.store.store.Store.group_commit>` a write instead leaves its data in a temp file
beside its final name and returns; :meth:`GroupCommit.commit` then, for every file staged
since the last commit:

1. syncs every temp file, all at once (from threads, so that the file system writes them
   together),
2. renames each one into place, in the order they were written (a raw page before its
   version, ``meta.json`` before the statement's first version),
3. syncs the folders that got a new name, and the folders that got a new folder,
4. and only then appends the check lines that record those versions (and syncs them with
   the end of the run, as every check line of a run).

So a version file is never visible before its bytes are on disk (a power cut leaves the old
name or the whole new file, never an empty one), and no check says a version is stored
before that version is durable. A process killed before a commit leaves temp files only
(swept by the next writer; the next run finds the same pages new again); killed inside one,
a version without its check line (recorded by the next run, as a killed run's version
always was) or a raw page without its version (swept).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from dipdiff.errors import StoreError
from dipdiff.store.atomic import (
    UMASK,
    append_line,
    discard,
    fsync_dir,
    note_left_behind,
    os_reason,
)
from dipdiff.store.layout import TMP_SUFFIX

#: A commit is due once this many statement folders wait, or the oldest write waited this long
#: (seconds): few syncs for many pages, and a page stored is on disk within about a second.
DUE_FOLDERS = 64
DUE_AGE = 0.5
# Files synced at once, each from its own thread: the file system then writes them in a few
# journal commits instead of one commit each (60 files on the loaded 2-core machine: 160 ms
# one after the other, 6-10 ms from 8 threads).
SYNCERS = 8


@dataclass
class GroupCommit:
    """Writes staged under one store's lock, until :meth:`commit`."""

    files: dict[Path, Path] = field(default_factory=dict)  # final name -> its temp file, in order
    lines: list[tuple[Path, bytes]] = field(default_factory=list)  # appends that wait for them
    folders: dict[Path, set[str]] = field(default_factory=dict)  # where staged files go: names
    made: set[Path] = field(default_factory=set)  # folders created for them
    since: float = 0.0  # time.monotonic() of the oldest staged write
    # A commit that failed: versions were reported that are not stored. Raised again by every
    # commit until the command ends, even where the first raise was taken as one page's trouble.
    failure: StoreError | None = None

    def holds(self, folder: Path) -> bool:
        """Has ``folder`` (a statement's, or its ``raw/``) files that are not in place yet?"""
        return folder in self.folders

    def names(self, folder: Path) -> set[str]:
        """The names of the files staged for ``folder``."""
        return self.folders.get(folder, set())

    def due(self) -> bool:
        if self.failure is not None:
            return True  # to be raised again
        return bool(self.files) and (
            len(self.folders) >= DUE_FOLDERS or time.monotonic() - self.since >= DUE_AGE
        )

    def write(self, path: Path, data: bytes) -> None:
        """Stage ``data`` for ``path``: in a temp file beside it, not synced, not renamed."""
        tmp: str | None = None
        try:
            try:
                fd, tmp = _temp_file(path)
            except FileNotFoundError:  # the statement's first file (the folder is made once)
                self._make_folder(path.parent)
                fd, tmp = _temp_file(path)
            os.fchmod(fd, 0o666 & ~UMASK)  # mkstemp makes 0600; store files are ordinary files
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        except OSError as e:
            if tmp is not None:
                discard(Path(tmp))
            raise StoreError(str(path), f"cannot write: {os_reason(e)}") from None
        if not self.files:
            self.since = time.monotonic()
        old = self.files.pop(path, None)  # written twice in one batch: the later text wins
        if old is not None:
            discard(old)
        self.files[path] = Path(tmp)
        self.folders.setdefault(path.parent, set()).add(path.name)
        if path.parent.name == "raw":
            self.folders.setdefault(path.parent.parent, set())

    def append(self, path: Path, line: bytes) -> None:
        """Append ``line`` to ``path`` once the files staged before it are in place."""
        self.lines.append((path, line))

    def drop(self, path: Path) -> None:
        """Forget the staged write of ``path`` (a version undone before it was committed)."""
        tmp = self.files.pop(path, None)
        if tmp is not None:
            discard(tmp)

    def commit(self) -> None:
        """Make every staged file durable and visible, then append the waiting check lines.

        A failure (a full disk that says so only at fsync, a read-only remount) names the file
        and drops what was not renamed yet: those versions are not stored, and with no check
        line for them the next run finds them again."""
        if self.failure is not None:
            raise self.failure
        files, lines, made = list(self.files.items()), self.lines, self.made
        self.files, self.lines, self.folders, self.made = {}, [], {}, set()
        try:
            _put_in_place(files, made)
            for path, line in lines:
                append_line(path, line, sync=False)
        except StoreError as e:
            self.failure = e
            raise

    def abandon(self) -> None:
        """Remove every staged temp file (the command failed before they could be committed)."""
        for tmp in self.files.values():
            discard(tmp)
        _remove_empty(self.made)
        self.files, self.lines, self.folders, self.made = {}, [], {}, set()

    def _make_folder(self, folder: Path) -> None:
        missing = []
        d = folder
        while not d.is_dir():
            missing.append(d)
            d = d.parent
        for d in reversed(missing):
            d.mkdir(exist_ok=True)
            self.made.add(d)


def _put_in_place(files: list[tuple[Path, Path]], made: set[Path]) -> None:
    """Sync each (final name, temp file), rename them in order, sync their folders; what is not
    renamed when one fails is removed."""
    done = 0
    try:
        with ThreadPoolExecutor(SYNCERS) as pool:
            list(pool.map(_sync, [tmp for _, tmp in files], [path for path, _ in files]))
        for path, tmp in files:
            try:
                tmp.replace(path)
            except OSError as e:
                raise StoreError(str(path), f"cannot write: {os_reason(e)}") from None
            done += 1
        with ThreadPoolExecutor(SYNCERS) as pool:
            list(pool.map(fsync_dir, {p.parent for p, _ in files} | {d.parent for d in made}))
    finally:
        if done < len(files):
            for _, tmp in files[done:]:
                discard(tmp)
            _remove_empty(made)
            if done:  # a raw page may be in place without its version: the next writer sweeps
                note_left_behind()


def _remove_empty(made: set[Path]) -> None:
    """Remove the folders made for files that were never renamed into them, deepest first."""
    for folder in sorted(made, key=lambda d: len(d.parts), reverse=True):
        with contextlib.suppress(OSError):  # not empty: a file of it was committed
            folder.rmdir()


def _temp_file(path: Path) -> tuple[int, str]:
    return tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)


def _sync(tmp: Path, path: Path) -> None:
    try:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        raise StoreError(str(path), f"cannot write: {os_reason(e)}") from None
