"""Pure diff engine: two statements in, aligned paragraphs and classified changes out.

Structure first, then words:

1. Paragraphs are paired on their canonical text (:mod:`dipdiff.text`): exact matches
   through a hash table, near matches through an inverted index of their words. The heaviest
   in-order chain of pairs stays in place; every other pair is a ``move``, reported once.
   Paragraphs split or merged join their neighbour's group.
2. Inside each aligned group, a word-level diff on canonical, case-folded tokens
   (stdlib :mod:`difflib`, with unique-token anchors first on long paragraphs), whose edits
   snap to whole tokens; short unchanged runs between two edits merge into one replacement.
3. Each change is classified (``cosmetic``/``minor``/``substantive``) and flagged
   (negation, modality, number, entity, signal).

Everything shown is the original text. Every change carries character offsets
(``a_start``/``a_end`` into A, ``b_start``/``b_end`` into B) into :func:`body_text` of its
statement (the title for ``where="title"``); :func:`apply` turns A into B with them.
"""

from __future__ import annotations

import re
import zlib
from bisect import bisect_right
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from itertools import chain
from typing import Any

from dipdiff.analyse.entities import default_gazetteer, find_mentions, fold
from dipdiff.analyse.entities import tokenize as name_tokens
from dipdiff.analyse.signals import NEGATORS, Lexicon, lexicon
from dipdiff.analyse.values import DATE, NUMBER_WORDS, date_key, figures, number_key, quantities
from dipdiff.models import Statement
from dipdiff.text import canonical, comparable

# An edit-script entry: (tag, a1, a2, b1, b2), tag "equal", "replace", "insert", "delete" (or,
# among a paragraph pair's pieces, "change" and "cosmetic"); offsets into tokens or characters.
_Op = tuple[str, int, int, int, int]
_Spans = list[tuple[int, int]]

KINDS = ("replace", "insert", "delete", "move")
SIGNIFICANCE = ("cosmetic", "minor", "substantive")
FLAGS = ("negation", "modality", "number", "entity", "signal")
GRANULARITIES = ("word", "sentence", "paragraph")
_MERGE_GAP = 2  # unchanged words between two edits that are folded into one replacement
_NEAR = 0.5  # word-set similarity above which two paragraphs anywhere are "the same, edited"
_NEAR_IN_PLACE = 0.3  # ... and for two paragraphs standing in the same place
_MOVE_MIN_WORDS = 3  # shorter paragraphs ("###", "Begin text:") are never reported as moved
_SMALL = 400  # tokens per side up to which a plain SequenceMatcher is cheap
_DF_CAP = 64  # words in more paragraphs than this are skipped when looking for near matches
_RESPELT = 0.8  # spelling similarity from which two words are one word respelt
_NAME_CONTEXT = 40  # characters read around an edit to identify the names in it
_SIGNAL_CONTEXT = 100  # characters read before an edit for the signals it touches
_FRAME_CHUNKS = 4  # whitespace-separated chunks one token can span: a date ("23rd of July 2022")


@dataclass(frozen=True)
class Segment:
    """A run of text inside one rendered paragraph."""

    op: str  # equal | delete | insert
    text: str
    cosmetic: bool = False  # part of a cosmetic change: hidden by --ignore-cosmetic


@dataclass(frozen=True)
class Change:
    """One edit. ``old``/``new`` are the original texts at ``a_start:a_end`` / ``b_start:b_end``."""

    kind: str  # replace | insert | delete | move
    old: str
    new: str
    significance: str  # cosmetic | minor | substantive
    signals: tuple[str, ...] = ()  # signal phrases this change adds or removes
    where: str = "body"  # body | title
    a_paragraph: int | None = None
    b_paragraph: int | None = None
    flags: tuple[str, ...] = ()  # negation | modality | number | entity | signal
    a_start: int = 0
    a_end: int = 0
    b_start: int = 0
    b_end: int = 0
    signals_added: tuple[str, ...] = ()
    signals_removed: tuple[str, ...] = ()
    moved: bool = False  # a word edit inside a moved paragraph (the ``move`` itself is listed too)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "old": self.old,
            "new": self.new,
            "significance": self.significance,
            "signals": list(self.signals),
            "where": self.where,
            "a_paragraph": self.a_paragraph,
            "b_paragraph": self.b_paragraph,
            "flags": list(self.flags),
            "signals_added": list(self.signals_added),
            "signals_removed": list(self.signals_removed),
            "a_start": self.a_start,
            "a_end": self.a_end,
            "b_start": self.b_start,
            "b_end": self.b_end,
            "moved": self.moved,
        }


@dataclass(frozen=True)
class Block:
    """One row of the aligned document, in B's order (deleted paragraphs where they stood in A).

    A ``changed`` block may span several paragraphs when a paragraph was split or merged;
    its segments then contain ``"\\n"`` where B (or A) breaks the paragraph.
    """

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
    granularity: str = "word"

    def summary(self) -> dict[str, Any]:
        counts = dict.fromkeys(KINDS, 0)
        sig = dict.fromkeys(SIGNIFICANCE, 0)
        flags = dict.fromkeys(FLAGS, 0)
        for c in self.changes:
            counts[c.kind] += 1
            sig[c.significance] += 1
            for f in c.flags:
                flags[f] += 1
        signals = sorted({s for c in self.changes for s in c.signals})
        return {"changes": len(self.changes), **counts, **sig, "flags": flags, "signals": signals}

    def filtered(self, *, ignore_cosmetic: bool) -> DiffResult:
        """Without cosmetic changes: they leave the change list, and the redline shows B's text."""
        if not ignore_cosmetic:
            return self
        keep = tuple(c for c in self.changes if c.significance != "cosmetic")
        blocks = tuple(_hide_cosmetic(b) for b in self.blocks)
        title = tuple(_plain_segments(self.title_segments))
        if all(s.op == "equal" for s in title):
            title = ()
        return replace(self, blocks=blocks, changes=keep, title_segments=title)


