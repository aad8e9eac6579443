"""Stances in French, Spanish, Russian, Arabic and Chinese: the lexicons of data/lexicons/, read by
the English rules (negation, targets, demands, the speaker never judged), and the tokens that
Chinese, Arabic and French elision need."""

from __future__ import annotations

import pytest

from dipdiff.analyse.entities import default_gazetteer, tokenize
from dipdiff.analyse.lexicons import grammar_of
from dipdiff.analyse.signals import default_lexicon, lexicon
from dipdiff.analyse.stance import analyze
from dipdiff.errors import ConfigError
from dipdiff.models import Statement


def stances(text: str, url: str = "") -> dict[str, tuple[str, list[str], list[str]]]:
    t = analyze(Statement("", (text,), url=url))
    return {a.name: (a.stance, a.signal_labels, a.demands) for a in t.actors if not a.speaker}


def language(text: str) -> tuple[str, bool]:
    t = analyze(Statement("", (text,)))
    return t.language, t.analysed


# Each language: support, the same support negated, condemnation; by the English rules a
# negated support is critical.
CASES = [
    (
        "fr",
        "La France soutient le Gouvernement d’entente nationale et ses efforts pour la paix.",
        "La France ne soutient pas le Gouvernement d’entente nationale dans cette affaire.",
        "La France condamne fermement l’offensive des forces de Khalifa Haftar contre Tripoli.",
    ),
    (
        "es",
        "España apoya al Gobierno de Acuerdo Nacional en sus esfuerzos por la paz en el país.",
        "España no apoya al Gobierno de Acuerdo Nacional en esta decisión sobre el país.",
        "España condena enérgicamente la ofensiva de las fuerzas de Haftar contra Trípoli.",
    ),
    (
        "ru",
        "Россия поддерживает Правительство национального согласия в его усилиях по урегулированию.",
        "Россия не поддерживает Правительство национального согласия в этом вопросе.",
        "Россия решительно осуждает наступление сил Хафтара на Триполи и призывает к диалогу.",
    ),
    (
        "ar",
        "تدعم المملكة المتحدة حكومة الوفاق الوطني في جهودها من أجل السلام والاستقرار في البلاد.",
        "لا ندعم حكومة الوفاق الوطني في هذا القرار الذي اتخذته بشأن مستقبل البلاد والمنطقة.",
        "تدين المملكة المتحدة بشدة هجوم قوات حفتر على طرابلس وتدعو إلى وقف القتال فورا.",
    ),
    (
        "zh",
        "中方支持民族团结政府为实现和平稳定所作的努力，愿同国际社会一道推动政治解决进程。",
        "中方不支持民族团结政府的这一决定，希望有关方面通过对话协商妥善处理分歧问题。",
        "中方谴责哈夫塔尔的军事行动，呼吁有关各方立即停火，回到政治解决的正确轨道上来。",
    ),
]


@pytest.mark.parametrize(
    ("code", "support", "negated", "condemn"), CASES, ids=[c[0] for c in CASES]
)
def test_each_language_reads_support_negation_and_condemnation(code, support, negated, condemn):
    assert language(support) == (code, True)
    gov = "Government of National Accord"
    assert stances(support)[gov][0] == "supportive", stances(support)
    assert stances(negated)[gov][0] == "critical", stances(negated)
    assert stances(condemn)["Khalifa Haftar"][0] == "critical", stances(condemn)


def test_signals_are_shown_as_written_and_demands_as_the_english_action():
    got = stances(
        "Мы призываем Хафтара прекратить наступление на Триполи и вернуться к переговорам.",
        "https://mid.ru/ru/foreign_policy/news/1/",
    )
    stance, labels, demands = got["Khalifa Haftar"]
    assert stance == "critical"
    assert "призывает" in labels and "прекратить" in labels
    assert demands == ["halt"]


def test_the_speaker_is_never_judged_in_its_own_language():
    # The Russian MFA speaks of Russia: it is the speaker, not an actor with a stance.
    t = analyze(
        Statement(
            "",
            ("Россия приветствует решение Ливийской национальной армии о прекращении огня.",),
            url="https://mid.ru/ru/foreign_policy/news/2/",
        )
    )
    russia = t.actor("russia")
    assert russia is not None and russia.speaker
    lna = t.actor("libyan-national-army")
    assert lna is not None and lna.stance == "supportive"


def test_arabic_subject_after_the_verb_is_not_its_target():
    # "The United Kingdom condemns ...": the UK (the speaker, after the verb) is its subject; a
    # third country after the verb reports that country's stance ("Russia condemned").
    uk = "https://www.gov.uk/government/news/x.ar"
    got = stances("تدين المملكة المتحدة هجمات الحوثيين على السفن التجارية في البحر الأحمر.", uk)
    assert got["Houthis"][0] == "critical", got
    got = stances("أدانت روسيا الهجوم على أوكرانيا في تصريحات للصحفيين أمس في موسكو.", uk)
    assert "Ukraine" not in got or got["Ukraine"][0] == "neutral", got
    # "We call on the Houthis to stop": the verb says who speaks; the Houthis are its object.
    got = stances("ندعو الحوثيين إلى وقف هذه الهجمات فورا والامتناع عن أي تصعيد.", uk)
    assert got["Houthis"][0] == "critical" and got["Houthis"][2] == ["halt", "refrain"], got


