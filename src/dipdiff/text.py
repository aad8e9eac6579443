"""Canonical text, so that comparisons ignore noise that no reader would call an edit.

Two layers, kept apart on purpose:

* :func:`clean` is what dipdiff *stores and shows*: the page's own characters
  (curly quotes, dashes, non-breaking spaces) with layout whitespace folded and
  control characters dropped.
* :func:`canonical` is what dipdiff *compares*: Unicode NFKC, straight quotes,
  one kind of dash, invisible characters removed. Two texts that differ only
  here are the same statement; a diff calls such differences ``cosmetic``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

# Characters that render as nothing (or as an object placeholder) and that
# content management systems insert and remove at will.
_INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u00ad"  # soft hyphen
        "\u200b\u200c\u200d"  # zero-width space / non-joiner / joiner
        "\u2060"  # word joiner ("Biden-\u2060Harris" in White House titles)
        "\ufeff"  # BOM / zero-width no-break space
        "\ufffc",  # object replacement character (seen in White House titles)
    ),
    None,
)

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\ufe58": "-",
        "\ufe63": "-",
        "\uff0d": "-",
        "\u2026": "...",
    }
)

_REPLACEMENT = {chr(k): v or "" for k, v in _INVISIBLE.items()} | {
    chr(k): v for k, v in _QUOTES.items()
}
_SPECIAL = re.compile("[" + re.escape("".join(_REPLACEMENT)) + "]")


def _special(m: re.Match[str]) -> str:
    return _REPLACEMENT[m.group()]


# C0/C1 control characters except tab/newline, which layout folding handles.
# Also the bidi embeddings, overrides and isolates (U+202A-E, U+2066-9): they show text in
# another order than it is written ("Trojan Source"), which a redline must never do. The
# marks U+200E/U+200F, which reorder nothing, stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# Lone UTF-16 surrogates ("\ud800"): JSON's \u escapes can carry them (a gov.uk content item
# did), and they are not characters: no version holding one can be written as UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")


def no_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, as an undecodable byte is."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


# Layout whitespace, folded to one space by clean(). Not \s, which matches NBSP too: NBSP stays,
# so that a later diff can call its removal cosmetic.
_BREAKS = ("\t", "\r", "\n", "\f", "\v", "\u2028", "\u2029")


def clean(text: str) -> str:
    """Fold layout whitespace and drop control characters; keep everything a reader sees."""
    text = no_surrogates(_CONTROL.sub("", text))
    # str.replace rather than a regex: a regex substitution stops at every one of a statement's
    # spaces, and was most of the time of reading a long document.
    for c in _BREAKS:
        if c in text:
            text = text.replace(c, " ")
    while "  " in text:
        text = text.replace("  ", " ")
    return text.strip()


def canonical(text: str) -> str:
    """The comparison form of ``text``: equal canonical forms mean no real edit."""
    if not text.isascii():  # ASCII has nothing to normalise or translate (the common case)
        text = unicodedata.normalize(
            "NFKC", no_surrogates(text)
        )  # NBSP -> space, ligatures, full-width forms
        # The same as text.translate(_INVISIBLE).translate(_QUOTES), and much faster on long
        # text that holds a few such characters.
        text = _SPECIAL.sub(_special, text)
    text = _CONTROL.sub("", text)
    # str.split() splits at exactly the characters \s matches, and is a C loop.
    return " ".join(text.split())


_MOJIBAKE_PAIR = re.compile("[\u00c2-\u00df][\u0080-\u00bf]")
_MOJIBAKE_DASH = re.compile(
    r"(?<=\d)\u00e2[\u0080-\u00bf]?(?=\w)|(?<=\w)\u00e2[\u0080-\u00bf]?(?=\d)"
)
_MOJIBAKE_APOSTROPHE = re.compile(r"(?<=[^\W\d])\u00e2[\u0080-\u00bf]?(?=[^\W\d])")
_MOJIBAKE_PUNCT = re.compile("\u00e2[\u0080-\u00bf]?")


def fold_mojibake(text: str) -> str:
    """Undo UTF-8-read-as-Latin-1 damage well enough to *compare* text (never to show it).

    Intact two-byte sequences are decoded ("EspaÃ±ol" -> "Español"). Three-byte punctuation
    whose middle bytes were lost as control characters leaves a bare "â": between letters it
    was an apostrophe ("donât"), next to a digit a dash ("1â877"), elsewhere a quote or dash,
    which comparison drops. A stray "Â" (from a non-breaking space) is dropped.
    """
    if not ("\u00c2" in text or "\u00c3" in text or "\u00e2" in text):
        return text

    def pair(m: re.Match[str]) -> str:
        try:
            return m.group().encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            return m.group()

    text = _MOJIBAKE_PAIR.sub(pair, text).replace("\u00c2", "")
    text = _MOJIBAKE_DASH.sub("-", text)
    text = _MOJIBAKE_APOSTROPHE.sub("'", text)
    return _MOJIBAKE_PUNCT.sub("", text)


def comparable(text: str) -> str:
    """What the diff compares: :func:`canonical` of the text with mojibake folded, case-folded."""
    return canonical(fold_mojibake(text)).casefold()


def content_hash(title: str, paragraphs: Iterable[str]) -> str:
    """sha256 of the canonical title and body: the identity of a version."""
    h = hashlib.sha256()
    h.update(canonical(title).encode("utf-8"))
    for p in paragraphs:
        c = canonical(p)
        if c:
            h.update(b"\n\n")
            h.update(c.encode("utf-8"))
    return h.hexdigest()


_SLUG_DROP = re.compile(r"[^a-z0-9]+")


def slugify(text: str, max_len: int = 80) -> str:
    """A safe, stable file-name fragment: ``[a-z0-9-]``, never empty, never ``..``."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _SLUG_DROP.sub("-", text.lower()).strip("-")
    if len(slug) > max_len:
        slug = slug[:max_len].rstrip("-")
    return slug or "statement"


def clip(text: str, limit: int, *, words: bool = False) -> str:
    """``text`` shortened for display: at most ``limit`` characters, the "…" that marks a cut
    included, or with ``words`` at most ``limit`` words (then runs of whitespace become one space).

    The one way dipdiff shortens what it shows (quotes in reports, moved text, error messages
    that quote a page), so that a cut always shows and never leaves a dangling space.
    """
    if words:
        parts = text.split()
        if len(parts) <= limit:
            return " ".join(parts)
        kept = " ".join(parts[:limit])
    else:
        if len(text) <= limit:
            return text
        kept = text[: max(limit - 1, 0)]
    return kept.rstrip() + "…"
