"""Extraction on real saved government pages and on hand-made edge cases."""

from __future__ import annotations

import json
import re
import tomllib

import pytest

from dipdiff.errors import ExtractError
from dipdiff.scrape.charset import decode_html
from dipdiff.scrape.extract import blocked_reason, extract, parse_date, repair_mojibake
from helpers import CASES


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


# --- pages no preset knows: EDGI's labelled pairs are the judge --------------------------------

_ARCHIVES = "edgi-web-monitoring-processing/archives-2017/"
PAIRS = tomllib.loads((CASES / "extract" / "pairs.toml").read_text(encoding="utf-8"))["pair"]


@pytest.mark.corpus
@pytest.mark.parametrize("pair", PAIRS, ids=[p["name"] for p in PAIRS])
def test_labelled_pairs_have_a_substantive_change_exactly_when_analysts_care(cli, corpus, pair):
    r = cli("diff", str(corpus(pair["a"])), str(corpus(pair["b"])), "--format", "json")
    assert r.exit_code in (0, 1), r.output
    doc = json.loads(r.output)
    assert (doc["summary"]["substantive"] > 0) is pair["substantive"], f"{pair['why']}\n{r.output}"
    # Repeated link labels ("View Article" under every news item) are no change of their own.
    assert not any(c["old"] == "View Article" or c["new"] == "View Article" for c in doc["changes"])


@pytest.mark.corpus
def test_a_dataset_link_removed_from_a_highlights_page_is_the_change(cli, corpus):
    a = corpus(f"{_ARCHIVES}truepos-dataset-removal-a.html")
    b = corpus(f"{_ARCHIVES}truepos-dataset-removal-b.html")
    r = cli("diff", str(a), str(b), "--format", "json")
    assert r.exit_code == 1, r.output
    (change,) = json.loads(r.output)["changes"]
    assert change["kind"] == "delete" and change["significance"] == "substantive"
    assert "View this Dataset" in change["old"]
    assert "noaa-national-weather-service-national-mosaic" in change["old"]
    # The whole highlights page is the body, not its first highlight.
    assert _extract(corpus, f"{_ARCHIVES}truepos-dataset-removal-a.html").words > 5000


@pytest.mark.corpus
def test_rotating_photo_teasers_beside_the_text_are_not_the_body(corpus):
    for side in "ab":
        st = _extract(corpus, f"{_ARCHIVES}falsepos-footer-{side}.html")
        assert not any("Gerber Dam" in p or "Spring is coming" in p for p in st.paragraphs)
        assert any("Department of the Interior" in p for p in st.paragraphs), st.paragraphs


def test_repeated_link_labels_go_unless_they_are_the_only_link_to_their_target():
    html = """<html><body><main>
    <h2><a href="/news/one">Ministers agree on a new water-sharing accord for the basin</a></h2>
    <p>The accord sets quotas for the dry season and a joint commission to watch them.</p>
    <a href="/news/one">Read more</a>
    <h2><a href="/news/two">Talks on the border crossing resume in the capital next week</a></h2>
    <p>Delegations from both countries will meet for three days of technical talks.</p>
    <a href="https://www.example.gov/news/two">Read more</a>
    <p>Rainfall records for the basin since 1950. <a href="/data/rain">View this Dataset</a></p>
    <p>River gauge readings, updated hourly. <a href="/data/gauges">View this Dataset</a></p>
    </main></body></html>"""
    st = extract(html, "https://www.example.gov/")
    assert not any("Read more" in p for p in st.paragraphs), st.paragraphs
    assert (
        "Rainfall records for the basin since 1950. View this Dataset (/data/rain)" in st.paragraphs
    )
    assert "River gauge readings, updated hourly. View this Dataset (/data/gauges)" in st.paragraphs
    # A site rule's body is the site's own text: nothing is rewritten there.
    ruled = extract(
        html.replace("<main>", '<div class="entry-content">'), "https://www.example.gov/"
    )
    assert any(p == "Read more" for p in ruled.paragraphs), ruled.paragraphs
