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

While a command holds the store (:meth:`Store.lock`, or :meth:`Store.reading` for a
command that only reads), each file is read once: metadata, version lists and parsed
version files are cached, and the store's own writes keep the cache true.
``Store.reads`` counts the files actually read.
"""

from __future__ import annotations

import bisect
import contextlib
import errno
import fcntl
import gzip
import json
import os
import socket
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

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
# Parsed version files kept while a command holds the store. Bounded: a command that reads
# every statement of a big store (divergences) must not hold every text at once.
MAX_CACHED_TEXTS = 4096


@dataclass
class _Cache:
    """What a command has read from the store, valid while it holds the store."""

    ids: list[str] | None = None
    meta: dict[str, StatementMeta] = field(default_factory=dict)
    refs: dict[str, list[VersionRef]] = field(default_factory=dict)
    texts: OrderedDict[tuple[str, str], Statement] = field(default_factory=OrderedDict)
    runs: RunLog | None = None


class Store:
    """A folder of statement snapshots. Reads are lock-free; writes need :meth:`lock`."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._locked = False
        self._repaired: list[str] = []
        self._deferred = False
        self._holders = 0  # lock() and reading() blocks in progress: the cache lives while > 0
        self._cache: _Cache | None = None
        #: Files read from disk, by kind (meta, versions, version, runs, raw): cache misses only.
        self.reads: Counter[str] = Counter()

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
            raise StoreError(
                str(self.lock_path), f"cannot open lock file: {os_reason(e)}"
            ) from None
        deadline = time.monotonic() + wait
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.EACCES):
                        raise StoreError(
                            str(self.lock_path), f"cannot lock: {e.strerror}"
                        ) from None
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
            # Another process may have written before we got the lock: read afresh from here.
            with self._held(fresh=True):
                yield
        finally:
            self._locked = False
            os.close(fd)  # closing releases the flock

    def reading(self) -> contextlib.AbstractContextManager[None]:
        """Cache what is read until the block ends, for a command that only reads.

        Without the lock another process may write meanwhile: the command then sees the
        store as it first read each file, which is what one command should see.
        """
        return self._held(fresh=False)

    @contextlib.contextmanager
    def _held(self, *, fresh: bool) -> Iterator[None]:
        if fresh or self._cache is None:
            self._cache = _Cache()
        self._holders += 1
        try:
            yield
        finally:
            self._holders -= 1
            if self._holders == 0:
                self._cache = None

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
            shas = {
                parse_version(self.read_text(p), str(p))[0]["sha256"]
                for p in folder.iterdir()
                if VERSION_NAME.match(p.name)
            }
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
            d
            for src in self.root.iterdir()
            if src.is_dir() and not src.name.startswith(".")
            for d in src.iterdir()
            if d.is_dir() and not d.name.startswith(".")
        )

    # -- identity ----------------------------------------------------------------------------

    def statement_dir(self, sid: str) -> Path:
        if not valid_id(sid):
            raise InputError(f"not a statement ID: {sid!r}")
        return self.root / sid

    def statement_ids(self) -> list[str]:
        cache = self._cache
        if cache is not None and cache.ids is not None:
            return list(cache.ids)
        if not self.root.is_dir():
            return []
        self.reads["listing"] += 1
        ids = sorted(
            f"{m.parent.parent.name}/{m.parent.name}"
            for m in self.root.glob(f"*/*/{META}")
            if valid_id(f"{m.parent.parent.name}/{m.parent.name}")
        )
        if cache is not None:
            cache.ids = list(ids)
        return ids

    def exists(self, sid: str) -> bool:
        path = self.statement_dir(sid) / META
        cache = self._cache
        if cache is not None:
            if sid in cache.meta:
                return True
            if cache.ids is not None:
                return sid in cache.ids
        return path.is_file()

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
        cache = self._cache
        if cache is not None and sid in cache.meta:
            return _copy(cache.meta[sid])
        meta = self._read_meta(sid, path)
        if cache is not None:
            cache.meta[sid] = _copy(meta)
        return meta

    def _read_meta(self, sid: str, path: Path) -> StatementMeta:
        self.reads["meta"] += 1
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
        known = set(StatementMeta.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise StoreError(str(path), f"unknown key {unknown[0]!r} in metadata")
        for key, typ in (
            ("id", str),
            ("source", str),
            ("url", str),
            ("checks", list),
            ("previous_urls", list),
        ):
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
        atomic_write(
            path, meta.to_json().encode("utf-8"), sync=not (self._deferred and path.exists())
        )
        cache = self._cache
        if cache is not None:
            cache.meta[meta.id] = _copy(meta)
            if cache.ids is not None and meta.id not in cache.ids:
                bisect.insort(cache.ids, meta.id)

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
        self._forget(sid)

    def _forget(self, sid: str) -> None:
        """Drop a statement from the cache: its files are not what the cache says any more."""
        cache = self._cache
        if cache is None:
            return
        cache.meta.pop(sid, None)
        cache.refs.pop(sid, None)
        if cache.ids is not None and sid in cache.ids:
            cache.ids.remove(sid)

    def undo_version(self, sid: str, ref: VersionRef) -> None:
        """Remove a version just added when what must follow it (its check) could not be written."""
        self._require_lock()
        folder = self.statement_dir(sid)
        with contextlib.suppress(OSError):
            (folder / ref.filename).unlink()
            (folder / RAW_DIR / raw_name(ref.filename)).unlink(missing_ok=True)
        cache = self._cache
        if cache is not None:
            cache.texts.pop((sid, ref.filename), None)
            if sid in cache.refs:
                cache.refs[sid] = _numbered(
                    r for r in cache.refs[sid] if r.filename != ref.filename
                )

    def record_check(self, sid: str, check: Check, meta: StatementMeta | None = None) -> None:
        """Append one check to the statement's history (creating ``meta.json`` if needed)."""
        self._require_lock()
        meta = meta or self.meta(sid)
        meta.checks = [*meta.checks, check.entry()][-MAX_CHECKS:]
        self.write_meta(meta)

    # -- versions ----------------------------------------------------------------------------

    def versions(self, sid: str) -> list[VersionRef]:
        folder = self.statement_dir(sid)
        cache = self._cache
        if cache is not None and sid in cache.refs:
            return list(cache.refs[sid])
        if not self.exists(sid):
            raise InputError(f"no statement {sid!r} in {self.root}")
        self.reads["versions"] += 1
        refs = []
        for n, path in enumerate(
            sorted(p for p in folder.iterdir() if VERSION_NAME.match(p.name)), 1
        ):
            header, statement = self._parse(path)
            refs.append(VersionRef(sid, n, header["fetched_at"], header["sha256"], path.name))
            self._remember(sid, path.name, statement)
        if cache is not None:
            cache.refs[sid] = list(refs)
        return refs

    def _parse(self, path: Path) -> tuple[dict[str, Any], Statement]:
        self.reads["version"] += 1
        return parse_version(self.read_text(path), str(path))

    def _remember(self, sid: str, filename: str, statement: Statement) -> None:
        cache = self._cache
        if cache is None:
            return
        cache.texts[(sid, filename)] = statement
        cache.texts.move_to_end((sid, filename))
        while len(cache.texts) > MAX_CACHED_TEXTS:
            cache.texts.popitem(last=False)

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
        cache = self._cache
        statement = cache.texts.get((sid, ref.filename)) if cache is not None else None
        if statement is None:
            _, statement = self._parse(self.statement_dir(sid) / ref.filename)
            self._remember(sid, ref.filename, statement)
        elif cache is not None:
            cache.texts.move_to_end((sid, ref.filename))
        return Version(ref, replace(statement, source=sid.split("/", maxsplit=1)[0]))

    def read_raw(self, sid: str, n: int = -1) -> bytes:
        ref = self.version_ref(sid, n)
        path = self.statement_dir(sid) / RAW_DIR / raw_name(ref.filename)
        self.reads["raw"] += 1
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
        refs = self.versions(sid)  # before the write: from the cache, or read once
        if raw is not None:
            # Raw first: a version file never exists without its raw page.
            atomic_write(raw_path, gzip.compress(raw, mtime=0))
        text = render_version(statement, fetched_at, sha)
        try:
            atomic_write(folder / name, text.encode("utf-8"))
        except StoreError:
            if raw is not None:  # no raw page without its version either
                with contextlib.suppress(OSError):
                    raw_path.unlink()
            raise
        # What a read of the file gives back, without reading it.
        header, written = parse_version(text, str(folder / name))
        refs = _numbered([*refs, VersionRef(sid, 0, header["fetched_at"], header["sha256"], name)])
        cache = self._cache
        if cache is not None:
            cache.refs[sid] = list(refs)
            self._remember(sid, name, written)
        return next(r for r in refs if r.filename == name)

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

    def _runlog(self) -> RunLog:
        cache = self._cache
        if cache is None:
            return RunLog(self.runs_path, self.reads)
        if cache.runs is None:
            cache.runs = RunLog(self.runs_path, self.reads, keep=True)
        return cache.runs

    def runs(self) -> list[RunRecord]:
        """The recorded runs, oldest first (empty when no ``dipdiff run`` ever ran here)."""
        return self._runlog().runs()

    def store_uid(self) -> str | None:
        """A random identity given to the store by its first run (stable feed ids)."""
        return self._runlog().store_uid()

    def begin_run(self, started_at: str) -> tuple[RunRecord, list[RunRecord]]:
        """Record a run as started (needs the lock); returns it and the runs found interrupted."""
        self._require_lock()
        return self._runlog().begin(started_at)

    def end_run(self, record: RunRecord) -> None:
        """Replace the log entry of ``record`` (by id) with its final state (needs the lock)."""
        self._require_lock()
        self._runlog().end(record)


def _copy(meta: StatementMeta) -> StatementMeta:
    """A meta callers may change: its lists are their own (a check, once written, never changes)."""
    return replace(meta, previous_urls=list(meta.previous_urls), checks=list(meta.checks))


def _numbered(refs: Iterable[VersionRef]) -> list[VersionRef]:
    """Version refs in file-name (= time) order, numbered from 1."""
    return [replace(r, number=n) for n, r in enumerate(sorted(refs, key=lambda r: r.filename), 1)]


REPAIR_HINT = "removed by the next run or `dipdiff verify --repair`"
