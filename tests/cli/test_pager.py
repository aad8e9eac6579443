"""Long output through a pager on a terminal, as git does; never when piped, never --no-pager.

`dipdiff` runs on a pseudo-terminal (24 rows; 80, 120 and 200 columns) with the pager set to a
shell command that saves what it is given, so that the test sees what the reader would page
through. One mechanism serves diff, compare, show and log; compare's own test is in
test_compare_output.py.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from helpers import BIN, run_in_terminal

PARAGRAPHS = 60


def _texts(tmp_path):
    """Two editions of a long statement: every paragraph edited, so the redline is long."""
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(
        "# Long statement\n\n"
        + "\n\n".join(f"Paragraph {n}: we urge an immediate halt." for n in range(PARAGRAPHS)),
        encoding="utf-8",
    )
    b.write_text(
        "# Long statement\n\n"
        + "\n\n".join(f"Paragraph {n}: we call for a halt." for n in range(PARAGRAPHS)),
        encoding="utf-8",
    )
    return str(a), str(b)


def _store(tmp_path):
    return ["--store", str(tmp_path / "snapshots")]


@pytest.mark.parametrize("columns", [80, 120, 200])
def test_a_long_diff_goes_through_the_pager_whole(tmp_path, columns):
    a, b = _texts(tmp_path)
    saved = tmp_path / "paged.txt"
    shown = run_in_terminal(
        [*_store(tmp_path), "diff", a, b],
        {"PAGER": f"cat > {saved}", "COLUMNS": str(columns)},
    )
    assert saved.exists(), shown
    paged = saved.read_text(encoding="utf-8")
    assert f"Paragraph {PARAGRAPHS - 1}: we [-urge an immediate-]{{+call for a+}} halt." in paged
    assert "Paragraph 0:" in paged  # from the first line
    assert "Paragraph" not in shown  # nothing of it printed around the pager


def test_never_with_no_pager_never_when_piped(tmp_path):
    a, b = _texts(tmp_path)
    saved = tmp_path / "paged.txt"
    pager = {"PAGER": f"cat > {saved}"}
    shown = run_in_terminal([*_store(tmp_path), "diff", a, b, "--no-pager"], pager)
    assert not saved.exists()
    assert f"Paragraph {PARAGRAPHS - 1}:" in shown
    for fmt in ("term", "md", "unified", "json"):
        piped = subprocess.run(
            [str(BIN / "dipdiff"), *_store(tmp_path), "diff", a, b, "-f", fmt],
            capture_output=True,
            text=True,
            env={**os.environ, **pager},
            check=False,
        )
        assert piped.returncode == 1, piped.stderr
        assert not saved.exists(), fmt
        if fmt == "json":
            assert json.loads(piped.stdout)["summary"], piped.stdout  # whole: it parses
        else:
            assert f"Paragraph {PARAGRAPHS - 1}" in piped.stdout, fmt


def test_every_format_is_paged_on_a_terminal(tmp_path):
    a, b = _texts(tmp_path)
    for fmt, marker in (
        ("md", "<del>urge an immediate</del>"),
        ("unified", "-Paragraph 0"),
        ("json", '"changes"'),
    ):
        saved = tmp_path / f"paged-{fmt}.txt"
        shown = run_in_terminal(
            [*_store(tmp_path), "diff", a, b, "-f", fmt], {"PAGER": f"cat > {saved}"}
        )
        assert saved.exists(), (fmt, shown)
        assert marker in saved.read_text(encoding="utf-8"), fmt


def test_dipdiff_pager_wins_over_pager_and_cat_or_empty_means_none(tmp_path):
    a, b = _texts(tmp_path)
    mine, theirs = tmp_path / "dipdiff-pager.txt", tmp_path / "pager.txt"
    run_in_terminal(
        [*_store(tmp_path), "diff", a, b],
        {"DIPDIFF_PAGER": f"cat > {mine}", "PAGER": f"cat > {theirs}"},
    )
    assert mine.exists() and not theirs.exists()
    for none in ({"DIPDIFF_PAGER": "", "PAGER": f"cat > {theirs}"}, {"PAGER": "cat"}):
        shown = run_in_terminal([*_store(tmp_path), "diff", a, b], none)
        assert not theirs.exists()
        assert f"Paragraph {PARAGRAPHS - 1}:" in shown, none


def test_a_pager_that_is_not_installed_loses_nothing(tmp_path):
    a, b = _texts(tmp_path)
    shown = run_in_terminal(
        [*_store(tmp_path), "diff", a, b], {"PAGER": "no-such-pager-anywhere --flag"}
    )
    assert "Paragraph 0:" in shown and f"Paragraph {PARAGRAPHS - 1}:" in shown


def test_short_output_is_printed_not_paged(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("# Short\n\nWe urge a halt.", encoding="utf-8")
    b.write_text("# Short\n\nWe call for a halt.", encoding="utf-8")
    saved = tmp_path / "paged.txt"
    shown = run_in_terminal(
        [*_store(tmp_path), "diff", str(a), str(b)], {"PAGER": f"cat > {saved}"}
    )
    assert not saved.exists() and "{+call for+}" in shown


def test_show_and_log_of_a_long_statement_are_paged(cli, tmp_path):
    a, _ = _texts(tmp_path)
    html = tmp_path / "long.html"
    paragraphs = Path(a).read_text(encoding="utf-8").split("\n\n")[1:]
    html.write_text(
        "<html><body><h1>Long statement</h1>"
        + "".join(f"<p>{p} The parties must return to the table now.</p>" for p in paragraphs)
        + "</body></html>",
        encoding="utf-8",
    )
    r = cli("import", str(html), "--url", "https://example.org/long-statement/", "--source", "s")
    assert r.exit_code == 1, r.output
    saved = tmp_path / "paged.txt"
    shown = run_in_terminal([*_store(tmp_path), "show", "s/long"], {"PAGER": f"cat > {saved}"})
    assert f"Paragraph {PARAGRAPHS - 1}:" in saved.read_text(encoding="utf-8"), shown
    saved.unlink()
    shown = run_in_terminal(
        [*_store(tmp_path), "show", "s/long", "--no-pager"], {"PAGER": f"cat > {saved}"}
    )
    assert not saved.exists() and f"Paragraph {PARAGRAPHS - 1}:" in shown
