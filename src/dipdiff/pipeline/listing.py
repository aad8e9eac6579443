"""What ``dipdiff list`` shows of each statement: its identity from the index's summary while its
record has not changed (:mod:`dipdiff.store.recent`), its versions from the version index.

A listing of a big store used to read every statement's ``meta.json`` and whole check history
for three fields; a summary is read again only for a statement whose files changed.
"""

from __future__ import annotations

import json
from typing import Any

from dipdiff.store.meta import StatementMeta
from dipdiff.store.store import Store

#: The index's name for a statement's listed fields (a new name when they change).
ROW_DOC = "list.row.1"


def statement_rows(store: Store) -> list[dict[str, Any]]:
    """One row per statement, in ID order; a damaged statement is left out (and noted in
    ``store.damage``)."""
    recent = store.recent({ROW_DOC: _summary})
    kept = recent.docs(ROW_DOC) if recent is not None else {}
    rows: list[dict[str, Any]] = []
    for sid in store.statement_ids():
        with store.guard():
            found = _row(kept.get(sid))
            if found is None:
                meta = store.meta(sid)
                found = [meta.agency, meta.title, meta.url]
            agency, title, url = found
            refs = store.versions(sid)
            rows.append(
                {
                    "id": sid,
                    "versions": len(refs),
                    "last_fetched": refs[-1].fetched_at if refs else None,
                    "agency": agency,
                    "title": title,
                    "url": url,
                }
            )
    return rows


def _summary(meta: StatementMeta) -> str:
    return json.dumps([meta.agency, meta.title, meta.url])


def _row(doc: str | None) -> list[str] | None:
    """A summary's fields; None when there is none, or it is damaged (the record is read)."""
    if doc is None:
        return None
    try:
        found = json.loads(doc)
    except ValueError:
        return None
    return found if isinstance(found, list) and len(found) == 3 else None
