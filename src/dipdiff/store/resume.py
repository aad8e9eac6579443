"""Where a backfill stopped: one small file per statement URL and archive, in ``.backfill/``.

A backfill that the archive stopped (repeated 429s) or that ``--limit`` cut short goes on
from here next time, instead of asking again for captures it has read. One file per URL, so
that two copies of the store that backfilled different statements merge without a conflict.
Written atomically; a damaged file only costs the shortcut (the next backfill starts over,
and the captures already recorded are recognised in the statement's checks).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from dipdiff.store.atomic import atomic_write

RESUME_DIR = ".backfill"


@dataclass(frozen=True)
class ResumeState:
    url: str
    archive: str
    through: str  # the archive timestamp of the last capture read, in capture order
    complete: bool  # every capture listed then was read
    start: str = ""  # where the window read began (archive timestamp; "": the first capture)


def _path(root: Path, archive: str, url: str) -> Path:
    key = hashlib.sha256(f"{archive.rstrip('/')}\n{url}".encode()).hexdigest()[:24]
    return root / RESUME_DIR / f"{key}.json"


def read_state(root: Path, archive: str, url: str) -> ResumeState | None:
    """The state a backfill of ``url`` from ``archive`` left, None if none (or unreadable)."""
    try:
        data = json.loads(_path(root, archive, url).read_text(encoding="utf-8"))
        state = ResumeState(
            str(data["url"]),
            str(data["archive"]),
            str(data["through"]),
            bool(data["complete"]),
            str(data.get("start", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state if state.url == url else None


def write_state(root: Path, state: ResumeState) -> None:
    text = json.dumps(asdict(state), indent=2, sort_keys=True) + "\n"
    atomic_write(_path(root, state.archive, state.url), text.encode("utf-8"))
