"""Load ``dipdiff.toml`` into frozen dataclasses.

The file lists sources (where statements are discovered, how they are
extracted) and a few run-wide settings. Built-in presets are TOML data files
under ``dipdiff/data/presets/``; a source may start from one (``preset =
"state-dept"``) and override any key. Every error is one line naming the file,
the table and the key; an unknown key comes with the closest known one.

Reading files and package data happens here, not in the pure core.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from dipdiff import __version__
from dipdiff.errors import ConfigError

CONFIG_NAME = "dipdiff.toml"
USER_AGENT = f"dipdiff/{__version__} (+https://github.com/dipdiff/dipdiff; statement monitor)"
MAX_BYTES = 10 * 1024 * 1024  # a statement page is never 10 MB; a bigger body is a mistake
KINDS = ("feed", "listing", "sitemap", "json")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")  # allow_hosts
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
_MAX_DURATION = 366 * 86400  # a year
_CONTROL_CHARS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")  # in a header or selector: a mistake


@dataclass(frozen=True)
class ExtractRules:
    """CSS selectors that locate a statement in one site's pages. Each list is tried in order."""

    title: tuple[str, ...] = ()
    date: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    agency: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    # Paragraphs matching any of these regular expressions are dropped (site boilerplate).
    drop_paragraphs: tuple[str, ...] = ()


@dataclass(frozen=True)
class FetchSettings:
    """How politely and how hard to fetch (``[dipdiff]``); a source may override some keys.

    :class:`dipdiff.scrape.http.Fetcher` runs by these settings as they are loaded.
    """

    user_agent: str = USER_AGENT
    concurrency: int = 8  # requests in flight, all hosts together
    per_host: int = 2  # requests in flight to one host
    delay: float = 1.0  # seconds between the starts of two requests to one host
    timeout: float = 20.0  # seconds for a response's headers, 3x that for the whole response
    retries: int = 2  # extra attempts on connection errors and 5xx (a timeout waits a run)
    backoff: float = 1.0  # first wait before a retry, doubled each time
    max_retry_after: float = 120.0  # a longer Retry-After gives up for this run instead
    max_bytes: int = MAX_BYTES  # of a response body, decompressed
    robots: bool = True  # respect robots.txt
    # Connect to private, loopback and link-local addresses (a source may say so for itself).
    allow_private: bool = False


@dataclass(frozen=True)
class Schedule:
    """When a known statement is due for a re-check (``[schedule]``).

    The interval grows with the time since the statement last changed:
    ``factor * age``, kept between ``min_interval`` and ``max_interval``. A
    statement edited an hour ago is checked again soon; one untouched for a
    month, every few days.
    """

    min_interval: float = 15 * 60
    max_interval: float = 7 * 86400
    factor: float = 0.1
    removed_after: int = 3  # consecutive 404/410 checks before a statement is `removed`
    # Flapping (two texts alternating on each check) is judged on the checks this recent.
    flap_window: float = 72 * 3600


@dataclass(frozen=True)
class CompareSettings:
    """How statements of different sources are related (``[compare]``)."""

    # How far apart two statements' dates may be to count as related: the default --window of
    # `related` and `divergences`, and the window of the divergences `report` and `run` find.
    window: float = 60 * 86400  # analyse.related.DEFAULT_WINDOW (core cannot import analyse)


@dataclass(frozen=True)
class ReportSettings:
    """Where the reports are published (``[reports]``)."""

    # The public URL of reports/ (e.g. https://github.com/me/watch/blob/main/reports/): the
    # feed's self link and its entries' links to report sections. Empty: relative links.
    base_url: str = ""


@dataclass(frozen=True)
class BackfillSettings:
    """Where ``dipdiff backfill`` reads web archives, and how gently (``[backfill]``).

    The Wayback Machine allows about one CDX query per 2.5 s and a few mementos a second from
    one address, and answers a client that ignores its 429s by blocking it for an hour, then
    longer: the defaults stay well below."""

    archive: str = "https://web.archive.org"
    cdx_delay: float = 5.0  # seconds between two CDX queries (after any request to the archive)
    memento_delay: float = 1.0  # seconds between two capture fetches


