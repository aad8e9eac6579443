"""The diplomatic signal lexicon and its matcher.

The lexicon is data (``data/signals.toml``), extended by users in their
config. Matching is on canonical, case-folded words, longest phrase first, so
"deeply concerned" wins over "concerned" and "call on" over "call".
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from dipdiff.analyse.lexicons import Grammar, grammar_of, language_tables
from dipdiff.analyse.scripts import HAN_CHAR, WORD_CHARS, elision_cut, proclitic_forms, word_key
from dipdiff.errors import ConfigError

POLARITIES = ("supportive", "critical", "neutral")

_KEYS = {
    "phrase",
    "category",
    "polarity",
    "demand",
    "forms",
    "inflect",
    "except_followed_by",
    "except_preceded_by",
    "means",
}

# A Han character is a word of its own (:mod:`dipdiff.analyse.scripts`).
_WORD = re.compile(rf"{HAN_CHAR}|{WORD_CHARS}+(?:[-']{WORD_CHARS}+)*")

# Negators that turn "we support" into "we do not support" within a few words before a signal.
NEGATORS = frozenset(
    {
        "not",
        "no",
        "never",
        "neither",
        "nor",
        "without",
        "cannot",
        "can't",
        "won't",
        "don't",
        "doesn't",
        "didn't",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
    }
)

_NEGATION_WINDOW = 3
_INTENSIFIER_REACH = 8  # words after a signal in which "in the strongest terms" still qualifies it
_CLAUSE_END = re.compile(r"[.;!?]")


@dataclass(frozen=True)
class Signal:
    phrase: str  # the base form, lower case: what outputs call the signal
    category: str
    polarity: str  # supportive | critical | neutral
    demand: bool = False
    # A signal of another language: ``phrase`` is the English signal it means (so that the stance
    # rules, which know English phrases, read it as they read English), ``native`` its own words.
    native: str = ""


@dataclass(frozen=True)
class SignalMatch:
    signal: Signal
    start: int  # character offsets into the text given to :meth:`Lexicon.find`
    end: int
    text: str  # as written
    negated: bool = False  # "does not support", "no ceasefire"
    intensifier: str = ""  # "strongly" (condemns), (condemns ...) "in the strongest terms"
    intensifier_span: tuple[int, int] | None = None  # its offsets, like start and end

    @property
    def phrase(self) -> str:
        """The signal with its intensifier: "strongly condemn", "condemn in the strongest terms"."""
        if not self.intensifier or self.intensifier_span is None:
            return self.signal.phrase
        if self.intensifier_span[0] < self.start:
            return f"{self.intensifier} {self.signal.phrase}"
        return f"{self.signal.phrase} {self.intensifier}"

    @property
    def extent(self) -> tuple[int, int]:
        """Offsets of the signal with its intensifier."""
        if self.intensifier_span is None:
            return self.start, self.end
        return min(self.start, self.intensifier_span[0]), max(self.end, self.intensifier_span[1])


@dataclass(frozen=True)
class Intensifiers:
    """Words that strengthen the signal they stand by: "strongly condemns", "condemns the attack
    in the strongest terms" (``data/signals.toml``, ``[intensifiers]``)."""

    before: frozenset[str] = frozenset()  # single words right before the signal
    after: tuple[tuple[str, ...], ...] = ()  # phrases after it, in the same clause

    @property
    def after_by_first(self) -> dict[str, list[tuple[str, ...]]]:
        return _by_first_word(self.after)


@lru_cache(maxsize=8)
def _by_first_word(phrases: tuple[tuple[str, ...], ...]) -> dict[str, list[tuple[str, ...]]]:
    out: dict[str, list[tuple[str, ...]]] = {}
    for p in sorted(phrases, key=len, reverse=True):
        out.setdefault(p[0], []).append(p)
    return out


@dataclass(frozen=True)
class _Entry:
    signal: Signal
    words: tuple[str, ...]
    except_followed_by: frozenset[str]
    except_preceded_by: frozenset[str]


