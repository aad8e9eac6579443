"""``dipdiff snapshot`` and ``import``: one page into the store, fetched now or saved earlier."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dipdiff.clock import parse_timestamp, utc_timestamp
from dipdiff.config import ExtractRules, Schedule
from dipdiff.errors import InputError
from dipdiff.models import Page, SnapshotResult
from dipdiff.pipeline.load import read_file
from dipdiff.pipeline.record import Recorder
from dipdiff.scrape.charset import decode_html
from dipdiff.store.store import Store


def snapshot_url(
    store: Store,
    fetcher: Callable[[str], Page],
    url: str,
    *,
    source: str | None = None,
    agency: str | None = None,
    rules: ExtractRules | None = None,
    lock_wait: float = 0.0,
    schedule: Schedule | None = None,
) -> SnapshotResult:
    """Fetch one URL and record it, by the rules of every recorded page.

    See :mod:`dipdiff.pipeline.record`; ``schedule`` gives the flap window (flapping counts the
    checks within it). A fetch failure raises
    :class:`FetchError` (nothing stored).
    """
    page = fetcher(url)
    with store.lock(wait=lock_wait):
        return Recorder(store, schedule or Schedule()).capture(
            page, source=source, agency=agency, rules=rules
        )


def import_file(
    store: Store,
    path: Path,
    url: str,
    *,
    fetched_at: str,
    source: str | None = None,
    agency: str | None = None,
    lock_wait: float = 0.0,
    schedule: Schedule | None = None,
) -> SnapshotResult:
    """Store a saved HTML page (archive copy, Wayback capture) as if fetched at ``fetched_at``.

    An older capture takes its place in the statement's history; the rules are those of
    every recorded page (:mod:`dipdiff.pipeline.record`)."""
    if not url.lower().startswith(("http://", "https://")):
        raise InputError(f"--url must be an http(s) URL, not {url!r}")
    content = read_file(path)
    page = Page(
        url=url,
        final_url=url,
        status=200,
        content=content,
        text=decode_html(content),
        content_type="text/html",
        fetched_at=utc_timestamp(parse_timestamp(fetched_at)),
    )
    with store.lock(wait=lock_wait):
        return Recorder(store, schedule or Schedule()).capture(
            page, source=source, agency=agency, archived=True
        )
