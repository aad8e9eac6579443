"""What the fault suite tries, at a larger scale than the tests: SIGKILL campaigns against real
dipdiff processes, and the fault test files themselves, one area of issue #13 at a time (faults
tried, runs that went on past them, versions lost). Prints the figures; every campaign and every
area must end with no version lost.

    python benchmarks/fault_summary.py            # the larger kill campaigns
    python benchmarks/fault_summary.py --quick    # smaller ones (9 minutes on the shared machine)

Baseline for the recovery cost: a clean run of the same day, measured in the same campaign.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from dipdiff.pipeline.server import LocalServer  # noqa: E402
from faultkit import (  # noqa: E402
    FIGURES,
    CampaignResult,
    Site,
    fetch_config,
    fetch_kill_campaign,
    fetch_step_kills,
    figures_line,
    kill_campaign,
)

# The fault test files by the part of issue #13 ("Monitoring never stops") each holds.
AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "one damaged store file costs one statement",
        (
            "store/test_damaged_files.py",
            "store/test_verify.py",
            "store/test_links_and_losses.py",
            "scenarios/test_two_clones.py",
        ),
    ),
    (
        "a killed or interrupted run loses nothing",
        ("store/test_crash.py", "store/test_store_faults.py", "cli/test_status.py"),
    ),
    (
        "one hostile page costs one page",
        (
            "scenarios/test_hostile_pages.py",
            "scrape/test_fuzz_extract.py",
            "scenarios/test_hostile.py",
        ),
    ),
    (
        "one slow or faulty server costs one request",
        (
            "pipeline/test_network_faults.py",
            "pipeline/test_deadlines.py",
            "scenarios/test_webhook_outbox.py",
        ),
    ),
    ("where dipdiff goes on the network", ("scenarios/test_network_policy.py",)),
    ("git faults", ("store/test_git_faults.py",)),
    ("markdown that cannot lie", ("render/test_markdown_escape.py",)),
    ("a damaged config", ("core/test_config_faults.py",)),
)
TRIED = ("fault scenarios", "pages fuzzed", "configs fuzzed")
# A run that succeeded after a SIGKILL went on too: monitoring did not stop.
WENT_ON = (
    "runs that went on",
    "runs past a hostile page",
    "runs past a network fault",
    "kills survived",
)


def run_area(files: tuple[str, ...]) -> tuple[Counter[str], str, list[str]]:
    """Run one area's test files: its figures (written by tests/conftest.py), its result, and
    what failed (a failed run with no FAILED line is one "pytest failed")."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                *[str(ROOT / "tests" / f) for f in files],
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
            env={**os.environ, "DIPDIFF_FAULT_FIGURES": out.name},
        )
        text = Path(out.name).read_text(encoding="utf-8")
    figures: Counter[str] = Counter(json.loads(text) if text else {})
    counts = re.findall(r"(\d+) (passed|failed|skipped|errors?)", proc.stdout)
    result = ", ".join(f"{n} {what}" for n, what in counts[-3:]) or "no result"
    failed = [line for line in proc.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    return figures, result, (failed or ["pytest failed"]) if proc.returncode else []


def row(name: str, r: CampaignResult) -> str:
    lost = r.versions_expected - r.versions_found
    cost = ""
    if r.clean_seconds and r.after_seconds:
        clean, after = statistics.median(r.clean_seconds), statistics.median(r.after_seconds)
        cost = f"  run after a kill {after:.2f} s vs clean run {clean:.2f} s ({after / clean:.2f}x)"
    return (
        f"  {name:<44} kills {r.kills:>3} ({r.step_kills} at a step, {r.timer_kills} by timer)  "
        f"next run ok {r.runs_after_kill_ok:>3}  verify ok {r.verifies_ok:>3}  "
        f"versions {r.versions_found}/{r.versions_expected} ({lost} lost){cost}"
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller campaigns")
    args = ap.parse_args()
    scale = 1 if args.quick else 3
    problems: list[str] = []
    started = time.monotonic()
    print("dipdiff fault summary")
    print(
        "SIGKILL campaigns (real processes; after every kill the next run must succeed, the store"
    )
    print("must verify, every version be reported once, and no version be lost)")
    with tempfile.TemporaryDirectory() as tmp_:
        tmp = Path(tmp_)
        site = Site(tmp / "site", pages=20, days=4, seed=1).build()
        r = kill_campaign(tmp / "import", site, kills_per_day=2 * scale, seed=2)
        print(row(f"import runs, {site.pages} pages x {site.days} days", r))
        problems += r.problems
        with LocalServer() as server:
            fsite = Site(tmp / "fsite", pages=10, days=3, seed=3, flips=False).build(
                server.url("/releases/2019/")
            )
            config = fetch_config(tmp / "dipdiff.toml", server)
            r = fetch_kill_campaign(
                tmp / "fetch", fsite, server, config, kills_per_day=2 * scale, seed=4
            )
            print(row(f"fetch runs, {fsite.pages} pages x {fsite.days} days", r))
            problems += r.problems
            step_site = Site(tmp / "ssite", pages=2, days=2, seed=5, flips=False).build(
                server.url("/releases/2020/")
            )
            step_site.page_path(1, 1).write_bytes(b"<html><body><h1>Not yet</h1></body></html>")
            step_site.page_path(2, 0).write_bytes(
                step_site.page_path(1, 0).read_bytes().replace(b"<p>", b"<p>Updated: ", 1)
            )
            r = fetch_step_kills(
                tmp / "steps", step_site, server, config, day=2, stride=1 if scale > 1 else 3
            )
            print(row("a fetch run killed before every write step", r))
            problems += r.problems
    lost = FIGURES["versions expected"] - FIGURES["versions found"]
    print(
        f"  total: {FIGURES['kills survived']} SIGKILLs survived, versions expected "
        f"{FIGURES['versions expected']} / found {FIGURES['versions found']} ({lost} lost)"
    )
    print()
    print("fault test files (pytest), one area of issue #13 at a time:")
    total: Counter[str] = Counter()
    t0 = time.monotonic()
    for name, files in AREAS:
        figures, result, failed = run_area(files)
        total += figures
        tried = sum(figures[k] for k in TRIED)
        went_on = sum(figures[k] for k in WENT_ON)
        lost = figures["versions expected"] - figures["versions found"]
        print(
            f"  {name:<44} {result:<22} faults tried {tried:>4}  runs went on {went_on:>3}  "
            f"versions lost {lost}"
        )
        problems += [f"{name}: {line}" for line in failed]
        if lost:
            problems.append(f"{name}: {lost} version(s) lost")
    print(f"  ({time.monotonic() - t0:.1f} s wall clock)")
    print(f"  {figures_line(total)}")
    print()
    print(
        f"done in {time.monotonic() - started:.0f} s: "
        + ("no problems" if not problems else f"{len(problems)} problem(s)")
    )
    for p in problems[:20]:
        print(f"  PROBLEM {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
