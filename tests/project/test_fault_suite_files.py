"""The fault suite is one list: the files README's Failure modes names are the files
benchmarks/fault_summary.py runs, so that neither a new fault test nor a new area is left out of
the figures."""

from __future__ import annotations

import re

from helpers import ROOT

FILE = re.compile(r"\b(?:tests/)?([a-z]+/test_\w+\.py)\b")


def test_readme_and_fault_summary_name_the_same_fault_test_files():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Failure modes", 1)[1].split("| fault |", 1)[0]
    named = set(FILE.findall(section))
    summary = (ROOT / "benchmarks" / "fault_summary.py").read_text(encoding="utf-8")
    run = set(FILE.findall(summary.split("AREAS", 1)[1].split("TRIED", 1)[0]))
    assert len(named) >= 15, named
    assert named == run, (sorted(named - run), sorted(run - named))
    assert all((ROOT / "tests" / f).is_file() for f in named), named
