"""Shards: one run split over N processes or machines, each polite to its own hosts.

A source belongs to shard ``hash(host) mod N``, the host being what
:class:`dipdiff.scrape.http.Fetcher` is polite to (scheme and authority), so that all
requests to one host come from one process and its per-host limit holds across shards.
The hash is SHA-256, not Python's ``hash()``: every machine must assign the same sources.
A source marked ``split`` is read by every shard, each checking only the statements whose
own host is in it (one big source whose statements live on several hosts).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from dipdiff.config import Config, SourceConfig
from dipdiff.errors import InputError

_SPEC = re.compile(r"(\d+)/(\d+)")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (1-based, as ``--shard 2/4`` says it)."""

    index: int
    count: int

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def tag(self) -> str:
        """The shard as part of a run ID (no slash: run IDs name report files)."""
        return f"shard{self.index}of{self.count}"

    def owns(self, url: str) -> bool:
        return shard_of(url, self.count) == self.index

    def keeps(self, source: SourceConfig, url: str) -> bool:
        """Whether this shard checks the statement at ``url`` of ``source``: a split source's
        statements go by their own host, the others with their source (all of them)."""
        return self.owns(url) if source.split else True


def parse_shard(spec: str) -> Shard:
    """``I/N`` with 1 <= I <= N; a one-line error naming the option otherwise."""
    m = _SPEC.fullmatch(spec.strip())
    if not m or not 1 <= int(m[1]) <= int(m[2]):
        raise InputError(f"--shard {spec!r}: expected I/N with 1 <= I <= N, e.g. 2/4")
    return Shard(int(m[1]), int(m[2]))


def host_key(url: str) -> str:
    """The host a URL's requests are polite to, as the fetcher keys it."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def shard_of(url: str, count: int) -> int:
    """The shard (1..count) of the host of ``url``: stable across machines and runs."""
    digest = hashlib.sha256(host_key(url).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def shard_sources(config: Config, shard: Shard) -> list[str]:
    """The names of the enabled sources whose host falls in ``shard``, in config order, and
    of every split source: each shard reads its listing and checks its own hosts' statements
    (:meth:`Shard.keeps`)."""
    return [s.name for s in config.sources if s.enabled and (s.split or shard.owns(s.url))]


def uid_seed(config: Config) -> str:
    """What every shard of one config derives the store's uid from: its sources' URLs."""
    return "\n".join(sorted(s.url for s in config.sources))
