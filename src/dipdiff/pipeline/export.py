"""``dipdiff export sqlite FILE``: the store as a SQLite database for Datasette (sqlite-utils).

A documented, stable schema (README, "Export to SQLite"): ``statements``, ``versions`` (text and
provenance), ``events`` (what each recorded check amounted to: new, changed, removed, moved),
``changes`` (each change of each recorded redline, with its kind, significance, flags and
signals), ``checks`` (the whole check history) and ``divergences``, with foreign keys and
full-text search over version titles and text and statement titles. ``metadata.json`` beside
the file gives Datasette labels and descriptions.

Events and their redlines are the recorder's own (:class:`dipdiff.pipeline.report.History`),
divergences those of ``dipdiff divergences``. Incremental: ``_dipdiff_export`` keeps a hash of
each statement's inputs, and a re-export rewrites only the rows of statements whose hash
changed (and removes those of statements gone from the store).

The only module that imports sqlite_utils.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from dipdiff.analyse.related import DEFAULT_WINDOW
from dipdiff.errors import StoreError
from dipdiff.pipeline.crosscheck import find_divergences
from dipdiff.pipeline.report import History, history_events
from dipdiff.pipeline.run import divergence_record
from dipdiff.pipeline.site import origin
from dipdiff.render.permalinks import event_key
from dipdiff.render.plain import change_note
from dipdiff.store.atomic import atomic_write, os_reason
from dipdiff.store.store import Store

SCHEMA_VERSION = 1
_STATE = "_dipdiff_export"
# Tables in the order rows of one statement are deleted (children first).
_PER_STATEMENT = ("changes", "events", "checks", "versions")


@dataclass(frozen=True)
class ExportResult:
    path: Path
    metadata: Path
    statements: int  # in the database
    exported: int  # statements whose rows were (re)written
    removed: int
    divergences: int


def _key(store: Store, sid: str) -> str:
    meta = store.meta(sid)
    refs = [[r.filename, r.sha256] for r in store.versions(sid)]
    blob = json.dumps([meta.to_json(), meta.checks, refs, SCHEMA_VERSION], ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def _create(db: sqlite_utils.Database) -> None:
    if "statements" in db.table_names():
        return
    db.table("statements").create(
        {
            "id": str,
            "source": str,
            "url": str,
            "title": str,
            "agency": str,
            "published": str,
            "guid": str,
            "versions": int,
            "first_seen": str,
            "last_checked": str,
            "removed": int,
        },
        pk="id",
    )
    db.table("versions").create(
        {
            "id": str,  # statement@sha256[:12]: stable when an older capture is imported
            "statement_id": str,
            "number": int,
            "fetched_at": str,
            "sha256": str,
            "origin": str,
            "title": str,
            "agency": str,
            "published": str,
            "url": str,
            "text": str,
        },
        pk="id",
        foreign_keys=[("statement_id", "statements", "id")],
    )
    db.table("events").create(
        {
            "id": str,
            "statement_id": str,
            "kind": str,
            "time": str,
            "version_id": str,
            "previous_version_id": str,
            "significance": str,
            "summary": str,
            "note": str,
        },
        pk="id",
        foreign_keys=[
            ("statement_id", "statements", "id"),
            ("version_id", "versions", "id"),
            ("previous_version_id", "versions", "id"),
        ],
    )
    db.table("changes").create(
        {
            "id": str,
            "event_id": str,
            "statement_id": str,
            "position": int,
            "kind": str,
            "significance": str,
            "location": str,
            "old": str,
            "new": str,
            "flags": str,
            "signals": str,
        },
        pk="id",
        foreign_keys=[("event_id", "events", "id"), ("statement_id", "statements", "id")],
    )
    db.table("checks").create(
        {
            "id": str,
            "statement_id": str,
            "position": int,
            "time": str,
            "outcome": str,
            "url": str,
            "status": int,
            "sha256": str,
            "note": str,
        },
        pk="id",
        foreign_keys=[("statement_id", "statements", "id")],
    )
    db.table("divergences").create(
        {
            "id": str,
            "a_id": str,
            "b_id": str,
            "a_version": int,
            "b_version": int,
            "score": float,
            "related_score": float,
            "summary": str,
            "actors": str,
        },
        pk="id",
        foreign_keys=[("a_id", "statements", "id"), ("b_id", "statements", "id")],
    )
    db.table(_STATE).create({"statement_id": str, "key": str}, pk="statement_id")
    for table, column in (
        ("versions", "statement_id"),
        ("events", "statement_id"),
        ("changes", "event_id"),
        ("checks", "statement_id"),
    ):
        db.table(table).create_index([column])
    db.table("versions").enable_fts(["title", "text"], create_triggers=True)
    db.table("statements").enable_fts(["title"], create_triggers=True)


def export_sqlite(store: Store, path: Path, *, window: timedelta = DEFAULT_WINDOW) -> ExportResult:
    """Write (or bring up to date) the SQLite export of ``store`` at ``path``."""
    try:
        db = sqlite_utils.Database(path)
        with store.reading(), db.conn:
            _create(db)
            result = _export(store, db, window)
    except sqlite3.DatabaseError as e:
        raise StoreError(str(path), f"not a dipdiff export ({e})") from None
    except OSError as e:
        raise StoreError(str(path), f"cannot write: {os_reason(e)}") from None
    metadata = path.with_name("metadata.json")
    atomic_write(metadata, metadata_json(path.stem).encode())
    return ExportResult(path, metadata, *result)


def _export(
    store: Store, db: sqlite_utils.Database, window: timedelta
) -> tuple[int, int, int, int]:
    history = History(store)
    old = {r["statement_id"]: r["key"] for r in db.table(_STATE).rows}
    ids = [sid for sid in store.statement_ids() if store.versions(sid)]
    exported = 0
    for sid in ids:
        key = _key(store, sid)
        if old.get(sid) == key:
            continue
        # The key goes first and comes back last: an export killed in between redoes it.
        db.table(_STATE).delete_where("statement_id = ?", [sid])
        _delete(db, sid)
        _statement_rows(store, history, db, sid)
        db.table(_STATE).upsert({"statement_id": sid, "key": key}, pk="statement_id")
        exported += 1
    gone = sorted(set(old) - set(ids))
    for sid in gone:
        _delete(db, sid)
        db.table(_STATE).delete_where("statement_id = ?", [sid])
    divergences = (
        _divergences(store, db, window) if exported or gone else db.table("divergences").count
    )
    return len(ids), exported, len(gone), divergences


def _delete(db: sqlite_utils.Database, sid: str) -> None:
    for table in _PER_STATEMENT:
        db.table(table).delete_where("statement_id = ?", [sid])
    db.table("divergences").delete_where("a_id = ? or b_id = ?", [sid, sid])
    db.table("statements").delete_where("id = ?", [sid])


def _vid(sid: str, sha: str) -> str:
    return f"{sid}@{sha[:12]}"


def _statement_rows(store: Store, history: History, db: sqlite_utils.Database, sid: str) -> None:
    meta = store.meta(sid)
    refs = store.versions(sid)
    checks = meta.checks
    storing = {
        str(c["sha256"]): c
        for c in reversed(checks)
        if c.get("outcome") in ("new", "changed") and c.get("sha256")
    }
    outcomes = [c.get("outcome") for c in checks if c.get("outcome") != "unchanged"]
    db.table("statements").insert(
        {
            "id": sid,
            "source": meta.source,
            "url": meta.url,
            "title": meta.title,
            "agency": meta.agency,
            "published": meta.published,
            "guid": meta.guid,
            "versions": len(refs),
            "first_seen": refs[0].fetched_at,
            "last_checked": checks[-1]["time"] if checks else refs[-1].fetched_at,
            "removed": int(bool(outcomes) and outcomes[-1] == "removed"),
        }
    )
    rows = []
    for ref in refs:
        v = store.read_version(sid, ref.number).statement
        rows.append(
            {
                "id": _vid(sid, ref.sha256),
                "statement_id": sid,
                "number": ref.number,
                "fetched_at": ref.fetched_at,
                "sha256": ref.sha256,
                "origin": origin(storing.get(ref.sha256)),
                "title": v.title,
                "agency": v.agency,
                "published": v.published,
                "url": v.url,
                "text": v.body,
            }
        )
    db.table("versions").insert_all(rows)
    db.table("checks").insert_all(
        {
            "id": f"{sid}#{i}",
            "statement_id": sid,
            "position": i,
            "time": c.get("time"),
            "outcome": c.get("outcome"),
            "url": c.get("url"),
            "status": c.get("status"),
            "sha256": c.get("sha256"),
            "note": c.get("note"),
        }
        for i, c in enumerate(checks, 1)
    )
    by_number = {r.number: r for r in refs}
    for e in reversed(history_events(store, None, history, ids=[sid])):
        b = by_number.get(e.statement.version or 0)
        a = by_number.get(e.a_version or 0)
        eid = f"{sid}:{e.kind}:{e.time}"
        db.table("events").insert(
            {
                "id": eid,
                "statement_id": sid,
                "kind": e.kind,
                "time": e.time,
                "version_id": _vid(sid, b.sha256) if b and e.kind != "removed" else None,
                "previous_version_id": _vid(sid, a.sha256) if a else None,
                "significance": e.worst if e.diff is not None else None,
                "summary": change_note(e.diff) if e.diff is not None else None,
                "note": e.note or None,
            }
        )
        if e.diff is not None:
            db.table("changes").insert_all(
                {
                    "id": f"{eid}#{i}",
                    "event_id": eid,
                    "statement_id": sid,
                    "position": i,
                    "kind": c.kind,
                    "significance": c.significance,
                    "location": c.where,
                    "old": c.old,
                    "new": c.new,
                    "flags": json.dumps(list(c.flags)),
                    "signals": json.dumps(list(c.signals)),
                }
                for i, c in enumerate(e.diff.changes, 1)
            )


def _divergences(store: Store, db: sqlite_utils.Database, window: timedelta) -> int:
    db.table("divergences").delete_where()
    rows = []
    for pair in find_divergences(store, window=window):
        d = divergence_record(store, pair)
        rows.append(
            {
                "id": event_key(d.a.id, d.b.id),
                "a_id": d.a.id,
                "b_id": d.b.id,
                "a_version": d.a.version,
                "b_version": d.b.version,
                "score": round(pair.score, 4),
                "related_score": round(pair.related_score, 4),
                "summary": d.summary,
                "actors": json.dumps([x.to_json() for x in pair.actors], ensure_ascii=False),
            }
        )
    db.table("divergences").insert_all(rows)
    return len(rows)


_DESCRIPTIONS = {
    "statements": ("title", "One row per watched statement (its latest identity)."),
    "versions": ("title", "Every stored version: its text and provenance."),
    "events": ("summary", "What each recorded check amounted to: new, changed, removed, moved."),
    "changes": ("old", "Each change of each recorded redline: kind, significance, flags, signals."),
    "checks": ("outcome", "Every check of every statement, oldest first."),
    "divergences": ("summary", "Pairs of agencies' statements that disagree about one event."),
}


def metadata_json(database: str) -> str:
    """Datasette's metadata: a title, and for each table a description and its label column."""
    doc: dict[str, Any] = {
        "title": "dipdiff: statements, versions and changes",
        "description": "Exported by dipdiff export sqlite from a dipdiff snapshot store.",
        "databases": {
            database: {
                "tables": {
                    table: {"label_column": label, "description": text}
                    for table, (label, text) in _DESCRIPTIONS.items()
                }
                | {_STATE: {"hidden": True}}
            }
        },
    }
    return json.dumps(doc, indent=2) + "\n"
