"""``dipdiff verify``: check every file of the store; one line per problem, naming the file.

Checks: each statement folder has a valid ``meta.json`` whose check history is
well-formed and whose stored versions all exist; each version file has a complete
header, a text matching its sha256 and a name in time order; each raw page belongs
to a version and decompresses; nothing is left half-written. Works on a read-only
store: it only reads.
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
from dipdiff.store.ids import valid_id
from dipdiff.store.layout import (
    META,
    RAW_DIR,
    RAW_NAME,
    STORING,
    TMP_SUFFIX,
    VERSION_NAME,
    orphan_raw,
    parse_version,
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


def verify(store: Store) -> list[str]:
    """Check every file of the store; one line per problem, naming the file.

    Checks: each statement folder has a valid ``meta.json`` whose check history
    is well-formed and whose stored versions all exist; each version file has a
    complete header, a text matching its sha256 and a name in time order; each
    raw page belongs to a version and decompresses; nothing is left half-written.
    """
    if not store.root.is_dir():
        return [f"{store.root}: no such store"]
    problems: list[str] = []
    for folder in store.statement_folders():
        problems += _verify_statement(store, folder)
    for tmp in sorted(store.root.glob(f"**/.*{TMP_SUFFIX}")):
        problems.append(f"{tmp}: leftover temporary file (a run was interrupted; {REPAIR_HINT})")
    try:
        RunLog(store.runs_path).runs()
    except StoreError as e:
        problems.append(str(e))
    problems += Outbox(store.root).pending()[1]
    return problems


def _verify_statement(store: Store, folder: Path) -> list[str]:
    sid = f"{folder.parent.name}/{folder.name}"
    names = sorted(p.name for p in folder.iterdir())
    version_names = [n for n in names if VERSION_NAME.match(n)]
    if META not in names:
        if version_names:
            return [f"{folder}: {len(version_names)} version file(s) but no {META}"]
        if any(not n.endswith(TMP_SUFFIX) for n in names):
            return [
                f"{folder}: statement folder without {META} (a run was interrupted; {REPAIR_HINT})"
            ]
        return []
    if not valid_id(sid):
        return [f"{folder}: not a valid statement folder name (expected [a-z0-9-])"]
    try:
        meta = store.meta(sid)
    except (StoreError, InputError) as e:
        return [str(e)]
    problems: list[str] = []
    meta_path = folder / META
    if meta.source != folder.parent.name:
        problems.append(f"{meta_path}: source {meta.source!r} does not match its folder")
    for name in names:
        path = folder / name
        if name in (META, RAW_DIR) or VERSION_NAME.match(name) or name.endswith(TMP_SUFFIX):
            continue
        problems.append(
            f"{path}: unexpected {'folder' if path.is_dir() else 'file'} in a statement"
            + (" (version file names are YYYY-MM-DDTHHMMSSZ.md)" if name.endswith(".md") else "")
        )
    shas: list[str] = []
    readable: list[str] = []
    unreadable = False  # then a "lost" version may only be unreadable: said once, above
    previous: tuple[str, datetime] | None = None
    for name in version_names:
        path = folder / name
        try:
            header, st = parse_version(store.read_text(path), str(path))
        except StoreError as e:
            problems.append(str(e))
            unreadable = True
            continue
        shas.append(str(header["sha256"]))
        readable.append(name)
        controls = sorted(
            {f"U+{ord(c):04X}" for c in _CONTROLS.findall(st.title + "".join(st.paragraphs))}
        )
        if controls:
            problems.append(
                f"{path}: control characters in the text ({', '.join(controls[:4])}); "
                "dipdiff never writes them (edited by hand?)"
            )
        if content_hash(st.title, st.paragraphs) != header["sha256"]:
            problems.append(f"{path}: text does not match its sha256 (edited by hand?)")
        try:
            when = parse_timestamp(str(header["fetched_at"]))
        except InputError:
            problems.append(f"{path}: fetched_at {header['fetched_at']!r} is not an ISO 8601 time")
            continue
        if version_name(when) > name:
            problems.append(f"{path}: named earlier than its fetched_at {header['fetched_at']}")
        if previous and when < previous[1]:
            problems.append(
                f"{path}: fetched before {previous[0]} but named after it "
                "(version files out of time order)"
            )
        if shas[-2:-1] == shas[-1:]:
            problems.append(f"{path}: same text as the version before it (a duplicate version)")
        previous = (name, when)
    if len(meta.checks) < MAX_CHECKS:  # older checks are dropped beyond that
        seen = {c.get("sha256") for c in meta.checks if isinstance(c, dict)}
        for name, sha in zip(readable, shas, strict=True):
            if sha not in seen:
                problems.append(
                    f"{folder / name}: no check records this version (a run was "
                    "interrupted; the next check of the page records it)"
                )
    problems += _verify_checks(meta_path, meta, None if unreadable else set(shas))
    lost = unreadable or bool(stored_shas(meta.checks) - set(shas))
    problems += _verify_raw(folder, lost)
    return problems


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


def _verify_raw(folder: Path, lost: bool) -> list[str]:
    raw_dir = folder / RAW_DIR
    if not raw_dir.is_dir():
        return []
    problems: list[str] = []
    for raw in sorted(raw_dir.iterdir()):
        if raw.name.endswith(TMP_SUFFIX):
            continue
        if not RAW_NAME.match(raw.name):
            problems.append(f"{raw}: unexpected file among raw pages")
        elif orphan_raw(folder, raw):
            problems.append(
                f"{raw}: raw page without its version file "
                + (
                    "(perhaps of the lost version; kept)"
                    if lost
                    else f"(a run was interrupted; {REPAIR_HINT})"
                )
            )
        else:
            try:
                with gzip.open(raw) as f:
                    while f.read(1 << 20):
                        pass
            except (OSError, EOFError, zlib.error) as e:
                problems.append(f"{raw}: corrupt raw page ({e})")
    return problems
