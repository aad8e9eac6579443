"""The snapshot store: the only module that writes ``snapshots/``.

Layout (meant to be committed to git, and to merge without conflicts)::

    snapshots/
      .gitignore                     # keeps the lock, temp files and the index out of git
      .index.sqlite                  # derived, never committed: what version files say (index.py)
      .gitattributes                 # check histories merge by union: both sides' lines
      store.json                     # the store's identity (stable feed ids), written once
      runs/2026-11-25T120000Z-1a2b3c4d.json   # one file per `dipdiff run`
      <source>/<slug>/
        meta.json                    # statement identity, written once (and by a repair)
        checks.jsonl                 # check history: one check per line, appended
        2026-11-25T120000Z.md        # one file per distinct version, header + text
        raw/2026-11-25T120000Z.html.gz   # the page as fetched, to re-extract later

Version files are the source of truth for versions: a version exists exactly
when its file exists, and each file is written by an atomic rename, so a crash
at any point leaves either the old state or the new one. ``meta.json`` and
``checks.jsonl`` hold what cannot be derived (URLs, the check history); no file is
rewritten by every run, so two copies of the store that both ran merge cleanly
(:mod:`dipdiff.store.meta`, :mod:`dipdiff.store.runs`). After such a merge the same text
may be stored twice, by each copy at its own time: a version file with the text of the
one before it is the same version, and readers skip it. File names have one fixed
length, so ``ls`` sorts them chronologically in every locale.

A damaged file (:class:`~dipdiff.errors.DamagedFileError`) costs the statement it belongs to:
commands that go over the whole store take each statement in :meth:`Store.guard`, which
notes the damage in :attr:`Store.damage` and goes on with the next one.

While a command holds the store (:meth:`Store.lock`, or :meth:`Store.reading` for a
command that only reads), each file is read once: metadata, version lists and parsed
version files are cached, and the store's own writes keep the cache true.
``Store.reads`` counts the files actually read. Across commands, the derived index
(:mod:`dipdiff.store.index`) saves re-reading the version files of a statement whose files
have not changed since a command last read them.
"""

from __future__ import annotations

import bisect
import contextlib
import errno
import fcntl
import gzip
import os
import socket
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dipdiff.analyse.language import language_of
from dipdiff.clock import parse_timestamp, utc_timestamp
from dipdiff.errors import DamagedFileError, InputError, LockError, StoreError
from dipdiff.models import Check, Provenance, Statement, Version, VersionRef
from dipdiff.store import atomic
from dipdiff.store.atomic import append_line, atomic_write, discard, note_left_behind, os_reason
from dipdiff.store.commit import GroupCommit
from dipdiff.store.files import LINK, link_below, no_links, read_text
from dipdiff.store.ids import hashed_slug, slug_for_url, valid_id
from dipdiff.store.index import (
    GITIGNORE_LINE,
    Rows,
    StoreIndex,
    from_row,
    row_of,
    signature,
)
from dipdiff.store.latest import Newest, latest_versions
from dipdiff.store.layout import (
    CHECKS,
    GITATTRIBUTES,
    GITIGNORE,
    LOCK_NAME,
    META,
    RAW_DIR,
    RUNS_DIR,
    STORING,
    TMP_SUFFIX,
    VERSION_NAME,
    orphan_raw,
    parse_version,
    raw_name,
    render_version,
    stored_shas,
    version_name,
)
from dipdiff.store.meta import (
    StatementMeta,
    add_check,
    changes,
    check_line,
    distinct,
    merge_history,
    parse_check_lines,
    parse_meta,
)
from dipdiff.store.recent import Recent, Summaries, drop_contradicted, view
from dipdiff.store.runs import RunLog, RunRecord
from dipdiff.text import content_hash

# Uneventful checks per statement (unchanged, a spell of trouble going on), at least: a history
# twice as long is cut back to the newest of them. A check that stored a version or recorded an
# event is never cut: what was reported, and what a version is, stay known.
MAX_CHECKS = 1000
#: How the lock file begins once its holder released it with nothing left half-written.
RELEASED = "released cleanly"
# Parsed version files kept while a command holds the store. Bounded: a command that reads
# every statement of a big store (divergences) must not hold every text at once.
MAX_CACHED_TEXTS = 4096


@dataclass
class _Record:
    """How a statement's record lies on disk, as far as writing the next check needs it."""

    base: StatementMeta | None  # meta.json as written (None: missing)
    legacy: list[dict[str, Any]] | None  # checks kept in meta.json by an older store
    lines: int  # lines in checks.jsonl


@dataclass
class _Cache:
    """What a command has read from the store, valid while it holds the store."""

    ids: list[str] | None = None
    meta: dict[str, StatementMeta] = field(default_factory=dict)
    records: dict[str, _Record] = field(default_factory=dict)
    refs: dict[str, list[VersionRef]] = field(default_factory=dict)  # as versions() gives them
    files: dict[str, list[VersionRef]] = field(default_factory=dict)  # one per version file
    texts: OrderedDict[tuple[str, str], Statement] = field(default_factory=OrderedDict)
    runs: RunLog | None = None
    # ``ids`` as a set, made when first asked: a command that checks every statement of a
    # big store would otherwise search the list once per statement.
    id_set: set[str] | None = None
    recent: Recent | None = None  # the index's view of check histories, once made
    recent_made: bool = False

    def listed(self, sid: str) -> bool:
        """Whether ``sid`` is in ``ids`` (which must have been listed)."""
        if self.id_set is None:
            self.id_set = set(self.ids or ())
        return sid in self.id_set

    def add_id(self, sid: str) -> None:
        if self.ids is not None and not self.listed(sid):
            bisect.insort(self.ids, sid)
            self.id_set = None

    def drop_id(self, sid: str) -> None:
        if self.ids is not None and self.listed(sid):
            self.ids.remove(sid)
            self.id_set = None


