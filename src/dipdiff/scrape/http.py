"""HTTP fetching: the only module that imports httpx.

Two entry points share one response processing (:func:`check_head`,
:class:`BodyReader`, :func:`make_page`), so that size caps, content types and
decoding are decided in one place:

* :func:`fetch_page` — synchronous, one URL (``snapshot``, ``diff URL``).
* :class:`Fetcher` — asynchronous, for ``fetch`` runs: a global concurrency
  limit, a per-host limit and delay, retries with backoff, ``Retry-After``,
  conditional requests and robots.txt.

Every request (pages, feeds, robots.txt, webhooks) has a deadline for its response headers and
one for the whole response, counted from its start (:class:`dipdiff.scrape.net.Deadline`): the
clients made here run on :mod:`dipdiff.scrape.net`'s bounded network, because httpx's own
timeouts bound each read, never a request.

Clients are injected so that tests and the demo can point them anywhere, and
so that one connection pool serves a whole run.
"""

from __future__ import annotations

import asyncio
import socket
import time
import urllib.robotparser
import zlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from dipdiff.config import MAX_BYTES, USER_AGENT, FetchSettings
from dipdiff.errors import FetchError, NotAllowed, RobotsDisallowed
from dipdiff.models import Page
from dipdiff.scrape import net
from dipdiff.scrape.charset import decode_html
from dipdiff.scrape.net import Deadline
from dipdiff.scrape.policy import NetPolicy, public_address
from dipdiff.text import clip

ROBOTS_AGENT = "dipdiff"  # the product token robots.txt rules name
MAX_SECONDS = 60.0  # for a whole response: a server dripping bytes never trips a per-read timeout
BODY_TIMEOUTS = 3  # a fetch run allows a whole response this many request timeouts
WEBHOOK_SECONDS = 20.0  # a webhook's whole exchange, status line included
ACCEPT_ENCODING = "gzip, deflate"  # what BodyReader decodes (httpx would add br/zstd if installed)
HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")
# For callers' annotations, so that httpx stays this module's business.
AsyncClient = httpx.AsyncClient
Client = httpx.Client
Sleep = Callable[[float], Awaitable[None]]

FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
    "text/html",
    "text/plain",
    "",
)

JSON_TYPES = ("application/json", "text/json", "text/plain", "")
ANY_TYPE: tuple[str, ...] = ()  # accept every content type


def request_timeout(seconds: float) -> httpx.Timeout:
    """A request's timeout; connecting gets at most 10 s of it."""
    return httpx.Timeout(seconds, connect=min(10.0, seconds))


DEFAULT_TIMEOUT = request_timeout(FetchSettings.timeout)  # for one-off fetches, as for fetch runs


def _limits(limits: httpx.Limits) -> net.Limits:
    return net.Limits(
        limits.max_connections, limits.max_keepalive_connections, limits.keepalive_expiry
    )


class _Transport(httpx.HTTPTransport):
    """httpx's transport on the bounded network of :mod:`dipdiff.scrape.net`; every request it
    sends, each redirect's included, is checked against the current network policy."""

    def __init__(self, limits: httpx.Limits) -> None:
        context = httpx.create_ssl_context()
        super().__init__(verify=context, limits=limits)
        self._pool = net.sync_pool(context, _limits(limits))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        net.check_request(str(request.url))
        return super().handle_request(request)


class _AsyncTransport(httpx.AsyncHTTPTransport):
    """httpx's asynchronous transport on the bounded network of :mod:`dipdiff.scrape.net`; every
    request it sends, each redirect's included, is checked against the current network policy."""

    def __init__(self, limits: httpx.Limits) -> None:
        context = httpx.create_ssl_context()
        super().__init__(verify=context, limits=limits)
        self._pool = net.async_pool(context, _limits(limits))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        net.check_request(str(request.url))
        return await super().handle_async_request(request)


def not_allowed(url: str, e: NotAllowed) -> NotAllowed:
    """The refusal, said of the URL asked for (a redirect or a connection may have been refused)."""
    if e.url == url or "://" not in e.url:
        return e if e.url == url else NotAllowed(url, e.reason)
    return NotAllowed(url, f"redirected to {e.url}: {e.reason}")


