"""Run records: one file per ``dipdiff run`` under ``runs/`` (start, finish, status, counts).

Each run writes only its own file, ``runs/<start>-<8 hex>.json``, so that two copies of the
store (two clones, or the shards of one run) that ran at once merge without touching the same
file. Stores written before kept every run in one ``runs.json``: it is read as it is, and the
first run that holds the lock moves its entries to ``runs/`` (under names derived from their
IDs, so that two clones moving the same file write the same files).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from dipdiff.clock import parse_timestamp
from dipdiff.errors import DamagedFileError
from dipdiff.store.atomic import atomic_write
from dipdiff.store.files import no_links, parse_json, read_text
from dipdiff.store.layout import LEGACY_RUNS, RUN_NAME, RUNS_DIR, STORE_FILE, version_name

MAX_RUNS = 1000  # run records kept; older ones are removed by the next run


@dataclass
class RunRecord:
    """One ``dipdiff run``: what its file under ``runs/`` holds."""

    id: str
    started_at: str
    finished_at: str | None = None
    status: str = "running"  # running | complete | failed | interrupted
    counts: dict[str, Any] = field(default_factory=dict[str, Any])
    problems: list[str] = field(default_factory=list)
    shard: str | None = None  # "2/4" for `dipdiff run --shard 2/4`; None: the whole config

    def to_json(self) -> str:
        doc = asdict(self)
        if doc["shard"] is None:  # records of unsharded runs stay as they were
            del doc["shard"]
        return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


_FIELDS = set(RunRecord.__dataclass_fields__)


class RunLog:
    """What "a run" was: when each ``dipdiff run`` started and finished, and whether it
    completed. The caller holds the store's lock for :meth:`begin` and :meth:`end`.

    A damaged run record (or ``runs.json``) is left out of :meth:`runs` and named in
    :meth:`problems`: it costs that record, never the runs that come after it.
    """

    def __init__(
        self, root: Path, reads: Counter[str] | None = None, *, keep: bool = False
    ) -> None:
        self.root = root
        self.reads = reads if reads is not None else Counter()
        # keep: the caller holds the store, so the files are read once and our writes are the truth.
        self._keep = keep
        self._found: tuple[dict[str, RunRecord], dict[str, Path], dict[str, str]] | None = None
        self._uid: str | None = None  # "" once read and not found

    @property
    def folder(self) -> Path:
        return self.root / RUNS_DIR

    def runs(self) -> list[RunRecord]:
        """The recorded runs, oldest first (empty when no ``dipdiff run`` ever ran here)."""
        records, _, _ = self._scan()
        return sorted(records.values(), key=lambda r: (r.started_at, r.id))

    def problems(self) -> list[str]:
        """One line per run record that could not be read, naming its file."""
        return list(self._scan()[2].values())

    def store_uid(self) -> str | None:
        """A random identity given to the store when first written (stable feed ids)."""
        if self._uid is None:
            self._uid = self._read_uid() or ""
        return self._uid or None

    def _read_uid(self) -> str | None:
        for name, key in ((STORE_FILE, "uid"), (LEGACY_RUNS, "store")):
            path = self.root / name
            if not path.exists():
                continue
            with contextlib.suppress(OSError, ValueError, DamagedFileError, AttributeError):
                self.reads["runs"] += 1
                uid = json.loads(read_text(path)).get(key)
                if isinstance(uid, str) and uid:
                    return uid
        return None

    def ensure_uid(self, seed: str | None = None) -> None:
        """Give the store its identity once (from ``runs.json`` when an older store has one);
        random, or derived from ``seed`` (:meth:`dipdiff.store.store.Store.seed_uid`)."""
        if not (self.root / STORE_FILE).exists():
            derived = hashlib.sha256(seed.encode()).hexdigest()[:32] if seed else None
            uid = self._read_uid() or derived or uuid.uuid4().hex
            path = no_links(self.root, self.root / STORE_FILE)
            atomic_write(path, (json.dumps({"uid": uid}) + "\n").encode())
            self._uid = uid

    def begin(
        self, started_at: str, shard: tuple[str, str] | None = None
    ) -> tuple[RunRecord, list[RunRecord]]:
        """Record a run as started; returns it and the earlier runs found interrupted.

        Holding the lock proves that no other run is alive, so a ``running`` record left
        behind is a run that was killed: it is marked ``interrupted``. ``shard`` (label,
        tag): a shard marks only its own shard's records, and its run ID carries the tag,
        so that shards started in the same second on other machines never meet in a file.
        """
        self._migrate()
        records, files, _ = self._scan()
        label = shard[0] if shard else None
        interrupted = [
            r for r in records.values() if r.status == "running" and (not shard or r.shard == label)
        ]
        for r in sorted(interrupted, key=lambda r: (r.started_at, r.id)):
            r.status = "interrupted"
            self._write(r, files[r.id])
        base = f"{started_at}-{shard[1]}" if shard else started_at
        run_id, n = base, 1
        while run_id in records:  # two runs in one second (an injected clock)
            n += 1
            run_id = f"{base}-{n}"
        record = RunRecord(id=run_id, started_at=started_at, shard=label)
        self._write(record, self.folder / _file_name(started_at, uuid.uuid4().hex[:8]))
        self._prune()
        return record, sorted(interrupted, key=lambda r: (r.started_at, r.id))

    def end(self, record: RunRecord) -> None:
        """Write the final state of ``record`` into its own file."""
        _, files, _ = self._scan()
        path = files.get(record.id) or self.folder / _file_name(
            record.started_at, uuid.uuid4().hex[:8]
        )
        self._write(record, path)

    # -- reading ---------------------------------------------------------------------------

    def _scan(self) -> tuple[dict[str, RunRecord], dict[str, Path], dict[str, str]]:
        if self._found is not None:
            return self._found
        records: dict[str, RunRecord] = {}
        files: dict[str, Path] = {}
        problems: dict[str, str] = {}
        legacy = self.root / LEGACY_RUNS
        if legacy.exists():
            try:
                for r in legacy_runs(self._read(legacy), str(legacy)):
                    records[r.id] = r
            except DamagedFileError as e:
                problems[str(legacy)] = remedied(e)
        names = sorted(p.name for p in _listing(self.folder) if RUN_NAME.match(p.name))
        for name in names:
            path = self.folder / name
            try:
                r = parse_run(self._read(path), str(path))
            except DamagedFileError as e:
                problems[str(path)] = remedied(e)
                continue
            records[r.id] = r  # a moved runs.json entry, or the same run merged twice
            files[r.id] = path
        found = (records, files, problems)
        if self._keep:
            self._found = found
        return found

    def _read(self, path: Path) -> str:
        self.reads["runs"] += 1
        return read_text(path)

    # -- writing ---------------------------------------------------------------------------

    def _write(self, record: RunRecord, path: Path) -> None:
        found, self._found = self._found, None  # a failed write: read the files again
        atomic_write(no_links(self.root, path), record.to_json().encode("utf-8"))
        if found is not None:  # what a read of the files gives now, without reading them
            found[0][record.id] = replace(
                record, counts=dict(record.counts), problems=list(record.problems)
            )
            found[1][record.id] = path
            self._found = found

    def _migrate(self) -> None:
        """Move the entries of an older store's ``runs.json`` to ``runs/``, then remove it."""
        legacy = self.root / LEGACY_RUNS
        if not legacy.exists():
            return
        try:
            entries = legacy_runs(self._read(legacy), str(legacy))
        except DamagedFileError:
            return  # named by problems() and verify; the runs after it go on
        self.ensure_uid()
        for r in entries:
            path = moved_path(self.root, r)
            if not path.exists():
                self._write(r, path)
        legacy.unlink()
        self._found = None

    def _prune(self) -> None:
        names = sorted(p.name for p in _listing(self.folder) if RUN_NAME.match(p.name))
        for name in names[:-MAX_RUNS]:
            with contextlib.suppress(OSError):
                (self.folder / name).unlink()
        if len(names) > MAX_RUNS:
            self._found = None


