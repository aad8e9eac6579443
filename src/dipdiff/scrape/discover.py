"""Pure discovery: listing pages, RSS/Atom feeds, sitemaps and JSON APIs -> statements to check.

A discovery document yields :class:`Item`\\ s: the URL of a statement page to
fetch, or, for full-text feeds and JSON content items, the statement itself.
Nothing here touches the network, the filesystem or the clock.

Feeds are parsed with lxml directly rather than feedparser: lxml is already a
dependency, is several times faster on the 100 KB feeds government sites serve,
and keeps ``content:encoded`` byte for byte (feedparser sanitises HTML, which
would make dipdiff's canonical text depend on feedparser's version).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher
from html.entities import html5
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree

from dipdiff.config import ExtractRules, SourceConfig
from dipdiff.errors import ExtractError
from dipdiff.models import Statement
from dipdiff.scrape.charset import decode_html
from dipdiff.scrape.extract import (
    body_of,
    paragraphs_of,
    parse,
    parse_date,
    remove,
    select,
    select_one,
    text_of,
)
from dipdiff.text import canonical, clean, clip

_CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
_DC_NS = "http://purl.org/dc/elements/1.1/"

# Chrome that feeds wrap around the text: scripts (state.gov puts two jQuery blocks
# before every item), the whitehouse.gov 2025 topper (headline, nav, search form).
FEED_REMOVE = (
    "script",
    "style",
    "noscript",
    "iframe",
    "form",
    "nav",
    "button",
    "svg",
    ".wp-block-whitehouse-topper",
    "h1.wp-block-whitehouse-topper__headline",
)

# Trailers and end markers: WordPress's "The post … appeared first on …" line and the
# White House's centred "###".
FEED_DROP = (
    re.compile(r"^The post .{1,400} appeared first on .{1,120}\.?$", re.DOTALL),
    re.compile(r"^#{3}$"),
)


@dataclass(frozen=True)
class Item:
    """One statement found by discovery."""

    url: str  # the statement's public URL (its identity when there is no guid)
    guid: str | None = None  # the feed's stable id for the item, when it has one
    title: str = ""
    published: str | None = None  # ISO 8601, as the listing or feed gives it
    statement: Statement | None = None  # full-text feeds: the statement itself
    fetch_url: str | None = None  # where to fetch the statement when not ``url`` (content API)
    raw: bytes | None = None  # full-text feeds: the item's HTML, kept as the version's raw page


@dataclass(frozen=True)
class Discovery:
    items: tuple[Item, ...]
    next_urls: tuple[str, ...] = ()  # the next listing page, the sitemaps of a sitemap index


def discover(source: SourceConfig, content: bytes | str, url: str) -> Discovery:
    """Items from one discovery document of ``source`` fetched from ``url``.

    Raises :class:`ExtractError` naming ``url`` when the document is not what the
    source says it is (not a feed, not JSON, ...).
    """
    if source.kind == "feed":
        found = parse_feed(
            content,
            url,
            full_text=source.full_text,
            rules=source.extract,
            agency=source.agency,
            source=source.name,
        )
    elif source.kind == "sitemap":
        found = parse_sitemap(content, url)
    elif source.kind == "json":
        found = parse_json_listing(
            content,
            url,
            items=source.items,
            link_field=source.link_field,
            base_url=source.base_url or url,
            content_api=source.content_api,
        )
    else:
        found = parse_listing(
            _text(content),
            source.base_url or url,
            selector=source.selector,
            link=source.link,
            item_date=source.item_date,
            next_page=source.next_page,
        )
    items = [i for i in found.items if url_wanted(i.url, source.include, source.exclude)]
    return Discovery(tuple(_dedupe(items))[: source.max_items], found.next_urls)


def url_wanted(url: str, include: Iterable[str], exclude: Iterable[str]) -> bool:
    include, exclude = tuple(include), tuple(exclude)
    if include and not any(re.search(p, url) for p in include):
        return False
    return not any(re.search(p, url) for p in exclude)


def _dedupe(items: Iterable[Item]) -> Iterator[Item]:
    seen: set[str] = set()
    for item in items:
        key = item.guid or item.url
        if key not in seen:
            seen.add(key)
            yield item


def _text(content: bytes | str) -> str:
    if isinstance(content, str):
        return content

    return decode_html(content)


def parse_listing(
    html: str,
    base_url: str,
    *,
    selector: str = "",
    link: str = "a[href]",
    item_date: str = "",
    next_page: str = "",
) -> Discovery:
    """Statement links from a listing page: one per ``selector`` match (every link without one)."""
    root = parse(html, base_url)
    items: list[Item] = []
    blocks = select(root, selector) if selector else [root]
    for block in blocks:
        anchors = (
            select(block, link or "a[href]")
            if not selector
            else [select_one(block, link or "a[href]", inside=True)]
        )
        for a in anchors:
            if a is None or not a.get("href"):
                continue
            href = urljoin(base_url, str(a.get("href")).strip())
            if not href.startswith(("http://", "https://")):
                continue
            published = None
            if item_date:
                d = select_one(block, item_date, inside=bool(selector))
                if d is not None:
                    published = parse_date(str(d.get("datetime") or text_of(d, " ")))
            items.append(
                Item(url=_strip_fragment(href), title=clean(text_of(a, " ")), published=published)
            )
    nxt: tuple[str, ...] = ()
    if next_page:
        a = select_one(root, next_page)
        if a is not None and a.get("href"):
            nxt = (urljoin(base_url, str(a.get("href"))),)
    return Discovery(tuple(items), nxt)


def _strip_fragment(url: str) -> str:
    return url.split("#", 1)[0]


# An entity reference, outside the CDATA sections and comments that keep their text as it is.
_REFERENCE = re.compile(rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->|&([A-Za-z][A-Za-z0-9]{0,31});", re.DOTALL)
_XML_ENTITIES = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})


def _reference(m: re.Match[bytes]) -> bytes:
    name = m.group(1)
    if name is None or name in _XML_ENTITIES:
        return m.group(0)
    chars = html5.get(name.decode("ascii") + ";")
    if chars is None:  # no such entity: shown as written
        return b"&amp;" + name + b";"
    return "".join(f"&#{ord(c)};" for c in chars).encode("ascii")


def xml_references(data: bytes) -> bytes:
    """HTML's named entities (``&rsquo;``, ``&nbsp;``) as the numeric references XML knows.

    Feeds use them outside CDATA, and XML without a DTD does not define them: lxml's recovering
    parser ends the element's text at the first one ("Secretary&rsquo;s Call with Foreign
    Minister Ali" read as "Secretary"), and a truncated text stored as a version is a false edit.
    """
    return _REFERENCE.sub(_reference, data) if b"&" in data else data


def _xml(content: bytes | str, url: str) -> etree._Element:
    data = xml_references(content.encode("utf-8") if isinstance(content, str) else content)
    # recover: real feeds carry stray bytes and unescaped ampersands. No entities, no
    # network: a feed must never make the parser read files or URLs.
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data.lstrip(), parser=parser)
        # Every name read once: a name the recovering parser kept with bytes that are not UTF-8
        # (a reference to a surrogate) raises only when read, which would be mid-feed.
        for el in root.iter() if root is not None else ():
            _ = el.tag, el.text, el.tail, el.attrib.items()
    except (etree.XMLSyntaxError, ValueError) as e:  # ValueError: bytes that are not UTF-8
        raise ExtractError(url, f"not an XML document ({clip(str(e), 200)})") from None
    if root is None:
        raise ExtractError(url, "not an XML document")
    return root


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child_text(el: etree._Element, name: str, ns: str | None = None) -> str:
    for child in el:
        if _local(child.tag) == name and (ns is None or child.tag.startswith("{" + ns + "}")):
            return child.text or ""
    return ""


def parse_feed(
    content: bytes | str,
    url: str,
    *,
    full_text: bool = False,
    rules: ExtractRules | None = None,
    agency: str = "",
    source: str = "",
) -> Discovery:
    """Items of an RSS 2.0, RSS 1.0 or Atom feed; with ``full_text``, each item's statement."""
    root = _xml(content, url)
    kind = _local(root.tag)
    if kind not in ("rss", "RDF", "feed"):
        raise ExtractError(url, f"not an RSS or Atom feed (root element <{kind}>)")
    entries = [el for el in root.iter() if _local(el.tag) in ("item", "entry")]
    items = []
    for el in entries:
        item = _atom_entry(el, url) if _local(el.tag) == "entry" else _rss_item(el, url)
        if item is None:
            continue
        if full_text:
            html = _child_text(el, "encoded", _CONTENT_NS) or _atom_content(el)
            creator = _child_text(el, "creator", _DC_NS)
            statement = feed_statement(
                html, item, rules=rules, agency=agency, source=source, byline=creator
            )
            item = Item(
                item.url,
                item.guid,
                item.title,
                item.published,
                statement,
                raw=html.encode("utf-8") if statement is not None else None,
            )
        items.append(item)
    return Discovery(tuple(items))


