"""Benchmark: start-up time of `import dipdiff` and `dipdiff --version` (target: under 50 ms).

Measured hyperfine-style.

    python benchmarks/bench_version.py [--runs 30]

Runs each command repeatedly as a subprocess and prints min/median/mean and the ratio of the
median to that of a bare `python -c pass` (the interpreter's own start-up), measured in the
same run: `import dipdiff` (the library, whose names load on first use), `dipdiff --version`
(the installed console script; it answers before typer, rich and httpx are imported) and
`dipdiff --help` (which imports the whole CLI). Exits 1 when `--version` misses the target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TARGET_MS = 50.0


def timings(cmd: list[str], runs: int, env: dict[str, str]) -> list[float]:
    subprocess.run(
        cmd, capture_output=True, check=True, env=env
    )  # warm the page cache, write .pyc files
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True, env=env)
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    # Measure what an installed copy costs: with byte-code caching, as pip installs it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if "PYTHONDONTWRITEBYTECODE" in os.environ:
        print(
            "(PYTHONDONTWRITEBYTECODE is set here; unset for the measured commands, as on an "
            "installed copy)"
        )
    rows = {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import dipdiff"': [sys.executable, "-c", "import dipdiff"],
        "dipdiff --version": [str(BIN / "dipdiff"), "--version"],
        "dipdiff --help": [str(BIN / "dipdiff"), "--help"],
    }
    print(f"{'command':<28}{'min':>8}{'median':>8}{'mean':>8}{'ratio':>8}   ({args.runs} runs, ms)")
    medians = {}
    for name, cmd in rows.items():
        t = timings(cmd, args.runs, env)
        medians[name] = statistics.median(t)
        ratio = medians[name] / medians["python -c pass"]
        print(
            f"{name:<28}{min(t):>8.1f}{medians[name]:>8.1f}{statistics.mean(t):>8.1f}{ratio:>7.2f}x"
        )
    v = medians["dipdiff --version"]
    ok = v < TARGET_MS
    print(
        f"\n{'PASS' if ok else 'FAIL'}  dipdiff --version median {v:.1f} ms < {TARGET_MS:.0f} ms "
        f"({v - medians['python -c pass']:.1f} ms above the bare interpreter)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
