"""Where each page of the static site lives: one function per kind of page, and the permalink.

The site (``dipdiff site``) writes every page at the path given here, and anything that links
to it — the site's own pages, notifications, reports — asks here, so that a link and the page
it names cannot drift apart. Paths are relative to the site's root and end in ``/`` (the
page is that folder's ``index.html``). Statement IDs are ``[a-z0-9-]`` slugs, so they are
safe in a URL as they are; the site's own pages live under names that start with ``_``,
which no source or slug can.
"""

from __future__ import annotations

import hashlib

ASSETS = "_assets/"
SEARCH = "_search/"
SEARCH_INDEX = "_search/index.json"
FEED = "feed.xml"


def agency_path(source: str) -> str:
    """The page of one source (an agency, or one of its feeds): its statements."""
    return f"{source}/"


def statement_path(sid: str) -> str:
    """The page of one statement: its timeline, current text and check history."""
    return f"{sid}/"


def version_path(sid: str, number: int) -> str:
    """The permalink of version ``number`` of a statement: its text and provenance."""
    return f"{sid}/v/{number}/"


def diff_path(sid: str, a: int, b: int) -> str:
    """The permalink of the redline from version ``a`` to version ``b``."""
    return f"{sid}/diff/{a}..{b}/"


def event_key(a_id: str, b_id: str) -> str:
    """A short stable name for the pair of statements an event page compares (order-free)."""
    first, second = sorted((a_id, b_id))
    return hashlib.sha256(f"{first}\n{second}".encode()).hexdigest()[:12]


def event_path(a_id: str, b_id: str) -> str:
    """The page of one event: two agencies' statements about it, compared."""
    return f"_events/{event_key(a_id, b_id)}/"


def feed_path(page: str = "") -> str:
    """The Atom feed beside a page (``""``: the site's; an agency's or a statement's path)."""
    return f"{page}{FEED}"


def permalink(
    base_url: str,
    sid: str,
    *,
    version: int | None = None,
    diff: tuple[int, int] | None = None,
) -> str:
    """The public URL of a statement's page, of one of its versions, or of a redline.

    ``base_url`` is where the site is published (``https://example.org/archive/``);
    notifications and reports link here when a site is built.
    """
    if diff is not None:
        path = diff_path(sid, *diff)
    elif version is not None:
        path = version_path(sid, version)
    else:
        path = statement_path(sid)
    return base_url.rstrip("/") + "/" + path
