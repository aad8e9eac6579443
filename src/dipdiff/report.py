"""Pure renderers: results in, deterministic text out (json, markdown, html, unified, plain)."""

from __future__ import annotations

import difflib
import html
import json
import re
from collections.abc import Iterable

from dipdiff.diff import Block, DiffResult, Segment
from dipdiff.models import Statement


def statement_meta(s: Statement, version: int | None = None) -> dict:
    """The ``a``/``b`` object of the diff and compare JSON contracts."""
    return {
        "title": s.title,
        "url": s.url,
        "agency": s.agency,
        "published": s.published,
        "version": version,
        "words": s.words,
    }


def diff_json(result: DiffResult, a_version: int | None = None, b_version: int | None = None) -> str:
    """The diff JSON contract: ``a``, ``b``, ``similarity``, ``changes``, ``summary`` (+ ``granularity``)."""
    doc = {
        "a": statement_meta(result.a, a_version),
        "b": statement_meta(result.b, b_version),
        "similarity": result.similarity,
        "changes": [c.to_json() for c in result.changes],
        "summary": result.summary(),
        "granularity": result.granularity,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def diff_unified(result: DiffResult, a_label: str = "a", b_label: str = "b", *, context: int = 3) -> str:
    """Paragraph-level ``diff -u``: one paragraph per line, the title as a ``#`` line."""
    a_lines = [f"# {result.a.title}"] + list(result.a.paragraphs)
    b_lines = [f"# {result.b.title}"] + list(result.b.paragraphs)
    out = difflib.unified_diff(a_lines, b_lines, a_label, b_label, lineterm="", n=context)
    return "".join(line + "\n" for line in out)


def summary_line(result: DiffResult) -> str:
    """``3 change(s): 2 replace, 1 move (2 substantive, 1 minor); flags: …; similarity 97%``."""
    s = result.summary()
    if not s["changes"]:
        return "no differences"
    kinds = ", ".join(f"{s[k]} {k}" for k in ("replace", "insert", "delete", "move") if s[k])
    sig = ", ".join(f"{s[k]} {k}" for k in ("substantive", "minor", "cosmetic") if s[k])
    line = f"{s['changes']} change(s): {kinds} ({sig})"
    flags = ", ".join(f"{n} {f}" for f, n in s["flags"].items() if n)
    if flags:
        line += f"; flags: {flags}"
    if s["signals"]:
        line += f"; signals: {', '.join(s['signals'])}"
    return line + f"; similarity {result.similarity:.0%}"


def _md_escape(text: str) -> str:
    # Inline HTML tags are used for the redline, so the text itself must not be markup.
    text = html.escape(text, quote=False).replace("|", "\\|")
    return re.sub(r"([\\`*_\[\]#])", r"\\\1", text)


def _md_segments(segments: Iterable[Segment]) -> str:
    parts = []
    for seg in segments:
        text = _md_escape(seg.text)
        if seg.op == "equal":
            parts.append(text.replace("\n", "\n\n"))
        elif seg.text.strip():
            tag = "del" if seg.op == "delete" else "ins"
            parts.append(f"<{tag}>{text.replace(chr(10), '<br>')}</{tag}>")
        elif seg.op == "insert":  # whitespace: B's layout, a split paragraph breaks here
            parts.append(text.replace("\n", "\n\n"))
    return "".join(parts)


def _moved_note(block: Block) -> str:
    return "moved from here" if block.b_index is None else f"moved here (was paragraph {block.a_index + 1})"


def diff_markdown(result: DiffResult, *, context: int = 1, a_label: str = "", b_label: str = "") -> str:
    """A redline that renders on GitHub: ``<del>``/``<ins>`` inline, a summary table, folded context."""
    title = result.b.title or result.a.title or "Statement"
    lines = [f"## {_md_escape(title)}", ""]
    if a_label or b_label:
        lines += [f"Comparing {_md_escape(a_label)} → {_md_escape(b_label)}", ""]
    s = result.summary()
    lines += [
        "| changes | substantive | minor | cosmetic | moved | similarity |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {s['changes']} | {s['substantive']} | {s['minor']} | {s['cosmetic']} | {s['move']} "
        f"| {result.similarity:.0%} |",
        "",
    ]
    flags = ", ".join(f"{n} {f}" for f, n in s["flags"].items() if n)
    if flags:
        signals = f" — signals: {_md_escape(', '.join(s['signals']))}" if s["signals"] else ""
        lines += [f"**Flagged:** {flags}{signals}", ""]
    if result.title_segments:
        lines += [f"**Title:** {_md_segments(result.title_segments)}", ""]
    for item in fold_context(result.blocks, context):
        if isinstance(item, int):
            lines += [f"*… {item} unchanged paragraph(s) …*", ""]
            continue
        prefix = f"↕ *{_moved_note(item)}:* " if item.kind == "move" else ""
        lines += [prefix + _md_segments(item.segments), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def fold_context(blocks: Iterable[Block], context: int) -> list[Block | int]:
    """Keep changed blocks and ``context`` unchanged ones around them; runs beyond become counts."""
    blocks = list(blocks)
    keep = [False] * len(blocks)
    for n, b in enumerate(blocks):
        if b.kind != "equal":
            for k in range(max(0, n - context), min(len(blocks), n + context + 1)):
                keep[k] = True
    out: list[Block | int] = []
    skipped = 0
    for n, b in enumerate(blocks):
        if keep[n]:
            if skipped:
                out.append(skipped)
                skipped = 0
            out.append(b)
        else:
            skipped += 1
    if skipped:
        out.append(skipped)
    return out


# -- html: one self-contained page, inline and side-by-side ------------------------------------

_HTML_STYLE = """
body{font:16px/1.55 system-ui,-apple-system,Segoe UI,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
h1{font-size:1.4rem;margin-bottom:.2rem}.labels{color:#59636e;margin-top:0}
table.summary{border-collapse:collapse;margin:1rem 0}table.summary td,table.summary th{border:1px solid #d1d9e0;padding:.25rem .6rem;text-align:right}
del{background:#ffebe9;color:#82071e;text-decoration:line-through}ins{background:#dafbe1;color:#116329;text-decoration:none}
.fold{color:#59636e;font-style:italic}.move{border-left:4px solid #bf8700;padding-left:.6rem}.tag{font-size:.8rem;color:#9a6700}
.view{display:none}#v-inline:checked~.views .inline,#v-side:checked~.views .side{display:block}
.tabs label{margin-right:1rem;cursor:pointer;text-decoration:underline}
table.side{width:100%;border-collapse:collapse;table-layout:fixed}table.side td{vertical-align:top;padding:.4rem .6rem;border-top:1px solid #d1d9e0;width:50%}
table.side th{text-align:left;padding:.4rem .6rem}
ul.changes li{margin:.2rem 0}.sig-substantive{font-weight:600}.flags{color:#9a6700;font-size:.85rem}
"""


def diff_html(result: DiffResult, *, context: int = 1, a_label: str = "", b_label: str = "") -> str:
    """One self-contained HTML page (no scripts, no external assets): inline and side-by-side."""
    esc = html.escape
    title = result.b.title or result.a.title or "Statement"
    s = result.summary()
    out = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width,initial-scale=1">',
           f"<title>dipdiff: {esc(title)}</title><style>{_HTML_STYLE}</style></head><body>",
           f"<h1>{esc(title)}</h1>"]
    if a_label or b_label:
        out.append(f'<p class="labels">{esc(a_label)} → {esc(b_label)}</p>')
    out.append('<table class="summary"><tr><th>changes</th><th>substantive</th><th>minor</th>'
               '<th>cosmetic</th><th>moved</th><th>similarity</th></tr>'
               f"<tr><td>{s['changes']}</td><td>{s['substantive']}</td><td>{s['minor']}</td>"
               f"<td>{s['cosmetic']}</td><td>{s['move']}</td><td>{result.similarity:.0%}</td></tr></table>")
    if result.title_segments:
        out.append(f"<p><strong>Title:</strong> {_html_segments(result.title_segments)}</p>")
    out += ['<input type="radio" name="view" id="v-inline" checked hidden>',
            '<input type="radio" name="view" id="v-side" hidden>',
            '<p class="tabs"><label for="v-inline">Inline</label><label for="v-side">Side by side</label></p>',
            '<div class="views"><section class="view inline">']
    folded = fold_context(result.blocks, context)
    for item in folded:
        if isinstance(item, int):
            out.append(f'<p class="fold">… {item} unchanged paragraph(s) …</p>')
        elif item.kind == "move":
            out.append(f'<p class="move"><span class="tag">↕ {esc(_moved_note(item))}</span><br>'
                       f"{_html_segments(item.segments)}</p>")
        else:
            out.append(f"<p>{_html_segments(item.segments)}</p>")
    out.append('</section><section class="view side"><table class="side">'
               f"<tr><th>{esc(a_label or 'before')}</th><th>{esc(b_label or 'after')}</th></tr>")
    for item in folded:
        if isinstance(item, int):
            out.append(f'<tr><td class="fold" colspan="2">… {item} unchanged paragraph(s) …</td></tr>')
            continue
        left = "" if item.kind == "insert" or (item.kind == "move" and item.a_index is not None
                                                and item.b_index is not None) else \
            _html_segments(s_ for s_ in item.segments if s_.op != "insert")
        right = "" if item.kind == "delete" or (item.kind == "move" and item.b_index is None) else \
            _html_segments(s_ for s_ in item.segments if s_.op != "delete")
        cls = ' class="move"' if item.kind == "move" else ""
        out.append(f"<tr{cls}><td>{left}</td><td>{right}</td></tr>")
    out.append("</table></section></div>")
    if result.changes:
        out.append("<h2>Changes</h2><ul class=\"changes\">")
        for c in result.changes:
            flags = f' <span class="flags">{esc(", ".join(c.flags + c.signals))}</span>' if c.flags else ""
            body = (f"moved: {esc(_clip(c.new.strip(), 60))}" if c.kind == "move" else
                    (f"<del>{esc(c.old)}</del>" if c.old.strip() else "")
                    + (f"<ins>{esc(c.new)}</ins>" if c.new.strip() else "") or "whitespace")
            out.append(f'<li class="sig-{c.significance}">[{c.significance}] {c.kind}: {body}{flags}</li>')
        out.append("</ul>")
    out.append(f"<p>{esc(summary_line(result))}</p></body></html>")
    return "\n".join(out) + "\n"


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


def statement_text(s: Statement) -> str:
    """A statement as plain text: title, blank line, paragraphs."""
    head = [s.title, "=" * min(len(s.title), 78)] if s.title else []
    meta = [f"{k}: {v}" for k, v in (("url", s.url), ("agency", s.agency), ("published", s.published)) if v]
    return "\n".join(head + meta + [""] + [p + "\n" for p in s.paragraphs]).rstrip("\n") + "\n"
