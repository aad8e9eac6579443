"""Golden cases (tests/cases/diff/cases.toml) and real edits from the saved corpus."""

from __future__ import annotations

import json
import tomllib

import pytest

from dipdiff.analyse.diff import Change, apply, body_text, diff_statements, diff_texts
from dipdiff.models import Statement
from helpers import CASES as CASES_DIR

CASES = tomllib.loads((CASES_DIR / "diff" / "cases.toml").read_text(encoding="utf-8"))


def _matches(c: Change, want: dict) -> bool:
    for key, value in want.items():
        if key in ("kind", "old", "new", "significance", "where") and getattr(c, key) != value:
            return False
        if key == "flags" and not set(value) <= set(c.flags):
            return False
        if key == "signals" and not set(value) <= set(c.signals):
            return False
        if key == "old_contains" and value not in c.old:
            return False
        if key == "new_contains" and value not in c.new:
            return False
        if key == "no_flags" and c.flags:
            return False
        if key == "not_flags" and set(value) & set(c.flags):
            return False
    return True


def _check(changes: tuple[Change, ...], case: dict) -> None:
    expect = case.get("expect", [])
    shown = "\n".join(
        f"  {c.kind} {c.significance} {c.flags} {c.signals} {c.old!r} -> {c.new!r}" for c in changes
    )
    if case.get("exact"):
        assert len(changes) == len(expect), f"{case['name']}: got\n{shown}"
        for c, want in zip(changes, expect, strict=True):
            assert _matches(c, want), f"{case['name']}: {want} not matched by\n{shown}"
    for want in expect:
        assert any(_matches(c, want) for c in changes), (
            f"{case['name']}: no change matches {want}; got\n{shown}"
        )
    if "count" in case:
        assert len(changes) == case["count"], f"{case['name']}: got\n{shown}"
    if "only" in case:
        assert {c.significance for c in changes} <= set(case["only"]), (
            f"{case['name']}: got\n{shown}"
        )


@pytest.mark.parametrize("case", CASES["case"], ids=[c["name"] for c in CASES["case"]])
def test_golden_case(case):
    r = diff_texts(case["a"], case["b"])
    _check(r.changes, case)
    assert apply(r.changes, body_text(r.a.paragraphs)) == body_text(r.b.paragraphs)


def _feed_version(corpus, event: str, n: int) -> Statement:
    from dipdiff.scrape.discover import parse_feed

    folder = corpus(event)
    meta = json.loads((folder / "event.json").read_text(encoding="utf-8"))
    version = meta["versions"][n - 1]
    feed = parse_feed((folder / version["file"]).read_bytes(), meta["feed_url"], full_text=True)
    (item,) = [i for i in feed.items if i.guid == meta["item_guid"]]
    assert item.statement is not None
    return item.statement


@pytest.mark.corpus
@pytest.mark.parametrize("case", CASES["corpus"], ids=[c["name"] for c in CASES["corpus"]])
def test_real_edit_from_the_feed_histories(case, corpus):
    a = _feed_version(corpus, case["event"], case["from"])
    b = _feed_version(corpus, case["event"], case["to"])
    r = diff_statements(a, b)
    _check(r.changes, case)
    assert apply(r.changes, body_text(a.paragraphs)) == body_text(b.paragraphs)
    assert apply(r.changes, a.title, where="title") == b.title


def _page(corpus, relative: str) -> Statement:
    from dipdiff.scrape.charset import decode_html
    from dipdiff.scrape.extract import extract

    return extract(decode_html(corpus(relative).read_bytes()))


@pytest.mark.corpus
def test_fema_pair_with_mojibake_keeps_real_changes_and_calls_the_damage_cosmetic(corpus):
    folder = "edgi-web-monitoring-diff/versions/"
    a = _page(corpus, folder + "f2d5d701-707a-42e0-8881-653346d01e0a.html")
    b = _page(corpus, folder + "fc74d750-c651-46b7-bf74-434ad8c62e04.html")
    r = diff_statements(a, b)
    by_old = {c.old: c for c in r.changes}
    # Mojibake ("“roaming”" read back as "âroamingâ") is repaired on extraction, so it is
    # no change at all; diff.comparable() folds whatever damage a store already holds ...
    assert "“roaming”" not in by_old and not any("â" in c.new for c in r.changes)
    assert "“roaming” charges" in b.body
    # ... while the figures that changed on 5 October are substantive and flagged.
    staff = next(c for c in r.changes if "12,300" in c.old)
    assert "14,000" in staff.new and staff.significance == "substantive" and "number" in staff.flags
    assert any(
        c.old.startswith("18 states") and "19" in c.new and "number" in c.flags for c in r.changes
    )
    assert apply(r.changes, body_text(a.paragraphs)) == body_text(b.paragraphs)


@pytest.mark.corpus
def test_identical_captures_hours_apart_have_no_changes(corpus):
    folder = corpus("edgi-web-monitoring-processing/wayback-mementos")
    first, second = sorted(p for p in folder.iterdir() if "hfstudy" in p.name)
    from dipdiff.scrape.charset import decode_html
    from dipdiff.scrape.extract import extract

    a, b = (extract(decode_html(p.read_bytes())) for p in (first, second))
    r = diff_statements(a, b)
    assert r.changes == () and r.similarity == 1.0
