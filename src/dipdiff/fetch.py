"""HTTP fetching: the only module that imports httpx.

The client is injected so that tests and the demo can point it anywhere, and
so that one connection pool serves a whole run.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from dipdiff import __version__
from dipdiff.errors import FetchError
from dipdiff.extract import decode_html
from dipdiff.models import Page

USER_AGENT = f"dipdiff/{__version__} (+https://github.com/dipdiff/dipdiff; statement monitor)"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
MAX_BYTES = 10 * 1024 * 1024  # a statement page is never 10 MB; a bigger body is a mistake
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


def make_client(*, user_agent: str = USER_AGENT, timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> httpx.Client:
    return httpx.Client(
        headers={"User-Agent": user_agent, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"},
        timeout=timeout,
        follow_redirects=True,
        max_redirects=10,
    )


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
    if not url.lower().startswith(("http://", "https://")):
        raise FetchError(url, "only http:// and https:// URLs can be fetched")
    try:
        with client.stream("GET", url, headers=dict(headers or {})) as response:
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if response.status_code == 304:
                content = b""
            else:
                if response.status_code >= 400:
                    raise FetchError(url, f"HTTP {response.status_code} {response.reason_phrase}",
                                     status=response.status_code)
                if content_type not in accept_types:
                    raise FetchError(url, f"not an HTML page (Content-Type {content_type})",
                                     status=response.status_code)
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise FetchError(url, f"response too large ({int(declared):,} bytes)")
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError(url, f"response too large (over {max_bytes:,} bytes)")
                    chunks.append(chunk)
                content = b"".join(chunks)
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
    except FetchError:
        raise
    except httpx.TimeoutException:
        raise FetchError(url, "timed out") from None
    except httpx.TooManyRedirects:
        raise FetchError(url, "too many redirects") from None
    except httpx.ConnectError as e:
        raise FetchError(url, f"cannot connect ({_reason(e)})") from None
    except httpx.DecodingError as e:
        raise FetchError(url, f"cannot decode the response ({_reason(e)})") from None
    except httpx.HTTPError as e:
        raise FetchError(url, f"{e.__class__.__name__}: {_reason(e)}") from None


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
