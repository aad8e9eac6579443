"""The Wayback Machine's two formats, pure: CDX query results and memento addresses.

A CDX query (``{archive}/cdx/search/cdx?url=...``) lists a URL's captures, one per row:
``urlkey timestamp original mimetype statuscode digest length``. dipdiff asks for
``output=json`` (a list of rows, the first the field names) and reads the space-separated
form too, as mirrors answer it. With ``showResumeKey=true`` a page of results that is not
the last ends with an empty row and then a row holding the key that asks for the next page.
A capture's original bytes are at ``{archive}/web/{timestamp}id_/{url}`` (``id_``: as
archived, without the archive's toolbar or rewritten links).

The HTTP is done by :class:`dipdiff.scrape.http.Fetcher` (one rate limiter for a run), so EDGI's
``wayback`` library, which brings its own ``requests`` session, is not used: the format is small.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from dipdiff.errors import FetchError

FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
#: Rows asked for per CDX page: few queries (the expensive call), bounded answers.
PAGE_SIZE = 1000
_MEMENTO = re.compile(r"/web/(\d{14})[a-z]{0,2}_?/(.+)$")


@dataclass(frozen=True)
class Capture:
    """One row of a CDX answer: a capture of ``original`` at ``timestamp`` (14 digits, UTC)."""

    timestamp: str
    original: str
    mimetype: str
    status: str  # "200", "302", ... or "-" (a revisit record: same bytes as an earlier capture)
    digest: str  # of the raw bytes, as the archive computed it

    @property
    def time(self) -> datetime:
        return parse_wayback_time(self.timestamp)


@dataclass(frozen=True)
class CdxPage:
    captures: tuple[Capture, ...]
    resume_key: str | None  # None: the last page


def wayback_time(when: datetime) -> str:
    """A time as the archive writes it: ``20190407123000``."""
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def parse_wayback_time(stamp: str) -> datetime:
    """``20190407123000`` as a UTC time."""
    try:
        return datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"not a Wayback timestamp: {stamp!r}") from None


def cdx_query(
    archive: str,
    url: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    resume_key: str | None = None,
    limit: int = PAGE_SIZE,
) -> str:
    """The CDX query for one page of ``url``'s captures (exact URL, HTTP 200, one row per digest
    run: the filters only cut the work; dipdiff decides what is distinct by the text)."""
    params: list[tuple[str, str]] = [
        ("url", url),
        ("matchType", "exact"),
        ("output", "json"),
        ("filter", "statuscode:200"),
        ("collapse", "digest"),
        ("showResumeKey", "true"),
        ("limit", str(limit)),
    ]
    if start is not None:
        params.append(("from", wayback_time(start)))
    if end is not None:
        params.append(("to", wayback_time(end)))
    if resume_key:
        params.append(("resumeKey", resume_key))
    return f"{archive.rstrip('/')}/cdx/search/cdx?{urlencode(params)}"


def memento_url(archive: str, capture: Capture) -> str:
    """Where the capture's original bytes are (``id_``: no toolbar, no rewritten links)."""
    return f"{archive.rstrip('/')}/web/{capture.timestamp}id_/{capture.original}"


def memento_of(url: str) -> tuple[str, str] | None:
    """(timestamp, original URL) of a memento address, None if ``url`` is not one."""
    m = _MEMENTO.search(urlsplit(url)._replace(scheme="", netloc="").geturl())
    if not m:
        return None
    return m.group(1), m.group(2)


def parse_cdx(body: str, where: str) -> CdxPage:
    """One page of a CDX answer, JSON or space-separated; a malformed one is a FetchError."""
    text = body.strip()
    if not text:
        return CdxPage((), None)
    if text.startswith("["):
        return _parse_json(text, where)
    return _parse_lines(body, where)


def _parse_json(text: str, where: str) -> CdxPage:
    try:
        rows = json.loads(text)
    except ValueError as e:
        raise FetchError(where, f"not a CDX answer (bad JSON: {e})", transient=False) from None
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise FetchError(where, "not a CDX answer (expected a list of rows)", transient=False)
    if not rows:
        return CdxPage((), None)
    names = [str(n) for n in rows[0]]
    missing = [f for f in ("timestamp", "original", "statuscode", "digest") if f not in names]
    if missing:
        raise FetchError(where, f"CDX answer lacks {', '.join(missing)}", transient=False)
    resume: str | None = None
    body = rows[1:]
    if len(body) >= 2 and body[-2] == [] and len(body[-1]) == 1:
        resume, body = str(body[-1][0]), body[:-2]
    captures = []
    for row in body:
        if len(row) != len(names):
            raise FetchError(where, f"CDX row of {len(row)} fields: {row!r}"[:200], transient=False)
        captures.append(_capture(dict(zip(names, (str(v) for v in row), strict=True)), where))
    return CdxPage(tuple(captures), resume)


def _parse_lines(body: str, where: str) -> CdxPage:
    lines = body.rstrip("\n").split("\n")
    resume: str | None = None
    if len(lines) >= 2 and lines[-2].strip() == "" and len(lines[-1].split()) == 1:
        resume, lines = lines[-1].strip(), lines[:-2]
    captures = []
    for line in lines:
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) < len(FIELDS):
            raise FetchError(
                where, f"CDX line of {len(parts)} fields: {line!r}"[:200], transient=False
            )
        captures.append(_capture(dict(zip(FIELDS, parts, strict=False)), where))
    return CdxPage(tuple(captures), resume)


def _capture(row: dict[str, str], where: str) -> Capture:
    stamp = row["timestamp"]
    if not re.fullmatch(r"\d{14}", stamp):
        raise FetchError(where, f"CDX timestamp {stamp!r} is not 14 digits", transient=False)
    return Capture(
        stamp, row["original"], row.get("mimetype", ""), row["statuscode"], row["digest"]
    )
