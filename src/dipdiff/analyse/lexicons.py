"""The languages other than English that stances are read in: one data file each,
``data/lexicons/<code>.toml`` (its format is in the README, "Adding a language").

A file gives a language's diplomatic formulae (each ``[[signal]]`` says which English signal it
``means``, so that it is judged by the same rules), its negators, the function words that play the
part of the English words the rules read (``[grammar]``: ``of = ["de", "du", "des"]``), and the
names it writes the gazetteer's actors with (``[names]``, ``[demonyms]``: "Хафтар", "哈夫塔尔").
Pure, apart from reading the package's own data files.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from dipdiff.analyse.scripts import word_key
from dipdiff.errors import ConfigError

_FILE_KEYS = {
    "language",
    "name",
    "negators",
    "not_negation",
    "verb_first",
    "own_voice",
    "script",
    "intensifiers",
    "grammar",
    "names",
    "demonyms",
    "signal",
}


@dataclass(frozen=True)
class Grammar:
    """How a language's function words map onto the English ones the stance rules read."""

    glosses: Mapping[str, str] = field(default_factory=dict)  # native word key -> English word
    # The verb comes before its subject (Arabic: "تدين المملكة المتحدة ..." — "condemns the United
    # Kingdom ..."): a speaker named right after a stance verb is its subject, not its target.
    verb_first: bool = False
    # Its verb forms that name their subject themselves ("ندعو", we call on): what follows them
    # is what they are about.
    own_voice: frozenset[str] = frozenset()


@lru_cache(maxsize=1)
def language_tables() -> tuple[tuple[str, str, Mapping[str, Any]], ...]:
    """(code, where, table) of every language file shipped, in code order; checked."""
    folder = resources.files("dipdiff").joinpath("data", "lexicons")
    out = []
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".toml"):
            continue
        where = f"data/lexicons/{item.name}"
        try:
            table = tomllib.loads(item.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"not valid TOML: {e}", key=where) from None
        out.append((_check(table, where, item.name.removesuffix(".toml")), where, table))
    return tuple(out)


def _check(table: Mapping[str, Any], where: str, stem: str) -> str:
    unknown = sorted(set(table) - _FILE_KEYS)
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_FILE_KEYS))})", key=where
        )
    if table.get("language") != stem:
        raise ConfigError(f"'language' must be {stem!r}, as the file is named", key=where)
    for key in ("names", "demonyms", "grammar"):
        for name, words in table.get(key, {}).items():
            if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                raise ConfigError(f"{key}.{name}: must be a list of strings", key=where)
    return stem


def grammar_of(table: Mapping[str, Any], where: str) -> Grammar:
    glosses: dict[str, str] = {}
    for english, words in table.get("grammar", {}).items():
        for w in words:
            key = word_key(w)
            if not key or len(key.split()) != 1:
                raise ConfigError(f"grammar.{english}: {w!r} is not one word", key=where)
            if key in glosses and glosses[key] != english:
                raise ConfigError(
                    f"grammar: {w!r} is both {glosses[key]!r} and {english!r}", key=where
                )
            glosses[key] = english
    verb_first = table.get("verb_first", False)
    if not isinstance(verb_first, bool):
        raise ConfigError("'verb_first' must be true or false", key=where)
    own = table.get("own_voice", [])
    if not isinstance(own, list) or not all(isinstance(w, str) for w in own):
        raise ConfigError("'own_voice' must be a list of strings", key=where)
    keys = {word_key(w) for w in own}
    return Grammar(glosses, verb_first, frozenset(keys | {p + w for w in keys for p in "وف"}))


def foreign_names() -> list[tuple[str, str, str, str]]:
    """(gazetteer name, how a language writes it, role, where) for every language file."""
    out = []
    for _, where, table in language_tables():
        for role, key in (("name", "names"), ("demonym", "demonyms")):
            for name, words in table.get(key, {}).items():
                out += [(name, w, role, where) for w in words]
    return out
