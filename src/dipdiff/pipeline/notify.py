"""Telling the webhook and the ``[notify]`` targets what a run found, and not losing it.

One mechanism for every target: what a target could not receive is kept in the store's outbox
(:mod:`dipdiff.store.outbox`) and sent by the next run that has the target, oldest first, before
its own. Delivery stops at the first failure: an endpoint that is down or slow costs one request
(one deadline) per run, not one per kept message.

A ``[notify]`` target gets the items (the run's events, as recorded, and its divergences) that
pass its rules: kinds, minimum significance, sources, agencies. Nothing passes, nothing is sent.
``digest = "daily"`` gathers a day's items in the outbox, and the first run of a later day sends
them as one message; the digest is made of items, so a step that merges the events of several
runs (sharded runs) gathers and sends it the same way (:func:`notify_targets`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from dipdiff.analyse.diff import diff_statements
from dipdiff.clock import parse_timestamp
from dipdiff.config import NOTIFY_KINDS, NotifyTarget
from dipdiff.errors import DipdiffError, FetchError
from dipdiff.models import SIG_RANK, Event, Statement, StatementRef
from dipdiff.render.notification import event_item, render_message
from dipdiff.scrape.notifiers import Channel
from dipdiff.store.outbox import WEBHOOK, Outbox, Undelivered
from dipdiff.store.store import Store

Post = Callable[[dict[str, Any]], object]  # POSTs one summary; raises DipdiffError when it fails


@dataclass(frozen=True)
class Targets:
    """The ``[notify]`` targets of a run, each with its channel, and where reports are read."""

    targets: tuple[NotifyTarget, ...]
    channels: Mapping[str, Channel]
    report_url: str = ""  # [reports] base_url: messages link to the report's sections
    site_url: str = ""  # [site] base_url: ... or to the site's pages


@dataclass(frozen=True)
class Delivery:
    """What a run told its webhook: how many summaries arrived, how many wait, and why."""

    delivered: int = 0
    kept: int = 0  # summaries in the outbox after this run
    error: str | None = None  # why the webhook did not get them (one line)
    problems: tuple[str, ...] = ()  # damaged outbox files, named
    outbox_changed: bool = False  # a file kept or removed: something for --commit to commit


def deliver(
    store: Store,
    post: Post,
    payload: dict[str, Any] | None,
    started_at: str,
    *,
    target: str = WEBHOOK,
    now: str = "",
) -> Delivery:
    """Send ``target``'s kept messages (digests once ``now`` is past their day), then ``payload``
    (this run's, or None); keep what was not sent.

    The caller holds the store's lock.
    """
    outbox = Outbox(store.root)
    kept, problems = outbox.pending(target)
    waiting = [w for w in kept if not w.due or (now and _after(now, w.due))]
    queue: list[Undelivered | dict[str, Any]] = [*waiting]
    if payload is not None:
        queue.append(payload)
    delivered = 0
    for i, item in enumerate(queue):
        try:
            post(item.payload if isinstance(item, Undelivered) else item)
        except DipdiffError as e:
            # The reason without the URL, which is usually a secret and never kept in the store.
            reason = e.reason if isinstance(e, FetchError) else str(e)
            _keep(outbox, queue[i:], reason, started_at, target)
            return Delivery(delivered, len(queue) - i, str(e), tuple(problems), True)
        if isinstance(item, Undelivered):
            outbox.delivered(item)
        delivered += 1
    return Delivery(delivered, 0, None, tuple(problems), bool(waiting))


def _after(now: str, due: str) -> bool:
    return parse_timestamp(now) >= parse_timestamp(due)


def _keep(
    outbox: Outbox,
    rest: list[Undelivered | dict[str, Any]],
    error: str,
    started_at: str,
    target: str,
) -> None:
    """The first of ``rest`` was tried and failed; the others wait their turn untried."""
    for n, item in enumerate(rest):
        if not isinstance(item, Undelivered):
            outbox.keep(item, error, started_at, target)
        elif n == 0:
            outbox.failed_again(item, error)


def passes(target: NotifyTarget, item: Mapping[str, Any]) -> bool:
    """Does the item pass the target's rules (kind, significance, source, agency)?"""
    wanted = {kind for k in target.kinds for kind in NOTIFY_KINDS[k]}
    if item["kind"] not in wanted:
        return False
    if target.sources and not set(item["sources"]) & set(target.sources):
        return False
    if target.agencies and not set(item["agencies"]) & set(target.agencies):
        return False
    if item["kind"] in ("changed", "restored"):  # an edit or a restore: how much it changed
        return SIG_RANK[item.get("significance", "cosmetic")] <= SIG_RANK[target.min_significance]
    return True


def sender(channel: Channel, target: NotifyTarget) -> Post:
    """Render a kept or new payload for the channel's services, then send it."""

    def post(payload: dict[str, Any]) -> None:
        title, body = render_message(
            payload,
            markdown=channel.markdown,
            body_max=channel.body_max,
            title_max=channel.title_max,
            min_significance=target.min_significance,
        )
        channel.send(title, body, payload)

    return post


def notify_targets(
    store: Store,
    targets: Sequence[NotifyTarget],
    channels: Mapping[str, Channel],
    items: Sequence[dict[str, Any]],
    *,
    period: str,
    started_at: str,
    now: str,
) -> dict[str, Delivery]:
    """Each target gets the items that pass its rules: now (``digest = "run"``) or gathered into
    the day's digest, sent by the first run after the day; and what it missed before.

    ``period`` names the run in a run's message. The caller holds the store's lock.
    """
    outbox = Outbox(store.root)
    day = parse_timestamp(now).date()
    out: dict[str, Delivery] = {}
    for target in targets:
        passing = [it for it in items if passes(target, it)]
        payload = None
        gathered = target.digest == "daily" and bool(passing)
        if gathered:
            outbox.gather(target.name, *_day_bounds(day), _payload("daily", str(day)), passing)
        elif passing:
            payload = _payload("run", period) | {"items": passing}
        post = sender(channels[target.name], target)
        d = deliver(store, post, payload, started_at, target=target.name, now=now)
        out[target.name] = replace(d, outbox_changed=True) if gathered else d
    return out


def _payload(digest: str, period: str) -> dict[str, Any]:
    return {"event": "dipdiff.notify", "digest": digest, "period": period}


def _day_bounds(day: date) -> tuple[str, str]:
    return f"{day.isoformat()}T00:00:00Z", f"{(day + timedelta(days=1)).isoformat()}T00:00:00Z"


def test_payload() -> dict[str, Any]:
    """A sample message for ``dipdiff notify --test``: one edit, as a real run would send it."""
    a = Statement(
        "The Situation in Libya",
        ("We urge the immediate halt to these military operations against the Libyan capital.",),
        agency="U.S. Department of State",
    )
    b = Statement(a.title, ("We call for a halt to these military operations.",), agency=a.agency)
    ref = StatementRef("state-dept/the-situation-in-libya", a.title, "", a.agency, 2)
    event = Event("changed", ref, "", a_version=1, diff=diff_statements(a, b))
    return _payload("run", "test") | {"test": True, "items": [event_item(event)]}
