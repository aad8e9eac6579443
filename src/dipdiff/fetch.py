"""HTTP fetching: the only module that imports httpx.

Two entry points share one response processing (:func:`check_head`,
:class:`BodyReader`, :func:`make_page`), so that size caps, content types and
decoding are decided in one place:

* :func:`fetch_page` — synchronous, one URL (``snapshot``, ``diff URL``).
* :class:`Fetcher` — asynchronous, for ``fetch`` runs: a global concurrency
  limit, a per-host limit and delay, retries with backoff, ``Retry-After``,
  conditional requests and robots.txt.

Clients are injected so that tests and the demo can point them anywhere, and
so that one connection pool serves a whole run.
"""

from __future__ import annotations

import asyncio
import time
import urllib.robotparser
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from dipdiff import __version__
from dipdiff.errors import FetchError, RobotsDisallowed
from dipdiff.extract import decode_html
from dipdiff.models import Page

USER_AGENT = f"dipdiff/{__version__} (+https://github.com/dipdiff/dipdiff; statement monitor)"
ROBOTS_AGENT = "dipdiff"  # the product token robots.txt rules name
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
MAX_BYTES = 10 * 1024 * 1024  # a statement page is never 10 MB; a bigger body is a mistake
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
              "text/xml", "text/html", "text/plain", "")
JSON_TYPES = ("application/json", "text/json", "text/plain", "")
ANY_TYPE: tuple[str, ...] = ()  # accept every content type


