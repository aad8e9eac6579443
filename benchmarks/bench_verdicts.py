"""How often are compare's verdicts right? The golden accuracy of tests/cases/compare/pairs.toml.

For every golden pair: its *verdict* (exactly which actors are divergent; none, for the traps)
and every other expectation it states (stances, demands, what is not an actor, merged names,
languages, related). Printed per class of case (the name before its colon) and in total; then
``divergences`` over every real feed item and brief of the corpus, at their real dates, where
nothing is expected (one administration's statements). Cases whose corpus files are absent are
counted as skipped.

    python benchmarks/bench_verdicts.py
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from compare_cases import PAIRS, compared, failures, verdict_failures
from dipdiff.analyse.related import Record, find_divergences
from dipdiff.pipeline.crosscheck import statement_date
from helpers import corpus_statements


def main() -> None:
    per_class: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # verdicts ok/n, all ok/n
    skipped = 0
    wrong: list[str] = []
    t = time.perf_counter()
    for case in PAIRS:
        try:
            a, b, c = compared(case)
        except pytest.skip.Exception:
            skipped += 1
            continue
        row = per_class[case["name"].split(":", 1)[0]]
        if "divergent" in case:
            row[1] += 1
            row[0] += not verdict_failures(case, c)
        missed = failures(case, a, b, c)
        row[3] += 1
        row[2] += not missed
        if missed:
            wrong.append(f"  {case['name']}: {missed[0]}")
    elapsed = time.perf_counter() - t
    print(f"compare golden pairs: {len(PAIRS)} cases, {skipped} skipped, {elapsed:.1f} s")
    print(f"  {'class':<22} {'verdicts right':>15} {'cases right':>13}")
    totals = [0, 0, 0, 0]
    for name, row in sorted(per_class.items()):
        print(f"  {name:<22} {row[0]:>7} / {row[1]:<5} {row[2]:>6} / {row[3]:<4}")
        totals = [x + y for x, y in zip(totals, row, strict=True)]
    print(
        f"  {'total':<22} {totals[0]:>7} / {totals[1]:<5} {totals[2]:>6} / {totals[3]:<4}"
        f"  verdict accuracy {totals[0] / max(totals[1], 1):.1%}, "
        f"case accuracy {totals[2] / max(totals[3], 1):.1%}"
    )
    for line in wrong:
        print(line)

    try:
        statements = corpus_statements()
    except pytest.skip.Exception as e:
        print(f"\ndivergences over the corpus: skipped ({e})")
        return
    records = [
        Record(f"{source}/item-{n:04d}", st, statement_date(st.published, None))
        for n, (source, st) in enumerate(statements)
    ]
    t = time.perf_counter()
    pairs = find_divergences(records)
    print(
        f"\ndivergences over {len(records)} real feed items and briefs of the corpus: "
        f"{len(pairs)} pairs (0 expected), {time.perf_counter() - t:.1f} s"
    )
    for d in pairs:
        print(f"  {d.a.id} ↔ {d.b.id}: {', '.join(x.name for x in d.actors)}")


if __name__ == "__main__":
    main()
