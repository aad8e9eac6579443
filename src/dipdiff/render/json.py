"""The JSON contracts: ``diff``, ``compare``, ``related``, ``divergences``, the fetch run summary.

Fields are only ever added, never renamed or dropped: scripts and other tools rely on them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dipdiff.models import Outcome, RunResult, Statement

if TYPE_CHECKING:  # types only: importing the engines costs start-up time
    from dipdiff.analyse.compare import Comparison
    from dipdiff.analyse.diff import DiffResult
    from dipdiff.analyse.related import DivergentPair, Related


def compare_doc(
    c: Comparison, a_version: int | None = None, b_version: int | None = None
) -> dict[str, Any]:
    """The compare JSON contract.

    Fields: ``a``, ``b``, ``similarity``, ``shared``, ``only_a``, ``only_b``, ``actors``.
    """
    return {
        "a": {**statement_meta(c.a, a_version), **_language(c, 0)},
        "b": {**statement_meta(c.b, b_version), **_language(c, 1)},
        "similarity": c.similarity,
        "shared": [
            {
                "a": s.a,
                "b": s.b,
                "similarity": s.similarity,
                "match": s.match,
                "changes": [ch.to_json() for ch in s.changes],
            }
            for s in c.shared
        ],
        "only_a": list(c.only_a),
        "only_b": list(c.only_b),
        "actors": [x.to_json() for x in c.actors],
        "divergent": c.divergent,
        "score": c.score,
    }


def compare_json(c: Comparison, a_version: int | None = None, b_version: int | None = None) -> str:
    return json.dumps(compare_doc(c, a_version, b_version), indent=2, ensure_ascii=False) + "\n"


def _language(c: Comparison, side: int) -> dict[str, Any]:
    """ISO 639-1 as detected, and whether stances were judged in it (a lexicon for it exists)."""
    return {"language": c.languages[side], "analysed": c.analysed[side]}


def related_doc(sid: str, items: Sequence[Related]) -> dict[str, Any]:
    return {
        "id": sid,
        "related": [
            {
                "id": r.record.id,
                "title": r.record.statement.title,
                "agency": r.record.statement.agency,
                "date": r.record.date.isoformat() if r.record.date else None,
                "score": r.score,
                "days": round(r.days, 2) if r.days is not None else None,
                "shared": list(r.shared),
            }
            for r in items
        ],
    }


def divergences_doc(pairs: Sequence[DivergentPair]) -> list[dict[str, Any]]:
    return [
        {
            "a": {"id": d.a.id, **statement_meta(d.a.statement, d.a.version)},
            "b": {"id": d.b.id, **statement_meta(d.b.statement, d.b.version)},
            "score": d.score,
            "related_score": d.related_score,
            "actors": [x.to_json() for x in d.actors],
        }
        for d in pairs
    ]


def statement_meta(s: Statement, version: int | None = None) -> dict[str, Any]:
    """The ``a``/``b`` object of the diff and compare JSON contracts."""
    return {
        "title": s.title,
        "url": s.url,
        "agency": s.agency,
        "published": s.published,
        "version": version,
        "words": s.words,
    }


def diff_json(
    result: DiffResult, a_version: int | None = None, b_version: int | None = None
) -> str:
    """The diff JSON contract.

    Fields: ``a``, ``b``, ``similarity``, ``changes``, ``summary``, ``granularity``.
    """
    doc = {
        "a": statement_meta(result.a, a_version),
        "b": statement_meta(result.b, b_version),
        "similarity": result.similarity,
        "changes": [c.to_json() for c in result.changes],
        "summary": result.summary(),
        "granularity": result.granularity,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def summary(run: RunResult) -> dict[str, Any]:
    """The machine-readable run summary (``dipdiff fetch --json``). Fields are only ever added."""
    counts = {o.value: run.count(o) for o in Outcome}
    return {
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "checked": len(run.results),
        "requests": run.requests,
        "outcomes": counts,
        "problems": list(run.problems),
        "damaged": list(run.damaged),
        "results": [
            {
                "id": r.statement_id,
                "outcome": r.outcome.value,
                "url": r.url,
                "version": r.version,
                "changes": r.changes,
                "title": r.title,
                "message": r.message,
            }
            for r in run.results
        ],
    }
