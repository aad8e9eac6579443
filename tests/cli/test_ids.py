"""Statement IDs as people type them: a unique beginning is enough, a typo gets suggestions.

A store of four statements imported from saved pages; every command that takes an ID (show,
log, diff, compare, related) resolves it the same way, and every failure is one line, exit 2.
"""

from __future__ import annotations

import json

import pytest

LIBYA = "state-dept/the-situation-in-libya"
SUDAN = "state-dept/the-situation-in-sudan"
SALAME = "state-dept/call-with-special-representative-salame"
HAFTAR = "white-house/statement-on-libya"


def _page(title: str, text: str) -> str:
    # Enough words that the extractor takes it for a statement, not for a block page.
    filler = (
        "The United States remains committed to a political solution reached by the parties "
        "themselves, with the support of their neighbours and of the United Nations."
    )
    body = "".join(f"<p>{p}</p>" for p in (text, filler, filler.replace("United", "Allied")))
    return f"<html><head><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>"


@pytest.fixture
def store(cli, demo_files, tmp_path):
    sudan = tmp_path / "sudan.html"
    sudan.write_text(
        _page("The Situation in Sudan", "We call on the Sudanese Armed Forces to stop fighting."),
        encoding="utf-8",
    )
    salame = tmp_path / "salame.html"
    salame.write_text(
        _page("Call with Special Representative Salamé", "The Secretary spoke with Salamé."),
        encoding="utf-8",
    )
    imports = [
        (
            demo_files["state-libya.day1"],
            "https://www.state.gov/the-situation-in-libya/",
            "state-dept",
        ),
        (
            demo_files["state-libya.day2"],
            "https://www.state.gov/the-situation-in-libya/",
            "state-dept",
        ),
        (sudan, "https://www.state.gov/the-situation-in-sudan/", "state-dept"),
        (salame, "https://www.state.gov/call-with-special-representative-salame/", "state-dept"),
        (
            demo_files["whitehouse-haftar.day1"],
            "https://www.whitehouse.gov/statement-on-libya/",
            "white-house",
        ),
    ]
    for n, (path, url, source) in enumerate(imports):
        r = cli(
            "import", str(path), "--url", url, "--source", source,
            "--fetched-at", f"2019-04-{20 + n}T09:00:00Z",
        )  # fmt: skip
        assert r.exit_code == 1, r.output
    r = cli("list", "--json")
    assert sorted(row["id"] for row in json.loads(r.output)) == sorted(
        [LIBYA, SUDAN, SALAME, HAFTAR]
    ), r.output
    return cli


@pytest.mark.parametrize(
    "args",
    [
        ("show", "state-dept/the-situation-in-l"),
        ("show", "state-dept/the-situation-in-l@1"),
        ("log", "state-dept/the-situation-in-l"),
        ("diff", "state-dept/the-situation-in-l"),
        ("diff", "state-dept/the-situation-in-l@1", "white-house/st"),
        ("compare", "state-dept/the-situation-in-l", "white"),
        ("related", "state-dept/the-situation-in-l"),
    ],
)
def test_a_unique_beginning_of_an_id_names_the_statement(store, args):
    whole = tuple(a.replace("state-dept/the-situation-in-l", LIBYA) for a in args)
    whole = tuple(HAFTAR if a in ("white-house/st", "white") else a for a in whole)
    short, full = store(*args), store(*whole)
    assert short.exit_code == full.exit_code, (short.output, full.output)
    assert short.exit_code in (0, 1), short.output
    assert short.output == full.output


@pytest.mark.parametrize("command", ["show", "log", "diff", "related"])
def test_an_ambiguous_beginning_is_one_line_listing_the_candidates(store, command):
    r = store(command, "state-dept/the-situation-in")
    assert r.exit_code == 2, r.output
    assert r.stderr == (
        "dipdiff: error: 'state-dept/the-situation-in' is the beginning of several statements: "
        f"{LIBYA}, {SUDAN}; type more of the ID\n"
    )
    assert r.stdout == ""


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("state-dept/the-situation-in-lybia", LIBYA),  # a typo
        ("white-house/the-situation-in-libya", LIBYA),  # the wrong source
        ("the-situation-in-su", SUDAN),  # the slug without its source
        ("state-dept/call-with-salame", SALAME),
    ],
)
def test_an_unknown_id_suggests_the_closest_ones(store, typed, suggested):
    for command in ("show", "log", "related"):
        r = store(command, typed)
        assert r.exit_code == 2, r.output
        (line,) = r.stderr.splitlines()
        assert line.startswith(f"dipdiff: error: no statement {typed!r} in "), line
        assert "did you mean " in line and suggested in line.split("did you mean ")[1], line


def test_nothing_close_is_said_plainly_and_a_bad_id_is_named(store):
    r = store("show", "nothing/like-this-at-all")
    assert r.exit_code == 2
    assert r.stderr.startswith("dipdiff: error: no statement 'nothing/like-this-at-all' in ")
    assert "did you mean" not in r.stderr
    r = store("log", "State Dept!")
    assert r.exit_code == 2
    assert "not a statement ID: 'State Dept!'" in r.stderr


def test_an_id_that_is_whole_is_never_taken_for_the_beginning_of_a_longer_one(cli, tmp_path):
    # "…/libya" is also the beginning of "…/libya-2": typed whole, it is that statement.
    for slug in ("libya", "libya-2"):
        page = tmp_path / f"{slug}.html"
        page.write_text(_page(f"On {slug}", f"Text about {slug}."), encoding="utf-8")
        r = cli("import", str(page), "--url", f"https://example.org/{slug}/", "--source", "s")
        assert r.exit_code == 1, r.output
    r = cli("show", "s/libya")
    assert r.exit_code == 0, r.output
    assert "Text about libya." in r.output and "libya-2" not in r.output