def _rss_item(el: etree._Element, base: str) -> Item | None:
    link = clean(_child_text(el, "link"))
    guid = clean(_child_text(el, "guid")) or None
    if not link and guid and guid.startswith(("http://", "https://")):
        link = guid
    if not link:
        return None
    date = _child_text(el, "pubDate") or _child_text(el, "date", _DC_NS)
    return Item(
        url=urljoin(base, link),
        guid=guid,
        title=clean(_child_text(el, "title")),
        published=parse_date(date) if date else None,
    )


def _atom_entry(el: etree._Element, base: str) -> Item | None:
    link = ""
    for child in el:
        href = child.get("href")
        if _local(child.tag) == "link" and child.get("rel", "alternate") == "alternate" and href:
            link = href
            break
    guid = clean(_child_text(el, "id")) or None
    if not link:
        return None
    date = _child_text(el, "published") or _child_text(el, "updated")
    return Item(
        url=urljoin(base, link),
        guid=guid,
        title=clean(_child_text(el, "title")),
        published=parse_date(date) if date else None,
    )


def _atom_content(el: etree._Element) -> str:
    for name in ("content", "summary"):
        for child in el:
            if _local(child.tag) == name:
                if child.get("type") == "xhtml":
                    return "".join(etree.tostring(c, encoding="unicode") for c in child)
                return child.text or ""
    return ""


