"""Notifications: a run's events as message items, and items as one message for one service.

Items are plain JSON (they wait in the store's outbox and are gathered into daily digests); the
message is rendered from them when it is sent, in the service's format (markdown or text) and
cut to its length limit, whole items first, so that a cut never splits a word or a redline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from dipdiff.analyse.diff import Block, DiffResult, Segment
from dipdiff.models import SIG_RANK, Divergence, Event
from dipdiff.render.markdown import md_link, md_text, md_url
from dipdiff.render.permalinks import event_path, permalink
from dipdiff.render.plain import change_note
from dipdiff.text import clip

#: The event kinds a message tells, in the order it tells them.
ITEM_KINDS = ("changed", "restored", "new", "removed", "back", "moved", "flapping", "divergent")
_HEADINGS = {
    "changed": "Changed",
    "restored": "Restored",
    "new": "New",
    "removed": "Removed",
    "back": "Published again",
    "moved": "Moved",
    "flapping": "Flapping",
    "divergent": "Divergent",
}
MAX_SENTENCES = 4  # of one statement's redline in a message: the editor opens the link for more
_CONTEXT = 90  # characters of unchanged text kept on each side of a sentence's changes
# A sentence ends at . ! ? (and a closing quote) followed by a space and a capital or a quote.
_SENTENCE_END = re.compile(r"(?<=[.!?])[”’\"')]?\s+(?=[“‘\"'(A-Z0-9])")


def event_item(event: Event, report_link: str = "", site_url: str = "") -> dict[str, Any]:
    """One event as a message item: who said it, what changed, where to read it.

    Its ``permalink`` is the site's page of the change when the site's address is known (the
    redline of an edit, the version a statement was first seen with), else ``report_link``.
    """
    s = event.statement
    item: dict[str, Any] = {
        "kind": event.kind,
        "id": s.id,
        "title": s.title,
        "agency": s.agency,
        "url": s.url,
        "version": s.version,
        "previous_version": event.a_version,
        "time": event.time,
        "sources": [s.source],
        "agencies": [s.agency] if s.agency else [],
        "note": event.note,
        "report": report_link,
        "permalink": _site_page(event, site_url) if site_url else report_link,
    }
    if event.restores is not None:
        item["restores"] = event.restores
    if event.diff is not None:
        summary = event.diff.summary()
        item |= {
            "significance": event.worst,
            "summary": change_note(event.diff),
            "flags": sorted(f for f, n in summary["flags"].items() if n),
            "signals": summary["signals"],
            "redline": redline_sentences(event.diff),
        }
    return item


def _site_page(event: Event, site_url: str) -> str:
    s = event.statement
    if event.a_version is not None and s.version is not None:
        return permalink(site_url, s.id, diff=(event.a_version, s.version))
    if event.kind == "new" and s.version is not None:
        return permalink(site_url, s.id, version=s.version)
    return permalink(site_url, s.id)


def divergence_item(d: Divergence, report_link: str = "", site_url: str = "") -> dict[str, Any]:
    """A divergence between two agencies as a message item (``permalink``: the site's page of
    the event when the site's address is known)."""
    event_page = f"{site_url.rstrip('/')}/{event_path(d.a.id, d.b.id)}" if site_url else ""
    return {
        "kind": "divergent",
        "id": f"{d.a.id} ↔ {d.b.id}",
        "title": f"{d.a.agency or d.a.source} ↔ {d.b.agency or d.b.source}",
        "agency": "",
        "url": d.a.url,
        "sources": sorted({d.a.source, d.b.source}),
        "agencies": sorted({x for x in (d.a.agency, d.b.agency) if x}),
        "note": d.summary,
        "stances": [[r.actor, r.a, r.b] for r in d.stances],
        "report": report_link,
        "permalink": event_page or report_link,
    }


def redline_sentences(diff: DiffResult) -> list[dict[str, Any]]:
    """The changed sentences of a diff, each as ``(op, text)`` runs with its significance.

    Only sentences with a visible (non-cosmetic) change; unchanged text far from the change is
    cut, so that a long paragraph gives one readable line.
    """
    out: list[dict[str, Any]] = []
    if diff.title_segments and _visible(diff.title_segments):
        significance = _worst(diff, "title", None)
        out.append(
            {"where": "title", "significance": significance, "runs": _runs(diff.title_segments)}
        )
    for block in diff.blocks:
        if block.kind in ("equal", "move") and not _visible(block.segments):
            continue
        significance = _worst(diff, "body", block)
        out.extend(
            {"where": "body", "significance": significance, "runs": _runs(sentence)}
            for sentence in _sentences(block.segments)
            if _visible(sentence)
        )
    return out


def _visible(segments: Iterable[Segment]) -> bool:
    return any(s.op != "equal" and s.text.strip() and not s.cosmetic for s in segments)


def _worst(diff: DiffResult, where: str, block: Block | None) -> str:
    sigs = [
        c.significance
        for c in diff.changes
        if c.where == where
        and (
            block is None
            or (c.b_paragraph is not None and c.b_paragraph == block.b_index)
            or (c.b_paragraph is None and c.a_paragraph == block.a_index)
        )
    ]
    return min(sigs, key=SIG_RANK.__getitem__, default="minor")


def _sentences(segments: Sequence[Segment]) -> list[list[Segment]]:
    """Segments regrouped by sentence: unchanged text is split where a sentence ends."""
    sentences: list[list[Segment]] = [[]]
    for seg in segments:
        if seg.op != "equal":
            sentences[-1].append(seg)
            continue
        parts = _SENTENCE_END.split(seg.text)
        for n, part in enumerate(parts):
            if n:
                sentences.append([])
            if part:
                sentences[-1].append(Segment("equal", part))
    return [s for s in sentences if s]


def _runs(sentence: Sequence[Segment]) -> list[list[str]]:
    runs: list[list[str]] = []
    last = len(sentence) - 1
    for n, seg in enumerate(sentence):
        text = re.sub(r"\s+", " ", seg.text)
        if seg.op == "equal":
            if n == 0 and len(text) > _CONTEXT:
                text = "…" + text[-_CONTEXT:].split(" ", 1)[-1]
            elif n == last and len(text) > _CONTEXT:
                text = clip(text, _CONTEXT)
            elif len(text) > 2 * _CONTEXT:
                text = clip(text, _CONTEXT) + " " + text[-_CONTEXT:].split(" ", 1)[-1]
            runs.append(["equal", text])
        elif seg.text.strip():
            runs.append([seg.op, text])
    return runs


def told(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The items a message tells: a divergence that several runs of a digest found, once."""
    items: list[dict[str, Any]] = payload.get("items", [])
    last = {it["id"]: n for n, it in enumerate(items) if it["kind"] == "divergent"}
    return [it for n, it in enumerate(items) if it["kind"] != "divergent" or last[it["id"]] == n]


def payload_title(payload: dict[str, Any]) -> str:
    """``Changed: The Situation in Libya (U.S. Department of State)`` for one item; counts for
    several."""
    items = told(payload)
    test = "[test] " if payload.get("test") else ""
    if len(items) == 1:
        it = items[0]
        agency = f" ({it['agency']})" if it.get("agency") else ""
        return f"{test}{_HEADINGS.get(it['kind'], it['kind'])}: {it['title'] or it['id']}{agency}"
    counts = [
        f"{sum(1 for it in items if it['kind'] == k)} {k}"
        for k in ITEM_KINDS
        if any(it["kind"] == k for it in items)
    ]
    when = (
        f"digest of {payload.get('period', '')}"
        if payload.get("digest") == "daily"
        else f"run {payload.get('period', '')}"
    )
    return f"{test}dipdiff {when}: {', '.join(counts)}"


def render_message(
    payload: dict[str, Any],
    *,
    markdown: bool,
    body_max: int,
    title_max: int,
    min_significance: str = "cosmetic",
) -> tuple[str, str]:
    """The (title, body) of a message, cut to ``title_max`` and ``body_max`` characters.

    Items go in whole, in order, until the next would not fit; the rest are counted at the end
    ("… and 3 more"), with the report's address when there is one.
    """
    items = sorted(told(payload), key=lambda it: (ITEM_KINDS.index(it["kind"]), it["id"]))
    blocks = [_item_block(it, markdown=markdown, min_significance=min_significance) for it in items]
    title = clip(payload_title(payload), title_max)
    report = next((it["report"].split("#")[0] for it in items if it.get("report")), "")
    body = ""
    for n, block in enumerate(blocks):
        rest = len(blocks) - n - 1
        tail = _more(rest, report, markdown) if rest else ""
        candidate = f"{body}\n\n{block}" if body else block
        if len(candidate) + len(f"\n\n{tail}" if tail else "") > body_max:
            body = f"{body}\n\n{_more(len(blocks) - n, report, markdown)}" if body else ""
            break
        body = candidate
    if not body and blocks:  # not even one item fits: its first lines, cut
        body = clip(blocks[0], body_max)
    return title, clip(body, body_max)


def _more(n: int, report: str, markdown: bool) -> str:
    where = ""
    if report:
        where = f": [the report]({md_url(report)})" if markdown else f": {report}"
    return f"… and {n} more{where}"


def _item_block(it: dict[str, Any], *, markdown: bool, min_significance: str) -> str:
    heading = _HEADINGS.get(it["kind"], it["kind"])
    name = it["title"] or it["id"]
    if markdown:
        lines = [f"**{heading}:** {md_link(name, it.get('url', ''))}"]
    else:
        lines = [f"{heading}: {name}"]
    meta = [x for x in (it.get("agency"), it["id"] if it["kind"] != "divergent" else "") if x]
    if it["kind"] in ("changed", "restored") and it.get("previous_version") is not None:
        back_to = f" (the text of version {it['restores']})" if it.get("restores") else ""
        meta.append(f"version {it['previous_version']} → {it['version']}{back_to}")
    elif it["kind"] == "new" and it.get("version"):
        meta.append(f"version {it['version']}")
    if it.get("summary"):
        meta.append(it["summary"])
    if meta:
        lines.append(" · ".join(md_text(m) if markdown else m for m in meta))
    marks = []
    if it.get("flags"):
        marks.append("flags: " + ", ".join(it["flags"]))
    if it.get("signals"):
        marks.append("signals: " + ", ".join(it["signals"]))
    if marks:
        lines.append(md_text("; ".join(marks)) if markdown else "; ".join(marks))
    if it.get("note"):
        lines.append(md_text(it["note"]) if markdown else it["note"])
    for actor, a, b in it.get("stances", []):
        line = f"{actor}: A {a} · B {b}"
        lines.append(md_text(line) if markdown else line)
    shown = [
        r
        for r in it.get("redline", [])
        if SIG_RANK.get(r["significance"], 0) <= SIG_RANK[min_significance]
    ]
    for r in shown[:MAX_SENTENCES]:
        prefix = "title: " if r["where"] == "title" else ""
        lines.append(("> " if markdown else "  ") + prefix + _redline_text(r["runs"], markdown))
    if len(shown) > MAX_SENTENCES:
        lines.append(f"  … {len(shown) - MAX_SENTENCES} more changed sentence(s)")
    links = [it["url"]] if it.get("url") and not markdown else []
    # Items kept in an outbox before permalinks existed have only their report link.
    page = it.get("permalink", it.get("report", ""))
    if page:
        what = "report" if page == it.get("report") else "site"
        links.append(f"[{what}]({md_url(page)})" if markdown else f"{what}: {page}")
    if links:
        lines.append(" · ".join(links))
    return "\n".join(lines)


def _redline_text(runs: Sequence[Sequence[str]], markdown: bool) -> str:
    out = []
    previous = ""
    for op, text in runs:
        if markdown and op == "insert" and previous == "delete":
            out.append(" ")  # ~~old~~ **new**: two marks that touch would not render
        previous = op
        if op == "equal":
            out.append(md_text(text) if markdown else text)
        elif markdown:
            # Strike-through and bold read the same in Slack, Discord, Matrix and Telegram.
            mark = "~~" if op == "delete" else "**"
            core = text.strip()
            lead, trail = text[: text.index(core)], text[text.index(core) + len(core) :]
            out.append(f"{lead}{mark}{md_text(core)}{mark}{trail}")
        else:
            out.append(f"[-{text}-]" if op == "delete" else f"{{+{text}+}}")
    return "".join(out).strip()


def report_anchor(title: str) -> str:
    """The anchor GitHub gives a report's ``### [Title](url)`` heading."""
    text = re.sub(r"[^\w\- ]", "", title.lower())
    return text.replace(" ", "-")
