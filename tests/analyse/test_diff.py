"""Diff engine basics (the deep behaviour lives in its own cases and property tests)."""

from __future__ import annotations

from dipdiff.analyse.diff import diff_texts, tokenize


def test_tokens_round_trip():
    text = "The U.S. won’t back down — “never”,  it said."
    assert "".join(tokenize(text)) == text


def test_identical_texts_have_no_changes():
    r = diff_texts("One.\n\nTwo.", "One.\n\nTwo.")
    assert r.changes == () and r.similarity == 1.0


def test_word_edit_snaps_to_words():
    r = diff_texts("We urge restraint by all sides.", "We demand restraint by all sides.")
    (c,) = r.changes
    assert (c.kind, c.old, c.new, c.significance) == ("replace", "urge", "demand", "substantive")


def test_quote_and_space_changes_are_cosmetic():
    r = diff_texts("He said “yes”.", 'He said  "yes".')
    assert r.changes and all(c.significance == "cosmetic" for c in r.changes)
    assert r.filtered(ignore_cosmetic=True).changes == ()


def test_inserted_and_deleted_paragraphs():
    r = diff_texts(
        "Alpha beta gamma.\n\nDelta epsilon.",
        "Alpha beta gamma.\n\nNew text here.\n\nDelta epsilon.",
    )
    (c,) = r.changes
    assert (c.kind, c.new) == ("insert", "New text here.")


def test_diff_words_is_a_pure_pair_diff():
    from dipdiff.analyse.diff import diff_words, redline

    (c,) = diff_words("We urge restraint.", "We demand restraint.")
    assert (c.kind, c.old, c.new) == ("replace", "urge", "demand")
    segs = redline("We urge restraint.", "We demand restraint.")
    assert "".join(s.text for s in segs if s.op != "delete") == "We demand restraint."
