"""Benchmark: what the commands that do not fetch cost a user, start-up included (issue #14).

    python benchmarks/bench_cli.py [--rounds 7] [--words 50000]

Runs every command as a subprocess, in interleaved rounds (one run of each per round, so that a
busy machine slows them all alike), and prints the median wall time and CPU time (user + system,
of the child) of each:

- the floors: ``python -c pass``, ``python -c "import dipdiff"``, and what a tiny ``diff`` really
  needs on top of that (typer and the diff engine, imported in one interpreter);
- ``dipdiff diff`` of two tiny files, and of a 50,000-word statement against its rewrite (30% of
  paragraphs rewritten or moved, ``bench_diff.py``'s generator) in ``--format json``, ``term`` and
  ``md``; git's word diff of the same two pairs;
- ``dipdiff list`` and ``dipdiff --help``.

It then checks the targets of issue 14: a tiny diff under 0.3 s; the long diff's CPU beyond
start-up (long minus tiny) within 10x of git's word diff's (long minus tiny, the same run); a
tiny diff within 2x of its floor. The load average is printed with the figures: on a shared
machine they are only comparable within one run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _child import measured  # benchmarks/ is on sys.path
from bench_diff import document, rewritten

GIT = ["git", "diff", "--no-index", "--no-color", "--word-diff=porcelain"]


def baseline_source(rev: str, into: Path) -> Path:
    """The package of ``rev`` (default: main), extracted with ``git archive``."""
    root = Path(__file__).resolve().parent.parent
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", rev, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def entry(*paths: Path) -> list[str]:
    """``dipdiff`` as the console script runs it, with ``paths`` first on ``sys.path``."""
    first = [str(p) for p in paths]
    code = f"import sys; sys.path[:0] = {first!r}; from dipdiff.cli import main; main()"
    return [sys.executable, "-c", code]


def commands(
    folder: Path, src: Path, baseline: Path | None, libraries: Path | None
) -> dict[str, list[str]]:
    dd = entry(src)
    tiny = [str(folder / "tiny-a.txt"), str(folder / "tiny-b.txt")]
    long = [str(folder / "long-a.txt"), str(folder / "long-b.txt")]
    py = sys.executable
    cmds = {
        "python -c pass": [py, "-c", "pass"],
        "import dipdiff": [py, "-c", "import dipdiff"],
        "floor of a tiny diff": [py, "-c", "import typer, dipdiff.analyse.diff"],
        "diff tiny": [*dd, "diff", *tiny],
        "diff long --format json": [*dd, "diff", *long, "--format", "json"],
        "diff long (term)": [*dd, "diff", *long, "--no-pager"],
        "diff long --format md": [*dd, "diff", *long, "--format", "md"],
        "git word-diff tiny": [*GIT, *tiny],
        "git word-diff long": [*GIT, *long],
        "list (empty store)": [*dd, "--store", str(folder / "snapshots"), "list"],
        "--help": [*dd, "--help"],
    }
    if baseline is None:
        return cmds
    old = entry(baseline, *([libraries] if libraries else []))
    return cmds | {
        "baseline: diff tiny": [*old, "diff", *tiny],
        "baseline: diff long json": [*old, "diff", *long, "--format", "json"],
        "baseline: list": [*old, "--store", str(folder / "snapshots"), "list"],
    }


def write_inputs(folder: Path, words: int) -> None:
    (folder / "tiny-a.txt").write_text("The United States is deeply concerned.\n")
    (folder / "tiny-b.txt").write_text("The United States is concerned.\n")
    rng = random.Random(words)
    a = document(rng, words)
    b = rewritten(rng, a)
    (folder / "long-a.txt").write_text("\n\n".join(a) + "\n")
    (folder / "long-b.txt").write_text("\n\n".join(b) + "\n")
    (folder / "snapshots").mkdir()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--words", type=int, default=50_000)
    ap.add_argument(
        "--baseline", metavar="REV", help="also run diff and list with the code of REV (e.g. main)"
    )
    ap.add_argument(
        "--baseline-libraries",
        metavar="DIR",
        type=Path,
        help="libraries the baseline runs with, first on its path (pip install --target DIR "
        "--no-deps typer==0.29.2: main before typer was held below 0.29)",
    )
    ns = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {"NO_COLOR": "1", "COLUMNS": "100"}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_inputs(folder, ns.words)
        src = Path(__file__).resolve().parent.parent / "src"
        old = None
        if ns.baseline:
            (folder / "baseline").mkdir()
            old = baseline_source(ns.baseline, folder / "baseline")
        cmds = commands(folder, src, old, ns.baseline_libraries)
        # A language-model cache of the run's own (dipdiff/langmodel.py), never the user's: built
        # by the warm-up below, as a user's first command after an install builds it.
        env["DIPDIFF_CACHE"] = str(folder / "cache")
        for cmd in cmds.values():  # warm: byte code written, pages cached, the model's cache built
            measured(cmd, folder, env)
        walls: dict[str, list[float]] = {name: [] for name in cmds}
        cpus: dict[str, list[float]] = {name: [] for name in cmds}
        loads = []
        for _ in range(ns.rounds):
            loads.append(os.getloadavg()[0])
            for name, cmd in cmds.items():
                got = measured(cmd, folder, env)
                wall, cpu = got.seconds, got.cpu
                walls[name].append(wall)
                cpus[name].append(cpu)
    wall = {k: statistics.median(v) for k, v in walls.items()}
    cpu = {k: statistics.median(v) for k, v in cpus.items()}
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPU(s), load average "
        f"{min(loads):.1f}-{max(loads):.1f} during the {ns.rounds} rounds (medians)\n"
    )
    print(f"{'command':<28}{'wall':>9}{'CPU':>9}{'wall / import dipdiff':>23}")
    for name in cmds:
        print(
            f"{name:<28}{wall[name] * 1000:>7.0f}ms{cpu[name] * 1000:>7.0f}ms"
            f"{wall[name] / wall['import dipdiff']:>22.2f}x"
        )
    ok = True

    def check(label: str, passed: bool) -> None:
        nonlocal ok
        ok &= passed
        print(f"{'PASS' if passed else 'FAIL'}  {label}")

    print()
    tiny = wall["diff tiny"]
    check(f"a tiny diff in {tiny * 1000:.0f} ms < 300 ms", tiny < 0.3)
    floor = wall["floor of a tiny diff"]
    check(
        f"a tiny diff within 2x of its floor (typer and the engine imported): "
        f"{tiny * 1000:.0f} / {floor * 1000:.0f} ms = {tiny / floor:.2f}x",
        tiny <= 2 * floor,
    )
    ours = cpu["diff long --format json"] - cpu["diff tiny"]
    git = max(cpu["git word-diff long"] - cpu["git word-diff tiny"], 1e-3)
    check(
        f"{ns.words:,} words, --format json, CPU beyond start-up: dipdiff {ours * 1000:.0f} ms, "
        f"git word-diff {git * 1000:.0f} ms ({ours / git:.1f}x; target <= 10x)",
        ours <= 10 * git,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
