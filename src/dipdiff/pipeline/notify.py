"""Telling a webhook what a run found, and not losing it when the webhook is down.

The summaries a webhook could not receive are kept in the store's outbox
(:mod:`dipdiff.store.outbox`) and sent by the next run that has a webhook, oldest first, before
its own. Delivery stops at the first failure: an endpoint that is down or slow costs one request
(one deadline) per run, not one per kept summary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dipdiff.errors import DipdiffError, FetchError
from dipdiff.store.outbox import Outbox, Undelivered
from dipdiff.store.store import Store

Post = Callable[[dict[str, Any]], object]  # POSTs one summary; raises DipdiffError when it fails


@dataclass(frozen=True)
class Delivery:
    """What a run told its webhook: how many summaries arrived, how many wait, and why."""

    delivered: int = 0
    kept: int = 0  # summaries in the outbox after this run
    error: str | None = None  # why the webhook did not get them (one line)
    problems: tuple[str, ...] = ()  # damaged outbox files, named
    outbox_changed: bool = False  # a file kept or removed: something for --commit to commit


def deliver(store: Store, post: Post, payload: dict[str, Any] | None, started_at: str) -> Delivery:
    """Send the kept summaries, then ``payload`` (this run's, or None); keep what was not sent.

    The caller holds the store's lock.
    """
    outbox = Outbox(store.root)
    waiting, problems = outbox.pending()
    queue: list[Undelivered | dict[str, Any]] = [*waiting]
    if payload is not None:
        queue.append(payload)
    delivered = 0
    for i, item in enumerate(queue):
        try:
            post(item.payload if isinstance(item, Undelivered) else item)
        except DipdiffError as e:
            # The reason without the URL, which is usually a secret and never kept in the store.
            _keep(outbox, queue[i:], e.reason if isinstance(e, FetchError) else "", started_at)
            return Delivery(delivered, len(queue) - i, str(e), tuple(problems), True)
        if isinstance(item, Undelivered):
            outbox.delivered(item)
        delivered += 1
    return Delivery(delivered, 0, None, tuple(problems), bool(waiting))


def _keep(
    outbox: Outbox, rest: list[Undelivered | dict[str, Any]], error: str, started_at: str
) -> None:
    """The first of ``rest`` was tried and failed; the others wait their turn untried."""
    for n, item in enumerate(rest):
        if not isinstance(item, Undelivered):
            outbox.keep(item, error, started_at)
        elif n == 0:
            outbox.failed_again(item, error)
