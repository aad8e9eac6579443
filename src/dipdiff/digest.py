"""Pure renderers for monitoring output: the markdown report, the reports index, the Atom feed.

Everything here is a function of its arguments: no clock, no filesystem, no network. The
same input gives byte-identical output, so a report committed to git only changes when
the store does. :mod:`dipdiff.monitor` builds the inputs from the store.

The redline of each statement comes from the diff engine's own renderer
(:func:`dipdiff.report.diff_markdown`); this module arranges statements, changes and
divergences around it.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dipdiff.diff import Change, DiffResult
from dipdiff.report import diff_markdown

#: Event kinds, in the order the report shows them.
EVENT_KINDS = ("changed", "new", "removed", "moved", "unavailable", "blocked")
#: Kinds that count as "something happened" (exit code 1, a commit, a feed entry).
CHANGE_KINDS = frozenset({"changed", "new", "removed", "moved"})
_SIG_RANK = {"substantive": 0, "minor": 1, "cosmetic": 2}
_MAX_QUOTE_WORDS = 40
_COUNTS_MARK = "<!-- dipdiff-report "


@dataclass(frozen=True)
class StatementRef:
    """Enough about one statement to name and link it."""

    id: str
    title: str
    url: str
    agency: str = ""
    version: int | None = None

    @property
    def source(self) -> str:
        return self.id.split("/", 1)[0]


@dataclass(frozen=True)
class Event:
    """What happened to one statement within a report's window."""

    kind: str  # one of EVENT_KINDS
    statement: StatementRef  # version: the latest version in the window
    time: str  # when it was detected (the check's time)
    a_version: int | None = None  # "changed": the version compared from
    a_time: str | None = None
    b_time: str | None = None
    diff: DiffResult | None = None  # "changed": a_version -> statement.version
    note: str = ""

    @property
    def worst(self) -> str:
        """The most significant kind of change in the diff (``cosmetic`` when none)."""
        sigs = [c.significance for c in self.diff.changes] if self.diff else []
        return min(sigs, key=_SIG_RANK.__getitem__, default="cosmetic")


@dataclass(frozen=True)
class StanceRow:
    """One actor and the stance each side of a divergence takes towards it."""

    actor: str
    a: str
    b: str


@dataclass(frozen=True)
class Quote:
    """Evidence: a sentence of one statement (``statement_id``) about ``actor``."""

    statement_id: str
    text: str
    actor: str = ""


@dataclass(frozen=True)
class Divergence:
    """Two statements of different agencies that disagree about the same event."""

    a: StatementRef
    b: StatementRef
    summary: str = ""
    stances: tuple[StanceRow, ...] = ()
    evidence: tuple[Quote, ...] = ()
    score: float | None = None


@dataclass(frozen=True)
class ReportInput:
    """Everything one report shows. ``since``/``until`` bound the window (``since`` exclusive)."""

    date: str  # YYYY-MM-DD, the report's title date
    until: str
    since: str | None = None
    events: tuple[Event, ...] = ()
    divergences: tuple[Divergence, ...] = ()
    checks: int = 0  # checks made within the window
    runs: tuple[str, ...] = ()  # ids of the runs the window covers
    sources: tuple[str, ...] = ()  # sources checked within the window (rows of the summary)
    notes: tuple[str, ...] = ()  # run-level trouble: interrupted runs, unreachable sources

    def counts(self) -> dict[str, int]:
        c = {k: sum(1 for e in self.events if e.kind == k) for k in ("new", "changed", "removed")}
        return c | {"divergent": len(self.divergences)}


@dataclass(frozen=True)
class IndexEntry:
    """One report listed in ``reports/README.md``."""

    date: str
    filename: str
    counts: dict[str, int] = field(default_factory=dict)


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


# -- text helpers ---------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~#!])")


def md_text(text: str) -> str:
    """Page text made inert for markdown: HTML-escaped, markdown punctuation backslashed."""
    one_line = re.sub(r"\s+", " ", text)
    return _MD_SPECIAL.sub(r"\\\1", html.escape(one_line, quote=False))


def md_url(url: str) -> str:
    """A URL safe inside ``[text](url)``."""
    return re.sub(r"[\s<>()]", lambda m: f"%{ord(m.group()):02X}", url)


