"""What the analyst is told is true: reports, alerts and the latest text, run after run (#11).

Every scenario drives the real CLI (``dipdiff run --commit``, ``fetch``, ``snapshot``,
``import``, ``report``, ``show``, ``diff``, ``log``) through several runs with the clock pinned per
run (``DIPDIFF_NOW``), in a real git repository, against a local HTTP server that serves real
pages and real feed histories from ../shared/corpus (skipped, with the reason, when it is absent).

The rule they hold the code to: an event (new, changed, restored, removed, back, flapping, ...)
is decided once, by the recorder, when it happens; every output renders what was recorded, and
every stored version is reported exactly once, whatever the clock said or happened in between.
"""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from dipdiff.cli.app import app
from dipdiff.clock import parse_timestamp, utc_timestamp
from dipdiff.pipeline.server import Response
from dipdiff.pipeline.snapshot import snapshot_url
from dipdiff.scrape.http import fetch_page, make_client
from dipdiff.store.store import Store
from dipdiff.store.verify import verify
from faultkit import _CAPTCHA
from helpers import Cli, corpus_file

RSS = {"Content-Type": "application/rss+xml; charset=UTF-8"}
JSON = {"Content-Type": "application/json"}
ATOM = "{http://www.w3.org/2005/Atom}"
CHILD_LABOR = "state-gov-press-releases-rss/world-day-against-child-labor-2022-06-12"
FOOD = "state-gov-press-releases-rss/food-security-chairs-statement-2022-06-24"
SOLOMON = "state-gov-press-releases-rss/sherman-solomon-islands-2022-07-25"
JUDICIAL = "whitehouse-gov-briefing-room-rss/judicial-nominations-flipflop-2022-02-02"
FEMA_A = "edgi-web-monitoring-diff/versions/f2d5d701-707a-42e0-8881-653346d01e0a.html"
FEMA_B = "edgi-web-monitoring-diff/versions/fc74d750-c651-46b7-bf74-434ad8c62e04.html"
GOVUK = "govuk-content-api-examples"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def later(when: str, **delta: float) -> str:
    return utc_timestamp(parse_timestamp(when) + timedelta(**delta))


@dataclass
class FeedHistory:
    """One item's real history in a saved feed: the full feed at each commit that edited it."""

    folder: Path
    event: dict

    @classmethod
    def load(cls, name: str) -> FeedHistory:
        folder = corpus_file(name)
        return cls(folder, json.loads((folder / "event.json").read_text(encoding="utf-8")))

    @property
    def guid(self) -> str:
        return self.event["item_guid"]

    @property
    def files(self) -> list[Path]:
        return [self.folder / v["file"] for v in self.event["versions"]]

    @property
    def published(self) -> list[str]:
        """When each version went live (its commit), in dipdiff's timestamp form."""
        return [utc_timestamp(parse_timestamp(v["commit_date"])) for v in self.event["versions"]]

    def live_at(self, when: str) -> Path:
        """The feed as it stood at ``when``: the newest version committed by then."""
        t = parse_timestamp(when)
        live = [
            f for f, p in zip(self.files, self.published, strict=True) if parse_timestamp(p) <= t
        ]
        return live[-1]


class Watch:
    """A monitoring folder in a real git repository: dipdiff.toml, snapshots/, reports/."""

    def __init__(self, root: Path, server, sources: str, extra: str = "") -> None:
        self.root = root
        self.server = server
        git(root, "init", "-q", "-b", "main")
        self.config = root / "dipdiff.toml"
        self.config.write_text(
            "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\n"
            "backoff = 0.001\n" + extra + sources,
            encoding="utf-8",
        )
        git(root, "add", "dipdiff.toml")
        git(root, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "config")
        self.cli = Cli(root / "snapshots")
        self.reports = root / "reports"

    @property
    def store(self) -> Store:
        return Store(self.root / "snapshots")

    def run(self, when: str, *args: str):
        return self.cli(
            "run", "--config", str(self.config), "--commit", *args, env={"DIPDIFF_NOW": when}
        )

    def serve_feed(self, path: Path) -> None:
        self.server.set("/feed/", Response(path.read_bytes(), headers=RSS))

    def replay(self, history: FeedHistory, versions: int | None = None) -> None:
        """Serve each version of ``history`` in turn, with a run a minute after it went live:
        each run records a change."""
        for path, when in list(zip(history.files, history.published, strict=True))[:versions]:
            self.serve_feed(path)
            r = self.run(later(when, minutes=1))
            assert r.exit_code == 1, r.output

    def commits(self) -> list[str]:
        """Commit messages, oldest first (without the config commit)."""
        out = git(self.root, "log", "--reverse", "--format=%B%x00").split("\x00")
        return [m.strip() for m in out if m.strip()][1:]

    def lines_about(self, sid: str) -> list[str]:
        """Every line of every commit message that names ``sid``, in commit order."""
        return [
            line
            for m in self.commits()
            for line in m.splitlines()[1:]
            if re.search(rf" {re.escape(sid)}(@|\s|$)", line)
        ]

    def sid(self, guid: str) -> str:
        store = self.store
        (sid,) = [s for s in store.statement_ids() if store.meta(s).guid == guid]
        return sid

    def report(self, day: str) -> str:
        return (self.reports / f"{day}.md").read_text(encoding="utf-8")


