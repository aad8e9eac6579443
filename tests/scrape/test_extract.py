"""Extraction on real saved government pages and on hand-made edge cases."""

from __future__ import annotations

import re

import pytest

from dipdiff.errors import ExtractError
from dipdiff.scrape.extract import blocked_reason, decode_html, extract, parse_date, repair_mojibake


def _extract(corpus, rel, url="https://www.example.gov/x"):
    return extract(decode_html(corpus(rel).read_bytes()), url)


def test_obama_whitehouse_statement(corpus):
    st = _extract(
        corpus,
        "obama-whitehouse-press-office-2009-2016/briefs/the-press-office-2013-09-21-statement-nsc-spokesperson-caitlin-hayden-attack-nairobi.html",
    )
    assert st.title == "Statement by NSC Spokesperson Caitlin Hayden on the Attack in Nairobi"
    assert st.published.startswith("2013-09-21")
    assert st.agency == "The White House"
    assert st.paragraphs[0].startswith("The United States condemns in the strongest terms")
    assert not any("For Immediate Release" in p for p in st.paragraphs)


def test_state_report_page_skips_site_chrome(corpus):
    st = _extract(
        corpus,
        "state-gov-human-rights-reports/2023/libya.html",
        "https://www.state.gov/reports/2023/libya/",
    )
    assert st.title == "2023 Country Reports on Human Rights Practices: Libya"
    assert st.agency == "United States Department of State"
    assert st.words > 5000
    assert not any("Secure .gov websites" in p for p in st.paragraphs)


def test_mojibake_is_repaired(corpus):
    st = _extract(
        corpus, "edgi-web-monitoring-diff/versions/fc74d750-c651-46b7-bf74-434ad8c62e04.html"
    )
    text = st.body
    assert "Ã±" not in text and "â€" not in text
    # The C1 characters of "â\x80\x9c" must survive until the repair, which makes them quotes.
    assert "“roaming” charges" in text and "don’t" in text
    assert not re.search("[âÃÂ][\\s\u0080-\u00bf]", text)
    assert repair_mojibake("EspaÃ±ol") == "Español"
    assert repair_mojibake("Español") == "Español"


def test_paragraphs_follow_blocks_not_inline_markup():
    html = (
        "<html><head><title>T | whitehouse.gov</title></head><body><nav><p>Menu</p></nav><article>"
        "<h1>T</h1><p>One <b>bold</b> <a href='#'>link</a>.</p><div>Two<br>Three</div>"
        "<ul><li>Four</li></ul><script>var x = 1;</script><p>###</p></article></body></html>"
    )
    st = extract(html, "https://x.gov/t")
    assert st.title == "T"
    assert st.paragraphs == ("One bold link.", "Two", "Three", "Four")


def test_no_text_is_an_error():
    with pytest.raises(ExtractError, match="no statement text"):
        extract("<html><body><nav>menu</nav></body></html>", "https://x.gov/empty")


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("September 21, 2013", "2013-09-21"),
        ("Sept. 21, 2013", "2013-09-21"),
        ("21 September 2013", "2013-09-21"),
        ("2025-06-04T17:50:00-04:00", "2025-06-04T17:50:00-04:00"),
        ("Thu, 24 Feb 2022 19:26:45 +0000", "2022-02-24T19:26:45+00:00"),
        ("no date here", None),
    ],
)
def test_parse_date(raw, iso):
    assert parse_date(raw) == iso


def test_decode_declared_utf8_that_is_windows_1252():
    assert (
        decode_html("<p>Caf\u00e9 \u201cquoted\u201d</p>".encode("cp1252"), "utf-8")
        == "<p>Caf\u00e9 \u201cquoted\u201d</p>"
    )
    assert decode_html(b"\xef\xbb\xbf<p>x</p>") == "<p>x</p>"


def test_blocked_pages():
    assert blocked_reason("<title>Just a moment...</title>", None)
    st = extract(
        "<html><body><article><p>Too short.</p></article></body></html>", "https://x.gov/s"
    )
    assert "only 2 words" in blocked_reason("<title>ok</title>", st)
