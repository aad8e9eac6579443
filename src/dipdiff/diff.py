"""Pure diff engine: two statements in, aligned paragraphs and classified changes out.

Structure first, then words: paragraphs are aligned on their canonical text
(see :mod:`dipdiff.normalize`), moved paragraphs are found, and only aligned
pairs get a word-level diff. Everything shown is the original text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from dipdiff.models import Statement
from dipdiff.normalize import canonical

KINDS = ("replace", "insert", "delete", "move")
SIGNIFICANCE = ("cosmetic", "minor", "substantive")

_TOKEN = re.compile(r"\s+|\w+(?:[’'\-]\w+)*|[^\w\s]")
_PAIR_THRESHOLD = 0.5  # word overlap above which two paragraphs are "the same paragraph, edited"
_MERGE_GAP = 2  # unchanged words between two edits that are folded into one replacement


@dataclass(frozen=True)
class Segment:
    """A run of text inside one rendered paragraph."""

    op: str  # equal | delete | insert
    text: str


@dataclass(frozen=True)
class Change:
    kind: str  # replace | insert | delete | move
    old: str
    new: str
    significance: str  # cosmetic | minor | substantive
    signals: tuple[str, ...] = ()
    where: str = "body"  # body | title
    a_paragraph: int | None = None
    b_paragraph: int | None = None

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "old": self.old,
            "new": self.new,
            "significance": self.significance,
            "signals": list(self.signals),
            "where": self.where,
            "a_paragraph": self.a_paragraph,
            "b_paragraph": self.b_paragraph,
        }


@dataclass(frozen=True)
class Block:
    """One row of the aligned document, in B's order (deleted paragraphs where they stood in A)."""

    kind: str  # equal | changed | insert | delete | move
    a_index: int | None
    b_index: int | None
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class DiffResult:
    a: Statement
    b: Statement
    blocks: tuple[Block, ...]
    changes: tuple[Change, ...]
    similarity: float
    title_segments: tuple[Segment, ...] = field(default_factory=tuple)

    @property
    def identical(self) -> bool:
        return not self.changes

    def summary(self) -> dict:
        counts = {k: 0 for k in KINDS}
        sig = {s: 0 for s in SIGNIFICANCE}
        for c in self.changes:
            counts[c.kind] += 1
            sig[c.significance] += 1
        return {"changes": len(self.changes), **counts, **sig}

    def filtered(self, *, ignore_cosmetic: bool) -> DiffResult:
        if not ignore_cosmetic:
            return self
        keep = tuple(c for c in self.changes if c.significance != "cosmetic")
        return DiffResult(self.a, self.b, self.blocks, keep, self.similarity, self.title_segments)


def tokenize(text: str) -> list[str]:
    """Words, punctuation marks and whitespace runs; joining the tokens gives ``text`` back."""
    return _TOKEN.findall(text)


def diff_statements(a: Statement, b: Statement) -> DiffResult:
    """Diff two statements: title and paragraphs, aligned, word-level inside aligned pairs."""
    changes: list[Change] = []
    title_segments: tuple[Segment, ...] = ()
    if a.title != b.title:
        title_segments, title_changes = _word_diff(a.title, b.title, None, None)
        changes += [_with_where(c, "title") for c in title_changes]
    blocks, body_changes = _align(a.paragraphs, b.paragraphs)
    changes += body_changes
    return DiffResult(a, b, tuple(blocks), tuple(changes), similarity(a.paragraphs, b.paragraphs),
                      title_segments)


def diff_texts(a: str, b: str) -> DiffResult:
    """Diff two plain texts whose paragraphs are separated by blank lines."""
    split = lambda t: tuple(p.strip() for p in re.split(r"\n\s*\n", t) if p.strip())  # noqa: E731
    return diff_statements(Statement("", split(a)), Statement("", split(b)))


