"""Statement IDs (``<source>/<slug>[@N]``) and the slugs and source names derived from URLs."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

from dipdiff.errors import InputError
from dipdiff.text import slugify

_ID_PART = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
_STATEMENT_ID = re.compile(r"^(?P<sid>[^@\s]+)(?:@(?P<n>-?\d+))?$")


def parse_ref(ref: str) -> tuple[str, int | None]:
    """Split ``source/slug@N`` into the statement ID and the version number (or None)."""
    sid, n = split_ref(ref)
    if not valid_id(sid):
        raise InputError(f"not a statement ID: {ref!r} (expected <source>/<slug>[@N])")
    return sid, n


def split_ref(ref: str) -> tuple[str, int | None]:
    """``text@N`` as (text, N); ``text`` alone as (text, None). Nothing is checked."""
    m = _STATEMENT_ID.match(ref)
    if not m:
        return ref, None
    n = m.group("n")
    return m.group("sid"), (int(n) if n is not None else None)


def valid_id(sid: str) -> bool:
    parts = sid.split("/")
    return len(parts) == 2 and all(_ID_PART.match(p) for p in parts)


def source_for_url(url: str) -> str:
    """Default source name for a URL: its host without ``www.`` (``state-gov``)."""
    host = (urlsplit(url).hostname or "local").removeprefix("www.")
    return slugify(host, 60)


def slug_for_url(url: str) -> str:
    """A readable slug from the URL's last meaningful path segment."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    while segments and re.fullmatch(r"(index|default)(\.\w+)?", segments[-1], re.IGNORECASE):
        segments.pop()
    if segments:
        last = re.sub(r"\.(s?html?|php|aspx?|jsp)$", "", segments[-1], flags=re.IGNORECASE)
        if len(last) < 12 and len(segments) > 1:  # "/2019/04/07/" or "sc1234": add context
            last = segments[-2] + "-" + last
        base = last
    else:
        base = ""
    if parts.query:
        base = (base + "-" + parts.query) if base else parts.query
    return slugify(base or (parts.hostname or "statement"), 80)


def hashed_slug(slug: str, url: str) -> str:
    return f"{slug[:71]}-{hashlib.sha1(url.encode('utf-8'), usedforsecurity=False).hexdigest()[:8]}"
