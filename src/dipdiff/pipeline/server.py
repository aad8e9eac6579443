"""A small threaded HTTP server on 127.0.0.1 that serves routes held in memory.

The demo serves its bundled pages with it, and the tests script edits, errors
and slowness through it. Routes can be swapped while it runs.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Response:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(
        default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"}
    )


# A route is a fixed response or a function of the request handler (for scripted faults).
Route = Response | Callable[[BaseHTTPRequestHandler], Response | None]


class QuietServer(ThreadingHTTPServer):
    """A threading HTTP server for tests and the demo: a deep backlog, and quiet about clients
    that hang up early."""

    # The default backlog of 5 makes concurrent clients stall about a second on connect.
    request_queue_size = 128
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        # A client that hangs up early (a size cap, a timeout, an HTTP error) is normal here;
        # anything else is still reported.

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class LocalServer:
    """``with LocalServer(routes) as srv: srv.url("/path")``."""

    def __init__(self, routes: dict[str, Route] | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.posted: list[tuple[str, bytes]] = []  # (path, body) of every POST
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle's algorithm the second
            # waits for the client's delayed ACK (milliseconds per response).
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append((self.command, self.path, dict(self.headers)))
                    route = server.routes.get(self.path)
                if route is None:
                    resp: Response | None = Response(b"<h1>Not found</h1>", 404)
                elif isinstance(route, Response):
                    resp = route
                else:
                    resp = route(self)  # None: the route wrote its own response
                if resp is not None:
                    self.send_response(resp.status)
                    for k, v in resp.headers.items():
                        self.send_header(k, v)
                    if "Content-Length" not in resp.headers:
                        self.send_header("Content-Length", str(len(resp.body)))
                    self.end_headers()
                    self.wfile.write(resp.body)

            do_HEAD = do_GET  # noqa: N815 - http.server's naming

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                with server._lock:
                    server.posted.append((self.path, self.rfile.read(length)))
                self.do_GET()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # quiet: the demo and tests print what matters

        self._httpd = QuietServer(("127.0.0.1", 0), Handler)
        # A short poll interval: shutdown() waits for the poll loop (0.5 s by default, per server).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def set(self, path: str, route: Route) -> None:
        with self._lock:
            self.routes[path] = route

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for _, p, _ in self.requests if p == path)

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
