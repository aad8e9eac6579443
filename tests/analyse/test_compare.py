"""Cross-agency comparison: alignment, actors, stances, divergence, and the CLI contract."""

from __future__ import annotations

import json
from datetime import UTC
from importlib import resources

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from dipdiff.analyse.compare import compare
from dipdiff.models import Statement
from dipdiff.scrape.charset import decode_html
from dipdiff.scrape.extract import extract


def demo(name: str, url: str) -> Statement:
    raw = resources.files("dipdiff").joinpath("data", "demo", name).read_bytes()
    return extract(decode_html(raw), url)


def st(*paragraphs: str, url: str = "https://www.state.gov/x/", title: str = "") -> Statement:
    return Statement(title, tuple(paragraphs), url=url)


def actor(c, name):
    found = [x for x in c.actors if x.name == name]
    assert found, f"{name} not among {[x.name for x in c.actors]}"
    return found[0]


def test_the_haftar_case_is_divergent_with_evidence():
    a = demo("state-libya.day1.html", "https://www.state.gov/the-situation-in-libya/")
    b = demo(
        "whitehouse-haftar.day1.html",
        "https://www.whitehouse.gov/briefings-statements/statement-on-libya/",
    )
    c = compare(a, b)
    h = actor(c, "Khalifa Haftar")
    assert h.divergent and (h.a.stance, h.b.stance) == ("critical", "supportive")
    assert "oppose" in h.a.signals and "halt" in h.a.demands
    assert "recognize" in h.b.signals and not h.b.demands
    assert any("Haftar’s forces" in e for e in h.a.evidence)
    assert any("significant role" in e for e in h.b.evidence)
    assert "Field Marshal Haftar" in h.aliases and "Khalifa Haftar’s forces" in h.aliases
    # The speaker is reported, never judged; people named in one text only are never divergent.
    assert actor(c, "United States").a.speaker and not actor(c, "United States").divergent
    assert [x.name for x in c.divergent_actors] == ["Khalifa Haftar"]


def test_edited_versions_of_one_statement_align_and_agree():
    a = demo("state-libya.day1.html", "https://www.state.gov/the-situation-in-libya/")
    b = demo("state-libya.day2.html", "https://www.state.gov/the-situation-in-libya/")
    c = compare(a, b)
    assert not c.divergent
    kinds = [s.match for s in c.shared]
    assert kinds.count("exact") == 2 and "near" in kinds
    edited = next(s for s in c.shared if "call for a" in s.b)
    assert any(ch.old.strip() and ch.new.strip() for ch in edited.changes)
    assert c.only_a == (
        (
            "This unilateral military campaign against Tripoli is endangering civilians and "
            "undermining prospects for a better future for all Libyans."
        ),
    )
    assert 0.5 < c.similarity < 1


def test_we_urge_targets_the_object_not_the_speaker():
    a = st("The United States urges Russia to withdraw its forces from Ukraine.")
    b = st("The United States and Russia held talks on Ukraine.")
    c = compare(a, b)
    russia = actor(c, "Russia")
    assert russia.a.demands == ("withdraw",) and russia.divergent
    us = actor(c, "United States")
    assert not us.divergent and us.a.speaker


def test_a_demand_on_all_parties_is_not_a_demand_on_one_actor():
    a = st(
        "We call on all parties, and the Houthis in particular, to show restraint.",
        "We urge all parties to halt attacks.",
    )
    b = st("The Houthis met the envoy in Muscat.")
    c = compare(a, b)
    assert not actor(c, "Houthis").a.demands
    assert not c.divergent


def test_negation_flips_a_stance():
    a = st("The United Kingdom does not support the Wagner Group.", url="https://www.gov.uk/x")
    b = st("We welcome the Wagner Group.", url="https://www.gov.uk/y")
    c = compare(a, b)
    w = actor(c, "Wagner Group")
    assert (w.a.stance, w.b.stance) == ("critical", "supportive") and w.divergent
    assert "not support" in w.a.signals


def test_countries_named_as_places_are_not_judged():
    a = st("We condemn the attack on a market in Sudan by the Rapid Support Forces.")
    b = st("The Rapid Support Forces said they had entered Sudan.")
    c = compare(a, b)
    assert "Sudan" not in [x.name for x in c.actors]
    rsf = actor(c, "Rapid Support Forces")
    assert rsf.a.stance == "critical" and rsf.b.stance == "neutral" and not rsf.divergent


def test_actor_named_in_one_text_only_is_never_divergent():
    c = compare(st("We condemn Hamas."), st("We welcome the ceasefire."))
    assert actor(c, "Hamas").b.stance == "absent" and not c.divergent


def test_text_ties_merge_an_actor_and_its_forces():
    a = st("We call on the Libyan National Army, led by Khalifa Haftar, to withdraw.")
    b = st("We commend Field Marshal Haftar for his role.")
    c = compare(a, b)
    h = actor(c, "Khalifa Haftar")
    assert "Libyan National Army" in h.aliases
    assert h.a.demands == ("withdraw",) and h.b.stance == "supportive" and h.divergent