def one_off_policy(url: str) -> NetPolicy:
    """A URL given on the command line: redirects anywhere public; a private address only when
    the URL itself is one (the user asked for it by name, a server did not send them there)."""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM) if host else []
    except OSError:
        infos = []
    private = any(not public_address(str(i[4][0])) for i in infos)
    return NetPolicy(allow_private=private)


def make_client(
    *, user_agent: str = USER_AGENT, timeout: httpx.Timeout = DEFAULT_TIMEOUT
) -> httpx.Client:
    """The client for one-off fetches (:func:`fetch_page`): its read timeout bounds the headers."""
    return httpx.Client(
        headers={
            "User-Agent": user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
            "Accept-Encoding": ACCEPT_ENCODING,
        },
        timeout=timeout,
        follow_redirects=True,
        max_redirects=10,
        transport=_Transport(httpx.Limits()),
    )


def check_head(
    url: str, response: httpx.Response, accept_types: tuple[str, ...], max_bytes: int
) -> str:
    """Decide from status and headers whether to read the body; returns the content type."""
    content_type = str(response.headers.get("content-type", "")).split(";")[0].strip().lower()
    if response.status_code == 304:
        return content_type
    if response.status_code >= 400:
        raise FetchError(
            url,
            f"HTTP {response.status_code} {response.reason_phrase}".rstrip(),
            status=response.status_code,
        )
    if accept_types and content_type not in accept_types:
        what = "an HTML page" if accept_types == HTML_TYPES else "a supported document"
        raise FetchError(
            url,
            f"not {what} (Content-Type {content_type})",
            status=response.status_code,
            transient=False,
        )
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(
            url,
            f"response too large ({int(declared):,} bytes)",
            status=response.status_code,
            transient=False,
        )
    return content_type


