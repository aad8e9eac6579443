"""A notification's text, as a service shows it: markdown or text, cut to the service's limit.

The cut falls between two statements, never inside a redline or a word, and says how many were
left out and where to read them; a title is cut to the service's title limit.
"""

from __future__ import annotations

import pytest

from dipdiff.analyse.diff import diff_statements
from dipdiff.models import Event, Statement, StatementRef
from dipdiff.render.notification import event_item, render_message

SITE = "https://desk.example/archive/"
REPORT = "https://github.com/desk/watch/blob/main/reports/2019-04-21.md"


def _edit(n: int) -> dict:
    a = Statement(
        f"The Situation in Region {n}",
        (f"We urge the immediate halt to these military operations in region {n}.",),
        agency="U.S. Department of State",
    )
    b = Statement(a.title, (f"We call for a halt to these military operations in region {n}.",))
    ref = StatementRef(
        f"state-dept/region-{n}", a.title, f"https://www.state.gov/r{n}/", a.agency, 2
    )
    event = Event("changed", ref, "2019-04-21T09:00:00Z", a_version=1, diff=diff_statements(a, b))
    return event_item(event, f"{REPORT}#the-situation-in-region-{n}", SITE)


def _payload(n: int) -> dict:
    return {
        "digest": "run",
        "period": "2019-04-21T09:00:00Z",
        "items": [_edit(i) for i in range(n)],
    }


def test_markdown_strikes_and_bolds_and_links_the_sites_redline():
    title, body = render_message(_payload(1), markdown=True, body_max=4000, title_max=250)
    assert title == "Changed: The Situation in Region 0 (U.S. Department of State)"
    assert "~~urge the immediate~~ **call for a** halt" in body, body
    assert f"[site]({SITE}state-dept/region-0/diff/1..2/)" in body, body
    assert "**Changed:** [The Situation in Region 0](https://www.state.gov/r0/)" in body, body


def test_text_has_the_redline_marks_and_the_links_written_out():
    _, body = render_message(_payload(1), markdown=False, body_max=4000, title_max=250)
    assert "[-urge the immediate-]{+call for a+} halt" in body, body
    assert f"site: {SITE}state-dept/region-0/diff/1..2/" in body, body
    assert "https://www.state.gov/r0/" in body


@pytest.mark.parametrize("markdown", [True, False])
@pytest.mark.parametrize("body_max", [600, 1000, 2000])
def test_a_long_message_is_cut_between_statements_and_says_how_many_more(markdown, body_max):
    payload = _payload(12)
    title, body = render_message(payload, markdown=markdown, body_max=body_max, title_max=40)
    assert len(body) <= body_max and len(title) <= 40
    assert title.startswith("dipdiff run 2019-04-21")
    _, whole = render_message(payload, markdown=markdown, body_max=10**6, title_max=250)
    blocks = whole.split("\n\n")
    shown = body.split("\n\n")
    *kept, tail = shown
    assert kept == blocks[: len(kept)], "an item was cut inside"
    more = len(blocks) - len(kept)
    assert tail.startswith(f"… and {more} more"), tail
    assert REPORT.split("#", maxsplit=1)[0] in tail  # where to read the rest
