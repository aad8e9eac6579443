"""`dipdiff --version` answers without importing the heavy modules (timed in benchmarks/)."""

from __future__ import annotations

import subprocess
import sys


def test_version_imports_nothing_heavy():
    code = ("import sys; sys.argv = ['dipdiff', '--version']; from dipdiff.cli import main; main(); "
            "print(sorted(m for m in ('typer', 'rich', 'httpx', 'bs4', 'lxml', 'dipdiff.cli.app') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    version, heavy = out.strip().splitlines()
    assert version.startswith("dipdiff ")
    assert heavy == "[]"


def test_other_arguments_reach_the_cli():
    out = subprocess.run([sys.executable, "-m", "dipdiff", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "fetch" in out.stdout
