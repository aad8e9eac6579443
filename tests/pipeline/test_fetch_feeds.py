"""`dipdiff fetch`: real feed histories replayed version by version from a local server."""

from __future__ import annotations

import json

from dipdiff.config import parse_config
from dipdiff.models import Outcome
from dipdiff.pipeline.fetch import exit_status, fetch_sources
from dipdiff.pipeline.server import Response
from dipdiff.store.store import Store

RSS = {"Content-Type": "application/rss+xml; charset=UTF-8"}


def feed_config(server, name="wh", extra=""):
    return parse_config(
        f"[dipdiff]\nallow_private = true\ndelay = 0\nbackoff = 0.001\nrobots = false\n"
        f'[sources.{name}]\nkind = "feed"\nurl = "{server.url("/feed/")}"\n'
        f"full_text = true\n{extra}"
    )


class Clock:
    """A test clock: each run happens at the given time."""

    def __init__(self, when: str) -> None:
        self.when = when

    def __call__(self) -> str:
        return self.when


def replay(server, store, cfg, files, times):
    runs = []
    for path, when in zip(files, times, strict=True):
        server.set("/feed/", Response(path.read_bytes(), headers=RSS))
        runs.append(fetch_sources(cfg, store, clock=Clock(when)))
    return runs


def by_guid_outcomes(store, guid):
    return [sid for sid in store.statement_ids() if store.meta(sid).guid == guid]


def test_flip_flop_is_recorded_once(server, store_dir, corpus):
    folder = corpus("whitehouse-gov-briefing-room-rss/judicial-nominations-flipflop-2022-02-02")
    event = json.loads((folder / "event.json").read_text())
    files = [folder / v["file"] for v in event["versions"]]
    store = Store(store_dir)
    cfg = feed_config(server)
    runs = replay(
        server,
        store,
        cfg,
        files,
        [
            "2022-02-02T21:11:13Z",
            "2022-02-03T00:42:45Z",
            "2022-02-03T09:11:47Z",
            "2022-02-03T09:28:18Z",
        ],
    )
    [sid] = by_guid_outcomes(store, event["item_guid"])
    outcomes = [next(r for r in run.results if r.statement_id == sid) for run in runs]
    # Checked only when it changed, the page changed on each of four checks, back and forth
    # between two texts: the first return is a restore (stored), the second is flapping (one
    # event, nothing stored). Checked hourly, it is two restores (tests/scenarios/test_truth.py).
    assert [o.outcome for o in outcomes] == [
        Outcome.NEW,
        Outcome.CHANGED,
        Outcome.RESTORED,
        Outcome.FLAPPING,
    ]
    assert "restored to the text of @1" in outcomes[2].message
    assert "flapping between the texts of @2 and @3" in outcomes[3].message
    assert len(store.versions(sid)) == 3
    assert exit_status(runs[0]) == 1 and exit_status(runs[3]) == 1


def test_guid_reuse_for_a_different_release_is_a_new_statement(server, store_dir, corpus):
    folder = corpus("whitehouse-gov-briefing-room-rss/vp-remarks-content-swap-2022-06-11")
    event = json.loads((folder / "event.json").read_text())
    files = [folder / v["file"] for v in event["versions"]]
    store = Store(store_dir)
    runs = replay(
        server, store, feed_config(server), files, ["2022-06-11T17:47:17Z", "2022-06-13T15:03:21Z"]
    )
    sids = by_guid_outcomes(store, event["item_guid"])
    assert len(sids) == 2, sids
    second = [r for r in runs[1].results if r.statement_id in sids]
    assert [r.outcome for r in second] == [Outcome.NEW]
    assert "reused" in second[0].message
    for sid in sids:
        assert len(store.versions(sid)) == 1


def test_wrong_title_fixed_under_the_same_guid_is_an_edit(server, store_dir, corpus):
    # ?p=53948 first carried the IPEF fact sheet's title over the Justice40 text.
    folder = corpus("whitehouse-gov-briefing-room-rss/ipef-justice40-guid-reuse-2022-05-23")
    event = json.loads((folder / "event.json").read_text())
    files = [folder / v["file"] for v in event["versions"]]
    store = Store(store_dir)
    replay(
        server,
        store,
        feed_config(server),
        files[:2],
        ["2022-05-23T15:03:17Z", "2022-05-23T15:37:10Z"],
    )
    [sid] = by_guid_outcomes(store, event["item_guid"])
    titles = [store.read_version(sid, n).statement.title for n in (1, 2)]
    assert "Indo-Pacific" in titles[0] and "Justice40" in titles[1]


