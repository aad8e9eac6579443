"""Pure renderers for comparisons: the JSON contract, markdown, HTML, and the lists of
``dipdiff related`` and ``dipdiff divergences``. Results in, deterministic text out.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence

from dipdiff.compare import ActorComparison, Comparison, DivergentPair, Related
from dipdiff.diff import Segment
from dipdiff.report import statement_meta


def compare_doc(c: Comparison, a_version: int | None = None, b_version: int | None = None) -> dict:
    """The compare JSON contract: ``a``, ``b``, ``similarity``, ``shared``, ``only_a``, ``only_b``, ``actors``."""
    return {
        "a": statement_meta(c.a, a_version),
        "b": statement_meta(c.b, b_version),
        "similarity": c.similarity,
        "shared": [
            {"a": s.a, "b": s.b, "similarity": s.similarity, "match": s.match,
             "changes": [ch.to_json() for ch in s.changes]}
            for s in c.shared
        ],
        "only_a": list(c.only_a),
        "only_b": list(c.only_b),
        "actors": [x.to_json() for x in c.actors],
        "divergent": c.divergent,
        "score": c.score,
    }


def compare_json(c: Comparison, a_version: int | None = None, b_version: int | None = None) -> str:
    return json.dumps(compare_doc(c, a_version, b_version), indent=2, ensure_ascii=False) + "\n"


def stance_cell(side) -> str:
    """"critical (oppose, urge, halt)" — the stance and the signals behind it."""
    if side.stance == "absent":
        return "absent"
    label = "speaker" if side.speaker else side.stance
    return f"{label} ({', '.join(side.signals)})" if side.signals else label


def summary(c: Comparison) -> str:
    div = c.divergent_actors
    head = (f"divergent on {len(div)} actor(s): {', '.join(x.name for x in div)}" if div
            else "no divergence")
    return (f"{head}; {len(c.shared)} shared sentence(s), {len(c.only_a)} only in A, "
            f"{len(c.only_b)} only in B; similarity {c.similarity:.0%}")


# -- markdown -------------------------------------------------------------------------------------


def _md(text: str) -> str:
    return html.escape(text, quote=False).replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def _tagged(segments: Iterable[Segment], escape) -> str:
    """A redline with ``<del>``/``<ins>`` tags (markdown on GitHub and HTML alike)."""
    out = []
    for s in segments:
        t = escape(s.text)
        if s.op == "equal":
            out.append(t)
        elif s.text.strip():
            out.append(f"<del>{t}</del>" if s.op == "delete" else f"<ins>{t}</ins>")
        elif s.op == "insert":
            out.append(t)
    return "".join(out)


def compare_markdown(c: Comparison, a_label: str = "A", b_label: str = "B") -> str:
    lines = [f"## {_md(c.a.title or a_label)} ↔ {_md(c.b.title or b_label)}", "",
             f"- A: {_md(a_label)}" + (f" · {_md(c.a.agency)}" if c.a.agency else ""),
             f"- B: {_md(b_label)}" + (f" · {_md(c.b.agency)}" if c.b.agency else ""), "",
             f"**{_md(summary(c))}**", "", "### Actors and stances", ""]
    if c.actors:
        lines += ["| actor | A | B | divergent |", "|---|---|---|---|"]
        for x in c.actors:
            mark = "**yes** — " + _md("; ".join(x.reasons)) if x.divergent else ""
            lines.append(f"| {_md(x.name)} | {_md(stance_cell(x.a))} | {_md(stance_cell(x.b))} | {mark} |")
        lines.append("")
        for x in c.divergent_actors:
            lines += [f"#### {_md(x.name)}", ""]
            if x.aliases:
                lines += [f"Also named: {_md(', '.join(x.aliases))}", ""]
            for side, s in (("A", x.a), ("B", x.b)):
                for e in s.evidence:
                    lines += [f"> {_md(e)}", ">", f"> — {side}", ""]
    else:
        lines += ["No actors named.", ""]
    lines += ["### Shared wording", ""]
    lines += [f"- ({s.match}, {s.similarity:.0%}) {_tagged(s.segments, _md)}" for s in c.shared] or ["None."]
    for title, items in (("Only in A", c.only_a), ("Only in B", c.only_b)):
        lines += ["", f"### {title}", ""]
        lines += [f"- {_md(t)}" for t in items] or ["None."]
    return "\n".join(lines) + "\n"


# -- html -----------------------------------------------------------------------------------------


def _h(text: str) -> str:
    return html.escape(text, quote=True)


_CSS = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
        "del{background:#fdd;color:#900}ins{background:#dfd;color:#060;text-decoration:none}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top}"
        ".divergent{background:#fff3cd}.critical{color:#900}.supportive{color:#060}blockquote{color:#444}")


def compare_html(c: Comparison, a_label: str = "A", b_label: str = "B") -> str:
    """A standalone HTML page: stances table, evidence, redlined shared sentences, one-sided sentences."""
    title = f"{c.a.title or a_label} ↔ {c.b.title or b_label}"
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{_h(title)}</title>",
           f"<style>{_CSS}</style></head><body>", f"<h1>{_h(title)}</h1>", "<ul>"]
    for side, label, s in (("A", a_label, c.a), ("B", b_label, c.b)):
        link = f'<a href="{_h(s.url)}">{_h(label)}</a>' if s.url else _h(label)
        out.append(f"<li>{side}: {link}{' · ' + _h(s.agency) if s.agency else ''}</li>")
    out += ["</ul>", f"<p><strong>{_h(summary(c))}</strong></p>", "<h2>Actors and stances</h2>"]
    if c.actors:
        out.append("<table><tr><th>actor</th><th>A</th><th>B</th><th>divergent</th></tr>")
        for x in c.actors:
            cls = ' class="divergent"' if x.divergent else ""
            why = "yes: " + _h("; ".join(x.reasons)) if x.divergent else ""
            out.append(f"<tr{cls}><td>{_h(x.name)}</td><td class=\"{x.a.stance}\">{_h(stance_cell(x.a))}</td>"
                       f"<td class=\"{x.b.stance}\">{_h(stance_cell(x.b))}</td><td>{why}</td></tr>")
        out.append("</table>")
        for x in c.divergent_actors:
            out.append(f"<h3>{_h(x.name)}</h3>")
            for side, s in (("A", x.a), ("B", x.b)):
                out += [f"<blockquote>{_h(e)} <cite>— {side}</cite></blockquote>" for e in s.evidence]
    else:
        out.append("<p>No actors named.</p>")
    out.append("<h2>Shared wording</h2><ul>")
    out += [f"<li>({s.match}, {s.similarity:.0%}) {_tagged(s.segments, _h)}</li>" for s in c.shared]
    out.append("</ul>")
    for heading, items in (("Only in A", c.only_a), ("Only in B", c.only_b)):
        out.append(f"<h2>{heading}</h2><ul>")
        out += [f"<li>{_h(t)}</li>" for t in items]
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


# -- related / divergences --------------------------------------------------------------------------


def related_doc(sid: str, items: Sequence[Related]) -> dict:
    return {"id": sid, "related": [
        {"id": r.record.id, "title": r.record.statement.title, "agency": r.record.statement.agency,
         "date": r.record.date.isoformat() if r.record.date else None, "score": r.score,
         "days": round(r.days, 2) if r.days is not None else None, "shared": list(r.shared)}
        for r in items]}


def divergences_doc(pairs: Sequence[DivergentPair]) -> list[dict]:
    return [
        {"a": {"id": d.a.id, **statement_meta(d.a.statement, d.a.version)},
         "b": {"id": d.b.id, **statement_meta(d.b.statement, d.b.version)},
         "score": d.score, "related_score": d.related_score,
         "actors": [x.to_json() for x in d.actors]}
        for d in pairs
    ]


def divergence_line(x: ActorComparison) -> str:
    return f"{x.name}: A {stance_cell(x.a)} · B {stance_cell(x.b)}"