def md_link(text: str, url: str) -> str:
    return f"[{md_text(text)}]({md_url(url)})" if url else md_text(text)


def _clip(text: str, words: int = _MAX_QUOTE_WORDS) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def _day(timestamp: str | None) -> str:
    return (timestamp or "")[:10]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


# -- changes, shared by markdown and HTML ------------------------------------------------------


def ordered_changes(changes: Iterable[Change]) -> list[Change]:
    """Substantive first, then minor, then cosmetic; document order within each."""
    indexed = list(enumerate(changes))
    indexed.sort(key=lambda ic: (_SIG_RANK.get(ic[1].significance, 0), ic[0]))
    return [c for _, c in indexed]


def _where(c: Change) -> str:
    if c.where == "title":
        return "title"
    n = c.b_paragraph if c.b_paragraph is not None else c.a_paragraph
    return f"¶{n + 1}" if n is not None else "body"


def _change_parts(c: Change) -> list[tuple[str, str]]:
    """A change as (op, text) runs: op is ``del``, ``ins`` or ``text``."""
    old, new = _clip(c.old), _clip(c.new)
    if c.kind == "move":
        return [("text", "moved: "), ("text", f"“{_clip(c.new, 12)}”")]
    parts: list[tuple[str, str]] = []
    if old.strip():
        parts.append(("del", old))
    if old.strip() and new.strip():
        parts.append(("text", " → "))
    if new.strip():
        parts.append(("ins", new))
    if not parts:  # whitespace only
        parts.append(("text", "whitespace"))
    return parts


def _change_md(c: Change) -> str:
    body = "".join(f"<{op}>{md_text(t)}</{op}>" if op != "text" else md_text(t)
                   for op, t in _change_parts(c))
    extra = f" · signals: {md_text(', '.join(c.signals))}" if c.signals else ""
    return f"- {_where(c)} · {c.kind}: {body}{extra}"


def _change_html(c: Change) -> str:
    body = "".join(f"<{op}>{html.escape(t)}</{op}>" if op != "text" else html.escape(t)
                   for op, t in _change_parts(c))
    return f"<li>[{c.significance}] {_where(c)} · {c.kind}: {body}</li>"


def change_note(diff: DiffResult) -> str:
    s = diff.summary()
    parts = [f"{s[k]} {k}" for k in ("substantive", "minor", "cosmetic") if s[k]]
    return _plural(s["changes"], "change") + (f": {', '.join(parts)}" if parts else "")


# -- the report -----------------------------------------------------------------------------


