"""The diplomatic signal lexicon: data-driven, inflected, longest phrase first, user-extensible."""

from __future__ import annotations

import pytest

from dipdiff.analyse.signals import default_lexicon, inflections, lexicon
from dipdiff.errors import ConfigError


def _phrases(text, lex=None):
    return [m.signal.phrase for m in (lex or default_lexicon()).find(text)]


def test_longest_phrase_wins_and_inflections_match():
    assert _phrases("We are deeply concerned and call on all parties.") == [
        "deeply concerned",
        "call on",
        "all parties",
    ]
    assert _phrases("She condemned it; he urges restraint; they called upon both sides.") == [
        "condemn",
        "urge",
        "restraint",
        "call upon",
        "all parties",
    ]


def test_register_words_that_are_not_signals():
    # "Press Secretary", "For Immediate Release" are page furniture, not appeals or demands.
    assert _phrases("Statement from the Press Secretary. For Immediate Release.") == []
    assert _phrases("We will press Libyan leaders to release the detainees.") == [
        "press",
        "release",
    ]
    assert _phrases("Food security is among the most pressing issues.") == []
    assert _phrases("We are pressing the parties to talk.") == ["press"]


def test_polarity_demand_and_negation():
    (m,) = default_lexicon().find("The United States does not support the offensive.")
    assert (m.signal.polarity, m.negated) == ("supportive", True)
    halt = default_lexicon().find("We urge an immediate halt.")[1]
    assert halt.signal.demand and halt.signal.polarity == "critical"


def test_offsets_point_into_the_original_text():
    text = "The Minister “strongly condemns” the attack."
    (m,) = default_lexicon().find(text)
    assert text[m.start : m.end] == m.text == "condemns"


def test_user_entries_extend_the_lexicon():
    lex = lexicon(
        [{"phrase": "express outrage", "category": "condemnation", "polarity": "critical"}]
    )
    assert _phrases("Ministers expressed outrage.", lex) == ["express outrage"]
    assert _phrases("Ministers expressed outrage.") == []  # the default is untouched


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        ({"phrase": "x", "polarity": "angry"}, "polarity"),
        ({"phrase": ""}, "phrase"),
        ({"phrase": "x", "colour": "red"}, "unknown key 'colour'"),
        ({"phrase": "x", "forms": "x"}, "forms"),
    ],
)
def test_bad_user_entries_are_one_line_errors(entry, needle):
    with pytest.raises(ConfigError) as e:
        lexicon([entry])
    assert needle in str(e.value) and "signals.add[0]" in str(e.value)


def test_inflections():
    assert inflections("urge") == ["urge", "urged", "urges", "urging"]
    assert inflections("call on") == ["call on", "called on", "calling on", "calls on"]
    assert "denies" in inflections("deny")


def test_an_intensifier_belongs_to_the_signal_it_strengthens():
    text = (
        "We strongly condemn the attack. They condemn this raid in the strongest terms. "
        "We condemn it."
    )
    found = default_lexicon().find(text)
    assert [m.phrase for m in found] == [
        "strongly condemn",
        "condemn in the strongest terms",
        "condemn",
    ]
    strong = found[1]
    lo, hi = strong.extent
    assert text[lo:hi] == "condemn this raid in the strongest terms"
    # A phrase after the clause ended, or after another signal, is not this signal's.
    later = default_lexicon().find("We condemn the raid. Fully rebuilt, the base reopened.")
    assert [m.phrase for m in later] == ["condemn"]
