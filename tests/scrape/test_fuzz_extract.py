"""Property-based fuzzing of the extractor and the pipeline with damaged real pages.

Seeds are the real saved government pages of ../shared/corpus (when present) and the demo pages
the package ships; hypothesis damages them the way the web does: truncation, lost or duplicated
tags, junk and NUL bytes, the wrong charset, deep nesting. Whatever comes in, ``decode_html``
returns text, ``extract`` returns a well-formed statement or raises ``ExtractError`` (the one
documented exception), and the pipeline stores a verifiable version or records a block.
"""

from __future__ import annotations

import contextlib
import json
import re
from importlib import resources

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dipdiff.errors import ExtractError
from dipdiff.render.terminal import UNSAFE
from dipdiff.scrape.charset import decode_html
from dipdiff.scrape.extract import blocked_reason, extract
from dipdiff.store.verify import verify
from faultkit import FIGURES
from helpers import CORPUS

# Failing examples are whole pages; hypothesis warns that their repr is long.
pytestmark = [
    pytest.mark.slow,  # the fuzz suite: hundreds of damaged pages
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning"),
]
_UNSAFE = re.compile(f"[{UNSAFE}]")


def _seeds() -> list[bytes]:
    demo = resources.files("dipdiff") / "data" / "demo"
    pages = [p.read_bytes() for p in sorted(demo.iterdir()) if p.name.endswith(".html")]
    real = sorted(p for p in CORPUS.glob("*/**/*.htm*") if p.stat().st_size < 120_000)
    step = max(1, len(real) // 10)
    return pages + [p.read_bytes() for p in real[::step][:10]]  # ten real pages across the corpus


SEEDS = _seeds()
FIGURES["seed pages for fuzzing"] = len(SEEDS)

JUNK = st.one_of(
    st.binary(min_size=1, max_size=40),
    st.sampled_from(
        [
            b"\x00",
            b"\xff\xfe",
            b"\xef\xbb\xbf",
            b"<",
            b"</div>",
            b"<p>",
            b"<!--",
            b"<script>",
            b"]]>",
            b"&#0;",
            b"&#x1b;[2J",
            b"\x1b[31m",
            b"\xe2\x80\xae",
            b"<table><tr><td>",
            b"</html>",
            b"<![CDATA[",
            b"\xc3(",
            b"&rsquo;",
            b"&nbsp;",
            b"&bogus;",
            b"<p>a</p>" * 3_000,
        ]
    ),
)


@st.composite
def damaged_page(draw) -> bytes:
    page = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(page)))
        op = draw(
            st.sampled_from(["truncate", "delete", "duplicate", "junk", "tag", "nest", "charset"])
        )
        if op == "truncate":
            page = page[:i]
        elif op == "delete":
            page = page[:i] + page[i + draw(st.integers(1, 2000)) :]
        elif op == "duplicate":
            page = page[:i] + page[i : i + draw(st.integers(1, 3000))] + page[i:]
        elif op == "junk":
            page = page[:i] + draw(JUNK) + page[i:]
        elif op == "tag":  # drop one tag: an unclosed element or a stray closing one
            start = page.find(b"<", i)
            end = page.find(b">", start)
            if start >= 0 and end > start:
                page = page[:start] + page[end + 1 :]
        elif op == "nest":
            depth = draw(st.integers(10, 6_000))  # thousands deep: the walk must not recurse
            page = page[:i] + b"<div><span>" * depth + b"deep" + page[i:]
        else:
            enc = draw(
                st.sampled_from(
                    ["cp1252", "latin-1", "utf-16-le", "utf-16-be", "koi8-r", "shift_jis"]
                )
            )
            page = page.decode("utf-8", "replace").encode(enc, "replace")
    return page


CHARSETS = st.sampled_from(
    [None, "utf-8", "iso-8859-1", "windows-1252", "utf-16", "bogus-charset", "ascii", ""]
)


def check_statement(st_) -> None:
    assert isinstance(st_.title, str) and "\n" not in st_.title and not _UNSAFE.search(st_.title)
    assert st_.paragraphs and all(isinstance(p, str) and p for p in st_.paragraphs)
    for p in st_.paragraphs:
        assert p == p.strip() and "\n" not in p and not _UNSAFE.search(p), repr(p[:80])
    assert st_.words > 0


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(damaged_page(), CHARSETS)
def test_damaged_pages_extract_or_raise_extract_error(page, charset):
    FIGURES["pages fuzzed"] += 1
    text = decode_html(page, charset)
    assert isinstance(text, str)
    try:
        statement = extract(text, "https://www.state.gov/x/")
    except ExtractError as e:
        error, statement = str(e), None
        assert "\n" not in error
    else:
        check_statement(statement)
    reason = blocked_reason(text, statement)
    assert reason is None or (isinstance(reason, str) and "\n" not in reason)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000), CHARSETS)