def test_arabic_proclitics_and_letter_variants_match():
    # "وحفتر" (and Haftar), "للحوثيين" (for the Houthis); "إدانة" written without its hamza.
    got = stances("نرفض دعم روسيا وحفتر، وندين الهجمات المتكررة للحوثيين على الملاحة الدولية.")
    assert "Khalifa Haftar" in got and "Houthis" in got, got
    assert got["Houthis"][0] == "critical", got
    plain = default_lexicon().for_language("ar")
    assert plain is not None
    assert [m.signal.phrase for m in plain.find("ادانة")] == ["condemn"]


def test_chinese_is_read_character_by_character():
    toks = [t.text for t in tokenize("中方坚决反对哈夫塔尔。")]
    assert toks == ["中", "方", "坚", "决", "反", "对", "哈", "夫", "塔", "尔", "。"]
    # the longest phrase wins: 坚决反对 (firmly oppose), not 反对 alone; 对 is not read as "on"
    zh = default_lexicon().for_language("zh")
    assert zh is not None
    assert [m.text for m in zh.find("中方坚决反对哈夫塔尔。")] == ["坚决反对"]
    got = stances("中方坚决反对哈夫塔尔对的黎波里发动的军事进攻。")
    assert got["Khalifa Haftar"][0] == "critical", got


def test_french_elision_is_cut_and_english_apostrophes_are_not():
    assert [t.text for t in tokenize("l’offensive d’Haftar")] == ["l’", "offensive", "d’", "Haftar"]
    assert [t.text for t in tokenize("O'Brien don't")] == ["O'Brien", "don't"]


def test_names_are_one_actor_across_languages():
    gz = default_gazetteer()
    for text in ("Хафтара", "حفتر", "哈夫塔尔", "Haftar"):
        toks = tokenize(text)
        found = gz.match(toks, 0)
        assert found is not None and found[1].entry.key == "khalifa-haftar", text


def test_a_language_without_a_lexicon_is_not_analysed():
    assert language(
        "Съединените щати са дълбоко загрижени от боевете край Триполи и призовават за мир."
    ) == ("bg", False)


def test_bad_lexicon_entries_are_one_line_errors():
    with pytest.raises(ConfigError) as e:
        lexicon([{"means": "frobnicate", "forms": ["x"]}])
    assert "no English signal" in str(e.value) and "\n" not in str(e.value)


def test_grammar_words_must_be_single_words():
    with pytest.raises(ConfigError, match="not one word"):
        grammar_of({"grammar": {"of": ["à la"]}}, "data/lexicons/xx.toml")


def test_a_translation_is_its_statements_closest_relative():
    # The State statement, its French translation on the same site, and the White House's own
    # statement on Haftar two days later: the translation shares every name and figure.
    from datetime import UTC, datetime, timedelta

    from dipdiff.analyse.related import Record, related

    def rec(sid: str, day: int, *paragraphs: str) -> Record:
        return Record(sid, Statement("", paragraphs), datetime(2019, 4, day, tzinfo=UTC))

    en = rec(
        "state-dept/the-situation-in-libya",
        7,
        "The United States is deeply concerned about the fighting near Tripoli.",
        "We oppose the military offensive by Khalifa Haftar's forces and urge the immediate halt "
        "to these military operations. More than 2,800 people have fled since April 4.",
    )
    fr = rec(
        "state-dept/la-situation-en-libye",
        7,
        "Les États-Unis sont profondément préoccupés par les combats près de Tripoli.",
        "Nous nous opposons à l’offensive militaire des forces de Khalifa Haftar et demandons "
        "l’arrêt immédiat de ces opérations. Plus de 2 800 personnes ont fui depuis le 4 avril.",
    )
    wh = rec(
        "white-house/statement-libya",
        9,
        "President Donald J. Trump spoke with Field Marshal Khalifa Haftar on Monday to discuss "
        "counterterrorism efforts and the need to achieve peace and stability in Libya.",
    )
    other = rec(
        "state-dept/sudan",
        7,
        "The United States condemns the attacks by the Rapid Support Forces in Darfur.",
    )
    found = related(en.id, [en, fr, wh, other], window=timedelta(days=30))
    assert [r.record.id for r in found][:2] == [fr.id, wh.id], found
    # a statement of the same source in the same language is still no relative
    assert other.id not in [r.record.id for r in found]


@pytest.mark.parametrize(
    "text",
    [
        "中方不断支持民族团结政府为实现和平稳定所作的努力，愿同各方一道推动政治进程。",
        "España no solo apoya al Gobierno de Acuerdo Nacional sino que también lo respalda.",
        "La France soutient non seulement le Gouvernement d’entente nationale, mais aussi l’ONU.",
    ],
)
def test_a_negator_that_starts_another_word_negates_nothing(text):
    # 不断 (continuously), "no solo" / "non seulement" (not only): still support
    assert stances(text)["Government of National Accord"][0] == "supportive", stances(text)
