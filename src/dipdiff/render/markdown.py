"""Markdown that renders on GitHub: diff redlines, comparisons, the monitoring report and its index.

Everything here is a function of its arguments: no clock, no filesystem, no network. The
same input gives byte-identical output, so a report committed to git only changes when
the store does. :mod:`dipdiff.pipeline.report` builds the report's input from the store.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dipdiff.analyse.language import ENGLISH, language_name
from dipdiff.models import (
    CHANGE_KINDS,
    SIG_RANK,
    Divergence,
    Event,
    Origin,
    Statement,
    StatementRef,
)
from dipdiff.render.common import (
    anchor,
    archive_note,
    change_parts,
    day_of,
    marked_insert,
    ordered_changes,
    percent,
    plural,
    tagged,
    where_label,
)
from dipdiff.render.plain import (
    alignment_note,
    change_note,
    fold_context,
    moved_note,
    not_analysed_notes,
    pair_lines,
    stance_cell,
    summary,
)
from dipdiff.scrape.policy import is_web_url
from dipdiff.text import clip

if TYPE_CHECKING:  # types only: importing the engines costs start-up time
    from dipdiff.analyse.compare import Comparison
    from dipdiff.analyse.diff import Change, DiffResult, Segment


def compare_markdown(
    c: Comparison,
    a_label: str = "A",
    b_label: str = "B",
    origins: tuple[Origin | None, Origin | None] = (None, None),
) -> str:
    lines = [
        f"## {md_text(c.a.title or a_label)} ↔ {md_text(c.b.title or b_label)}",
        "",
        f"- A: {_side(a_label, origins[0], c.a)}",
        f"- B: {_side(b_label, origins[1], c.b)}",
        "",
        f"**{md_text(summary(c))}**",
        "",
        "### Actors and stances",
        "",
    ]
    lines += [f"*{md_text(note)}*\n" for note in not_analysed_notes(c)]
    if c.actors:
        lines += ["| actor | A | B | divergent |", "|---|---|---|---|"]
        for x in c.actors:
            mark = "**yes** — " + md_text("; ".join(x.reasons)) if x.divergent else ""
            a, b = md_text(stance_cell(x.a)), md_text(stance_cell(x.b))
            lines.append(f"| {md_text(x.name)} | {a} | {b} | {mark} |")
        lines.append("")
        for x in c.divergent_actors:
            lines += [f"#### {md_text(x.name)}", ""]
            if x.aliases:
                lines += [f"Also named: {md_text(', '.join(x.aliases))}", ""]
            for side, s in (("A", x.a), ("B", x.b)):
                for e in s.evidence:
                    lines += [f"> {md_text(e)}", ">", f"> — {side}", ""]
    else:
        lines += ["No actors named.", ""]
    lines += ["### Shared wording", ""]
    note = alignment_note(c)
    if note:
        lines += [f"*{md_text(note)}*", ""]
    lines += [
        (
            "- " + "  \n  ".join(md_text(x) for x in pair_lines(s))
            if s.translated
            else f"- ({s.match}, {percent(s.similarity, changed=bool(s.changes))}) "
            + tagged(s.segments, md_text, marked=True)
        )
        for s in c.shared
    ] or ["None."]
    for title, items in (("Only in A", c.only_a), ("Only in B", c.only_b)):
        lines += ["", f"### {title}", ""]
        lines += [f"- {md_text(t)}" for t in items] or ["None."]
    return "\n".join(lines) + "\n"


def _side(label: str, origin: Origin | None, st: Statement) -> str:
    """One side of a diff or comparison: its label, agency, URL and capture time."""
    bits = [f"`{md_text(label)}`" if origin is not None and origin.known else md_text(label)]
    if st.agency:
        bits.append(md_text(st.agency))
    if origin is not None and origin.known:
        if st.url:
            bits.append(md_link(st.url, st.url))
        if origin.fetched_at:
            bits.append(f"captured {origin.fetched_at}")
    return " · ".join(bits)


_COUNTS_MARK = "<!-- dipdiff-report "


@dataclass(frozen=True)
class ReportInput:
    """Everything one report shows. ``since``/``until`` bound the window (``since`` exclusive)."""

    date: str  # YYYY-MM-DD, the report's title date
    until: str
    since: str | None = None
    events: tuple[Event, ...] = ()  # one per check that recorded one, in the order they happened
    spells: tuple[Event, ...] = ()  # spells of trouble (unavailable, blocked), one each
    divergences: tuple[Divergence, ...] = ()
    checks: int = 0  # checks made within the window
    runs: tuple[str, ...] = ()  # ids of the runs the window covers
    sources: tuple[str, ...] = ()  # sources checked within the window (rows of the summary)
    notes: tuple[str, ...] = ()  # run-level trouble: interrupted runs, unreachable sources

    def counts(self) -> dict[str, int]:
        return event_counts(self.events) | {"divergent": len(self.divergences)}


def event_counts(events: Iterable[Event]) -> dict[str, int]:
    """New, changed (a restore is a change of the text too) and removed statements."""
    c = {"new": 0, "changed": 0, "removed": 0}
    for e in events:
        kind = COUNTED_AS.get(e.kind)
        if kind:
            c[kind] += 1
    return c


COUNTED_AS = {"new": "new", "changed": "changed", "restored": "changed", "removed": "removed"}


@dataclass(frozen=True)
class IndexEntry:
    """One report listed in ``reports/README.md``."""

    date: str
    filename: str
    counts: dict[str, int] = field(default_factory=dict)


# Markdown that page text must never make, and what takes it apart (GitHub's markdown, GFM):
# emphasis, code, links and images, strikethrough, tables, headings, HTML, math, footnotes...
_ALWAYS = re.compile(r"([\\`*_\[\]|~#!$])")
# ...autolinks: a scheme's "://", a host's dot before its top-level domain ("www.state.gov",
# "state.gov", "press@state.gov") and an @mention...
_SCHEME = re.compile(r"(?<=[A-Za-z0-9]):(?=//)")
_HOST_DOT = re.compile(r"(?<=\w)\.(?=[^\W\d_]{2})")
_MENTION = re.compile(r"(?<!\w)@(?=\w)")
# ...and, at the start of a line, list markers, setext underlines and ordered-list numbers.
_LINE_START = re.compile(r"^([ \t]*)([-+=])", re.MULTILINE)
_ORDERED = re.compile(r"^([ \t]*\d{1,9})([.)])", re.MULTILINE)


def md_text(text: str, *, keep_lines: bool = False) -> str:
    """Page text made inert for markdown: every output shows it literally, never as markup.

    HTML is escaped and markdown punctuation backslashed where it could mean something, so
    that ``[text](url)``, ``~~text~~``, ``<script>``, ``# heading`` or ``- item`` in page
    text stay text and no URL in it becomes a link (GitHub's second, post-render linking
    pass may still link a bare URL, but only to the address shown). Whitespace becomes one
    space, unless ``keep_lines`` (a redline's segments): the caller decides what a newline
    becomes.
    """
    text = re.sub(r"\n[ \t]+", "\n", text) if keep_lines else re.sub(r"\s+", " ", text)
    text = _ALWAYS.sub(r"\\\1", html.escape(text, quote=False))
    text = _MENTION.sub(r"\\@", _HOST_DOT.sub(r"\\.", _SCHEME.sub(r"\\:", text)))
    # A piece of text may begin a line in the output (a quote, a paragraph): escape as if it did.
    return _ORDERED.sub(r"\1\\\2", _LINE_START.sub(r"\1\\\2", text))


def md_url(url: str) -> str:
    """A URL safe inside ``[text](url)``."""
    return re.sub(r"[\s<>()]", lambda m: f"%{ord(m.group()):02X}", url)


def md_link(text: str, url: str) -> str:
    """A link to ``url``, or just the text when ``url`` is not http(s) (``javascript:``...)."""
    return f"[{md_text(text)}]({md_url(url)})" if is_web_url(url) else md_text(text)


def _change_md(c: Change) -> str:
    body = "".join(
        marked_insert(t, md_text, after_delete=False)
        if op == "ins"
        else f"<del>{md_text(t)}</del>"
        if op == "del"
        else md_text(t)
        for op, t in change_parts(c)
    )
    extra = f" · signals: {md_text(', '.join(c.signals))}" if c.signals else ""
    return f"- {where_label(c)} · {c.kind}: {body}{extra}"


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
    changes = [e for e in r.events if e.kind in ("changed", "restored")]
    if changes:
        out += ["## Changed statements", ""]
        for group in _by_statement(changes):
            for e in group:
                out += _changed_section(e)
    for kind, heading in SECTIONS:
        events = sorted((e for e in r.events if e.kind == kind), key=lambda e: e.statement.id)
        if events:
            out += [f"## {heading}", ""] + [_event_line(e) for e in events] + [""]
    if r.divergences:
        out += ["## Divergences", ""]
        for d in sorted(r.divergences, key=lambda d: (-(d.score or 0), d.a.id, d.b.id)):
            out += _divergence_section(d)
    spells = sorted(r.spells, key=lambda e: (e.statement.id, e.since or ""))
    if spells or r.notes:
        out += ["## Problems", ""]
        out += [_spell_line(e) for e in spells]
        out += [f"- {md_text(n)}" for n in r.notes]
        out += [""]
    if not any(counts.values()) and not any(e.kind in CHANGE_KINDS for e in r.events):
        out += ["Nothing changed.", ""]
    return "\n".join(out).rstrip("\n") + "\n"


UNDISCLOSED = "**undisclosed edit**: substantive, with no new note in GOV.UK's change history"
SECTIONS = (
    ("new", "New statements"),
    ("removed", "Removed statements"),
    ("back", "Statements published again"),
    ("moved", "Moved statements"),
    ("flapping", "Flapping statements"),
)


def _by_statement(events: Sequence[Event]) -> list[list[Event]]:
    """The changes of each statement, in the order they happened; statements with substantive
    changes first, then by the number of changes."""
    groups: dict[str, list[Event]] = {}
    for e in events:
        groups.setdefault(e.statement.id, []).append(e)

    def key(sid: str) -> tuple[int, int, str]:
        group = groups[sid]
        worst = min(SIG_RANK[e.worst] for e in group)
        return worst, -sum(len(e.diff.changes) for e in group if e.diff), sid

    return [groups[sid] for sid in sorted(groups, key=key)]


def _window_line(r: ReportInput) -> str:
    span = f"from {r.since} to {r.until}" if r.since else f"up to {r.until}"
    runs = f" in {plural(len(r.runs), 'run')}" if r.runs else ""
    return f"Checks {span}{runs}: {plural(r.checks, 'statement check')}."


def _summary_table(r: ReportInput) -> list[str]:
    sources: dict[str, dict[str, int]] = {}

    def row(source: str) -> dict[str, int]:
        return sources.setdefault(source, {"new": 0, "changed": 0, "removed": 0, "divergent": 0})

    for source in r.sources:
        row(source)
    for e in r.events:
        kind = COUNTED_AS.get(e.kind)
        if kind:
            row(e.statement.source)[kind] += 1
        else:
            row(e.statement.source)
    for d in r.divergences:
        for source in sorted({d.a.source, d.b.source}):
            row(source)["divergent"] += 1
    lines = ["| source | new | changed | removed | divergent |", "|---|---:|---:|---:|---:|"]
    for source in sorted(sources):
        c = sources[source]
        counts = " | ".join(str(c[k]) for k in ("new", "changed", "removed", "divergent"))
        lines.append(f"| {md_text(source)} | {counts} |")
    t = r.counts()
    lines.append(f"| **total** | {t['new']} | {t['changed']} | {t['removed']} | {t['divergent']} |")
    return [*lines, ""]


def _on_day(time: str | None) -> str:
    return f" ({day_of(time)})" if time else ""


def _in_language(ref: StatementRef) -> str:
    """`` · in French`` for a statement not in English; nothing for English or unknown."""
    return f" · in {language_name(ref.language)}" if ref.language not in ("", ENGLISH) else ""


def _meta_line(e: Event) -> str:
    s = e.statement
    bits = [md_text(s.agency)] if s.agency else []
    bits.append(f"`{s.id}`{_in_language(s)}")
    if e.a_version is not None:
        restored = (
            f", restored to the text of version {e.restores}" if e.restores is not None else ""
        )
        bits.append(
            f"version {e.a_version}{_on_day(e.a_time)} → version {s.version}{_on_day(e.b_time)}"
            + restored
        )
    if e.diff is not None:
        bits.append(change_note(e.diff))
    if e.archive:
        bits.append(md_text(archive_note(e)))
    return " · ".join(bits)


def _heading(e: Event) -> str:
    s = e.statement
    return f'<a id="{anchor(e)}"></a>{md_link(s.title or s.id, s.url)}'


def _changed_section(e: Event) -> list[str]:
    out = [f"### {_heading(e)}", "", _meta_line(e), ""]
    if e.change_note:
        out += [f"Change note (GOV.UK): {md_text(e.change_note)}", ""]
    if e.undisclosed:
        out += [UNDISCLOSED, ""]
    if e.diff is None:
        return out
    changes = ordered_changes(e.diff.changes)
    visible = [c for c in changes if c.significance != "cosmetic"]
    cosmetic = [c for c in changes if c.significance == "cosmetic"]
    for sig in ("substantive", "minor"):
        group = [c for c in visible if c.significance == sig]
        if group:
            out += [f"**{sig.capitalize()}**", ""] + [_change_md(c) for c in group] + [""]
    redline = _redline(e, e.diff)
    if visible:
        out += ["**Redline**", "", redline, ""]
    if cosmetic:
        out += [
            "<details>",
            f"<summary>{plural(len(cosmetic), 'cosmetic change')}"
            + (" and the redline" if not visible else "")
            + "</summary>",
            "",
        ]
        out += [_change_md(c) for c in cosmetic] + [""]
        if not visible:
            out += [redline, ""]
        out += ["</details>", ""]
    return out


def _redline(e: Event, diff: DiffResult) -> str:
    """The diff engine's markdown redline, with its own heading dropped (the section has one)."""
    s = e.statement
    text = diff_markdown(diff, a_label=f"{s.id}@{e.a_version}", b_label=f"{s.id}@{s.version}")
    lines = text.rstrip("\n").split("\n")
    if lines and lines[0].startswith("#"):
        lines = lines[1:]
        while lines and not lines[0].strip():
            lines = lines[1:]
    # Keep the renderer's headings below this report's level-3 statement headings.
    return "\n".join("###" + ln if re.match(r"#{1,3} ", ln) else ln for ln in lines)


def _event_line(e: Event) -> str:
    s = e.statement
    what = {
        "new": f"version {s.version} ({e.time})",
        "removed": f"removed ({e.time})",
        "back": f"published again, version {s.version} ({e.time})",
        "moved": f"moved ({e.time})",
        "flapping": (
            f"flapping between version {e.pair[0]} and version {e.pair[1]} (since {e.time})"
            if e.pair
            else f"flapping (since {e.time})"
        ),
    }[e.kind]
    note = f" — {md_text(e.note)}" if e.note and e.kind != "flapping" else ""
    agency = f" · {md_text(s.agency)}" if s.agency else ""
    archived = f" · {md_text(archive_note(e))}" if e.archive else ""
    return f"- {_heading(e)}{agency} · `{s.id}`{_in_language(s)} · {what}{archived}{note}"


def _spell_line(e: Event) -> str:
    """A spell of trouble, once however many checks it lasted: when it began, when it was last
    seen, and when the page could be read again."""
    s = e.statement
    was = e.was or e.kind
    if e.kind == "recovered":
        what = (
            f"{was} from {e.since} to {e.last} ({plural(e.checks, 'check')}), "
            f"readable again at {e.time}"
        )
    else:
        what = f"{was} since {e.since}, last seen {e.last} ({plural(e.checks, 'check')})"
    note = f" — {md_text(e.note)}" if e.note else ""
    return f"- {md_link(s.title or s.id, s.url)} · `{s.id}` · {what}{note}"


def _divergence_section(d: Divergence) -> list[str]:
    a_name, b_name = d.a.agency or d.a.source, d.b.agency or d.b.source
    out = [f"### {md_text(a_name)} ↔ {md_text(b_name)}", ""]
    for side, ref in (("A", d.a), ("B", d.b)):
        at = f"@{ref.version}" if ref.version else ""
        out.append(
            f"- {side}: {md_link(ref.title or ref.id, ref.url)} · `{ref.id}{at}`{_in_language(ref)}"
        )
    out.append("")
    if d.summary:
        out += [md_text(d.summary), ""]
    if d.stances:
        out += [f"| actor | A: {md_text(a_name)} | B: {md_text(b_name)} |", "|---|---|---|"]
        out += [
            f"| {md_text(s.actor)} | {md_text(s.a or '—')} | {md_text(s.b or '—')} |"
            for s in d.stances
        ]
        out += [""]
    for q in d.evidence:
        side = (
            "A" if q.statement_id == d.a.id else "B" if q.statement_id == d.b.id else q.statement_id
        )
        about = f" (on {md_text(q.actor)})" if q.actor else ""
        out += [f"> {md_text(clip(q.text, 60, words=True))}", ">", f"> — {side}{about}", ""]
    return out


def report_counts(text: str) -> dict[str, int] | None:
    """The counts a report carries in its first line (for the index), or None."""
    first = text.split("\n", 1)[0]
    if not first.startswith(_COUNTS_MARK) or not first.endswith(" -->"):
        return None
    try:
        data = json.loads(first[len(_COUNTS_MARK) : -4])
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def render_index(entries: Sequence[IndexEntry], feed: str = "feed.xml") -> str:
    """``reports/README.md``: every report, newest first, with its counts."""
    out = [
        "# dipdiff reports",
        "",
        f"One report per day on which dipdiff ran. Subscribe to changes: [{feed}]({feed}) (Atom).",
        "",
    ]
    if not entries:
        return "\n".join([*out, "No reports yet.", ""])
    out += ["| report | new | changed | removed | divergent |", "|---|---:|---:|---:|---:|"]
    for e in sorted(entries, key=lambda e: (e.date, e.filename), reverse=True):
        c = e.counts
        cells = " | ".join(str(c.get(k, "?")) for k in ("new", "changed", "removed", "divergent"))
        out.append(f"| [{md_text(e.date)}]({md_url(e.filename)}) | {cells} |")
    return "\n".join(out) + "\n"


def _md_segments(segments: Iterable[Segment]) -> str:
    """A redline that reads right on GitHub without colour: struck-through deletions, bold
    insertions, a space between a deletion and the insertion that replaces it."""
    parts = []
    previous = ""
    for seg in segments:
        text = md_text(seg.text, keep_lines=True)
        if seg.op == "equal":
            parts.append(text.replace("\n", "\n\n"))
        elif seg.text.strip() and seg.op == "delete":
            parts.append(f"<del>{text.replace(chr(10), '<br>')}</del>")
        elif seg.text.strip():
            parts.append(
                marked_insert(
                    seg.text,
                    lambda t: md_text(t, keep_lines=True).replace("\n", "<br>"),
                    after_delete=previous == "delete",
                )
            )
        elif seg.op == "insert":  # whitespace: B's layout, a split paragraph breaks here
            parts.append(text.replace("\n", "\n\n"))
        previous = seg.op
    return "".join(parts)


def diff_markdown(
    result: DiffResult,
    *,
    context: int = 1,
    a_label: str = "",
    b_label: str = "",
    origins: tuple[Origin | None, Origin | None] = (None, None),
) -> str:
    """A redline that renders on GitHub: ``<del>``/``<ins>`` inline, a summary table, folds.

    ``origins``: where each side comes from, listed under the title (ID, version, agency, URL,
    capture time)."""
    title = result.b.title or result.a.title or "Statement"
    lines = [f"## {md_text(title)}", ""]
    if a_label or b_label:
        lines += [f"Comparing {md_text(a_label)} → {md_text(b_label)}", ""]
    if any(o is not None and o.known for o in origins):
        lines += [
            f"- A: {_side(a_label, origins[0], result.a)}",
            f"- B: {_side(b_label, origins[1], result.b)}",
            "",
        ]
    s = result.summary()
    lines += [
        "| changes | substantive | minor | cosmetic | moved | similarity |",
        "|---:|---:|---:|---:|---:|---:|",
        (
            f"| {s['changes']} | {s['substantive']} | {s['minor']} | {s['cosmetic']} "
            f"| {s['move']} | {percent(result.similarity, changed=bool(result.changes))} |"
        ),
        "",
    ]
    flags = ", ".join(f"{n} {f}" for f, n in s["flags"].items() if n)
    if flags:
        signals = f" — signals: {md_text(', '.join(s['signals']))}" if s["signals"] else ""
        lines += [f"**Flagged:** {flags}{signals}", ""]
    if result.title_segments:
        lines += [f"**Title:** {_md_segments(result.title_segments)}", ""]
    for item in fold_context(result.blocks, context):
        if isinstance(item, int):
            lines += [f"*… {item} unchanged paragraph(s) …*", ""]
            continue
        prefix = f"↕ *{moved_note(item)}:* " if item.kind == "move" else ""
        lines += [prefix + _md_segments(item.segments), ""]
    return "\n".join(lines).rstrip("\n") + "\n"
