"""Where dipdiff may go on the network: a source's own site, the hosts it allows, public addresses.

A feed or a listing names the pages to fetch, and a server names where a redirect goes: left
alone, a feed on one host could make dipdiff fetch (and commit to the store) a page anywhere,
including the cloud metadata service on a link-local address. So a source's requests stay
within its *site* — the registrable domain of its URLs (``www.state.gov`` and ``state.gov`` are
one site; ``www.gov.uk`` is its own, ``gov.uk`` being a public suffix) — and the hosts it lists
in ``allow_hosts``; and no request connects to a private, loopback, link-local or otherwise
non-public address unless ``allow_private = true``. :mod:`dipdiff.scrape.net` checks the
address of every connection it opens, after the name is resolved, so that a name that resolves
(or a redirect that leads) to such an address is refused too.

The registrable domain comes from the Public Suffix List, read from the dated snapshot that the
``publicsuffixlist`` package ships (never fetched from the network). A small built-in rule for
government suffixes would be wrong for the suffixes that matter most here: ``gov.uk`` and
``service.gov.uk`` are public suffixes, ``state.gov`` is not. Measured per process (import,
load, one lookup; five runs on the shared 2-core machine), the package's own loader took about
110 ms and reading its data file into a set about 14 ms; the lookup is the list's documented
algorithm.
"""

from __future__ import annotations

import functools
import importlib.util
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dipdiff.errors import NotAllowed

WEB_SCHEMES = ("http", "https")  # the only links dipdiff stores, follows or shows as links


def is_web_url(url: str) -> bool:
    """An ``http(s)://`` URL with a host: never ``javascript:``, ``data:``, ``file:``…"""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in WEB_SCHEMES and bool(parts.hostname)


@functools.cache
def _suffix_rules() -> frozenset[str]:
    spec = importlib.util.find_spec("publicsuffixlist")  # its data file, without its loader
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a dependency
        return frozenset()
    path = Path(next(iter(spec.submodule_search_locations))) / "public_suffix_list.dat"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("//"))


def registrable_domain(host: str) -> str:
    """The site a host belongs to: ``www.state.gov`` -> ``state.gov``; an IP address is its own.

    The Public Suffix List's algorithm: the longest matching rule (``*`` matches one label, a
    ``!`` rule is an exception) is the public suffix; the site is it and one label more. A host
    that is itself a public suffix, or has one label (``localhost``), is its own site.
    """
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return host.strip("[]")
    labels = host.split(".")
    rules = _suffix_rules()
    suffix = 1  # the default rule "*": the last label
    for n in range(len(labels), 0, -1):
        tail = ".".join(labels[-n:])
        if "!" + tail in rules:
            suffix = n - 1
            break
        wild = ".".join(["*", *labels[-n + 1 :]]) if n > 1 else "*"
        if tail in rules or (n > 1 and wild in rules):
            suffix = n
            break
    return ".".join(labels[-(suffix + 1) :]) if len(labels) > suffix else host


def _within(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def public_address(address: str) -> bool:
    """Is ``address`` a public one (not private, loopback, link-local, reserved, multicast)?"""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class NetPolicy:
    """Where one source's requests may go (see the module's documentation).

    ``sites``: registrable domains (empty: any host, for a one-off fetch's own redirects no
    narrower than its URL's site); ``hosts``: ``allow_hosts``, each with its subdomains.
    """

    sites: frozenset[str] = frozenset()
    hosts: tuple[str, ...] = ()
    allow_private: bool = False

    @classmethod
    def for_urls(
        cls, urls: Iterable[str], hosts: Iterable[str] = (), *, allow_private: bool = False
    ) -> NetPolicy:
        """The policy of a source whose own addresses are ``urls`` (its url, base_url, ...)."""
        sites = frozenset(registrable_domain(h) for u in urls if u and (h := urlsplit(u).hostname))
        own = tuple(h.lower().rstrip(".") for h in hosts if h)
        return cls(sites, own, allow_private)

    def where(self) -> str:
        names = sorted(self.sites) + [h for h in self.hosts if h not in self.sites]
        return ", ".join(names) or "nowhere"

    def check_url(self, url: str) -> None:
        """Raise :class:`NotAllowed` unless ``url`` is a web URL within the allowed hosts."""
        if not is_web_url(url):
            raise NotAllowed(url, "only http:// and https:// URLs are followed")
        host = (urlsplit(url.strip()).hostname or "").rstrip(".")
        if self.sites and not any(_within(host, d) for d in (*self.sites, *self.hosts)):
            raise NotAllowed(
                url,
                f"{host} is outside the source's site ({self.where()}); "
                "list it in the source's allow_hosts to follow it",
            )
        if not self.allow_private:
            try:
                literal = ipaddress.ip_address(host.strip("[]"))
            except ValueError:
                return
            if not public_address(str(literal)):
                raise NotAllowed(url, _private_reason(host, str(literal)))

    def refusal(self, url: str) -> str | None:
        """Why ``url`` is not allowed (one line, naming it), or None."""
        try:
            self.check_url(url)
        except NotAllowed as e:
            return str(e)
        return None

    def allows(self, url: str) -> bool:
        return self.refusal(url) is None

    def check_addresses(self, host: str, addresses: Iterable[str]) -> None:
        """Raise :class:`NotAllowed` if ``host`` resolved to a non-public address (when refused)."""
        if self.allow_private:
            return
        for address in addresses:
            if not public_address(address):
                raise NotAllowed(host, _private_reason(host, address))


def _private_reason(host: str, address: str) -> str:
    what = f"{host} is" if host == address else f"{host} resolves to"
    return (
        f"{what} a private, loopback or link-local address ({address}); not fetched "
        "(allow_private = true allows it)"
    )
