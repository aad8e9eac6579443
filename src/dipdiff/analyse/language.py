"""Which language a statement is written in, detected offline.

py3langid's model ships inside its wheel (no download at run time; ``dipdiff.langmodel`` keeps it
unpacked in the user's cache). A stance is judged only in a
language the lexicon has: a French or Bulgarian text is *not analysed*, never read as neutral.
Pure: text in, an ISO 639-1 code out. A statement's language is stored in its version header.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from dipdiff.analyse.scripts import HAN_CHAR
from dipdiff.models import Statement

ENGLISH = "en"
NOT_ANALYSED = "not-analysed"  # an actor's stance in a language the lexicon has no phrases for
# Below this share of the probability, or on fewer letters, a guess is not trusted and the text is
# read in the lexicon's language, as before detection: "The ministers met in Moscow." comes out
# Dutch at 18%, and a heading ("Section 1.") is no evidence of anything.
_MIN_CONFIDENCE = 0.9
_MIN_LETTERS = 40
_HAN = re.compile(HAN_CHAR)
_SAMPLE = 5000  # characters: enough to tell, bounded on a 100-page report

NAMES = {
    "af": "Afrikaans",
    "am": "Amharic",
    "ar": "Arabic",
    "az": "Azerbaijani",
    "be": "Belarusian",
    "bg": "Bulgarian",
    "bn": "Bengali",
    "bs": "Bosnian",
    "ca": "Catalan",
    "cs": "Czech",
    "cy": "Welsh",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "et": "Estonian",
    "eu": "Basque",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "ga": "Irish",
    "gl": "Galician",
    "he": "Hebrew",
    "hi": "Hindi",
    "hr": "Croatian",
    "hu": "Hungarian",
    "hy": "Armenian",
    "id": "Indonesian",
    "is": "Icelandic",
    "it": "Italian",
    "ja": "Japanese",
    "ka": "Georgian",
    "kk": "Kazakh",
    "km": "Khmer",
    "ko": "Korean",
    "ku": "Kurdish",
    "ky": "Kyrgyz",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "mk": "Macedonian",
    "mn": "Mongolian",
    "ms": "Malay",
    "mt": "Maltese",
    "nb": "Norwegian Bokmål",
    "ne": "Nepali",
    "nl": "Dutch",
    "no": "Norwegian",
    "pl": "Polish",
    "ps": "Pashto",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sl": "Slovenian",
    "so": "Somali",
    "sq": "Albanian",
    "sr": "Serbian",
    "sv": "Swedish",
    "sw": "Swahili",
    "ta": "Tamil",
    "th": "Thai",
    "tl": "Tagalog",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "uz": "Uzbek",
    "vi": "Vietnamese",
    "zh": "Chinese",
}


def language_name(code: str) -> str:
    """``"fr"`` -> ``"French"``; a code without a name here is shown as it is."""
    return NAMES.get(code, code)


def stored_language(statement: Statement) -> str:
    """The language its version header stored, as detected when it was stored (a command
    that reads stored versions detects none, nor loads the model); detected now for a
    statement without one (a file written before headers kept it, a page not stored)."""
    return statement.language if statement.language is not None else language_of(statement)


def language_of(statement: Statement) -> str:
    """The language of a statement, from its title and text: what is stored in its version
    header, shown for each side of ``diff`` and ``compare``, and what its stances are read in."""
    return detect_language("\n".join((statement.title, *statement.paragraphs)))


def detect_language(text: str) -> str:
    """The ISO 639-1 code of the language ``text`` is written in; English when unsure."""
    return _language_of_sample(text[:_SAMPLE])


# A recording run asks twice for each new version's language (its header, then its event), and
# a report asks again for every event it lists: the answer of the same text is remembered.
@lru_cache(maxsize=256)
def _language_of_sample(sample: str) -> str:
    # A Han character says as much as a short word: it counts as three letters.
    letters = sum(map(str.isalpha, sample)) + 2 * len(_HAN.findall(sample))
    if letters < _MIN_LETTERS:
        return ENGLISH
    ranked = _rank(sample)
    best, top = ranked[0]
    share = 1.0 / sum(math.exp(score - top) for _, score in ranked)
    return best if share >= _MIN_CONFIDENCE else ENGLISH


def _rank(text: str) -> list[tuple[str, float]]:
    """Every language py3langid knows, most likely first, with its log-probability."""
    from dipdiff import langmodel  # lazy: numpy and a 68 MB model, for commands that detect

    return [(str(lang), float(score)) for lang, score in langmodel.identifier().rank(text)]