def feed_statement(
    html: str,
    item: Item,
    *,
    rules: ExtractRules | None = None,
    agency: str = "",
    source: str = "",
    byline: str = "",
) -> Statement | None:
    """The statement carried by a full-text feed item, or ``None`` when it carries no text.

    Scripts, the White House topper, the ``###`` end marker and the "The post …
    appeared first on …" trailer are removed. A first paragraph that repeats the
    item's byline (``dc:creator``, e.g. state.gov's "Office of the Spokesperson")
    is dropped too, so that a byline change alone is not recorded as an edit. An item too large
    to read (over ``MAX_ELEMENTS``) carries no text either: its page is fetched and bounded as
    every page is.
    """
    if not html.strip():
        return None
    try:
        root = parse(html, item.url)
    except ExtractError:
        return None
    for sel in FEED_REMOVE + tuple((rules or ExtractRules()).remove):
        try:
            found = select(root, sel)
        except Exception:  # noqa: BLE001, S112 - selectors are checked at config load; stay safe
            continue
        for el in found:
            remove(el)
    drops = list(FEED_DROP) + [re.compile(p) for p in (rules or ExtractRules()).drop_paragraphs]
    body = body_of(root)
    paragraphs = [
        p
        for p in paragraphs_of(body if body is not None else root)
        if re.search(r"\w", p) and not any(d.search(p) for d in drops)
    ]
    if (
        paragraphs
        and byline
        and canonical(paragraphs[0]).casefold() == canonical(byline).casefold()
    ):
        paragraphs = paragraphs[1:]
    if (
        paragraphs
        and item.title
        and canonical(paragraphs[0]).casefold() == canonical(item.title).casefold()
    ):
        paragraphs = paragraphs[1:]
    if not paragraphs:
        return None
    return Statement(
        title=item.title,
        paragraphs=tuple(paragraphs),
        url=item.url,
        agency=agency,
        published=item.published,
        source=source,
    )


