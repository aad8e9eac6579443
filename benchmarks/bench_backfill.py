"""Benchmark: `dipdiff backfill` — captures per second, and the share skipped as duplicates.

    python benchmarks/bench_backfill.py [--statements 10] [--captures 20] [--edit-every 5]

The tests' local Wayback Machine (tests/archive.py) serves N statements with M captures each,
made from real pages of ../shared/corpus (FEMA's Hurricane Maria page before and after its
edit): most captures differ from the one before only by a rotating token (new bytes, so a new
CDX digest, but the same statement text), every K-th brings the page's real edit. The backfill
runs with no politeness delay, so that the figure is dipdiff's own cost per capture (CDX
parsing, fetching, extraction, recording). The baseline, measured in the same run against the
same server, is a bare loop: one httpx GET per capture and the extraction alone, nothing
recorded. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from archive import ArchiveServer, Row  # noqa: E402 - the tests' archive, found above
from dipdiff.config import BackfillSettings, FetchSettings  # noqa: E402
from dipdiff.pipeline.backfill import Target, backfill, summary_line  # noqa: E402
from dipdiff.scrape.charset import decode_html  # noqa: E402
from dipdiff.scrape.extract import extract  # noqa: E402
from dipdiff.store.store import Store  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "edgi-web-monitoring-diff" / "versions"
PAGES = ("f2d5d701-707a-42e0-8881-653346d01e0a.html", "fc74d750-c651-46b7-bf74-434ad8c62e04.html")


def fill(arc: ArchiveServer, statements: int, captures: int, edit_every: int) -> list[str]:
    pages = [(CORPUS / p).read_bytes() for p in PAGES]
    urls = []
    for s in range(statements):
        url = f"https://www.fema.gov/statement-{s}"
        urls.append(url)
        for c in range(captures):
            body = pages[(c // edit_every) % 2].replace(
                b"</body>", f"<!-- token {s}-{c} --></body>".encode(), 1
            )
            stamp = f"2017{1 + c // 28:02d}{1 + c % 28:02d}120000"
            arc.add(Row(stamp, url, body))
    return urls


def bare(arc: ArchiveServer, urls: list[str]) -> tuple[float, int]:
    """The baseline: every capture fetched and extracted, nothing recorded."""
    started = time.perf_counter()
    n = 0
    with httpx.Client() as client:
        for r in list(arc.rows):
            page = client.get(f"{arc.url}/web/{r.timestamp}id_/{r.original}")
            extract(decode_html(page.content), r.original)
            n += 1
    return time.perf_counter() - started, n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--statements", type=int, default=10)
    ap.add_argument("--captures", type=int, default=20)
    ap.add_argument("--edit-every", type=int, default=5)
    args = ap.parse_args()
    if not CORPUS.is_dir():
        raise SystemExit(f"needs the real-page corpus: {CORPUS}")
    with ArchiveServer(page_size=1000) as arc, tempfile.TemporaryDirectory() as tmp:
        urls = fill(arc, args.statements, args.captures, args.edit_every)
        base_s, base_n = bare(arc, urls)
        store = Store(Path(tmp) / "snapshots")
        fetch = FetchSettings(delay=0, robots=False, concurrency=1, per_host=1)
        settings = BackfillSettings(archive=arc.url, cdx_delay=0, memento_delay=0)
        started = time.perf_counter()
        result = backfill(
            store, [Target(u, "fema-gov") for u in urls], settings=settings, fetch=fetch
        )
        took = time.perf_counter() - started
        fetched = result.total("fetched")
        dup = result.total("duplicates")
        print(summary_line(result))
        print(
            f"dipdiff backfill: {fetched} captures in {took:.2f} s = {fetched / took:.1f} "
            f"captures/s, {dup / max(fetched, 1):.0%} skipped as duplicates "
            f"({result.total('stored')} versions stored)"
        )
        ratio = (fetched / took) / (base_n / base_s)
        print(
            f"bare fetch+extract baseline: {base_n} captures in {base_s:.2f} s = "
            f"{base_n / base_s:.1f} captures/s; dipdiff at {ratio:.2f}x the baseline's rate"
        )


if __name__ == "__main__":
    main()
