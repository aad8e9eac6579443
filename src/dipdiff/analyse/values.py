"""Dates and numbers as values: a reformatted one is no edit, a changed one is.

"July 23, 2022", "23 July 2022", "2022-07-23" and "the 23rd of July 2022" are one date;
"January" and "Jan." one month; "eighty-five" and "85" one number, and so are "12,300" and
"12300" — but "1.5" is not "15". The diff engine reads every date as one token whose key is
its value (:func:`date_key`), and numbers by their value (:func:`number_key`), so the
alignment itself sees a reformatted date as unchanged text; :func:`quantities` is what the
``number`` flag compares.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

_MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
_ABBREVIATIONS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}


def _either_case(words: list[str]) -> str:
    """Capitalised or all-capitals forms only: "march" and "may" are verbs, "March" a month."""
    forms = [w.capitalize() for w in words] + [w.upper() for w in words]
    return "|".join(sorted(forms, key=len, reverse=True))


_SP = r"[^\S\n]+"  # spaces inside a date, never a line break (paragraphs join with "\n")
_MONTH = rf"(?:{_either_case(list(_MONTHS))})(?!\w)"
# An abbreviation is a month with its dot, or without one only before a day ("Jan 5").
_ABBR = rf"(?:{_either_case(list(_ABBREVIATIONS))})(?:\.|(?={_SP}\d))"
_M = rf"(?:{_MONTH}|{_ABBR})"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?(?!\w)"
_YEAR = r"\d{4}(?!\w)"
# A month alone is a date only when it cannot be a word: not "May", and "March" only with a dot.
_BARE = (
    rf"(?:{_either_case([m for m in _MONTHS if m not in ('may', 'march')])})(?!\w)"
    rf"|(?:{_either_case(list(_ABBREVIATIONS))})\."
)

# One date as written, most specific form first. Embedded in the diff engine's token pattern.
DATE = (
    rf"\d{{4}}-[01]\d-[0-3]\d(?!\w)"  # 2022-07-23
    rf"|{_M}{_SP}{_DAY}(?:,?{_SP}{_YEAR})?"  # July 23, 2022  July 23  Jan. 5
    rf"|{_M},?{_SP}{_YEAR}"  # July 2022
    rf"|{_DAY}{_SP}(?:of{_SP})?{_M}(?:,?{_SP}{_YEAR})?"  # 23 July 2022  23rd of July
    rf"|{_BARE}"  # January  Jan.
)
# Searching, a date starts a word with a capital or a digit: the look-ahead skips the rest fast.
_DATE = re.compile(rf"(?<!\w)(?=[JFMASOND\d])(?:{DATE})")
_PARTS = re.compile(r"[^\W\d_]+|\d+")

_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
NUMBER_WORDS = {w: n for n, w in enumerate(_UNITS)} | {w: 20 + 10 * n for n, w in enumerate(_TENS)}
# Words that are quantities without a value of their own: they count for the ``number`` flag.
_QUANTITY_WORDS = frozenset(
    """
hundred hundreds thousand thousands million millions billion billions trillion dozen dozens
first third fourth fifth half quarter percent monday tuesday wednesday thursday friday saturday
sunday
""".split()
)
_DIGITS = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


def date_key(text: str) -> str | None:
    """The value of a date as :data:`DATE` matches it: ``2022-07-23``, ``--07-23`` (no year),
    ``2022-07``, ``--07`` (a month); ``None`` for no real date ("February 30")."""
    year = month = day = None
    for part in _PARTS.findall(text):
        low = part.lower()
        if part.isdigit():
            if len(part) == 4 and year is None:
                year = int(part)
            elif month is None and year is not None:  # ISO: year, month, day
                month = int(part)
            elif day is None:
                day = int(part)
        elif low in _MONTHS or low in _ABBREVIATIONS:
            month = _MONTHS.get(low) or _ABBREVIATIONS[low]
    if month is None or not 1 <= month <= 12:
        return None
    if day is not None and not 1 <= day <= calendar.monthrange(year or 2000, month)[1]:
        return None
    head = f"{year:04d}" if year is not None else "-"
    return f"{head}-{month:02d}" + (f"-{day:02d}" if day is not None else "")


def number_key(token: str) -> str | None:
    """The value of a number written as one token: "85", "eighty-five", "12,300", "1.5"."""
    if token[:1].isdigit():
        if not _DIGITS.fullmatch(token):
            return None
        try:
            value = Decimal(token.replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            return None
        return format(value.normalize(), "f")
    low = token.lower()
    if low in NUMBER_WORDS:
        return str(NUMBER_WORDS[low])
    tens, _, unit = low.partition("-")
    if tens in _TENS and unit in _UNITS[1:10]:
        return str(NUMBER_WORDS[tens] + NUMBER_WORDS[unit])
    return None


def figures(text: str) -> list[str]:
    """The values of the numbers written in digits in ``text``, in order ("1.5" is not "15")."""
    return [number_key(m.group()) or m.group() for m in _DIGITS.finditer(text)]


def quantities(text: str, words: Iterable[str]) -> Counter[str]:
    """Every date, number and quantity word in ``text`` by value: what the ``number`` flag
    compares. ``words`` are the case-folded words of ``text``, as the caller has them."""
    out: Counter[str] = Counter()

    def date(m: re.Match[str]) -> str:
        out["date " + (date_key(m.group()) or m.group().lower())] += 1
        return " "

    for m in _DIGITS.finditer(_DATE.sub(date, text)):
        out[number_key(m.group()) or m.group()] += 1
    for w in words:
        if w in NUMBER_WORDS or w in _QUANTITY_WORDS:
            out[str(NUMBER_WORDS.get(w, w))] += 1
        elif "-" in w and not w[:1].isdigit():
            value = number_key(w)
            if value is not None:
                out[value] += 1
            else:
                out.update(x for x in w.split("-") if x in NUMBER_WORDS or x in _QUANTITY_WORDS)
    return out
