"""Properties of the diff engine (hypothesis): the change list is a faithful edit script.

- applying the changes to A reproduces B exactly (body and title);
- diff(A, A) has no changes;
- swapping A and B swaps insertions and deletions;
- no change starts or ends inside a word.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dipdiff.analyse.diff import apply, body_text, diff_statements, diff_words
from dipdiff.models import Statement

# A vocabulary with the register's traps: signal words, modals, negators, names, numbers,
# curly quotes, dashes, invisible characters, and mojibake.
WORDS = [
    "the",
    "United",
    "States",
    "urges",
    "calls",
    "on",
    "all",
    "parties",
    "to",
    "halt",
    "not",
    "will",
    "may",
    "must",
    "support",
    "condemn",
    "ceasefire",
    "Libya",
    "Haftar",
    "12,300",
    "18",
    "U.S.",
    "won’t",
    "don't",
    "Biden-\u2060Harris",
    "Departure\ufffc",
    "deeply",
    "concerned",
    "“restraint”",
    "—",
    "–",
    ",",
    ".",
    ";",
    "(",
    ")",
    "donât",
    "EspaÃ±ol",
    "co-operate",
    "a",
    "of",
]
SPACES = [" ", " ", " ", "  ", "\u00a0", " \u200b", "\t"]

word = st.sampled_from(WORDS)
space = st.sampled_from(SPACES)


@st.composite
def paragraph(draw) -> str:
    ws = draw(st.lists(word, min_size=1, max_size=14))
    out = ws[0]
    for w in ws[1:]:
        out += draw(space) + w
    return out


paragraphs = st.lists(paragraph(), min_size=0, max_size=7)


@st.composite
def edited(draw) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A and an edited B: paragraphs moved, dropped, added, split, reworded."""
    a = draw(paragraphs)
    b = list(a)
    for _ in range(draw(st.integers(0, 5))):
        op = draw(st.sampled_from(["move", "drop", "add", "split", "merge", "word", "case"]))
        if op == "add" or not b:
            b.insert(draw(st.integers(0, len(b))), draw(paragraph()))
            continue
        k = draw(st.integers(0, len(b) - 1))
        if op == "move":
            p = b.pop(k)
            b.insert(draw(st.integers(0, len(b))), p)
        elif op == "drop":
            b.pop(k)
        elif op == "split" and " " in b[k].strip():
            left, _, right = b[k].partition(" ")
            if left.strip() and right.strip():
                b[k : k + 1] = [left, right]
        elif op == "merge" and k + 1 < len(b):
            b[k : k + 2] = [b[k] + " " + b[k + 1]]
        elif op == "word":
            ws = b[k].split(" ")
            ws[draw(st.integers(0, len(ws) - 1))] = draw(word)
            b[k] = " ".join(ws)
        elif op == "case":
            b[k] = b[k].upper()
    return tuple(a), tuple(b)


def _check_reproduces(a: Statement, b: Statement) -> None:
    r = diff_statements(a, b)
    assert apply(r.changes, body_text(a.paragraphs)) == body_text(b.paragraphs)
    assert apply(r.changes, a.title, where="title") == b.title
    for c in r.changes:
        at, bt = (
            (a.title, b.title)
            if c.where == "title"
            else (body_text(a.paragraphs), body_text(b.paragraphs))
        )
        assert at[c.a_start : c.a_end] == c.old and bt[c.b_start : c.b_end] == c.new


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(edited(), paragraph(), paragraph())
def test_applying_the_changes_to_a_gives_b(pair, ta, tb):
    a, b = pair
    _check_reproduces(Statement(ta, a), Statement(tb, b))


