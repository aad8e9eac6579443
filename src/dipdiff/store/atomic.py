"""Atomic writes and appends: readers see the old file or the new one (an appended line whole, or
not at all); failures name the file and leave it as it was."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from dipdiff.errors import StoreError
from dipdiff.store.layout import TMP_SUFFIX

UMASK = os.umask(0o022)  # read once, at import (os.umask can only be read by setting it)

os.umask(UMASK)

#: Failed writes whose cleanup failed too (a temp file, a cut line or a half-written pair left
#: behind), in this process. The store's lock is then not released as clean, and the next
#: writer sweeps the whole store (:meth:`dipdiff.store.store.Store.lock`).
left_behind = 0


def atomic_write(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    Any failure (disk full, read-only store, file-size limit) removes the temporary
    file and raises :class:`StoreError` naming ``path``: the old file is untouched.
    ``sync=False`` keeps the atomic rename but leaves flushing to the caller
    (:meth:`Store.deferred_sync` syncs once at the end of a run).
    """
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
        os.fchmod(fd, 0o666 & ~UMASK)  # mkstemp makes 0600; store files are ordinary files
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if sync:
                os.fsync(f.fileno())
        Path(tmp).replace(path)
        tmp = None
    except OSError as e:
        raise StoreError(str(path), f"cannot write: {os_reason(e)}") from None
    finally:
        if tmp is not None:
            discard(Path(tmp))
    if sync:
        fsync_dir(path.parent)


def append_line(path: Path, line: bytes, *, sync: bool = True) -> None:
    """Append one line (ending in a newline) to ``path`` in one ``write``, creating it if needed.

    A process killed around the write leaves the line whole or absent; a line cut short by a
    full disk is cut off again before the error is raised, so the file ends as it did. A
    reader that finds a last line without its newline (a power cut) leaves it out.
    """
    fd: int | None = None
    size = 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        created = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o666)
        size = os.fstat(fd).st_size
        view = memoryview(line)
        while view:
            view = view[os.write(fd, view) :]
        if sync:
            os.fsync(fd)
    except OSError as e:
        if fd is not None:
            try:
                os.ftruncate(fd, size)
            except OSError:
                note_left_behind()
        raise StoreError(str(path), f"cannot write: {os_reason(e)}") from None
    finally:
        if fd is not None:
            os.close(fd)
    if sync and created:
        fsync_dir(path.parent)


def discard(path: Path) -> None:
    """Remove what a failed write made (a temp file, a raw page without its version); what
    cannot be removed is counted in :data:`left_behind`."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        note_left_behind()


def note_left_behind() -> None:
    """Count a leftover that could not be removed (see :data:`left_behind`)."""
    global left_behind  # noqa: PLW0603 - one count per process, read by the store's lock
    left_behind += 1


def os_reason(e: OSError) -> str:
    reason = e.strerror or str(e)
    hint = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is used up",
        errno.EROFS: "the store is on a read-only file system",
        errno.EFBIG: "the file-size limit (ulimit -f) was reached",
    }.get(e.errno or 0)
    return f"{reason} ({hint})" if hint else reason


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
