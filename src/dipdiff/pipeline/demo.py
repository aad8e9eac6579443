"""``dipdiff demo``: the whole product offline, on bundled sample pages.

An embedded server on 127.0.0.1 plays the part of two government sites. Day 1
it serves the original statements; day 2 it serves a silently edited State
Department statement, a White House readout whose only differences are
invisible ones, and a statement that is new.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from dipdiff.analyse.diff import DiffResult
from dipdiff.errors import InputError
from dipdiff.models import Outcome, SnapshotResult
from dipdiff.pipeline.server import LocalServer, Response

MARKER = ".dipdiff-demo"


@dataclass(frozen=True)
class DemoPage:
    path: str
    source: str
    agency: str
    files: dict[str, str | None]  # day -> bundled file name (None: not published yet)


PAGES = (
    DemoPage(
        "/releases/office-of-the-spokesperson/2019/04/the-situation-in-libya/",
        "state-dept",
        "U.S. Department of State",
        {"day1": "state-libya.day1.html", "day2": "state-libya.day2.html"},
    ),
    DemoPage(
        "/briefings-statements/2019/04/statement-from-the-press-secretary-libya/",
        "white-house",
        "The White House",
        {"day1": "whitehouse-haftar.day1.html", "day2": "whitehouse-haftar.day2.html"},
    ),
    DemoPage(
        "/releases/office-of-the-spokesperson/2019/04/secretary-pompeos-call-with-un-special-representative-salame/",
        "state-dept",
        "U.S. Department of State",
        {"day1": None, "day2": "state-readout.day2.html"},
    ),
)

DAYS = {"day1": "2019-04-20T09:00:00Z", "day2": "2019-04-21T09:00:00Z"}

# The cross-agency step: the State statement as first published, and the White House readout.
COMPARE = (
    "state-dept/the-situation-in-libya@1",
    "white-house/statement-from-the-press-secretary-libya",
)


def page_bytes(name: str) -> bytes:
    return resources.files("dipdiff").joinpath("data", "demo", name).read_bytes()


def prepare_dir(folder: Path) -> None:
    """Make ``folder`` a fresh demo folder; never delete anything that is not an old demo."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise InputError(
                f"{folder}: exists and is not a dipdiff demo folder; choose another --dir"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("created by `dipdiff demo`; safe to delete\n", encoding="utf-8")


def serve_day(server: LocalServer, day: str) -> list[DemoPage]:
    """Point the server's routes at one day's pages; returns the pages published that day."""
    published = []
    for p in PAGES:
        name = p.files[day]
        server.set(p.path, Response(page_bytes(name)) if name else Response(b"Not found", 404))
        if name:
            published.append(p)
    return published


def changed_diffs(results: list[SnapshotResult]) -> list[tuple[SnapshotResult, DiffResult]]:
    """The changes among ``results``, with the diffs the recorder computed when it stored them."""
    return [(r, r.diff) for r in results if r.outcome is Outcome.CHANGED and r.diff is not None]