@FAST
@given(paragraphs, paragraphs)
def test_applying_works_for_unrelated_texts_too(a, b):
    _check_reproduces(Statement("", tuple(a)), Statement("", tuple(b)))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text(min_size=0, max_size=40), max_size=5),
    st.lists(st.text(min_size=0, max_size=40), max_size=5),
    st.text(max_size=30),
    st.text(max_size=30),
)
def test_arbitrary_unicode_never_raises_and_still_reproduces(a, b, ta, tb):
    _check_reproduces(Statement(ta, tuple(a)), Statement(tb, tuple(b)))


@FAST
@given(paragraphs, paragraph())
def test_a_text_against_itself_has_no_changes(a, title):
    s = Statement(title, tuple(a))
    r = diff_statements(s, s)
    assert r.changes == () and all(bl.kind == "equal" for bl in r.blocks)
    assert r.similarity == 1.0


@st.composite
def distinct_edited(draw) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Like :func:`edited`, over words that occur once: the alignment has no ties to break, so
    the edit script it finds is the only sensible one and must be symmetric."""
    counter = iter(range(10**6))
    fresh = lambda: f"w{next(counter)}"  # noqa: E731
    a = [
        " ".join(fresh() for _ in range(draw(st.integers(1, 8))))
        for _ in range(draw(st.integers(0, 6)))
    ]
    b = list(a)
    for _ in range(draw(st.integers(0, 5))):
        op = draw(st.sampled_from(["move", "drop", "add", "split", "merge", "word", "insert-word"]))
        if op == "add" or not b:
            b.insert(
                draw(st.integers(0, len(b))),
                " ".join(fresh() for _ in range(draw(st.integers(1, 8)))),
            )
            continue
        k = draw(st.integers(0, len(b) - 1))
        ws = b[k].split(" ")
        if op == "move":
            b.insert(draw(st.integers(0, len(b) - 1)), b.pop(k))
        elif op == "drop":
            b.pop(k)
        elif op == "split" and len(ws) > 1:
            cut = draw(st.integers(1, len(ws) - 1))
            b[k : k + 1] = [" ".join(ws[:cut]), " ".join(ws[cut:])]
        elif op == "merge" and k + 1 < len(b):
            b[k : k + 2] = [b[k] + " " + b[k + 1]]
        elif op == "word":
            ws[draw(st.integers(0, len(ws) - 1))] = fresh()
            b[k] = " ".join(ws)
        elif op == "insert-word":
            ws.insert(draw(st.integers(0, len(ws))), fresh())
            b[k] = " ".join(ws)
    return tuple(a), tuple(b)


@FAST
@given(distinct_edited())
def test_swapping_a_and_b_swaps_insertions_and_deletions(pair):
    a, b = pair
    fwd = diff_statements(Statement("", a), Statement("", b))
    back = diff_statements(Statement("", b), Statement("", a))
    sf, sb = fwd.summary(), back.summary()
    assert (sf["insert"], sf["delete"]) == (sb["delete"], sb["insert"])
    assert sorted(c.old + "\x00" + c.new for c in fwd.changes if c.kind != "move") == sorted(
        c.new + "\x00" + c.old for c in back.changes if c.kind != "move"
    )


_WORD_CHAR = re.compile(r"\w")


def _inside_word(text: str, pos: int) -> bool:
    return (
        0 < pos < len(text)
        and bool(_WORD_CHAR.match(text[pos - 1]))
        and bool(_WORD_CHAR.match(text[pos]))
    )


@FAST
@given(edited())
def test_no_change_starts_or_ends_inside_a_word(pair):
    a, b = pair
    at, bt = body_text(a), body_text(b)
    for c in diff_statements(Statement("", a), Statement("", b)).changes:
        for pos in (c.a_start, c.a_end):
            assert not _inside_word(at, pos), (c, at)
        for pos in (c.b_start, c.b_end):
            assert not _inside_word(bt, pos), (c, bt)


@FAST
@given(paragraph(), paragraph())
def test_diff_words_is_an_edit_script_of_its_two_texts(a, b):
    assume(a != b)
    changes = diff_words(a, b)
    assert changes and apply(changes, a) == b
