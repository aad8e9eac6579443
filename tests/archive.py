"""A local Wayback Machine for the tests: the CDX API and ``id_`` mementos, as the real one speaks.

* ``/cdx/search/cdx?url=...``: exact-URL queries; ``output=json`` (rows, the first the field
  names) or the space-separated lines; ``from``/``to`` (14 digits), ``filter=statuscode:200``
  (and ``!field:regex``), ``collapse=digest`` (adjacent rows with one digest, within one answer,
  as the real API collapses), ``limit`` rows per answer and ``showResumeKey=true``: a page that
  is not the last ends with an empty row and the key of the next one (``resumeKey=``). A
  capture listed twice in the archive's index is listed twice here, on both sides of a page
  boundary; a revisit record is a row with status ``-`` and mimetype ``warc/revisit``.
* ``/web/<14 digits>id_/<url>``: the capture's bytes, or the redirect the archive answers with
  (its nearest capture, perhaps outside the window asked for).
* scripted faults: the next N requests answered ``429 Too Many Requests`` with ``Retry-After``.
* ``/live/...``: the statement pages as the site served them at one moment, so that a test can
  fetch "live" what the archive captured, at the capture's time (``DIPDIFF_NOW``).

The pages are real ones from ``../shared/corpus`` (``corpus_file``), with the edits they carry.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from dipdiff.pipeline.server import QuietServer

FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")


@dataclass(frozen=True)
class Row:
    timestamp: str
    original: str
    body: bytes = b""
    status: str = "200"
    mimetype: str = "text/html"
    # The memento answers 302 to the capture at this timestamp (or to this URL, anywhere).
    redirect: str | None = None
    digest: str = ""

    def fields(self) -> list[str]:
        digest = self.digest or _digest(self.body)
        return [
            urlkey(self.original),
            self.timestamp,
            self.original,
            self.mimetype,
            self.status,
            digest,
            str(len(self.body)),
        ]


def _digest(body: bytes) -> str:
    # The archive's digest is base32 SHA-1 of the payload; any stable function of the bytes will do.
    return hashlib.sha1(body, usedforsecurity=False).hexdigest()[:32].upper()


def urlkey(url: str) -> str:
    """SURT form, as the CDX index keys captures: ``1,0,0,127:8000)/live/maria``."""
    parts = urlsplit(url)
    host = ",".join(reversed((parts.hostname or "").split(".")))
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}){parts.path or '/'}".lower()


class ArchiveServer:
    """``with ArchiveServer() as arc: arc.add(...); arc.url``."""

    def __init__(self, page_size: int = 2) -> None:
        self.rows: list[Row] = []  # the archive's index, in its order (by timestamp)
        self.live: dict[str, bytes] = {}
        self.page_size = page_size
        self.too_many = 0  # answer N requests with 429...
        self.limit_after = 0  # ...once this many more have been answered
        self.retry_after = "1"
        self.requests: list[str] = []
        self.times: list[float] = []  # when each request came (time.monotonic)
        self._lock = threading.Lock()
        archive = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                with archive._lock:
                    archive.requests.append(self.path)
                    archive.times.append(time.monotonic())
                    limited = archive.too_many > 0 and archive.limit_after <= 0
                    archive.limit_after -= 1
                    if limited:
                        archive.too_many -= 1
                if limited:
                    self._send(429, b"Too Many Requests", {"Retry-After": archive.retry_after})
                    return
                path = urlsplit(self.path).path
                if path == "/cdx/search/cdx":
                    self._cdx()
                elif path.startswith("/web/"):
                    self._memento()
                elif self.path in archive.live:
                    self._send(200, archive.live[self.path])
                else:
                    self._send(404, b"<h1>Not found</h1>")

            def _send(
                self, status: int, body: bytes, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                headers = {"Content-Type": "text/html; charset=utf-8", **(headers or {})}
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _cdx(self) -> None:
                q = dict(parse_qsl(urlsplit(self.path).query))
                doc, content_type = archive.cdx(q)
                self._send(200, doc.encode(), {"Content-Type": content_type})

            def _memento(self) -> None:
                m = re.match(r"^/web/(\d{14})id_/(.+)$", self.path)
                if not m:
                    self._send(404, b"<h1>Not in the archive</h1>")
                    return
                stamp, original = m.group(1), unquote(m.group(2))
                row = archive.find(stamp, original)
                if row is None:
                    self._send(404, b"<h1>Not in the archive</h1>")
                elif row.redirect:
                    to = (
                        row.redirect
                        if "://" in row.redirect
                        else f"/web/{row.redirect}id_/{row.original}"
                    )
                    self._send(302, b"", {"Location": to})
                else:
                    self._send(200, row.body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._httpd = QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def page(self, path: str) -> str:
        """The live address of a statement page on this server."""
        return self.url + path

    def add(self, row: Row) -> None:
        with self._lock:
            self.rows.append(row)

    def find(self, stamp: str, original: str) -> Row | None:
        with self._lock:
            for r in self.rows:
                if r.timestamp == stamp and r.original == original and r.status != "-":
                    return r
        return None

    def hits(self, prefix: str) -> int:
        with self._lock:
            return sum(1 for p in self.requests if p.startswith(prefix))

    def cdx(self, q: dict[str, str]) -> tuple[str, str]:
        """One answer of the CDX API to the query ``q``: (body, content type)."""
        with self._lock:
            rows = [r for r in self.rows if r.original == q.get("url")]
        rows = [r for r in rows if q.get("from", "0" * 14) <= r.timestamp <= q.get("to", "9" * 14)]
        start = int(q["resumeKey"].rsplit("+", 1)[1]) if q.get("resumeKey") else 0
        limit = min(int(q.get("limit", "10000")), self.page_size)  # the archive caps pages too
        out: list[list[str]] = []
        i = start
        while i < len(rows) and len(out) < limit:
            f = rows[i].fields()
            i += 1
            if not _kept(f, q.get("filter")):
                continue
            if q.get("collapse") == "digest" and out and out[-1][5] == f[5]:
                continue
            out.append(f)
        more = i < len(rows) and q.get("showResumeKey") == "true"
        key = quote(f"{rows[i].fields()[0]} {rows[i].timestamp}") + f"+{i}" if more else None
        if q.get("output") == "json":
            doc: list[list[str]] = [list(FIELDS), *out] if out else []
            if key:
                doc += [[], [key]]
            return json.dumps(doc), "application/json"
        lines = [" ".join(f) for f in out]
        if key:
            lines += ["", key]
        return "\n".join(lines) + "\n", "text/plain"

    def __enter__(self) -> ArchiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _kept(fields: list[str], spec: str | None) -> bool:
    """The CDX ``filter``: ``[!]field:regex``, matched against the whole field."""
    if not spec:
        return True
    negate = spec.startswith("!")
    name, _, pattern = spec.lstrip("!").partition(":")
    value = fields[FIELDS.index(name)]
    return bool(re.fullmatch(pattern, value)) != negate
