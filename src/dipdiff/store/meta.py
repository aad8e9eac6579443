"""A statement's record: ``meta.json`` (its identity) and ``checks.jsonl`` (its check history).

``meta.json`` is written when the statement is first recorded and holds only what two copies of
the store would write alike (its ID, source, first address and guid), so that two clones that
both recorded the statement merge without a conflict. ``checks.jsonl`` is append-only, one check
per line, and merged by git's ``union`` driver (``snapshots/.gitattributes``): after a merge it
holds both sides' lines in any order, so readers sort by time and drop exact duplicates.
What changes about a statement (its title, agency, published date, address) travels with the
check that saw the change, under the key ``statement``, and the last one in time wins.

Stores written before this layout kept the check history in ``meta.json`` (key ``checks``) and
rewrote it on every check: those files are read as they are, and moved to ``checks.jsonl`` by
the first check recorded under the lock.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from dipdiff.errors import DamagedFileError
from dipdiff.models import STORING_KINDS, STORING_OUTCOMES
from dipdiff.store.files import marker_line, parse_json
from dipdiff.text import clip

#: Fields of a statement that a later check may change (carried in that check's line).
DESCRIPTION = ("url", "title", "agency", "published", "guid", "previous_urls")
#: The key of a check line that carries what it changed of the statement's description.
DESCRIBES = "statement"
_STORING = {str(o) for o in STORING_OUTCOMES}
#: The note given to a second storing check of one version, after two copies were merged.
MERGED_NOTE = "the same version, stored again by another copy of the store (merged)"
#: States that last over many checks: an event when they begin, ``since`` on the checks after.
TROUBLE = ("unavailable", "blocked", "removed")


@dataclass
class StatementMeta:
    """A statement's identity, description and check history, as the store reads them."""

    id: str
    source: str
    url: str
    title: str = ""
    agency: str = ""
    published: str | None = None
    guid: str | None = None
    previous_urls: list[str] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> str:
        """``meta.json``: every field but the check history, one per line."""
        head = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "checks"}
        lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in head.items()]
        return "{\n" + ",\n".join(lines) + "\n}\n"

    def identity(self) -> StatementMeta:
        """What a new statement's ``meta.json`` holds: nothing that two clones could see apart."""
        return StatementMeta(id=self.id, source=self.source, url=self.url, guid=self.guid)

    def description(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in DESCRIPTION}


def check_line(entry: dict[str, Any], changed: dict[str, Any] | None = None) -> bytes:
    """One line of ``checks.jsonl``: the check, and what it changed of the description."""
    doc = {**entry, DESCRIBES: changed} if changed else entry
    return (json.dumps(doc, ensure_ascii=False, separators=(", ", ": ")) + "\n").encode("utf-8")


def changes(old: StatementMeta | None, new: StatementMeta) -> dict[str, Any]:
    """The description fields of ``new`` that differ from ``old`` (or from a bare identity)."""
    base = (old or new.identity()).description()
    return {k: v for k, v in new.description().items() if v != base[k]}


def parse_meta(text: str, where: str) -> dict[str, Any]:
    """``meta.json`` as a dict with the keys and types checked; errors name ``where``."""
    data = parse_json(text, where, "metadata file")
    if not isinstance(data, dict):
        raise DamagedFileError(where, "corrupt metadata (not a JSON object)")
    unknown = sorted(set(data) - {f.name for f in fields(StatementMeta)})
    if unknown:
        raise DamagedFileError(where, f"unknown key {unknown[0]!r} in metadata")
    for key, typ in (
        ("id", str),
        ("source", str),
        ("url", str),
        ("checks", list),
        ("previous_urls", list),
    ):
        if key in data and not isinstance(data[key], typ):
            raise DamagedFileError(where, f"key {key!r} should be a {typ.__name__}")
    for key in ("id", "source", "url"):
        if key not in data:
            raise DamagedFileError(where, f"missing key {key!r} in metadata")
    return data