def state_feed(server, name: str = "state-dept") -> str:
    return f'[sources.{name}]\npreset = "state-dept"\nurl = "{server.url("/feed/")}"\n'


def white_house_feed(server) -> str:
    return (
        f'[sources.white-house]\nkind = "feed"\nurl = "{server.url("/feed/")}"\n'
        'full_text = true\nagency = "The White House"\n'
    )


def section(text: str, heading: str) -> str:
    """The markdown between ``## heading`` and the next ``## `` heading (empty when absent)."""
    m = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    return m.group(1) if m else ""


def gfm(text: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(text)


def every_version_reported_once(watch: Watch) -> None:
    """Across all commits, each stored version is announced once (new, changed or restored)."""
    store = watch.store
    for sid in store.statement_ids():
        announced = [
            line for line in watch.lines_about(sid) if re.match(r"- (new|changed|restored) ", line)
        ]
        numbers = [int(re.search(r"@(\d+)", line).group(1)) for line in announced]
        assert numbers == list(range(1, len(store.versions(sid)) + 1)), (sid, announced)


# -- edits must never disappear from a report -------------------------------------------------


def test_every_edit_of_a_statement_new_that_day_is_a_change_with_its_redline(tmp_path, server):
    """Four versions in two hours (the State Department's food-security chairs' statement)."""
    history = FeedHistory.load(FOOD)
    watch = Watch(tmp_path, server, state_feed(server))
    watch.replay(history)
    sid = watch.sid(history.guid)
    assert len(watch.store.versions(sid)) == 4
    assert [line.split(" (")[0] for line in watch.lines_about(sid)] == [
        f"- new {sid}@1",
        f"- changed {sid}@2",
        f"- changed {sid}@3",
        f"- changed {sid}@4",
    ]
    every_version_reported_once(watch)

    day = watch.report("2022-06-24")
    new = section(day, "New statements")
    assert f"`{sid}` · version 1 (" in new, new
    changed = section(day, "Changed statements")
    for n in (1, 2, 3):
        assert f"`{sid}` · version {n} (2022-06-24) → version {n + 1} (2022-06-24)" in changed
        assert f"Comparing {sid}@{n} → {sid}@{n + 1}" in changed  # its redline
    # Each of the three edits changed a tiny share of 1,460 words: never "100%" similar.
    assert "100%" not in day
    # The index counts what the report shows: every change of the day, this one's three too.
    counts = json.loads(day.split("\n", 1)[0].removeprefix("<!-- dipdiff-report ")[:-4])
    assert counts["changed"] >= 3 and counts["new"] >= 1
    index = (watch.reports / "README.md").read_text(encoding="utf-8")
    row = next(line for line in index.splitlines() if line.startswith("| [2022-06-24]"))
    assert row.split(" | ")[1:4] == [str(counts["new"]), str(counts["changed"]), "0"], row

    since = watch.cli("report", "--since", "2022-06-24", "--out", "-")
    assert since.exit_code == 0, since.output
    for n in (1, 2, 3):
        assert f"version {n} (2022-06-24) → version {n + 1} (2022-06-24)" in since.stdout
    assert f"`{sid}` · version 1 (" in section(since.stdout, "New statements")


def test_report_since_on_the_demo_store_shows_the_demos_edit(tmp_path):
    folder = tmp_path / "demo"
    r = CliRunner().invoke(app, ["demo", "--dir", str(folder)], env={"NO_COLOR": "1"})
    assert r.exit_code == 0, r.output
    since = Cli(folder / "snapshots")("report", "--since", "2019-04-20", "--out", "-")
    assert since.exit_code == 0, since.output
    changed = section(since.stdout, "Changed statements")
    assert (
        "`state-dept/the-situation-in-libya` · version 1 (2019-04-20) → version 2 (2019-04-21)"
        in changed
    ), since.stdout
    assert "<del>urge the immediate</del>" in changed
    new = section(since.stdout, "New statements")
    assert "`state-dept/the-situation-in-libya` · version 1 (2019-04-20T09:00:00Z)" in new
    assert '"changed": 1' in since.stdout.split("\n", 1)[0]


def test_a_run_whose_clock_is_behind_announces_nothing_again(tmp_path, server):
    """Clock skew between cron hosts: the next run must not re-announce the previous one's news."""
    history = FeedHistory.load(CHILD_LABOR)
    watch = Watch(tmp_path, server, state_feed(server))
    first, edit, restore = history.files
    watch.serve_feed(first)
    assert watch.run("2022-06-12T13:00:00Z").exit_code == 1
    watch.serve_feed(edit)
    assert watch.run("2022-06-12T22:00:00Z").exit_code == 1
    behind = watch.run("2022-06-12T21:00:00Z")  # another host, an hour behind: nothing new
    assert (behind.exit_code, behind.output) == (0, ""), behind.output
    assert len(watch.commits()) == 2
    watch.serve_feed(restore)
    r = watch.run("2022-06-13T03:00:00Z")
    assert r.exit_code == 1, r.output
    sid = watch.sid(history.guid)
    last = watch.commits()[-1].splitlines()
    assert [line for line in last if line.startswith("- ")] == [
        f"- restored {sid}@3 (restored to the text of @1; 1 change: 1 substantive)"
    ], last
    every_version_reported_once(watch)
    assert verify(watch.store) == []


def test_an_edit_found_by_a_run_whose_clock_is_behind_keeps_its_redline(tmp_path, server):
    """A backfill or a slow clock records an edit: it is the latest text, with its redline."""
    history = FeedHistory.load(CHILD_LABOR)
    watch = Watch(tmp_path, server, state_feed(server))
    watch.serve_feed(history.files[0])
    assert watch.run("2022-06-12T22:00:00Z").exit_code == 1
    watch.serve_feed(history.files[1])
    r = watch.run("2022-06-12T21:00:00Z")
    assert r.exit_code == 1, r.output
    sid = watch.sid(history.guid)
    assert f"- changed {sid}@2 (1 change: 1 substantive)" in watch.commits()[-1]
    shown = watch.cli("show", sid)
    assert "We also do so through the" not in shown.stdout  # the edit deleted it: the page's text
    assert "version 1 (2022-06-12) → version 2 (2022-06-12)" in watch.report("2022-06-12")
    assert watch.run("2022-06-12T23:00:00Z").output == ""
    every_version_reported_once(watch)
    assert verify(watch.store) == []


@pytest.mark.parametrize(
    "outage",
    [
        pytest.param(60, id="60 checks, history cut back to 20 quiet ones past 40"),
        pytest.param(1005, marks=pytest.mark.slow, id="1005 checks"),
    ],
)
def test_after_a_long_outage_an_old_edit_is_not_reported_again(
    outage, tmp_path, server, monkeypatch
):
    """1,000 blocked checks in a row, then the page again, as it was. With a smaller
    MAX_CHECKS, the check history is cut back during the outage: the events stay known."""
    import dipdiff.store.store as store_module

    trimmed = outage < store_module.MAX_CHECKS
    if trimmed:
        monkeypatch.setattr(store_module, "MAX_CHECKS", 20)  # the same trimming, sooner
    page = "/hurricane-maria/"
    server.set(
        "/fema/", Response(f'<html><body><ul><li><a href="{page}">Maria</a></li></ul>'.encode())
    )
    watch = Watch(
        tmp_path,
        server,
        f'[sources.fema]\nkind = "listing"\nurl = "{server.url("/fema/")}"\nselector = "li"\n'
        'link = "a"\nagency = "FEMA"\n',
    )
    server.set(page, Response(corpus_file(FEMA_A).read_bytes()))
    assert watch.run("2017-10-03T12:00:00Z").exit_code == 1
    server.set(page, Response(corpus_file(FEMA_B).read_bytes()))
    assert watch.run("2017-10-05T12:00:00Z").exit_code == 1
    (sid,) = watch.store.statement_ids()
    server.set(page, Response(_CAPTCHA))
    start = parse_timestamp("2017-10-06T00:00:00Z")
    # The outage through the recorder `dipdiff snapshot` runs, with one HTTP client: a thousand
    # CLI start-ups (typer, TLS context) would cost minutes and test nothing more.
    client = make_client()
    store = watch.store
    for n in range(outage):
        when = utc_timestamp(start + timedelta(minutes=15 * n))
        fetch = partial(fetch_page, client, fetched_at=when)
        r = snapshot_url(store, fetch, server.url(page), source="fema")
        assert r.outcome == "blocked", r
        assert (r.event is not None) == (n == 0), (n, r.event)  # blocked once, when it began
    client.close()
    if trimmed:  # the quiet checks of the outage were cut; the two that stored versions stayed
        checks = watch.store.meta(sid).checks
        assert len(checks) < outage and [c["outcome"] for c in checks[:2]] == ["new", "changed"]
    server.set(page, Response(corpus_file(FEMA_B).read_bytes()))
    back = watch.run("2017-12-01T12:00:00Z")
    assert back.exit_code == 0, back.output
    assert "changed" not in back.output and "interrupted" not in back.output, back.output
    assert len(watch.commits()) == 2  # nothing to commit: the page is as it was
    assert len(watch.store.versions(sid)) == 2
    every_version_reported_once(watch)
    assert verify(watch.store) == []


# -- the latest text is the page's text ---------------------------------------------------------


def test_a_restore_is_reported_once_and_is_the_latest_text(tmp_path, server):
    """A phrase deleted, then restored hours later (World Day Against Child Labor)."""
    history = FeedHistory.load(CHILD_LABOR)
    watch = Watch(tmp_path, server, state_feed(server))
    watch.replay(history)
    sid = watch.sid(history.guid)
    assert watch.lines_about(sid) == [
        f"- new {sid}@1",
        f"- changed {sid}@2 (1 change: 1 substantive)",
        f"- restored {sid}@3 (restored to the text of @1; 1 change: 1 substantive)",
    ]
    phrase = "We also do so through the"
    shown = watch.cli("show", sid)
    assert shown.exit_code == 0 and phrase in shown.stdout  # the page's text, not the deletion
    assert phrase not in watch.cli("show", f"{sid}@2").stdout
    diff = watch.cli("diff", sid)
    assert diff.exit_code == 1 and f"{phrase}+}}" in diff.stdout, diff.stdout
    log = watch.cli("log", sid)
    assert "restored @1" in log.stdout, log.stdout
    doc = json.loads(watch.cli("log", sid, "--json").stdout)
    assert [(v["event"], v.get("restores")) for v in doc["versions"]] == [
        ("new", None),
        ("changed", None),
        ("restored", 1),
    ]
    report = watch.report("2022-06-13")
    assert "restored to the text of version 1" in section(report, "Changed statements"), report
    feed = ET.fromstring((watch.reports / "feed.xml").read_bytes())
    titles = [e.findtext(f"{ATOM}title") for e in feed.iter(f"{ATOM}entry")]
    assert sum(t.startswith("Restored: World Day Against Child Labor") for t in titles) == 1

    quiet = watch.run("2022-06-13T09:00:00Z")
    assert (quiet.exit_code, quiet.output) == (0, ""), quiet.output
    assert len(watch.commits()) == 3
    every_version_reported_once(watch)
    assert verify(watch.store) == []


def test_a_flip_flop_checked_hourly_is_two_restores(tmp_path, server):
    """The White House's judicial nominations: a sentence in, out, in, out over twelve hours."""
    history = FeedHistory.load(JUDICIAL)
    watch = Watch(tmp_path, server, white_house_feed(server))
    when = "2022-02-02T21:17:00Z"
    while when <= "2022-02-03T10:17:00Z":
        watch.serve_feed(history.live_at(when))
        r = watch.run(when)
        assert r.exit_code in (0, 1), r.output
        when = later(when, hours=1)
    sid = watch.sid(history.guid)
    assert [line.split(" (")[0] for line in watch.lines_about(sid)] == [
        f"- new {sid}@1",
        f"- changed {sid}@2",
        f"- restored {sid}@3",
        f"- restored {sid}@4",
    ]
    assert "restored to the text of @2" in watch.lines_about(sid)[-1]
    assert "Judge Davis received her J.D." in watch.cli("show", sid).stdout
    every_version_reported_once(watch)


def test_true_flapping_is_reported_once_then_kept_quiet(tmp_path, server):
    """Two texts served alternately on every check (two servers behind a balancer)."""
    history = FeedHistory.load(JUDICIAL)
    a, b = history.files[:2]
    watch = Watch(tmp_path, server, white_house_feed(server))
    results = []
    for n in range(10):
        watch.serve_feed(a if n % 2 == 0 else b)
        results.append(watch.run(later("2022-02-03T12:00:00Z", minutes=15 * n)))
    sid = watch.sid(history.guid)
    assert [r.exit_code for r in results] == [1, 1, 1, 1, 0, 0, 0, 0, 0, 0], [
        r.output for r in results
    ]
    assert all(r.output == "" for r in results[4:]), [r.output for r in results[4:]]
    assert [line.split(" (")[0] for line in watch.lines_about(sid)] == [
        f"- new {sid}@1",
        f"- changed {sid}@2",
        f"- restored {sid}@3",
        f"- flapping {sid}",
    ]
    assert "(between the texts of @2 and @3)" in watch.lines_about(sid)[-1]
    assert len(watch.store.versions(sid)) == 3
    flapping = section(watch.report("2022-02-03"), "Flapping statements")
    assert flapping.count(f"`{sid}`") == 1, flapping
    every_version_reported_once(watch)


def test_import_follows_the_same_rules_a_b_a_ends_on_a_marked_restored(cli, tmp_path, corpus):
    a, b = corpus(FEMA_A), corpus(FEMA_B)
    url = "https://www.fema.gov/hurricane-maria"
    outcomes = []
    for path, when in (
        (a, "2017-10-03T12:00:00Z"),
        (b, "2017-10-03T13:00:00Z"),
        (a, "2017-10-03T14:00:00Z"),
    ):
        r = cli("import", str(path), "--url", url, "--fetched-at", when)
        assert r.exit_code == 1, r.output  # each recorded a change
        outcomes.append(r.stdout.split()[0])
    assert outcomes == ["new", "changed", "restored"]
    assert "restored to the text of @1" in r.stdout
    store = Store(cli.store)
    (sid,) = store.statement_ids()
    assert "as of October 3, 2017" in cli("show", sid).stdout
    assert "restored @1" in cli("log", sid).stdout
    again = cli("import", str(a), "--url", url, "--fetched-at", "2017-10-03T15:00:00Z")
    assert again.exit_code == 0 and again.stdout.startswith("unchanged"), again.output
    assert verify(store) == []


# -- alerts only on transitions ----------------------------------------------------------------


def govuk_site(server, item: dict) -> None:
    path = item["base_path"]
    server.set("/api/content" + path, Response(json.dumps(item).encode(), headers=JSON))
    listing = {
        "results": [
            {"link": path, "title": item["title"], "public_timestamp": item["public_updated_at"]}
        ]
    }
    server.set("/api/search.json", Response(json.dumps(listing).encode(), headers=JSON))


def govuk_watch(tmp_path: Path, server) -> Watch:
    return Watch(
        tmp_path,
        server,
        f'[sources.fcdo]\npreset = "fcdo"\nurl = "{server.url("/api/search.json")}"\n'
        f'base_url = "{server.url("/")}"\ncontent_api = "{server.url("/api/content")}"\n',
        extra="[schedule]\nmin_interval = 0\n",
    )


def govuk_item(name: str) -> dict:
    return json.loads(corpus_file(f"{GOVUK}/{name}").read_text(encoding="utf-8"))


def test_a_withdrawn_govuk_item_is_removed_once_not_on_every_run(tmp_path, server):
    watch = govuk_watch(tmp_path, server)
    server.set("/hook", Response(b"", 204))
    hook = ("--webhook", server.url("/hook"))
    govuk_site(server, govuk_item("news_article/news_article.json"))
    assert watch.run("2019-08-20T09:00:00Z", *hook).exit_code == 1
    (sid,) = watch.store.statement_ids()
    # The item's organisation, not the source's: the Prime Minister's Office issued it.
    shown = json.loads(watch.cli("show", sid, "--json").stdout)
    assert shown["agency"] == "Prime Minister's Office, 10 Downing Street", shown

    govuk_site(server, govuk_item("news_article/news_article_withdrawn.json"))
    r = watch.run("2019-08-22T12:00:00Z", *hook)
    assert r.exit_code == 1, r.output
    assert f"- removed {sid}" in watch.commits()[-1]
    assert len(server.posted) == 2
    reports = {p.name: p.read_bytes() for p in watch.reports.iterdir()}
    for when in ("2019-08-22T13:00:00Z", "2019-08-23T09:00:00Z", "2019-08-24T09:00:00Z"):
        r = watch.run(when, *hook)
        assert (r.exit_code, r.output) == (0, ""), (when, r.output)
    assert len(watch.commits()) == 2 and len(server.posted) == 2  # no commit, no webhook, no mail
    assert {p.name: p.read_bytes() for p in watch.reports.iterdir()} == reports  # no report
    checks = watch.store.meta(sid).checks
    assert [c["outcome"] for c in checks[-3:]] == ["removed"] * 3  # still checked, still gone


def test_govuk_change_notes_are_recorded_and_an_edit_without_one_is_undisclosed(tmp_path, server):
    watch = govuk_watch(tmp_path, server)
    server.set("/hook", Response(b"", 204))
    hook = ("--webhook", server.url("/hook"))
    govuk_site(server, govuk_item("speech/best-practice-speaking-notes.json"))
    assert watch.run("2012-05-22T09:00:00Z", *hook).exit_code == 1
    (sid,) = watch.store.statement_ids()
    assert watch.store.meta(sid).agency == "Ministry of Justice"

    updates = govuk_item("speech/speech-with-updates.json")  # one more note: a PDF added
    govuk_site(server, updates)
    r = watch.run("2012-06-13T15:00:00Z", *hook)
    assert (r.exit_code, r.output) == (0, ""), r.output  # the text is the same: no version
    checks = json.loads(watch.cli("log", sid, "--checks", "--json").stdout)["checks"]
    assert "Added the PDF version of the speech." in checks[-1]["change_note"]

    silent = json.loads(json.dumps(updates))
    body = silent["details"]["body"]
    assert "we are not quite there yet" in body
    silent["details"]["body"] = body.replace("we are not quite there yet", "we are there")
    govuk_site(server, silent)
    r = watch.run("2012-06-20T09:00:00Z", *hook)
    assert r.exit_code == 1, r.output
    (change,) = json.loads(server.posted[-1][1])["changes"]
    assert change["kind"] == "changed" and change["undisclosed_edit"] is True, change
    report = watch.report("2012-06-20")
    assert "undisclosed edit" in section(report, "Changed statements"), report

    disclosed = json.loads(json.dumps(silent))
    disclosed["details"]["body"] = body.replace("we are not quite there yet", "we are nearly there")
    note = {"public_timestamp": "2012-07-01T10:00:00.000+01:00", "note": "Corrected a sentence."}
    disclosed["details"]["change_history"] = [note, *silent["details"]["change_history"]]
    govuk_site(server, disclosed)
    r = watch.run("2012-07-01T12:00:00Z", *hook)
    assert r.exit_code == 1, r.output
    (change,) = json.loads(server.posted[-1][1])["changes"]
    assert change["undisclosed_edit"] is False and "Corrected a sentence." in change["change_note"]
    report = watch.report("2012-07-01")
    changed = section(report, "Changed statements")
    assert "Corrected a sentence." in changed and "undisclosed edit" not in changed, changed


# -- provenance wherever a finding goes --------------------------------------------------------


@pytest.fixture
def child_labor_watch(tmp_path, server) -> tuple[Watch, FeedHistory]:
    history = FeedHistory.load(CHILD_LABOR)
    watch = Watch(tmp_path, server, state_feed(server))
    watch.replay(history, versions=2)
    return watch, history


def test_every_diff_and_compare_output_names_both_sides(child_labor_watch):
    watch, history = child_labor_watch
    sid = watch.sid(history.guid)
    store = watch.store
    v1, v2 = store.versions(sid)
    url = store.meta(sid).url
    agency = store.read_version(sid, 2).statement.agency
    assert agency and url.startswith("https://www.state.gov/")
    for fmt in ("term", "md", "html", "json"):
        r = watch.cli("diff", f"{sid}@1", f"{sid}@2", "--format", fmt)
        assert r.exit_code == 1, r.output
        out = r.stdout.replace("&amp;", "&").replace("&#x27;", "'")
        for v in (v1, v2):
            named = sid if fmt == "json" else f"{sid}@{v.number}"  # JSON: "id" and "version"
            assert named in out and v.fetched_at in out, (fmt, out[:1500])
        assert url in out and agency in out, (fmt, out[:1500])
    doc = json.loads(watch.cli("diff", f"{sid}@1", f"{sid}@2", "--format", "json").stdout)
    for side, v in (("a", v1), ("b", v2)):
        assert {k: doc[side][k] for k in ("id", "version", "url", "agency", "fetched_at")} == {
            "id": sid,
            "version": v.number,
            "url": url,
            "agency": agency,
            "fetched_at": v.fetched_at,
        }
    assert {"title", "published", "words"} <= set(doc["a"])  # nothing renamed or dropped

    other = next(s for s in store.statement_ids() if s != sid)
    o = store.versions(other)[-1]
    for fmt in ("term", "md", "html", "json"):
        r = watch.cli("compare", sid, other, "--format", fmt)
        assert r.exit_code in (0, 1), r.output
        out = r.stdout.replace("&amp;", "&").replace("&#x27;", "'")
        named = (sid, other) if fmt == "json" else (f"{sid}@2", f"{other}@{o.number}")
        assert all(n in out for n in named), (fmt, out[:1500])
        assert v2.fetched_at in out and o.fetched_at in out and url in out, (fmt, out[:1500])
    doc = json.loads(watch.cli("compare", sid, other, "--format", "json").stdout)
    assert (doc["a"]["id"], doc["a"]["fetched_at"], doc["b"]["id"]) == (sid, v2.fetched_at, other)


def test_feed_entries_link_to_their_report_section_and_the_feed_to_itself(child_labor_watch):
    watch, _ = child_labor_watch
    feed = ET.fromstring((watch.reports / "feed.xml").read_bytes())
    (self_link,) = [ln for ln in feed.findall(f"{ATOM}link") if ln.get("rel") == "self"]
    assert self_link.get("href") == "feed.xml"  # relative without [reports] base_url
    for entry in feed.findall(f"{ATOM}entry"):
        links = {ln.get("rel"): ln.get("href") for ln in entry.findall(f"{ATOM}link")}
        report, anchor = links["alternate"].split("#")
        html = gfm((watch.reports / report).read_text(encoding="utf-8"))
        assert f'id="{anchor}"' in html, (anchor, report)
        assert links["related"].startswith("https://www.state.gov/")  # the government's page

    config = watch.config.read_text(encoding="utf-8")
    watch.config.write_text(
        config + '[reports]\nbase_url = "https://example.org/watch/reports/"\n', encoding="utf-8"
    )
    r = watch.cli("report", "--config", str(watch.config))
    assert r.exit_code == 0, r.output
    feed = ET.fromstring((watch.reports / "feed.xml").read_bytes())
    hrefs = [
        ln.get("href") for ln in feed.iter(f"{ATOM}link") if ln.get("rel") in ("self", "alternate")
    ]
    assert hrefs[0] == "https://example.org/watch/reports/feed.xml"
    assert all(h.startswith("https://example.org/watch/reports/2022-06-12.md#") for h in hrefs[1:])


def test_a_replacement_reads_right_on_github_without_colour(tmp_path, server):
    """'opening of the' -> 'recent announcement of plans to open a' (the Solomon Islands edit)."""
    history = FeedHistory.load(SOLOMON)
    watch = Watch(tmp_path, server, state_feed(server))
    watch.replay(history)
    sid = watch.sid(history.guid)
    day = history.published[1][:10]
    outputs = {
        "report": watch.report(day),
        "diff --format md": watch.cli("diff", sid, "--format", "md").stdout,
    }
    for what, text in outputs.items():
        html = gfm(text)
        assert (
            "<del>opening of the</del> <ins><strong>recent announcement of plans to open a" in html
        ), (
            what,
            html,
        )
        plain = re.sub(r"<[^>]+>", "", html)
        assert "opening ofthe" not in plain and "the recent" not in plain.replace(
            "of the recent", ""
        )
        assert "opening of the recent announcement" in plain, what


# -- problems, once ----------------------------------------------------------------------------


def test_a_repeated_problem_is_listed_once_with_first_and_last_seen(tmp_path, server, corpus):
    page = "/hurricane-maria/"
    server.set(
        "/fema/", Response(f'<html><body><ul><li><a href="{page}">Maria</a></li></ul>'.encode())
    )
    server.set(page, Response(corpus(FEMA_A).read_bytes()))
    server.set("/down/", Response(b"busy", 503))
    watch = Watch(
        tmp_path,
        server,
        f'[sources.fema]\nkind = "listing"\nurl = "{server.url("/fema/")}"\nselector = "li"\n'
        'link = "a"\n'
        f'[sources.down]\nkind = "listing"\nurl = "{server.url("/down/")}"\nselector = "li"\n',
        extra="[schedule]\nmin_interval = 0\n",
    )
    times = ["2017-10-03T09:00:00Z", "2017-10-03T10:00:00Z", "2017-10-03T11:00:00Z"]
    assert watch.run(times[0]).exit_code == 2
    server.set(page, Response(b"busy", 503))
    for when in times[1:]:
        assert watch.run(when).exit_code == 2
    problems = section(watch.report("2017-10-03"), "Problems")
    down = [line for line in problems.splitlines() if "down: " in line]
    assert len(down) == 1, problems
    assert f"3 runs, first {times[0]}, last {times[2]}" in down[0], down
    (sid,) = watch.store.statement_ids()
    page_lines = [line for line in problems.splitlines() if f"`{sid}`" in line]
    assert len(page_lines) == 1, problems
    assert f"since {times[1]}" in page_lines[0] and f"last seen {times[2]}" in page_lines[0]


# -- small contract fixes ----------------------------------------------------------------------


def test_a_missing_store_is_trouble_in_one_line(tmp_path):
    r = Cli(tmp_path / "nonexistent")("list")
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1, r.output
    assert "nonexistent" in r.stderr


def test_snapshot_and_import_exit_1_when_they_recorded_a_change(cli, server, tmp_path, corpus):
    server.set("/maria/", Response(corpus(FEMA_A).read_bytes()))
    assert cli("snapshot", server.url("/maria/")).exit_code == 1  # new
    assert cli("snapshot", server.url("/maria/")).exit_code == 0  # unchanged
    server.set("/maria/", Response(corpus(FEMA_B).read_bytes()))
    assert cli("snapshot", server.url("/maria/")).exit_code == 1  # changed
    url = "https://www.fema.gov/hurricane-maria"
    args = ("--url", url, "--fetched-at")
    assert cli("import", str(corpus(FEMA_A)), *args, "2017-10-03T12:00:00Z").exit_code == 1
    assert cli("import", str(corpus(FEMA_A)), *args, "2017-10-03T13:00:00Z").exit_code == 0


def test_show_and_diff_warn_when_a_version_was_edited_by_hand(cli, server, corpus):
    server.set("/maria/", Response(corpus(FEMA_A).read_bytes()))
    cli("snapshot", server.url("/maria/"), env={"DIPDIFF_NOW": "2017-10-03T12:00:00Z"})
    server.set("/maria/", Response(corpus(FEMA_B).read_bytes()))
    cli("snapshot", server.url("/maria/"), env={"DIPDIFF_NOW": "2017-10-05T12:00:00Z"})
    store = Store(cli.store)
    (sid,) = store.statement_ids()
    path = cli.store / sid / store.versions(sid)[0].filename
    path.write_text(path.read_text(encoding="utf-8").replace("Hurricane", "Typhoon", 1), "utf-8")
    for args in (("show", f"{sid}@1"), ("diff", sid)):
        r = cli(*args)
        assert r.exit_code in (0, 1), r.output
        warning = [line for line in r.stderr.splitlines() if "sha256" in line]
        assert len(warning) == 1 and str(path) in warning[0], r.stderr
        assert r.stdout  # still shown
    assert "sha256" not in cli("show", sid).stderr  # the latest version is intact


def test_the_window_of_related_divergences_report_and_run_comes_from_the_config(tmp_path):
    folder = tmp_path / "demo"
    assert CliRunner().invoke(app, ["demo", "--dir", str(folder)]).exit_code == 0
    cli = Cli(folder / "snapshots")
    config = folder / "dipdiff.toml"
    libya = "state-dept/the-situation-in-libya"
    # The two statements are twelve days apart: related within 14 days (and the default 60),
    # not within 7.
    config.write_text('[compare]\nwindow = "7d"\n', encoding="utf-8")
    assert "white-house/" not in cli("related", libya, "--config", str(config)).stdout
    assert cli("divergences", "--config", str(config)).exit_code == 0
    no_window = cli("report", "--date", "2019-04-21", "--out", "-", "--config", str(config))
    assert "## Divergences" not in no_window.stdout
    config.write_text('[compare]\nwindow = "14d"\n', encoding="utf-8")
    assert "white-house/" in cli("related", libya, "--config", str(config)).stdout
    assert cli("divergences", "--config", str(config)).exit_code == 1
    assert cli("related", libya, "--config", str(config), "--window", "7d").stdout.startswith("no ")
    report = cli("report", "--date", "2019-04-21", "--out", "-", "--config", str(config))
    assert "## Divergences" in report.stdout, report.stdout
    config.unlink()  # no config: the default window
    assert "white-house/" in cli("related", libya, "--config", str(config)).stdout

    init = tmp_path / "watch"
    assert CliRunner().invoke(app, ["init", str(init)]).exit_code == 0
    template = (init / "dipdiff.toml").read_text(encoding="utf-8")
    assert "# window = " in template and "# base_url = " in template
