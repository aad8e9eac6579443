"""Words in scripts and languages the English rules did not expect, made into tokens the same rules
can read.

* **Chinese** is written without spaces: each Han character is a token of its own, and a phrase or
  a name ("坚决反对", "哈夫塔尔") is matched as a run of characters. No word segmenter is needed to
  match what the lexicon and the gazetteer list, and none guesses wrong on names it never saw.
* **Arabic** letters have variants that writers mix freely (أ إ آ ا, ى ي, ة ه) and optional
  vowel marks and elongation (tatweel): a word's key drops the marks and folds the variants. The
  conjunctions and prepositions و ف ب ل ك are written joined to the next word ("وحفتر", "للحوثيين"):
  rather than cut every word that starts with those letters (most are the word's own: "وزارة",
  "بيان"), each listed phrase and name is also matched with them in front (:func:`proclitic_forms`).
* **French elision** ("l’offensive", "d’Haftar", "qu’il") joins an article or a preposition to the
  next word with an apostrophe: it is cut off as a token of its own, so that the name or the signal
  after it matches. English words with an inner apostrophe ("don't", "O'Brien") are left whole.

Pure: strings in, strings out.
"""

from __future__ import annotations

import re

from dipdiff.text import canonical

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A word: a run of word characters other than Han characters, which are a token each.
WORD_CHARS = rf"[^\W{HAN}]"
HAN_CHAR = rf"[{HAN}]"

_ARABIC = re.compile(r"[\u0600-\u06ff]")
_ARABIC_MARKS = re.compile(r"[\u064b-\u065f\u0670\u0640]")  # vowel marks, dagger alef, tatweel
_ARABIC_FOLD = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"}
)
# Written joined to the word after them: and, so, with/by, for/to, like; and their pairs.
_PROCLITICS = ("و", "ف", "ب", "ل", "ك", "وب", "ول", "فب", "فل", "وك")
_ARTICLE = "ال"

# "l’", "d’", "qu’": French (and Italian) elided words before a vowel.
_ELIDED = frozenset({"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu"})
_APOSTROPHES = "'’"


def word_key(word: str) -> str:
    """The form of a word that matching compares: canonical, case-folded, Arabic variants folded."""
    if word.isascii():
        return word.lower()  # canonical() leaves ASCII as it is: skipped, for speed
    key = canonical(word).casefold()
    if _ARABIC.search(key):
        key = _ARABIC_MARKS.sub("", key).translate(_ARABIC_FOLD)
    return key


def elision_cut(word: str) -> int:
    """Where an elided article or preposition ends in ``word`` ("l’offensive" -> 2), else 0."""
    for k, ch in enumerate(word[:7]):
        if ch in _APOSTROPHES:
            head = word[:k].casefold()
            return k + 1 if head in _ELIDED and k + 1 < len(word) else 0
    return 0


def proclitic_forms(first: str) -> list[str]:
    """An Arabic word's forms with a joined conjunction or preposition: حفتر -> وحفتر, لحفتر, ...

    With the article, "ل" + "ال" is written "لل" (للحوثيين). Words in other scripts: none.
    """
    if not _ARABIC.search(first):
        return []
    out = [p + first for p in _PROCLITICS]
    if first.startswith(_ARTICLE):
        out += ["لل" + first[2:], "ولل" + first[2:], "فلل" + first[2:]]
    return out