def parse_sitemap(content: bytes | str, url: str) -> Discovery:
    """Page URLs of a sitemap (``lastmod`` as the date); a sitemap index gives ``next_urls``."""
    root = _xml(content, url)
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise ExtractError(url, f"not a sitemap (root element <{kind}>)")
    items, children = [], []
    for el in root:
        loc = clean(_child_text(el, "loc"))
        if not loc:
            continue
        if _local(el.tag) == "sitemap":
            children.append(urljoin(url, loc))
        elif _local(el.tag) == "url":
            lastmod = _child_text(el, "lastmod")
            items.append(
                Item(url=urljoin(url, loc), published=parse_date(lastmod) if lastmod else None)
            )
    # Newest first, so that --limit and max_items keep the recent statements.
    items.sort(key=lambda i: i.published or "", reverse=True)
    return Discovery(tuple(items), tuple(children))


def _json(content: bytes | str, url: str) -> Any:
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError) as e:
        raise ExtractError(url, f"not a JSON document ({e.__class__.__name__}: {e})") from None


def _dig(data: Any, dotted: str) -> Any:
    for part in [p for p in dotted.split(".") if p]:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def parse_json_listing(
    content: bytes | str,
    url: str,
    *,
    items: str = "results",
    link_field: str = "link",
    base_url: str = "",
    content_api: str = "",
) -> Discovery:
    """Items of a JSON search result such as gov.uk's ``/api/search.json``.

    Each item's ``link_field`` holds a path or URL. With ``content_api``, the statement
    is fetched from ``<content_api><path>`` (gov.uk's content API) instead of the page.
    """
    data = _json(content, url)
    rows = _dig(data, items)
    if not isinstance(rows, list):
        raise ExtractError(url, f"no list at {items!r} in the JSON document")
    found = []
    for row in rows:
        if not isinstance(row, dict):
            continue
        link = row.get(link_field) or row.get("base_path")
        if not isinstance(link, str) or not link:
            continue
        page = urljoin(base_url or url, link)
        path = urlsplit(page).path
        fetch_url = content_api.rstrip("/") + path if content_api else None
        date = row.get("public_timestamp") or row.get("first_published_at")
        found.append(
            Item(
                url=page,
                title=clean(str(row.get("title") or "")),
                published=parse_date(date) if isinstance(date, str) else None,
                fetch_url=fetch_url,
            )
        )
    return Discovery(tuple(found))


@dataclass(frozen=True)
class ContentItem:
    """A gov.uk content item: the statement and what gov.uk says about its edits."""

    statement: Statement
    change_notes: tuple[tuple[str, str], ...] = ()  # (public_timestamp, note), oldest first
    withdrawn: str | None = None  # the withdrawal explanation, when withdrawn


