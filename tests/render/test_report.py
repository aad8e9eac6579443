"""The pure report, index and feed renderers: ordering, folding, escaping, valid markup."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from markdown_it import MarkdownIt

from dipdiff.analyse.diff import diff_statements
from dipdiff.models import Divergence, Event, Quote, StanceRow, Statement, StatementRef
from dipdiff.render.common import ordered_changes
from dipdiff.render.feed import Feed, feed_entry, render_feed
from dipdiff.render.markdown import (
    IndexEntry,
    ReportInput,
    md_text,
    render_index,
    render_report,
    report_counts,
)

ATOM = "{http://www.w3.org/2005/Atom}"


def gfm(text: str) -> str:
    """GitHub-flavoured rendering: tables and raw HTML (details, del, ins) enabled."""
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(text)


def _changed(sid="state-dept/libya", title="The Situation in Libya"):
    a = Statement(
        title,
        (
            "We are deeply concerned about the fighting.",
            "We urge the immediate halt to “military” operations.",
        ),
    )
    b = Statement(
        title,
        (
            "We are concerned about the fighting.",
            'We urge the immediate halt to "military" operations.',
        ),
    )
    diff = diff_statements(a, b)
    ref = StatementRef(sid, title, "https://www.state.gov/libya/", "U.S. Department of State", 2)
    return Event(
        "changed",
        ref,
        "2019-04-21T09:00:00Z",
        a_version=1,
        a_time="2019-04-20T09:00:00Z",
        b_time="2019-04-21T09:00:00Z",
        diff=diff,
    )


def _cosmetic_only():
    a = Statement("Readout", ("The Secretary met the “Special Representative”.",))
    b = Statement("Readout", ('The Secretary met the "Special Representative".',))
    ref = StatementRef("state-dept/readout", "Readout", "https://www.state.gov/readout/", "", 2)
    return Event("changed", ref, "2019-04-21T09:00:00Z", a_version=1, diff=diff_statements(a, b))


def _divergence():
    a = StatementRef(
        "state-dept/libya",
        "The Situation in Libya",
        "https://www.state.gov/libya/",
        "U.S. Department of State",
        2,
    )
    b = StatementRef(
        "white-house/haftar",
        "Statement from the Press Secretary",
        "https://www.whitehouse.gov/haftar/",
        "The White House",
        1,
    )
    return Divergence(
        a,
        b,
        "Opposite stances towards Khalifa Haftar.",
        (StanceRow("Khalifa Haftar", "opposes", "supports"),),
        (
            Quote(
                a.id,
                "We oppose the military offensive by Khalifa Haftar’s forces.",
                "Khalifa Haftar",
            ),
            Quote(
                b.id,
                "The President recognized Field Marshal Haftar’s significant role.",
                "Khalifa Haftar",
            ),
        ),
        0.9,
    )


def _input(**kw) -> ReportInput:
    base = {
        "date": "2019-04-21",
        "since": "2019-04-21T00:00:00Z",
        "until": "2019-04-21T23:59:59Z",
        "events": (_cosmetic_only(), _changed()),
        "checks": 3,
        "runs": ("2019-04-21T09:00:00Z",),
        "sources": ("state-dept", "white-house"),
    }
    return ReportInput(**(base | kw))


def test_report_orders_substantive_first_and_folds_cosmetic_changes():
    text = render_report(_input())
    assert text.splitlines()[1] == "# dipdiff report — 2019-04-21"
    # The statement with a substantive change comes before the cosmetic-only one ...
    assert text.index("The Situation in Libya") < text.index("Readout")
    # ... and within a statement, substantive changes are listed before the cosmetic ones,
    # which are folded away.
    libya = text[text.index("</a>[The Situation in Libya]") : text.index("</a>[Readout]")]
    assert (
        libya.index("**Substantive**") < libya.index("<details>") < libya.index("cosmetic change")
    )
    assert "<del>deeply</del>" in libya
    assert "version 1 (2019-04-20) → version 2 (2019-04-21)" in libya
    readout = text[text.index("</a>[Readout]") :]
    assert "<summary>2 cosmetic changes and the redline</summary>" in readout
    assert "**Substantive**" not in readout


def test_report_is_deterministic_and_carries_its_counts():
    r = _input(divergences=(_divergence(),))
    assert render_report(r) == render_report(_input(divergences=(_divergence(),)))
    assert report_counts(render_report(r)) == {"new": 0, "changed": 2, "removed": 0, "divergent": 1}


def test_summary_table_has_a_row_per_source_checked():
    html = gfm(render_report(_input(divergences=(_divergence(),))))
    table = html[html.index("<table>") : html.index("</table>")]
    assert "<td>state-dept</td>" in table and "<td>white-house</td>" in table
    # white-house: no edits, but part of one divergence
    row = table[table.index("<td>white-house</td>") :]
    cells = [c.split(">")[1] for c in row.split("<td")[2:6]]
    assert cells == ["0</td", "0</td", "0</td", "1</td"]


def test_report_markup_is_valid_gfm():
    html = gfm(render_report(_input(divergences=(_divergence(),))))
    assert html.count("<table>") == 4  # summary, two redline tables, the stance table
    assert "<details>" in html and "<summary>" in html
    assert "<del>deeply</del>" in html and "<ins>" in html
    assert "&lt;del&gt;" not in html and "&lt;details" not in html  # no tag rendered as text
    assert "|---" not in html  # every table was recognised as a table
    assert '<a href="https://www.state.gov/libya/">The Situation in Libya</a>' in html
    assert "<blockquote>" in html and "<td>Khalifa Haftar</td>" in html


def test_page_text_cannot_inject_markup():
    evil = StatementRef(
        "x-gov/evil",
        "<script>alert(1)</script> *bold* [link](javascript:x) | pipe",
        "https://x.gov/a b(c)",
        "",
        1,
    )
    text = render_report(_input(events=(Event("new", evil, "2019-04-21T09:00:00Z"),)))
    html = gfm(text)
    assert (
        "<script>" not in html
        and "<em>" not in html
        and "javascript:x" not in html.split("href=")[-1][:30]
    )
    assert "&lt;script&gt;" in html
    assert 'href="https://x.gov/a%20b%28c%29"' in html


def test_empty_report_says_nothing_changed():
    text = render_report(_input(events=(), checks=5))
    assert "Nothing changed." in text
    assert report_counts(text) == {"new": 0, "changed": 0, "removed": 0, "divergent": 0}


def test_problems_and_notes_are_listed():
    # A spell of trouble is one line however many checks it lasted: when it began, when it was
    # last seen, how many checks.
    down = Event(
        "unavailable",
        StatementRef("a-gov/x", "X", "https://a.gov/x"),
        "2019-04-21T09:00:00Z",
        note="HTTP 503",
        since="2019-04-21T09:00:00Z",
        last="2019-04-21T11:00:00Z",
        checks=3,
    )
    text = render_report(
        _input(spells=(down,), notes=("run 2019-04-21T08:00:00Z was interrupted",))
    )
    problems = text[text.index("## Problems") :]
    assert (
        "unavailable since 2019-04-21T09:00:00Z, last seen 2019-04-21T11:00:00Z (3 checks)"
        " — HTTP 503" in problems
    )
    assert problems.count("`a-gov/x`") == 1
    assert "was interrupted" in problems


def test_ordered_changes_keeps_document_order_within_a_significance():
    diff = _changed().diff
    ordered = ordered_changes(diff.changes)
    ranks = ["substantive", "minor", "cosmetic"]
    assert [ranks.index(c.significance) for c in ordered] == sorted(
        ranks.index(c.significance) for c in ordered
    )
    subs = [c for c in diff.changes if c.significance == "substantive"]
    assert [c for c in ordered if c.significance == "substantive"] == subs


def test_md_text_escapes_markdown_and_html():
    assert md_text("a*b*_c_ <b> & [x](y) | ~z~") == r"a\*b\*\_c\_ &lt;b&gt; &amp; \[x\](y) \| \~z\~"


def test_index_lists_reports_newest_first():
    text = render_index(
        [
            IndexEntry(
                "2019-04-20",
                "2019-04-20.md",
                {"new": 2, "changed": 0, "removed": 0, "divergent": 0},
            ),
            IndexEntry(
                "2019-04-21",
                "2019-04-21.md",
                {"new": 1, "changed": 1, "removed": 0, "divergent": 1},
            ),
        ]
    )
    lines = [ln for ln in text.splitlines() if ln.startswith("| [")]
    assert lines == [
        "| [2019-04-21](2019-04-21.md) | 1 | 1 | 0 | 1 |",
        "| [2019-04-20](2019-04-20.md) | 2 | 0 | 0 | 0 |",
    ]
    assert "[feed.xml](feed.xml)" in text


def test_feed_is_valid_atom_with_stable_ids():
    events = (
        _changed(),
        Event(
            "new",
            StatementRef("wh/x", "X \x0c & <y>", "https://wh.gov/x", "WH", 1),
            "2019-04-20T09:00:00Z",
        ),
    )
    feed = Feed("tag:dipdiff,2019-04-20:store-abc", "dipdiff", tuple(feed_entry(e) for e in events))
    xml = render_feed(feed)
    assert xml == render_feed(
        Feed(feed.id, feed.title, tuple(reversed(feed.entries)))
    )  # order-free
    root = ET.fromstring(xml.encode())
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{name}") is not None, name
    assert root.find(f"{ATOM}updated").text == "2019-04-21T09:00:00Z"  # the newest entry, no clock
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2
    for e in entries:
        for name in ("id", "title", "updated", "author", "content"):
            assert e.find(f"{ATOM}{name}") is not None, name
        assert e.find(f"{ATOM}link").get("rel") == "alternate"
    first = entries[0]
    assert first.find(f"{ATOM}id").text == "tag:dipdiff,2019-04-21:state-dept/libya@2"
    assert "<del>deeply</del>" in first.find(f"{ATOM}content").text
    assert entries[1].find(f"{ATOM}title").text == "New: X  & <y>"
