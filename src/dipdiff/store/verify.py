"""``dipdiff verify``: check every file of the store; one line per problem, naming the file.

Checks: each statement folder has a valid ``meta.json`` and a well-formed check history
whose stored versions all exist; each version file has a complete header, a text matching
its sha256 and a name in time order; each raw page belongs to a version and decompresses;
nothing is left half-written, and nothing is a link. Works on a read-only store: it only
reads (the store's files; an entry of the derived index that contradicts them is dropped,
silently: the index is a cache, rebuilt from the files).
"""

from __future__ import annotations

import gzip
import re
import zlib
from datetime import datetime
from pathlib import Path

from dipdiff.clock import parse_timestamp
from dipdiff.errors import InputError, StoreError
from dipdiff.models import Check, Outcome
from dipdiff.store.files import LINK
from dipdiff.store.ids import valid_id
from dipdiff.store.index import Rows, row_of, signature
from dipdiff.store.layout import (
    CHECKS,
    META,
    RAW_DIR,
    RAW_NAME,
    RUN_NAME,
    STORING,
    TMP_SUFFIX,
    VERSION_NAME,
    orphan_raw,
    parse_version,
    raw_name,
    stored_shas,
    version_name,
)
from dipdiff.store.meta import StatementMeta
from dipdiff.store.outbox import Outbox
from dipdiff.store.runs import RunLog
from dipdiff.store.store import MAX_CHECKS, REPAIR_HINT, Store
from dipdiff.text import content_hash

_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)  # clean() drops them