@dataclass(frozen=True)
class SiteSettings:
    """Where the static site is published (``[site]``)."""

    # Its public URL (e.g. https://desk.github.io/watch/): `run --site` builds with it, and
    # notifications link to the site's pages instead of the report's sections.
    base_url: str = ""


@dataclass(frozen=True)
class SourceConfig:
    """One source: how to discover its statements and how to extract them."""

    name: str
    kind: str
    url: str
    agency: str = ""
    description: str = ""
    preset: str | None = None
    enabled: bool = True
    full_text: bool = False  # feed items carry the statement (content:encoded): no page fetch
    selector: str = ""  # listing: CSS selector of one item
    link: str = "a[href]"  # listing: CSS selector of the item's link, inside the item
    item_date: str = ""  # listing: CSS selector of the item's date, inside the item
    next_page: str = ""  # listing: CSS selector of the link to the next listing page
    pages: int = 1  # listing/json: how many listing pages to read
    include: tuple[str, ...] = ()  # regular expressions a statement URL must match (any)
    exclude: tuple[str, ...] = ()  # regular expressions that drop a statement URL
    max_items: int = 100  # statements taken from one discovery
    items: str = "results"  # json: dotted path of the list of items
    link_field: str = "link"  # json: field of an item that holds its path or URL
    base_url: str = ""  # json/listing: base for relative links (default: the discovery URL)
    content_api: str = ""  # json: fetch each statement from <content_api><path> (gov.uk)
    robots: bool | None = None  # None: the [dipdiff] setting
    delay: float | None = None  # None: the [dipdiff] setting
    allow_private: bool | None = None  # None: the [dipdiff] setting
    allow_hosts: tuple[str, ...] = ()  # hosts (and their subdomains) beyond the source's own site
    # run --shard: its statements go to the shards of their own hosts, not all to the shard
    # of the source's host (one big source whose statements live on several hosts).
    split: bool = False
    extract: ExtractRules = field(default_factory=ExtractRules)


SIGNIFICANCES = ("cosmetic", "minor", "substantive")
#: What a notification target may ask for (``kinds``), and the event kinds each word stands for.
NOTIFY_KINDS = {
    "edits": ("changed", "flapping"),
    "new": ("new",),
    "removals": ("removed",),
    # A text back to an earlier version's, or a removed statement readable again.
    "restores": ("restored", "back"),
    "moves": ("moved",),
    "divergences": ("divergent",),
}
DIGESTS = ("run", "daily")
NOTIFY_FORMATS = ("markdown", "text")


@dataclass(frozen=True)
class NotifyTarget:
    """One ``[notify.targets.NAME]``: where to send (Apprise URLs or a tag) and what passes."""

    name: str
    urls: tuple[str, ...] = ()  # Apprise URLs (json://, slack://, mailto://, ...)
    tag: str = ""  # or: the URLs of the Apprise config file that carry this tag
    min_significance: str = "minor"  # an edit with only cosmetic changes is not news
    kinds: tuple[str, ...] = tuple(NOTIFY_KINDS)
    sources: tuple[str, ...] = ()  # empty: every source
    agencies: tuple[str, ...] = ()  # empty: every agency
    digest: str = "run"  # one message per run, or one per UTC day
    format: str = ""  # markdown | text; empty: what the service takes


@dataclass(frozen=True)
class NotifyConfig:
    """``[notify]``: the Apprise targets and their routing rules."""

    targets: tuple[NotifyTarget, ...] = ()
    apprise_config: str = ""  # an Apprise config file (YAML or text) holding tagged URLs


@dataclass(frozen=True)
class Config:
    path: str
    fetch: FetchSettings = field(default_factory=FetchSettings)
    schedule: Schedule = field(default_factory=Schedule)
    sources: tuple[SourceConfig, ...] = ()
    # The user's additions to the diplomatic signal lexicon, passed through as data
    # for signals.py to validate and merge.
    signals: dict[str, Any] = field(default_factory=dict)
    compare: CompareSettings = field(default_factory=CompareSettings)
    reports: ReportSettings = field(default_factory=ReportSettings)
    site: SiteSettings = field(default_factory=SiteSettings)
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    backfill: BackfillSettings = field(default_factory=BackfillSettings)

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        hint = _suggest(name, [s.name for s in self.sources])
        raise ConfigError(f"no source {name!r}{hint}", path=self.path)


