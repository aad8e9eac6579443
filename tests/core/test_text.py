"""The normalisation layer: canonical() (stored hashes depend on it) and mojibake folding."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from dipdiff.text import (
    _INVISIBLE,
    _QUOTES,
    canonical,
    clean,
    clip,
    comparable,
    fold_mojibake,
)


def _reference_canonical(text: str) -> str:
    # canonical() as first written: its output is what content hashes in existing stores mean.
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_INVISIBLE).translate(_QUOTES)
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def texts_with(special: str) -> st.SearchStrategy[str]:
    """Any text, with the characters a rule is about drawn often."""
    return st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(list(special)))


@settings(max_examples=300, deadline=None)
@given(texts_with("“”’—–\u00a0\u200b\u00ad\ufffc…«»"))
def test_canonical_is_unchanged_by_its_fast_paths(text):
    assert canonical(text) == _reference_canonical(text)


def _reference_clean(text: str) -> str:
    # clean() as first written, with a regex: what every stored version's text was made with.
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", "", text)
    text = re.sub("[\ud800-\udfff]", "\ufffd", text)
    return re.sub(r"[ \t\r\n\f\v\u2028\u2029]+", " ", text).strip()


@settings(max_examples=300, deadline=None)
@given(texts_with(" \t\r\n\f\v\u2028\u2029\u00a0\u3000\x00\x85\u202e\ud800"))
def test_clean_folds_layout_as_the_regex_did(text):
    assert clean(text) == _reference_clean(text)


def test_noise_that_no_reader_would_call_an_edit():
    assert canonical("“We won’t” — at\u00a0all\u200b.") == canonical('"We won\'t" - at all.')
    assert canonical("Departure\ufffc") == canonical("Departure")
    assert canonical("Biden-\u2060Harris") == "Biden-Harris"


def test_mojibake_folds_for_comparison_only():
    assert fold_mojibake("EspaÃ±ol") == "Español"
    assert comparable("donât") == comparable("don’t")
    assert comparable("âroamingâ") == comparable("roaming")
    assert comparable("1â877âUSA") == comparable("1‐877‐USA")
    assert comparable("ComplexÂ") == comparable("Complex")
    assert fold_mojibake("plain text") == "plain text"
    assert comparable("Tripoli") != comparable("Tobruk")


@given(st.text(), st.integers(min_value=1, max_value=80))
def test_clip_by_characters_fits_and_shows_the_cut(text, limit):
    shown = clip(text, limit)
    assert len(shown) <= limit
    if len(text) <= limit:
        assert shown == text
    else:
        assert shown.endswith("…") and text.startswith(shown[:-1]) and not shown[:-1].endswith(" ")


@given(st.text(), st.integers(min_value=1, max_value=30))
def test_clip_by_words_keeps_whole_words_and_shows_the_cut(text, limit):
    shown = clip(text, limit, words=True)
    words = text.split()
    if len(words) <= limit:
        assert shown == " ".join(words)
    else:
        assert shown == " ".join(words[:limit]) + "…"