def test_state_feed_scripts_and_byline_are_not_text(server, store_dir, corpus):
    folder = corpus("state-gov-press-releases-rss/sherman-solomon-islands-2022-07-25")
    event = json.loads((folder / "event.json").read_text())
    files = [folder / v["file"] for v in event["versions"]]
    store = Store(store_dir)
    runs = replay(
        server,
        store,
        feed_config(server, "state-dept"),
        files,
        ["2022-07-25T21:23:01Z", "2022-07-25T23:05:51Z"],
    )
    [sid] = by_guid_outcomes(store, event["item_guid"])
    v1 = store.read_version(sid, 1).statement
    text = v1.body
    assert "jQuery" not in text and "DOMContentLoaded" not in text
    assert not v1.paragraphs[0].startswith("Office of the Spokesperson")
    assert "opening of the U.S. Embassy" in text
    [changed] = [r for r in runs[1].results if r.statement_id == sid]
    assert changed.outcome is Outcome.CHANGED
    assert "recent announcement of plans to open" in store.read_version(sid, 2).statement.body


def test_title_case_only_change_is_not_a_version(server, store_dir, corpus):
    folder = corpus("state-gov-press-releases-rss/blinken-abc-this-week-2021-05-23")
    event = json.loads((folder / "event.json").read_text())
    files = [folder / v["file"] for v in event["versions"]]
    store = Store(store_dir)
    replay(
        server,
        store,
        feed_config(server, "state-dept"),
        files,
        ["2021-05-23T15:41:11Z", "2021-05-24T15:42:45Z"],
    )
    [sid] = by_guid_outcomes(store, event["item_guid"])
    # The title went "On" -> "on" AND trailing periods were dropped from the text: one edit.
    assert len(store.versions(sid)) == 2


def test_white_house_trailer_and_end_marker_are_dropped(server, store_dir, corpus):
    folder = corpus("whitehouse-gov-briefing-room-rss/dick-blum-statement-2022-02-28")
    files = sorted(folder.glob("*.rss"))
    store = Store(store_dir)
    replay(server, store, feed_config(server), files[:1], ["2022-02-28T22:21:43Z"])
    for sid in store.statement_ids():
        paragraphs = store.read_version(sid).statement.paragraphs
        assert paragraphs[-1].strip() != "###"
        assert not any("appeared first on" in p for p in paragraphs)


def test_unchanged_feed_is_unchanged(server, store_dir, corpus):
    folder = corpus("state-gov-press-releases-rss/expired-passports-2021-05-24")
    files = sorted(folder.glob("*.rss"))
    store = Store(store_dir)
    runs = replay(
        server,
        store,
        feed_config(server, "state-dept"),
        [files[0], files[0]],
        ["2021-05-24T23:25:46Z", "2021-05-25T00:00:00Z"],
    )
    assert runs[0].count(Outcome.NEW) == 10
    assert runs[1].count(Outcome.UNCHANGED) == 10 and exit_status(runs[1]) == 0


def test_cli_fetch_json_and_exit_codes(cli, server, tmp_path, corpus):
    folder = corpus("state-gov-press-releases-rss/expired-passports-2021-05-24")
    files = sorted(folder.glob("*.rss"))
    config = tmp_path / "dipdiff.toml"
    config.write_text(
        "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nbackoff = 0.001\n"
        f'[sources.state-dept]\npreset = "state-dept"\n'
        f'url = "{server.url("/feed/")}"\n'
    )
    server.set("/feed/", Response(files[0].read_bytes(), headers=RSS))
    first = cli("fetch", "--config", str(config), "--json")
    assert first.exit_code == 1, first.output
    doc = json.loads(first.stdout)
    assert doc["outcomes"]["new"] == 10 and doc["checked"] == 10 and doc["problems"] == []
    again = cli("fetch", "--config", str(config), "--json")
    assert again.exit_code == 0, again.output
    server.set("/feed/", Response(files[1].read_bytes(), headers=RSS))
    third = cli("fetch", "--config", str(config))
    assert third.exit_code == 1
    assert "changed" in third.stderr
    server.set("/feed/", Response(b"oops", 500))
    trouble = cli("fetch", "--config", str(config), "--json")
    assert trouble.exit_code == 2
    assert json.loads(trouble.stdout)["problems"][0].startswith("state-dept: ")
    plain = cli("fetch", "--config", str(config))
    assert plain.exit_code == 2 and "1 source(s) could not be read" in plain.stderr
    assert "dipdiff: warning: state-dept: " in plain.stderr and "HTTP 500" in plain.stderr


