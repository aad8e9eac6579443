"""The sockets under every request dipdiff makes: each network step bounded by a deadline.

httpx's timeouts bound each read, write and connect, never a whole request: a server that sends
one header line every few seconds never trips them and can hold a run (and the store's lock) for
as long as it likes. The network backends here wrap httpcore's and give every step at most what is
left of the current request's :class:`Deadline`, a context variable that the caller sets with
:func:`bounded` around the request. One mechanism serves the synchronous client (``snapshot``,
webhooks) and the asynchronous one (``fetch``, ``run``), and every request: pages, feeds,
robots.txt, webhooks. The same context carries the request's :class:`NetPolicy`: each request
(a redirect's too) is checked before it is sent, and each connection's address once its host is
resolved, before connecting.

The only module that imports httpcore; :mod:`dipdiff.scrape.http` builds its transports on the
pools made here.
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import Any

import httpcore

from dipdiff.scrape.policy import NetPolicy

SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class Deadline:
    """When one request must have its response headers, and when its whole body.

    The clock starts when the request does, so connecting and the headers count against both.
    """

    def __init__(self, headers: float, total: float) -> None:
        self.headers, self.total = min(headers, total), total
        self.started = time.monotonic()
        self.in_body = False

    def body_started(self) -> None:
        """The headers are in: from now on the whole-response deadline applies."""
        self.in_body = True

    def left(self) -> float:
        return self.started + (self.total if self.in_body else self.headers) - time.monotonic()

    def expired(self) -> bool:
        return self.left() <= 0

    def reason(self, received: int) -> str:
        """What was late, for the one-line message of the request that ran out of time."""
        if self.in_body:
            return (
                f"too slow: the body was not complete after {self.total:g} s "
                f"({received:,} bytes received)"
            )
        return f"timed out: no complete response headers after {self.headers:g} s"


_CURRENT: ContextVar[Deadline | None] = ContextVar("dipdiff_deadline", default=None)
_POLICY: ContextVar[NetPolicy | None] = ContextVar("dipdiff_policy", default=None)


@contextmanager
def bounded(deadline: Deadline, policy: NetPolicy | None = None) -> Iterator[Deadline]:
    """Every network step of the requests made inside the block is bounded by ``deadline``,
    and every request and connection is checked against ``policy`` (None: no check).

    Context variables: each asyncio task of a fetch run sees only its own request's.
    """
    token, policy_token = _CURRENT.set(deadline), _POLICY.set(policy)
    try:
        yield deadline
    finally:
        _POLICY.reset(policy_token)
        _CURRENT.reset(token)


def check_request(url: str) -> None:
    """The current policy's verdict on a request about to be sent (a redirect's too)."""
    policy = _POLICY.get()
    if policy is not None:
        policy.check_url(url)


def _checked(host: str, infos: list[tuple[Any, ...]]) -> list[str]:
    """The addresses ``host`` resolved to, once every one of them is allowed.

    Connecting to the addresses that were checked, not to the name again, leaves no second
    lookup for a rebinding DNS server to answer differently.
    """
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    policy = _POLICY.get()
    if policy is not None:
        policy.check_addresses(host, addresses)
    if not addresses:
        raise httpcore.ConnectError(f"{host}: no address")
    return addresses


def _needs_check() -> bool:
    policy = _POLICY.get()
    return policy is not None and not policy.allow_private


def _bound(timeout: float | None, late: type[Exception]) -> float | None:
    """``timeout`` cut to what is left of the current deadline; ``late`` when nothing is left."""
    deadline = _CURRENT.get()
    if deadline is None:
        return timeout
    left = deadline.left()
    if left <= 0:
        raise late("the request's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bound = _bound(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, bound))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        bound = _bound(timeout, httpcore.ConnectTimeout)
        if _needs_check():
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as e:
                raise httpcore.ConnectError(str(e)) from None
            *others, host = _checked(host, infos)
            for address in others:  # each address in turn, as the name would have been tried
                try:
                    inner = self._inner.connect_tcp(
                        address, port, bound, local_address, socket_options
                    )
                except (httpcore.ConnectError, httpcore.ConnectTimeout):
                    bound = _bound(timeout, httpcore.ConnectTimeout)  # what is left for the next
                    continue
                return _Stream(inner)
        return _Stream(self._inner.connect_tcp(host, port, bound, local_address, socket_options))

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        bound = _bound(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, bound, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        # Before each request the pool asks every idle connection whether the server closed
        # it ("is_readable"); anyio answers by building all of the stream's attributes each
        # time (8% of a run that gets 2,000 304s): asked of the socket itself instead.
        self._socket: socket.socket | None = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, _bound(timeout, httpcore.ReadTimeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, _bound(timeout, httpcore.WriteTimeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        bound = _bound(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._inner.start_tls(ssl_context, server_hostname, bound))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._socket is not None:
            return _readable(self._socket)
        return self._inner.get_extra_info(info)


def _readable(sock: socket.socket) -> bool:
    """Would a read return at once (data, or the end of a connection the server closed)? As
    httpcore's own test: a socket without a descriptor any more counts as readable."""
    fd = sock.fileno()
    if fd < 0:
        return True
    poll = select.poll()
    poll.register(fd, select.POLLIN)
    return bool(poll.poll(0))


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        bound = _bound(timeout, httpcore.ConnectTimeout)
        if _needs_check():
            try:
                infos = await asyncio.wait_for(
                    asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM),
                    bound,
                )
            except TimeoutError:
                raise httpcore.ConnectTimeout(f"{host}: no address in time") from None
            except OSError as e:
                raise httpcore.ConnectError(str(e)) from None
            *others, host = _checked(host, infos)
            for address in others:  # each address in turn, as the name would have been tried
                try:
                    inner = await self._inner.connect_tcp(
                        address, port, bound, local_address, socket_options
                    )
                except (httpcore.ConnectError, httpcore.ConnectTimeout):
                    bound = _bound(timeout, httpcore.ConnectTimeout)  # what is left for the next
                    continue
                return _AsyncStream(inner)
        inner = await self._inner.connect_tcp(host, port, bound, local_address, socket_options)
        return _AsyncStream(inner)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        bound = _bound(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._inner.connect_unix_socket(path, bound, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@dataclass(frozen=True)
class Limits:
    """A pool's limits (httpx's, passed on by :mod:`dipdiff.scrape.http`)."""

    max_connections: int | None
    max_keepalive_connections: int | None
    keepalive_expiry: float | None


def sync_pool(ssl_context: ssl.SSLContext, limits: Limits) -> httpcore.ConnectionPool:
    """httpcore's pool, on the bounded network."""
    return httpcore.ConnectionPool(ssl_context, network_backend=_Backend(), **asdict(limits))


def async_pool(ssl_context: ssl.SSLContext, limits: Limits) -> httpcore.AsyncConnectionPool:
    """httpcore's asynchronous pool, on the bounded network."""
    return httpcore.AsyncConnectionPool(
        ssl_context, network_backend=_AsyncBackend(), **asdict(limits)
    )
