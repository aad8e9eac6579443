"""Tables that fit: whole IDs and URLs at 80, 120 and 200 columns, and whole values when piped."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from dipdiff.render.terminal import Column, print_table

COLUMNS = [
    Column("score", whole=True, right=True),
    Column("days", whole=True, right=True),
    Column("id", whole=True),
    Column("shared", optional=True),
    Column("title"),
]
ID = "white-house/statement-from-the-press-secretary-libya"
TITLE = "Statement from the Press Secretary on the situation in Libya and the talks in Berlin"
ROWS = [["2.00", "12.0", ID, "Khalifa Haftar, Libya", TITLE]]


def shown(width: int, terminal: bool) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=terminal, no_color=True)
    print_table(console, COLUMNS, ROWS)
    return out.getvalue()


@pytest.mark.parametrize("width", [80, 120, 200])
def test_on_a_terminal_ids_stay_whole_and_the_title_wraps_at_words(width):
    text = shown(width, terminal=True)
    assert ID in text  # whole, on one line: a double-click copies it
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)  # the header's bold
    assert all(len(line) <= width for line in plain.splitlines())
    words = " ".join(text.split())
    assert "Statement" in words and "Berlin" in words  # the title is there, wrapped at words
    assert "12.0" in text and "2.00" in text  # the score and days columns are not lost
    # Too narrow for every column: the optional one goes, never the ID or the title.
    assert ("Khalifa Haftar" in text) is (width >= 120)


@pytest.mark.parametrize("width", [80, 120, 200])
def test_piped_every_value_is_whole_on_one_line_whatever_the_width(width):
    lines = shown(width, terminal=False).splitlines()
    assert lines[0].split() == ["score", "days", "id", "shared", "title"]
    assert TITLE in lines[1] and ID in lines[1] and "Khalifa Haftar, Libya" in lines[1]
    assert len(lines) == 2
    assert lines[1] == lines[1].rstrip()