# key -> expected type (as a name used in error messages).
_FETCH_KEYS = {
    "user_agent": "string",
    "concurrency": "positive integer",
    "per_host": "positive integer",
    "delay": "duration",
    "timeout": "duration",
    "retries": "integer",
    "backoff": "duration",
    "max_retry_after": "duration",
    "max_bytes": "positive integer",
    "robots": "boolean",
    "allow_private": "boolean",
}

_SCHEDULE_KEYS = {
    "min_interval": "duration",
    "max_interval": "duration",
    "factor": "number",
    "removed_after": "positive integer",
    "flap_window": "duration",
}

_COMPARE_KEYS = {"window": "duration"}
_REPORTS_KEYS = {"base_url": "string"}
_BACKFILL_KEYS = {"archive": "string", "cdx_delay": "duration", "memento_delay": "duration"}
_SITE_KEYS = {"base_url": "string"}

_SOURCE_KEYS = {
    "preset": "string",
    "kind": "string",
    "url": "string",
    "agency": "string",
    "description": "string",
    "enabled": "boolean",
    "full_text": "boolean",
    "selector": "string",
    "link": "string",
    "item_date": "string",
    "next_page": "string",
    "pages": "positive integer",
    "include": "list of strings",
    "exclude": "list of strings",
    "max_items": "positive integer",
    "items": "string",
    "link_field": "string",
    "base_url": "string",
    "content_api": "string",
    "robots": "boolean",
    "delay": "duration",
    "allow_private": "boolean",
    "allow_hosts": "list of strings",
    "split": "boolean",
    "extract": "table",
}

_EXTRACT_KEYS = {k.name: "list of strings" for k in fields(ExtractRules)}
_TOP_KEYS = {
    "dipdiff": "table",
    "schedule": "table",
    "sources": "table",
    "signals": "table",
    "compare": "table",
    "reports": "table",
    "site": "table",
    "notify": "table",
    "backfill": "table",
}
_SIGNALS_KEYS = {"add": "list of tables"}
_NOTIFY_KEYS = {"config": "string", "targets": "table"}
_TARGET_KEYS = {
    "url": "list of strings",
    "tag": "string",
    "min_significance": "string",
    "kinds": "list of strings",
    "sources": "list of strings",
    "agencies": "list of strings",
    "digest": "string",
    "format": "string",
}


