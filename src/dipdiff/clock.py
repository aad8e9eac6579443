"""Time as dipdiff writes and reads it: one UTC timestamp form, and the clock a run is given."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from dipdiff.errors import InputError

Clock = Callable[[], str]


def utc_timestamp(dt: datetime | None = None) -> str:
    """``2026-11-25T12:00:00Z``: the one timestamp form dipdiff writes."""
    dt = (dt or datetime.now(UTC)).astimezone(UTC)
    return dt.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: str) -> datetime:
    """Parse an ISO 8601 time; naive times are taken as UTC."""
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"not an ISO 8601 time: {value!r}") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
