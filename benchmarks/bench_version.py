"""Benchmark: `dipdiff --version` start-up time (target: under 150 ms), hyperfine-style.

    python benchmarks/bench_version.py [--runs 30]

Runs the installed console script repeatedly and prints min/median/mean, next to a
bare `python -c pass` (the interpreter's own start-up) and `dipdiff --help` (which
imports the whole CLI), measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def timings(cmd: list[str], runs: int) -> list[float]:
    subprocess.run(cmd, capture_output=True, check=True)  # warm the page cache
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    rows = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "dipdiff --version": [str(BIN / "dipdiff"), "--version"],
        "dipdiff --help": [str(BIN / "dipdiff"), "--help"],
    }
    print(f"{'command':<20}{'min':>9}{'median':>9}{'mean':>9}   ({args.runs} runs, ms)")
    results = {}
    for name, cmd in rows.items():
        t = timings(cmd, args.runs)
        results[name] = statistics.median(t)
        print(f"{name:<20}{min(t):>9.1f}{statistics.median(t):>9.1f}{statistics.mean(t):>9.1f}")
    v = results["dipdiff --version"]
    print(f"\ndipdiff --version median {v:.1f} ms (target < 150 ms): {'ok' if v < 150 else 'TOO SLOW'}")


if __name__ == "__main__":
    main()
