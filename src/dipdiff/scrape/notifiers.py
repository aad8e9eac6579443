"""Notification channels: the only module that imports Apprise (the optional ``notify`` extra).

A ``[notify]`` target is one channel: Apprise URLs (``json://``, ``slack://``, ``mailto://``, ...)
or the URLs of an Apprise config file that carry a tag, sent through Apprise; a plain
``http(s)://`` URL is dipdiff's own webhook (JSON through :func:`dipdiff.scrape.http.post_json`)
and needs no extra. A channel says what its services take (markdown or text, how long a title and
a body may be) so that the message is cut by dipdiff, at an item's end, not by the service.

Apprise is set up to touch nothing but the services named: persistent storage in memory only (it
would otherwise cache under the home folder), no custom plugin folders, sends one at a time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from dipdiff.config import NotifyConfig, NotifyTarget
from dipdiff.errors import ConfigError, DipdiffError
from dipdiff.scrape.http import post_json

if TYPE_CHECKING:
    import apprise

EXTRA = "pip install 'dipdiff[notify]'"
WEBHOOK_BODY_MAX = 32768  # dipdiff's own webhook: its JSON carries the items whole anyway
WEBHOOK_TITLE_MAX = 250


class Channel(Protocol):
    """Where one target's messages go."""

    name: str
    markdown: bool  # the services take markdown (else plain text)
    body_max: int
    title_max: int

    def send(self, title: str, body: str, payload: dict[str, Any]) -> None:
        """Deliver one message; raise :class:`DipdiffError` (one line) when it did not arrive."""


def is_webhook(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


@dataclass
class WebhookChannel:
    """A ``[notify]`` target with an ``http(s)://`` URL: the message's JSON, POSTed."""

    name: str
    urls: tuple[str, ...]
    timeout: float
    markdown: bool = False
    body_max: int = WEBHOOK_BODY_MAX
    title_max: int = WEBHOOK_TITLE_MAX

    def send(self, title: str, body: str, payload: dict[str, Any]) -> None:
        for url in self.urls:
            try:
                post_json(url, payload | {"title": title, "body": body}, timeout=self.timeout)
            except DipdiffError as e:
                reason = getattr(e, "reason", str(e))
                raise DipdiffError(f"notify target {self.name!r}: {reason}") from None


@dataclass
class AppriseChannel:
    """A target sent through Apprise: its URLs, or its tag in the Apprise config file."""

    name: str
    apprise: apprise.Apprise
    tag: str
    timeout: float
    markdown: bool = False
    body_max: int = 0
    title_max: int = 0
    _format: Any = field(default=None, repr=False)

    def send(self, title: str, body: str, payload: dict[str, Any]) -> None:  # noqa: ARG002
        import apprise  # lazy: the optional extra, loaded only when a target needs it

        with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
            ok = self.apprise.notify(
                body,
                title=title,
                body_format=self._format,
                tag=self.tag or apprise.common.MATCH_ALL_TAG,
                timeout=self.timeout,
            )
        if not ok:
            lines = [ln.split(" - ", 2)[-1] for ln in captured.getvalue().splitlines() if ln]
            reason = lines[-1] if lines else "Apprise reported a failure"
            raise DipdiffError(f"notify target {self.name!r} not reached ({reason.strip()})")


def open_channels(config: NotifyConfig, *, timeout: float, path: str) -> dict[str, Channel]:
    """One channel per target of ``[notify]``; a one-line error for what cannot be sent to."""
    channels: dict[str, Channel] = {}
    for target in config.targets:
        if target.urls and all(is_webhook(u) for u in target.urls):
            channels[target.name] = WebhookChannel(target.name, target.urls, timeout)
        else:
            channels[target.name] = _apprise_channel(config, target, timeout=timeout, path=path)
    return channels


def _apprise_channel(
    config: NotifyConfig, target: NotifyTarget, *, timeout: float, path: str
) -> AppriseChannel:
    where = f"[notify.targets.{target.name}]"
    try:
        import apprise  # lazy: the optional extra, loaded only when a target needs it
    except ImportError:
        raise ConfigError(
            f"{where}: Apprise URLs need the notify extra ({EXTRA})", path=path
        ) from None
    asset = apprise.AppriseAsset(
        storage_mode=apprise.PersistentStoreMode.MEMORY, async_mode=False, plugin_paths=[]
    )
    box = apprise.Apprise(asset=asset)
    for url in target.urls:
        if is_webhook(url):
            raise ConfigError(
                f"{where}: mix no http(s):// webhook with Apprise URLs in one target", path=path
            )
        if not box.add(url):
            raise ConfigError(f"{where}: Apprise does not know the URL {_scheme(url)}", path=path)
    if target.tag:
        cfg = apprise.AppriseConfig(asset=asset)
        if not cfg.add(config.apprise_config):
            raise ConfigError(
                f"[notify]: cannot read the Apprise config file {config.apprise_config!r}",
                path=path,
            )
        box.add(cfg)
    services = list(box.find(target.tag)) if target.tag else list(box)
    if not services:
        raise ConfigError(
            f"{where}: no URL in {config.apprise_config} has the tag {target.tag!r}", path=path
        )
    formats = [_formats(s) for s in services]
    markdown = (
        target.format == "markdown"
        if target.format
        else all(f[0] in ("markdown", "html") for f in formats)
    )
    body_max = min(s.body_maxlen for s in services)
    title_max = min(s.title_maxlen or WEBHOOK_TITLE_MAX for s in services)
    if any(not s.title_maxlen for s in services):  # a service without titles puts it in the body
        body_max -= title_max + 2
    return AppriseChannel(
        target.name,
        box,
        target.tag,
        timeout,
        markdown=markdown,
        body_max=body_max,
        title_max=title_max,
        _format=apprise.NotifyFormat.MARKDOWN if markdown else apprise.NotifyFormat.TEXT,
    )


def _formats(service: Any) -> tuple[str, ...]:
    f = service.notify_format
    return tuple(str(getattr(x, "value", x)) for x in (f if isinstance(f, tuple) else (f,)))


def _scheme(url: str) -> str:
    """A URL named without its secrets: only its scheme."""
    return repr(url.split("://", 1)[0] + "://…")
