"""One change, one wording: snapshot, fetch and run lines, report, feed and commit agree."""

from __future__ import annotations

import re

from dipdiff.pipeline.demo import page_bytes
from dipdiff.pipeline.server import Response

NOTE = "5 changes: 4 substantive, 1 minor"  # the demo's edit of the State Department statement
DAY1 = {"DIPDIFF_NOW": "2019-04-20T09:00:00Z"}
DAY2 = {"DIPDIFF_NOW": "2019-04-21T09:00:00Z"}


def _publish(server, day: int) -> None:
    server.set(
        "/releases/",
        Response(
            b'<html><body><ul><li class="item"><a href="/libya/">Libya</a></li></ul></body></html>'
        ),
    )
    server.set("/libya/", Response(page_bytes(f"state-libya.day{day}.html")))


def _notes(text: str) -> list[str]:
    return re.findall(r"\((\d+ changes?: [^)]*)\)", text)


def test_every_output_notes_a_change_in_the_same_words(cli, server, tmp_path):
    _publish(server, 1)
    config = tmp_path / "dipdiff.toml"
    config.write_text(
        "[dipdiff]\nallow_private = true\n"
        'delay = 0\nrobots = false\n[sources.state]\nkind = "listing"\n'
        f'url = "{server.url("/releases/")}"\nselector = "li.item"\n',
        encoding="utf-8",
    )
    snapshot, fetch, run = (cli.__class__(tmp_path / name) for name in ("snap", "fetch", "run"))
    reports = tmp_path / "reports"
    for day, env in ((1, DAY1), (2, DAY2)):
        _publish(server, day)
        snapped = snapshot("snapshot", server.url("/libya/"), env=env)
        fetched = fetch("fetch", "--config", str(config), "--all", env=env)
        ran = run("run", "--config", str(config), "--reports", str(reports), env=env)
    assert _notes(snapped.output) == [NOTE], snapped.output
    assert _notes(fetched.output) == [NOTE], fetched.output
    assert _notes(ran.output) == [NOTE], (
        ran.output
    )  # the run's log: the lines of its commit message
    report = (reports / "2019-04-21.md").read_text(encoding="utf-8")
    assert f"· {NOTE}\n" in report
    assert _notes((reports / "feed.xml").read_text(encoding="utf-8")) == [NOTE]
