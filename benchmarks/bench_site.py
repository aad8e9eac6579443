"""How long does `dipdiff site` take on a big store, in full and after one new version?

Builds a synthetic store of N statements in 5 sources (each with a second version for one in
three statements, and a check history), then times, in the same run:

  full          the first build into an empty folder
  no change     a rebuild with nothing changed (every page's key checked, nothing written)
  one version   a rebuild after one statement got a new version (the incremental case)

and the baseline the builds are compared with: reading what a build reads (every meta.json,
every version list and the latest text of every statement, as `dipdiff list` plus `show`).

    python benchmarks/bench_site.py [--statements 1000 10000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _statements as gen
from dipdiff.clock import utc_timestamp
from dipdiff.models import Outcome, Statement
from dipdiff.pipeline.crosscheck import find_divergences
from dipdiff.pipeline.site import build_site
from dipdiff.store.layout import CHECKS, META, render_version, version_name
from dipdiff.store.meta import StatementMeta, changes, check_line
from dipdiff.store.store import Store
from dipdiff.text import content_hash

WORDS = (
    "the united states condemns welcomes urges calls on all parties to halt the offensive and "
    "return to negotiations under un auspices with full respect for sovereignty"
).split()
START = datetime(2026, 1, 1, 9, tzinfo=UTC)


def paragraph(seed: int, n: int = 60) -> str:
    return " ".join(WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(n)) + "."


def statement(s: int, version: int) -> Statement:
    paragraphs = tuple(paragraph(s + k + version * (k == 1)) for k in range(6))
    return Statement(f"Statement {s}", paragraphs, f"https://example.gov/{s}", f"Agency {s % 5}")


def add(root: Path, meta: StatementMeta, s: int, version: int, when: datetime) -> None:
    """A version file and its check, in the store's own formats (written without the store's
    fsyncs: the store is scaffolding here, the build is what is measured)."""
    st = statement(s, version)
    sha = content_hash(st.title, st.paragraphs)
    folder = root / meta.id
    stamp = utc_timestamp(when)
    if not folder.is_dir():
        folder.mkdir(parents=True)
        (folder / META).write_text(meta.identity().to_json(), encoding="utf-8")
    (folder / version_name(when)).write_text(render_version(st, stamp, sha), encoding="utf-8")
    outcome = Outcome.NEW if version == 1 else Outcome.CHANGED
    entry = {
        "time": stamp,
        "outcome": str(outcome),
        "url": meta.url,
        "status": 200,
        "sha256": sha,
        "version": version,
    }
    with (folder / CHECKS).open("ab") as f:
        f.write(check_line(entry, changes(None, meta) if version == 1 else None))


def make_store(root: Path, statements: int) -> Store:
    for s in range(statements):
        meta = gen.synthetic_meta(s)
        add(root, meta, s, 1, START + timedelta(minutes=s))
        if s % 3 == 0:
            add(root, meta, s, 2, START + timedelta(days=1, minutes=s))
    return Store(root)


def timed(fn):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def baseline(root: Path) -> float:
    store = Store(root)  # a fresh object: nothing cached

    def read() -> int:
        with store.reading():
            return sum(
                len(store.read_version(sid, -1).statement.paragraphs) + len(store.meta(sid).checks)
                for sid in store.statement_ids()
            )

    return timed(read)[0]


def run(n: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        root, out = Path(tmp) / "snapshots", Path(tmp) / "site"
        t_make, store = timed(lambda: make_store(root, n))
        t_base = baseline(root)
        t_full, full = timed(lambda: build_site(Store(root), out))
        t_same, same = timed(lambda: build_site(Store(root), out))
        add(root, store.meta("src-1/statement-00001"), 1, 2, START + timedelta(days=30))
        t_one, one = timed(lambda: build_site(Store(root), out))
        assert not same.written, same.written[:5]
        assert "src-1/statement-00001/v/2/index.html" in one.written
        t_div = timed(lambda: find_divergences(Store(root)))[0]
        rows = [
            ("full build", t_full, full, f"{t_full / t_base:6.1f}x baseline"),
            ("rebuild, no change", t_same, same, f"{t_same / t_full:6.2f}x full"),
            ("rebuild, one new version", t_one, one, f"{t_one / t_full:6.2f}x full"),
        ]
        lines = [
            f"{n:>6} statements ({full.pages} pages; store made in {t_make:.1f} s)",
            f"  {'baseline: read the store':<26}{t_base:8.2f} s",
            f"  {'divergences alone':<26}{t_div:8.2f} s   (every text analysed)",
        ]
        lines += [
            f"  {label:<26}{t:8.2f} s   {len(r.written):>6} written   {ratio}"
            for label, t, r, ratio in rows
        ]
        return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--statements", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    for n in args.statements:
        print("\n".join(run(n)), flush=True)


if __name__ == "__main__":
    main()
