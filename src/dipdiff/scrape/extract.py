"""Pure extraction: HTML in, :class:`~dipdiff.models.Statement` out.

The extractor tries site rules first (CSS selectors for title, date, body and
chrome to remove), then a generic strategy that picks the densest block of
paragraph text. It never touches the network, the filesystem or the clock.

Pages are parsed by lxml (libxml2's HTML parser) and selectors run as XPath compiled
once each (``lxml.cssselect``): a 40 KB page takes about a millisecond, where building a
BeautifulSoup tree of it took ten times as long. The helpers below (:func:`parse`,
:func:`select`, :func:`text_of`, :func:`remove`) are what :mod:`dipdiff.scrape.discover`
uses for listing pages and feed items too: one HTML engine, one selector dialect.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit

from lxml import etree
from lxml import html as lxml_html
from lxml.cssselect import CSSSelector

from dipdiff.config import ExtractRules
from dipdiff.errors import ExtractError
from dipdiff.models import Statement
from dipdiff.text import clean, clip, no_surrogates

# Selectors for the government sites dipdiff knows, verified on saved pages where
# ../shared/corpus/NOTES.md says so. They are tried before the generic strategy.
KNOWN_RULES = ExtractRules(
    title=(
        "h1.wp-block-whitehouse-topper__headline",  # whitehouse.gov 2025-
        "h1.featured-content__headline",  # state.gov
        "h1.report-header__headline",
        "h1.page-title",  # whitehouse.gov 2021-2025
        "div.pane-node-title h1",  # whitehouse.gov 2009-2017
        "h1.gem-c-title__text",  # gov.uk
        "h1.page-header",
    ),
    date=(
        'meta[property="article:published_time"]',
        'meta[name="govuk:first-published-at"]',
        'meta[name="dcterms.date"]',
        'meta[name="DC.date.issued"]',
        'meta[name="date"]',
        "p.article-meta__publish-date",
        "div.press-article-date",
        "div.wp-block-post-date time",
        "time[datetime]",
        "time.posted-on",
    ),
    body=(
        "div.entry-content.wp-block-post-content",
        "div.field-name-field-forall-body",
        "section.body-content div.container",
        "div.report__content",
        "div.entry-content",
        "div.page-content__content",
        "div.govspeak",
        "div.gem-c-govspeak",
    ),
    agency=(
        "p.article-meta__author-bureau",
        "div.press-article-heading div.heading-title",
        'meta[name="govuk:primary-publishing-organisation"]',
    ),
    remove=(
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "svg",
        "form",
        "button",
        "nav",
        "aside",
        "header",
        "footer",
        "select",
        "input",
        ".breadcrumb",
        ".breadcrumbs",
        ".share",
        ".social-share",
        ".related-tags",
        ".wp-block-whitehouse-topper",
        ".article-meta",
        ".skip-link",
        ".visually-hidden",
        ".sr-only",
        ".screen-reader-text",
        "[hidden]",
        '[aria-hidden="true"]',
    ),
    drop_paragraphs=(
        r"^The post .{1,300} appeared first on .{1,80}\.?$",
        r"^For Immediate Release$",
        r"^Print$",
        r"^Share( this)?( page)?:?$",
    ),
)

_TITLE_SUFFIX = re.compile(
    r"\s*(?:\||–|—|-|::)\s*(?:whitehouse\.gov|The White House|United States Department of State"
    r"|GOV\.UK|U\.S\. Department of State|United Nations|UN Press"
    r"|Meetings Coverage and Press Releases"
    r"|Page \d+ of \d+.*)\s*$",
    re.IGNORECASE,
)

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body br dd details dialog div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr li main nav ol p pre section "
    "summary table tbody td tfoot th thead tr ul".split()
)

# Elements whose content is code or markup, not the page's text.
_NO_TEXT = frozenset({"script", "style", "template"})
_HAS_WORD = re.compile(r"\w")

# Pages that a server returns with 200 but that are not the statement.
_BLOCK_TITLES = re.compile(
    r"access denied|just a moment|attention required|are you a robot|captcha|request rejected"
    r"|technical difficulties|security check|verify you are human|pardon our interruption"
    r"|403 forbidden|bot (?:detection|protection)",
    re.IGNORECASE,
)

# Error pages served with HTTP 200 (a soft 404, a maintenance page): their title starts so.
_ERROR_TITLES = re.compile(
    r"^\W*(?:error\s*)?(?:\d{3}\b\W*)?"
    r"(?:page not found|not found|file not found|page (?:does not|doesn't) exist"
    r"|service (?:temporarily )?unavailable|internal server error|bad gateway|gateway time-?out"
    r"|(?:site |website )?(?:is )?(?:under|down for) maintenance"
    r"|temporarily unavailable|an error occurred)\b",
    re.IGNORECASE,
)

MIN_BODY_WORDS = 15


_MOJIBAKE = re.compile(
    "[\u00c2\u00c3\u00c5\u00e2][\u0080-\u00bf\u2018-\u203a\u0152-\u0192\u02c6\u02dc]"
)


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 text that was decoded as Latin-1/Windows-1252 ("EspaÃ±ol" -> "Español")."""
    if not _MOJIBAKE.search(text):
        return text
    for enc in ("cp1252", "latin-1"):
        try:
            fixed = text.encode(enc).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if len(_MOJIBAKE.findall(fixed)) < len(_MOJIBAKE.findall(text)):
            return fixed

    # Mixed text: repair run by run.
    def fix(m: re.Match[str]) -> str:
        for enc in ("cp1252", "latin-1"):
            try:
                return m.group(0).encode(enc).decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
        return m.group(0)

    return re.sub(
        "[\u00c2-\u00f4][\u0080-\u00bf\u2018-\u203a\u0152-\u0192\u02c6\u02dc\u20ac\u2122]{1,3}",
        fix,
        text,
    )