def parse_content_item(
    content: bytes | str, url: str, *, agency: str = "", source: str = ""
) -> ContentItem:
    """A statement from gov.uk's content API (``/api/content/<path>``).

    ``details.change_history`` is gov.uk's own edit log; it is kept out of the
    statement text (a new note is not a text edit) and returned alongside.
    """
    data = _json(content, url)
    if not isinstance(data, dict) or not isinstance(data.get("title"), str):
        raise ExtractError(url, "not a gov.uk content item (no 'title')")
    found = data.get("details")
    details: dict[str, Any] = found if isinstance(found, dict) else {}
    body = details.get("body")
    if isinstance(body, list):  # multi-part bodies: [{content_type, content}, ...]
        body = next(
            (
                b.get("content")
                for b in body
                if isinstance(b, dict) and b.get("content_type") == "text/html"
            ),
            "",
        )
    if not isinstance(body, str) or not body.strip():
        raise ExtractError(url, "the content item has no details.body")
    root = parse(body, url)
    found = body_of(root)
    paragraphs = tuple(
        p for p in paragraphs_of(found if found is not None else root) if re.search(r"\w", p)
    )
    orgs = _dig(data, "links.organisations")
    org = (
        next((o.get("title") for o in orgs if isinstance(o, dict) and o.get("title")), None)
        if isinstance(orgs, list)
        else None
    )
    base_path = data.get("base_path")
    page_url = url
    if isinstance(base_path, str) and base_path.startswith("/"):
        parts = urlsplit(url)
        page_url = f"{parts.scheme}://{parts.netloc}{base_path}"
        if "/api/content/" in url:  # the public page, not the API address
            page_url = url.split("/api/content/", 1)[0] + base_path
    published = data.get("first_published_at")
    statement = Statement(
        title=clean(data["title"]),
        paragraphs=paragraphs,
        url=page_url,
        # The item's own organisation: one source (a search of GOV.UK) carries many publishers.
        agency=clean(org) if org else agency,
        published=parse_date(published) if isinstance(published, str) else None,
        source=source,
    )
    found = details.get("change_history")
    history: list[Any] = found if isinstance(found, list) else []
    notes = tuple(
        (str(h.get("public_timestamp", "")), clean(str(h.get("note", ""))))
        for h in history
        if isinstance(h, dict)
    )
    withdrawn = _dig(data, "withdrawn_notice.explanation")
    return ContentItem(
        statement=statement,
        change_notes=tuple(sorted(notes)),
        withdrawn=clean(text_of(parse(withdrawn, url), " "))
        if isinstance(withdrawn, str)
        else None,
    )


def _shingles(paragraphs: Iterable[str], k: int = 3) -> set[tuple[str, ...]]:
    words = canonical(" ".join(paragraphs)).casefold().split()
    if len(words) < k:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + k]) for i in range(len(words) - k + 1)}


def text_overlap(a: Statement, b: Statement) -> float:
    """Share of the shorter text's 3-word shingles found in the other (0..1).

    Containment rather than Jaccard: a statement that grows over five versions
    (a summit's commitments list) still overlaps its first version fully.
    """
    sa, sb = _shingles(a.paragraphs), _shingles(b.paragraphs)
    if not sa or not sb:
        return 1.0 if sa == sb else 0.0
    return len(sa & sb) / min(len(sa), len(sb))


def same_release(old: Statement, new: Statement, *, threshold: float = 0.5) -> bool:
    """Is ``new`` an edit of ``old`` rather than a different release under the same guid?

    The text decides, not the title: in the saved White House feed, guid
    ``?p=53948`` first carried the wrong title over the right text (a title fix,
    an edit), while guid ``?p=55339`` kept its link but swapped both title and a
    13 KB speech for a 1.5 KB different one (a new release). Different release =
    less than half of the shorter text's 3-word shingles shared AND a title that
    is not the same up to case and invisible characters.
    """
    if canonical(old.title).casefold() == canonical(new.title).casefold():
        return True
    if text_overlap(old, new) >= threshold:
        return True
    ratio = SequenceMatcher(
        None, canonical(old.title).casefold(), canonical(new.title).casefold()
    ).ratio()
    return ratio >= 0.9


def title_case_only(old: Statement, new: Statement) -> bool:
    """The same text, with a title that differs only in case (``On`` -> ``on``)."""
    if [canonical(p) for p in old.paragraphs] != [canonical(p) for p in new.paragraphs]:
        return False
    a, b = canonical(old.title), canonical(new.title)
    return a != b and a.casefold() == b.casefold()
