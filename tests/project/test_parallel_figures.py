"""The fault suite's figures are the whole run's however pytest spreads its tests over xdist
workers: each worker hands what it counted to the controller, which sums them (conftest.py), prints
the figures line and writes the JSON that benchmarks/fault_summary.py reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from faultkit import figures_line
from helpers import ROOT

# A fault test file whose every test counts a scenario, and which takes seconds.
FILE = "tests/render/test_markdown_escape.py"


def run(workers: str, out: Path) -> tuple[dict[str, int], str]:
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", workers, FILE],
        capture_output=True, text=True, cwd=ROOT, check=False,
        env={**os.environ, "DIPDIFF_FAULT_FIGURES": str(out)},
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(out.read_text(encoding="utf-8")), r.stdout


def test_the_figures_of_a_run_on_two_workers_are_those_of_one_process(tmp_path):
    alone, _ = run("0", tmp_path / "alone.json")
    shared, printed = run("2", tmp_path / "shared.json")
    assert alone["fault scenarios"] > 0, alone
    assert shared == alone
    assert figures_line(Counter(shared)) in printed.splitlines(), printed
