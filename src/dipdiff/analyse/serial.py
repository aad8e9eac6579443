"""What cross-checking reads of a text (:class:`~dipdiff.analyse.reading.Reading`: its
analysis and content words) as JSON, so that a store can keep it.

Analysing a statement (sentences, actors, stances, language) costs tens of milliseconds;
``divergences`` over a year's store analyses every statement, and the next run would analyse
the same texts again. A stored reading is valid for exactly one text and one analyser: its
key (:func:`analysis_key`) hashes the text as written and everything ``analyze`` reads of the
statement, with :func:`analyser_version`, a hash of the analyser's own code and data, so that
an edit to the lexicon, the gazetteer or the code retires every stored reading without anyone
having to remember to bump a number.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sys
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from dipdiff.analyse.entities import Sentence
from dipdiff.analyse.reading import Brief, Reading
from dipdiff.analyse.signals import Signal
from dipdiff.analyse.stance import ActorInText, Attached, TextAnalysis
from dipdiff.models import Statement

FORMAT = 1  # of the document below


@lru_cache(maxsize=1)
def analyser_version() -> str:
    """A hash of what decides a reading: the code of :mod:`dipdiff.analyse.reading` and of every
    dipdiff module it imports, this codec, the data files (lexicons, gazetteer) and the
    language identifier's version. Code a reading does not import (ranking candidates,
    comparing a pair) is left out: changing it retires no stored reading."""
    package = Path(str(resources.files("dipdiff")))
    files = [
        *sorted(_imported(package, "analyse/reading.py") | {Path("analyse/serial.py")}),
        *sorted(p.relative_to(package) for p in (package / "data").rglob("*.toml")),
    ]
    h = hashlib.sha256(f"{FORMAT}".encode())
    for path in files:
        h.update(path.as_posix().encode())
        h.update((package / path).read_bytes())
    with contextlib.suppress(metadata.PackageNotFoundError):
        h.update(metadata.version("py3langid").encode())
    return h.hexdigest()


def _imported(package: Path, start: str) -> set[Path]:
    """``start`` and the dipdiff modules it imports, and theirs, lazy imports too (paths
    under ``package``). Imports for type checkers only run no code: they are left out.
    Read with patterns, not parsed: parsing the analyser's code costs a tenth of a second."""
    seen: set[Path] = set()
    todo = [Path(start)]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        code = _TYPE_CHECKING.sub("", (package / path).read_text(encoding="utf-8"))
        for m in _IMPORT.finditer(code):
            # group 1 is "" for ``from dipdiff import x``: only ``import dipdiff.x`` leaves it None
            path_of = m.group(3) if m.group(1) is None else m.group(1)
            parts = [p for p in path_of.split(".") if p]
            # a name imported from a package (``from dipdiff.analyse import stance``): a module?
            names = re.findall(r"\w+", re.sub(r"#[^\n]*", "", m.group(2) or ""))
            for c in [parts, *([*parts, n] for n in names)]:
                stem = package.joinpath(*c) if c else package / "__init__"
                todo.extend(
                    p.relative_to(package)
                    for p in (stem.with_suffix(".py"), stem / "__init__.py")
                    if p.is_file()
                )
    return seen


# ``from dipdiff.x import a, b`` (or ``(a,\n b)``) and ``import dipdiff.x``, indented (lazy) too
_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+dipdiff((?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)"
    r"|import[ \t]+dipdiff((?:\.\w+)+))",
    re.MULTILINE,
)
_TYPE_CHECKING = re.compile(r"^if TYPE_CHECKING:[^\n]*\n(?:[ \t]+[^\n]*\n|[ \t]*\n)*", re.MULTILINE)


def reading_key(statement: Statement) -> str:
    """The identity of ``read(statement)``: the text as written (the store's version hash
    is of the canonical text, and evidence quotes the text as written), the URL and agency
    (they name the speaker) and the analyser."""
    h = hashlib.sha256(analyser_version().encode())
    for part in (statement.url, statement.agency, statement.title, *statement.paragraphs):
        h.update(b"\0")
        h.update(part.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def dumps(reading: Reading | Brief) -> str:
    """A reading, or its brief, as a document (the brief has no sentences, and no words of
    its signals)."""
    analysis = reading.analysis
    signals: dict[Signal, int] = {}

    def signal(s: Signal) -> int:
        return signals.setdefault(s, len(signals))

    actors = [
        [
            a.key,
            a.name,
            a.kind,
            list(a.keys),
            a.aliases,
            a.sentences,
            [[signal(x.signal), x.text, x.negated, x.sentence] for x in a.signals],
            a.acting,
            a.speaker,
        ]
        for a in analysis.actors
    ]
    doc = {
        "sentences": [
            [s.text, s.paragraph, s.index, s.label, s.heading] for s in analysis.sentences
        ],
        "actors": actors,
        "signals": [[s.phrase, s.category, s.polarity, s.demand, s.native] for s in signals],
        "places": list(analysis.places),
        "speaker": analysis.speaker,
        "place_sentences": analysis.place_sentences,
        "place_names": analysis.place_names,
        "language": analysis.language,
        "analysed": analysis.analysed,
        "terms": sorted(reading.terms),
        "numbers": sorted(reading.numbers),
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> Reading:
    """The reading :func:`dumps` wrote; ValueError (or KeyError, TypeError, IndexError) when
    it is not one."""
    doc: dict[str, Any] = json.loads(text)
    signals = [Signal(p, c, pol, bool(d), native) for p, c, pol, d, native in doc["signals"]]
    actors = tuple(
        ActorInText(
            key,
            name,
            kind,
            set(keys),
            list(aliases),
            list(sentences),
            [Attached(signals[s], t, bool(neg), n) for s, t, neg, n in attached],
            bool(acting),
            bool(speaker),
        )
        for key, name, kind, keys, aliases, sentences, attached, acting, speaker in doc["actors"]
    )
    analysis = TextAnalysis(
        tuple(Sentence(t, p, i, lab, bool(h)) for t, p, i, lab, h in doc["sentences"]),
        actors,
        tuple(doc["places"]),
        doc["speaker"],
        {k: list(v) for k, v in doc["place_sentences"].items()},
        dict(doc["place_names"]),
        doc["language"],
        bool(doc["analysed"]),
    )
    # A year of statements shares its words: one string each, not one per statement.
    return Reading(analysis, frozenset(map(sys.intern, doc["terms"])), frozenset(doc["numbers"]))


def loads_brief(text: str) -> Brief:
    """The brief :func:`dumps` wrote; ValueError (or KeyError, TypeError, IndexError) when it
    is not one."""
    reading = loads(text)
    if reading.analysis.sentences:
        raise ValueError("a reading, not its brief")
    return Brief(reading.analysis, reading.terms, reading.numbers)