def _repaired(text: str) -> str:
    """Mojibake repaired, as many times as a page was mis-decoded, and cleaned again.

    Pages encoded twice exist ("TransitionÃ¢Â€Â™s"): one repair leaves C1 controls
    ("Transitionâ\x80\x99s") that a second one turns into the apostrophe.
    """
    for _ in range(3):
        fixed = repair_mojibake(text)
        if fixed == text:
            break
        text = fixed
    return clean(text)


if TYPE_CHECKING:
    from lxml.etree import _Element as Element


# Elements parsed from one document at most: ten times the largest statement page seen (the
# 2023 Libya human rights report, about 2,000). Work and memory grow with the elements (the CSS
# rules match each of them): 700,000 tiny paragraphs within the 10 MB size cap cost half a
# CPU-minute and 320 MB; 20,000 about a CPU-second and 30 MB.
MAX_ELEMENTS = 20_000
# libxml2 drops whatever is nested deeper than 256 elements (2,048 with XML_PARSE_HUGE, which the
# size cap and MAX_ELEMENTS make safe to use): a page is read whole or not at all.
MAX_DEPTH = 2_048


def parse(html: str, url: str = "") -> Element:
    """The page's ``<html>`` element (an empty one for an empty or unparseable page).

    Raises :class:`ExtractError` for a document of more than ``MAX_ELEMENTS`` elements, or nested
    deeper than ``MAX_DEPTH``: a text the parser would cut short is never stored as a version.
    """
    where = url or "<page>"
    # Start tags, counted without parsing: a bound has to be cheaper than the work it bounds.
    elements = html.count("<") - html.count("</")
    if elements > MAX_ELEMENTS:
        raise ExtractError(
            where, f"too many elements (about {elements:,}; at most {MAX_ELEMENTS:,} are read)"
        )
    # As bytes with the encoding named: a page decoded to text may still declare another
    # encoding (``<?xml encoding=...?>``, ``<meta charset>``), which lxml would otherwise obey.
    data = no_surrogates(html).encode("utf-8")
    parser = lxml_html.HTMLParser(encoding="utf-8", huge_tree=True)
    try:
        root = lxml_html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError):
        return etree.Element("html")
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
        raise ExtractError(
            where, f"nested too deep (over {MAX_DEPTH:,} elements): the page cannot be read whole"
        )
    return root


@functools.lru_cache(maxsize=512)
def _compiled(selector: str) -> CSSSelector:
    return CSSSelector(selector, translator="html")


def select(el: Element, selector: str, *, inside: bool = False) -> list[Element]:
    """Elements matching a CSS selector, in document order: ``el`` and its descendants, or
    with ``inside`` its descendants only. A bad selector raises (the caller decides)."""
    found = cast("list[Element]", _compiled(selector)(el))
    return [e for e in found if e is not el] if inside else found


