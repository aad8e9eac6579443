"""What the fault suite tries, at a larger scale than the tests: SIGKILL campaigns against real
dipdiff processes, and the fault test files themselves. Prints the figures; every campaign must
end with versions expected == found.

    python benchmarks/fault_summary.py            # ~2 minutes
    python benchmarks/fault_summary.py --quick    # ~30 seconds

Baseline for the recovery cost: a clean run of the same day, measured in the same campaign.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
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
    kill_campaign,
)


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
    print("fault test files (pytest):")
    files = [
        "store/test_crash.py",
        "store/test_store_faults.py",
        "pipeline/test_network_faults.py",
        "scenarios/test_hostile.py",
        "core/test_config_faults.py",
        "scrape/test_fuzz_extract.py",
        "store/test_verify.py",
        "store/test_damaged_files.py",
        "store/test_git_faults.py",
        "store/test_links_and_losses.py",
        "scenarios/test_two_clones.py",
        "pipeline/test_deadlines.py",
        "scenarios/test_webhook_outbox.py",
        "scenarios/test_hostile_pages.py",
        "scenarios/test_network_policy.py",
    ]
    t0 = time.monotonic()
    out = subprocess.run(
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
    )
    lines = out.stdout.strip().splitlines()
    summary = [line for line in lines if line.startswith("fault suite:")]
    result = [line.strip("= ") for line in lines if " passed" in line or " failed" in line]
    print(
        f"  {result[-1] if result else 'no result line'}  ({time.monotonic() - t0:.1f} s wall "
        f"clock)"
    )
    print(f"  {summary[0] if summary else 'no fault summary line'}")
    if out.returncode:
        problems.append("the fault test files failed")
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
