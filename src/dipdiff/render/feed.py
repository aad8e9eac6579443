"""The Atom feed (RFC 4287) of changes: pure, deterministic, ids stable across regenerations."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dipdiff.models import Event
from dipdiff.render.common import change_parts, day_of, ordered_changes, where_label
from dipdiff.render.plain import change_note

if TYPE_CHECKING:  # types only: importing the engines costs start-up time
    from dipdiff.analyse.diff import Change


@dataclass(frozen=True)
class FeedEntry:
    id: str
    title: str
    updated: str
    link: str
    author: str
    content_html: str


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
    if e.kind == "changed" and e.diff is not None:
        note = html.escape(change_note(e.diff))
        parts.append(f"<p>version {e.a_version} → version {s.version}: {note}</p>")
        parts.append(
            "<ul>" + "".join(_change_html(c) for c in ordered_changes(e.diff.changes)) + "</ul>"
        )
    elif e.kind == "new":
        parts.append(f"<p>First seen: version {s.version}.</p>")
    elif e.kind == "removed":
        parts.append(
            "<p>The page was removed." + (f" {html.escape(e.note)}" if e.note else "") + "</p>"
        )
    return "".join(parts)


def feed_entry(e: Event, tag_authority: str = "dipdiff") -> FeedEntry:
    """A feed entry whose id depends only on the statement, the version and the day."""
    s = e.statement
    what = {"changed": "Changed", "new": "New", "removed": "Removed"}.get(e.kind, e.kind)
    title = f"{what}: {s.title or s.id}"
    if e.kind == "changed" and e.diff is not None:
        title += f" ({change_note(e.diff)})"
    tail = f"{s.id}@{s.version}" if e.kind != "removed" else f"{s.id}:removed:{e.time}"
    return FeedEntry(
        id=f"tag:{tag_authority},{day_of(e.time)}:{tail}",
        title=title,
        updated=e.time,
        link=s.url,
        author=s.agency or s.source,
        content_html=event_html(e),
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
        if e.link:
            out.append(f'    <link rel="alternate" type="text/html" href="{_x(e.link)}"/>')
        out += [f'    <content type="html">{_x(e.content_html)}</content>', "  </entry>"]
    out.append("</feed>")
    return "\n".join(out) + "\n"
