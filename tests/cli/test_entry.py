"""`dipdiff --version` and `import dipdiff` import nothing heavy.

Timed in benchmarks/bench_version.py.
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("typer", "rich", "httpx", "bs4", "lxml", "dipdiff.cli.app")
LOADED = f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"


def test_version_imports_nothing_heavy():
    code = (
        "import sys; sys.argv = ['dipdiff', '--version']; from dipdiff.cli import main; main(); "
        f"{LOADED}"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    version, heavy = out.strip().splitlines()
    assert version.startswith("dipdiff ")
    assert heavy == "[]"


def test_import_dipdiff_imports_nothing_heavy():
    """The library's names load on first use: a script pays for what it uses."""
    out = subprocess.run(
        [sys.executable, "-c", f"import sys, dipdiff; {LOADED}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "[]"


def test_other_arguments_reach_the_cli():
    out = subprocess.run(
        [sys.executable, "-m", "dipdiff", "--help"], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0 and "fetch" in out.stdout
