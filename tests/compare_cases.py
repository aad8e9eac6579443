"""The golden compare cases (tests/cases/compare/pairs.toml), loaded and checked in one place:
tests/analyse/test_compare_golden.py asserts each one, benchmarks/bench_verdicts.py counts them."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from importlib import resources
from typing import Any

import pytest

from dipdiff.analyse.compare import Comparison, compare
from dipdiff.analyse.related import Record, related
from dipdiff.models import Statement
from dipdiff.pipeline.crosscheck import statement_date
from dipdiff.scrape.charset import decode_html
from dipdiff.scrape.discover import parse_content_item, parse_feed
from dipdiff.scrape.extract import extract
from dipdiff.text import canonical
from helpers import CASES, CORPUS, corpus_file

PAIRS: list[dict[str, Any]] = tomllib.loads(
    (CASES / "compare" / "pairs.toml").read_text(encoding="utf-8")
)["case"]


def load(spec: dict[str, Any]) -> Statement:
    """One side of a case; skips (pytest's Skipped) when its corpus file is absent."""
    if "text" in spec:
        paragraphs = tuple(p.strip() for p in spec["text"].split("\n\n") if p.strip())
        return Statement(
            "",
            paragraphs,
            url=spec.get("url", ""),
            published=spec.get("published"),
            source=spec.get("source", ""),
        )
    if "demo" in spec:
        raw = resources.files("dipdiff").joinpath("data", "demo", spec["demo"]).read_bytes()
        return extract(decode_html(raw), spec["url"])
    matches = sorted(CORPUS.glob(spec["corpus"]))
    path = matches[0] if matches else corpus_file(spec["corpus"])  # skips when absent
    if path.suffix == ".json":
        return parse_content_item(path.read_bytes(), "https://www.gov.uk/api/content/x").statement
    if "item" in spec:
        base = (
            "https://www.state.gov/feed/"
            if "state" in spec["corpus"]
            else "https://www.whitehouse.gov/feed/"
        )
        for item in parse_feed(path.read_bytes(), base, full_text=True).items:
            if item.statement and canonical(item.title).startswith(canonical(spec["item"])):
                return item.statement
        pytest.fail(f"{spec['corpus']}: no item titled {spec['item']!r}")
    return extract(decode_html(path.read_bytes()), spec["url"])


def compared(case: dict[str, Any]) -> tuple[Statement, Statement, Comparison]:
    a, b = load(case["a"]), load(case["b"])
    return a, b, compare(a, b)


def verdict_failures(case: dict[str, Any], c: Comparison) -> list[str]:
    """How the comparison misses the case's verdict: its exact list of divergent actors."""
    if "divergent" not in case:
        return []
    got = sorted(x.name for x in c.divergent_actors)
    return (
        []
        if got == sorted(case["divergent"])
        else [f"divergent {got}, expected {case['divergent']}"]
    )


def failures(case: dict[str, Any], a: Statement, b: Statement, c: Comparison) -> list[str]:
    """Every expectation of the case that the comparison misses; empty when it passes."""
    out = verdict_failures(case, c)
    summary = {x.name: (x.a.stance, x.b.stance, x.reasons) for x in c.actors}
    by_name = {x.name: x for x in c.actors}
    for name, sa, sb in case.get("stances", []):
        x = by_name.get(name)
        if x is None:
            out.append(f"{name!r} not among {list(by_name)}")
        elif (x.a.stance, x.b.stance) != (sa, sb):
            out.append(f"{name}: {(x.a.stance, x.b.stance)} ({x.a.signals}, {x.b.signals})")
    for side in ("a", "b"):
        for name, demand in case.get(f"demands_{side}", []):
            x = by_name.get(name)
            if x is None or demand not in getattr(x, side).demands:
                out.append(f"{name}: no demand {demand!r} in {side}; {summary}")
    for name in case.get("not_actors", []) + case.get("not_named", []):
        if name in summary:
            out.append(f"{name!r} reported as an actor: {summary[name]}")
    for name in case.get("not_named", []):
        if any(name in x.aliases for x in c.actors):
            out.append(f"{name!r} is an alias")
    for name in case.get("actors", []):
        if name not in by_name:
            out.append(f"{name!r} not among {list(by_name)}")
    for names in case.get("same_actor", []):
        rows = {x.name for x in c.actors for n in names if n == x.name or n in x.aliases}
        if len(rows) != 1:
            out.append(f"not one actor: {names} -> {rows}")
    if "languages" in case and list(c.languages) != case["languages"]:
        out.append(f"languages {c.languages}, expected {case['languages']}")
    if "not_analysed" in case:
        got = [s for s, ok in zip("ab", c.analysed, strict=True) if not ok]
        if got != case["not_analysed"]:
            out.append(f"not analysed {got}, expected {case['not_analysed']}")
    if "min_shared" in case and len(c.shared) < case["min_shared"]:
        out.append(
            f"{len(c.shared)} shared, expected >= {case['min_shared']}: {[s.a for s in c.shared]}"
        )
    if "max_shared" in case and len(c.shared) > case["max_shared"]:
        out.append(
            f"{len(c.shared)} shared, expected <= {case['max_shared']}: {[s.a for s in c.shared]}"
        )
    if "related" in case:
        # Distinct sources, so that only the content and the dates decide.
        ra = Record("a-src/a", a, statement_date(a.published, "2024-01-01"))
        rb = Record("b-src/b", b, statement_date(b.published, "2024-01-01"))
        found = related("a-src/a", [ra, rb], window=timedelta(days=7))
        if bool(found) != case["related"]:
            out.append(f"related {[(r.record.id, r.score, r.shared) for r in found]}")
    return out