def _suggest(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _check_keys(table: dict[str, Any], known: dict[str, str], where: str, path: str) -> None:
    for key in table:
        if key not in known:
            raise ConfigError(
                f"unknown key {key!r} in {where}{_suggest(key, list(known))}", path=path
            )


def parse_duration(value: Any) -> float | None:
    """Seconds from ``90``, ``1.5``, ``"30s"``, ``"15m"``, ``"2h"``, ``"7d"``, ``"1w"``; or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = float(value) if value >= 0 else None
    elif isinstance(value, str) and (m := _DURATION.match(value.lower())):
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        return None
    # inf would make a run wait forever (a timeout, a backoff); a huge number is a typo too.
    return seconds if seconds is not None and seconds <= _MAX_DURATION else None


def _coerce(value: Any, kind: str, where: str, key: str, path: str) -> Any:
    def bad() -> ConfigError:
        shown = repr(value) if not isinstance(value, dict) else "a table"
        return ConfigError(f"{where}: {key!r} must be a {kind}, not {shown}", path=path)

    if kind in ("string", "list of strings"):
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and (control := _CONTROL_CHARS.search(v)):
                raise ConfigError(
                    f"{where}: {key!r} contains a control character (U+{ord(control.group()):04X})",
                    path=path,
                )
    if kind == "string":
        if not isinstance(value, str):
            raise bad()
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise bad()
        return value
    if kind in ("integer", "positive integer"):
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < (1 if "positive" in kind else 0)
        ):
            raise bad()
        return value
    if kind == "number":
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not 0 <= value < float("inf")
        ):
            raise bad()
        return float(value)
    if kind == "duration":
        seconds = parse_duration(value)
        if seconds is None:
            raise ConfigError(
                f'{where}: {key!r} must be a duration like 30, "30s", "15m", '
                f'"2h" or "7d", not {value!r}',
                path=path,
            )
        return seconds
    if kind == "list of strings":
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad()
        return tuple(value)
    if kind == "table":
        if not isinstance(value, dict):
            raise bad()
        return value
    if kind == "list of tables":
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise bad()
        return value
    raise AssertionError(kind)


def _typed(table: dict[str, Any], known: dict[str, str], where: str, path: str) -> dict[str, Any]:
    _check_keys(table, known, where, path)
    return {k: _coerce(v, known[k], where, k, path) for k, v in table.items()}


def preset_names() -> list[str]:
    folder = resources.files("dipdiff") / "data" / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def _preset_table(name: str, where: str, path: str) -> tuple[dict[str, Any], str]:
    names = preset_names()
    if name not in names:
        raise ConfigError(
            f"{where}: unknown preset {name!r}{_suggest(name, names)} "
            f"(built-in: {', '.join(names)})",
            path=path,
        )
    res = resources.files("dipdiff") / "data" / "presets" / f"{name}.toml"
    text = res.read_text(encoding="utf-8")
    preset_path = f"presets/{name}.toml"
    try:
        return tomllib.loads(text), preset_path
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"invalid TOML: {e}", path=preset_path) from None


def preset(name: str) -> SourceConfig:
    """A built-in preset as a source of the same name."""
    return _source(name, {"preset": name}, "dipdiff.toml")


def _source(name: str, table: dict[str, Any], path: str) -> SourceConfig:
    where = f"[sources.{name}]"
    if not _NAME.match(name):
        raise ConfigError(
            f"{where}: source names use lowercase letters, digits and dashes "
            "(they name the store's folders)",
            path=path,
        )
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table", path=path)
    own = _typed(table, _SOURCE_KEYS, where, path)
    values: dict[str, Any] = {}
    extract: dict[str, Any] = {}
    if "preset" in own:
        base, preset_path = _preset_table(own["preset"], where, path)
        base.pop("preset", None)
        base_typed = _typed(base, _SOURCE_KEYS, "the preset", preset_path)
        extract.update(
            _typed(base_typed.pop("extract", {}), _EXTRACT_KEYS, "[extract]", preset_path)
        )
        values.update(base_typed)
    extract.update(_typed(own.pop("extract", {}), _EXTRACT_KEYS, f"[sources.{name}.extract]", path))
    values.update(own)
    for key in ("kind", "url"):
        if not values.get(key):
            raise ConfigError(f"{where}: missing key {key!r}", path=path)
    if values["kind"] not in KINDS:
        raise ConfigError(
            f"{where}: 'kind' must be one of {', '.join(KINDS)}, not "
            f"{values['kind']!r}{_suggest(values['kind'], list(KINDS))}",
            path=path,
        )
    if not values["url"].lower().startswith(("http://", "https://")):
        raise ConfigError(
            f"{where}: 'url' must be an http(s) URL, not {values['url']!r}", path=path
        )
    if values["kind"] == "listing" and not values.get("selector") and not values.get("include"):
        raise ConfigError(
            f"{where}: a listing needs 'selector' (CSS of one item) or 'include' (a URL pattern)",
            path=path,
        )
    for key in ("include", "exclude"):
        for pattern in values.get(key, ()):
            try:
                re.compile(pattern)
            except re.error as e:
                raise ConfigError(
                    f"{where}: {key!r}: bad regular expression {pattern!r} ({e})", path=path
                ) from None
    for host in values.get("allow_hosts", ()):
        if not _HOST.match(host):
            raise ConfigError(
                f"{where}: 'allow_hosts' lists host names like \"www.state.gov\", not {host!r}",
                path=path,
            )
    for key in ("selector", "link", "item_date", "next_page"):
        _check_selector(values.get(key, ""), where, key, path)
    for key, selectors in extract.items():
        if key != "drop_paragraphs":
            for sel in selectors:
                _check_selector(sel, f"[sources.{name}.extract]", key, path)
        else:
            for pattern in selectors:
                try:
                    re.compile(pattern)
                except re.error as e:
                    raise ConfigError(
                        f"[sources.{name}.extract]: 'drop_paragraphs': bad regular "
                        f"expression {pattern!r} ({e})",
                        path=path,
                    ) from None
    return SourceConfig(name=name, extract=ExtractRules(**extract), **values)


def _check_selector(selector: str, where: str, key: str, path: str) -> None:
    if not selector:
        return
    # The extractor's own compiler, so that a selector accepted here is one pages are read with.
    from lxml.cssselect import CSSSelector  # lazy: only configs with selectors pay for it

    try:
        CSSSelector(selector, translator="html")
    except Exception as e:  # noqa: BLE001 - cssselect and lxml raise several types
        reason = str(e).splitlines()[0]
        raise ConfigError(
            f"{where}: {key!r}: bad CSS selector {selector!r} ({reason})", path=path
        ) from None


def parse_config(text: str, path: str = CONFIG_NAME) -> Config:
    """Parse the text of a config file; errors name ``path``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"invalid TOML: {e}", path=path) from None
    _check_keys(data, _TOP_KEYS, "the top level", path)
    for key in data:
        if not isinstance(data[key], dict):
            raise ConfigError(f"[{key}] must be a table", path=path)
    fetch = FetchSettings(**_typed(data.get("dipdiff", {}), _FETCH_KEYS, "[dipdiff]", path))
    if fetch.timeout <= 0:  # every request would time out at once
        raise ConfigError("[dipdiff]: 'timeout' must be more than 0 seconds", path=path)
    schedule = Schedule(**_typed(data.get("schedule", {}), _SCHEDULE_KEYS, "[schedule]", path))
    if schedule.min_interval > schedule.max_interval:
        raise ConfigError("[schedule]: 'min_interval' is longer than 'max_interval'", path=path)
    sources = tuple(_source(name, table, path) for name, table in data.get("sources", {}).items())
    compare = CompareSettings(**_typed(data.get("compare", {}), _COMPARE_KEYS, "[compare]", path))
    reports = ReportSettings(**_typed(data.get("reports", {}), _REPORTS_KEYS, "[reports]", path))
    site = SiteSettings(**_typed(data.get("site", {}), _SITE_KEYS, "[site]", path))
    for where, url in (("[reports]", reports.base_url), ("[site]", site.base_url)):
        if url and not url.lower().startswith(("http://", "https://")):
            raise ConfigError(f"{where}: 'base_url' must be an http(s) URL, not {url!r}", path=path)
    # [signals] holds only [[signals.add]] tables: anything else would be ignored without a word.
    signals = _typed(data.get("signals", {}), _SIGNALS_KEYS, "[signals]", path)
    backfill = BackfillSettings(
        **_typed(data.get("backfill", {}), _BACKFILL_KEYS, "[backfill]", path)
    )
    if not backfill.archive.lower().startswith(("http://", "https://")):
        raise ConfigError(
            f"[backfill]: 'archive' must be an http(s) URL, not {backfill.archive!r}", path=path
        )
    return Config(
        path=path,
        fetch=fetch,
        schedule=schedule,
        sources=sources,
        compare=compare,
        reports=reports,
        site=site,
        signals=signals,
        notify=_notify(data.get("notify", {}), {s.name for s in sources}, path),
        backfill=backfill,
    )


