"""Markdown that cannot lie: page text is shown literally by every markdown output dipdiff writes.

Hostile page text (links, images, strikethrough, HTML, autolinks, headings, list markers, table
pipes, entities) goes through the diff redline, the comparison, the report and the index, and the
result is rendered the way GitHub does (markdown-it's GFM-like preset: tables, strikethrough,
linkify, raw HTML). The rendered page must show each hostile text exactly as written, and hold no
link, strikethrough, script, image or rule that dipdiff did not put there itself.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from dipdiff.analyse.compare import compare
from dipdiff.analyse.diff import diff_statements
from dipdiff.models import Divergence, Event, Quote, StanceRow, Statement, StatementRef
from dipdiff.render.markdown import (
    IndexEntry,
    ReportInput,
    compare_markdown,
    diff_markdown,
    md_text,
    render_index,
    render_report,
)
from faultkit import FIGURES

HOSTILE = (
    "[click here](https://evil.example/phish) and ![pixel](https://evil.example/p.png)",
    "~~withdrawn~~ and ~quietly~ struck",
    "<script>alert(1)</script> <b>bold</b> &copy; &amp; &#x41;",
    (
        "visit https://www.state.gov/x or www.state.gov or state.gov, write to press@state.gov, "
        "ask @someone"
    ),
    "# breaking news",
    "- not a list item",
    "+ nor this",
    "1. nor an ordered list",
    "2) nor this one",
    "| a | b |",
    "*stressed* and _this_ and **bold** and `code` and $x^2$",
    "> not a quote",
    "---",
    "===",
    "[ref]: https://evil.example/ref",
    "a footnote[^1] and a task [ ] box",
    "a trailing backslash \\",
    "<https://evil.example/auto>",
    "a [link][ref] by reference",
)

# Tags that only page text could bring; dipdiff's markdown never makes them.
FOREIGN = {"s", "script", "img", "hr", "b", "sup", "input", "pre"}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "a" and "id" not in dict(attrs):  # a report's section anchors link nowhere
            self.hrefs.append(dict(attrs).get("href", ""))

    def handle_data(self, data):
        self.text.append(data)


def gfm(markdown: str) -> _Page:
    page = _Page()
    page.feed(MarkdownIt("gfm-like").render(markdown))
    return page


def _squash(text: str) -> str:
    return " ".join(text.split())


def assert_literal(markdown: str, texts, hrefs=()) -> None:
    """Each of ``texts`` shows as written; links are only ``hrefs``; no tags made of page text."""
    page = gfm(markdown)
    shown = _squash("".join(page.text))
    for t in texts:
        assert _squash(t) in shown, f"{t!r} is not shown literally in:\n{markdown}"
    assert set(page.hrefs) <= set(hrefs), (page.hrefs, markdown)
    assert not FOREIGN & set(page.tags), (FOREIGN & set(page.tags), markdown)


def _benign(n: int) -> str:
    return f"the minister spoke about the talks on day {n}"


def test_md_text_escapes_markup_and_leaves_plain_text_alone():
    assert md_text("a*b*_c_ <b> & [x](y) | ~z~") == r"a\*b\*\_c\_ &lt;b&gt; &amp; \[x\](y) \| \~z\~"
    # What the golden reports hold stays byte-identical: no escape where nothing could be markup.
    plain = (
        "U.S. Department of State · Donald J. Trump (halt); de-escalate, 2019-04-21 state-dept/x@2"
    )
    assert md_text(plain) == plain


def test_the_redline_shows_inserted_deleted_and_unchanged_page_text_literally():
    benign = tuple(_benign(n) for n in range(len(HOSTILE) + 1))
    plain = Statement("a statement", benign)
    interleaved = tuple(p for pair in zip(benign, (*HOSTILE, ""), strict=True) for p in pair if p)
    edited = Statement("a statement", interleaved)
    for a, b in (
        (plain, edited),
        (edited, plain),
    ):  # every hostile paragraph inserted, then deleted
        result = diff_statements(a, b)
        assert len(result.changes) == len(HOSTILE)
        assert_literal(diff_markdown(result, context=100, a_label="a", b_label="b"), HOSTILE)
    # Unchanged hostile paragraphs around a change, a hostile title and hostile labels.
    around = Statement(HOSTILE[0], interleaved)
    changed = Statement(HOSTILE[0], (*interleaved[:-1], "the minister spoke about other talks"))
    md = diff_markdown(
        diff_statements(around, changed), context=100, a_label=HOSTILE[3], b_label=HOSTILE[10]
    )
    assert_literal(md, (*HOSTILE, "Comparing " + HOSTILE[3] + " → " + HOSTILE[10]))
    FIGURES["fault scenarios"] += len(HOSTILE)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_hostile_title_is_one_heading_of_text(hostile):
    result = diff_statements(
        Statement(hostile, ("we urge calm.",)), Statement(hostile, ("we demand calm.",))
    )
    page = gfm(diff_markdown(result))
    assert page.tags.count("h2") == 1 and page.tags[0] == "h2"
    assert_literal(diff_markdown(result), (hostile,))
    FIGURES["fault scenarios"] += 1


def test_the_comparison_shows_page_text_literally():
    a = Statement(HOSTILE[0], (*HOSTILE, "we call for calm."), agency=HOSTILE[2])
    b = Statement(HOSTILE[4], ("the talks went on.", "we call for calm now."), agency=HOSTILE[3])
    for x, y in ((a, b), (b, a)):  # the hostile sentences only in A, then only in B
        md = compare_markdown(compare(x, y), HOSTILE[11], HOSTILE[1])
        assert_literal(md, (*HOSTILE, f"A: {HOSTILE[11]} · {x.agency}"))
    FIGURES["fault scenarios"] += len(HOSTILE)


def _ref(n: int, title: str, version: int = 1) -> StatementRef:
    return StatementRef(
        f"state-dept/s{n}",
        title,
        f"https://www.state.gov/s{n}/",
        HOSTILE[n % len(HOSTILE)],
        version,
    )


def test_the_report_shows_page_text_literally_and_links_only_statements():
    benign = tuple(_benign(n) for n in range(4))
    diff = diff_statements(Statement(HOSTILE[6], benign), Statement(HOSTILE[6], benign + HOSTILE))
    events = [
        Event("changed", _ref(0, HOSTILE[0], 2), "2019-04-21T09:00:00Z", a_version=1, diff=diff)
    ]
    events += [
        Event(kind, _ref(n, h), "2019-04-21T09:00:00Z", note=HOSTILE[-n])
        for n, (kind, h) in enumerate(
            zip(("new", "removed", "moved", "unavailable", "blocked"), HOSTILE[1:], strict=False),
            start=1,
        )
    ]
    divergence = Divergence(
        _ref(6, HOSTILE[6]),
        _ref(7, HOSTILE[7]),
        summary=HOSTILE[8],
        stances=tuple(StanceRow(h, h, h) for h in HOSTILE[9:12]),
        evidence=tuple(Quote("state-dept/s6", h, h) for h in HOSTILE[12:]),
        score=0.5,
    )
    report = ReportInput(
        "2019-04-21",
        "2019-04-21T23:59:59Z",
        events=tuple(events),
        divergences=(divergence,),
        checks=7,
        sources=("state-dept",),
        notes=HOSTILE,
    )
    md = render_report(report)
    assert_literal(md, HOSTILE, hrefs={f"https://www.state.gov/s{n}/" for n in range(8)})
    FIGURES["fault scenarios"] += len(HOSTILE)


def test_the_index_links_only_reports_and_the_feed():
    entries = [IndexEntry(h, f"2019-04-{n + 10:02d}.md", {"new": 1}) for n, h in enumerate(HOSTILE)]
    md = render_index(entries)
    assert_literal(md, HOSTILE, hrefs={"feed.xml"} | {e.filename for e in entries})
    FIGURES["fault scenarios"] += len(HOSTILE)
