"""Golden cases for compare and related: tests/cases/compare/pairs.toml (see its header)."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from importlib import resources

import pytest

from dipdiff.analyse.compare import compare
from dipdiff.analyse.related import Record, related
from dipdiff.models import Statement
from dipdiff.pipeline.crosscheck import statement_date
from dipdiff.scrape.discover import parse_content_item, parse_feed
from dipdiff.scrape.extract import decode_html, extract
from dipdiff.text import canonical
from helpers import CASES, CORPUS, corpus_file

PAIRS = tomllib.loads((CASES / "compare" / "pairs.toml").read_text(encoding="utf-8"))["case"]


def _load(spec: dict) -> Statement:
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


def _actor(c, name):
    found = [x for x in c.actors if x.name == name]
    assert found, f"{name!r} not among {[x.name for x in c.actors]}"
    return found[0]


@pytest.mark.parametrize("case", PAIRS, ids=[c["name"] for c in PAIRS])
def test_golden_pair(case):
    a, b = _load(case["a"]), _load(case["b"])
    c = compare(a, b)
    summary = {x.name: (x.a.stance, x.b.stance, x.reasons) for x in c.actors}
    if "divergent" in case:
        assert sorted(x.name for x in c.divergent_actors) == sorted(case["divergent"]), summary
    for name, sa, sb in case.get("stances", []):
        x = _actor(c, name)
        assert (x.a.stance, x.b.stance) == (sa, sb), (name, x.a.signals, x.b.signals)
    for side in ("a", "b"):
        for name, demand in case.get(f"demands_{side}", []):
            assert demand in getattr(_actor(c, name), side).demands, summary
    for name in case.get("not_actors", []) + case.get("not_named", []):
        assert name not in summary, f"{name!r} reported as an actor: {summary[name]}"
    for name in case.get("not_named", []):
        assert not any(name in x.aliases for x in c.actors), f"{name!r} is an alias"
    for name in case.get("actors", []):
        _actor(c, name)
    for names in case.get("same_actor", []):
        rows = {x.name for x in c.actors for n in names if n == x.name or n in x.aliases}
        assert len(rows) == 1, (names, rows)
    if "languages" in case:
        assert list(c.languages) == case["languages"], c.languages
    if "not_analysed" in case:
        assert [s for s, ok in zip("ab", c.analysed, strict=True) if not ok] == case["not_analysed"]
    if "min_shared" in case:
        assert len(c.shared) >= case["min_shared"], [s.a for s in c.shared]
    if "max_shared" in case:
        assert len(c.shared) <= case["max_shared"], [s.a for s in c.shared]
    if "related" in case:
        # Distinct sources, so that only the content and the dates decide.
        ra = Record("a-src/a", a, statement_date(a.published, "2024-01-01"))
        rb = Record("b-src/b", b, statement_date(b.published, "2024-01-01"))
        found = related("a-src/a", [ra, rb], window=timedelta(days=7))
        assert bool(found) == case["related"], [(r.record.id, r.score, r.shared) for r in found]
