"""Who and where a statement names: gazetteer, titles, capitalisation rules, sentences, speakers."""

from __future__ import annotations

import pytest

from dipdiff.analyse.entities import (
    Gazetteer,
    default_gazetteer,
    find_mentions,
    split_sentences,
    surnames,
    tokenize,
)
from dipdiff.errors import ConfigError


def mentions(text: str, known=None):
    return [
        (m.key, m.kind, m.text)
        for m in find_mentions(tokenize(text), known_surnames=known, sentence=text)
    ]


def test_titles_initials_and_known_figures_are_people():
    assert mentions("President Donald J. Trump spoke with Field Marshal Khalifa Haftar.") == [
        ("p:trump", "person", "President Donald J. Trump"),
        ("khalifa-haftar", "person", "Field Marshal Khalifa Haftar"),
    ]
    assert mentions("Antony J. Blinken met UN Special Representative Ghassan Salamé.") == [
        ("p:blinken", "person", "Antony J. Blinken"),
        ("ghassan-salame", "person", "UN Special Representative Ghassan Salamé"),
    ]
    # A title alone, or a title followed by a title, names no one.
    assert mentions("The President thanked Mr Speaker.") == []


def test_possessive_forces_and_ties_stay_with_their_commander():
    (m,) = find_mentions(tokenize("the offensive by Khalifa Haftar’s forces"))
    assert (m.key, m.possessive) == ("khalifa-haftar", False)
    (m,) = find_mentions(tokenize("attacks by forces loyal to Haftar"))
    assert m.key == "khalifa-haftar"


def test_acronyms_match_only_as_written():
    assert mentions("Let us thank the LNA.") == [("libyan-national-army", "force", "LNA")]
    assert mentions("Tell us what the US and the WHO said.") == [
        ("united-states", "country", "US"),
        ("world-health-organization", "organisation", "WHO"),
    ]
    assert mentions("china and turkey were served.") == []


def test_countries_places_and_the_country_acting():
    SENTENCE = (  # noqa: N806 - read as a constant
        "The Russian forces shelled Kharkiv; the Libya conflict and One China policy; "
        "Russian missile attack."
    )
    got = {
        m.text: (m.kind, m.actor_form, m.modifier)
        for m in find_mentions(tokenize(SENTENCE), sentence=SENTENCE)
    }
    assert got["Russian forces"] == ("country", True, False)
    assert got["Kharkiv"][0] == "place"
    assert got["Libya"] == ("country", False, True)  # a topic, not an actor
    assert got["China"] == ("country", False, True)
    assert got["Russian missile"] == ("country", True, False)


def test_compounds_generic_addressees_documents_and_organisations():
    got = mentions(
        "We support the UN-facilitated process and urge all Libyan parties to read the "
        "Country Reports on Human Rights Practices from the Ministry of Foreign Affairs."
    )
    assert got == [
        ("united-nations", "organisation", "UN-facilitated"),
        ("generic", "generic", "all Libyan parties"),
        ("o:ministry-of-foreign-affairs", "organisation", "Ministry of Foreign Affairs"),
    ]
    (m,) = find_mentions(tokenize("UN-facilitated"))
    assert m.modifier


def test_back_references_surnames_and_the_regime():
    first = find_mentions(
        tokenize("Secretary Michael R. Pompeo condemned the Burma military regime.")
    )
    known = surnames(first)
    assert mentions("Pompeo said the regime must stop.", known) == [
        ("p:pompeo", "person", "Pompeo"),
        ("burmese-military", "force", "the regime"),
    ]


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("The U.S. Department of State welcomes this. We urge restraint.", 2),
        ("President Donald J. Trump spoke today. He called for calm.", 2),
        ("Mr. Smith arrived at 5 p.m. on Monday. Talks began.", 2),
        ("Is this over? No. It is not!", 3),
        ("“We condemn this,” he said. Then he left.", 2),
    ],
)
def test_sentences(text, count):
    assert len(split_sentences([text])) == count


@pytest.mark.parametrize(
    ("url", "agency", "speaker"),
    [
        ("https://www.state.gov/x/", "", "united-states"),
        ("https://www.gov.uk/government/news/x", "", "united-kingdom"),
        ("http://127.0.0.1:8000/x", "U.S. Department of State", "united-states"),
        ("http://127.0.0.1:8000/x", "Ministry of Truth", None),
        ("file:///tmp/x.html", "", None),
    ],
)
def test_the_speaker_comes_from_host_or_agency(url, agency, speaker):
    assert default_gazetteer().speaker(url, agency) == speaker


def test_a_bad_gazetteer_is_a_one_line_error():
    with pytest.raises(ConfigError, match=r"force\[0\].*name"):
        Gazetteer({"force": [{"aliases": ["X"]}]})
    with pytest.raises(ConfigError, match="unknown country 'Atlantis'"):
        Gazetteer({"force": [{"name": "Blue Army", "country": "Atlantis"}]})
