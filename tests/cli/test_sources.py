"""`dipdiff init`'s config, `dipdiff sources` and `dipdiff sources check`, against local servers."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from dipdiff.cli.app import app
from dipdiff.config import load_config, preset_names
from dipdiff.pipeline.server import Response

RSS = {"Content-Type": "application/rss+xml; charset=UTF-8"}


def invoke(*args):
    return CliRunner().invoke(app, list(args), env={"NO_COLOR": "1"})


def test_init_writes_a_config_that_loads_with_the_presets(tmp_path):
    r = invoke("init", str(tmp_path / "w"))
    assert r.exit_code == 0, r.output
    cfg = load_config(tmp_path / "w" / "dipdiff.toml")
    assert {s.name for s in cfg.sources} == {"state-dept", "white-house", "fcdo", "un-press"}
    text = (tmp_path / "w" / "dipdiff.toml").read_text()
    for name in preset_names():
        assert f"[sources.{name}]" in text  # every preset is listed, enabled or commented
    assert (tmp_path / "w" / "snapshots").is_dir()


def test_sources_lists_presets_and_configured_sources(tmp_path):
    config = tmp_path / "dipdiff.toml"
    config.write_text('[sources.mine]\nkind = "feed"\nurl = "https://example.gov/feed/"\n')
    r = invoke("sources", "--config", str(config), "--json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert rows[0]["name"] == "mine" and rows[0]["where"] == "config"
    assert {row["name"] for row in rows if row["where"] == "preset"} == set(preset_names())
    plain = invoke("sources", "--config", str(tmp_path / "none.toml"))
    assert plain.exit_code == 0 and "white-house" in plain.stdout and "not found" in plain.stdout


def test_sources_check_a_listing_shows_what_the_selectors_extracted(tmp_path, server, corpus):
    html = (
        corpus("whitehouse-gov-listing-2025/fetched_whitehouse__2025-06-23__c32d803.html")
        .read_text(encoding="utf-8")
        .replace("https://www.whitehouse.gov/", server.url("/"))
    )
    server.set("/briefings-statements/", Response(html.encode()))
    brief = corpus(
        "obama-whitehouse-press-office-2009-2016/briefs/"
        "the-press-office-2013-09-21-statement-nsc-spokesperson-caitlin-hayden-attack-nairobi.html"
    )
    first = (
        "/briefings-statements/2025/06/first-lady-melania-trumps-message-to-federal-trade-commission-"
        "underscores-commitment-to-child-protection-online/"
    )
    server.set(first, Response(brief.read_bytes()))
    config = tmp_path / "dipdiff.toml"
    config.write_text(
        "[dipdiff]\nallow_private = true\n"
        f'delay = 0\nrobots = false\n[sources.white-house]\npreset = "white-house"\n'
        f'url = "{server.url("/briefings-statements/")}"\ninclude = []\n'
    )
    r = invoke("sources", "--config", str(config), "check", "white-house", "--json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["found"] == 10 and report["items"][0]["published"] == "2025-06-04T17:50:00-04:00"
    assert (
        report["statement"]["title"]
        == "Statement by NSC Spokesperson Caitlin Hayden on the Attack in Nairobi"
    )
    assert report["statement"]["words"] > 50 and report["problems"] == []
    text = invoke("sources", "--config", str(config), "check", "white-house")
    assert "found 10 statement(s)" in text.stdout and "Caitlin Hayden" in text.stdout


def test_sources_check_a_full_text_feed(tmp_path, server, corpus):
    feed = min(corpus("state-gov-press-releases-rss/section-353-list-2022-07-20").glob("*.rss"))
    server.set("/feed/", Response(feed.read_bytes(), headers=RSS))
    config = tmp_path / "dipdiff.toml"
    config.write_text(
        "[dipdiff]\nallow_private = true\n"
        f'delay = 0\nrobots = false\n[sources.state-dept]\npreset = "state-dept"\n'
        f'url = "{server.url("/feed/")}"\n'
    )
    r = invoke("sources", "--config", str(config), "check", "state-dept", "--json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["found"] == 10 and report["items"][0]["full_text"]
    assert report["items"][0]["guid"].startswith("https://www.state.gov/?page_id=")
    assert "jQuery" not in " ".join(report["statement"]["paragraphs"])


def test_sources_check_reports_a_broken_preset(tmp_path, server):
    server.set(
        "/list/", Response(b"<html><body><p>The site changed its templates.</p></body></html>")
    )
    config = tmp_path / "dipdiff.toml"
    config.write_text(
        "[dipdiff]\nallow_private = true\n"
        f'delay = 0\nrobots = false\n[sources.ministry]\nkind = "listing"\n'
        f'url = "{server.url("/list/")}"\nselector = "li.news-item"\n'
    )
    r = invoke("sources", "--config", str(config), "check", "ministry")
    assert r.exit_code == 2
    assert "discovery found no statements" in r.output and "selector" in r.output
    unknown = invoke("sources", "--config", str(config), "check", "nope")
    assert unknown.exit_code == 2 and "no source or preset 'nope'" in unknown.output