def render_report(r: ReportInput) -> str:
    """The markdown report: title, summary table, changed/new/removed statements, divergences."""
    counts = r.counts()
    out = [
        _COUNTS_MARK + json.dumps(counts, sort_keys=True) + " -->",
        f"# dipdiff report — {r.date}",
        "",
        _window_line(r),
        "",
    ]
    out += _summary_table(r)
    changed = sorted((e for e in r.events if e.kind == "changed"),
                     key=lambda e: (_SIG_RANK[e.worst], -len(e.diff.changes) if e.diff else 0,
                                    e.statement.id))
    if changed:
        out += ["## Changed statements", ""]
        for e in changed:
            out += _changed_section(e)
    for kind, heading in (("new", "New statements"), ("removed", "Removed statements"),
                          ("moved", "Moved statements")):
        events = sorted((e for e in r.events if e.kind == kind), key=lambda e: e.statement.id)
        if events:
            out += [f"## {heading}", ""] + [_event_line(e) for e in events] + [""]
    if r.divergences:
        out += ["## Divergences", ""]
        for d in sorted(r.divergences, key=lambda d: (-(d.score or 0), d.a.id, d.b.id)):
            out += _divergence_section(d)
    trouble = sorted((e for e in r.events if e.kind in ("unavailable", "blocked")),
                     key=lambda e: (e.kind, e.statement.id))
    if trouble or r.notes:
        out += ["## Problems", ""]
        out += [_event_line(e) for e in trouble]
        out += [f"- {md_text(n)}" for n in r.notes]
        out += [""]
    if not any(counts.values()) and not any(e.kind in CHANGE_KINDS for e in r.events):
        out += ["Nothing changed.", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _window_line(r: ReportInput) -> str:
    span = f"from {r.since} to {r.until}" if r.since else f"up to {r.until}"
    runs = f" in {_plural(len(r.runs), 'run')}" if r.runs else ""
    return f"Checks {span}{runs}: {_plural(r.checks, 'statement check')}."


def _summary_table(r: ReportInput) -> list[str]:
    sources: dict[str, dict[str, int]] = {}

    def row(source: str) -> dict[str, int]:
        return sources.setdefault(source, {"new": 0, "changed": 0, "removed": 0, "divergent": 0})

    for source in r.sources:
        row(source)
    for e in r.events:
        if e.kind in ("new", "changed", "removed"):
            row(e.statement.source)[e.kind] += 1
        else:
            row(e.statement.source)
    for d in r.divergences:
        for source in sorted({d.a.source, d.b.source}):
            row(source)["divergent"] += 1
    lines = ["| source | new | changed | removed | divergent |", "|---|---:|---:|---:|---:|"]
    for source in sorted(sources):
        c = sources[source]
        lines.append(f"| {md_text(source)} | {c['new']} | {c['changed']} | {c['removed']} | {c['divergent']} |")
    t = r.counts()
    lines.append(f"| **total** | {t['new']} | {t['changed']} | {t['removed']} | {t['divergent']} |")
    return lines + [""]


def _meta_line(e: Event) -> str:
    s = e.statement
    bits = [md_text(s.agency)] if s.agency else []
    bits.append(f"`{s.id}`")
    if e.kind == "changed" and e.a_version is not None:
        when = lambda t: f" ({_day(t)})" if t else ""  # noqa: E731
        bits.append(f"version {e.a_version}{when(e.a_time)} → version {s.version}{when(e.b_time)}")
    if e.diff is not None:
        bits.append(change_note(e.diff))
    return " · ".join(bits)


def _changed_section(e: Event) -> list[str]:
    s = e.statement
    out = [f"### {md_link(s.title or s.id, s.url)}", "", _meta_line(e), ""]
    if e.diff is None:
        return out
    changes = ordered_changes(e.diff.changes)
    visible = [c for c in changes if c.significance != "cosmetic"]
    cosmetic = [c for c in changes if c.significance == "cosmetic"]
    for sig in ("substantive", "minor"):
        group = [c for c in visible if c.significance == sig]
        if group:
            out += [f"**{sig.capitalize()}**", ""] + [_change_md(c) for c in group] + [""]
    redline = _redline(e)
    if visible:
        out += ["**Redline**", "", redline, ""]
    if cosmetic:
        out += ["<details>", f"<summary>{_plural(len(cosmetic), 'cosmetic change')}"
                + (" and the redline" if not visible else "") + "</summary>", ""]
        out += [_change_md(c) for c in cosmetic] + [""]
        if not visible:
            out += [redline, ""]
        out += ["</details>", ""]
    return out


def _redline(e: Event) -> str:
    """The diff engine's markdown redline, with its own heading dropped (the section has one)."""
    assert e.diff is not None
    s = e.statement
    text = diff_markdown(e.diff, a_label=f"{s.id}@{e.a_version}", b_label=f"{s.id}@{s.version}")
    lines = text.rstrip("\n").split("\n")
    if lines and lines[0].startswith("#"):
        lines = lines[1:]
        while lines and not lines[0].strip():
            lines = lines[1:]
    # Keep the renderer's headings below this report's level-3 statement headings.
    return "\n".join("###" + ln if re.match(r"#{1,3} ", ln) else ln for ln in lines)


def _event_line(e: Event) -> str:
    s = e.statement
    what = {"new": f"version {s.version}", "removed": "removed", "moved": "moved",
            "unavailable": "unavailable", "blocked": "blocked"}[e.kind]
    note = f" — {md_text(e.note)}" if e.note else ""
    agency = f" · {md_text(s.agency)}" if s.agency else ""
    return f"- {md_link(s.title or s.id, s.url)}{agency} · `{s.id}` · {what} ({e.time}){note}"


def _divergence_section(d: Divergence) -> list[str]:
    a_name, b_name = d.a.agency or d.a.source, d.b.agency or d.b.source
    out = [f"### {md_text(a_name)} ↔ {md_text(b_name)}", ""]
    for side, ref in (("A", d.a), ("B", d.b)):
        at = f"@{ref.version}" if ref.version else ""
        out.append(f"- {side}: {md_link(ref.title or ref.id, ref.url)} · `{ref.id}{at}`")
    out.append("")
    if d.summary:
        out += [md_text(d.summary), ""]
    if d.stances:
        out += [f"| actor | A: {md_text(a_name)} | B: {md_text(b_name)} |", "|---|---|---|"]
        out += [f"| {md_text(s.actor)} | {md_text(s.a or '—')} | {md_text(s.b or '—')} |" for s in d.stances]
        out += [""]
    for q in d.evidence:
        side = "A" if q.statement_id == d.a.id else "B" if q.statement_id == d.b.id else q.statement_id
        about = f" (on {md_text(q.actor)})" if q.actor else ""
        out += [f"> {md_text(_clip(q.text, 60))}", ">", f"> — {side}{about}", ""]
    return out


def report_counts(text: str) -> dict[str, int] | None:
    """The counts a report carries in its first line (for the index), or None."""
    first = text.split("\n", 1)[0]
    if not first.startswith(_COUNTS_MARK) or not first.endswith(" -->"):
        return None
    try:
        data = json.loads(first[len(_COUNTS_MARK):-4])
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


# -- the index ------------------------------------------------------------------------------


def render_index(entries: Sequence[IndexEntry], feed: str = "feed.xml") -> str:
    """``reports/README.md``: every report, newest first, with its counts."""
    out = ["# dipdiff reports", "",
           f"One report per day on which dipdiff ran. Subscribe to changes: [{feed}]({feed}) (Atom).", ""]
    if not entries:
        return "\n".join(out + ["No reports yet.", ""])
    out += ["| report | new | changed | removed | divergent |", "|---|---:|---:|---:|---:|"]
    for e in sorted(entries, key=lambda e: (e.date, e.filename), reverse=True):
        c = e.counts
        cells = " | ".join(str(c.get(k, "?")) for k in ("new", "changed", "removed", "divergent"))
        out.append(f"| [{md_text(e.date)}]({md_url(e.filename)}) | {cells} |")
    return "\n".join(out) + "\n"


# -- the Atom feed --------------------------------------------------------------------------

_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: str) -> str:
    return html.escape(_XML_ILLEGAL.sub("", text), quote=True)


