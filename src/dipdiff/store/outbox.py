"""``.outbox/``: the run summaries a webhook has not received yet, kept until it does.

A failed delivery (the endpoint down, slow, answering 5xx) is kept here, one JSON file per run,
written atomically, and sent again by the next ``dipdiff run`` that has a webhook, oldest first.
Only the summary is kept, never the webhook's URL: the store is often committed to a public
repository, and a webhook URL is usually a secret. One file per run, named by the run's start
time and a random part, so that two clones of a committed store never write the same file.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dipdiff.errors import StoreError
from dipdiff.store.atomic import atomic_write, os_reason

OUTBOX = ".outbox"  # hidden: never a source's folder, whose names are [a-z0-9-]


@dataclass(frozen=True)
class Undelivered:
    """One kept summary: its file, what to post, how often it failed and why, last time."""

    path: Path
    payload: dict[str, Any]
    attempts: int
    error: str


class Outbox:
    """The undelivered summaries of a store. The caller holds the store's lock to change it."""

    def __init__(self, store_root: Path) -> None:
        self.folder = store_root / OUTBOX

    def pending(self) -> tuple[list[Undelivered], list[str]]:
        """Every kept summary, oldest first, and one line naming each damaged file (left alone)."""
        items: list[Undelivered] = []
        problems: list[str] = []
        if not self.folder.is_dir():
            return items, problems
        for path in sorted(self.folder.glob("*.json")):
            try:
                items.append(self._read(path))
            except StoreError as e:
                problems.append(str(e))
        return items, problems

    def keep(self, payload: dict[str, Any], error: str, started_at: str) -> Undelivered:
        """Keep a summary that could not be delivered (``started_at``: its run's start)."""
        stamp = "".join(c for c in started_at if c.isalnum())
        path = self.folder / f"{stamp}-{secrets.token_hex(4)}.json"
        return self._write(Undelivered(path, payload, 1, error))

    def failed_again(self, item: Undelivered, error: str) -> Undelivered:
        return self._write(Undelivered(item.path, item.payload, item.attempts + 1, error))

    def delivered(self, item: Undelivered) -> None:
        try:
            item.path.unlink(missing_ok=True)
            if not any(self.folder.iterdir()):
                self.folder.rmdir()
        except OSError as e:
            raise StoreError(str(item.path), f"cannot remove: {os_reason(e)}") from None

    def _write(self, item: Undelivered) -> Undelivered:
        doc = {"attempts": item.attempts, "error": item.error, "payload": item.payload}
        atomic_write(item.path, (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode())
        return item

    @staticmethod
    def _read(path: Path) -> Undelivered:
        try:
            doc = json.loads(path.read_bytes().decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise StoreError(
                str(path), f"corrupt undelivered webhook summary ({e.__class__.__name__})"
            ) from None
        except OSError as e:
            raise StoreError(str(path), f"cannot read: {os_reason(e)}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("payload"), dict):
            raise StoreError(str(path), "corrupt undelivered webhook summary (no payload)")
        attempts = doc.get("attempts")
        return Undelivered(
            path,
            doc["payload"],
            attempts if isinstance(attempts, int) else 1,
            str(doc.get("error", "")),
        )
