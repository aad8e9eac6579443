"""What cross-checking reads of one statement, the same whatever it is compared with: its
analysis (:func:`dipdiff.analyse.stance.analyze`), its content words and its figures.

Its own module so that what decides a stored reading is exactly what this module imports
(:func:`dipdiff.analyse.serial.analyser_version` hashes that code): ranking candidates
(:mod:`dipdiff.analyse.related`) or comparing a pair (:mod:`dipdiff.analyse.compare`)
changes no reading, and an edit to them must not make a store analyse every text again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from dipdiff.analyse import crosslingual
from dipdiff.analyse.stance import Attached, TextAnalysis, analyze
from dipdiff.models import Statement
from dipdiff.text import canonical

_MIN_TERM_LEN = 5
_TERM_WORDS = 400
_TERM = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


@dataclass(frozen=True)
class Reading:
    """What cross-checking reads of one text: its analysis and its content words (the longer
    words of the title and the opening, where a statement says what it is about)."""

    analysis: TextAnalysis
    terms: frozenset[str]
    # the figures of the title and opening: what a translation keeps when it shares no word
    numbers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Brief:
    """A :class:`Reading` without what only comparing a pair in full reads (the sentences,
    the words and sentence of each signal): what ranking candidates and the quick verdict
    read, a fraction of its size and of the time it takes to load."""

    analysis: TextAnalysis
    terms: frozenset[str]
    numbers: frozenset[str] = frozenset()


def brief(reading: Reading | Brief) -> Brief:
    """The brief of a reading."""
    a = reading.analysis
    actors = tuple(
        replace(x, signals=[Attached(s.signal, "", s.negated, 0) for s in x.signals])
        for x in a.actors
    )
    return Brief(replace(a, sentences=(), actors=actors), reading.terms, reading.numbers)


def read(statement: Statement) -> Reading:
    """The costly part of cross-checking a statement, the same whatever it is compared with."""
    return Reading(analyze(statement), _terms(statement), _numbers(statement))


def _terms(statement: Statement) -> frozenset[str]:
    """The longer words of the title and the opening (bounded, so that a store of long
    reports does not hold every word of every text)."""
    text = canonical(" ".join((statement.title, *statement.paragraphs[:6]))).casefold()
    words = _TERM.findall(text)[:_TERM_WORDS]
    return frozenset(w for w in words if len(w) >= _MIN_TERM_LEN)


def _numbers(statement: Statement) -> frozenset[str]:
    text = " ".join((statement.title, *statement.paragraphs[:6]))
    return frozenset(n for n in crosslingual.numbers(text) if len(n) >= 2)
