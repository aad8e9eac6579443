"""Pieces that several renderers share: ordering and wording of changes, plurals."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from dipdiff.models import SIG_RANK, Event, Origin, Statement
from dipdiff.text import clip

if TYPE_CHECKING:  # types only: importing the engines costs start-up time
    from dipdiff.analyse.diff import Change, Segment


def tagged(
    segments: Iterable[Segment], escape: Callable[[str], str], *, marked: bool = False
) -> str:
    """A redline with ``<del>``/``<ins>`` tags (markdown on GitHub and HTML alike).

    ``marked`` (markdown): readable without colour, as GitHub shows ``<ins>`` plainly, an
    insertion is also bold and set apart from a deletion just before it by a space.
    """
    out: list[str] = []
    previous = ""
    for s in segments:
        if s.op == "equal":
            out.append(escape(s.text))
        elif s.text.strip():
            if s.op == "delete":
                out.append(f"<del>{escape(s.text)}</del>")
            elif marked:
                out.append(marked_insert(s.text, escape, after_delete=previous == "delete"))
            else:
                out.append(f"<ins>{escape(s.text)}</ins>")
        elif s.op == "insert":
            out.append(escape(s.text))
        previous = s.op
    return "".join(out)


def marked_insert(text: str, escape: Callable[[str], str], *, after_delete: bool) -> str:
    """``<ins>**new**</ins>``: emphasis must hug the words, so the spaces go outside it."""
    core = text.strip()
    lead = text[: len(text) - len(text.lstrip())]
    tail = text[len(text.rstrip()) :]
    if after_delete and not lead:
        lead = " "
    return f"{escape(lead)}<ins>**{escape(core)}**</ins>{escape(tail)}"


def percent(share: float, *, changed: bool) -> str:
    """A share as a whole percentage, as Python rounds it; never 100% when something changed."""
    shown = f"{share:.0%}"
    return "99%" if changed and shown == "100%" else shown


def anchor(e: Event) -> str:
    """The HTML id of an event's section in a report: stable, and unique within the store."""
    key = e.key or f"{e.kind}-{e.statement.version}-{e.time}"
    return re.sub(r"[^a-z0-9]+", "-", f"{e.statement.id}-{key}".lower()).strip("-")


def provenance(label: str, origin: Origin | None, st: Statement) -> str:
    """``sid@2 · agency · url · captured 2022-06-12T21:50:06Z``: where one side comes from."""
    if origin is None or not origin.known:
        return label
    bits = [label, st.agency, st.url]
    if origin.fetched_at:
        bits.append(f"captured {origin.fetched_at}")
    return " · ".join(b for b in bits if b)


MAX_CHANGE_WORDS = 40  # of a change's old or new text in a list of changes
MAX_MOVED_WORDS = 12


def day_of(timestamp: str | None) -> str:
    return (timestamp or "")[:10]


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def ordered_changes(changes: Iterable[Change]) -> list[Change]:
    """Substantive first, then minor, then cosmetic; document order within each."""
    indexed = list(enumerate(changes))
    indexed.sort(key=lambda ic: (SIG_RANK.get(ic[1].significance, 0), ic[0]))
    return [c for _, c in indexed]


def where_label(c: Change) -> str:
    if c.where == "title":
        return "title"
    n = c.b_paragraph if c.b_paragraph is not None else c.a_paragraph
    return f"¶{n + 1}" if n is not None else "body"


def change_parts(c: Change) -> list[tuple[str, str]]:
    """A change as (op, text) runs: op is ``del``, ``ins`` or ``text``."""
    old, new = clip(c.old, MAX_CHANGE_WORDS, words=True), clip(c.new, MAX_CHANGE_WORDS, words=True)
    if c.kind == "move":
        return [("text", "moved: "), ("text", f"“{clip(c.new, MAX_MOVED_WORDS, words=True)}”")]
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


def archive_note(e: Event) -> str:
    """What a report says of an event seen in a web archive, not live: where it was seen."""
    where = "the Wayback Machine" if e.archive == "wayback" else e.archive
    return f"from the archive ({where}, captured {e.time})"