def _language(statement: Statement) -> str | None:
    """The language for a version header; None (no header line, as in older files) when it
    cannot be detected: py3langid unpacks its model into a temporary file, which a full disk
    refuses. The version itself must still be stored, or refused for its own write."""
    try:
        return language_of(statement)
    except OSError:
        return None


class Store:
    """A folder of statement snapshots. Reads are lock-free; writes need :meth:`lock`."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._locked = False
        self._repaired: list[str] = []
        self._deferred = False
        self._group: GroupCommit | None = None  # writes staged for one commit (group_commit)
        self._holders = 0  # lock() and reading() blocks in progress: the cache lives while > 0
        self._run: str | None = None  # the `dipdiff run` begun under the lock held now
        self._cache: _Cache | None = None
        #: Files read from disk, by kind (meta, checks, versions, version, runs, raw): cache
        #: misses only.
        self.reads: Counter[str] = Counter()
        #: Damaged files met by this object's commands in :meth:`guard`: path -> one line.
        self.damage: dict[str, str] = {}
        self.index = StoreIndex(self.root)
        #: Shards set it (:meth:`seed_uid`): the store's uid is then derived, not random.
        self._uid_seed: str | None = None

    def seed_uid(self, seed: str) -> None:
        """Derive the uid of a store not yet written from ``seed``, not at random: the
        shards of one run each write ``store.json`` from the same parent, and must agree."""
        self._uid_seed = seed

    # -- locking ---------------------------------------------------------------------------

    @property
    def lock_path(self) -> Path:
        return self.root / LOCK_NAME

    @contextlib.contextmanager
    def lock(self, wait: float = 0.0, *, sweep: bool = False) -> Iterator[None]:
        """Hold the store's write lock; waits up to ``wait`` seconds for another run.

        ``flock`` is released by the kernel when a process dies, so a run killed
        with SIGKILL never leaves a lock that blocks the next one. Re-entrant on
        one ``Store`` object, so that a whole ``dipdiff run`` can hold the lock
        while the steps it calls take it too. ``sweep``: remove leftovers even after a
        clean release (:meth:`repair`).
        """
        if self._locked:
            yield
            return
        self._ensure_root()
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
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
            # What the last holder left in the file: its note (killed, failed, or an older
            # dipdiff, which never says it released), or that it released cleanly.
            clean = os.pread(fd, len(RELEASED), 0) == RELEASED.encode() and not sweep
            whom = f"pid {os.getpid()} on {socket.gethostname()}"
            _note(fd, f"{whom} since {utc_timestamp()}")
            self._locked = True
            self._ensure_store_files()
            # Leftovers (temp files, cut check lines, raw pages without their version) are made
            # only by a writer that stopped halfway: after a clean release there are none, and
            # the store is not walked, so that a run with nothing to do touches little.
            self._repaired = [] if clean else self._sweep_leftovers()
            failures = atomic.left_behind
            # Another process may have written before we got the lock: read afresh from here.
            with self._held(fresh=True):
                yield
            if atomic.left_behind == failures:  # every failed write cleaned up after itself
                _note(fd, f"{RELEASED} by {whom} at {utc_timestamp()}")
        finally:
            self._locked = False
            self._run = None
            os.close(fd)  # closing releases the flock

    def writer_active(self) -> bool:
        """Does another process hold the write lock right now (a run is writing)?"""
        try:
            fd = os.open(self.lock_path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)  # also releases the shared lock, if it was granted
        return False

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
                self.index.flush()

    def _ensure_root(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(str(self.root), f"cannot create the store: {os_reason(e)}") from None

    def _ensure_store_files(self) -> None:
        """The store's own files, written under the lock like every other file of the store."""
        gi = no_links(self.root, self.root / ".gitignore")
        if not gi.exists():
            atomic_write(gi, GITIGNORE.encode())
            self.index.ignored_by_git = True
        else:
            self._add_index_to_gitignore(gi)
        ga = no_links(self.root, self.root / ".gitattributes")
        try:
            have = ga.read_text(encoding="utf-8")
        except FileNotFoundError:
            have = ""
        except (OSError, UnicodeDecodeError):
            have = GITATTRIBUTES  # unreadable: left as it is
        if GITATTRIBUTES.strip() not in have.splitlines():
            lines = [*have.splitlines(), GITATTRIBUTES.strip()]  # the user's lines kept
            atomic_write(ga, ("\n".join(lines) + "\n").encode())
        RunLog(self.root).ensure_uid(self._uid_seed)

    def _add_index_to_gitignore(self, gi: Path) -> None:
        """A store made before the index: its ``.gitignore`` names it too. Best effort (a full
        disk must not stop a run over a cache): without the line, no index is created."""
        with contextlib.suppress(OSError, UnicodeDecodeError, StoreError):
            text = gi.read_text(encoding="utf-8")
            if GITIGNORE_LINE not in text.splitlines():
                sep = "" if not text or text.endswith("\n") else "\n"
                atomic_write(gi, f"{text}{sep}{GITIGNORE_LINE}\n".encode())
            self.index.ignored_by_git = True

    def _require_lock(self) -> None:
        if not self._locked:
            raise RuntimeError("store writes need Store.lock()")  # a programming error

    def _writable(self, path: Path) -> Path:
        """``path``, if writing it stays inside the store (no link on the way to it)."""
        return no_links(self.root, path)

    def _sweep_leftovers(self) -> list[str]:
        """Undo what a run killed mid-write left behind; returns what was removed.

        Only leftovers that hold nothing a later run needs are removed: temp files, a
        check line cut off at the end of a history, raw pages whose version file was never
        renamed into place, and statement folders that got no version and no check before
        the kill. Nothing is followed through a link, and nothing a link points to removed.
        """
        removed: list[str] = []

        def remove(path: Path) -> None:
            with contextlib.suppress(OSError):
                path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
                removed.append(str(path))

        for tmp in self.temp_files():
            remove(tmp)
        for folder in self.statement_folders():
            checks = folder / CHECKS
            if _cut_off_tail(checks):
                removed.append(f"{checks} (a check line cut off by an interrupted run)")
            raw_dir = folder / RAW_DIR
            if raw_dir.is_dir() and not raw_dir.is_symlink():
                orphans = [raw for raw in sorted(raw_dir.iterdir()) if orphan_raw(folder, raw)]
                if orphans and not self._may_have_lost_versions(folder):
                    for raw in orphans:
                        remove(raw)
                if not any(raw_dir.iterdir()):
                    remove(raw_dir)
            names = {p.name for p in folder.iterdir()}
            if not any(VERSION_NAME.match(n) for n in names) and not self._has_checks(folder):
                for name in (META, CHECKS):
                    if name in names and not (folder / name).is_symlink():
                        remove(folder / name)
            if not any(folder.iterdir()):
                remove(folder)
                if not any(folder.parent.iterdir()):
                    remove(folder.parent)
        return removed

    def _has_checks(self, folder: Path) -> bool:
        """Whether a folder's record holds any check (or cannot be read: then it is kept)."""
        try:
            meta, _ = self._load(f"{folder.parent.name}/{folder.name}")
        except InputError:
            return False
        except (StoreError, ValueError):
            return True
        return bool(meta.checks)

    def _may_have_lost_versions(self, folder: Path) -> bool:
        """Whether the check history names a version that has no file (or cannot tell).

        A raw page without its version is then kept: it may be all that is left of it.
        """
        try:
            meta, _ = self._load(f"{folder.parent.name}/{folder.name}")
            shas = {
                parse_version(read_text(p), str(p))[0]["sha256"]
                for p in folder.iterdir()
                if VERSION_NAME.match(p.name)
            }
        except (OSError, ValueError, StoreError, InputError):
            return True
        return bool(stored_shas(meta.checks) - shas)

    def repair(self) -> list[str]:
        """Remove what interrupted runs left behind (what taking the lock does); returns it."""
        if not self.root.is_dir():
            return []
        with self.lock(sweep=True):
            return list(self._repaired)

    def temp_files(self) -> list[Path]:
        """The temporary files of writes in progress or interrupted (links not followed)."""
        found: list[Path] = []
        if not self.root.is_dir():
            return found
        for top, _dirs, files in os.walk(self.root):
            found += [
                Path(top) / f
                for f in files
                if f.startswith(".") and f.endswith(TMP_SUFFIX) and not (Path(top) / f).is_symlink()
            ]
        return sorted(found)

    def statement_folders(self) -> list[Path]:
        """Every statement folder (real folders only: a link is not followed)."""
        if not self.root.is_dir():
            return []
        return sorted(
            d
            for src in self.root.iterdir()
            if src.is_dir() and not src.is_symlink() and not _reserved(src.name)
            for d in src.iterdir()
            if d.is_dir() and not d.is_symlink() and not d.name.startswith(".")
        )

    def links(self) -> list[Path]:
        """Symbolic links where the store expects its own folders and files."""
        if not self.root.is_dir():
            return []
        found = [p for p in self.root.iterdir() if p.is_symlink() and not p.name.startswith(".")]
        for src in self.root.iterdir():
            if src.is_dir() and not src.is_symlink() and not _reserved(src.name):
                for d in src.iterdir():
                    if d.is_symlink():
                        found.append(d)
                    elif d.is_dir():
                        found += [p for p in d.iterdir() if p.is_symlink()]
                        raw = d / RAW_DIR
                        if raw.is_dir() and not raw.is_symlink():
                            found += [p for p in raw.iterdir() if p.is_symlink()]
        return sorted(found)

    # -- identity ----------------------------------------------------------------------------

    def statement_dir(self, sid: str) -> Path:
        if not valid_id(sid):
            raise InputError(f"not a statement ID: {sid!r}")
        return self.root / sid

    def statement_ids(self) -> list[str]:
        """Every statement: a folder with a ``meta.json``, a check history or a version."""
        cache = self._cache
        if cache is not None and cache.ids is not None:
            return list(cache.ids)
        if not self.root.is_dir():
            return []
        self.commit()  # staged statements are listed from where they will be
        self.reads["listing"] += 1
        ids: list[str] = []
        # os.scandir and plain strings: pathlib costs about 50 us a statement, a second at
        # 20,000 statements, in a listing that commands needing only recent data also pay.
        for src in sorted(os.scandir(self.root), key=_name):
            if not src.is_dir(follow_symlinks=False) or _reserved(src.name):
                continue
            for d in sorted(os.scandir(src.path), key=_name):
                sid = f"{src.name}/{d.name}"
                if valid_id(sid) and _holds_a_statement(d.path):
                    ids.append(sid)
        if cache is not None:
            cache.ids, cache.id_set = list(ids), None
        return ids

    def candidates(self, pick: Callable[[Recent], set[str]]) -> list[str]:
        """The statements a command that needs only some must read, in :meth:`statement_ids`
        order: those ``pick`` finds in the index and those the index cannot vouch for
        (:mod:`dipdiff.store.recent`); every statement when there is no index."""
        ids = self.statement_ids()
        found = self.recent()
        return ids if found is None else found.among(ids, pick)

    def latest_versions(self) -> dict[str, Newest]:
        """Every statement's latest version and when its first was fetched, by statement (a
        damaged one left out, and noted), from the index where it can vouch for them
        (:mod:`dipdiff.store.latest`)."""
        cache = self._cache
        return latest_versions(
            self.index,
            str(self.root),
            self.statement_ids(),
            self.versions,
            held=cache.refs if cache is not None else (),
            noted=lambda e: self.damage.setdefault(e.path, str(e)),
        )

    def recent(self, summaries: Summaries | None = None) -> Recent | None:
        """The index's view of the check histories, brought up to date with the files once
        while the store is held (each time, when it is not), with ``summaries`` of every
        statement it vouches for (:mod:`dipdiff.store.recent`)."""
        cache = self._cache
        if cache is not None and cache.recent_made:
            found = cache.recent
        else:
            ids = self.statement_ids()
            found = view(self.index, str(self.root), ids, self._record, summaries or {})
            if cache is not None:
                cache.recent, cache.recent_made = found, True
        if found is not None and summaries:
            found.summarize(summaries)
        return found

    def check_recent(self) -> None:
        """``verify``: drop the index's check rows that contradict the files."""
        drop_contradicted(self.index, str(self.root), self.statement_ids(), self._record)

    def _record(self, sid: str) -> StatementMeta:
        """A statement's record read from the files, past the cache (an index built in a
        command that holds the store would otherwise keep every record in memory)."""
        return self._load(sid)[0]

    def _touched(self, sid: str) -> None:
        """This command wrote the record of ``sid``: the index's rows of it are not true now."""
        cache = self._cache
        if cache is not None and cache.recent is not None:
            cache.recent.touched(sid)

    def exists(self, sid: str) -> bool:
        folder = self.statement_dir(sid)
        cache = self._cache
        if cache is not None:
            if sid in cache.meta:
                return True
            if cache.ids is not None:
                return cache.listed(sid)
        self._settle(folder)
        return _holds_a_statement(str(folder))

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
        """A statement's identity, description and check history (sorted by time)."""
        cache = self._cache
        if cache is not None and sid in cache.meta:
            return _copy(cache.meta[sid])
        meta, record = self._load(sid)
        if cache is not None:
            cache.meta[sid] = _copy(meta)
            cache.records[sid] = record
        return meta

    def _load(self, sid: str) -> tuple[StatementMeta, _Record]:
        """Read ``meta.json`` and ``checks.jsonl`` (or rebuild the identity a lost
        ``meta.json`` held from the version files)."""
        folder = self.statement_dir(sid)
        self._settle(folder)
        link = link_below(self.root, folder)
        if link is not None:
            raise DamagedFileError(str(link), LINK)
        path = folder / META
        self.reads["meta"] += 1
        try:
            data: dict[str, Any] | None = parse_meta(read_text(path), str(path))
        except FileNotFoundError:
            data = None
        except DamagedFileError as e:
            raise DamagedFileError(e.path, e.reason + _remedy(folder, e.reason)) from None
        lines, n_lines = self._check_lines(folder)
        if data is None:
            data = self._rebuilt_identity(sid, lines)
            base = None
        else:
            base = StatementMeta(**{k: v for k, v in data.items() if k != "checks"})
        if data["id"] != sid:
            raise DamagedFileError(
                str(path), f"id {data['id']!r} does not match its folder {sid!r}"
            )
        legacy = data.pop("checks", None)
        if legacy is not None:
            for i, c in enumerate(legacy, 1):
                if not isinstance(c, dict):
                    raise DamagedFileError(str(path), f"check {i} is not an object")
        meta = merge_history(StatementMeta(**data), distinct(legacy or [], lines))
        return meta, _Record(base, legacy, n_lines)

    def _check_lines(self, folder: Path) -> tuple[list[dict[str, Any]], int]:
        self._settle(folder)
        path = folder / CHECKS
        try:
            text = read_text(path)
        except FileNotFoundError:
            return [], 0
        self.reads["checks"] += 1
        try:
            lines = parse_check_lines(text, str(path))
        except DamagedFileError as e:
            raise DamagedFileError(e.path, e.reason + _remedy(folder, e.reason)) from None
        return lines, text.count("\n")

    def _rebuilt_identity(self, sid: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
        """What a lost ``meta.json`` said, from the newest version file's header."""
        folder = self.statement_dir(sid)
        names = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        versions = [n for n in names if VERSION_NAME.match(n)]
        if not versions and not lines:
            raise InputError(f"no statement {sid!r} in {self.root}")
        data: dict[str, Any] = {"id": sid, "source": sid.split("/", maxsplit=1)[0], "url": ""}
        for name in reversed(versions):
            try:
                header, _ = parse_version(read_text(folder / name), str(folder / name))
            except StoreError:
                continue
            data |= {
                "url": header["url"] or "",
                "title": header["title"] or "",
                "agency": header["agency"] or "",
                "published": header["published"],
            }
            break
        if not data["url"]:
            data["url"] = next((str(c["url"]) for c in lines if c.get("url")), "")
        if not data["url"]:
            raise DamagedFileError(str(folder / META), "missing, and no version file says its URL")
        return data

    def rebuilt_identity(self, sid: str) -> StatementMeta:
        """The identity a lost or damaged ``meta.json`` held, from the version files (and
        the check history): what ``verify --repair`` writes back."""
        lines, _ = self._check_lines(self.statement_dir(sid))
        return StatementMeta(**self._rebuilt_identity(sid, lines)).identity()

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """Go on past a damaged statement: the block ends, and its file's line goes to
        :attr:`damage` (a command over the whole store reports it, and its exit says so)."""
        try:
            yield
        except DamagedFileError as e:
            self.damage.setdefault(e.path, str(e))

    def write_meta(self, meta: StatementMeta) -> None:
        """Write a statement's record whole: ``meta.json``, and its check history when
        ``meta`` has one (:meth:`record_check` appends a check: what runs do)."""
        self._require_lock()
        self._touched(meta.id)
        folder = self.statement_dir(meta.id)
        path = self._writable(folder / META)
        base = replace(meta, checks=[])
        self._write(path, base.to_json().encode("utf-8"))
        n_lines = 0
        if meta.checks:
            self._settle(folder)  # a whole history replaces the file: after what it records
            text = b"".join(check_line(c) for c in meta.checks)
            atomic_write(self._writable(folder / CHECKS), text)
            n_lines = len(meta.checks)
        elif (folder / CHECKS).exists():
            n_lines = -1  # unknown: read again when it matters
        cache = self._cache
        if cache is not None:
            if n_lines < 0:
                self.forget(meta.id)
            else:
                cache.meta[meta.id] = _copy(meta)
                cache.records[meta.id] = _Record(base, None, n_lines)
                cache.add_id(meta.id)

    @contextlib.contextmanager
    def deferred_sync(self) -> Iterator[None]:
        """Batch the durability of check-history updates: one ``os.sync()`` at the end.

        A run that checks 2,000 unchanged statements would otherwise spend most of
        its time in 2,000 fsyncs. Every check is still appended in one write, so a crashed
        process still leaves each line whole or absent; only a power cut inside the
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

    @contextlib.contextmanager
    def group_commit(self) -> Iterator[None]:
        """Stage the files of the statements recorded in the block and commit them together
        (:mod:`dipdiff.store.commit`): when :meth:`commit_due` finds a commit due, when a read
        needs a staged statement's files, and at the end. Check lines are synced at the end,
        as in :meth:`deferred_sync`. A block left by an exception (Ctrl-C) still commits what
        it recorded. Needs the lock."""
        with self.deferred_sync():
            group = self._group = GroupCommit()
            try:
                yield
            except BaseException:
                try:
                    group.commit()
                except StoreError:
                    group.abandon()  # the block's own exception says what went wrong
                raise
            finally:
                self._group = None
            group.commit()  # and a commit that failed in the block fails the command

    def commit(self) -> None:
        """Make the staged files durable and visible now (:meth:`group_commit`)."""
        if self._group is not None and (self._group.files or self._group.failure):
            self._group.commit()

    def commit_due(self) -> None:
        """Commit if the staged files waited long enough, or are many enough."""
        if self._group is not None and self._group.due():
            self._group.commit()

    def _settle(self, folder: Path) -> None:
        """Commit before the files of ``folder`` are read or replaced from disk, if some of
        them are staged: what is on disk is then what the store holds."""
        group = self._group
        if group is not None and group.holds(folder):
            group.commit()

    def _settle_file(self, path: Path) -> None:
        """Commit before ``path`` is read from disk, if it is one of the staged files."""
        group = self._group
        if group is not None and path in group.files:
            group.commit()

    def _write(self, path: Path, data: bytes) -> None:
        """Write a file of a statement: staged in a group commit, else atomically and synced."""
        if self._group is not None:
            self._group.write(path, data)
        else:
            atomic_write(path, data)

    def _unwrite(self, path: Path) -> None:
        """Remove a file just written (staged, or on disk)."""
        if self._group is not None and path in self._group.files:
            self._group.drop(path)
        else:
            discard(path)

    def _append(self, path: Path, line: bytes) -> None:
        """Append a check line; in a group commit after the staged files of its statement."""
        group = self._group
        if group is not None and group.holds(path.parent):
            group.append(path, line)
        else:
            append_line(path, line, sync=not self._deferred)

    def discard_empty(self, sid: str) -> None:
        """Remove a statement that has no version and no check (its first write failed)."""
        self._require_lock()
        folder = self._writable(self.statement_dir(sid))
        self._settle(folder)
        if any(VERSION_NAME.match(p.name) for p in folder.iterdir()) or self.meta(sid).checks:
            return
        try:
            (folder / CHECKS).unlink(missing_ok=True)
            (folder / META).unlink()
            for leftover in (folder / RAW_DIR, folder, folder.parent):
                if leftover.is_dir() and not any(leftover.iterdir()):
                    leftover.rmdir()
        except OSError:
            note_left_behind()
        self.forget(sid)

    def forget(self, sid: str) -> None:
        """Drop a statement from the cache: its files are not what the cache says any more."""
        self._settle(self.statement_dir(sid))  # what is read next comes from the files
        self._touched(sid)
        cache = self._cache
        if cache is None:
            return
        cache.meta.pop(sid, None)
        cache.records.pop(sid, None)
        cache.refs.pop(sid, None)
        cache.files.pop(sid, None)
        cache.drop_id(sid)

    def undo_version(self, sid: str, ref: VersionRef) -> None:
        """Remove a version just added when what must follow it (its check) could not be written."""
        self._require_lock()
        folder = self._writable(self.statement_dir(sid))
        self._unwrite(folder / ref.filename)
        self._unwrite(folder / RAW_DIR / raw_name(ref.filename))
        cache = self._cache
        if cache is not None:
            cache.texts.pop((sid, ref.filename), None)
            if sid in cache.files:
                cache.files[sid] = [r for r in cache.files[sid] if r.filename != ref.filename]
                cache.refs[sid] = _numbered(cache.files[sid])

    def record_check(self, sid: str, check: Check, meta: StatementMeta | None = None) -> None:
        """Append one check to the statement's history, with what it changed of ``meta``
        (a new title, a new address); creates the statement's ``meta.json`` if needed."""
        self._require_lock()
        meta = meta or self.meta(sid)
        folder = self.statement_dir(sid)
        known, record = self._on_record(sid)
        self._touched(sid)
        entry = check.entry()
        line = check_line(entry, changes(known, meta))
        if record.base is None:
            # A new statement, or one whose meta.json was lost: its identity first.
            base = replace(known, checks=[]) if known else meta.identity()
            self._write(self._writable(folder / META), base.to_json().encode("utf-8"))
            record = replace(record, base=base)
        path = self._writable(folder / CHECKS)
        if record.legacy is not None or record.lines + 1 > 2 * MAX_CHECKS:
            self._settle(folder)  # a history written whole: after the versions it records
        if record.legacy is not None:
            # An older store's meta.json held the history: move it here, then drop it there.
            atomic_write(path, b"".join(check_line(c) for c in record.legacy) + line)
            base = replace(record.base or meta.identity(), checks=[])
            atomic_write(self._writable(folder / META), base.to_json().encode("utf-8"))
            record = _Record(base, None, len(record.legacy) + 1)
        elif record.lines + 1 > 2 * MAX_CHECKS:
            record = self._cut_history(sid, meta, entry, record)
        else:
            self._append(path, line)
            record = replace(record, lines=record.lines + 1)
        merged = _copy(meta)
        if known is not None:
            merged.checks = list(known.checks)
        add_check(merged, entry)
        cache = self._cache
        if cache is not None:
            cache.meta[sid] = _copy(merged)
            cache.records[sid] = record
            cache.add_id(sid)

    def _on_record(self, sid: str) -> tuple[StatementMeta | None, _Record]:
        """The statement as the store has it (None: not recorded yet), and how it lies on disk."""
        cache = self._cache
        try:
            known = self.meta(sid)
        except InputError:
            return None, _Record(None, None, 0)
        record = cache.records.get(sid) if cache is not None else None
        if record is None:
            _, record = self._load(sid)
        return known, record

    def _cut_history(
        self, sid: str, meta: StatementMeta, entry: dict[str, Any], record: _Record
    ) -> _Record:
        """Keep every check that stored a version or recorded an event, and the newest
        :data:`MAX_CHECKS` others; what the older ones changed of the statement goes with the
        first one kept."""
        kept = trimmed([*meta.checks, entry], MAX_CHECKS)
        first = check_line(kept[0], changes(record.base, meta))
        text = first + b"".join(check_line(c) for c in kept[1:])
        atomic_write(self._writable(self.statement_dir(sid) / CHECKS), text)
        return replace(record, lines=len(kept))

    # -- versions ----------------------------------------------------------------------------

    def versions(self, sid: str) -> list[VersionRef]:
        """The statement's versions, oldest first. A version file with the text of the one
        before it (two merged copies of the store that both stored it) is the same version."""
        cache = self._cache
        if cache is not None and sid in cache.refs:
            return list(cache.refs[sid])
        files = self._version_files(sid)
        refs = _numbered(files)
        if cache is not None:
            cache.files[sid] = files
            cache.refs[sid] = list(refs)
        else:
            self.index.flush(batch=True)
        return refs

    def _version_files(self, sid: str) -> list[VersionRef]:
        cache = self._cache
        if cache is not None and sid in cache.files:
            return list(cache.files[sid])
        folder = self.statement_dir(sid)
        if not self.exists(sid):
            raise InputError(f"no statement {sid!r} in {self.root}")
        group = self._group
        if group is not None and any(VERSION_NAME.match(n) for n in group.names(folder)):
            group.commit()  # a staged version is listed from where it will be
        link = link_below(self.root, folder)
        if link is not None:
            raise DamagedFileError(str(link), LINK)
        self.reads["versions"] += 1
        # Names, not paths: `list` lists every statement's folder (pathlib's objects cost more
        # than the listing itself).
        names = sorted(n for n in os.listdir(folder) if VERSION_NAME.match(n))  # noqa: PTH208
        return [
            VersionRef(sid, 0, fetched_at, sha, name, published, from_row(archived))
            for name, fetched_at, sha, published, archived in self._version_rows(sid, folder, names)
        ]

    def _version_rows(self, sid: str, folder: Path, names: list[str]) -> Rows:
        """(name, fetched_at, sha256, published, provenance) of each version file: from the
        index while the files are the ones it saw, else read (and the index told, once they
        have settled)."""
        try:
            sig, settled = signature(folder, names)
        except OSError:  # a file went away meanwhile: reading says what is wrong
            sig, settled = "", False
        found = self.index.lookup(sid, sig) if sig else None
        if found is not None:
            return found
        rows: Rows = []
        for name in names:
            header, statement = self._parse(folder / name)
            rows.append(row_of(name, header))
            self._remember(sid, name, statement)
        if sig and settled:
            self.index.remember(sid, sig, rows)
        return rows

    def _parse(self, path: Path) -> tuple[dict[str, Any], Statement]:
        self._settle_file(path)
        self.reads["version"] += 1
        try:
            text = read_text(path)
        except FileNotFoundError:
            raise DamagedFileError(str(path), "removed while being read") from None
        if not text:
            raise DamagedFileError(
                str(path), "empty version file" + _remedy(path.parent, "empty", path)
            )
        try:
            return parse_version(text, str(path))
        except StoreError as e:
            raise DamagedFileError(
                e.path, e.reason + _remedy(path.parent, e.reason, path)
            ) from None

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
        return self.read_ref(self.version_ref(sid, n))

    def read_ref(self, ref: VersionRef) -> Version:
        """The version that ``ref`` (of :meth:`versions`) names, its file read if need be: for
        a command that keeps the refs it needs, not every statement's, while it holds the store."""
        sid = ref.statement_id
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
        self._settle_file(path)
        self.reads["raw"] += 1
        if link_below(self.root, path) is not None:
            raise DamagedFileError(str(path), LINK)
        try:
            return gzip.decompress(path.read_bytes())
        except FileNotFoundError:
            raise InputError(f"{sid}@{ref.number} has no raw page stored") from None
        except (OSError, EOFError, gzip.BadGzipFile) as e:
            raise DamagedFileError(str(path), f"corrupt raw page ({e})") from None

    def add_version(
        self,
        sid: str,
        statement: Statement,
        fetched_at: str,
        raw: bytes | None = None,
        provenance: Provenance | None = None,
    ) -> VersionRef:
        """Store a version; returns its ref. The caller decides whether it is distinct.

        ``provenance``: the version was taken from a web archive, and its header says where."""
        self._require_lock()
        folder = self._writable(self.statement_dir(sid))
        sha = content_hash(statement.title, statement.paragraphs)
        name = self._free_version_name(folder, parse_timestamp(fetched_at))
        raw_path = self._writable(folder / RAW_DIR / raw_name(name))
        files = self._version_files(sid)  # before the write: from the cache, or read once
        if raw is not None:
            # Raw first: a version file never exists without its raw page.
            self._write(raw_path, gzip.compress(raw, mtime=0))
        text = render_version(statement, fetched_at, sha, provenance, _language(statement))
        try:
            self._write(folder / name, text.encode("utf-8"))
        except StoreError:
            if raw is not None:  # no raw page without its version either
                self._unwrite(raw_path)
            raise
        # What a read of the file gives back, without reading it.
        header, written = parse_version(text, str(folder / name))
        name_, fetched_at, sha, published, archived = row_of(name, header)
        files.append(VersionRef(sid, 0, fetched_at, sha, name_, published, from_row(archived)))
        refs = _numbered(files)
        cache = self._cache
        if cache is not None:
            cache.files[sid] = files
            cache.refs[sid] = list(refs)
            self._remember(sid, name, written)
        # The same text as the version before it is that version (the caller stored it again).
        return [r for r in refs if r.filename <= name][-1]

    def _free_version_name(self, folder: Path, when: datetime) -> str:
        # Two versions in one second (imports, tests): the later name moves on a second,
        # the header keeps the true time. Fixed-length names keep `ls` chronological.
        while True:
            name = version_name(when)
            staged = self._group is not None and folder / name in self._group.files
            if not staged and not (folder / name).exists():
                return name
            when += timedelta(seconds=1)

    def read_text(self, path: Path) -> str:
        try:
            return read_text(path)
        except FileNotFoundError:
            raise DamagedFileError(str(path), "cannot read: No such file or directory") from None

    # -- run records: ``runs/`` (store/runs.py) ----------------------------------------------

    @property
    def runs_path(self) -> Path:
        return self.root / RUNS_DIR

    def _runlog(self) -> RunLog:
        cache = self._cache
        if cache is None:
            return RunLog(self.root, self.reads)
        if cache.runs is None:
            cache.runs = RunLog(self.root, self.reads, keep=True)
        return cache.runs

    def runs(self) -> list[RunRecord]:
        """The recorded runs, oldest first (empty when no ``dipdiff run`` ever ran here).

        A damaged run record is left out and noted in :attr:`damage`."""
        log = self._runlog()
        found = log.runs()
        for line in log.problems():
            self.damage.setdefault(line.split(": ", 1)[0], line)
        return found

    def store_uid(self) -> str | None:
        """A random identity given to the store when first written (stable feed ids)."""
        return self._runlog().store_uid()

    def begin_run(
        self, started_at: str, shard: tuple[str, str] | None = None
    ) -> tuple[RunRecord, list[RunRecord]]:
        """Record a run as started (needs the lock); returns it and the runs found interrupted.

        ``shard``: (label, tag) of a sharded run (:meth:`RunLog.begin`)."""
        self._require_lock()
        record, interrupted = self._runlog().begin(started_at, shard)
        self._run = record.id
        return record, interrupted

    def active_run(self) -> str | None:
        """The id of the ``dipdiff run`` this process began under the lock it holds, if any."""
        return self._run

    def last_run(self) -> str | None:
        """The id of the run recorded last (None: no ``dipdiff run`` ever ran here)."""
        runs = self.runs()
        return runs[-1].id if runs else None

    def end_run(self, record: RunRecord) -> None:
        """Write the final state of ``record`` into its own file (needs the lock)."""
        self._require_lock()
        self._runlog().end(record)


def _note(fd: int, text: str) -> None:
    """Say in the lock file who holds the lock (or that it was released cleanly)."""
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, text.encode(), 0)


