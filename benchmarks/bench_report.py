"""How long do reports take on a big store, compared with merely reading that store?

Builds a synthetic store (N statements, a check history of C checks each, a few versions
each), then times, in the same run:

  baseline   read every meta.json and list every statement's versions (what `dipdiff list` does)
  report     build and render the daily report of the busiest day
  feed       build and render the Atom feed (latest 50 changes of the whole store)
  write      the whole `write_reports` step: report + index + feed, atomically written

    python benchmarks/bench_report.py [--statements 1000] [--checks 100]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import _statements as gen
from dipdiff.clock import utc_timestamp
from dipdiff.models import Outcome, Statement
from dipdiff.pipeline import report as monitor
from dipdiff.render.feed import render_feed
from dipdiff.render.markdown import render_report
from dipdiff.store.store import Store

WORDS = (
    "the united states condemns welcomes urges calls on all parties to halt the offensive and "
    "return to negotiations under un auspices with full respect for sovereignty"
).split()


def paragraph(seed: int, n: int = 60) -> str:
    return " ".join(WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(n)) + "."


def build(root: Path, statements: int, checks: int) -> date:
    store = Store(root)
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    with store.lock():
        for s in range(statements):
            meta = gen.synthetic_meta(s)
            sid = meta.id
            store.write_meta(meta)
            version = 0
            for c in range(checks):
                when = utc_timestamp(start + timedelta(hours=6 * c))
                edit = c == 0 or (c % 37 == s % 37)
                if edit:
                    version += 1
                    st = Statement(
                        f"Statement {s}",
                        tuple(paragraph(s + k + version * (k == 1)) for k in range(6)),
                        meta.url,
                        meta.agency,
                    )
                    ref = store.add_version(sid, st, when)
                    outcome = Outcome.NEW if version == 1 else Outcome.CHANGED
                    meta.checks.append(
                        {
                            "time": when,
                            "outcome": str(outcome),
                            "url": meta.url,
                            "status": 200,
                            "sha256": ref.sha256,
                            "version": ref.number,
                        }
                    )
                else:
                    meta.checks.append(
                        {"time": when, "outcome": "unchanged", "url": meta.url, "status": 200}
                    )
            store.write_meta(meta)  # the history at once: the same file record_check writes, faster
    return (start + timedelta(hours=6 * (checks - 1))).date()


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--statements", type=int, default=1000)
    ap.add_argument("--checks", type=int, default=100)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "snapshots"
        t = time.perf_counter()
        last_day = build(root, args.statements, args.checks)
        print(
            f"store: {args.statements} statements x {args.checks} checks, built in "
            f"{time.perf_counter() - t:.1f}s"
        )
        store = Store(root)

        def baseline():
            for sid in store.statement_ids():
                store.meta(sid)
                store.versions(sid)

        window = monitor.day_window(last_day, store)
        report_input = monitor.build_report(store, window)
        figures = {
            "baseline": timed(baseline),
            "report": timed(lambda: render_report(monitor.build_report(store, window))),
            "feed": timed(lambda: render_feed(monitor.build_feed(store))),
            "write": timed(
                lambda: monitor.write_reports(
                    store, Path(tmp) / "reports", report_input, filename=window.filename
                )
            ),
        }
        c = report_input.counts()
        print(f"daily report {window.label}: {c['changed']} changed, {report_input.checks} checks")
        for name, secs in figures.items():
            print(f"{name:<9} {secs * 1000:8.0f} ms   {secs / figures['baseline']:5.1f}x baseline")


if __name__ == "__main__":
    main()