def parse_run(text: str, where: str) -> RunRecord:
    """One run record; errors name ``where``."""
    doc = parse_json(text, where, "run record")
    if not _valid(doc):
        raise DamagedFileError(where, "corrupt run record (unexpected structure)")
    return RunRecord(**doc)


def legacy_runs(text: str, where: str) -> list[RunRecord]:
    """The entries of an older store's ``runs.json``; errors name ``where`` and the remedy."""
    doc = parse_json(text, where, "runs log")
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("runs"), list)
        or not all(_valid(r) for r in doc["runs"])
    ):
        raise DamagedFileError(where, "corrupt runs log (unexpected structure)")
    return [RunRecord(**r) for r in doc["runs"]]


def remedied(e: DamagedFileError) -> str:
    """A damaged run record's one line, with what to run about it."""
    if "conflict" in e.reason:
        hint = "`dipdiff verify --repair` keeps both sides' runs"
    elif e.reason.startswith("empty"):
        hint = "`dipdiff verify --repair` removes it"
    else:
        hint = f"restore it from git: `git checkout -- {e.path}`"
    return f"{e}; {hint}"


def moved_path(root: Path, record: RunRecord) -> Path:
    """Where a run of an older store's ``runs.json`` goes under ``runs/``: a name derived
    from its ID, so that two clones moving the same ``runs.json`` write the same files."""
    return root / RUNS_DIR / _file_name(record.started_at, _digest(record.id))


def _valid(doc: object) -> bool:
    return (
        isinstance(doc, dict)
        and {"id", "started_at"} <= set(doc) <= _FIELDS
        and isinstance(doc["id"], str)
        and isinstance(doc["started_at"], str)
    )


def _file_name(started_at: str, token: str) -> str:
    """``2019-04-21T090000Z-<token>.json``: one fixed length, so ``ls`` lists runs in order."""
    return version_name(parse_timestamp(started_at))[:-3] + f"-{token}.json"


def _digest(run_id: str) -> str:
    return hashlib.sha1(run_id.encode("utf-8"), usedforsecurity=False).hexdigest()[:8]


def _listing(folder: Path) -> list[Path]:
    if folder.is_symlink() or not folder.is_dir():
        return []
    return list(folder.iterdir())
