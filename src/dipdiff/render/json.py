"""The JSON contracts: ``diff``, ``compare``, ``related``, ``divergences``, the fetch run summary.

Fields are only ever added, never renamed or dropped: scripts and other tools rely on them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dipdiff.models import Origin, Outcome, RunResult, Statement

#: One side of a diff or a comparison: where it comes from, or (older callers) its version.
Side = Origin | int | None

if TYPE_CHECKING:  # types only: importing the engines costs start-up time
    from dipdiff.analyse.compare import Comparison
    from dipdiff.analyse.diff import DiffResult
    from dipdiff.analyse.related import DivergentPair, Related


def compare_doc(c: Comparison, a: Side = None, b: Side = None) -> dict[str, Any]:
    """The compare JSON contract.

    Fields: ``a``, ``b``, ``similarity``, ``shared``, ``only_a``, ``only_b``, ``actors``,
    ``divergent``, ``score``, ``alignment``.
    """
    return {
        "a": {**statement_meta(c.a, a), **_language(c, 0)},
        "b": {**statement_meta(c.b, b), **_language(c, 1)},
        "similarity": c.similarity,
        "shared": [
            {
                "a": s.a,
                "b": s.b,
                "similarity": s.similarity,
                "match": s.match,
                "changes": [ch.to_json() for ch in s.changes],
                "differences": [d.to_json() for d in s.differences],
            }
            for s in c.shared
        ],
        "only_a": list(c.only_a),
        "only_b": list(c.only_b),
        "actors": [x.to_json() for x in c.actors],
        "divergent": c.divergent,
        "score": c.score,
        "alignment": c.alignment,
    }


def compare_json(c: Comparison, a: Side = None, b: Side = None) -> str:
    return json.dumps(compare_doc(c, a, b), indent=2, ensure_ascii=False) + "\n"


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


def divergence_doc(d: DivergentPair) -> dict[str, Any]:
    """One item of the ``divergences --json`` array: a divergent pair."""
    return {
        "a": statement_meta(d.a.statement, Origin(d.a.id, d.a.version)),
        "b": statement_meta(d.b.statement, Origin(d.b.id, d.b.version)),
        "score": d.score,
        "related_score": d.related_score,
        "actors": [x.to_json() for x in d.actors],
    }


def statement_meta(s: Statement, side: Side = None) -> dict[str, Any]:
    """The ``a``/``b`` object of the diff and compare JSON contracts.

    ``id`` and ``fetched_at`` (the statement's ID and the version's capture time) are null for
    a file; a page fetched now has its time.
    """
    origin = Origin(version=side) if isinstance(side, int) else side or Origin()
    return {
        "title": s.title,
        "url": s.url,
        "agency": s.agency,
        "published": s.published,
        "version": origin.version,
        "words": s.words,
        "id": origin.id,
        "fetched_at": origin.fetched_at,
    }


def diff_json(result: DiffResult, a: Side = None, b: Side = None) -> str:
    """The diff JSON contract.

    Fields: ``a``, ``b`` (each with its ``language``, ISO 639-1), ``similarity``, ``changes``,
    ``summary``, ``granularity``.
    """
    from dipdiff.analyse.language import language_of  # lazy: a 4 MB model, for this only

    doc = {
        "a": {**statement_meta(result.a, a), "language": language_of(result.a)},
        "b": {**statement_meta(result.b, b), "language": language_of(result.b)},
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
                "event": r.event.kind if r.event else None,
                "change_note": r.check.change_note if r.check else None,
                "undisclosed_edit": bool(r.event and r.event.undisclosed),
            }
            for r in run.results
        ],
    }