def test_cli_fetch_bad_config_is_one_line(cli, tmp_path):
    config = tmp_path / "dipdiff.toml"
    config.write_text('[sources.x]\nkind = "feed"\nurl = "https://x.gov/"\nfull_txt = true\n')
    result = cli("fetch", "--config", str(config))
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "unknown key 'full_txt' in [sources.x]; did you mean 'full_text'?" in result.output
    missing = cli("fetch", "--config", str(tmp_path / "nope.toml"))
    assert missing.exit_code == 2 and "nope.toml: no such file" in missing.output


def _feed(
    title: str, paragraphs: list[str], guid: str = "https://www.state.gov/?page_id=1"
) -> bytes:
    """A one-item feed in the shape of state.gov's (written here, not copied)."""
    body = "".join(f"<p>{p}</p>" for p in ["Office of the Spokesperson", *paragraphs])
    return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
 xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Press Releases</title><item><title>{title}</title>
<link>https://www.state.gov/secretary-blinken-on-abc/</link>
<dc:creator><![CDATA[Office of the Spokesperson]]></dc:creator>
<pubDate>Sun, 23 May 2021 15:00:00 +0000</pubDate><guid isPermaLink="false">{guid}</guid>
<description><![CDATA[<script>jQuery(function(){{}});</script>]]></description>
<content:encoded><![CDATA[<script>var x = 1;</script>{body}]]></content:encoded></item>
</channel></rss>""".encode()


TEXT = [
    (
        "Secretary Blinken joined ABC This Week to discuss the situation in the Middle East and "
        "the ceasefire between Israel and Hamas, and the United States' support for a two-state "
        "solution."
    )
]


def test_title_changes_in_case_or_invisible_characters_only(server, store_dir):
    store = Store(store_dir)
    cfg = feed_config(server, "state-dept")
    titles = [
        "Secretary Blinken On ABC\u2019s This Week",
        "Secretary Blinken on ABC\u2019s This Week",
        "Secretary Blinken on ABC\u2019s This\u00a0Week\u2060",
        "Secretary Blinken On ABC\u2019s This Week",
    ]
    runs = []
    for i, title in enumerate(titles):
        server.set("/feed/", Response(_feed(title, TEXT), headers=RSS))
        runs.append(fetch_sources(cfg, store, clock=Clock(f"2021-05-2{3 + i}T00:00:00Z")))
    outcomes = [r.results[0] for r in runs]
    assert [o.outcome for o in outcomes] == [
        Outcome.NEW,
        Outcome.UNCHANGED,
        Outcome.UNCHANGED,
        Outcome.UNCHANGED,
    ]
    assert "only in case" in outcomes[1].message
    assert outcomes[2].message == ""  # NBSP and a word joiner: the canonical text is the same
    assert outcomes[3].version == 1 and outcomes[3].event is None  # the stored text, as it was
    sid = outcomes[0].statement_id
    assert len(store.versions(sid)) == 1
    assert store.read_version(sid).statement.paragraphs == tuple(TEXT)  # byline and scripts dropped


def test_a_real_edit_of_a_feed_item_is_changed_and_diffed(server, store_dir):
    store = Store(store_dir)
    cfg = feed_config(server, "state-dept")
    server.set("/feed/", Response(_feed("Secretary Blinken on ABC", TEXT), headers=RSS))
    fetch_sources(cfg, store, clock=Clock("2021-05-23T00:00:00Z"))
    edited = [TEXT[0].replace("support for", "unwavering support for")]
    server.set("/feed/", Response(_feed("Secretary Blinken on ABC", edited), headers=RSS))
    run = fetch_sources(cfg, store, clock=Clock("2021-05-23T01:00:00Z"))
    [r] = run.results
    assert r.outcome is Outcome.CHANGED and r.version == 2 and r.changes == 1
    assert exit_status(run) == 1
