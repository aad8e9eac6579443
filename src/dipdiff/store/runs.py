"""``runs.json``: one entry per ``dipdiff run`` (start, finish, status, counts)."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_RUNS = 1000  # entries kept in runs.json


@dataclass
class RunRecord:
    """One entry of ``runs.json``."""

    id: str
    started_at: str
    finished_at: str | None = None
    status: str = "running"  # running | complete | failed | interrupted
    counts: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