def select_one(el: Element, selector: str, *, inside: bool = False) -> Element | None:
    found = select(el, selector, inside=inside)
    return found[0] if found else None


def body_of(root: Element) -> Element | None:
    return next(root.iter("body"), None)


def remove(el: Element) -> None:
    """Take an element out of the page, keeping the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        before = el.getprevious()
        if before is not None:
            before.tail = (before.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _is_element(node: Element) -> bool:
    """Not a comment or a processing instruction (their ``tag`` is a function)."""
    tag: object = node.tag
    return isinstance(tag, str)


def _strings(el: Element) -> Iterator[str]:
    """The text of ``el`` piece by piece; scripts, styles and templates inside it say nothing."""
    if not any(d is not el for d in el.iter(*_NO_TEXT)):
        yield from cast("Iterator[str]", el.itertext())
        return
    if el.text:
        yield el.text
    # A loop, as in paragraphs_of(): a child iterator, or a tail due once its child is done.
    stack: list[Iterator[Element] | str] = [iter(el)]
    while stack:
        top = stack.pop()
        if isinstance(top, str):
            yield top
        elif (child := next(top, None)) is not None:
            stack.append(top)
            if child.tail:
                stack.append(child.tail)
            if _is_element(child) and child.tag not in _NO_TEXT:
                if child.text:
                    yield child.text
                stack.append(iter(child))


def text_of(el: Element, separator: str = "", *, strip: bool = False) -> str:
    """All the text inside ``el``, its pieces joined by ``separator`` (each stripped, and the
    empty ones left out, with ``strip``)."""
    if strip:
        return separator.join(t for t in (s.strip() for s in _strings(el)) if t)
    return separator.join(_strings(el))


def extract(
    html: str,
    url: str = "",
    *,
    rules: ExtractRules | None = None,
    agency: str | None = None,
    source: str = "",
) -> Statement:
    """Extract the statement from a page. Raises :class:`ExtractError` when there is none."""
    root = parse(html, url)
    rule_sets = [r for r in (rules, KNOWN_RULES) if r is not None]

    title = _first_title(root, rule_sets)
    published = _first_date(root, rule_sets)
    found_agency = agency or _first_agency(root, rule_sets) or _agency_from_url(url)

    body_el, by_rule = _find_body(root, rule_sets)
    if body_el is None:
        raise ExtractError(url or "<page>", "no statement text found on the page")
    # Chrome is removed inside the body only: on malformed pages lxml can nest the
    # whole article inside an unclosed <nav> or <header>.
    for r in rule_sets:
        for sel in r.remove:
            try:
                found = select(body_el, sel, inside=True)
            except Exception:  # noqa: BLE001, S112 - a bad selector in user rules must not crash a run
                continue
            for el in found:
                remove(el)
    if not by_rule:
        _drop_link_labels(body_el)
    drop = [re.compile(p) for r in rule_sets for p in r.drop_paragraphs]
    paragraphs = [
        p
        for p in (_repaired(x) for x in paragraphs_of(body_el))
        if _HAS_WORD.search(p) and not any(d.search(p) for d in drop)
    ]
    if paragraphs and title and clean(paragraphs[0]).casefold() == title.casefold():
        paragraphs = paragraphs[1:]
    if not title:
        title = paragraphs[0][:200] if paragraphs else ""
    if not paragraphs:
        raise ExtractError(url or "<page>", "no statement text found on the page")
    return Statement(
        title=_repaired(title),
        paragraphs=tuple(paragraphs),
        url=url,
        agency=clean(found_agency),
        published=published,
        source=source,
    )


def blocked_reason(html: str, statement: Statement | None) -> str | None:
    """Why a 200 response is not a real statement (bot wall, empty shell), or ``None``."""
    soup_title = ""
    m = re.search(r"<title[^>]*>(.*?)</title>", html[:20000], re.IGNORECASE | re.DOTALL)
    if m:
        soup_title = clean(m.group(1))
    for text in (soup_title, statement.title if statement else ""):
        if text and _BLOCK_TITLES.search(text):
            return f"looks like a bot-block page ({clip(text, 60)!r})"
        if text and _ERROR_TITLES.search(text):
            return f"looks like an error page served as a success ({clip(text, 60)!r})"
    if statement is not None and statement.words < MIN_BODY_WORDS:
        return f"body extracted to only {statement.words} words"
    return None


def paragraphs_of(el: Element) -> list[str]:
    """Split an element into paragraphs at block boundaries; inline markup is flattened."""
    out: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            # Repair before clean(): clean() drops the C1 characters ("â\x80\x99") that
            # the repair needs to turn mis-decoded UTF-8 back into the apostrophe.
            text = _repaired("".join(buf))
            if text:
                out.append(text)
            buf.clear()

    # A loop over a stack, not recursion: a page nested a few thousand elements deep (55 KB is
    # enough) would overflow Python's stack and fail the whole run. On the stack: an element's
    # child iterator, a tail to add once the child before it is done, or None, the end of a
    # block element (its text ends a paragraph).
    if el.text:
        buf.append(el.text)
    stack: list[Iterator[Element] | str | None] = [iter(el)]
    while stack:
        top = stack.pop()
        if top is None:
            flush()
        elif isinstance(top, str):
            buf.append(top)
        elif (child := next(top, None)) is not None:
            stack.append(top)  # its next child, after this one
            if child.tail:
                stack.append(child.tail)
            if _is_element(child):
                if child.tag in _BLOCK_TAGS:
                    flush()
                    stack.append(None)
                if child.text:
                    buf.append(child.text)
                stack.append(iter(child))
    flush()
    return out


def _select_text(root: Element, selectors: Iterable[str]) -> str | None:
    for sel in selectors:
        try:
            el = select_one(root, sel)
        except Exception:  # noqa: BLE001, S112 - a bad selector in user rules must not crash a run
            continue
        if el is None:
            continue
        value = el.get("content") or el.get("datetime") if el.tag in ("meta", "time") else None
        text = clean(str(value) if value else text_of(el, " "))
        if text:
            return text
    return None


def _first_title(root: Element, rule_sets: Sequence[ExtractRules]) -> str:
    for r in rule_sets:
        t = _select_text(root, r.title)
        if t:
            return t
    for sel in ('meta[property="og:title"]', 'meta[name="twitter:title"]', "h1"):
        t = _select_text(root, [sel])
        if t:
            return _TITLE_SUFFIX.sub("", t)
    title = next(root.iter("title"), None)
    # Only a title that is one piece of text (markup inside is not a title).
    if title is not None and title.text and not len(title):
        return _TITLE_SUFFIX.sub("", clean(title.text))
    return ""


def _first_date(root: Element, rule_sets: Sequence[ExtractRules]) -> str | None:
    for r in rule_sets:
        for sel in r.date:
            raw = _select_text(root, [sel])
            if raw:
                iso = parse_date(raw)
                if iso:
                    return iso
    for script in root.iter("script"):
        if script.get("type") == "application/ld+json" and not len(script):
            iso = _jsonld_date(script.text or "")
            if iso:
                return iso
    return None


def _first_agency(root: Element, rule_sets: Sequence[ExtractRules]) -> str | None:
    for r in rule_sets:
        a = _select_text(root, r.agency)
        if a:
            return a
    return _select_text(root, ['meta[property="og:site_name"]'])


def _agency_from_url(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def _jsonld_date(text: str) -> str | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key in ("datePublished", "dateCreated"):
                if isinstance(item.get(key), str):
                    iso = parse_date(item[key])
                    if iso:
                        return iso
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


_DATE_FORMATS = (
    "%B %d, %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%a, %d %b %Y %H:%M:%S %z",
    "%A, %B %d, %Y",
)


def parse_date(raw: str) -> str | None:
    """ISO 8601 from the date forms government pages use; ``None`` when there is no date."""
    raw = clean(raw)
    try:
        dt = datetime.fromisoformat(raw)
        return (
            dt.isoformat()
            if (dt.hour, dt.minute, dt.second) != (0, 0, 0) or "T" in raw
            else dt.date().isoformat()
        )
    except ValueError:
        pass
    m = re.search(
        r"(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s+)?"
        r"((?:January|February|March|April|May|June|July|August|September|October|November|December"
        r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?\s+\d{1,2},?\s+\d{4}"
        r"|\d{1,2}\s+(?:January|February|March|April|May|June|July|August|September|October"
        r"|November|December)\s+\d{4})",
        raw,
    )
    candidate = re.sub(r"\bSept\b", "Sep", m.group(1).replace(".", "")) if m else raw
    candidate = re.sub(r"\s+", " ", candidate)
    if m and "," not in candidate and candidate[0].isalpha():
        candidate = re.sub(r"(\d{1,2}) (\d{4})$", r"\1, \2", candidate)
    for fmt in _DATE_FORMATS:
        try:
            dt = datetime.strptime(candidate, fmt)  # noqa: DTZ007 - the page's own date, as printed
        except ValueError:
            continue
        return dt.isoformat() if "%H" in fmt else dt.date().isoformat()
    return None


# The landmarks of an HTML page that hold its main content, most specific first. Unlike a site
# rule, a landmark that a page repeats is a list of teasers (a "highlights" page, rotating photos
# beside the text), never the body: only one standing alone counts.
_LANDMARKS = ("article", "main", '[role="main"]', "#content")
_MIN_BODY_WEIGHT = 20


def _find_body(root: Element, rule_sets: Sequence[ExtractRules]) -> tuple[Element | None, bool]:
    """The element holding the statement, and whether a site rule (not the generic strategy)
    found it."""
    for r in rule_sets:
        for sel in r.body:
            try:
                els = select(root, sel)
            except Exception:  # noqa: BLE001, S112 - a bad selector in user rules must not crash a run
                continue
            best = max(els, key=_text_weight, default=None)
            if best is not None and _text_weight(best) >= _MIN_BODY_WEIGHT:
                return best, True
    for sel in _LANDMARKS:
        els = select(root, sel)
        if len(els) == 1 and _text_weight(els[0]) >= _MIN_BODY_WEIGHT:
            return els[0], False
    return _densest_block(root), False


# A link label at most this long that several links with different targets share is the page's
# furniture ("View Article", "Read more", "View this Dataset"), not its text.
_LABEL_WORDS = 4


def _drop_link_labels(body: Element) -> None:
    """Repeated link labels out of a body the generic strategy found.

    On a listing every item ends with the same "View Article" link, so rotating items make a
    redline of identical labels. What such a link stands for is its target: one that another
    link of the body already names (the item's headline) goes; one that nothing else names (the
    data set behind "View this Dataset") stays, written as its label and target, so that
    removing it is a change.
    """
    links = [
        (a, clean(text_of(a, " ")), _target(str(a.get("href"))))
        for a in body.iter("a")
        if a.get("href") is not None
    ]
    labels: dict[str, set[str]] = {}
    named: dict[str, set[str]] = {}  # target -> the labels that link to it
    for _, label, href in links:
        labels.setdefault(label.casefold(), set()).add(href)
        named.setdefault(href, set()).add(label.casefold())
    for a, label, href in links:
        key = label.casefold()
        if not label or len(label.split()) > _LABEL_WORDS or len(labels[key]) < 2:
            continue
        if named[href] - {key}:
            remove(a)
        else:
            tail = a.tail
            a.clear()  # its markup, attributes and tail: the tail is the next text's, kept
            a.text, a.tail = f"{label} ({href})", tail


def _target(href: str) -> str:
    """Where a link points, as a page writes it either way: its path and query, without the
    scheme and host (a site rewriting its links from absolute to relative is no change)."""
    parts = urlsplit(href.strip())
    if parts.scheme not in ("", "http", "https"):
        return href.strip()
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


_PARAGRAPH_LIKE = ("p", "li", "blockquote", "h2", "h3")


def _text_weight(el: Element) -> int:
    """Words in paragraph-like children: long running text counts, link lists do not."""
    total = 0
    for p in [d for d in el.iter(*_PARAGRAPH_LIKE) if d is not el] or [el]:
        text = text_of(p, " ", strip=True)
        links = sum(len(text_of(a, " ", strip=True)) for a in p.iter("a") if a is not p)
        if len(text) and links / max(len(text), 1) < 0.5:
            total += len(text.split())
    return total


def _densest_block(root: Element) -> Element | None:
    """The element that directly holds the most paragraph words (readability-style)."""
    scores: dict[int, tuple[int, Element]] = {}
    for p in root.iter("p"):
        parent = p.getparent()
        if parent is None:
            continue
        words = len(text_of(p, " ", strip=True).split())
        prev = scores.get(id(parent), (0, parent))
        scores[id(parent)] = (prev[0] + words, parent)
    if not scores:
        body = body_of(root)
        return body if body is not None and text_of(body, strip=True) else None
    return max(scores.values(), key=lambda s: s[0])[1]