def _plain_segments(segments: Iterable[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for s in segments:
        if s.cosmetic and s.op == "delete":
            continue
        out.append(Segment("equal", s.text) if s.cosmetic else s)
    return _coalesce(out)


def _hide_cosmetic(block: Block) -> Block:
    if block.kind != "changed":
        return block
    segs = tuple(_plain_segments(block.segments))
    kind = "equal" if all(s.op == "equal" for s in segs) else "changed"
    return Block(kind, block.a_index, block.b_index, segs)


def body_text(paragraphs: Sequence[str]) -> str:
    """The text that body offsets point into: every paragraph followed by ``"\\n"``."""
    return "".join(p + "\n" for p in paragraphs)


def diff_statements(
    a: Statement, b: Statement, *, lexicon: Lexicon | None = None, granularity: str = "word"
) -> DiffResult:
    """Diff two statements: title and paragraphs, aligned, word-level inside aligned groups."""
    if granularity not in GRANULARITIES:
        raise ValueError(
            f"granularity must be one of {', '.join(GRANULARITIES)}, not {granularity!r}"
        )
    lex = _Lazy(lexicon)
    changes: list[Change] = []
    title_segments: tuple[Segment, ...] = ()
    if a.title != b.title:
        pd = _pair_diff(a.title, 0, b.title, 0, granularity)
        title_segments = tuple(pd.segments)
        changes += _classify_all(pd, a.title, b.title, 0, 0, lex, "title", None, None)
    doc = _DocDiff(a.paragraphs, b.paragraphs, granularity, lex)
    changes += doc.changes
    return DiffResult(
        a, b, tuple(doc.blocks), tuple(changes), doc.similarity, title_segments, granularity
    )


def diff_texts(
    a: str, b: str, *, lexicon: Lexicon | None = None, granularity: str = "word"
) -> DiffResult:
    """Diff two plain texts whose paragraphs are separated by blank lines."""
    return diff_statements(
        Statement("", split_paragraphs(a)),
        Statement("", split_paragraphs(b)),
        lexicon=lexicon,
        granularity=granularity,
    )


def split_paragraphs(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in re.split(r"\n\s*\n", text) if p.strip())


def diff_words(
    a: str, b: str, *, lexicon: Lexicon | None = None, granularity: str = "word"
) -> list[Change]:
    """Word-level changes that turn text ``a`` into text ``b`` (a sentence or a paragraph).

    The building block for comparing aligned sentences: edits snap to whole words, each
    change is classified and flagged, and its offsets point into ``a`` and ``b``
    (``apply(changes, a) == b``). ``lexicon`` is a :class:`dipdiff.analyse.signals.Lexicon`
    (the default lexicon when ``None``).
    """
    return diff_pair(a, b, lexicon=lexicon, granularity=granularity)[0]


def redline(a: str, b: str, *, granularity: str = "word") -> tuple[Segment, ...]:
    """The inline redline of ``a`` -> ``b``: equal / delete / insert segments, original text."""
    return tuple(_pair_diff(a, 0, b, 0, granularity).segments)


def diff_pair(
    a: str, b: str, *, lexicon: Lexicon | None = None, granularity: str = "word"
) -> tuple[list[Change], tuple[Segment, ...]]:
    """:func:`diff_words` and :func:`redline` of one pair from a single diff of it."""
    pd = _pair_diff(a, 0, b, 0, granularity)
    return _classify_all(pd, a, b, 0, 0, _Lazy(lexicon), "body", [0], [0]), tuple(pd.segments)


def apply(changes: Iterable[Change], a: str, *, where: str = "body") -> str:
    """Apply a change list to A's text and return B's: the contract the offsets keep.

    ``a`` is :func:`body_text` of A's paragraphs for ``where="body"`` (A's title for
    ``"title"``, or the text given to :func:`diff_words`). Word edits are spliced at their A
    offsets; whole paragraphs deleted or moved away leave with their line; paragraphs
    inserted or moved in are placed at their B offsets. A filtered change list (for example
    without cosmetic changes) gives a text that differs from B exactly there.
    """
    chosen = [c for c in changes if c.where == where]
    moves = [c for c in chosen if c.kind == "move"]
    moved_from = {m.a_paragraph for m in moves}
    splices: list[tuple[int, int, str, int]] = []
    inner: dict[int | None, list[Change]] = defaultdict(list)
    placed: list[tuple[int, Change]] = []
    for c in chosen:
        if c.kind == "move":
            splices.append((c.a_start, c.a_end + 1, "", 0))
            placed.append((c.b_start, c))
        elif c.moved and c.a_paragraph in moved_from:
            inner[c.a_paragraph].append(c)
        elif c.kind == "insert" and c.a_paragraph is None and where == "body":
            placed.append((c.b_start, c))
        elif c.kind == "delete" and c.b_paragraph is None and where == "body":
            splices.append((c.a_start, c.a_end + 1, "", 0))
        else:
            splices.append((c.a_start, c.a_end, c.new, c.b_start))
    text = _splice(a, splices)
    for at, c in sorted(placed, key=lambda p: p[0]):
        if c.kind == "move":
            edits = [
                (e.a_start - c.a_start, e.a_end - c.a_start, e.new, e.b_start)
                for e in inner[c.a_paragraph]
            ]
            piece = _splice(a[c.a_start : c.a_end], edits)
        else:
            piece = c.new
        text = text[:at] + piece + "\n" + text[at:]
    return text


def _splice(text: str, edits: Iterable[tuple[int, int, str, int]]) -> str:
    """Replace text[start:end] by new for each edit; edits at one point go in B order."""
    parts: list[str] = []
    pos = len(text)
    for start, end, new, _ in sorted(edits, key=lambda e: (e[0], e[1], e[3]), reverse=True):
        parts.append(text[end:pos])
        parts.append(new)
        pos = start
    parts.append(text[:pos])
    return "".join(reversed(parts))


def similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """Share of words the two texts have in common, in order (0..1), from the engine's alignment."""
    return _DocDiff(tuple(a), tuple(b), "word", _Lazy(None), classify=False).similarity


_INVIS = "\u00ad\u200b\u200c\u200d\u2060\ufeff\ufffc"
_W = rf"[\w{_INVIS}]"

_TOKEN = re.compile(
    rf"""(?=[JFMASOND\d])(?P<date>{DATE})  # dates, one token each: July 23, 2022  23 July  Jan.
      | (?P<number>\d+(?:[.,:/]\d+)*%?(?!{_W}))  # numbers: 12,300  3.5  9/11  65%
      | (?:[^\W\d_]\.){{2,}}                # abbreviations: U.S.  U.N.
      | {_W}+(?:[’'\-\u2010\u2011]{_W}+)*   # words, with inner apostrophes and hyphens
      | [^\w\s{_INVIS}]                     # one punctuation mark
    """,
    re.VERBOSE,
)

_SENTENCE = re.compile(r"\S[^\n]*?(?:[.!?][\"'”’)\]]*(?=\s|\Z)|(?=[^\S\n]*(?:\n|\Z)))")
_HAS_WORD = re.compile(r"\w")


def tokenize(text: str) -> list[str]:
    """Words, numbers, punctuation marks and whitespace runs; joining them gives ``text`` back."""
    out: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        if m.start() > pos:
            out.append(text[pos : m.start()])
        out.append(m.group())
        pos = m.end()
    if pos < len(text):
        out.append(text[pos:])
    return out


def _tokens(text: str, granularity: str) -> tuple[_Spans, list[str]]:
    """Token spans (start, end) without whitespace, and the keys the alignment compares.

    Gaps between the spans are whitespace. A word's key is its case-folded form, a date's and a
    number's their value ("July 23, 2022" and "2022-07-23" are one key, "eighty-five" and "85"
    another), so a reformatted date or number aligns as unchanged text and shows as cosmetic.
    """
    if granularity == "word":
        spans: _Spans = []
        keys: list[str] = []
        for m in _TOKEN.finditer(text):
            spans.append(m.span())
            keys.append(_key(m))
        return spans, keys
    if granularity == "sentence":
        spans = [m.span() for m in _SENTENCE.finditer(text)]
    else:
        spans = [(m.start(), m.end()) for m in re.finditer(r"\S(?:.*\S)?", text, re.DOTALL)]
    return spans, [comparable(text[s:e]) for s, e in spans]


def _key(m: re.Match[str]) -> str:
    token = m.group()
    kind = m.lastgroup
    if kind == "date":
        value = date_key(token)
        return "date " + value if value else token.lower()
    key = token.lower() if token.isascii() else comparable(token)
    if kind == "number" or key in NUMBER_WORDS or "-" in key:
        return number_key(key) or key
    return key


@dataclass
class _PairDiff:
    """Pieces of one aligned pair, in order: (op, a_start, a_end, b_start, b_end), text offsets."""

    a: str
    b: str
    a_base: int
    b_base: int
    pieces: list[_Op]

    @property
    def changed_words(self) -> int:
        """Words (whitespace-separated, both sides) inside edits: what similarity subtracts."""
        return sum(
            len(self.a[p[1] : p[2]].split()) + len(self.b[p[3] : p[4]].split())
            for p in self.pieces
            if p[0] != "equal"
        )

    @property
    def segments(self) -> list[Segment]:
        out: list[Segment] = []
        for op, a1, a2, b1, b2 in self.pieces:
            if op == "equal":
                out.append(Segment("equal", self.b[b1:b2]))
                continue
            cosmetic = op == "cosmetic"
            if a2 > a1:
                out.append(Segment("delete", self.a[a1:a2], cosmetic))
            if b2 > b1:
                out.append(Segment("insert", self.b[b1:b2], cosmetic))
        return _coalesce(out)


def _pair_diff(a: str, a_base: int, b: str, b_base: int, granularity: str) -> _PairDiff:
    if a == b:
        return _PairDiff(a, b, a_base, b_base, [("equal", 0, len(a), 0, len(b))] if a else [])
    if granularity == "word":
        lo, hi = _common_frame(a, b)
        if (
            lo or hi
        ):  # diff only the middle; the frame is unchanged, whole whitespace-separated chunks
            inner = _pair_diff_tokens(a[lo : len(a) - hi], b[lo : len(b) - hi], granularity)
            pieces = [
                (op, a1 + lo, a2 + lo, b1 + lo, b2 + lo) for op, a1, a2, b1, b2 in inner.pieces
            ]
            if lo:
                pieces.insert(0, ("equal", 0, lo, 0, lo))
            if hi:
                pieces.append(("equal", len(a) - hi, len(a), len(b) - hi, len(b)))
            return _PairDiff(a, b, a_base, b_base, pieces)
    pd = _pair_diff_tokens(a, b, granularity)
    return _PairDiff(a, b, a_base, b_base, pd.pieces)


def _common_frame(a: str, b: str) -> tuple[int, int]:
    """Lengths of an unchanged head and tail to leave out of the token diff.

    Each stops whole whitespace-separated chunks short of the first (last) difference, as many
    as one token can span ("23rd of July 2022"), so that the middle starts and ends with an
    unchanged token and diffs exactly as it would inside the whole text.
    """
    n = min(len(a), len(b))
    p = 0
    while p < n and a[p : p + 64] == b[p : p + 64]:
        p += 64
    while p < n and a[p] == b[p]:
        p += 1
    k = min(p, n) - 1
    while k >= 0 and not a[k].isspace():  # the chunk the difference is in
        k -= 1
    for _ in range(_FRAME_CHUNKS):  # whole unchanged chunks: a token spans up to four
        while k >= 0 and a[k].isspace():
            k -= 1
        while k >= 0 and not a[k].isspace():
            k -= 1
    lo = k + 1 if k >= 0 else 0
    s, la, lb = 0, len(a), len(b)
    while s + 64 <= n - lo and a[la - s - 64 : la - s] == b[lb - s - 64 : lb - s]:
        s += 64
    while s < n - lo and a[la - 1 - s] == b[lb - 1 - s]:
        s += 1
    k = len(a) - s
    while k < len(a) and not a[k].isspace():
        k += 1
    for _ in range(_FRAME_CHUNKS):
        while k < len(a) and a[k].isspace():
            k += 1
        while k < len(a) and not a[k].isspace():
            k += 1
    hi = len(a) - k if k < len(a) else 0
    if lo + hi > n:
        return 0, 0
    return lo, hi


def _pair_diff_tokens(a: str, b: str, granularity: str) -> _PairDiff:
    sa, ka = _tokens(a, granularity)
    sb, kb = _tokens(b, granularity)
    pieces: list[_Op] = []
    if not sa or not sb:
        if a != b:
            op = "cosmetic" if _cosmetic(a, b) else "change"
            pieces.append((op, 0, len(a), 0, len(b)))
        return _PairDiff(a, b, 0, 0, pieces)
    ops = _opcodes(ka, kb)
    if granularity == "word":
        ops = _merge_short_gaps(ops, ka, a, sa, kb, b, sb)
    n, m = len(sa), len(sb)

    def gap_a(i: int) -> tuple[int, int]:  # the whitespace before token i (i == n: after the last)
        return (sa[i - 1][1] if i else 0, sa[i][0] if i < n else len(a))

    def gap_b(j: int) -> tuple[int, int]:
        return (sb[j - 1][1] if j else 0, sb[j][0] if j < m else len(b))

    used_a: set[int] = set()
    used_b: set[int] = set()

    def gap(i: int, j: int) -> None:
        if i in used_a or j in used_b:
            return
        (a1, a2), (b1, b2) = gap_a(i), gap_b(j)
        if a2 == a1 and b2 == b1:
            return
        pieces.append(("equal" if a[a1:a2] == b[b1:b2] else "cosmetic", a1, a2, b1, b2))

    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            # Fast path: the run is identical, gaps included (the common case by far).
            ga = gap_a(i1)[0] if i1 not in used_a and j1 not in used_b else sa[i1][0]
            gb = gap_b(j1)[0] if i1 not in used_a and j1 not in used_b else sb[j1][0]
            if a[ga : sa[i2 - 1][1]] == b[gb : sb[j2 - 1][1]] and (ga == sa[i1][0]) == (
                gb == sb[j1][0]
            ):
                pieces.append(("equal", ga, sa[i2 - 1][1], gb, sb[j2 - 1][1]))
                continue
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                gap(i, j)
                (a1, a2), (b1, b2) = sa[i], sb[j]
                same = a[a1:a2] == b[b1:b2]
                pieces.append(("equal" if same else "cosmetic", a1, a2, b1, b2))
            continue
        if i2 > i1 and j2 > j1:  # replace: the gaps around it pair up as usual
            gap(i1, j1)
            pieces.append(("change", sa[i1][0], sa[i2 - 1][1], sb[j1][0], sb[j2 - 1][1]))
        elif i2 > i1:  # delete: the words leave with one gap, before them unless they open the text
            if i1 > 0:
                used_a.add(i1)
                pieces.append(("change", sa[i1 - 1][1], sa[i2 - 1][1], gap_b(j1)[0], gap_b(j1)[0]))
            else:
                gap(i1, j1)
                used_a.add(i2)
                end = gap_a(i2)[1]
                pieces.append(("change", sa[i1][0], end, gap_b(j1)[1], gap_b(j1)[1]))
        else:  # insert, symmetrically  # noqa: PLR5501 - mirrors the delete branch above
            if j1 > 0:
                used_b.add(j1)
                pieces.append(("change", gap_a(i1)[0], gap_a(i1)[0], sb[j1 - 1][1], sb[j2 - 1][1]))
            else:
                gap(i1, j1)
                used_b.add(j2)
                end = gap_b(j2)[1]
                pieces.append(("change", gap_a(i1)[1], gap_a(i1)[1], sb[j1][0], end))
    gap(n, m)
    pieces = [
        ("cosmetic", *p[1:])
        if p[0] == "change" and _cosmetic(a[p[1] : p[2]], b[p[3] : p[4]])
        else p
        for p in pieces
    ]
    return _PairDiff(a, b, 0, 0, _join_pieces(pieces, a, b))


_WORDS = re.compile(r"\w+")


def _join_pieces(pieces: list[_Op], a: str, b: str) -> list[_Op]:
    """Tidy the pieces into readable changes.

    A run of cosmetic edits separated only by unchanged spaces ("Remarks by" -> "REMARKS BY")
    is one cosmetic change; a whitespace edit touching a replacement joins it (" and" ->
    ", then"). A deletion or insertion keeps its neighbouring whitespace edit apart, so that it
    stays a deletion or an insertion.
    """

    def blank(p: _Op) -> bool:
        return p[0] == "cosmetic" and not a[p[1] : p[2]].strip() and not b[p[3] : p[4]].strip()

    def replacing(p: _Op) -> bool:
        return p[0] == "change" and p[2] > p[1] and p[4] > p[3]

    out: list[_Op] = []
    for p in pieces:
        q = out[-1] if out else _NO_OP
        touching = q[2] == p[1] and q[4] == p[3]
        if touching and ((blank(q) and replacing(p)) or (replacing(q) and blank(p))):
            out[-1] = ("change", q[1], p[2], q[3], p[4])
        elif p[0] == "cosmetic" and touching and q[0] == "cosmetic":
            out[-1] = ("cosmetic", q[1], p[2], q[3], p[4])
        elif (
            p[0] == "cosmetic"
            and len(out) >= 2
            and out[-2][0] == "cosmetic"
            and out[-1][0] == "equal"
            and not a[out[-1][1] : out[-1][2]].strip()
        ):
            out.pop()
            q = out.pop()
            out.append(("cosmetic", q[1], p[2], q[3], p[4]))
        else:
            out.append(p)
    return out


_NO_OP: _Op = ("", -1, -1, -1, -1)  # before the first piece: touches none


def _opcodes(ka: list[str], kb: list[str]) -> list[_Op]:
    """Token opcodes. The matcher breaks ties by position in its first sequence, so it always
    gets the two in one fixed order: diff(B, A) then mirrors diff(A, B) exactly."""
    if ka > kb:
        flip = {"insert": "delete", "delete": "insert"}
        return [(flip.get(t, t), j1, j2, i1, i2) for t, i1, i2, j1, j2 in _opcodes(kb, ka)]
    n, m = len(ka), len(kb)
    p = 0
    while p < n and p < m and ka[p] == kb[p]:
        p += 1
    s = 0
    while s < n - p and s < m - p and ka[n - 1 - s] == kb[m - 1 - s]:
        s += 1
    ops: list[_Op] = []
    if p:
        ops.append(("equal", 0, p, 0, p))
    _middle(ka, kb, p, n - s, p, m - s, ops)
    if s:
        ops.append(("equal", n - s, n, m - s, m))
    return _tidy(ops)


def _middle(
    ka: list[str], kb: list[str], a1: int, a2: int, b1: int, b2: int, out: list[_Op], depth: int = 0
) -> None:
    """Opcodes for ka[a1:a2] vs kb[b1:b2]: SequenceMatcher when small, unique anchors when not."""
    if a1 == a2 and b1 == b2:
        return
    if a1 == a2:
        out.append(("insert", a1, a1, b1, b2))
        return
    if b1 == b2:
        out.append(("delete", a1, a2, b1, b1))
        return
    if (a2 - a1) <= _SMALL and (b2 - b1) <= _SMALL:
        sm = SequenceMatcher(None, ka[a1:a2], kb[b1:b2], autojunk=False)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            out.append((tag, a1 + i1, a1 + i2, b1 + j1, b1 + j2))
        return
    anchors = _unique_anchors(ka, kb, a1, a2, b1, b2) if depth < 8 else []
    if not anchors:
        # Nothing unique in common: a heuristic SequenceMatcher (autojunk) keeps this bounded.
        sm = SequenceMatcher(None, ka[a1:a2], kb[b1:b2], autojunk=True)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            out.append((tag, a1 + i1, a1 + i2, b1 + j1, b1 + j2))
        return
    pa, pb = a1, b1
    for i, j in anchors:
        _middle(ka, kb, pa, i, pb, j, out, depth + 1)
        out.append(("equal", i, i + 1, j, j + 1))
        pa, pb = i + 1, j + 1
    _middle(ka, kb, pa, a2, pb, b2, out, depth + 1)


def _unique_anchors(
    ka: list[str], kb: list[str], a1: int, a2: int, b1: int, b2: int
) -> list[tuple[int, int]]:
    """Patience diff: tokens unique on both sides, longest increasing chain of their positions."""
    ca = Counter(ka[a1:a2])
    cb = Counter(kb[b1:b2])
    pos_b = {kb[j]: j for j in range(b1, b2) if cb[kb[j]] == 1 and ca[kb[j]] == 1}
    pairs = [(i, pos_b[ka[i]]) for i in range(a1, a2) if ka[i] in pos_b]
    return _longest_chain([(i, j, 1.0) for i, j in pairs])


def _tidy(ops: list[_Op]) -> list[_Op]:
    """Join neighbouring opcodes of the same tag and neighbouring edits into one replacement."""
    out: list[list[Any]] = []
    for tag, i1, i2, j1, j2 in ops:
        if i1 == i2 and j1 == j2:
            continue
        if out and (out[-1][0] == tag == "equal" or (out[-1][0] != "equal" and tag != "equal")):
            prev = out[-1]
            prev[2], prev[4] = i2, j2
            if tag != "equal":
                prev[0] = _edit_tag(prev[1], prev[2], prev[3], prev[4])
            continue
        out.append([tag, i1, i2, j1, j2])
    return [_as_op(o) for o in out]


def _as_op(o: list[Any]) -> _Op:
    return (o[0], o[1], o[2], o[3], o[4])


def _edit_tag(i1: int, i2: int, j1: int, j2: int) -> str:
    return "replace" if i2 > i1 and j2 > j1 else ("delete" if i2 > i1 else "insert")


def _merge_short_gaps(
    ops: list[_Op],
    keys: list[str],
    text: str,
    spans: _Spans,
    b_keys: list[str],
    b: str,
    b_spans: _Spans,
) -> list[_Op]:
    """Fold short unchanged runs between two edits into one replacement, as a human redline does.

    A gap of up to two words always folds; between two long edits, a gap up to half as long as
    the shorter edit (at most five words) folds too. A mostly rewritten stretch becomes one
    replacement. Never across a paragraph break: a split paragraph keeps its break.
    """
    cum = {id(keys): _word_prefix(keys), id(b_keys): _word_prefix(b_keys)}

    def words(k1: int, k2: int, side: list[str] = keys) -> int:
        c = cum[id(side)]
        return c[k2] - c[k1]

    def size(op: list[Any]) -> int:  # words an edit touches, the larger side
        return max(words(op[1], op[2]), words(op[3], op[4], b_keys))

    out: list[list[Any]] = []
    for op in map(list, ops):
        if op[0] != "equal" and len(out) >= 2 and out[-1][0] == "equal" and out[-2][0] != "equal":
            i1, i2 = out[-1][1], out[-1][2]
            gap = words(i1, i2)
            left, right = size(out[-2]), size(op)
            j1, j2 = out[-1][3], out[-1][4]
            if (
                gap <= max(_MERGE_GAP, min(5, min(left, right) // 2))
                and not _breaks(text, spans, i1, i2)
                and not _breaks(b, b_spans, j1, j2)
            ):
                out.pop()
                prev = out[-1]
                prev[2], prev[4] = op[2], op[4]
                prev[0] = _edit_tag(prev[1], prev[2], prev[3], prev[4])
                continue
        out.append(op)
    out = _rewrite_sentences(out, words, keys, b_keys, text, spans, b, b_spans)
    return _rewrite_as_one(out, words, b_keys, text, spans, b, b_spans)


_SENTENCE_MARKS = frozenset(".!?")


def _rewrite_sentences(
    ops: list[list[Any]],
    words: Callable[..., int],
    keys: list[str],
    b_keys: list[str],
    text: str,
    spans: _Spans,
    b: str,
    b_spans: _Spans,
) -> list[list[Any]]:
    """A sentence most of whose words changed is one replacement, from its first edit to its
    last, not scattered word edits around the few words that survived. Edits that reach into
    other sentences (one deleted, one added) stay as they are."""
    out: list[list[Any]] = []
    sentence: list[list[Any]] = []

    def flush() -> None:
        edits = [k for k, o in enumerate(sentence) if o[0] != "equal"]
        if len(edits) >= 2:
            first, last = sentence[edits[0]], sentence[edits[-1]]
            total = words(sentence[0][1], sentence[-1][2]) + words(
                sentence[0][3], sentence[-1][4], b_keys
            )
            changed = sum(
                words(o[1], o[2]) + words(o[3], o[4], b_keys) for o in sentence if o[0] != "equal"
            )
            if (
                2 * changed > total
                and _SENTENCE_MARKS.isdisjoint(keys[first[1] : last[2] - 1])
                and _SENTENCE_MARKS.isdisjoint(b_keys[first[3] : last[4] - 1])
                and not _breaks(text, spans, first[1] + 1, last[2] - 1)
                and not _breaks(b, b_spans, first[3] + 1, last[4] - 1)
            ):
                one = ["replace", first[1], last[2], first[3], last[4]]
                sentence[edits[0] : edits[-1] + 1] = [one]
        for o in sentence:  # the pieces of an equal run cut at sentence ends join again
            if out and o[0] == out[-1][0] == "equal":
                out[-1][2], out[-1][4] = o[2], o[4]
            else:
                out.append(o)
        sentence.clear()

    for op in ops:
        if op[0] != "equal":
            sentence.append(op)
            continue
        start = op[1]
        for t in range(op[1], op[2]):
            if keys[t] in _SENTENCE_MARKS:
                sentence.append(
                    ["equal", start, t + 1, op[3] + start - op[1], op[3] + t + 1 - op[1]]
                )
                flush()
                start = t + 1
        if start < op[2]:
            sentence.append(["equal", start, op[2], op[3] + start - op[1], op[4]])
    flush()
    return out


def _word_prefix(keys: list[str]) -> list[int]:
    """How many of keys[:k] are words (not punctuation), for every k."""
    out = [0]
    for k in keys:
        out.append(out[-1] + (1 if _HAS_WORD.search(k) else 0))
    return out


def _breaks(text: str, spans: _Spans, k1: int, k2: int) -> bool:
    """Is there a paragraph break between the token before k1 and the token at k2?"""
    lo = spans[k1 - 1][1] if k1 > 0 else 0
    hi = spans[k2][0] if k2 < len(spans) else len(text)
    return "\n" in text[lo:hi]


def _rewrite_as_one(
    ops: list[list[Any]],
    words: Callable[..., int],
    b_keys: list[str],
    text: str,
    spans: _Spans,
    b: str,
    b_spans: _Spans,
) -> list[_Op]:
    """When only fragments survive between the first and the last edit of a paragraph (under a
    third of its words, no unchanged run over four words), show the stretch as one replacement
    rather than a confetti of fragments."""
    edits = [k for k, o in enumerate(ops) if o[0] != "equal"]
    if len(edits) < 2:
        return [_as_op(o) for o in ops]
    first, last = edits[0], edits[-1]
    i1, i2 = ops[first][1], ops[last][2]
    if _breaks(text, spans, i1 + 1, i2 - 1) or _breaks(
        b, b_spans, ops[first][3] + 1, ops[last][4] - 1
    ):
        return [_as_op(o) for o in ops]
    runs = [words(o[1], o[2]) for o in ops[first : last + 1] if o[0] == "equal"]
    total = words(i1, i2) + words(ops[first][3], ops[last][4], b_keys)
    if sum(runs) * 6 >= total or total < 24 or max(runs, default=0) > 4:
        return [_as_op(o) for o in ops]
    one = ["replace", i1, i2, ops[first][3], ops[last][4]]
    return [_as_op(o) for o in [*ops[:first], one, *ops[last + 1 :]]]


def _coalesce(segments: list[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for s in segments:
        if not s.text:
            continue
        if out and out[-1].op == s.op and out[-1].cosmetic == s.cosmetic:
            out[-1] = Segment(s.op, out[-1].text + s.text, s.cosmetic)
        else:
            out.append(s)
    return out


def _longest_chain(pairs: list[tuple[int, int, float]]) -> list[tuple[int, int]]:
    """Heaviest chain of pairs increasing in both i and j (Fenwick tree, O(n log n))."""
    if not pairs:
        return []
    pairs = sorted(pairs, key=lambda p: (p[1], -p[0]))
    if all(pairs[k][0] < pairs[k + 1][0] for k in range(len(pairs) - 1)):
        return [(i, j) for i, j, _ in pairs]  # already in order: nothing moved
    size = max(p[0] for p in pairs) + 2
    tree_w = [0.0] * (size + 1)
    tree_k = [-1] * (size + 1)
    back = [-1] * len(pairs)
    best_w = [0.0] * len(pairs)
    for k, (i, _j, w) in enumerate(pairs):
        # best chain ending at an i' < i
        x, bw, bk = i, 0.0, -1  # prefix over ranks 1..i (rank = i' + 1)
        while x > 0:
            if tree_w[x] > bw:
                bw, bk = tree_w[x], tree_k[x]
            x -= x & -x
        best_w[k], back[k] = bw + w, bk
        x = i + 1
        while x <= size:
            if best_w[k] > tree_w[x]:
                tree_w[x], tree_k[x] = best_w[k], k
            x += x & -x
    k = max(range(len(pairs)), key=best_w.__getitem__)
    chain = []
    while k != -1:
        chain.append((pairs[k][0], pairs[k][1]))
        k = back[k]
    return chain[::-1]


def _word_set(key: str) -> frozenset[str]:
    """The distinct words of a paragraph key (its comparable form, or its own text)."""
    return frozenset(_WORDS.findall(key.lower()))


class _Lazy:
    """The signal lexicon, loaded on first use."""

    def __init__(self, lexicon: Lexicon | None) -> None:
        self._lex = lexicon

    def get(self) -> Lexicon:
        if self._lex is None:
            self._lex = lexicon()
        return self._lex


class _DocDiff:
    """Aligns two paragraph lists and diffs each aligned group."""

    def __init__(
        self,
        a: Sequence[str],
        b: Sequence[str],
        granularity: str,
        lex: _Lazy,
        *,
        classify: bool = True,
    ) -> None:
        self.a, self.b, self.granularity, self.lex, self.classify = a, b, granularity, lex, classify
        self.a_text, self.b_text = body_text(a), body_text(b)
        self.a_off = _offsets(a)
        self.b_off = _offsets(b)
        self.blocks: list[Block] = []
        self.changes: list[Change] = []
        self._changed_words = 0  # whitespace-separated words inside edits, both sides
        self._run()
        total = _word_count(self.a_text) + _word_count(self.b_text)
        # Cosmetic edits count too: similarity measures the text, not its significance.
        self.similarity = 1.0 if not total else round(max(0.0, 1 - self._changed_words / total), 4)

    # structure -------------------------------------------------------------------------------

    def _pairs(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(in-place pairs, moved pairs), both one-to-one."""
        a, b = self.a, self.b
        # Identical paragraphs (most of them) need no normalising: their text is their key.
        raw_a = set(a)
        common = raw_a.intersection(b)
        ka = [p if p in common else comparable(p) for p in a]
        kb = [p if p in common else comparable(p) for p in b]
        by_key: dict[str, deque[int]] = defaultdict(deque)
        for i, k in enumerate(ka):
            by_key[k].append(i)
        exact: list[tuple[int, int, float]] = []
        for j, k in enumerate(kb):
            if by_key.get(k):
                i = by_key[k].popleft()
                exact.append((i, j, self._weight(i, j, 1.0, k)))
        anchors = _longest_chain(exact)
        # Near matches among the rest, through an inverted index of words (never all pairs).
        used_a = {i for i, _, _ in exact}
        used_b = {j for _, j, _ in exact}
        free_a = [i for i in range(len(a)) if i not in used_a]
        free_b = [j for j in range(len(b)) if j not in used_b]
        near: list[tuple[float, int, int, float]] = []
        if free_a and free_b:
            wa = {i: _word_set(ka[i]) for i in free_a}
            index: dict[str, list[int]] = defaultdict(list)
            for i in free_a:
                for word in wa[i]:
                    index[word].append(i)
            ai = [p[0] for p in anchors]
            bj = [p[1] for p in anchors]
            for j in free_b:
                wb = _word_set(kb[j])
                if not wb:
                    continue
                posts = [index.get(w, ()) for w in wb]
                shared = Counter(chain.from_iterable(p for p in posts if len(p) <= _DF_CAP))
                floor = _NEAR_IN_PLACE * len(wb)  # 2c >= 0.3 (|wa| + |wb|) needs at least this
                gap_j = bisect_right(bj, j)
                for i, c in shared.items():
                    if 2 * c < floor:
                        continue
                    dice = 2 * c / (len(wa[i]) + len(wb))
                    same_gap = bisect_right(ai, i) == gap_j
                    if dice >= (_NEAR_IN_PLACE if same_gap else _NEAR):
                        near.append((dice + (1.0 if same_gap else 0.0), i, j, dice))
        near.sort(key=lambda t: (-t[0], t[1], t[2]))
        chosen = list(exact)
        for _, i, j, dice in near:
            if i in used_a or j in used_b:
                continue
            used_a.add(i)
            used_b.add(j)
            chosen.append((i, j, self._weight(i, j, dice, min(ka[i], kb[j]) + max(ka[i], kb[j]))))
        in_place = _longest_chain(chosen)
        kept = set(in_place)
        moved = []
        for i, j, w in chosen:
            if (i, j) in kept:
                continue
            # A weak match out of place is a deletion and an insertion, not a move.
            short = min(len(_WORDS.findall(a[i])), len(_WORDS.findall(b[j]))) < _MOVE_MIN_WORDS
            if not short and (ka[i] == kb[j] or w / self._weight(i, j, 1) >= _NEAR - 1e-3):
                moved.append((i, j))
        return in_place, sorted(moved, key=lambda p: p[1])

    def _weight(self, i: int, j: int, score: float, tie: str = "") -> float:
        # Symmetric in A and B, with a tie-breaker that depends on the text only, so that
        # diff(B, A) keeps in place what diff(A, B) keeps.
        size = (self.a_off[i + 1] - self.a_off[i] + self.b_off[j + 1] - self.b_off[j]) / 2
        return score * size + (zlib.crc32(tie[:80].encode()) % 997) * 1e-7

    def _groups(
        self, in_place: list[tuple[int, int]], taken_a: set[int], taken_b: set[int]
    ) -> list[list[int]]:
        """Grow each aligned pair over free neighbours it was split into or merged from."""
        groups = [[i, i + 1, j, j + 1] for i, j in in_place]
        for g in groups:
            grown = True
            while (
                grown
            ):  # until neither side can take a neighbour (one side's growth enables the other's)
                grown = False
                for side, direction in (("b", 1), ("b", -1), ("a", 1), ("a", -1)):
                    if side == "b":
                        nxt, seq, taken = (g[3] if direction == 1 else g[2] - 1), self.b, taken_b
                    else:
                        nxt, seq, taken = (g[1] if direction == 1 else g[0] - 1), self.a, taken_a
                    if not 0 <= nxt < len(seq) or nxt in taken or not self._absorbs(g, side, nxt):
                        continue
                    taken.add(nxt)
                    grown = True
                    if side == "b":
                        g[2], g[3] = min(g[2], nxt), max(g[3], nxt + 1)
                    else:
                        g[0], g[1] = min(g[0], nxt), max(g[1], nxt + 1)
        return groups

    def _absorbs(self, g: list[int], side: str, k: int) -> bool:
        """Is paragraph k (of side) the other half of a split/merge in group g?"""
        a_words = Counter(w.lower() for p in self.a[g[0] : g[1]] for w in _WORDS.findall(p))
        b_words = Counter(w.lower() for p in self.b[g[2] : g[3]] for w in _WORDS.findall(p))
        extra = Counter(w.lower() for w in _WORDS.findall((self.b if side == "b" else self.a)[k]))
        if not extra:
            return False
        mine, other = (b_words, a_words) if side == "b" else (a_words, b_words)
        spare = other - mine  # words of the other side this group does not account for yet
        covered = sum((extra & spare).values())
        return covered >= 0.7 * sum(extra.values())

    def _run(self) -> None:
        a, b = self.a, self.b
        in_place, moved = self._pairs()
        taken_a = {i for i, _ in in_place} | {i for i, _ in moved}
        taken_b = {j for _, j in in_place} | {j for _, j in moved}
        groups = (
            self._groups(in_place, taken_a, taken_b)
            if self.granularity != "paragraph"
            else [[i, i + 1, j, j + 1] for i, j in in_place]
        )
        move_of_b = {j: i for i, j in moved}
        moved_a = {i for i, _ in moved}
        group_of_b = {g[2]: g for g in groups}
        in_group_b = {j for g in groups for j in range(g[2], g[3])}
        in_group_a = {i for g in groups for i in range(g[0], g[1])}
        a_only = [i for i in range(len(a)) if i not in in_group_a]  # deleted or moved away
        pending = deque(a_only)
        last_a = 0  # A position after the last aligned group (where B's next content stands in A)
        for j in range(len(b)):
            g = group_of_b.get(j)
            if g is not None:
                while pending and pending[0] < g[0]:
                    self._a_only(pending.popleft(), moved_a, j)
                self._group(g)
                last_a = g[1]
            elif j in in_group_b:
                continue
            elif j in move_of_b:
                self._move(move_of_b[j], j)
            else:
                self._insert(j, last_a)
        while pending:
            self._a_only(pending.popleft(), moved_a, len(b))

    # emitters --------------------------------------------------------------------------------

    def _a_only(self, i: int, moved_a: set[int], j: int) -> None:
        if i in moved_a:
            self.blocks.append(Block("move", i, None, (Segment("delete", self.a[i]),)))
            return
        self.blocks.append(Block("delete", i, None, (Segment("delete", self.a[i]),)))
        self._changed_words += len(self.a[i].split())
        a1, a2 = self.a_off[i], self.a_off[i] + len(self.a[i])
        at = self.b_off[j]
        self.changes.append(
            self._classified(
                Change("delete", self.a[i], "", "", (), "body", i, None, (), a1, a2, at, at)
            )
        )

    def _insert(self, j: int, last_a: int) -> None:
        self.blocks.append(Block("insert", None, j, (Segment("insert", self.b[j]),)))
        self._changed_words += len(self.b[j].split())
        b1, b2 = self.b_off[j], self.b_off[j] + len(self.b[j])
        at = self.a_off[last_a]
        self.changes.append(
            self._classified(
                Change("insert", "", self.b[j], "", (), "body", None, j, (), at, at, b1, b2)
            )
        )

    def _move(self, i: int, j: int) -> None:
        a1, b1 = self.a_off[i], self.b_off[j]
        pd = _pair_diff(self.a[i], a1, self.b[j], b1, self.granularity)
        self._changed_words += pd.changed_words
        inner = self._pair_changes(pd, moved=True)
        self.blocks.append(Block("move", i, j, tuple(pd.segments)))
        sig = max((c.significance for c in inner), key=SIGNIFICANCE.index, default="minor")
        sig = "minor" if sig == "cosmetic" else sig
        flags = tuple(f for f in FLAGS if any(f in c.flags for c in inner))
        added = tuple(dict.fromkeys(s for c in inner for s in c.signals_added))
        removed = tuple(dict.fromkeys(s for c in inner for s in c.signals_removed))
        signals = tuple(dict.fromkeys(added + removed))
        self.changes.append(
            Change(
                "move",
                self.a[i],
                self.b[j],
                sig,
                signals,
                "body",
                i,
                j,
                flags,
                a1,
                a1 + len(self.a[i]),
                b1,
                b1 + len(self.b[j]),
                added,
                removed,
            )
        )
        self.changes += inner

    def _group(self, g: list[int]) -> None:
        if g[1] - g[0] == 1 == g[3] - g[2]:  # one paragraph on each side (nearly always)
            at, bt = self.a[g[0]], self.b[g[2]]
        else:
            at = self.a_text[self.a_off[g[0]] : self.a_off[g[1]] - 1]
            bt = self.b_text[self.b_off[g[2]] : self.b_off[g[3]] - 1]
        a1, b1 = self.a_off[g[0]], self.b_off[g[2]]
        if at == bt:
            self.blocks.append(Block("equal", g[0], g[2], (Segment("equal", bt),)))
            return
        pd = _pair_diff(at, a1, bt, b1, self.granularity)
        self._changed_words += pd.changed_words
        self.blocks.append(Block("changed", g[0], g[2], tuple(pd.segments)))
        self.changes += self._pair_changes(pd, moved=False)

    def _pair_changes(self, pd: _PairDiff, *, moved: bool) -> list[Change]:
        if not self.classify:
            return []
        out = _classify_all(
            pd, pd.a, pd.b, pd.a_base, pd.b_base, self.lex, "body", self.a_off, self.b_off
        )
        return [replace(c, moved=True) for c in out] if moved else out

    def _classified(self, c: Change) -> Change:
        if not self.classify:
            return c
        return _finish(c, c.old, c.new, (c.old, 0, len(c.old)), (c.new, 0, len(c.new)), self.lex)


def _word_count(text: str) -> int:
    """About the number of words: separators counted, which is fast on long bodies."""
    return text.count(" ") + text.count("\n")


def _offsets(paragraphs: Sequence[str]) -> list[int]:
    """Start offset of each paragraph in :func:`body_text`, plus the total length."""
    out = [0]
    for p in paragraphs:
        out.append(out[-1] + len(p) + 1)
    return out


def _classify_all(
    pd: _PairDiff,
    a: str,
    b: str,
    a_base: int,
    b_base: int,
    lex: _Lazy,
    where: str,
    a_off: list[int] | None,
    b_off: list[int] | None,
) -> list[Change]:
    out = []
    for op, a1, a2, b1, b2 in pd.pieces:
        if op == "equal":
            continue
        old, new = a[a1:a2], b[b1:b2]
        kind = _edit_tag(a1, a2, b1, b2)
        ap = bisect_right(a_off, a_base + a1) - 1 if a_off is not None else None
        bp = bisect_right(b_off, b_base + b1) - 1 if b_off is not None else None
        c = Change(
            kind,
            old,
            new,
            "cosmetic" if op == "cosmetic" else "",
            (),
            where,
            ap,
            bp,
            (),
            a_base + a1,
            a_base + a2,
            b_base + b1,
            b_base + b2,
        )
        out.append(c if op == "cosmetic" else _finish(c, old, new, (a, a1, a2), (b, b1, b2), lex))
    return out


STOPWORDS = frozenset(
    """
a about above after again against all also an and any are as at be been before being below between
both but by during each few for from further had has have having he her here hers herself him
himself his how i if in into is it its itself just me more most my myself of off on once only or
other our ours ourselves out over own same she so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were what when
where which while who whom why with you your yours yourself yourselves today yesterday tomorrow
additionally moreover however therefore thus furthermore meanwhile indeed including well very really
including s t
""".split()
)

MODALS = frozenset("will would shall should may might must can could ought".split())

_CONTRACTED_MODAL = {
    "won't": "will",
    "wouldn't": "would",
    "shouldn't": "should",
    "can't": "can",
    "cannot": "can",
    "couldn't": "could",
    "mustn't": "must",
    "shan't": "shall",
    "mightn't": "might",
}

_FLAG_WORD = re.compile(r"[\w’'\-]+")
_SENTENCE_END = re.compile(r"[.!?:;\"“”]\s*$|^\s*$")


def _words(text: str) -> list[str]:
    return [w.replace("’", "'") for w in _FLAG_WORD.findall(comparable(text))]


def _cosmetic(old: str, new: str) -> bool:
    """Only normalisation, case, or punctuation differ ("D.C." -> "DC", “yes” -> "yes")."""
    co, cn = comparable(old), comparable(new)
    if co == cn:
        return True
    # Letters and digits alike, and the numbers' values too: "12,300" is "12300", "1.5" not "15".
    return _letters(co) == _letters(cn) and figures(co) == figures(cn)


def _letters(text: str) -> str:
    return "".join(_FLAG_WORD.findall(text)).replace("'", "").replace("-", "")


def _negations(words: list[str]) -> int:
    return sum(1 for w in words if w in NEGATORS or w.endswith("n't"))


def _modals(words: list[str]) -> Counter[str]:
    return Counter(
        _CONTRACTED_MODAL.get(w, w) for w in words if w in MODALS or w in _CONTRACTED_MODAL
    )


def _entities(text: str, lo: int, hi: int) -> tuple[list[str], list[tuple[int, str]]]:
    """Capitalised words and acronyms in text[lo:hi], in order: those inside a sentence, and
    (with their offsets) those opening one, which are names only if :class:`_Names` says so."""
    out: list[str] = []
    openers: list[tuple[int, str]] = []
    for m in _FLAG_WORD.finditer(text, lo, hi):
        w = m.group()
        if not w[:1].isupper() or w.casefold() in STOPWORDS or w.casefold() in MODALS:
            continue
        sentence_start = _SENTENCE_END.search(text[max(0, m.start() - 3) : m.start()]) is not None
        if sentence_start and not (len(w) > 1 and w.isupper()):
            openers.append((m.start(), canonical(w)))
        else:
            out.append(canonical(w))
    return out, openers


class _Names:
    """Who one side of an edit names, read as :mod:`dipdiff.analyse.entities` reads a statement
    (gazetteer names and aliases, the person and organisation rules) in a window around the
    edit. Looked up on first use only: most edits are decided before a name needs identifying.
    """

    def __init__(self, text: str, lo: int, hi: int) -> None:
        self.text, self.lo, self.hi = text, lo, hi
        self._known: dict[str, str] | None = None  # folded word of a gazetteer name -> its entry
        self._named: list[tuple[int, int]] = []  # spans of every name that overlaps the edit

    def _scan(self) -> dict[str, str]:
        if self._known is not None:
            return self._known
        w_lo = max(0, self.text.rfind(" ", 0, max(0, self.lo - _NAME_CONTEXT)) + 1)
        w_hi = self.text.find(" ", min(len(self.text), self.hi + _NAME_CONTEXT))
        w_hi = len(self.text) if w_hi < 0 else w_hi
        tokens = name_tokens(self.text[w_lo:w_hi])
        gz = default_gazetteer()
        inside = [w_lo + t.start < self.hi and w_lo + t.end > self.lo for t in tokens]
        self._known = {}
        i = 0
        while i < len(tokens):  # gazetteer names, also inside a name the rules found
            hit = gz.match(tokens, i) if tokens[i].capitalised else None
            if hit is None:
                i += 1
                continue
            end, phrase = hit
            for k in range(i, end):
                if inside[k]:
                    self._known[fold(tokens[k].text)] = phrase.entry.key
            i = end
        for m in find_mentions(tokens, gz):
            if any(inside[m.start : m.end]):
                self._named.append((w_lo + tokens[m.start].start, w_lo + tokens[m.end - 1].end))
        return self._known

    def key(self, word: str) -> str | None:
        """The gazetteer entry that ``word``, in this edit, is (part of) the name of."""
        return self._scan().get(fold(word))

    def is_name(self, pos: int) -> bool:
        """Is the word at ``pos`` part of a name: a gazetteer name, a person, an organisation?"""
        self._scan()
        return any(a <= pos < b for a, b in self._named)


def _entity_changed(
    actx: tuple[str, int, int], bctx: tuple[str, int, int], na: _Names, nb: _Names
) -> bool:
    old, old_openers = _entities(*actx)
    new, new_openers = _entities(*bctx)
    if _names_changed(old, new, na, nb):
        return True
    if not old_openers and not new_openers:
        return False
    # A word opening a sentence is capitalised anyway: it counts when it is a known name, or
    # the old spelling of one ("Lichtenstein:" -> "Liechtenstein:").
    old_names = [w for pos, w in old_openers if na.is_name(pos)]
    new_names = [w for pos, w in new_openers if nb.is_name(pos)]
    old += old_names + [
        w
        for _, w in old_openers
        if w not in old_names
        and any(_respelled(w.casefold(), n.casefold(), na, nb) for n in new_names)
    ]
    new += new_names + [
        w
        for _, w in new_openers
        if w not in new_names
        and any(_respelled(o.casefold(), w.casefold(), na, nb) for o in old_names)
    ]
    return _names_changed(old, new, na, nb)


def _names_changed(old: list[str], new: list[str], na: _Names, nb: _Names) -> bool:
    """Names added, removed or swapped; a respelt name ("Lichtenstein") is not a new name."""
    if old == new:
        return False
    removed = list((Counter(old) - Counter(new)).elements())
    added = list((Counter(new) - Counter(old)).elements())
    if not removed and not added:
        return True  # the same names in another order: a swap
    if len(removed) != len(added):
        return True
    for o in removed:
        match = next((n for n in added if _respelled(o.casefold(), n.casefold(), na, nb)), None)
        if match is None:
            return True
        added.remove(match)
    return False


def _signal_keys(lex: _Lazy, text: str, lo: int, hi: int) -> Counter[tuple[str, str, bool]]:
    """Signals overlapping text[lo:hi], with 3 words after it (a new "not" negates what follows):
    (phrase with its intensifier, the lexicon's phrase, negated)."""
    ext = hi
    for _ in range(3):
        m = _FLAG_WORD.search(text, ext)
        if not m:
            break
        ext = m.end()
    # Back far enough for a phrase that starts before the edit ("call on all parties") and for a
    # signal whose intensifier the edit touches ("condemns this attack in the strongest terms").
    window_lo = max(0, text.rfind(" ", 0, max(0, lo - _SIGNAL_CONTEXT)) + 1)
    found = lex.get().find(text[window_lo:ext])
    out: Counter[tuple[str, str, bool]] = Counter()
    for s in found:
        start, end = (x + window_lo for x in s.extent)
        if start < ext and end > lo:
            out[(s.phrase, s.signal.phrase, s.negated)] += 1
    return out


def _finish(
    c: Change,
    old: str,
    new: str,
    actx: tuple[str, int, int],
    bctx: tuple[str, int, int],
    lex: _Lazy,
) -> Change:
    """Classify and flag one change; ``actx``/``bctx`` are (text, start, end) around it."""
    if _cosmetic(old, new):
        return replace(c, significance="cosmetic")
    wo, wn = _words(old), _words(new)
    flags = []
    if _negations(wo) != _negations(wn):
        flags.append("negation")
    if _modals(wo) != _modals(wn):
        flags.append("modality")
    if quantities(old, wo) != quantities(new, wn):
        flags.append("number")
    na, nb = _Names(*actx), _Names(*bctx)
    if _entity_changed(actx, bctx, na, nb):
        flags.append("entity")
    sa = _signal_keys(lex, *actx)
    sb = _signal_keys(lex, *bctx)
    gone, came = list((sa - sb).elements()), list((sb - sa).elements())
    removed = tuple(dict.fromkeys(("not " if neg else "") + p for p, _, neg in gone))
    added = tuple(dict.fromkeys(("not " if neg else "") + p for p, _, neg in came))
    signals = tuple(dict.fromkeys(base for _, base, _ in gone + came))
    if signals:
        flags.append("signal")
    significance = "substantive" if flags else _minor_or_substantive(wo, wn, na, nb)
    return replace(
        c,
        significance=significance,
        flags=tuple(flags),
        signals=signals,
        signals_added=added,
        signals_removed=removed,
    )


def _minor_or_substantive(wo: list[str], wn: list[str], na: _Names, nb: _Names) -> str:
    """minor: only function words change, or content words are respelled; else substantive."""
    removed = Counter(w for w in wo if w not in STOPWORDS) - Counter(
        w for w in wn if w not in STOPWORDS
    )
    added = Counter(w for w in wn if w not in STOPWORDS) - Counter(
        w for w in wo if w not in STOPWORDS
    )
    removed = Counter({w: n for w, n in removed.items() if _HAS_WORD.search(w)})
    added = Counter({w: n for w, n in added.items() if _HAS_WORD.search(w)})
    if not removed and not added:
        content = [w for w in wo if w not in STOPWORDS], [w for w in wn if w not in STOPWORDS]
        return "minor" if content[0] == content[1] else "substantive"  # reordered content words
    olds, news = list(removed.elements()), list(added.elements())
    if len(olds) != len(news) or len(olds) > 3:
        return "substantive"
    for o in olds:  # every changed word must be a respelling of one on the other side
        match = next((n for n in news if _respelled(o, n, na, nb)), None)
        if match is None:
            return "substantive"
        news.remove(match)
    return "minor"


def _respelled(o: str, n: str, na: _Names, nb: _Names) -> bool:
    """One word spelt two ways ("Lichtenstein", "Salame"). Two different names of the gazetteer
    never are, however alike they look ("Niger", "Nigeria"): the spelling decides only when at
    most one of the two is a known name."""
    if o.replace("-", "") == n.replace("-", "") or fold(o) == fold(n):
        return True
    if len(o) < 4 or len(n) < 4 or SequenceMatcher(None, o, n).ratio() < _RESPELT:
        return False
    ko, kn = na.key(o), nb.key(n)
    return ko is None or kn is None or ko == kn