def test_any_bytes_decode_and_extract_or_raise_extract_error(data, charset):
    FIGURES["pages fuzzed"] += 1
    text = decode_html(data, charset)
    with contextlib.suppress(ExtractError):
        check_statement(extract(text))


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=400), st.sampled_from(SEEDS))  # lone surrogates (category Cs) included
def test_any_text_spliced_into_a_page(junk, seed):
    FIGURES["pages fuzzed"] += 1
    html = decode_html(seed)
    cut = len(html) // 2
    with contextlib.suppress(ExtractError):
        check_statement(extract(html[:cut] + junk + html[cut:]))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(st.sampled_from(SEEDS), damaged_page())
def test_pipeline_stores_a_damaged_page_verifiably_and_diffs_it(
    tmp_path_factory, original, damaged
):
    """A page, then a damaged copy of it, through the recorder: a verifiable store, and a diff of
    the two versions that renders in every format."""
    from dipdiff.analyse.diff import diff_statements
    from dipdiff.models import Outcome, Page
    from dipdiff.pipeline.record import Recorder
    from dipdiff.render.json import diff_json
    from dipdiff.render.markdown import diff_markdown
    from dipdiff.render.plain import diff_unified
    from dipdiff.store.store import Store

    FIGURES["pages fuzzed"] += 1
    store = Store(tmp_path_factory.mktemp("fuzz") / "snapshots")
    url = "https://www.state.gov/releases/fuzz/"
    outcomes = []
    with store.lock():
        for when, content in (
            ("2024-01-01T00:00:00Z", original),
            ("2024-01-02T00:00:00Z", damaged),
        ):
            page = Page(
                url=url,
                final_url=url,
                status=200,
                content=content,
                text=decode_html(content),
                fetched_at=when,
            )
            outcomes.append(Recorder(store).capture(page).outcome)
    assert all(
        o in (Outcome.NEW, Outcome.CHANGED, Outcome.UNCHANGED, Outcome.BLOCKED) for o in outcomes
    )
    assert verify(store) == []
    (sid,) = store.statement_ids()
    refs = store.versions(sid)
    assert len(refs) == sum(o in (Outcome.NEW, Outcome.CHANGED) for o in outcomes)
    if len(refs) == 2:
        a, b = store.read_version(sid, 1).statement, store.read_version(sid, 2).statement
        result = diff_statements(a, b)
        assert result.changes and 0 <= result.similarity <= 1
        json.loads(diff_json(result, 1, 2))
        diff_markdown(result)
        diff_unified(result)
        from dipdiff.analyse.compare import compare
        from dipdiff.render.json import compare_json
        from dipdiff.render.markdown import compare_markdown

        c = compare(a, b)  # the same statement before and after damage, as two agencies' texts
        json.loads(compare_json(c))
        compare_markdown(c)


def _feeds() -> list[bytes]:
    return [p.read_bytes() for p in sorted(CORPUS.glob("*rss*/**/*.rss"))[::7][:6]]


FEEDS = _feeds()
FIGURES["seed feeds for fuzzing"] = len(FEEDS)


@st.composite
def damaged_feed(draw) -> bytes:
    """A real feed, damaged, with HTML's named entities, lone surrogates' escapes and junk."""
    if not FEEDS:
        pytest.skip("real-page corpus not available (no feeds)")
    feed = draw(st.sampled_from(FEEDS))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(feed)))
        piece = draw(
            st.one_of(
                JUNK,
                st.sampled_from([b"&rsquo;", b"&nbsp;", b"&bogus;", b"&amp;rsquo;", b"&#xD800;"]),
                st.builds(lambda n: b"<div>" * n, st.integers(100, 5_000)),
            )
        )
        feed = feed[:i] + piece + feed[i:] if draw(st.booleans()) else feed[:i]
    return feed


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(damaged_feed(), st.booleans())
def test_damaged_feeds_give_items_or_raise_extract_error(feed, full_text):
    from dipdiff.scrape.discover import parse_feed

    FIGURES["pages fuzzed"] += 1
    try:
        found = parse_feed(feed, "https://www.state.gov/feed/", full_text=full_text)
    except ExtractError as e:
        error = str(e)
        found = None
    if found is None:
        assert "\n" not in error
        return
    for item in found.items:
        assert item.url.startswith(("http://", "https://")), item.url
        if item.statement is not None:
            check_statement(item.statement)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200), st.text(max_size=400))
def test_any_content_item_text_gives_a_statement_or_raises_extract_error(title, body):
    """gov.uk content items, whose JSON \\u escapes can carry lone surrogates."""
    from dipdiff.scrape.discover import parse_content_item

    FIGURES["pages fuzzed"] += 1
    doc = json.dumps({"title": title, "details": {"body": f"<p>{body}</p>"}, "base_path": "/x"})
    try:
        item = parse_content_item(doc.encode(), "https://www.gov.uk/api/content/x")
    except ExtractError:
        return
    for text in (item.statement.title, *item.statement.paragraphs):
        text.encode("utf-8")  # writable as a version