def _reserved(name: str) -> bool:
    """Names at the top of the store that are not sources: its own files and folders."""
    return name.startswith(".") or name == RUNS_DIR


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _holds_a_statement(path: str) -> bool:
    # strings, not pathlib: asked of every statement of the store by statement_ids
    if os.path.islink(path):  # noqa: PTH114
        return True  # damaged, but a statement: its ID stays taken
    if os.path.isfile(f"{path}/{META}") or os.path.isfile(f"{path}/{CHECKS}"):  # noqa: PTH113
        return True
    if not os.path.isdir(path):  # noqa: PTH112
        return False
    return any(VERSION_NAME.match(n) for n in os.listdir(path))  # noqa: PTH208


def _cut_off_tail(path: Path) -> bool:
    """Cut a last line that lost its newline (a write cut off); True if there was one."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with path.open("rb+") as f:
            size = f.seek(0, os.SEEK_END)
            if size == 0:
                return False
            f.seek(size - 1)
            if f.read(1) == b"\n":
                return False
            f.seek(max(0, size - (1 << 20)))
            tail = f.read()
            keep = size - len(tail) + tail.rfind(b"\n") + 1 if b"\n" in tail else 0
            f.truncate(keep)
            return True
    except OSError:
        return False


def _remedy(folder: Path, reason: str, path: Path | None = None) -> str:
    """What to run about a damaged statement file, for its one-line message."""
    if "conflict" in reason:
        return "; `dipdiff verify --repair` keeps both sides"
    if path is None and (folder / CHECKS).exists() and "meta" in reason:
        return "; `dipdiff verify --repair` rebuilds it from the version files"
    target = path or folder / META
    return f"; restore it from git: `git checkout -- {target}`"


def trimmed(checks: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """``checks`` with the oldest uneventful ones dropped, so that at most ``limit`` of those stay.

    Checks that stored a version or recorded an event are all kept, whatever their number.
    """
    quiet = [i for i, c in enumerate(checks) if not _kept(c)]
    if len(quiet) <= limit:
        return checks
    drop = set(quiet[: len(quiet) - limit])
    return [c for i, c in enumerate(checks) if i not in drop]


def _kept(check: dict[str, Any]) -> bool:
    return bool(check.get("event")) or check.get("outcome") in STORING


def _copy(meta: StatementMeta) -> StatementMeta:
    """A meta callers may change: its lists are their own (a check, once written, never changes)."""
    return replace(meta, previous_urls=list(meta.previous_urls), checks=list(meta.checks))


def _numbered(refs: Iterable[VersionRef]) -> list[VersionRef]:
    """Version refs in file-name (= time) order, numbered from 1, as :meth:`Store.versions`
    reads them: a file with the text of the one before it is that version."""
    out: list[VersionRef] = []
    for r in sorted(refs, key=lambda r: r.filename):
        if not out or out[-1].sha256 != r.sha256:
            # The constructor, not dataclasses.replace (which costs five times as much).
            n = len(out) + 1
            out.append(
                VersionRef(
                    r.statement_id, n, r.fetched_at, r.sha256, r.filename, r.published, r.provenance
                )
            )
    return out


REPAIR_HINT = "removed by the next run or `dipdiff verify --repair`"
