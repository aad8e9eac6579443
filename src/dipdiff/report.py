"""Pure renderers: results in, deterministic text out (json, markdown, unified, plain)."""

from __future__ import annotations

import difflib
import html
import json
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
    """The diff JSON contract: ``a``, ``b``, ``similarity``, ``changes``, ``summary``."""
    doc = {
        "a": statement_meta(result.a, a_version),
        "b": statement_meta(result.b, b_version),
        "similarity": result.similarity,
        "changes": [c.to_json() for c in result.changes],
        "summary": result.summary(),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def diff_unified(result: DiffResult, a_label: str = "a", b_label: str = "b") -> str:
    """Paragraph-level ``diff -u``: one paragraph per line."""
    a_lines = [f"# {result.a.title}"] + list(result.a.paragraphs)
    b_lines = [f"# {result.b.title}"] + list(result.b.paragraphs)
    out = difflib.unified_diff(a_lines, b_lines, a_label, b_label, lineterm="")
    return "".join(line + "\n" for line in out)


def summary_line(result: DiffResult) -> str:
    s = result.summary()
    if not s["changes"]:
        return "no differences"
    kinds = ", ".join(f"{s[k]} {k}" for k in ("replace", "insert", "delete", "move") if s[k])
    sig = ", ".join(f"{s[k]} {k}" for k in ("substantive", "minor", "cosmetic") if s[k])
    return f"{s['changes']} change(s): {kinds} ({sig}); similarity {result.similarity:.0%}"


def _md_escape(text: str) -> str:
    # Inline HTML tags are used for the redline, so the text itself must not be markup.
    return html.escape(text, quote=False).replace("|", "\\|")


def _md_segments(segments: Iterable[Segment]) -> str:
    parts = []
    for seg in segments:
        text = _md_escape(seg.text)
        if seg.op == "equal":
            parts.append(text)
        elif seg.text.strip():
            tag = "del" if seg.op == "delete" else "ins"
            parts.append(f"<{tag}>{text}</{tag}>")
        else:
            parts.append(text if seg.op == "insert" else "")
    return "".join(parts)


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
    if result.title_segments:
        lines += [f"**Title:** {_md_segments(result.title_segments)}", ""]
    for item in fold_context(result.blocks, context):
        if isinstance(item, int):
            lines += [f"*… {item} unchanged paragraph(s) …*", ""]
            continue
        prefix = "↕ *moved:* " if item.kind == "move" else ""
        lines += [prefix + _md_segments(item.segments), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


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


def statement_text(s: Statement) -> str:
    """A statement as plain text: title, blank line, paragraphs."""
    head = [s.title, "=" * min(len(s.title), 78)] if s.title else []
    meta = [f"{k}: {v}" for k, v in (("url", s.url), ("agency", s.agency), ("published", s.published)) if v]
    return "\n".join(head + meta + [""] + [p + "\n" for p in s.paragraphs]).rstrip("\n") + "\n"
