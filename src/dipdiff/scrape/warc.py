"""Captures in WARC and WACZ files: the HTML pages a crawler saved, each at its ``WARC-Date``.

A WARC holds ``response`` records (the HTTP response as received), ``revisit`` records (a
response whose payload was identical to one saved before: only its headers are kept, the payload
is the earlier record's) and others (requests, metadata) that say nothing of a page. Here:

* every ``response`` with HTTP 200 and an HTML type is a capture of its target URI;
* a ``revisit`` is resolved to the record it refers to (by payload digest, else by
  ``WARC-Refers-To-Target-URI`` and ``-Date``): the same bytes, at the revisit's own time;
* a 3xx response is followed through the file (``Location``, to the capture of the target made
  at or after it): the page it ends on is a capture of the URL first asked, as a live fetch
  that followed the redirects would have recorded it;
* a WACZ is a zip of WARCs (``archive/*.warc[.gz]``) with a pages index
  (``pages/pages.jsonl``): the pages it lists are the statements, when it lists any.

warcio (the Webrecorder project's reader) parses the records: gzip members, chunked bodies and
the HTTP head of each response. It takes a stream, not a path: the caller opens the file.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import IO
from urllib.parse import urljoin

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArchiveLoadFailed

from dipdiff.clock import parse_timestamp
from dipdiff.errors import InputError

HTML_TYPES = ("text/html", "application/xhtml+xml")
REDIRECTS = (301, 302, 303, 307, 308)
MAX_HOPS = 10  # as many redirects as a live fetch follows


@dataclass(frozen=True)
class WarcCapture:
    """A page saved in a WARC: asked at ``url``, served at ``final_url``, at ``date``."""

    url: str
    final_url: str
    date: str  # WARC-Date, as written
    content: bytes
    content_type: str  # with its charset, as the server sent it
    digest: str  # WARC-Payload-Digest
    record_id: str


@dataclass(frozen=True)
class _Response:
    uri: str
    date: str
    status: int
    content_type: str
    location: str
    content: bytes
    digest: str
    record_id: str


def _time(date: str) -> datetime:
    return parse_timestamp(date)


def read_records(stream: IO[bytes], where: str, max_bytes: int) -> list[_Response]:
    """The responses of one WARC (revisits resolved), in the file's order."""
    out: list[_Response] = []
    by_digest: dict[str, _Response] = {}
    by_uri_date: dict[tuple[str, str], _Response] = {}
    try:
        records = 0
        for record in ArchiveIterator(stream):
            records += 1
            if not str(record.format).startswith("warc"):
                raise InputError(f"{where}: not a readable WARC file (no WARC/1.x record header)")
            if record.rec_type not in ("response", "revisit") or record.http_headers is None:
                continue
            h = record.rec_headers
            uri = str(h.get_header("WARC-Target-URI") or "")
            date = str(h.get_header("WARC-Date") or "")
            digest = str(h.get_header("WARC-Payload-Digest") or "")
            status = int(record.http_headers.get_statuscode() or 0)
            content_type = str(record.http_headers.get_header("Content-Type") or "")
            location = str(record.http_headers.get_header("Location") or "")
            if not uri or not date:
                continue
            try:
                _time(date)
            except InputError:
                raise InputError(f"{where}: WARC-Date {date!r} of {uri} is not a time") from None
            if record.rec_type == "revisit":
                original = by_digest.get(digest) or by_uri_date.get(
                    (
                        str(h.get_header("WARC-Refers-To-Target-URI") or ""),
                        str(h.get_header("WARC-Refers-To-Date") or ""),
                    )
                )
                if original is None:
                    continue  # its original is in another file: nothing to read here
                content = original.content
                content_type = content_type or original.content_type
            else:
                content = record.content_stream().read(max_bytes + 1)
                if len(content) > max_bytes:
                    continue  # not a statement page
            r = _Response(
                uri,
                date,
                status,
                content_type,
                location,
                content,
                digest,
                str(h.get_header("WARC-Record-ID") or ""),
            )
            out.append(r)
            if record.rec_type == "response":
                if digest:
                    by_digest.setdefault(digest, r)
                by_uri_date[(uri, date)] = r
        if not records:
            raise InputError(f"{where}: not a readable WARC file (no records)")
    except ArchiveLoadFailed as e:
        raise InputError(f"{where}: not a readable WARC file ({_first_line(e)})") from None
    except (OSError, EOFError, ValueError) as e:
        raise InputError(f"{where}: damaged WARC file ({_first_line(e)})") from None
    return out


def _first_line(e: Exception) -> str:
    return (str(e) or e.__class__.__name__).strip().split("\n")[0][:200]


def captures(responses: list[_Response], urls: set[str] | None = None) -> list[WarcCapture]:
    """The HTML pages of these responses, by the URL first asked, oldest first.

    ``urls``: only the captures of these statement URLs; None: of every URL that is not the
    target of a redirect in the file (its captures are those of the URL first asked)."""
    by_uri: dict[str, list[_Response]] = {}
    for r in responses:
        by_uri.setdefault(r.uri, []).append(r)
    targets = {
        urljoin(r.uri, r.location) for r in responses if r.status in REDIRECTS and r.location
    }
    asked = urls if urls is not None else set(by_uri) - targets
    out = []
    for r in responses:
        if r.uri not in asked:
            continue
        final = _follow(r, by_uri)
        if final is None or final.status != 200 or not _is_html(final.content_type):
            continue
        out.append(
            WarcCapture(
                r.uri,
                final.uri,
                final.date,
                final.content,
                final.content_type,
                final.digest,
                final.record_id,
            )
        )
    return sorted(out, key=lambda c: (_time(c.date), c.url))


def _follow(r: _Response, by_uri: dict[str, list[_Response]]) -> _Response | None:
    """Where a response ends: itself, or the capture its redirects lead to in this file."""
    seen = {r.uri}
    for _ in range(MAX_HOPS):
        if r.status not in REDIRECTS:
            return r
        if not r.location:
            return None
        target = urljoin(r.uri, r.location)
        later = [t for t in by_uri.get(target, []) if _time(t.date) >= _time(r.date)]
        if not later or target in seen:
            return None
        seen.add(target)
        r = later[0]
    return None


def _is_html(content_type: str) -> bool:
    return content_type.split(";", maxsplit=1)[0].strip().lower() in HTML_TYPES


def wacz_members(zf: zipfile.ZipFile) -> tuple[list[str], set[str] | None]:
    """The WARCs of a WACZ, and the page URLs its index lists (None: it lists none)."""
    names = sorted(
        n for n in zf.namelist() if n.startswith("archive/") and n.endswith((".warc", ".warc.gz"))
    )
    pages: set[str] = set()
    for index in ("pages/pages.jsonl", "pages/extraPages.jsonl"):
        if index not in zf.namelist():
            continue
        for line in zf.read(index).decode("utf-8", "replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and isinstance(entry.get("url"), str):
                pages.add(entry["url"])
    return names, pages or None
