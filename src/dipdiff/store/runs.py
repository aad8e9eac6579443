"""``runs.json``: one entry per ``dipdiff run`` (start, finish, status, counts)."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dipdiff.errors import StoreError
from dipdiff.store.atomic import atomic_write

MAX_RUNS = 1000  # entries kept in runs.json


@dataclass
class RunRecord:
    """One entry of ``runs.json``."""

    id: str
    started_at: str
    finished_at: str | None = None
    status: str = "running"  # running | complete | failed | interrupted
    counts: dict[str, Any] = field(default_factory=dict[str, Any])
    problems: list[str] = field(default_factory=list)


class RunLog:
    """``runs.json`` says what "a run" was: when each ``dipdiff run`` started and finished, and
    whether it completed. The caller holds the store's lock for :meth:`begin` and :meth:`end`."""

    def __init__(
        self, path: Path, reads: Counter[str] | None = None, *, keep: bool = False
    ) -> None:
        self.path = path
        self.reads = reads if reads is not None else Counter()
        # keep: the caller holds the store, so the file is read once and our writes are the truth.
        self._keep = keep
        self._text: str | None = None

    def runs(self) -> list[RunRecord]:
        """The recorded runs, oldest first (empty when no ``dipdiff run`` ever ran here)."""
        return [RunRecord(**r) for r in self._doc()["runs"]]

    def store_uid(self) -> str | None:
        """A random identity given to the store by its first run (stable feed ids)."""
        return self._doc().get("store")

    def begin(self, started_at: str) -> tuple[RunRecord, list[RunRecord]]:
        """Record a run as started; returns it and the earlier runs found interrupted.

        Holding the lock proves that no other run is alive, so a ``running`` entry
        left in the log is a run that was killed: it is marked ``interrupted``.
        """
        doc = self._doc()
        runs = [RunRecord(**r) for r in doc["runs"]]
        interrupted = [r for r in runs if r.status == "running"]
        for r in interrupted:
            r.status = "interrupted"
        taken = {r.id for r in runs}
        run_id, n = started_at, 1
        while run_id in taken:  # two runs in one second (an injected clock)
            n += 1
            run_id = f"{started_at}-{n}"
        record = RunRecord(id=run_id, started_at=started_at)
        self._write(doc.get("store") or uuid.uuid4().hex, [*runs, record])
        return record, interrupted

    def end(self, record: RunRecord) -> None:
        """Replace the log entry of ``record`` (by id) with its final state."""
        doc = self._doc()
        runs = [RunRecord(**r) for r in doc["runs"]]
        runs = [record if r.id == record.id else r for r in runs]
        if record.id not in {r.id for r in runs}:
            runs.append(record)
        self._write(doc.get("store") or uuid.uuid4().hex, runs)

    def _read(self) -> str:
        if self._text is not None:
            return self._text
        self.reads["runs"] += 1
        text = self.path.read_text(encoding="utf-8")
        if self._keep:
            self._text = text
        return text

    def _doc(self) -> dict[str, Any]:
        try:
            doc = json.loads(self._read())
        except FileNotFoundError:
            return {"runs": []}
        except (ValueError, UnicodeDecodeError) as e:
            raise StoreError(str(self.path), f"corrupt runs log ({e.__class__.__name__})") from None
        except OSError as e:
            raise StoreError(str(self.path), f"cannot read: {e.strerror}") from None
        fields = set(RunRecord.__dataclass_fields__)
        if (
            not isinstance(doc, dict)
            or not isinstance(doc.get("runs"), list)
            or not all(
                isinstance(r, dict) and {"id", "started_at"} <= set(r) <= fields
                for r in doc["runs"]
            )
        ):
            raise StoreError(str(self.path), "corrupt runs log (unexpected structure)")
        return doc

    def _write(self, uid: str, runs: list[RunRecord]) -> None:
        doc = {"store": uid, "runs": [asdict(r) for r in runs[-MAX_RUNS:]]}
        text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
        self._text = None  # a failed write leaves the file as it was: read it again
        atomic_write(self.path, text.encode())
        if self._keep:
            self._text = text
