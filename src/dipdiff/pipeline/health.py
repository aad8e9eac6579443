"""Source health: when each source last worked, when it last failed and why, and whether its
pages still extract to a statement.

A government site's redesign breaks its selectors silently: the pages still answer 200, but
extract to a title and nothing else (``blocked``: "body extracted to only 3 words"). After
:data:`EXTRACTION_BROKEN_AFTER` such pages in a row, newest first, the source's extraction is
"broken"; ``dipdiff run`` warns once, on the run that crosses the line (as Open Terms Archive
reports a tracking failure), and ``dipdiff sources`` shows it while it lasts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from dipdiff.clock import parse_timestamp
from dipdiff.errors import StoreError
from dipdiff.store.store import Store

EXTRACTION_BROKEN_AFTER = 3  # pages in a row with no body: one or two can be odd pages
_WORKED = frozenset({"new", "changed", "unchanged", "moved"})
_FAILED = frozenset({"unavailable", "blocked"})
# The recorder's notes for a page that answered but extracted to (almost) nothing.
_NO_BODY = ("body extracted to only", "no statement text")


@dataclass(frozen=True)
class SourceHealth:
    """One source, as its check history and run records tell it."""

    name: str
    statements: int  # statements with at least one stored version
    last_success: str | None
    last_failure: str | None
    failure_reason: str
    checks_last_day: int
    no_body_streak: int  # the latest pages in a row that extracted to no body

    @property
    def extraction_broken(self) -> bool:
        return self.no_body_streak >= EXTRACTION_BROKEN_AFTER

    def as_dict(self) -> dict[str, Any]:
        return {
            "statements": self.statements,
            "last_success": self.last_success,
            "last_failure": self.last_failure,
            "failure_reason": self.failure_reason,
            "checks_last_day": self.checks_last_day,
            "extraction_broken": self.extraction_broken,
            "no_body_streak": self.no_body_streak,
        }


def _no_body(check: dict[str, Any]) -> bool:
    return check.get("outcome") == "blocked" and str(check.get("note") or "").startswith(_NO_BODY)


def no_body_streak(checks: Iterable[dict[str, Any]]) -> int:
    """How many of the newest checks in a row extracted to no body (network failures, which say
    nothing about extraction, are passed over)."""
    streak = 0
    for c in sorted(checks, key=lambda c: str(c.get("time", "")), reverse=True):
        if _no_body(c):
            streak += 1
        elif c.get("outcome") in _WORKED or c.get("outcome") == "blocked":
            break
    return streak


def source_checks(store: Store, name: str) -> tuple[list[dict[str, Any]], int]:
    """Every check of the source's readable statements, and how many have a version."""
    checks: list[dict[str, Any]] = []
    stored = 0
    for sid in store.statement_ids():
        if sid.split("/", 1)[0] != name:
            continue
        try:
            checks += store.meta(sid).checks
            stored += bool(store.versions(sid))
        except StoreError:
            continue  # a damaged statement costs itself only; the run and verify name it
    return checks, stored


def source_health(store: Store, names: Sequence[str], now: str) -> list[SourceHealth]:
    """The health of each named source, from its check history and the run records."""
    day_ago = parse_timestamp(now) - timedelta(days=1)
    problems = [
        (run.finished_at or run.started_at, p) for run in store.runs() for p in run.problems
    ]
    out = []
    for name in names:
        checks, stored = source_checks(store, name)
        timed = [c for c in checks if c.get("time")]
        worked = [c["time"] for c in timed if c.get("outcome") in _WORKED]
        failures = [
            (c["time"], str(c.get("note") or c["outcome"]))
            for c in timed
            if c.get("outcome") in _FAILED
        ]
        failures += [(t, p.split(": ", 1)[-1]) for t, p in problems if p.startswith(f"{name}: ")]
        last_failure = max(failures, default=None, key=lambda f: parse_timestamp(f[0]))
        out.append(
            SourceHealth(
                name,
                stored,
                max(worked, default=None, key=parse_timestamp),
                last_failure[0] if last_failure else None,
                last_failure[1] if last_failure else "",
                sum(1 for c in timed if parse_timestamp(c["time"]) > day_ago),
                no_body_streak(timed),
            )
        )
    return out


def newly_broken(store: Store, names: Sequence[str], since: str) -> list[tuple[str, int]]:
    """Sources whose extraction became broken with the checks from ``since`` on: (name, pages).

    Only the run that crosses the line reports it; the runs after it stay quiet.
    """
    start = parse_timestamp(since)
    out = []
    for name in names:
        checks = [c for c in source_checks(store, name)[0] if c.get("time")]
        before = [c for c in checks if parse_timestamp(c["time"]) < start]
        now_streak = no_body_streak(checks)
        if now_streak >= EXTRACTION_BROKEN_AFTER > no_body_streak(before):
            out.append((name, now_streak))
    return out