# -- the CLI --------------------------------------------------------------------------------------


def test_cli_compare_json_contract_and_exit_codes(cli, demo_files):
    r = cli(
        "compare",
        str(demo_files["state-libya.day1"]),
        str(demo_files["whitehouse-haftar.day1"]),
        "--format",
        "json",
    )
    assert r.exit_code == 1, r.output
    doc = json.loads(r.output)
    assert set(doc) >= {"a", "b", "similarity", "shared", "only_a", "only_b", "actors"}
    assert set(doc["a"]) >= {"title", "url", "agency", "published", "version", "words"}
    h = next(x for x in doc["actors"] if x["name"] == "Khalifa Haftar")
    assert set(h) >= {"name", "aliases", "a", "b", "divergent"} and h["divergent"] is True
    assert set(h["a"]) >= {"stance", "signals", "evidence"}
    r = cli(
        "compare",
        str(demo_files["state-libya.day1"]),
        str(demo_files["state-libya.day2"]),
        "-f",
        "json",
    )
    assert r.exit_code == 0, r.output
    shared = json.loads(r.output)["shared"]
    assert all(set(s) >= {"a", "b", "similarity", "changes"} for s in shared)


@pytest.mark.parametrize(
    ("fmt", "needle"),
    [
        ("term", "DIVERGENT Khalifa Haftar"),
        ("md", "| Khalifa Haftar |"),
        ("html", "<td>Khalifa Haftar</td>"),
    ],
)
def test_cli_compare_formats(cli, demo_files, fmt, needle):
    r = cli(
        "compare",
        str(demo_files["state-libya.day1"]),
        str(demo_files["whitehouse-haftar.day1"]),
        "-f",
        fmt,
    )
    assert r.exit_code == 1, r.output
    assert needle in r.output


def test_cli_compare_trouble_is_one_line_and_exit_2(cli, tmp_path):
    r = cli("compare", str(tmp_path / "missing.html"), str(tmp_path / "also.html"))
    assert r.exit_code == 2
    assert "missing.html" in r.output and len(r.output.strip().splitlines()) == 1
    r = cli("compare", "a.html", "b.html", "--format", "pdf")
    assert r.exit_code == 2 and "--format" in r.output


# -- related / divergences against a real store ----------------------------------------------------


@pytest.fixture
def demo_store(cli, demo_files):
    pages = [
        (
            "state-libya.day1",
            "https://www.state.gov/the-situation-in-libya/",
            "2019-04-08T09:00:00Z",
            "state-dept",
        ),
        (
            "whitehouse-haftar.day1",
            "https://www.whitehouse.gov/briefings-statements/statement-on-libya/",
            "2019-04-19T20:00:00Z",
            "white-house",
        ),
    ]
    for name, url, when, source in pages:
        r = cli(
            "import", str(demo_files[name]), "--url", url, "--fetched-at", when, "--source", source
        )
        assert r.exit_code == 1, r.output  # a new statement recorded
    return cli


def test_cli_related_ranks_with_a_score_and_respects_the_window(demo_store):
    r = demo_store("related", "state-dept/the-situation-in-libya", "--window", "14d", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    (rel,) = doc["related"]
    assert (
        rel["id"] == "white-house/statement-on-libya"
        and rel["score"] >= 1
        and "Khalifa Haftar" in rel["shared"]
    )
    assert 11 < rel["days"] < 13  # published 2019-04-07 and 2019-04-19
    r = demo_store("related", "state-dept/the-situation-in-libya", "--window", "7d")
    assert r.exit_code == 0 and "no related statements" in r.output
    r = demo_store("related", "state-dept/the-situation-in-libya", "--window", "14d")
    assert "white-house/statement-on-libya" in r.output and "Khalifa Haftar" in r.output


def test_cli_divergences_lists_the_haftar_pair_and_exits_1(demo_store):
    r = demo_store("divergences", "--window", "2w")
    assert r.exit_code == 1, r.output
    assert "state-dept/the-situation-in-libya ↔ white-house/statement-on-libya" in r.output
    assert (
        "Khalifa Haftar: A critical (oppose, urge, halt) · B supportive (recognize, significant "
        "role)" in r.output
    )
    doc = json.loads(demo_store("divergences", "--window", "2w", "--json").output)
    assert doc[0]["a"]["id"] == "state-dept/the-situation-in-libya" and doc[0]["score"] > 0
    assert doc[0]["actors"][0]["name"] == "Khalifa Haftar"
    # --since: only pairs with a statement dated on or after the date.
    assert demo_store("divergences", "--window", "2w", "--since", "2019-05-01").exit_code == 0
    assert demo_store("divergences", "--window", "2w", "--since", "2019-04-19").exit_code == 1
    # Time is a weight, not a 7-day cut: the default finds the pair twelve days apart, and a
    # window asked for is still an outer bound.
    r = demo_store("divergences")
    assert r.exit_code == 1 and "Khalifa Haftar: A critical" in r.output, r.output
    r = demo_store("divergences", "--window", "7d")
    assert r.exit_code == 0 and "no divergences" in r.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("related", "state-dept/nope"), "state-dept/nope"),
        (("related", "state-dept/the-situation-in-libya", "--window", "soon"), "--window"),
        (("related", "state-dept/the-situation-in-libya", "--limit", "0"), "--limit"),
        (("divergences", "--since", "yesterday"), "--since"),
        (
            ("compare", "state-dept/the-situation-in-libya@9", "white-house/statement-on-libya"),
            "no version 9",
        ),
    ],
)
def test_cli_trouble_is_one_line_exit_2(demo_store, args, needle):
    r = demo_store(*args)
    assert r.exit_code == 2, r.output
    assert needle in r.output and len(r.output.strip().splitlines()) == 1