class BodyReader:
    """Collects the body as it comes off the wire: decompresses it, caps it, times it, checks it.

    The size cap applies to the *decompressed* body, inflated a bounded piece at a time, so a
    gzip bomb is stopped after ``max_bytes``, not after it has filled the memory. A gzip stream
    that ends early is an error (httpx would return the truncated text silently, and a truncated
    statement stored as a version is a false edit). The request's ``deadline`` bounds the whole
    body, which a per-read timeout does not: a server dripping a few bytes a second never times
    out.
    """

    def __init__(
        self,
        url: str,
        max_bytes: int,
        *,
        encoding: str = "",
        deadline: Deadline | None = None,
        sniff: bool = False,
    ) -> None:
        self.url, self.max_bytes, self.deadline, self.sniff = url, max_bytes, deadline, sniff
        self.chunks: list[bytes] = []
        self.size = 0  # decompressed bytes
        self.wire = 0  # bytes received
        self.encoding = encoding.strip().lower()
        if self.encoding in ("", "identity"):
            self._z = None
        elif self.encoding in ("gzip", "x-gzip", "deflate"):
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib, told by the header
        else:
            raise FetchError(url, f"unsupported Content-Encoding {encoding!r}", transient=False)

    @classmethod
    def for_response(
        cls,
        url: str,
        response: httpx.Response,
        max_bytes: int,
        deadline: Deadline | None,
        accept_types: tuple[str, ...],
    ) -> BodyReader:
        return cls(
            url,
            max_bytes,
            encoding=response.headers.get("content-encoding", ""),
            deadline=deadline,
            sniff=accept_types != ANY_TYPE,
        )

    def add(self, chunk: bytes) -> None:
        """Take a chunk as received (``iter_raw``), still compressed."""
        if self.deadline is not None and self.deadline.expired():
            raise too_slow(self.url, self.deadline, self.wire)
        self.wire += len(chunk)
        if self._z is None:
            self._take(chunk)
            return None
        data = chunk
        try:
            while data:
                self._take(self._z.decompress(data, self.max_bytes - self.size + 1))
                data = self._z.unconsumed_tail
                if self._z.eof and self._z.unused_data:  # a second gzip member
                    data, self._z = self._z.unused_data, zlib.decompressobj(zlib.MAX_WBITS | 32)
        except zlib.error as e:
            if self.encoding == "deflate" and not self.size and self.wire == len(chunk):
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as some servers send
                self.wire = 0
                return self.add(chunk)
            raise FetchError(
                self.url,
                f"cannot decode the response (corrupt {self.encoding} body: {e})",
                transient=False,
            ) from None

    def _take(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            what = f" decompressed from {self.wire:,} bytes" if self._z is not None else ""
            raise FetchError(
                self.url,
                f"response too large (over {self.max_bytes:,} bytes{what})",
                transient=False,
            )
        self.chunks.append(data)

    def content(self) -> bytes:
        if self._z is not None and self.wire and not self._z.eof:
            raise FetchError(
                self.url,
                f"truncated {self.encoding} body: the stream ended early "
                f"({self.wire:,} bytes received)",
            )
        content = b"".join(self.chunks)
        what = sniff_binary(content) if self.sniff else None
        if what:
            raise FetchError(self.url, f"a {what}, not an HTML page or feed", transient=False)
        return content


_MAGIC = (
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive (or Office document)"),
    (b"\x89PNG", "PNG image"),
    (b"GIF8", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"\x1f\x8b", "gzip file"),
    (b"\xd0\xcf\x11\xe0", "Office document"),
    (b"RIFF", "RIFF media file"),
)


def sniff_binary(content: bytes) -> str | None:
    """What a body is when its first bytes say it is a binary document, whatever its type."""
    start = content[:16].lstrip()
    return next((what for magic, what in _MAGIC if start.startswith(magic)), None)


def make_page(
    url: str, response: httpx.Response, content: bytes, content_type: str, fetched_at: str
) -> Page:
    return Page(
        url=url,
        final_url=str(response.url),
        status=response.status_code,
        content=content,
        text=decode_html(content, response.charset_encoding) if content else "",
        content_type=content_type,
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
        redirects=tuple(str(r.url) for r in response.history),
        fetched_at=fetched_at,
    )


def too_slow(url: str, deadline: Deadline, received: int) -> FetchError:
    """A request that ran out of time: ``unavailable``, tried again on the next run, not now."""
    return FetchError(url, deadline.reason(received), slow=True)


def _translate(
    url: str, e: httpx.HTTPError, deadline: Deadline, body: BodyReader | None
) -> FetchError:
    """An httpx exception as a one-line :class:`FetchError` (no status: a transport failure)."""
    if isinstance(e, httpx.TimeoutException):
        if deadline.expired():
            return too_slow(url, deadline, body.wire if body else 0)
        return FetchError(url, "timed out", slow=True)
    if isinstance(e, httpx.TooManyRedirects):
        return FetchError(url, "too many redirects", transient=False)
    if isinstance(e, httpx.ConnectError):
        return FetchError(url, f"cannot connect ({_reason(e)})")
    if isinstance(e, (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError)):
        return FetchError(url, f"connection broken mid-response ({_reason(e)})")
    if isinstance(e, httpx.DecodingError):
        return FetchError(url, f"cannot decode the response ({_reason(e)})", transient=False)
    return FetchError(url, f"{e.__class__.__name__}: {_reason(e)}")


def _check_scheme(url: str) -> None:
    if not url.lower().startswith(("http://", "https://")):
        raise FetchError(url, "only http:// and https:// URLs can be fetched")


def fetch_page(
    client: httpx.Client,
    url: str,
    *,
    fetched_at: str = "",
    headers: Mapping[str, str] | None = None,
    max_bytes: int = MAX_BYTES,
    accept_types: tuple[str, ...] = HTML_TYPES,
    max_seconds: float = MAX_SECONDS,
) -> Page:
    """GET ``url``: the decoded page, or :class:`FetchError` with a one-line reason.

    The response headers must be complete within the client's read timeout and the whole
    response within ``max_seconds``, both counted from the start.
    """
    _check_scheme(url)
    deadline = Deadline(client.timeout.read or max_seconds, max_seconds)
    body: BodyReader | None = None
    try:
        with (
            net.bounded(deadline, one_off_policy(url)),
            client.stream("GET", url, headers=dict(headers or {})) as response,
        ):
            deadline.body_started()
            content_type = check_head(url, response, accept_types, max_bytes)
            body = BodyReader.for_response(url, response, max_bytes, deadline, accept_types)
            # Read even a 304's (empty) body: an unread response closes its connection.
            for chunk in response.iter_raw():
                body.add(chunk)
            return make_page(url, response, body.content(), content_type, fetched_at)
    except NotAllowed as e:
        raise not_allowed(url, e) from None
    except FetchError:
        raise
    except httpx.HTTPError as e:
        raise _translate(url, e, deadline, body) from None


def _reason(e: Exception) -> str:
    text = str(e) or e.__class__.__name__
    return clip(text.split("\n")[0], 200)


def post_json(
    url: str,
    payload: object,
    *,
    client: httpx.Client | None = None,
    timeout: float = WEBHOOK_SECONDS,
) -> int:
    """POST ``payload`` as JSON (a webhook); returns the status. Raises :class:`FetchError`.

    ``timeout`` bounds the whole exchange, the status line and headers included.
    """
    if not url.lower().startswith(("http://", "https://")):
        raise FetchError(url, "webhook URLs must be http:// or https://")
    own = client is None
    client = client or httpx.Client(
        headers={"User-Agent": USER_AGENT},
        timeout=timeout,
        transport=_Transport(httpx.Limits()),
    )
    deadline = Deadline(timeout, timeout)
    try:
        with net.bounded(deadline):
            response = client.post(url, json=payload)
    except httpx.TimeoutException:
        raise FetchError(
            url, f"webhook timed out (no complete answer after {timeout:g} s)"
        ) from None
    except httpx.HTTPError as e:
        raise FetchError(url, f"webhook failed ({_reason(e)})") from None
    finally:
        if own:
            client.close()
    if response.status_code >= 400:
        raise FetchError(
            url,
            f"webhook answered HTTP {response.status_code} {response.reason_phrase}",
            status=response.status_code,
        )
    return response.status_code


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: a number of seconds or an HTTP date; None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _Host:
    """Per-host gate: at most ``per_host`` requests in flight, ``delay`` between starts."""

    def __init__(self, per_host: int) -> None:
        self.slots = asyncio.Semaphore(per_host)
        self.turn = asyncio.Lock()
        self.last_start = float("-inf")
        self.robots: urllib.robotparser.RobotFileParser | None = None
        self.robots_error: str | None = None
        self.robots_status: int | None = None  # the HTTP status behind robots_error, if any
        self.robots_loaded = False
        self.robots_lock = asyncio.Lock()


class Fetcher:
    """Polite asynchronous GETs for one run: ``async with Fetcher(s) as f: await f.get(url)``.

    ``s`` is a :class:`dipdiff.config.FetchSettings` (``[dipdiff]`` in ``dipdiff.toml``):

    * at most ``concurrency`` requests in flight, ``per_host`` per host, and
      ``delay`` seconds between two request starts to one host;
    * each request has its headers within ``timeout`` seconds and all of it within
      ``BODY_TIMEOUTS`` times that, counted from its start; a request that runs
      out of time is not retried in this run;
    * connection errors and 5xx are retried ``retries`` times with
      exponential backoff; 429 and 503 wait for ``Retry-After`` when it is no
      longer than ``max_retry_after`` (longer: give up for this run);
    * ``etag``/``last_modified`` make the request conditional: a 304 returns a
      :class:`Page` with status 304 and no content;
    * redirects are followed and recorded in ``Page.redirects``;
    * robots.txt is read once per host and respected unless ``robots=False``
      (a 4xx robots.txt allows everything; an unreachable one, per RFC 9309,
      allows nothing for this run).
    """

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.p = settings or FetchSettings()
        self._own_client = client is None
        self.client = client or httpx.AsyncClient(
            headers={"User-Agent": self.p.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            timeout=request_timeout(self.p.timeout),
            follow_redirects=True,
            max_redirects=10,
            transport=_AsyncTransport(
                httpx.Limits(
                    max_connections=self.p.concurrency,
                    max_keepalive_connections=self.p.concurrency,
                )
            ),
        )
        self._sleep, self._monotonic = sleep, monotonic
        self._slots = asyncio.Semaphore(self.p.concurrency)
        self._hosts: dict[str, _Host] = {}
        self.requests = 0  # HTTP requests made, retries and robots.txt included

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()

    def _host(self, url: str) -> _Host:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}".lower()
        if key not in self._hosts:
            self._hosts[key] = _Host(self.p.per_host)
        return self._hosts[key]

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept_types: tuple[str, ...] = HTML_TYPES,
        robots: bool | None = None,
        delay: float | None = None,
        fetched_at: str = "",
        policy: NetPolicy | None = None,
    ) -> Page:
        """GET ``url`` politely. Raises :class:`FetchError` (``status`` None: transport failure).

        ``policy``: where the request (and robots.txt's) may go; None, anywhere.
        """
        _check_scheme(url)
        if policy is not None:  # refused before robots.txt is asked about it
            policy.check_url(url)
        if (self.p.robots if robots is None else robots) and not await self.allowed(
            url, delay=delay, policy=policy
        ):
            raise RobotsDisallowed(url)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempt = 0
        while True:
            try:
                return await self._once(url, headers, accept_types, delay, fetched_at, policy)
            except FetchError as e:
                wait = self._retry_wait(e, attempt)
                if wait is None:
                    raise
            attempt += 1
            await self._sleep(wait)

    def _retry_wait(self, e: FetchError, attempt: int) -> float | None:
        """Seconds to wait before retrying after ``e``, or None to give up."""
        if attempt >= self.p.retries:
            return None
        if not e.transient or e.slow:  # a server that ran out its deadline costs one request
            return None
        if e.status in (429, 503) and e.retry_after is not None:
            return e.retry_after if e.retry_after <= self.p.max_retry_after else None
        # Capped: with many retries the doubling would wait days (and overflow a float at 2**1024).
        return min(
            self.p.backoff * (2.0 ** min(attempt, 32)), max(self.p.max_retry_after, self.p.backoff)
        )

    async def _once(
        self,
        url: str,
        headers: dict[str, str],
        accept_types: tuple[str, ...],
        delay: float | None,
        fetched_at: str,
        policy: NetPolicy | None,
    ) -> Page:
        host = self._host(url)
        async with host.slots:
            async with host.turn:  # serialise the politeness wait, not the request
                gap = (self.p.delay if delay is None else delay) - (
                    self._monotonic() - host.last_start
                )
                if gap > 0:
                    await self._sleep(gap)
                host.last_start = self._monotonic()
            async with self._slots:
                self.requests += 1
                # The headers within `timeout`, the whole response within BODY_TIMEOUTS of it.
                deadline = Deadline(self.p.timeout, BODY_TIMEOUTS * self.p.timeout)
                body: BodyReader | None = None
                try:
                    with net.bounded(deadline, policy):
                        async with self.client.stream("GET", url, headers=headers) as response:
                            deadline.body_started()
                            try:
                                content_type = check_head(
                                    url, response, accept_types, self.p.max_bytes
                                )
                            except FetchError as e:
                                e.retry_after = retry_after_seconds(
                                    response.headers.get("retry-after")
                                )
                                raise
                            body = BodyReader.for_response(
                                url, response, self.p.max_bytes, deadline, accept_types
                            )
                            # Read even a 304's (empty) body: an unread response closes its
                            # connection, and a new TCP connection per check doubles the cost.
                            async for chunk in response.aiter_raw():
                                body.add(chunk)
                            return make_page(
                                url, response, body.content(), content_type, fetched_at
                            )
                except NotAllowed as e:
                    raise not_allowed(url, e) from None
                except httpx.HTTPError as e:
                    raise _translate(url, e, deadline, body) from None

    async def allowed(
        self, url: str, *, delay: float | None = None, policy: NetPolicy | None = None
    ) -> bool:
        """Does robots.txt let dipdiff fetch ``url``? FetchError if robots.txt is unreachable."""
        host = self._host(url)
        async with host.robots_lock:
            if not host.robots_loaded:
                await self._load_robots(url, host, delay, policy)
        if host.robots_error:
            # The status travels with the refusal: a caller that stops on 429 (an archive
            # limiting requests) must not have to read it out of the reason's words.
            raise FetchError(
                url,
                f"robots.txt is unreachable ({host.robots_error}); not fetching",
                status=host.robots_status,
            )
        return host.robots is None or host.robots.can_fetch(ROBOTS_AGENT, url)

    async def _load_robots(
        self, url: str, host: _Host, delay: float | None, policy: NetPolicy | None
    ) -> None:
        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        attempt = 0
        while True:
            try:
                page = await self._once(robots_url, {}, ANY_TYPE, delay, "", policy)
                parser = urllib.robotparser.RobotFileParser(robots_url)
                parser.parse(page.text.splitlines())
                host.robots = parser
                break
            except FetchError as e:
                if e.status is not None and 400 <= e.status < 500 and e.status != 429:
                    host.robots = None  # no robots.txt: everything is allowed
                    break
                wait = self._retry_wait(e, attempt)
                if wait is None:
                    host.robots_error, host.robots_status = e.reason, e.status
                    break
            attempt += 1
            await self._sleep(wait)
        host.robots_loaded = True