class _Findings:
    """Problems, one line each; a *transient* one is what a run in progress also leaves."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, bool]] = []

    def add(self, line: str, *, transient: bool = False) -> None:
        self.lines.append((line, transient))

    def result(self, *, busy: bool) -> list[str]:
        return [line for line, transient in self.lines if not (busy and transient)]


def verify(store: Store) -> list[str]:
    """Check every file of the store; one line per problem, naming the file.

    Checks: each statement folder has a valid ``meta.json`` and check history in which
    every stored version still has its file (and its raw page, when it was fetched); each
    version file has a complete header, a text matching its sha256 and a name in time
    order; each raw page belongs to a version and decompresses; the run records read;
    nothing is left half-written, and nothing is a link. While a run is writing, its
    temporary files and half-done steps are what they should be: they are not reported.
    """
    if not store.root.is_dir():
        return [f"{store.root}: no such store"]
    busy = store.writer_active()
    found = _Findings()
    for link in store.links():
        found.add(f"{link}: {LINK}")
    for folder in store.statement_folders():
        _verify_statement(store, folder, found)
    store.check_recent()
    for tmp in store.temp_files():
        found.add(
            f"{tmp}: leftover temporary file (a run was interrupted; {REPAIR_HINT})",
            transient=True,
        )
    log = RunLog(store.root)
    log.runs()
    for line in log.problems():
        found.add(line)
    if log.folder.is_dir() and not log.folder.is_symlink():
        for p in sorted(log.folder.iterdir()):
            if not RUN_NAME.match(p.name) and not p.name.endswith(TMP_SUFFIX):
                found.add(f"{p}: unexpected file among run records")
    for line in Outbox(store.root).pending()[1]:
        found.add(line)
    return found.result(busy=busy or store.writer_active())


def _verify_statement(store: Store, folder: Path, found: _Findings) -> None:
    sid = f"{folder.parent.name}/{folder.name}"
    names = sorted(p.name for p in folder.iterdir())
    version_names = [n for n in names if VERSION_NAME.match(n)]
    if META not in names:
        if version_names or CHECKS in names:
            what = f"{len(version_names)} version file(s)" if version_names else CHECKS
            found.add(
                f"{folder}: {what} but no {META} (deleted?); "
                "`dipdiff verify --repair` rebuilds it from the version files"
            )
        elif any(not n.endswith(TMP_SUFFIX) for n in names):
            found.add(
                f"{folder}: statement folder without {META} (a run was interrupted; {REPAIR_HINT})",
                transient=True,
            )
        return
    if not valid_id(sid):
        found.add(f"{folder}: not a valid statement folder name (expected [a-z0-9-])")
        return
    try:
        meta = store.meta(sid)
    except (StoreError, InputError) as e:
        found.add(str(e))
        return
    meta_path = folder / META
    checks_path = folder / CHECKS if CHECKS in names else meta_path
    if meta.source != folder.parent.name:
        found.add(f"{meta_path}: source {meta.source!r} does not match its folder")
    if CHECKS in names and _cut_off(folder / CHECKS):
        found.add(
            f"{folder / CHECKS}: its last line was cut off (a run was interrupted; {REPAIR_HINT})",
            transient=True,
        )
    for name in names:
        path = folder / name
        if (
            name in (META, CHECKS, RAW_DIR)
            or VERSION_NAME.match(name)
            or name.endswith(TMP_SUFFIX)
            or path.is_symlink()
        ):
            continue
        hint = " (version file names are YYYY-MM-DDTHHMMSSZ.md)" if name.endswith(".md") else ""
        found.add(
            f"{path}: unexpected {'folder' if path.is_dir() else 'file'} in a statement{hint}"
        )
    shas: list[str] = []
    readable: list[str] = []
    rows: Rows = []  # what the files say, for the index
    unreadable = False  # then a "lost" version may only be unreadable: said once, above
    previous: tuple[str, datetime] | None = None
    for name in version_names:
        path = folder / name
        try:
            header, st = parse_version(store.read_text(path), str(path))
        except StoreError as e:
            found.add(f"{e}; restore it from git: `git checkout -- {path}`")
            unreadable = True
            continue
        shas.append(str(header["sha256"]))
        readable.append(name)
        rows.append(row_of(name, header))
        controls = sorted(
            {f"U+{ord(c):04X}" for c in _CONTROLS.findall(st.title + "".join(st.paragraphs))}
        )
        if controls:
            found.add(
                f"{path}: control characters in the text ({', '.join(controls[:4])}); "
                "dipdiff never writes them (edited by hand?)"
            )
        if content_hash(st.title, st.paragraphs) != header["sha256"]:
            found.add(f"{path}: text does not match its sha256 (edited by hand?)")
        try:
            when = parse_timestamp(str(header["fetched_at"]))
        except InputError:
            found.add(f"{path}: fetched_at {header['fetched_at']!r} is not an ISO 8601 time")
            continue
        if version_name(when) > name:
            found.add(f"{path}: named earlier than its fetched_at {header['fetched_at']}")
        if previous and when < previous[1]:
            found.add(
                f"{path}: fetched before {previous[0]} but named after it "
                "(version files out of time order)"
            )
        previous = (name, when)
    if len(meta.checks) < MAX_CHECKS:  # older checks are dropped beyond that
        seen = {c.get("sha256") for c in meta.checks if isinstance(c, dict)}
        for name, sha in zip(readable, shas, strict=True):
            if sha not in seen:
                found.add(
                    f"{folder / name}: no check records this version (a run was "
                    "interrupted; the next check of the page records it)",
                    transient=True,
                )
    if not unreadable:
        _check_index(store, sid, folder, rows)
    for line in _verify_checks(checks_path, meta, None if unreadable else set(shas)):
        found.add(line)
    for line in _missing_raw(folder, meta, readable, shas):
        found.add(line)
    _verify_raw(folder, unreadable or bool(stored_shas(meta.checks) - set(shas)), found)


def _missing_raw(folder: Path, meta: StatementMeta, names: list[str], shas: list[str]) -> list[str]:
    """Versions stored from a fetched page (their check has an HTTP status) whose raw page
    is gone: dipdiff always keeps it beside such a version."""
    fetched = {
        c.get("sha256")
        for c in meta.checks
        if c.get("outcome") in STORING and c.get("status") is not None
    }
    problems: list[str] = []
    for name, sha in zip(names, shas, strict=True):
        raw = folder / RAW_DIR / raw_name(name)
        if sha in fetched and not raw.exists() and not raw.is_symlink():
            problems.append(
                f"{folder / name}: its raw page {raw.name} is missing (deleted?); "
                f"restore it from git: `git checkout -- {raw}`"
            )
    return problems


def _cut_off(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            size = f.seek(0, 2)
            if size == 0:
                return False
            f.seek(size - 1)
            return f.read(1) != b"\n"
    except OSError:
        return False


def _check_index(store: Store, sid: str, folder: Path, rows: Rows) -> None:
    """Drop the index entry of a statement if it says other than its files (a damaged index)."""
    try:
        sig, _ = signature(folder, [r[0] for r in rows])
    except OSError:
        return
    cached = store.index.lookup(sid, sig) if rows else None
    if cached is not None and cached != rows:
        store.index.forget(sid)


def _verify_checks(meta_path: Path, meta: StatementMeta, shas: set[str] | None) -> list[str]:
    problems: list[str] = []
    allowed = set(Check.__dataclass_fields__)
    outcomes = {str(o) for o in Outcome}
    entries: list[object] = list(meta.checks)  # read from disk unchecked: anything may be there
    for i, c in enumerate(entries, 1):
        where = f"{meta_path}: check {i}"
        if not isinstance(c, dict):
            problems.append(f"{where} is not an object")
            continue
        unknown = sorted(set(c) - allowed)
        missing = [k for k in ("time", "outcome", "url") if k not in c]
        if unknown or missing:
            problems.append(
                f"{where}: "
                + (
                    "unknown key " + repr(unknown[0])
                    if unknown
                    else "missing key " + repr(missing[0])
                )
            )
            continue
        if c["outcome"] not in outcomes:
            problems.append(f"{where}: unknown outcome {c['outcome']!r}")
        try:
            parse_timestamp(str(c["time"]))
        except InputError:
            problems.append(f"{where}: time {c['time']!r} is not an ISO 8601 time")
        for key, typ in (("status", int), ("version", int), ("sha256", str), ("url", str)):
            if c.get(key) is not None and not isinstance(c[key], typ):
                problems.append(f"{where}: {key} should be a {typ.__name__}")
        sha = c.get("sha256")
        if (
            shas is not None
            and c["outcome"] in STORING
            and isinstance(sha, str)
            and sha not in shas
        ):
            problems.append(
                f"{where} ({c['time']}) stored a version with sha256 {sha[:12]}… "
                "that no version file has (a lost version)"
            )
    return problems


def _verify_raw(folder: Path, lost: bool, found: _Findings) -> None:
    raw_dir = folder / RAW_DIR
    if not raw_dir.is_dir() or raw_dir.is_symlink():
        return
    for raw in sorted(raw_dir.iterdir()):
        if raw.name.endswith(TMP_SUFFIX) or raw.is_symlink():
            continue
        if not RAW_NAME.match(raw.name):
            found.add(f"{raw}: unexpected file among raw pages")
        elif orphan_raw(folder, raw):
            # Written just before its version file: a run in progress makes one too.
            if lost:
                found.add(
                    f"{raw}: raw page without its version file (perhaps of the lost version; kept)"
                )
            else:
                found.add(
                    f"{raw}: raw page without its version file (a run was interrupted; "
                    f"{REPAIR_HINT})",
                    transient=True,
                )
        else:
            try:
                with gzip.open(raw) as f:
                    while f.read(1 << 20):
                        pass
            except (OSError, EOFError, zlib.error) as e:
                found.add(f"{raw}: corrupt raw page ({e})")
