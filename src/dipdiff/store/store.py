"""The snapshot store: the only module that writes ``snapshots/``.

Layout (meant to be committed to git)::

    snapshots/
      .gitignore                     # keeps the lock and temp files out of git
      <source>/<slug>/
        meta.json                    # statement identity + check history
        2026-11-25T120000Z.md        # one file per distinct version, header + text
        raw/2026-11-25T120000Z.html.gz   # the page as fetched, to re-extract later

Version files are the source of truth for versions: a version exists exactly
when its file exists, and each file is written by an atomic rename, so a crash
at any point leaves either the old state or the new one. ``meta.json`` holds
what cannot be derived (URLs, the check history). File names have one fixed
length, so ``ls`` sorts them chronologically in every locale.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gzip
import json
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from pathlib import Path

from dipdiff.clock import parse_timestamp, utc_timestamp
from dipdiff.errors import InputError, LockError, StoreError
from dipdiff.models import Check, Statement, Version, VersionRef
from dipdiff.store.atomic import atomic_write, os_reason
from dipdiff.store.ids import hashed_slug, slug_for_url, valid_id
from dipdiff.store.layout import (
    LOCK_NAME,
    META,
    RAW_DIR,
    RUNS,
    TMP_SUFFIX,
    VERSION_NAME,
    orphan_raw,
    parse_version,
    raw_name,
    render_version,
    stored_shas,
    version_name,
)
from dipdiff.store.meta import StatementMeta
from dipdiff.store.runs import RunLog, RunRecord
from dipdiff.text import content_hash

MAX_CHECKS = 1000  # per statement; older checks are dropped so meta.json stays small


class Store:
    """A folder of statement snapshots. Reads are lock-free; writes need :meth:`lock`."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._locked = False
        self._repaired: list[str] = []
        self._deferred = False

    # -- locking ---------------------------------------------------------------------------

    @property
    def lock_path(self) -> Path:
        return self.root / LOCK_NAME

    @contextlib.contextmanager
    def lock(self, wait: float = 0.0) -> Iterator[None]:
        """Hold the store's write lock; waits up to ``wait`` seconds for another run.

        ``flock`` is released by the kernel when a process dies, so a run killed
        with SIGKILL never leaves a lock that blocks the next one. Re-entrant on
        one ``Store`` object, so that a whole ``dipdiff run`` can hold the lock
        while the steps it calls take it too.
        """
        if self._locked:
            yield
            return
        self._ensure_root()
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise StoreError(str(self.lock_path), f"cannot open lock file: {os_reason(e)}") from None
        deadline = time.monotonic() + wait
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.EACCES):
                        raise StoreError(str(self.lock_path), f"cannot lock: {e.strerror}") from None
                    if time.monotonic() >= deadline:
                        holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
                        raise LockError(
                            str(self.lock_path),
                            f"another dipdiff run holds the lock ({holder or 'unknown holder'})",
                        ) from None
                    time.sleep(0.1)
            info = f"pid {os.getpid()} on {socket.gethostname()} since {utc_timestamp()}"
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
                os.pwrite(fd, info.encode(), 0)
            self._locked = True
            self._ensure_gitignore()
            self._repaired = self._sweep_temp_files()
            yield
        finally:
            self._locked = False
            os.close(fd)  # closing releases the flock

    def _ensure_root(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(str(self.root), f"cannot create the store: {os_reason(e)}") from None

    def _ensure_gitignore(self) -> None:
        """Written under the lock, like every other file of the store."""
        gi = self.root / ".gitignore"
        if not gi.exists():
            atomic_write(gi, f"{LOCK_NAME}\n.*{TMP_SUFFIX}\n".encode())

    def _require_lock(self) -> None:
        if not self._locked:
            raise RuntimeError("store writes need Store.lock()")  # a programming error

    def _sweep_temp_files(self) -> list[str]:
        """Undo what a run killed mid-write left behind; returns what was removed.

        Only leftovers that hold nothing a later run needs are removed: temp files,
        raw pages whose version file was never renamed into place, and statement
        folders that got no version and no check before the kill.
        """
        removed: list[str] = []

        def remove(path: Path) -> None:
            with contextlib.suppress(OSError):
                path.unlink() if not path.is_dir() else path.rmdir()
                removed.append(str(path))

        for tmp in sorted(self.root.glob(f"**/.*{TMP_SUFFIX}")):
            remove(tmp)
        for folder in self.statement_folders():
            raw_dir = folder / RAW_DIR
            if raw_dir.is_dir():
                orphans = [raw for raw in sorted(raw_dir.iterdir()) if orphan_raw(folder, raw)]
                if orphans and not self._may_have_lost_versions(folder):
                    for raw in orphans:
                        remove(raw)
                if not any(raw_dir.iterdir()):
                    remove(raw_dir)
            meta = folder / META
            if meta.is_file() and not any(VERSION_NAME.match(p.name) for p in folder.iterdir()):
                with contextlib.suppress(OSError, ValueError):
                    if not json.loads(meta.read_text(encoding="utf-8")).get("checks"):
                        remove(meta)
            if not any(folder.iterdir()):
                remove(folder)
                if not any(folder.parent.iterdir()):
                    remove(folder.parent)
        return removed

    def _may_have_lost_versions(self, folder: Path) -> bool:
        """Whether the check history names a version that has no file (or cannot tell).

        A raw page without its version is then kept: it may be all that is left of it.
        """
        try:
            checks = json.loads((folder / META).read_text(encoding="utf-8")).get("checks", [])
            shas = {parse_version(self.read_text(p), str(p))[0]["sha256"]
                    for p in folder.iterdir() if VERSION_NAME.match(p.name)}
        except (OSError, ValueError, AttributeError, StoreError):
            return True
        return bool(stored_shas(checks) - shas)

    def repair(self) -> list[str]:
        """Remove what interrupted runs left behind (what taking the lock does); returns it."""
        if not self.root.is_dir():
            return []
        with self.lock():
            return list(self._repaired)

    def statement_folders(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(
            d for src in self.root.iterdir() if src.is_dir() and not src.name.startswith(".")
            for d in src.iterdir() if d.is_dir() and not d.name.startswith(".")
        )

    # -- identity ----------------------------------------------------------------------------

    def statement_dir(self, sid: str) -> Path:
        if not valid_id(sid):
            raise InputError(f"not a statement ID: {sid!r}")
        return self.root / sid

    def statement_ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            f"{m.parent.parent.name}/{m.parent.name}"
            for m in self.root.glob(f"*/*/{META}")
            if valid_id(f"{m.parent.parent.name}/{m.parent.name}")
        )

    def exists(self, sid: str) -> bool:
        return (self.statement_dir(sid) / META).is_file()

    def find_url(self, url: str, source: str) -> str | None:
        """The ID of the statement stored for ``url`` in ``source``, if any."""
        slug = slug_for_url(url)
        for candidate in (f"{source}/{slug}", f"{source}/{hashed_slug(slug, url)}"):
            if self.exists(candidate):
                meta = self.meta(candidate)
                if meta.url == url or url in meta.previous_urls:
                    return candidate
        return None

    def new_id(self, url: str, source: str) -> str:
        """A fresh, stable ID for ``url``: the readable slug, or slug+hash when that is taken."""
        slug = slug_for_url(url)
        sid = f"{source}/{slug}"
        if self.exists(sid) and self.meta(sid).url != url:
            sid = f"{source}/{hashed_slug(slug, url)}"
        return sid

    # -- metadata ----------------------------------------------------------------------------

    def meta(self, sid: str) -> StatementMeta:
        path = self.statement_dir(sid) / META
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"no statement {sid!r} in {self.root}") from None
        except (ValueError, UnicodeDecodeError) as e:
            raise StoreError(str(path), f"corrupt metadata ({e.__class__.__name__}: {e})") from None
        except OSError as e:
            raise StoreError(str(path), f"cannot read: {e.strerror}") from None
        if not isinstance(data, dict):
            raise StoreError(str(path), "corrupt metadata (not a JSON object)")
        known = {f for f in StatementMeta.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise StoreError(str(path), f"unknown key {unknown[0]!r} in metadata")
        for key, typ in (("id", str), ("source", str), ("url", str), ("checks", list),
                         ("previous_urls", list)):
            if key in data and not isinstance(data[key], typ):
                raise StoreError(str(path), f"key {key!r} should be a {typ.__name__}")
        for key in ("id", "source", "url"):
            if key not in data:
                raise StoreError(str(path), f"missing key {key!r} in metadata")
        if data["id"] != sid:
            raise StoreError(str(path), f"id {data['id']!r} does not match its folder {sid!r}")
        return StatementMeta(**data)

    def write_meta(self, meta: StatementMeta) -> None:
        self._require_lock()
        path = self.statement_dir(meta.id) / META
        # Inside deferred_sync(), rewriting an existing meta.json (a check appended) is
        # atomic but not flushed one by one; a new statement's first meta.json always is.
        atomic_write(path, meta.to_json().encode("utf-8"), sync=not (self._deferred and path.exists()))

    @contextlib.contextmanager
    def deferred_sync(self) -> Iterator[None]:
        """Batch the durability of check-history updates: one ``os.sync()`` at the end.

        A run that checks 2,000 unchanged statements would otherwise spend most of
        its time in 4,000 fsyncs. Every write stays an atomic rename, so a crashed
        process still leaves each file old or new; only a power cut inside the
        batch can lose the newest check lines. Version files and raw pages are
        always synced at once. Needs the lock.
        """
        self._require_lock()
        self._deferred = True
        try:
            yield
        finally:
            self._deferred = False
            os.sync()

    def discard_empty(self, sid: str) -> None:
        """Remove a statement that has no version and no check (its first write failed)."""
        self._require_lock()
        folder = self.statement_dir(sid)
        if any(VERSION_NAME.match(p.name) for p in folder.iterdir()) or self.meta(sid).checks:
            return
        with contextlib.suppress(OSError):
            (folder / META).unlink()
            for leftover in (folder / RAW_DIR, folder, folder.parent):
                if leftover.is_dir() and not any(leftover.iterdir()):
                    leftover.rmdir()

    def undo_version(self, sid: str, ref: VersionRef) -> None:
        """Remove a version just added, when what must follow it (its check) could not be written."""
        self._require_lock()
        folder = self.statement_dir(sid)
        with contextlib.suppress(OSError):
            (folder / ref.filename).unlink()
            (folder / RAW_DIR / raw_name(ref.filename)).unlink(missing_ok=True)

    def record_check(self, sid: str, check: Check, meta: StatementMeta | None = None) -> None:
        """Append one check to the statement's history (creating ``meta.json`` if needed)."""
        self._require_lock()
        meta = meta or self.meta(sid)
        entry = {k: v for k, v in asdict(check).items() if v is not None}
        entry["outcome"] = str(check.outcome)
        meta.checks = (meta.checks + [entry])[-MAX_CHECKS:]
        self.write_meta(meta)

    # -- versions ----------------------------------------------------------------------------

    def versions(self, sid: str) -> list[VersionRef]:
        folder = self.statement_dir(sid)
        if not (folder / META).is_file():
            raise InputError(f"no statement {sid!r} in {self.root}")
        refs = []
        for n, path in enumerate(sorted(p for p in folder.iterdir() if VERSION_NAME.match(p.name)), 1):
            header, _ = parse_version(self.read_text(path), str(path))
            refs.append(VersionRef(sid, n, header["fetched_at"], header["sha256"], path.name))
        return refs

    def version_ref(self, sid: str, n: int) -> VersionRef:
        refs = self.versions(sid)
        if not refs:
            raise InputError(f"{sid} has no stored versions")
        index = n - 1 if n > 0 else n
        if n == 0 or not -len(refs) <= index < len(refs):
            raise InputError(f"{sid} has {len(refs)} version(s); there is no version {n}")
        return refs[index]

    def read_version(self, sid: str, n: int = -1) -> Version:
        ref = self.version_ref(sid, n)
        path = self.statement_dir(sid) / ref.filename
        _, statement = parse_version(self.read_text(path), str(path))
        statement = replace(statement, source=sid.split("/")[0])
        return Version(ref, statement)

    def read_raw(self, sid: str, n: int = -1) -> bytes:
        ref = self.version_ref(sid, n)
        path = self.statement_dir(sid) / RAW_DIR / raw_name(ref.filename)
        try:
            return gzip.decompress(path.read_bytes())
        except FileNotFoundError:
            raise InputError(f"{sid}@{ref.number} has no raw page stored") from None
        except (OSError, EOFError, gzip.BadGzipFile) as e:
            raise StoreError(str(path), f"corrupt raw page ({e})") from None

    def add_version(
        self, sid: str, statement: Statement, fetched_at: str, raw: bytes | None = None
    ) -> VersionRef:
        """Store a version; returns its ref. The caller decides whether it is distinct."""
        self._require_lock()
        folder = self.statement_dir(sid)
        sha = content_hash(statement.title, statement.paragraphs)
        name = self._free_version_name(folder, parse_timestamp(fetched_at))
        raw_path = folder / RAW_DIR / raw_name(name)
        if raw is not None:
            # Raw first: a version file never exists without its raw page.
            atomic_write(raw_path, gzip.compress(raw, mtime=0))
        try:
            atomic_write(folder / name, render_version(statement, fetched_at, sha).encode("utf-8"))
        except StoreError:
            if raw is not None:  # no raw page without its version either
                with contextlib.suppress(OSError):
                    raw_path.unlink()
            raise
        for ref in self.versions(sid):
            if ref.filename == name:
                return ref
        raise StoreError(str(folder / name), "version vanished right after it was written")

    def _free_version_name(self, folder: Path, when: datetime) -> str:
        # Two versions in one second (imports, tests): the later name moves on a second,
        # the header keeps the true time. Fixed-length names keep `ls` chronological.
        while True:
            name = version_name(when)
            if not (folder / name).exists():
                return name
            when += timedelta(seconds=1)

    def read_text(self, path: Path) -> str:
        try:
            return path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise StoreError(str(path), "not valid UTF-8") from None
        except OSError as e:
            raise StoreError(str(path), f"cannot read: {e.strerror}") from None

    # -- runs log: ``runs.json`` (store/runs.py) ---------------------------------------------

    @property
    def runs_path(self) -> Path:
        return self.root / RUNS

    def runs(self) -> list[RunRecord]:
        """The recorded runs, oldest first (empty when no ``dipdiff run`` ever ran here)."""
        return RunLog(self.runs_path).runs()

    def store_uid(self) -> str | None:
        """A random identity given to the store by its first run (stable feed ids)."""
        return RunLog(self.runs_path).store_uid()

    def begin_run(self, started_at: str) -> tuple[RunRecord, list[RunRecord]]:
        """Record a run as started (needs the lock); returns it and the runs found interrupted."""
        self._require_lock()
        return RunLog(self.runs_path).begin(started_at)

    def end_run(self, record: RunRecord) -> None:
        """Replace the log entry of ``record`` (by id) with its final state (needs the lock)."""
        self._require_lock()
        RunLog(self.runs_path).end(record)


REPAIR_HINT = "removed by the next run or `dipdiff verify --repair`"