def _one_of(value: str, allowed: tuple[str, ...], where: str, key: str, path: str) -> str:
    if value not in allowed:
        raise ConfigError(
            f"{where}: {key!r} must be one of {', '.join(allowed)}, not "
            f"{value!r}{_suggest(value, list(allowed))}",
            path=path,
        )
    return value


def _notify(table: dict[str, Any], source_names: set[str], path: str) -> NotifyConfig:
    own = _typed(table, _NOTIFY_KEYS, "[notify]", path)
    targets = []
    for name, raw in own.get("targets", {}).items():
        where = f"[notify.targets.{name}]"
        if not _NAME.match(name):
            raise ConfigError(
                f"{where}: target names use lowercase letters, digits and dashes", path=path
            )
        if not isinstance(raw, dict):
            raise ConfigError(f"{where} must be a table", path=path)
        t = _typed(raw, _TARGET_KEYS, where, path)
        urls = t.pop("url", ())
        if not urls and not t.get("tag"):
            raise ConfigError(
                f"{where}: give 'url' (one or more Apprise URLs) or 'tag' (of the Apprise "
                "config file's URLs)",
                path=path,
            )
        if t.get("tag") and not own.get("config"):
            raise ConfigError(
                f"{where}: 'tag' needs an Apprise config file: [notify] config = \"...\"",
                path=path,
            )
        for url in urls:
            if "://" not in url:
                raise ConfigError(
                    f"{where}: 'url' {url!r} is not an Apprise URL (like json://host/path, "
                    "slack://..., mailto://...)",
                    path=path,
                )
        _one_of(t.get("min_significance", "minor"), SIGNIFICANCES, where, "min_significance", path)
        for kind in t.get("kinds", ()):
            _one_of(kind, tuple(NOTIFY_KINDS), where, "kinds", path)
        for source in t.get("sources", ()):
            if source not in source_names:
                raise ConfigError(
                    f"{where}: 'sources': no source {source!r} in [sources]"
                    f"{_suggest(source, sorted(source_names))}",
                    path=path,
                )
        _one_of(t.get("digest", "run"), DIGESTS, where, "digest", path)
        if "format" in t:
            _one_of(t["format"], NOTIFY_FORMATS, where, "format", path)
        targets.append(NotifyTarget(name=name, urls=urls, **t))
    if own.get("config") and not targets:
        raise ConfigError(
            "[notify]: 'config' has no effect without a [notify.targets.NAME] table (tag = ...)",
            path=path,
        )
    config_file = own.get("config", "")
    if config_file and not Path(config_file).is_absolute():
        config_file = str(Path(path).parent / config_file)  # beside dipdiff.toml, like git's
    return NotifyConfig(tuple(targets), config_file)


