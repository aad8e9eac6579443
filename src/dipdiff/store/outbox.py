"""``.outbox/``: the messages a notification target has not received yet, kept until it does.

A failed delivery (the endpoint down, slow, answering 5xx) is kept here, one JSON file per run
and target, written atomically, and sent again by the next ``dipdiff run`` that has the target,
oldest first. The ``--webhook`` is the target ``webhook``; ``[notify]`` targets go by their
names. Only the message is kept, never the target's URL: the store is often committed to a
public repository, and a webhook or chat URL is usually a secret. One file per run, named by
the run's start time and a random part, so that two clones of a committed store never write
the same file.

A daily digest waits here too while its day lasts (``due``: the end of the day): each run adds
its part, and the first run after the day sends it, by the same rules.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dipdiff.errors import StoreError
from dipdiff.store.atomic import atomic_write, os_reason

OUTBOX = ".outbox"  # hidden: never a source's folder, whose names are [a-z0-9-]
WEBHOOK = "webhook"  # the target of --webhook (and of files kept before targets had names)


@dataclass(frozen=True)
class Undelivered:
    """One kept summary: its file, what to post, how often it failed and why, last time."""

    path: Path
    payload: dict[str, Any]
    attempts: int
    error: str
    target: str = WEBHOOK
    due: str = ""  # a digest still being gathered: not sent before this time


class Outbox:
    """The undelivered summaries of a store. The caller holds the store's lock to change it."""

    def __init__(self, store_root: Path) -> None:
        self.folder = store_root / OUTBOX

    def pending(self, target: str | None = None) -> tuple[list[Undelivered], list[str]]:
        """Every kept message (of ``target``), oldest first, and one line naming each damaged
        file (left alone)."""
        items: list[Undelivered] = []
        problems: list[str] = []
        if not self.folder.is_dir():
            return items, problems
        for path in sorted(self.folder.glob("*.json")):
            try:
                item = self._read(path)
            except StoreError as e:
                problems.append(str(e))
                continue
            if target is None or item.target == target:
                items.append(item)
        return items, problems

    def keep(
        self, payload: dict[str, Any], error: str, started_at: str, target: str = WEBHOOK
    ) -> Undelivered:
        """Keep a message that could not be delivered (``started_at``: its run's start)."""
        stamp = "".join(c for c in started_at if c.isalnum())
        path = self.folder / f"{stamp}-{secrets.token_hex(4)}.json"
        return self._write(Undelivered(path, payload, 1, error, target))

    def failed_again(self, item: Undelivered, error: str) -> Undelivered:
        return self._write(replace(item, attempts=item.attempts + 1, error=error))

    def gather(
        self, target: str, since: str, due: str, payload: dict[str, Any], items: list[Any]
    ) -> Undelivered:
        """Add ``items`` to ``target``'s digest of the period from ``since`` (sent at ``due``).

        Named by the period and the target, not at random: every run of the day adds to the
        same file.
        """
        stamp = "".join(c for c in since if c.isalnum())
        path = self.folder / f"{stamp}-digest-{target}.json"
        try:
            found: Undelivered | None = self._read(path) if path.exists() else None
        except StoreError:
            found = None  # damaged: named by pending(); this run starts the day's digest again
        if found is None:
            found = Undelivered(path, payload | {"items": []}, 0, "", target, due)
        gathered = {**found.payload, "items": [*found.payload.get("items", []), *items]}
        return self._write(replace(found, payload=gathered))

    def delivered(self, item: Undelivered) -> None:
        try:
            item.path.unlink(missing_ok=True)
            if not any(self.folder.iterdir()):
                self.folder.rmdir()
        except OSError as e:
            raise StoreError(str(item.path), f"cannot remove: {os_reason(e)}") from None

    def _write(self, item: Undelivered) -> Undelivered:
        doc = {
            "attempts": item.attempts,
            "error": item.error,
            "target": item.target,
            "payload": item.payload,
        }
        if item.due:
            doc["due"] = item.due
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
            str(doc.get("target") or WEBHOOK),
            str(doc.get("due") or ""),
        )
