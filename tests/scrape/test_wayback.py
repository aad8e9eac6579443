"""The Wayback Machine's formats, as the real API writes them (CDX JSON and lines, memento URLs)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dipdiff.errors import FetchError
from dipdiff.scrape.wayback import cdx_query, memento_of, memento_url, parse_cdx

HEAD = '["urlkey","timestamp","original","mimetype","statuscode","digest","length"]'
ROW = '["gov,fema)/hurricane-maria","20171003120000","https://www.fema.gov/hurricane-maria",'
ROW += '"text/html","200","7Q3KXJ4M2ZC5A6YVLEF4S3BJRUJ2LT5D","28741"]'


def test_json_page_with_a_resume_key() -> None:
    page = parse_cdx(f'[{HEAD},\n{ROW},\n[],\n["gov,fema)/hurricane-maria+20171005"]]', "q")
    assert page.resume_key == "gov,fema)/hurricane-maria+20171005"
    (c,) = page.captures
    assert (c.timestamp, c.status, c.digest) == (
        "20171003120000",
        "200",
        "7Q3KXJ4M2ZC5A6YVLEF4S3BJRUJ2LT5D",
    )
    assert c.time == datetime(2017, 10, 3, 12, tzinfo=UTC)


def test_last_json_page_and_an_empty_answer() -> None:
    assert parse_cdx(f"[{HEAD},\n{ROW}]", "q").resume_key is None
    assert parse_cdx("[]", "q").captures == ()
    assert parse_cdx("", "q").captures == ()


def test_space_separated_lines_with_a_resume_key_and_a_revisit() -> None:
    body = (
        "gov,fema)/hurricane-maria 20171003120000 https://www.fema.gov/hurricane-maria "
        "text/html 200 AAAA 100\n"
        "gov,fema)/hurricane-maria 20171004000000 https://www.fema.gov/hurricane-maria "
        "warc/revisit - AAAA 90\n"
        "\n"
        "gov%2Cfema%29%2Fhurricane-maria+20171005\n"
    )
    page = parse_cdx(body, "q")
    assert [c.status for c in page.captures] == ["200", "-"]
    assert page.resume_key == "gov%2Cfema%29%2Fhurricane-maria+20171005"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("[not json", "bad JSON"),
        ('["a", 1]', "list of rows"),
        ('[["urlkey","original"],["x","y"]]', "lacks timestamp"),
        (f'[{HEAD},["x","2017","u","t","200","d","1"]]', "not 14 digits"),
        (f'[{HEAD},["x"]]', "CDX row of 1 fields"),
        ("x 2017\n", "CDX line of 2 fields"),
    ],
)
def test_a_malformed_answer_is_one_line_naming_the_query(body: str, reason: str) -> None:
    with pytest.raises(FetchError) as e:
        parse_cdx(body, "https://archive.example/cdx/search/cdx?url=x")
    assert reason in str(e.value)
    assert str(e.value).startswith("https://archive.example/cdx/search/cdx?url=x: ")


def test_query_and_memento_addresses() -> None:
    q = cdx_query(
        "https://web.archive.org/",
        "https://www.fema.gov/hurricane-maria?a=1",
        start=datetime(2017, 10, 1, tzinfo=UTC),
        resume_key="k+1",
    )
    assert q.startswith("https://web.archive.org/cdx/search/cdx?url=https%3A%2F%2Fwww.fema.gov")
    assert "&filter=statuscode%3A200&collapse=digest&showResumeKey=true" in q
    assert "&from=20171001000000" in q and "&resumeKey=k%2B1" in q and "&to=" not in q
    (c,) = parse_cdx(f"[{HEAD},\n{ROW}]", "q").captures
    m = memento_url("https://web.archive.org", c)
    assert m == "https://web.archive.org/web/20171003120000id_/https://www.fema.gov/hurricane-maria"
    assert memento_of(m) == ("20171003120000", "https://www.fema.gov/hurricane-maria")
    assert memento_of("https://web.archive.org/web/2017/x") is None
