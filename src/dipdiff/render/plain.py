"""Plain text: the unified diff, one-line summaries, change notes, statements as text."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from dipdiff.analyse.language import ENGLISH, NOT_ANALYSED, language_name
from dipdiff.models import Statement
from dipdiff.render.common import percent, plural

if TYPE_CHECKING:  # types only: importing the engines costs start-up time
    from dipdiff.analyse.compare import ActorComparison, Comparison, SharedSentence, Side
    from dipdiff.analyse.diff import Block, DiffResult


def stance_cell(side: Side) -> str:
    """ "critical (oppose, urge, halt)" — the stance and the signals behind it."""
    if side.stance == "absent":
        return "absent"
    if side.stance == NOT_ANALYSED:
        return f"not analysed ({language_name(side.language)})"
    label = "speaker" if side.speaker else side.stance
    return f"{label} ({', '.join(side.signals)})" if side.signals else label


def summary(c: Comparison) -> str:
    div = c.divergent_actors
    head = (
        f"divergent on {len(div)} actor(s): {', '.join(x.name for x in div)}"
        if div
        else "no divergence"
    )
    line = (
        f"{head}; {len(c.shared)} shared sentence(s), {len(c.only_a)} only in A, "
        f"{len(c.only_b)} only in B; "
        f"similarity {percent(c.similarity, changed=_differ(c))}"
    )
    if c.languages != (ENGLISH, ENGLISH) or not all(c.analysed):
        line += "; " + languages_line(c)
    return line


def languages_line(c: Comparison) -> str:
    """``A English · B French (not analysed)``."""
    return " · ".join(
        f"{letter} {language_name(lang)}" + ("" if ok else " (not analysed)")
        for letter, lang, ok in zip("AB", c.languages, c.analysed, strict=True)
    )


def not_analysed_notes(c: Comparison) -> list[str]:
    """What was not analysed, said instead of silently reporting nothing (a Bulgarian text)."""
    return [
        f"{letter} is in {language_name(lang)}: its stances were not analysed (the stance "
        f"lexicon has no {language_name(lang)} phrases), so nothing in it is judged or divergent"
        for letter, lang, ok in zip("AB", c.languages, c.analysed, strict=True)
        if not ok
    ]


def alignment_note(c: Comparison) -> str | None:
    """Why two texts in different languages have no aligned sentences, when that is so."""
    from dipdiff.analyse.crosslingual import EXTRA, UNAVAILABLE  # lazy: start-up time

    if c.alignment != UNAVAILABLE:
        return None
    a, b = (language_name(x) for x in c.languages)
    return (
        f"A is in {a} and B in {b}: aligning their sentences needs the multilingual encoder "
        f"({EXTRA}); no sentence is reported as only in A or only in B"
    )


def pair_lines(s: SharedSentence) -> list[str]:
    """A pair aligned across languages: its score, both sentences, what they do not share."""
    out = [f"{s.match}, score {s.similarity:.2f}", f"A: {s.a}", f"B: {s.b}"]
    for d in s.differences:
        what = "numbers" if d.kind == "number" else "names"
        out.append(f"{what} differ: A {', '.join(d.a) or '—'} · B {', '.join(d.b) or '—'}")
    return out


def split_actors(
    actors: Sequence[ActorComparison],
) -> tuple[list[ActorComparison], list[ActorComparison]]:
    """The actors worth a row (divergent, or supportive or critical in either text), and the
    rest, folded: long reports name dozens of ministries and people they take no stance on."""
    shown = [x for x in actors if x.divergent or {x.a.stance, x.b.stance} & _STANCES]
    return shown, [x for x in actors if x not in shown]


_STANCES = {"supportive", "critical"}


def folded_lines(actors: Sequence[ActorComparison], limit: int) -> list[str]:
    """``no stance: Donald J. Trump (B only), Ghassan Salamé (A only)`` and the speakers."""
    speakers = [x for x in actors if x.a.speaker or x.b.speaker]
    groups = (
        ("no stance", [x for x in actors if x not in speakers]),
        ("speaker", speakers),
    )
    out = []
    for label, group in groups:
        if not group:
            continue
        names = [x.name + _only(x) for x in group[:limit]]
        more = f", and {len(group) - limit} more" if len(group) > limit else ""
        out.append(f"{label}: {', '.join(names)}{more}")
    return out


def _only(x: ActorComparison) -> str:
    if x.b.stance == "absent":
        return " (A only)"
    if x.a.stance == "absent":
        return " (B only)"
    return ""


def _differ(c: Comparison) -> bool:
    return bool(c.only_a or c.only_b or any(s.changes or s.differences for s in c.shared))


def divergence_line(x: ActorComparison) -> str:
    return f"{x.name}: A {stance_cell(x.a)} · B {stance_cell(x.b)}"


def change_note(diff: DiffResult) -> str:
    """``5 changes: 4 substantive, 1 minor``: how a recorded change is noted everywhere."""
    s = diff.summary()
    parts = [f"{s[k]} {k}" for k in ("substantive", "minor", "cosmetic") if s[k]]
    return plural(s["changes"], "change") + (f": {', '.join(parts)}" if parts else "")


def diff_unified(
    result: DiffResult, a_label: str = "a", b_label: str = "b", *, context: int = 3
) -> str:
    """Paragraph-level ``diff -u``: one paragraph per line, the title as a ``#`` line."""
    a_lines = [f"# {result.a.title}", *result.a.paragraphs]
    b_lines = [f"# {result.b.title}", *result.b.paragraphs]
    out = difflib.unified_diff(a_lines, b_lines, a_label, b_label, lineterm="", n=context)
    return "".join(line + "\n" for line in out)


def summary_line(result: DiffResult) -> str:
    """``3 changes: 2 replace, 1 move (2 substantive, 1 minor); flags: …; similarity 97%``."""
    s = result.summary()
    if not s["changes"]:
        return "no differences"
    kinds = ", ".join(f"{s[k]} {k}" for k in ("replace", "insert", "delete", "move") if s[k])
    sig = ", ".join(f"{s[k]} {k}" for k in ("substantive", "minor", "cosmetic") if s[k])
    line = f"{plural(s['changes'], 'change')}: {kinds} ({sig})"
    flags = ", ".join(f"{n} {f}" for f, n in s["flags"].items() if n)
    if flags:
        line += f"; flags: {flags}"
    if s["signals"]:
        line += f"; signals: {', '.join(s['signals'])}"
    return line + f"; similarity {percent(result.similarity, changed=True)}"


def moved_note(block: Block) -> str:
    if block.b_index is None or block.a_index is None:
        return "moved from here"
    return f"moved here (was paragraph {block.a_index + 1})"


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
    meta = [
        f"{k}: {v}"
        for k, v in (("url", s.url), ("agency", s.agency), ("published", s.published))
        if v
    ]
    return "\n".join(head + meta + [""] + [p + "\n" for p in s.paragraphs]).rstrip("\n") + "\n"
