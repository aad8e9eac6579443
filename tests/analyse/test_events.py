"""Events across a store of many real statements: time is a weight, not a cut.

The project's founding case, the State Department statement of 7 April 2019 and the White House
readout of 19 April 2019, is twelve days apart; ``related`` and ``divergences`` with default
settings must find that pair among hundreds of real statements on other topics, dated around it,
and must report nothing false over the corpus's real feed items at their real dates.
"""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest

from dipdiff.analyse import serial
from dipdiff.cli import base
from dipdiff.clock import utc_timestamp
from dipdiff.models import Statement
from dipdiff.pipeline import crosscheck
from dipdiff.pipeline.crosscheck import statement_date
from dipdiff.render.terminal import safe_json
from dipdiff.store.layout import VERSION_NAME
from dipdiff.store.meta import StatementMeta
from dipdiff.store.store import Store
from helpers import Cli, age, corpus_statements

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

STATE = "state-dept/the-situation-in-libya"
WHITE_HOUSE = "white-house/statement-from-the-press-secretary-libya"
DEMO = {
    STATE: ("state-libya.day1.html", "https://www.state.gov/the-situation-in-libya/"),
    WHITE_HOUSE: (
        "whitehouse-haftar.day1.html",
        "https://www.whitehouse.gov/briefings-statements/statement-from-the-press-secretary-libya/",
    ),
}


def _write(store: Store, sid: str, st: Statement, fetched: datetime) -> None:
    source = sid.split("/", 1)[0]
    store.write_meta(StatementMeta(id=sid, source=source, url=st.url, title=st.title))
    store.add_version(sid, st, utc_timestamp(fetched))


def _store_of(cli: Cli, statements: list[tuple[str, Statement]], *, redate: bool) -> None:
    """The real statements in a store; with ``redate``, spread over March to May 2019, around
    the demo pair, so that only what they say keeps them apart from it."""
    rng = random.Random(12)
    start = datetime(2019, 3, 1, tzinfo=UTC)
    store = Store(cli.store)
    with store.lock():
        for n, (source, st) in enumerate(statements):
            when = statement_date(st.published, None) or start
            if redate:
                when = start + timedelta(hours=rng.randrange(24 * 92))
            dated = replace(st, published=when.isoformat()) if redate else st
            _write(store, f"{source}/item-{n:04d}", dated, when)


def _import_demo(cli: Cli) -> None:
    demo = resources.files("dipdiff").joinpath("data", "demo")
    for sid, (name, url) in DEMO.items():
        with resources.as_file(demo.joinpath(name)) as path:
            r = cli("import", str(path), "--url", url, "--source", sid.split("/")[0])
        assert r.exit_code == 1, r.output  # a new statement recorded


def test_the_founding_pair_is_found_among_hundreds_with_default_settings(cli):
    statements = corpus_statements()
    assert len(statements) >= 200, len(statements)
    _store_of(cli, statements, redate=True)
    _import_demo(cli)

    r = cli("related", STATE, "--json")
    assert r.exit_code == 0, r.output
    found = json.loads(r.output)["related"]
    assert found and found[0]["id"] == WHITE_HOUSE, found[:3]
    assert 11 < found[0]["days"] < 13 and "Khalifa Haftar" in found[0]["shared"]

    r = cli("divergences", "--json")
    assert r.exit_code == 1, r.output
    pairs = {(d["a"]["id"], d["b"]["id"]): d for d in json.loads(r.output)}
    assert (STATE, WHITE_HOUSE) in pairs, list(pairs)
    assert [x["name"] for x in pairs[(STATE, WHITE_HOUSE)]["actors"]] == ["Khalifa Haftar"]
    # A window is still an outer bound when asked for.
    r = cli("related", STATE, "--window", "7d", "--json")
    assert WHITE_HOUSE not in [x["id"] for x in json.loads(r.output)["related"]], r.output


def test_divergences_over_every_real_feed_item_reports_nothing_false(cli):
    """One administration's statements at their real dates: nothing diverges."""
    _store_of(cli, corpus_statements(), redate=False)
    r = cli("divergences")
    assert r.exit_code == 0, r.output
    assert r.output.strip() == "no divergences", r.output


def test_divergences_from_stored_readings_are_the_same_and_read_no_text_again(cli, monkeypatch):
    """The store keeps what reading each text gave (store/index.py): a second run over a real
    store reads no text again and answers byte for byte what the first, reading all, answered,
    and reads no version file but those of the pairs it shows; a changed analyser, or a
    damaged entry, reads again."""
    _store_of(cli, corpus_statements(), redate=True)
    _import_demo(cli)
    age(cli.store)  # settled: the index may say which reading each file gave
    monkeypatch.setattr(base, "_WRITE_SIZE", 100)  # the JSON in many writes
    cold = cli("divergences", "--json")
    cold_related = cli("related", STATE, "--json")
    assert cold.exit_code == 1 and json.loads(cold.output), cold.output
    # Written as it is encoded, piece by piece (cli/base.py): what one json.dumps wrote.
    whole = safe_json(json.dumps(json.loads(cold.output), indent=2, ensure_ascii=False))
    assert len(cold.output) > 1000 and cold.output == whole + "\n"
    db = cli.store / ".index.sqlite"
    with sqlite3.connect(db) as con:
        (stored,) = con.execute("SELECT count(*) FROM readings").fetchone()
    assert stored >= 200, stored

    calls: list[str] = []
    real = crosscheck.read

    def counted(statement: Statement):
        calls.append(statement.url)
        return real(statement)

    monkeypatch.setattr(crosscheck, "read", counted)
    files: list[str] = []
    real_bytes = Path.read_bytes

    def counted_bytes(path: Path) -> bytes:
        if VERSION_NAME.match(path.name):
            files.append(f"{path.parent.parent.name}/{path.parent.name}")
        return real_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", counted_bytes)
    warm = cli("divergences", "--json")
    assert (warm.exit_code, warm.output) == (1, cold.output)
    shown = {d[side]["id"] for d in json.loads(cold.output) for side in ("a", "b")}
    assert set(files) == shown, (len(set(files)), len(shown))
    assert cli("related", STATE, "--json").output == cold_related.output
    assert calls == []

    with sqlite3.connect(db) as con:
        con.execute(
            "UPDATE readings SET doc = '{', brief = '[' "
            "WHERE rowid IN (SELECT rowid FROM readings LIMIT 5)"
        )
    damaged = cli("divergences", "--json")
    assert (damaged.exit_code, damaged.output) == (1, cold.output)
    assert len(calls) == 5, calls

    # Candidates are ranked and judged from the briefs: only the texts of the pairs that
    # diverge are read in full (each once: a damaged reading is replaced).
    calls.clear()
    with sqlite3.connect(db) as con:
        con.execute("UPDATE readings SET doc = '{'")
    assert cli("divergences", "--json").output == cold.output
    in_pairs = {d[side]["url"] for d in json.loads(cold.output) for side in ("a", "b")}
    assert sorted(calls) == sorted(in_pairs), (len(calls), len(in_pairs))

    for module in (serial, crosscheck):  # the key and the entry's analyser column
        monkeypatch.setattr(module, "analyser_version", lambda: "a new analyser")
    calls.clear()
    assert cli("divergences", "--json").output == cold.output
    assert len(calls) == stored, len(calls)
    with sqlite3.connect(db) as con:
        analysers = {a for (a,) in con.execute("SELECT DISTINCT analyser FROM readings")}
    assert analysers == {"a new analyser"}