def test_compare_store_ids_with_versions(demo_store):
    r = demo_store(
        "compare",
        "state-dept/the-situation-in-libya@1",
        "white-house/statement-on-libya",
        "-f",
        "json",
    )
    assert r.exit_code == 1
    doc = json.loads(r.output)
    assert doc["a"]["version"] == 1 and doc["b"]["version"] == 1


# -- robustness: nothing a page can contain makes compare raise -----------------------------------

_NASTY = hs.text(
    alphabet=hs.characters(blacklist_categories=("Cs",)), max_size=300
) | hs.sampled_from(
    [
        "",
        " ",
        ".",
        "’s",
        "'s",
        "— ; :",
        "U.S.",
        "al-",
        "-led",
        "the the the",
        "All parties",
        "QUESTION:",
        "We urge",
        "must",
        "Mr.",
        "Haftar’s’s",
        "UN-",
        "the regime",
        "J. .",
        "?",
        "\u2060\ufffc",
        "A" * 500,
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hs.lists(_NASTY | hs.builds(" ".join, hs.lists(_NASTY, max_size=6)), max_size=5),
    hs.lists(_NASTY, max_size=5),
    hs.sampled_from(["", "https://www.state.gov/x", "file:///tmp/x.html", "::"]),
)
def test_compare_never_raises(pa, pb, url):
    a = Statement("", tuple(pa), url=url)
    b = Statement("", tuple(pb), url=url, agency="The White House")
    c = compare(a, b)
    from dipdiff.render.html import compare_html
    from dipdiff.render.json import compare_json
    from dipdiff.render.markdown import compare_markdown

    json.loads(compare_json(c))
    compare_markdown(c)
    compare_html(c)
    for x in c.actors:
        assert x.a.stance in ("supportive", "critical", "neutral", "absent", "not-analysed")
        assert not (x.divergent and {"absent", "not-analysed"} & {x.a.stance, x.b.stance})


def test_cli_compare_two_urls_on_a_local_server(cli, server):
    from dipdiff.pipeline.server import Response

    for path, name in (
        ("/state/libya/", "state-libya.day1.html"),
        ("/wh/libya/", "whitehouse-haftar.day1.html"),
    ):
        server.set(
            path, Response(resources.files("dipdiff").joinpath("data", "demo", name).read_bytes())
        )
    server.set("/gone/", Response(b"Not found", 404))
    r = cli("compare", server.url("/state/libya/"), server.url("/wh/libya/"), "-f", "json")
    assert r.exit_code == 1, r.output
    assert json.loads(r.output)["b"]["url"] == server.url("/wh/libya/")
    r = cli("compare", server.url("/state/libya/"), server.url("/gone/"))
    assert (
        r.exit_code == 2
        and server.url("/gone/") in r.output
        and len(r.output.strip().splitlines()) == 1
    )


def test_only_statements_within_reach_are_analysed():
    from datetime import datetime, timedelta

    from dipdiff.analyse.related import Record, within_reach

    day = lambda n: datetime(2024, 1, n, tzinfo=UTC)  # noqa: E731
    recs = [Record(f"s{n}/x", Statement("", ("x",)), day(n)) for n in (1, 5, 9, 20)] + [
        Record("s0/y", Statement("", ()), None)
    ]
    ids = lambda rs: [r.id for r in rs]  # noqa: E731
    assert ids(within_reach(recs)) == ["s1/x", "s5/x", "s9/x", "s20/x", "s0/y"]
    assert ids(within_reach(recs, since=day(15), window=timedelta(days=7))) == ["s9/x", "s20/x"]
    assert ids(within_reach(recs, involving=["s5/x"], window=timedelta(days=4))) == [
        "s1/x",
        "s5/x",
        "s9/x",
    ]
    assert ids(within_reach(recs, around=day(19), window=timedelta(days=2))) == ["s20/x"]
