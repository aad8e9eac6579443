"""Pieces that several renderers share: ordering and wording of changes, plurals."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from dipdiff.models import SIG_RANK
from dipdiff.text import clip

if TYPE_CHECKING:  # types only: importing the engines costs start-up time
    from dipdiff.analyse.diff import Change, Segment


def tagged(segments: Iterable[Segment], escape: Callable[[str], str]) -> str:
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