def diff_words(a: str, b: str, *, lexicon: object | None = None) -> list[Change]:
    """Word-level changes that turn text ``a`` into text ``b`` (a sentence or a paragraph).

    The building block for comparing aligned sentences: edits snap to whole words and
    each change is classified. ``lexicon`` (a :class:`dipdiff.signals.Lexicon`) names the
    signal terms a change adds or removes; the default lexicon when ``None``.
    """
    return _word_diff(a, b, None, None)[1]


def redline(a: str, b: str) -> tuple[Segment, ...]:
    """The inline redline of ``a`` -> ``b``: equal / delete / insert segments, original text."""
    return _word_diff(a, b, None, None)[0]


def similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """Share of canonical words the two texts have in common, in order (0..1)."""
    wa = canonical(" ".join(a)).split()
    wb = canonical(" ".join(b)).split()
    if not wa and not wb:
        return 1.0
    return round(SequenceMatcher(None, wa, wb, autojunk=False).ratio(), 4)


def _with_where(c: Change, where: str) -> Change:
    return Change(c.kind, c.old, c.new, c.significance, c.signals, where, c.a_paragraph, c.b_paragraph)


def _align(a: Sequence[str], b: Sequence[str]) -> tuple[list[Block], list[Change]]:
    ca = [canonical(p) for p in a]
    cb = [canonical(p) for p in b]
    blocks: list[Block] = []
    changes: list[Change] = []
    pending_delete: list[int] = []
    pending_insert: list[int] = []
    matcher = SequenceMatcher(None, ca, cb, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2)):
                if a[i] == b[j]:
                    blocks.append(Block("equal", i, j, (Segment("equal", b[j]),)))
                else:
                    segs, chs = _word_diff(a[i], b[j], i, j)
                    blocks.append(Block("changed", i, j, segs))
                    changes += chs
            continue
        for i, j in _pair_paragraphs(ca, cb, range(i1, i2), range(j1, j2)):
            if i is not None and j is not None:
                segs, chs = _word_diff(a[i], b[j], i, j)
                blocks.append(Block("changed", i, j, segs))
                changes += chs
            elif i is not None:
                pending_delete.append(len(blocks))
                blocks.append(Block("delete", i, None, (Segment("delete", a[i]),)))
            else:
                pending_insert.append(len(blocks))
                blocks.append(Block("insert", None, j, (Segment("insert", b[j]),)))
    changes += _resolve_moves(blocks, pending_delete, pending_insert, a, b, ca, cb)
    return blocks, changes


def _pair_paragraphs(ca, cb, irange, jrange):
    """Pair edited paragraphs in order by word overlap; unpaired ones are deletes/inserts."""
    out: list[tuple[int | None, int | None]] = []
    js = list(jrange)
    jpos = 0
    for i in irange:
        best, best_score = None, _PAIR_THRESHOLD
        for k in range(jpos, len(js)):
            score = _quick_ratio(ca[i], cb[js[k]])
            if score > best_score:
                best, best_score = k, score
        if best is None:
            out.append((i, None))
            continue
        for k in range(jpos, best):
            out.append((None, js[k]))
        out.append((i, js[best]))
        jpos = best + 1
    for k in range(jpos, len(js)):
        out.append((None, js[k]))
    return out


def _quick_ratio(x: str, y: str) -> float:
    return SequenceMatcher(None, x.split(), y.split(), autojunk=False).ratio()


