"""Self-contained HTML pages (no scripts, no external assets) for diffs and comparisons."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import TYPE_CHECKING

from dipdiff.models import Origin, Statement
from dipdiff.render.common import percent, tagged
from dipdiff.render.plain import (
    alignment_note,
    fold_context,
    moved_note,
    not_analysed_notes,
    pair_lines,
    stance_cell,
    summary,
    summary_line,
)
from dipdiff.scrape.policy import is_web_url
from dipdiff.text import clip

if TYPE_CHECKING:  # types only: importing the engines costs start-up time
    from dipdiff.analyse.compare import Comparison
    from dipdiff.analyse.diff import DiffResult, Segment


def _h(text: str) -> str:
    return html.escape(text, quote=True)


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5}"
    "del{background:#fdd;color:#900}ins{background:#dfd;color:#060;text-decoration:none}"
    "table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top}"
    ".divergent{background:#fff3cd}.critical{color:#900}.supportive{color:#060}blockquote{color:#444}"
)


def _side(label: str, origin: Origin | None, st: Statement) -> str:
    """One side: its label (linked to its page), agency, and for a stored version or a page
    fetched now its URL and capture time."""
    # never a javascript: or data: link, whatever a page said
    link = f'<a href="{_h(st.url)}">{_h(label)}</a>' if is_web_url(st.url) else _h(label)
    bits = [link] + ([_h(st.agency)] if st.agency else [])
    if origin is not None and origin.known:
        if st.url:
            bits.append(f"<code>{_h(st.url)}</code>")
        if origin.fetched_at:
            bits.append(f"captured {_h(origin.fetched_at)}")
    return " · ".join(bits)


def compare_html(
    c: Comparison,
    a_label: str = "A",
    b_label: str = "B",
    origins: tuple[Origin | None, Origin | None] = (None, None),
) -> str:
    """A standalone HTML page: stances, evidence, redlined shared sentences, one-sided sentences."""
    title = f"{c.a.title or a_label} ↔ {c.b.title or b_label}"
    head = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_h(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_h(title)}</h1>",
    ]
    body = compare_fragment(c, a_label, b_label, origins)
    return "\n".join([*head, body, "</body></html>"]) + "\n"


def compare_fragment(
    c: Comparison,
    a_label: str = "A",
    b_label: str = "B",
    origins: tuple[Origin | None, Origin | None] = (None, None),
) -> str:
    """The body of :func:`compare_html`, for pages that have their own head (the site's)."""
    out = ["<ul>"]
    for letter, label, st, origin in (
        ("A", a_label, c.a, origins[0]),
        ("B", b_label, c.b, origins[1]),
    ):
        out.append(f"<li>{letter}: {_side(label, origin, st)}</li>")
    out += ["</ul>", f"<p><strong>{_h(summary(c))}</strong></p>", "<h2>Actors and stances</h2>"]
    out += [f"<p><em>{_h(note)}</em></p>" for note in not_analysed_notes(c)]
    if c.actors:
        out.append("<table><tr><th>actor</th><th>A</th><th>B</th><th>divergent</th></tr>")
        for x in c.actors:
            cls = ' class="divergent"' if x.divergent else ""
            why = "yes: " + _h("; ".join(x.reasons)) if x.divergent else ""
            out.append(
                f"<tr{cls}><td>{_h(x.name)}</td>"
                f'<td class="{x.a.stance}">{_h(stance_cell(x.a))}</td>'
                f'<td class="{x.b.stance}">{_h(stance_cell(x.b))}</td><td>{why}</td></tr>'
            )
        out.append("</table>")
        for x in c.divergent_actors:
            out.append(f"<h3>{_h(x.name)}</h3>")
            for letter, side in (("A", x.a), ("B", x.b)):
                out += [
                    f"<blockquote>{_h(e)} <cite>— {letter}</cite></blockquote>"
                    for e in side.evidence
                ]
    else:
        out.append("<p>No actors named.</p>")
    out.append("<h2>Shared wording</h2>")
    note = alignment_note(c)
    if note:
        out.append(f"<p><em>{_h(note)}</em></p>")
    out.append("<ul>")
    out += [
        (
            "<li>" + "<br>".join(_h(x) for x in pair_lines(s)) + "</li>"
            if s.translated
            else f"<li>({s.match}, {percent(s.similarity, changed=bool(s.changes))}) "
            f"{tagged(s.segments, _h)}</li>"
        )
        for s in c.shared
    ]
    out.append("</ul>")
    for heading, items in (("Only in A", c.only_a), ("Only in B", c.only_b)):
        out.append(f"<h2>{heading}</h2><ul>")
        out += [f"<li>{_h(t)}</li>" for t in items]
        out.append("</ul>")
    return "\n".join(out)


DIFF_STYLE = (
    "\n"
    "body{font:16px/1.55 system-ui,-apple-system,Segoe UI,sans-serif;max-width:72rem;"
    "margin:2rem auto;padding:0 1rem;color:#1f2328}\n"
    "h1{font-size:1.4rem;margin-bottom:.2rem}.labels{color:#59636e;margin-top:0}\n"
    "table.summary{border-collapse:collapse;margin:1rem 0}"
    "table.summary td,table.summary th{border:1px solid #d1d9e0;padding:.25rem .6rem;"
    "text-align:right}\n"
    "del{background:#ffebe9;color:#82071e;text-decoration:line-through}"
    "ins{background:#dafbe1;color:#116329;text-decoration:none}\n"
    ".fold{color:#59636e;font-style:italic}.move{border-left:4px solid #bf8700;padding-left:.6rem}"
    ".tag{font-size:.8rem;color:#9a6700}\n"
    ".view{display:none}#v-inline:checked~.views .inline,"
    "#v-side:checked~.views .side{display:block}\n"
    ".tabs label{margin-right:1rem;cursor:pointer;text-decoration:underline}\n"
    "table.side{width:100%;border-collapse:collapse;table-layout:fixed}"
    "table.side td{vertical-align:top;padding:.4rem .6rem;border-top:1px solid #d1d9e0;width:50%}\n"
    "table.side th{text-align:left;padding:.4rem .6rem}\n"
    "ul.changes li{margin:.2rem 0}.sig-substantive{font-weight:600}"
    ".flags{color:#9a6700;font-size:.85rem}\n"
)


def diff_html(
    result: DiffResult,
    *,
    context: int = 1,
    a_label: str = "",
    b_label: str = "",
    origins: tuple[Origin | None, Origin | None] = (None, None),
) -> str:
    """One self-contained HTML page (no scripts, no external assets): inline and side-by-side."""
    esc = html.escape
    title = result.b.title or result.a.title or "Statement"
    head = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>dipdiff: {esc(title)}</title><style>{DIFF_STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    body = diff_fragment(result, context=context, a_label=a_label, b_label=b_label, origins=origins)
    return "\n".join([*head, body]) + "</body></html>\n"


def diff_fragment(
    result: DiffResult,
    *,
    context: int = 1,
    a_label: str = "",
    b_label: str = "",
    origins: tuple[Origin | None, Origin | None] = (None, None),
) -> str:
    """The body of :func:`diff_html` (labels, summary, inline and side-by-side views, changes),
    for pages that have their own head and title: the site's redline permalinks. Styled by
    :data:`DIFF_STYLE`; the views switch with radio buttons and CSS, no script."""
    esc = html.escape
    s = result.summary()
    out = []
    if a_label or b_label:
        out.append(f'<p class="labels">{esc(a_label)} → {esc(b_label)}</p>')
    if any(o is not None and o.known for o in origins):
        out.append(
            f'<ul class="labels"><li>A: {_side(a_label, origins[0], result.a)}</li>'
            f"<li>B: {_side(b_label, origins[1], result.b)}</li></ul>"
        )
    out.append(
        '<table class="summary"><tr><th>changes</th><th>substantive</th><th>minor</th>'
        "<th>cosmetic</th><th>moved</th><th>similarity</th></tr>"
        f"<tr><td>{s['changes']}</td><td>{s['substantive']}</td><td>{s['minor']}</td>"
        f"<td>{s['cosmetic']}</td><td>{s['move']}</td>"
        f"<td>{percent(result.similarity, changed=bool(result.changes))}</td></tr></table>"
    )
    if result.title_segments:
        out.append(f"<p><strong>Title:</strong> {_html_segments(result.title_segments)}</p>")
    out += [
        '<input type="radio" name="view" id="v-inline" checked hidden>',
        '<input type="radio" name="view" id="v-side" hidden>',
        (
            '<p class="tabs"><label for="v-inline">Inline</label>'
            '<label for="v-side">Side by side</label></p>'
        ),
        '<div class="views"><section class="view inline">',
    ]
    folded = fold_context(result.blocks, context)
    for item in folded:
        if isinstance(item, int):
            out.append(f'<p class="fold">… {item} unchanged paragraph(s) …</p>')
        elif item.kind == "move":
            out.append(
                f'<p class="move"><span class="tag">↕ {esc(moved_note(item))}</span><br>'
                f"{_html_segments(item.segments)}</p>"
            )
        else:
            out.append(f"<p>{_html_segments(item.segments)}</p>")
    out.append(
        '</section><section class="view side"><table class="side">'
        f"<tr><th>{esc(a_label or 'before')}</th><th>{esc(b_label or 'after')}</th></tr>"
    )
    for item in folded:
        if isinstance(item, int):
            out.append(
                f'<tr><td class="fold" colspan="2">… {item} unchanged paragraph(s) …</td></tr>'
            )
            continue
        left = (
            ""
            if item.kind == "insert"
            or (item.kind == "move" and item.a_index is not None and item.b_index is not None)
            else _html_segments(s_ for s_ in item.segments if s_.op != "insert")
        )
        right = (
            ""
            if item.kind == "delete" or (item.kind == "move" and item.b_index is None)
            else _html_segments(s_ for s_ in item.segments if s_.op != "delete")
        )
        cls = ' class="move"' if item.kind == "move" else ""
        out.append(f"<tr{cls}><td>{left}</td><td>{right}</td></tr>")
    out.append("</table></section></div>")
    if result.changes:
        out.append('<h2>Changes</h2><ul class="changes">')
        for c in result.changes:
            flags = (
                f' <span class="flags">{esc(", ".join(c.flags + c.signals))}</span>'
                if c.flags
                else ""
            )
            body = (
                f"moved: {esc(clip(c.new.strip(), 60))}"
                if c.kind == "move"
                else (f"<del>{esc(c.old)}</del>" if c.old.strip() else "")
                + (f"<ins>{esc(c.new)}</ins>" if c.new.strip() else "")
                or "whitespace"
            )
            out.append(
                f'<li class="sig-{c.significance}">[{c.significance}] {c.kind}: {body}{flags}</li>'
            )
        out.append("</ul>")
    out.append(f"<p>{esc(summary_line(result))}</p>")
    return "\n".join(out)


def _html_segments(segments: Iterable[Segment]) -> str:
    parts = []
    for seg in segments:
        text = html.escape(seg.text).replace("\n", "<br><br>")
        if seg.op == "equal" or not seg.text.strip():
            if seg.op != "delete" or seg.text.strip():
                parts.append(text)
        else:
            tag = "del" if seg.op == "delete" else "ins"
            parts.append(f"<{tag}>{text}</{tag}>")
    return "".join(parts)
