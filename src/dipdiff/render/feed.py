"""The Atom feed (RFC 4287) of changes: pure, deterministic, ids stable across regenerations."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dipdiff.models import Event
from dipdiff.render.common import (
    anchor,
    archive_note,
    change_parts,
    day_of,
    ordered_changes,
    where_label,
)
from dipdiff.render.plain import change_note
from dipdiff.scrape.policy import is_web_url

if TYPE_CHECKING:  # types only: importing the engines costs start-up time
    from dipdiff.analyse.diff import Change


@dataclass(frozen=True)
class FeedEntry:
    id: str
    title: str
    updated: str
    link: str  # the government's page
    author: str
    content_html: str
    report: str = ""  # the report section of the change (relative to the feed, or absolute)


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    entries: tuple[FeedEntry, ...]
    self_link: str = ""
    fallback_updated: str = "1970-01-01T00:00:00Z"  # an empty feed still needs <updated>


def _change_html(c: Change) -> str:
    body = "".join(
        f"<{op}>{html.escape(t)}</{op}>" if op != "text" else html.escape(t)
        for op, t in change_parts(c)
    )
    return f"<li>[{c.significance}] {where_label(c)} · {c.kind}: {body}</li>"


_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: str) -> str:
    return html.escape(_XML_ILLEGAL.sub("", text), quote=True)


def event_html(e: Event) -> str:
    """An event as a small HTML fragment (the feed entry's content)."""
    s = e.statement
    meta = " · ".join(x for x in (s.agency, s.id, e.time) if x)
    parts = [f"<p>{html.escape(meta)}</p>"]
    if e.archive:  # a backfilled edit is never presented as one seen live
        parts.append(f"<p>{html.escape(archive_note(e))}.</p>")
    if e.kind in ("changed", "restored") and e.diff is not None:
        note = html.escape(change_note(e.diff))
        back = f", restored to the text of version {e.restores}" if e.restores else ""
        parts.append(f"<p>version {e.a_version} → version {s.version}{back}: {note}</p>")
        if e.undisclosed:
            parts.append("<p>Undisclosed edit: no new note in GOV.UK's change history.</p>")
        parts.append(
            "<ul>" + "".join(_change_html(c) for c in ordered_changes(e.diff.changes)) + "</ul>"
        )
    elif e.kind == "new":
        parts.append(f"<p>First seen: version {s.version}.</p>")
    elif e.kind == "removed":
        parts.append(
            "<p>The page was removed." + (f" {html.escape(e.note)}" if e.note else "") + "</p>"
        )
    elif e.note:
        parts.append(f"<p>{html.escape(e.note)}</p>")
    return "".join(parts)


TITLES = {
    "changed": "Changed",
    "restored": "Restored",
    "new": "New",
    "removed": "Removed",
    "back": "Back",
    "moved": "Moved",
    "flapping": "Flapping",
}


def feed_entry(e: Event, base: str = "", tag_authority: str = "dipdiff") -> FeedEntry:
    """A feed entry whose id depends only on the statement, its text and the day.

    ``base``: where the reports are published (the entry links to its section of the day's
    report, ``<base>YYYY-MM-DD.md#<anchor>``; relative to the feed when empty).
    """
    s = e.statement
    title = f"{TITLES.get(e.kind, e.kind)}: {s.title or s.id}"
    if e.archive:
        title += " [from the archive]"
    if e.kind == "restored" and e.diff is not None:
        title += f" (restored to the text of version {e.restores}; {change_note(e.diff)})"
    elif e.kind == "changed" and e.diff is not None:
        title += f" ({change_note(e.diff)})"
    # Version numbers shift when an older capture is imported; the text's hash does not.
    text = e.sha256[:12] if e.sha256 else str(s.version)
    if e.kind in ("new", "changed"):
        tail = f"{s.id}@{text}"
    elif e.kind == "restored":
        tail = f"{s.id}@{text}:restored:{e.time}"
    else:
        tail = f"{s.id}:{e.kind}:{e.time}"
    return FeedEntry(
        id=f"tag:{tag_authority},{day_of(e.time)}:{tail}",
        title=title,
        updated=e.time,
        link=s.url,
        author=s.agency or s.source,
        content_html=event_html(e),
        report=f"{base}{day_of(e.time)}.md#{anchor(e)}",
    )


def render_feed(feed: Feed) -> str:
    """Atom 1.0 (RFC 4287). ``updated`` is the newest entry's time, so output is reproducible."""
    entries = sorted(feed.entries, key=lambda e: (e.updated, e.id), reverse=True)
    updated = entries[0].updated if entries else feed.fallback_updated
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"  <id>{_x(feed.id)}</id>",
        f"  <title>{_x(feed.title)}</title>",
        f"  <updated>{_x(updated)}</updated>",
        "  <author><name>dipdiff</name></author>",
        '  <generator uri="https://github.com/dipdiff/dipdiff">dipdiff</generator>',
    ]
    if feed.self_link:
        out.append(f'  <link rel="self" href="{_x(feed.self_link)}"/>')
    for e in entries:
        out += [
            "  <entry>",
            f"    <id>{_x(e.id)}</id>",
            f"    <title>{_x(e.title)}</title>",
            f"    <updated>{_x(e.updated)}</updated>",
            f"    <author><name>{_x(e.author)}</name></author>",
        ]
        if e.report:
            out.append(f'    <link rel="alternate" type="text/markdown" href="{_x(e.report)}"/>')
        if is_web_url(e.link):  # never a javascript: or data: link, whatever a page said
            rel = "related" if e.report else "alternate"
            out.append(f'    <link rel="{rel}" type="text/html" href="{_x(e.link)}"/>')
        out += [f'    <content type="html">{_x(e.content_html)}</content>', "  </entry>"]
    out.append("</feed>")
    return "\n".join(out) + "\n"
