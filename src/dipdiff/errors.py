"""One exception hierarchy. Every error prints as one line naming what it concerns."""

from __future__ import annotations


class DipdiffError(Exception):
    """Base class. ``str(err)`` is a complete one-line message for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        # One line, always: a message may quote page text that contains newlines.
        return " ".join(self.message.split())


class ConfigError(DipdiffError):
    """Invalid configuration: names the file, and the source and key where known."""

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        where = ""
        if path:
            where = f"{path}: "
        if key:
            where += f"{key}: "
        super().__init__(where + message)
        self.path = path
        self.key = key


class InputError(DipdiffError):
    """A command-line argument that cannot be used (bad ID, missing file, unknown format)."""


class FetchError(DipdiffError):
    """A URL could not be fetched (network trouble, HTTP error, not HTML)."""

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        status: int | None = None,
        transient: bool | None = None,
        retry_after: float | None = None,
        slow: bool = False,
    ) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status
        # Worth retrying later (timeouts, connection errors, 5xx, 429)? Derived from the
        # status when not given.
        self.transient = (
            transient
            if transient is not None
            else (status is None or status >= 500 or status == 429)
        )
        self.retry_after = retry_after  # seconds, from a Retry-After header
        # The server ran out the request's deadline: tried again on the next run, not at once
        # (a server that slow now is rarely fast a second later, and each retry holds the run).
        self.slow = slow


class RobotsDisallowed(FetchError):  # noqa: N818 - public since 0.1; it names the outcome
    """robots.txt forbids fetching the URL (and robots.txt is respected for its source)."""

    def __init__(self, url: str) -> None:
        super().__init__(url, "disallowed by robots.txt", transient=False)


class NotAllowed(FetchError):  # noqa: N818 - it names the outcome, as RobotsDisallowed does
    """The network policy refuses the request: another site, or a private address."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(url, reason, transient=False)


class ExtractError(DipdiffError):
    """A page was fetched but no statement could be extracted from it."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class StoreError(DipdiffError):
    """The snapshot store is unreadable, inconsistent or not writable."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class DamagedFileError(StoreError):
    """A file of the store cannot be read as what it should be: damaged, conflicted or a link.

    It costs the statement (or run record) it belongs to, never the whole command: commands
    that go over the whole store leave that item out and say so.
    """


class LockError(StoreError):
    """Another run holds the store's lock."""
