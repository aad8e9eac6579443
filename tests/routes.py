"""Scripted routes for the tests' local HTTP server: sequences, slowness, validators, redirects,
and raw bytes written to the socket (for faults below the HTTP level).

The server itself (:class:`dipdiff.pipeline.server.LocalServer`) ships with dipdiff for the demo;
these behaviours exist only for tests and benchmarks.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler

from dipdiff.pipeline.server import Response, Route


def sequence(*responses: Response) -> Route:
    """One response per request, in order; the last one repeats (e.g. 404, 404, then 200)."""
    lock = threading.Lock()
    remaining = list(responses)

    def route(handler: BaseHTTPRequestHandler) -> Response:
        with lock:
            return remaining.pop(0) if len(remaining) > 1 else remaining[0]

    return route


def slow(seconds: float, response: Response) -> Route:
    """The response, after a pause (a slow or hanging server)."""

    def route(handler: BaseHTTPRequestHandler) -> Response:
        time.sleep(seconds)
        return response

    return route


def conditional(
    response: Response, etag: str | None = None, last_modified: str | None = None
) -> Route:
    """The response with an ETag / Last-Modified, or a 304 when the request's validators match."""
    tag = etag or '"' + hashlib.sha1(response.body, usedforsecurity=False).hexdigest()[:16] + '"'
    headers = {**response.headers, "ETag": tag}
    if last_modified:
        headers["Last-Modified"] = last_modified
    full = Response(response.body, response.status, headers)
    not_modified = Response(b"", 304, {"ETag": tag})

    def route(handler: BaseHTTPRequestHandler) -> Response:
        if handler.headers.get("If-None-Match") == tag:
            return not_modified
        if (
            last_modified
            and handler.headers.get("If-Modified-Since") == last_modified
            and not handler.headers.get("If-None-Match")
        ):
            return not_modified
        return full

    return route


def redirect(location: str, status: int = 301) -> Response:
    return Response(b"", status, {"Location": location, "Content-Type": "text/html"})


def raw(*parts: bytes, pause: float = 0.0, reset: bool = False):
    """A route that writes ``parts`` to the socket as they are (pausing between them), then
    closes the connection, with a TCP reset if asked."""

    def route(handler):
        sock = handler.connection
        try:
            for i, part in enumerate(parts):
                if i and pause:
                    time.sleep(pause)
                sock.sendall(part)
        except OSError:
            pass
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.close_connection = True
        with contextlib.suppress(OSError):
            sock.close() if reset else sock.shutdown(socket.SHUT_WR)

    return route


def dripped(data: bytes, piece: int, pause: float):
    """A raw route that sends ``data`` ``piece`` bytes at a time, ``pause`` seconds apart: each
    read gets something, so no per-read timeout ever trips (a slow-loris server)."""
    return raw(*(data[i : i + piece] for i in range(0, len(data), piece)), pause=pause)


def endless_head(lines: int = 400) -> bytes:
    """A status line and ``lines`` header lines: headers that take as long as they are dripped."""
    return b"HTTP/1.1 200 OK\r\n" + b"".join(
        f"X-Drip-{i}: {'x' * 20}\r\n".encode() for i in range(lines)
    )


def head(status: str = "200 OK", **headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}"] + [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()
