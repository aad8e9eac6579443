"""The languages detected of stored versions whose header does not say it (files written before
headers kept it), remembered in the store's index: a report that names the language of every
event it shows loads no language model to tell it again.

Keyed by the text's reading key (:func:`dipdiff.analyse.serial.reading_key`: the text as
written and the analyser, the language identifier's version included), so an entry is what
detecting that text again would give; entries of another analyser are dropped when the first
new one is written. A missing or broken table costs a detection, never an answer.
"""

from __future__ import annotations

import sqlite3

from dipdiff.store.index import StoreIndex

TABLE = """
CREATE TABLE IF NOT EXISTS languages (
    key TEXT PRIMARY KEY, analyser TEXT NOT NULL, language TEXT NOT NULL);
"""


def known_language(index: StoreIndex, key: str) -> str | None:
    db = index.connection() if index.path.exists() else None
    if db is None:
        return None
    try:
        row = db.execute("SELECT language FROM languages WHERE key = ?", (key,)).fetchone()
    except sqlite3.OperationalError:
        # No such table yet (made by the first remember_language), or locked: a lookup
        # writes nothing, so a read-only store keeps its index for the rest of the command.
        return None
    except sqlite3.Error as e:
        index.failed(e)
        return None
    return row[0] if row is not None and isinstance(row[0], str) and row[0] else None


def remember_language(index: StoreIndex, key: str, analyser: str, language: str) -> None:
    db = index.connection()
    if db is None:
        return
    try:
        db.executescript(TABLE)
        db.execute("DELETE FROM languages WHERE analyser != ?", (analyser,))
        db.execute("INSERT OR REPLACE INTO languages VALUES (?, ?, ?)", (key, analyser, language))
        db.commit()
    except sqlite3.Error as e:
        index.failed(e)