def event_html(e: Event) -> str:
    """An event as a small HTML fragment (the feed entry's content)."""
    s = e.statement
    meta = " · ".join(x for x in (s.agency, s.id, e.time) if x)
    parts = [f"<p>{html.escape(meta)}</p>"]
    if e.kind == "changed" and e.diff is not None:
        parts.append(f"<p>version {e.a_version} → version {s.version}: {html.escape(change_note(e.diff))}</p>")
        parts.append("<ul>" + "".join(_change_html(c) for c in ordered_changes(e.diff.changes)) + "</ul>")
    elif e.kind == "new":
        parts.append(f"<p>First seen: version {s.version}.</p>")
    elif e.kind == "removed":
        parts.append("<p>The page was removed." + (f" {html.escape(e.note)}" if e.note else "") + "</p>")
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
        id=f"tag:{tag_authority},{_day(e.time)}:{tail}",
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
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<feed xmlns="http://www.w3.org/2005/Atom">',
           f"  <id>{_x(feed.id)}</id>",
           f"  <title>{_x(feed.title)}</title>",
           f"  <updated>{_x(updated)}</updated>",
           "  <author><name>dipdiff</name></author>",
           '  <generator uri="https://github.com/dipdiff/dipdiff">dipdiff</generator>']
    if feed.self_link:
        out.append(f'  <link rel="self" href="{_x(feed.self_link)}"/>')
    for e in entries:
        out += ["  <entry>",
                f"    <id>{_x(e.id)}</id>",
                f"    <title>{_x(e.title)}</title>",
                f"    <updated>{_x(e.updated)}</updated>",
                f"    <author><name>{_x(e.author)}</name></author>"]
        if e.link:
            out.append(f'    <link rel="alternate" type="text/html" href="{_x(e.link)}"/>')
        out += [f'    <content type="html">{_x(e.content_html)}</content>', "  </entry>"]
    out.append("</feed>")
    return "\n".join(out) + "\n"