def _resolve_moves(blocks, deletes, inserts, a, b, ca, cb) -> list[Change]:
    """Turn a delete + insert of (nearly) the same paragraph into one ``move``."""
    changes: list[Change] = []
    used: set[int] = set()
    for d in deletes:
        i = blocks[d].a_index
        match = None
        for ins in inserts:
            if ins in used:
                continue
            j = blocks[ins].b_index
            if ca[i] == cb[j] or _quick_ratio(ca[i], cb[j]) >= 0.8:
                match = ins
                break
        if match is None:
            changes.append(Change("delete", a[i], "", _classify("", a[i]), (), "body", i, None))
            continue
        used.add(match)
        j = blocks[match].b_index
        segs, inner = _word_diff(a[i], b[j], i, j)
        blocks[match] = Block("move", i, j, segs)
        blocks[d] = Block("move", i, None, (Segment("delete", a[i]),))
        sig = max((c.significance for c in inner), key=SIGNIFICANCE.index, default="minor")
        changes.append(Change("move", a[i], b[j], sig, (), "body", i, j))
        changes += inner
    for ins in inserts:
        if ins not in used:
            j = blocks[ins].b_index
            changes.append(Change("insert", "", b[j], _classify("", b[j]), (), "body", None, j))
    return changes


def _word_diff(x: str, y: str, i: int | None, j: int | None) -> tuple[tuple[Segment, ...], list[Change]]:
    tx, ty = tokenize(x), tokenize(y)
    kx = [canonical(t).casefold() or " " for t in tx]
    ky = [canonical(t).casefold() or " " for t in ty]
    ops = SequenceMatcher(None, kx, ky, autojunk=False).get_opcodes()
    ops = _merge_short_gaps(ops, tx)
    segments: list[Segment] = []
    changes: list[Change] = []
    for op, i1, i2, j1, j2 in ops:
        if op == "equal":
            # Equal after canonicalisation and case folding; the originals may still differ
            # (curly quotes, case, NBSP): those tokens are cosmetic edits of their own.
            for (ai, bj) in zip(range(i1, i2), range(j1, j2)):
                if tx[ai] == ty[bj]:
                    segments.append(Segment("equal", ty[bj]))
                else:
                    segments += [Segment("delete", tx[ai]), Segment("insert", ty[bj])]
                    changes.append(Change("replace", tx[ai], ty[bj], "cosmetic", (), "body", i, j))
            continue
        old, new = "".join(tx[i1:i2]), "".join(ty[j1:j2])
        if old:
            segments.append(Segment("delete", old))
        if new:
            segments.append(Segment("insert", new))
        if old.strip() or new.strip() or old != new:
            kind = "replace" if old and new else ("delete" if old else "insert")
            changes.append(Change(kind, old, new, _classify(old, new), (), "body", i, j))
    return tuple(_coalesce(segments)), changes


def _merge_short_gaps(ops, tokens):
    """Fold short unchanged runs between two edits into one replacement, as a human redline does."""
    merged: list[list] = []
    for op in ops:
        op = list(op)
        if merged and op[0] != "equal" and len(merged) >= 2 and merged[-1][0] == "equal" \
                and merged[-2][0] != "equal":
            gap = merged[-1]
            words = sum(1 for t in tokens[gap[1]:gap[2]] if t.strip())
            if words <= _MERGE_GAP:
                prev = merged[-2]
                merged.pop()
                merged[-1] = ["replace", prev[1], op[2], prev[3], op[4]]
                continue
        if merged and op[0] != "equal" and merged[-1][0] != "equal":
            prev = merged[-1]
            merged[-1] = ["replace", prev[1], op[2], prev[3], op[4]]
            continue
        merged.append(op)
    return [tuple(m) for m in merged]


def _coalesce(segments: list[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for s in segments:
        if out and out[-1].op == s.op:
            out[-1] = Segment(s.op, out[-1].text + s.text)
        else:
            out.append(s)
    return out


_WORD = re.compile(r"\w+")


def _classify(old: str, new: str) -> str:
    """cosmetic: only canonical-form, case or punctuation; minor: one-word spelling fix; else substantive."""
    if canonical(old).casefold() == canonical(new).casefold():
        return "cosmetic"
    wo, wn = _WORD.findall(canonical(old).casefold()), _WORD.findall(canonical(new).casefold())
    if wo == wn:
        return "cosmetic"
    if len(wo) == 1 and len(wn) == 1 and SequenceMatcher(None, wo[0], wn[0]).ratio() >= 0.8:
        return "minor"
    return "substantive"
