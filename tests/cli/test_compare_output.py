"""compare on long texts, as a user reads it: stances first, the rest folded, long output paged.

The two Libya human-rights reports (2023, 2024) name about a hundred actors; on the terminal the
actors with a stance come first, the others fold into one line, quoted evidence is capped, and
output taller than the screen goes through ``$PAGER`` when stdout is a terminal (as git does),
never when piped, never with ``--no-pager``.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from dipdiff.cli.pager import screen_lines
from dipdiff.render.terminal import MAX_EVIDENCE
from helpers import BIN, corpus_file, run_in_terminal

pytestmark = pytest.mark.corpus

REPORTS = "state-gov-human-rights-reports/{}/libya.html"


def _reports() -> tuple[str, str]:
    return str(corpus_file(REPORTS.format(2023))), str(corpus_file(REPORTS.format(2024)))


def _actor_section(output: str) -> list[str]:
    lines = output.splitlines()
    start = lines.index("Actors and stances") + 1
    end = lines.index("", start)
    return lines[start:end]


@pytest.mark.parametrize("width", [80, 120, 200])
def test_long_reports_show_stances_first_and_fold_the_rest(cli, width):
    a, b = _reports()
    r = cli("compare", a, b, env={"COLUMNS": str(width)})
    assert r.exit_code in (0, 1), r.output
    section = _actor_section(r.output)
    rows = [line for line in section if not line.startswith("            ")]
    folded = [line for line in rows if line.strip().startswith(("no stance:", "speaker:"))]
    judged = [line for line in rows if line not in folded]
    assert folded and judged, section
    # Every row shown has a stance; the neutral and absent ones are on the folded line.
    for line in judged:
        assert "supportive" in line or "critical" in line or "DIVERGENT" in line, line
    assert "Khalifa Haftar" in folded[0], folded
    assert ", and " in folded[0] and " more" in folded[0], folded  # capped: json lists them all
    # The whole actor section fits on a screen, whatever the width.
    assert screen_lines("\n".join(section), width) <= 24, (width, section)
    # Not a line of the section is lost at a narrow width: only wrapped.
    assert screen_lines(r.output, width) >= len(r.output.splitlines())


def test_evidence_is_capped_per_actor_and_side(cli, demo_files, tmp_path):
    many = tmp_path / "many.txt"
    many.write_text(
        "The Situation in Libya\n\n"
        + "\n\n".join(
            f"We condemn the offensive by Khalifa Haftar on district {n} of Tripoli."
            for n in range(6)
        ),
        encoding="utf-8",
    )
    r = cli("compare", str(many), str(demo_files["whitehouse-haftar.day1"]))
    assert r.exit_code == 1, r.output
    section = _actor_section(r.output)
    quoted_a = [line for line in section if line.startswith("            A: “")]
    assert len(quoted_a) == MAX_EVIDENCE, section
    assert "            A: … 4 more (--format md quotes them all)" in section, section
    md = cli("compare", str(many), str(demo_files["whitehouse-haftar.day1"]), "-f", "md")
    assert md.output.count("> — A") == 6, md.output


def test_long_output_is_paged_on_a_terminal_never_piped_never_with_no_pager(tmp_path):
    a, b = _reports()
    paged = tmp_path / "paged.txt"
    pager = {"PAGER": f"cat > {paged}"}
    store = ["--store", str(tmp_path / "snapshots")]

    shown = run_in_terminal([*store, "compare", a, b], pager)
    assert paged.exists(), shown
    text = paged.read_text(encoding="utf-8")
    assert "Actors and stances" in text and "Only in B" in text
    assert "Actors and stances" not in shown  # all of it went through the pager

    paged.unlink()
    shown = run_in_terminal([*store, "compare", a, b, "--no-pager"], pager)
    assert not paged.exists() and "Actors and stances" in shown

    piped = subprocess.run(
        [str(BIN / "dipdiff"), *store, "compare", a, b],
        capture_output=True,
        text=True,
        env={**os.environ, **pager},
        check=False,
    )
    assert not paged.exists() and "Actors and stances" in piped.stdout, piped.stderr


def test_short_output_is_not_paged_on_a_terminal(tmp_path, demo_files):
    paged = tmp_path / "paged.txt"
    shown = run_in_terminal(
        [
            "--store",
            str(tmp_path / "snapshots"),
            "compare",
            str(demo_files["state-libya.day1"]),
            str(demo_files["state-libya.day2"]),
        ],
        {"PAGER": f"cat > {paged}"},
        rows=200,
    )
    assert not paged.exists() and "Actors and stances" in shown, shown