def make_client(*, user_agent: str = USER_AGENT, timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> httpx.Client:
    return httpx.Client(
        headers={"User-Agent": user_agent, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"},
        timeout=timeout,
        follow_redirects=True,
        max_redirects=10,
    )


# -- response processing (shared by the sync and async paths) --------------------------------


def check_head(url: str, response: httpx.Response, accept_types: tuple[str, ...], max_bytes: int) -> str:
    """Decide from status and headers whether to read the body; returns the content type."""
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if response.status_code == 304:
        return content_type
    if response.status_code >= 400:
        raise FetchError(url, f"HTTP {response.status_code} {response.reason_phrase}".rstrip(),
                         status=response.status_code)
    if accept_types and content_type not in accept_types:
        what = "an HTML page" if accept_types == _HTML_TYPES else "a supported document"
        raise FetchError(url, f"not {what} (Content-Type {content_type})", status=response.status_code,
                         transient=False)
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(url, f"response too large ({int(declared):,} bytes)", status=response.status_code,
                         transient=False)
    return content_type


class BodyReader:
    """Collects body chunks and stops at the size cap."""

    def __init__(self, url: str, max_bytes: int) -> None:
        self.url, self.max_bytes = url, max_bytes
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise FetchError(self.url, f"response too large (over {self.max_bytes:,} bytes)", transient=False)
        self.chunks.append(chunk)

    def content(self) -> bytes:
        return b"".join(self.chunks)


def make_page(url: str, response: httpx.Response, content: bytes, content_type: str, fetched_at: str) -> Page:
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


def _translate(url: str, e: httpx.HTTPError) -> FetchError:
    """An httpx exception as a one-line :class:`FetchError` (no status: a transport failure)."""
    if isinstance(e, httpx.TimeoutException):
        return FetchError(url, "timed out")
    if isinstance(e, httpx.TooManyRedirects):
        return FetchError(url, "too many redirects", transient=False)
    if isinstance(e, httpx.ConnectError):
        return FetchError(url, f"cannot connect ({_reason(e)})")
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
    accept_types: tuple[str, ...] = _HTML_TYPES,
) -> Page:
    """GET ``url`` and return the decoded page. Raises :class:`FetchError` with a one-line reason."""
    _check_scheme(url)
    try:
        with client.stream("GET", url, headers=dict(headers or {})) as response:
            content_type = check_head(url, response, accept_types, max_bytes)
            body = BodyReader(url, max_bytes)
            # Read even a 304's (empty) body: an unread response closes its connection.
            for chunk in response.iter_bytes():
                body.add(chunk)
            return make_page(url, response, body.content(), content_type, fetched_at)
    except FetchError:
        raise
    except httpx.HTTPError as e:
        raise _translate(url, e) from None


def _reason(e: Exception) -> str:
    text = str(e) or e.__class__.__name__
    return text.split("\n")[0][:200]


def post_json(url: str, payload: object, *, client: httpx.Client | None = None,
              timeout: float = 20.0) -> int:
    """POST ``payload`` as JSON (a webhook); returns the status. Raises :class:`FetchError`."""
    if not url.lower().startswith(("http://", "https://")):
        raise FetchError(url, "webhook URLs must be http:// or https://")
    own = client is None
    client = client or httpx.Client(headers={"User-Agent": USER_AGENT}, timeout=timeout)
    try:
        response = client.post(url, json=payload)
    except httpx.TimeoutException:
        raise FetchError(url, "webhook timed out") from None
    except httpx.HTTPError as e:
        raise FetchError(url, f"webhook failed ({_reason(e)})") from None
    finally:
        if own:
            client.close()
    if response.status_code >= 400:
        raise FetchError(url, f"webhook answered HTTP {response.status_code} {response.reason_phrase}",
                         status=response.status_code)
    return response.status_code


# -- the asynchronous, polite fetcher ---------------------------------------------------------


@dataclass(frozen=True)
class Politeness:
    """Limits and patience of a :class:`Fetcher` (``[dipdiff]`` in ``dipdiff.toml``)."""

    user_agent: str = USER_AGENT
    concurrency: int = 8
    per_host: int = 2
    delay: float = 1.0
    timeout: float = 20.0
    retries: int = 2
    backoff: float = 1.0
    max_retry_after: float = 120.0
    max_bytes: int = MAX_BYTES
    robots: bool = True

    @classmethod
    def from_settings(cls, settings: object) -> Politeness:
        """From :class:`dipdiff.config.FetchSettings` (same field names)."""
        return cls(**{f: getattr(settings, f) for f in cls.__dataclass_fields__})


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
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class _Host:
    """Per-host gate: at most ``per_host`` requests in flight, ``delay`` between starts."""

    def __init__(self, per_host: int) -> None:
        self.slots = asyncio.Semaphore(per_host)
        self.turn = asyncio.Lock()
        self.last_start = float("-inf")
        self.robots: urllib.robotparser.RobotFileParser | None = None
        self.robots_error: str | None = None
        self.robots_loaded = False
        self.robots_lock = asyncio.Lock()


class Fetcher:
    """Polite asynchronous GETs for one run. ``async with Fetcher(p) as f: page = await f.get(url)``.

    * at most ``concurrency`` requests in flight, ``per_host`` per host, and
      ``delay`` seconds between two request starts to one host;
    * connection errors, timeouts and 5xx are retried ``retries`` times with
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
        politeness: Politeness | None = None,
        *,
        client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.p = politeness or Politeness()
        self._own_client = client is None
        self.client = client or httpx.AsyncClient(
            headers={"User-Agent": self.p.user_agent},
            timeout=httpx.Timeout(self.p.timeout, connect=min(10.0, self.p.timeout)),
            follow_redirects=True,
            max_redirects=10,
            limits=httpx.Limits(max_connections=self.p.concurrency,
                                max_keepalive_connections=self.p.concurrency),
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
        accept_types: tuple[str, ...] = _HTML_TYPES,
        robots: bool | None = None,
        delay: float | None = None,
        fetched_at: str = "",
    ) -> Page:
        """GET ``url`` politely. Raises :class:`FetchError` (``status`` None: transport failure)."""
        _check_scheme(url)
        if (self.p.robots if robots is None else robots) and not await self.allowed(url, delay=delay):
            raise RobotsDisallowed(url)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempt = 0
        while True:
            try:
                return await self._once(url, headers, accept_types, delay, fetched_at)
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
        if not e.transient:
            return None
        if e.status in (429, 503) and e.retry_after is not None:
            return e.retry_after if e.retry_after <= self.p.max_retry_after else None
        return self.p.backoff * (2 ** attempt)

    async def _once(
        self, url: str, headers: dict[str, str], accept_types: tuple[str, ...], delay: float | None,
        fetched_at: str,
    ) -> Page:
        host = self._host(url)
        async with host.slots:
            async with host.turn:  # serialise the politeness wait, not the request
                gap = (self.p.delay if delay is None else delay) - (self._monotonic() - host.last_start)
                if gap > 0:
                    await self._sleep(gap)
                host.last_start = self._monotonic()
            async with self._slots:
                self.requests += 1
                try:
                    async with self.client.stream("GET", url, headers=headers) as response:
                        try:
                            content_type = check_head(url, response, accept_types, self.p.max_bytes)
                        except FetchError as e:
                            e.retry_after = retry_after_seconds(response.headers.get("retry-after"))
                            raise
                        body = BodyReader(url, self.p.max_bytes)
                        # Read even a 304's (empty) body: an unread response closes its
                        # connection, and a new TCP connection per check doubles the cost.
                        async for chunk in response.aiter_bytes():
                            body.add(chunk)
                        return make_page(url, response, body.content(), content_type, fetched_at)
                except httpx.HTTPError as e:
                    raise _translate(url, e) from None

    async def allowed(self, url: str, *, delay: float | None = None) -> bool:
        """Does robots.txt let dipdiff fetch ``url``? Raises FetchError if robots.txt is unreachable."""
        host = self._host(url)
        async with host.robots_lock:
            if not host.robots_loaded:
                await self._load_robots(url, host, delay)
        if host.robots_error:
            raise FetchError(url, f"robots.txt is unreachable ({host.robots_error}); not fetching")
        return host.robots is None or host.robots.can_fetch(ROBOTS_AGENT, url)

    async def _load_robots(self, url: str, host: _Host, delay: float | None) -> None:
        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        attempt = 0
        while True:
            try:
                page = await self._once(robots_url, {}, ANY_TYPE, delay, "")
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
                    host.robots_error = e.reason
                    break
            attempt += 1
            await self._sleep(wait)
        host.robots_loaded = True
