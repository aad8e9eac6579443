"""A stored reading (analysis and content words, :mod:`dipdiff.analyse.serial`) is the reading:
what a store keeps must give back exactly what reading the text gives, or ``divergences``
would answer differently warm than cold."""

from __future__ import annotations

from dataclasses import fields, replace
from importlib import resources
from pathlib import Path

import pytest

from dipdiff.analyse.compare import verdicts
from dipdiff.analyse.entities import Sentence
from dipdiff.analyse.reading import Brief, Reading, brief, read
from dipdiff.analyse.related import Record, _profile, _Shared
from dipdiff.analyse.serial import _imported, dumps, loads, loads_brief, reading_key
from dipdiff.analyse.signals import Signal
from dipdiff.analyse.stance import ActorInText, Attached, TextAnalysis
from dipdiff.scrape.charset import decode_html
from dipdiff.scrape.extract import extract
from helpers import corpus_statements

DEMO = (
    ("state-libya.day1.html", "https://www.state.gov/the-situation-in-libya/"),
    ("whitehouse-haftar.day2.html", "https://www.whitehouse.gov/briefings-statements/libya/"),
    ("state-readout.day2.html", "https://www.state.gov/secretary-pompeos-call/"),
)


def demo_statements():
    for name, url in DEMO:
        page = resources.files("dipdiff").joinpath("data", "demo", name).read_bytes()
        yield extract(decode_html(page), url)


def test_the_codec_knows_every_field_of_what_it_stores():
    """A field added to the analysis must be stored too: this names the ones the codec writes."""
    assert [f.name for f in fields(TextAnalysis)] == [
        "sentences",
        "actors",
        "places",
        "speaker",
        "place_sentences",
        "place_names",
        "language",
        "analysed",
    ]
    assert [f.name for f in fields(ActorInText)] == [
        "key",
        "name",
        "kind",
        "keys",
        "aliases",
        "sentences",
        "signals",
        "acting",
        "speaker",
    ]
    assert [f.name for f in fields(Attached)] == ["signal", "text", "negated", "sentence"]
    assert [f.name for f in fields(Signal)] == [
        "phrase",
        "category",
        "polarity",
        "demand",
        "native",
    ]
    assert [f.name for f in fields(Sentence)] == ["text", "paragraph", "index", "label", "heading"]
    assert [f.name for f in fields(Reading)] == ["analysis", "terms", "numbers"]
    assert [f.name for f in fields(Brief)] == ["analysis", "terms", "numbers"]


def test_a_demo_statement_read_back_is_the_reading():
    for st in demo_statements():
        reading = read(st)
        assert reading.analysis.actors and reading.terms, st.url  # something to get wrong
        assert loads(dumps(reading)) == reading, st.url


def test_a_brief_read_back_is_the_brief_and_ranks_and_judges_as_the_reading():
    """``divergences`` ranks candidates and gives the quick verdict from briefs: what they
    read of a text (names, weights, verdicts) must be what the full reading gives."""
    shared = _Shared()
    for st in demo_statements():
        reading = read(st)
        short = brief(reading)
        assert not short.analysis.sentences and short.analysis.actors, st.url
        assert len(dumps(short)) < len(dumps(reading)), st.url
        assert loads_brief(dumps(short)) == short, st.url
        record = Record("x/y", st, None)
        assert _profile(record, short, shared) == _profile(record, reading, shared), st.url
        assert verdicts(short.analysis) == verdicts(reading.analysis), st.url
    with pytest.raises(ValueError, match="brief"):
        loads_brief(dumps(reading))


@pytest.mark.corpus
@pytest.mark.slow
def test_every_corpus_statement_read_back_is_the_reading():
    for _, st in corpus_statements():
        reading = read(st)
        assert loads(dumps(reading)) == reading, st.url


def test_the_key_changes_with_anything_the_reading_depends_on():
    st = next(demo_statements())
    key = reading_key(st)
    assert reading_key(replace(st)) == key
    # The store's version hash is of the canonical text; evidence quotes the text as written.
    edited = (st.paragraphs[0].replace(" ", "\u00a0", 1), *st.paragraphs[1:])
    for other in (
        replace(st, paragraphs=edited),
        replace(st, title=st.title + "."),
        replace(st, url=st.url + "x"),
        replace(st, agency="Another agency"),
    ):
        assert reading_key(other) != key
    # What a store adds to a statement it read (its source) is not part of the text.
    assert reading_key(replace(st, source="state-dept")) == key


@pytest.mark.parametrize("damage", ["{", "[]", '{"sentences": 1}', '{"sentences": [[1]]}'])
def test_a_damaged_document_is_refused(damage):
    with pytest.raises((ValueError, KeyError, TypeError, IndexError)):
        loads(damage)


def test_the_analyser_is_every_module_a_reading_imports_in_either_form():
    """``from dipdiff import langmodel`` (the language model, imported lazily by language.py)
    is as much a part of the reading as ``from dipdiff.analyse import stance``."""
    package = Path(str(resources.files("dipdiff")))
    found = _imported(package, "analyse/reading.py")
    assert {Path("analyse/language.py"), Path("langmodel.py"), Path("models.py")} <= found