def parse_check_lines(text: str, where: str) -> list[dict[str, Any]]:
    """The lines of ``checks.jsonl`` as dicts, in file order, each distinct line once.

    A last line without its newline is a write that was cut off (a killed run, or a run writing
    it now): it is left out. Any other line that is not a JSON object is damage.
    """
    line = marker_line(text)
    if line is not None:
        raise DamagedFileError(where, f"git merge conflict markers (line {line})")
    lines = text.split("\n")
    lines.pop()  # after the last newline: "" or a line cut off
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, raw in enumerate(lines, 1):
        if not raw.strip() or raw in seen:  # a line that both sides of a merge appended
            continue
        seen.add(raw)
        try:
            doc = json.loads(raw)
        except ValueError:
            raise DamagedFileError(
                where, f"line {i} is not a JSON check: {clip(raw, 40)!r}"
            ) from None
        if not isinstance(doc, dict):
            raise DamagedFileError(where, f"line {i} is not a JSON object")
        out.append(doc)
    return out


def distinct(*histories: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Several check histories as one, each check once (an older store's history moved to
    ``checks.jsonl`` by a run killed before it removed it from ``meta.json``: both copies)."""
    found = [h for h in histories if h]
    if len(found) < 2:
        return list(found[0]) if found else []
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for doc in (d for h in found for d in h):
        key = json.dumps(doc, sort_keys=True, ensure_ascii=False)
        if key not in seen:
            seen.add(key)
            out.append(doc)
    return out


def merge_history(meta: StatementMeta, lines: list[dict[str, Any]]) -> StatementMeta:
    """``meta`` as its check lines leave it, with its checks sorted by time.

    Sorting is stable, so checks of one second keep the order they were written in. After
    a merge, a version stored by both copies (the same text, at two times) is one version,
    and the later of the two storing checks reads as ``unchanged``.
    """
    ordered = sorted(lines, key=lambda d: str(d.get("time", "")))
    meta.checks = []
    for doc in ordered:
        _take(meta, doc)
    return meta


def add_check(meta: StatementMeta, entry: dict[str, Any]) -> None:
    """Add a check just written to ``meta`` as a reader of the files would find it."""
    checks = meta.checks
    if checks and str(entry.get("time", "")) < str(checks[-1].get("time", "")):
        merge_history(meta, [*checks, entry])  # an older capture: its place in time
    elif entry not in checks[-8:]:
        _take(meta, entry)


def _take(meta: StatementMeta, doc: dict[str, Any]) -> None:
    changed = doc.get(DESCRIBES)
    entry = {k: v for k, v in doc.items() if k != DESCRIBES} if changed is not None else doc
    if isinstance(changed, dict):
        _apply(meta, changed)
    if entry.get("outcome") in _STORING and isinstance(entry.get("sha256"), str):
        stored = next(
            (c.get("sha256") for c in reversed(meta.checks) if c.get("outcome") in _STORING),
            None,
        )
        if entry["sha256"] == stored:
            note = "; ".join(n for n in (entry.get("note"), MERGED_NOTE) if n)
            # The other copy's check recorded the event: this one is no news.
            merged = ("base_sha256", "event", "undisclosed")
            entry = {k: v for k, v in entry.items() if k not in merged}
            entry |= {"outcome": "unchanged", "note": note}
    meta.checks.append(entry)


def _apply(meta: StatementMeta, changed: dict[str, Any]) -> None:
    for key in DESCRIPTION:
        if key not in changed:
            continue
        value = changed[key]
        if key == "previous_urls":
            if isinstance(value, list):
                merged = [*meta.previous_urls, *(u for u in value if isinstance(u, str))]
                meta.previous_urls = list(dict.fromkeys(merged))
        elif isinstance(value, str) or (value is None and key in ("published", "guid")):
            setattr(meta, key, value)
    if meta.url in meta.previous_urls:
        meta.previous_urls.remove(meta.url)


def event_kind(checks: Sequence[dict[str, Any]], i: int) -> str | None:
    """The event check ``i`` records (None: nothing happened). Here, below the reports that
    show events, so that the index (:mod:`dipdiff.store.recent`) keeps them by the same rule.

    What the recorder wrote in ``event``; checks written before it existed are read by the rules
    the recorder had then: each stored version is new or changed, a move is one, and a spell of
    trouble is an event when it begins.
    """
    c = checks[i]
    if c.get("event"):
        return str(c["event"])
    outcome = c.get("outcome")
    if "since" in c or outcome not in (*STORING_KINDS, *TROUBLE, "moved"):
        return None
    if outcome in TROUBLE:
        before = checks[i - 1].get("outcome") if i else None
        return str(outcome) if before != outcome else None
    return str(outcome)