def inflections(phrase: str) -> list[str]:
    """Regular English inflections of a phrase's first word: urge -> urges, urged, urging."""
    first, _, rest = phrase.partition(" ")
    tail = f" {rest}" if rest else ""
    forms = {first}
    if first.endswith("e"):
        forms |= {first + "s", first + "d", first[:-1] + "ing"}
    elif first.endswith("y") and len(first) > 2 and first[-2] not in "aeiou":
        forms |= {first[:-1] + "ies", first[:-1] + "ied", first + "ing"}
    elif first.endswith(("s", "sh", "ch", "x", "z")):
        forms |= {first + "es", first + "ed", first + "ing"}
    else:
        forms |= {first + "s", first + "ed", first + "ing"}
    return sorted(f + tail for f in forms)


def words_of(text: str) -> list[tuple[str, int, int]]:
    """Canonical, case-folded words with their character offsets in ``text``."""
    out = []
    for m in _WORD.finditer(text):
        w, start, end = m.group(), m.start(), m.end()
        cut = elision_cut(w) if "'" in w else 0
        if cut:  # "l'arrêt": the elided article, then the word
            out.append((word_key(w[:cut]), start, start + cut))
            w, start = w[cut:], start + cut
        out.append((word_key(w), start, end))
    return out


class Lexicon:
    """A set of signals, matched longest-phrase-first."""

    def __init__(
        self,
        entries: Iterable[dict[str, Any]],
        *,
        where: str = "signals",
        intensifiers: Intensifiers | None = None,
        languages: Iterable[str] = ("en",),
        language: str = "en",
        negators: frozenset[str] = NEGATORS,
        not_negation: tuple[tuple[str, ...], ...] = (),
        grammar: Grammar | None = None,
        meanings: Mapping[str, Signal] | None = None,
    ) -> None:
        self._by_first: dict[str, list[_Entry]] = {}
        self.signals: list[Signal] = []
        self.intensifiers = intensifiers or Intensifiers()
        self.languages = frozenset(languages)  # the languages its phrases are written in
        self.language = language  # the language of this lexicon's own phrases
        self.negators = negators
        self.not_negation = not_negation  # phrases that start with a negator and negate nothing
        self.grammar = grammar or Grammar()
        # the English signals by phrase, which another language's signals say they mean
        self._meanings = dict(meanings or {})
        self.translations: dict[str, Lexicon] = {}  # language -> its lexicon (data/lexicons/)
        for n, raw in enumerate(entries):
            self._add(raw, f"{where}[{n}]")
        for bucket in self._by_first.values():
            bucket.sort(key=lambda e: -len(e.words))

    def _add(self, raw: Mapping[str, Any], where: str) -> None:
        if not isinstance(raw, Mapping):
            raise ConfigError("each signal must be a table", key=where)
        unknown = sorted(set(raw) - _KEYS)
        if unknown:
            raise ConfigError(
                f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})", key=where
            )
        means = raw.get("means")
        meant = None
        if means is not None:
            meant = self._meanings.get(str(means).lower())
            if meant is None:
                raise ConfigError(f"'means' {means!r} is no English signal", key=where)
        forms = raw.get("forms")
        phrase = raw.get("phrase")
        if phrase is None and meant is not None and isinstance(forms, list) and forms:
            phrase = forms[0]
        if not isinstance(phrase, str) or not phrase.strip():
            raise ConfigError("'phrase' must be a non-empty string", key=where)
        if meant is not None or self.language != "en":
            self._add_native(raw, phrase, meant, where)
            return
        polarity = raw.get("polarity", "neutral")
        if polarity not in POLARITIES:
            raise ConfigError(
                f"'polarity' must be one of {', '.join(POLARITIES)}, not {polarity!r}", key=where
            )
        category = raw.get("category", "custom")
        if not isinstance(category, str):
            raise ConfigError("'category' must be a string", key=where)
        demand = raw.get("demand", False)
        if not isinstance(demand, bool):
            raise ConfigError("'demand' must be true or false", key=where)
        if forms is None:
            forms = inflections(phrase.lower()) if raw.get("inflect", True) else [phrase]
        self._index(Signal(phrase.strip().lower(), category, polarity, demand), raw, forms, where)

    def _add_native(
        self, raw: Mapping[str, Any], phrase: str, meant: Signal | None, where: str
    ) -> None:
        """A signal of another language: what it means is an English signal's, unless it says."""
        polarity = raw.get("polarity", meant.polarity if meant else "neutral")
        if polarity not in POLARITIES:
            raise ConfigError(
                f"'polarity' must be one of {', '.join(POLARITIES)}, not {polarity!r}", key=where
            )
        category = raw.get("category", meant.category if meant else "custom")
        demand = raw.get("demand", meant.demand if meant else False)
        if not isinstance(category, str) or not isinstance(demand, bool):
            raise ConfigError("'category' must be a string, 'demand' true or false", key=where)
        english = meant.phrase if meant else phrase.strip().lower()
        signal = Signal(english, category, polarity, demand, phrase.strip().lower())
        # English inflection rules would be wrong here: the forms are listed, or the phrase only.
        self._index(signal, raw, raw.get("forms") or [phrase], where)

    def _index(self, signal: Signal, raw: Mapping[str, Any], forms: object, where: str) -> None:
        if not isinstance(forms, list) or not all(isinstance(f, str) for f in forms):
            raise ConfigError("'forms' must be a list of strings", key=where)
        self.signals.append(signal)
        follow = frozenset(word_key(w) for w in raw.get("except_followed_by", []))
        precede = frozenset(word_key(w) for w in raw.get("except_preceded_by", []))
        for form in forms:
            words = tuple(w for w, _, _ in words_of(form))
            if not words:
                continue
            # Arabic: the phrase with a conjunction or preposition joined to its first word too
            for first in (words[0], *proclitic_forms(words[0])):
                self._by_first.setdefault(first, []).append(
                    _Entry(signal, (first, *words[1:]), follow, precede)
                )

    def extend(self, entries: Iterable[dict[str, Any]], *, where: str = "signals.add") -> Lexicon:
        """A new lexicon with ``entries`` added (user signals from the config)."""
        new = Lexicon(
            [],
            where=where,
            intensifiers=self.intensifiers,
            languages=self.languages,
            language=self.language,
            negators=self.negators,
            not_negation=self.not_negation,
            grammar=self.grammar,
            meanings=self._meanings,
        )
        new._by_first = {k: list(v) for k, v in self._by_first.items()}
        new.signals = list(self.signals)
        new.translations = dict(self.translations)
        for n, raw in enumerate(entries):
            new._add(raw, f"{where}[{n}]")
        for bucket in new._by_first.values():
            bucket.sort(key=lambda e: -len(e.words))
        return new

    def for_language(self, code: str) -> Lexicon | None:
        """The lexicon that reads texts in ``code``; None when there is none for it."""
        if code == self.language:
            return self
        return self.translations.get(code)

    def find(self, text: str) -> list[SignalMatch]:
        """Every signal in ``text``, left to right, without overlaps (longest phrase wins)."""
        words = words_of(text)
        plain = [w for w, _, _ in words]
        out: list[SignalMatch] = []
        i = 0
        while i < len(words):
            match = self._match_at(plain, i)
            if match is None:
                i += 1
                continue
            entry = match
            end = i + len(entry.words)
            start_char, end_char = words[i][1], words[end - 1][2]
            negated = any(
                plain[k] in self.negators and not self._not_negation(plain, k, i)
                for k in range(max(0, i - _NEGATION_WINDOW), i)
            )
            out.append(
                SignalMatch(
                    entry.signal,
                    start_char,
                    end_char,
                    text[start_char:end_char],
                    negated,
                    *self._intensifier(text, words, plain, i, end),
                )
            )
            i = end
        return out

    def _intensifier(
        self,
        text: str,
        words: Sequence[tuple[str, int, int]],
        plain: Sequence[str],
        i: int,
        end: int,
    ) -> tuple[str, tuple[int, int] | None]:
        """The intensifier of the signal at words[i:end] and its offsets: the word right before
        it, or a phrase after it before the clause ends ("condemns this attack in the strongest
        terms")."""
        before, after = self.intensifiers.before, self.intensifiers.after_by_first
        if (
            i
            and plain[i - 1] in before
            and not _CLAUSE_END.search(text, words[i - 1][2], words[i][1])
        ):
            return plain[i - 1], (words[i - 1][1], words[i - 1][2])
        if not after:
            return "", None
        stop = _CLAUSE_END.search(text, words[end - 1][2])
        limit = stop.start() if stop else len(text)
        for j in range(end, min(len(words), end + _INTENSIFIER_REACH)):
            if words[j][1] > limit:
                break
            for phrase in after.get(plain[j], ()):
                if tuple(plain[j : j + len(phrase)]) == phrase:
                    return " ".join(phrase), (words[j][1], words[j + len(phrase) - 1][2])
            if plain[j] in self._by_first and self._match_at(plain, j) is not None:
                break  # another signal: what follows intensifies that one
        return "", None

    def _not_negation(self, plain: Sequence[str], k: int, end: int) -> bool:
        """Does the negator at ``k`` start a word that negates nothing ("不断", continuously;
        "no solo", not only), within the words before ``end``?"""
        return any(
            tuple(plain[k : k + len(p)]) == p and k + len(p) <= end for p in self.not_negation
        )

    def _match_at(self, plain: Sequence[str], i: int) -> _Entry | None:
        for entry in self._by_first.get(plain[i], ()):
            n = len(entry.words)
            if tuple(plain[i : i + n]) != entry.words:
                continue
            if i + n < len(plain) and plain[i + n] in entry.except_followed_by:
                continue
            if i > 0 and plain[i - 1] in entry.except_preceded_by:
                continue
            return entry
        return None