# Keys that only some kinds of source read: on another kind they would be ignored (or, for
# full_text, change what is re-checked), so `dipdiff config check` names them.
_KIND_KEYS = {
    "full_text": ("feed",),
    "selector": ("listing",),
    "link": ("listing",),
    "item_date": ("listing",),
    "next_page": ("listing",),
    "items": ("json",),
    "link_field": ("json",),
    "content_api": ("json",),
    "base_url": ("listing", "json"),
    "pages": ("listing", "json", "sitemap"),
}


def check_config(path: Path | str) -> Config:
    """Load a config file as :func:`load_config` does, and also refuse keys without effect.

    A key a source's kind does not read is accepted by a run (a preset may carry keys for
    another kind); ``dipdiff config check`` makes it an error, naming the table and the key.
    """
    cfg = load_config(path)
    data = tomllib.loads(Path(path).read_bytes().decode("utf-8"))
    for name, table in data.get("sources", {}).items():
        kind = cfg.source(name).kind
        for key in table:
            kinds = _KIND_KEYS.get(key, KINDS)
            if kind not in kinds:
                raise ConfigError(
                    f"[sources.{name}]: {key!r} has no effect on a {kind} source "
                    f"(only on {' and '.join(kinds)} sources)",
                    path=cfg.path,
                )
    return cfg


def load_config(path: Path | str) -> Config:
    """Read and parse a config file."""
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError("no such file (create one with `dipdiff init`)", path=str(p)) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, not a config file", path=str(p)) from None
    except UnicodeDecodeError:
        raise ConfigError("not valid UTF-8", path=str(p)) from None
    except OSError as e:
        raise ConfigError(f"cannot read ({e.strerror})", path=str(p)) from None
    return parse_config(text, str(p))
