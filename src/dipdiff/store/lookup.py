"""What a user typed for a statement: its ID, a unique prefix of one, or a near miss.

IDs are long (``state-dept/the-situation-in-libya``) and typed by hand, so every command that
takes one accepts the shortest prefix that names a single statement, as git does for commits,
and answers a typo with the closest IDs the store holds.
"""

from __future__ import annotations

import difflib
import re

from dipdiff.errors import InputError
from dipdiff.store.ids import split_ref, valid_id
from dipdiff.store.store import Store

SHOWN = 5  # candidates an ambiguous prefix lists: enough to see how to go on, one line
_CLOSE = 3  # suggestions for an unknown ID
# What could begin an ID: lowercase letters, digits, dashes and at most one slash.
_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]*(?:/[a-z0-9-]*)?$")


def could_be_id(typed: str) -> bool:
    """Could ``typed`` (``ID[@N]``) name a statement, whole or by a prefix?"""
    sid, _ = split_ref(typed)
    return bool(_PREFIX.match(sid))


def resolve_ref(store: Store, typed: str) -> tuple[str, int | None]:
    """``ID[@N]`` as typed: the stored statement it names, and the version number (or None)."""
    text, n = split_ref(typed)
    return resolve_id(store, text), n


def resolve_id(store: Store, typed: str) -> str:
    """The stored statement ``typed`` names: itself, or the one ID it begins.

    Anything else is a one-line error: an ambiguous prefix lists its candidates, an unknown ID
    the closest ones.
    """
    if valid_id(typed) and store.exists(typed):
        return typed
    if not _PREFIX.match(typed):
        raise InputError(f"not a statement ID: {typed!r} (expected <source>/<slug>[@N])")
    ids = store.statement_ids()
    begun = [i for i in ids if i.startswith(typed)]
    if len(begun) == 1:
        return begun[0]
    if begun:
        more = f", … ({len(begun)} in all)" if len(begun) > SHOWN else ""
        raise InputError(
            f"{typed!r} is the beginning of several statements: "
            f"{', '.join(begun[:SHOWN])}{more}; type more of the ID"
        )
    close = closest(typed, ids)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    raise InputError(f"no statement {typed!r} in {store.root}{hint}")


def closest(typed: str, ids: list[str]) -> list[str]:
    """The stored IDs closest to ``typed``: whole, or by slug when the source is wrong."""
    slug = typed.rsplit("/", 1)[-1]
    # A slug's beginning typed without its source ("the-situ"), then near misses.
    found = [sid for sid in ids if slug and sid.split("/", 1)[1].startswith(slug)][:_CLOSE]
    found += [
        s for s in difflib.get_close_matches(typed, ids, n=_CLOSE, cutoff=0.6) if s not in found
    ]
    by_slug: dict[str, list[str]] = {}
    for sid in ids:
        by_slug.setdefault(sid.split("/", 1)[1], []).append(sid)
    for near in difflib.get_close_matches(slug, list(by_slug), n=_CLOSE, cutoff=0.6):
        found += [sid for sid in by_slug[near] if sid not in found]
    return found[:_CLOSE]


def ids_beginning(store: Store, incomplete: str) -> list[str]:
    """The stored IDs that begin with ``incomplete``: what shell completion offers."""
    return [sid for sid in store.statement_ids() if sid.startswith(incomplete)]