def _intensifiers(raw: Mapping[str, Any]) -> Intensifiers:
    return Intensifiers(
        frozenset(word_key(w) for w in raw.get("before", [])),
        tuple(tuple(w for w, _, _ in words_of(p)) for p in raw.get("after", [])),
    )


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The lexicon shipped with dipdiff: English (``data/signals.toml``) and, for each other
    language, ``data/lexicons/<code>.toml``."""
    data = resources.files("dipdiff").joinpath("data", "signals.toml").read_text(encoding="utf-8")
    table = tomllib.loads(data)
    others = {code: (where, t) for code, where, t in language_tables()}
    english = Lexicon(
        table["signal"],
        where="data/signals.toml: signal",
        intensifiers=_intensifiers(table.get("intensifiers", {})),
        languages=[*table["languages"], *others],
    )
    meanings = {s.phrase: s for s in english.signals}
    for code, (where, t) in others.items():
        english.translations[code] = Lexicon(
            t.get("signal", []),
            where=f"{where}: signal",
            intensifiers=_intensifiers(t.get("intensifiers", {})),
            languages=english.languages,
            language=code,
            negators=frozenset(word_key(w) for w in t.get("negators", [])),
            not_negation=tuple(
                tuple(w for w, _, _ in words_of(p)) for p in t.get("not_negation", [])
            ),
            grammar=grammar_of(t, where),
            meanings=meanings,
        )
    return english


def lexicon(extra: Iterable[dict[str, Any]] | None = None) -> Lexicon:
    """The default lexicon, extended with user entries (``[[signals.add]]`` in dipdiff.toml)."""
    base = default_lexicon()
    return base.extend(extra) if extra else base
