"""How much work does one `dipdiff run` do? Diff calls per edit, stance analyses, store reads.

    python benchmarks/bench_calls.py [--statements 40] [--baseline REV]

Builds a monitoring folder (a git repository, two listing sources on a local server: the
bundled Libya statements, which diverge, and N synthetic statement pages), gives it two days
of history with `dipdiff run --commit`, then counts what one run does on day 3:

  one edit   the State Department statement is silently edited (a real edit), then `run`
  no edit    the same day, nothing changed, `run` again (the day's report is rewritten)

Each scenario runs in process through the real CLI with the clock pinned (DIPDIFF_NOW); the
counters are wrappers around ``diff_statements``, ``analyze`` (stances), ``Store.versions``,
``Store.meta`` and the file reads under the store. The same scenario runs against the code of
``--baseline`` (default: main before issue #10's "compute once", extracted with `git archive`
into a temporary folder), so that the ratios come from one run on one machine.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path

from _site import page  # the benchmarks' synthetic statement pages (benchmarks/ is on sys.path)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BASELINE = "593a23e"  # main before the one recorder and "compute once" (issue #10)

STATE, WH = "/state/", "/wh/"
LIBYA = "/state/the-situation-in-libya/"
HAFTAR = "/wh/statement-from-the-press-secretary-libya/"
DAYS = (
    "2019-04-20T09:00:00Z",
    "2019-04-21T09:00:00Z",
    "2019-04-22T09:00:00Z",
    "2019-04-22T15:00:00Z",
)


# -- the measured process -------------------------------------------------------------------


def _listing(paths: list[str]) -> bytes:
    items = "".join(f'<li><a href="{p}">{p.strip("/").split("/")[-1]}</a></li>' for p in paths)
    return f"<html><body><h1>Press releases</h1><ul>{items}</ul></body></html>".encode()


class Counters:
    """Wrap the functions whose calls are counted, in every dipdiff module that holds them."""

    def __init__(self, store_root: Path) -> None:
        import importlib
        import pathlib
        import pkgutil

        import dipdiff
        from dipdiff.text import content_hash

        for m in pkgutil.walk_packages(dipdiff.__path__, "dipdiff."):
            if not m.name.endswith("__main__"):
                importlib.import_module(m.name)
        self.counts: Counter[str] = Counter()
        self.pairs: Counter[tuple[str, str]] = Counter()
        self.texts: Counter[str] = Counter()
        self.root = str(store_root)
        from dipdiff.analyse import diff as diff_mod
        from dipdiff.analyse import stance as stance_mod

        def sha(st) -> str:
            return content_hash(st.title, st.paragraphs)

        orig_diff, orig_analyze = diff_mod.diff_statements, stance_mod.analyze

        def diff_statements(a, b, *args, **kw):
            self.counts["diff calls"] += 1
            self.pairs[(sha(a), sha(b))] += 1
            return orig_diff(a, b, *args, **kw)

        def analyze(st, *args, **kw):
            self.counts["stance analyses"] += 1
            self.texts[sha(st)] += 1
            return orig_analyze(st, *args, **kw)

        for name, mod in list(sys.modules.items()):
            if name.startswith("dipdiff"):
                if getattr(mod, "diff_statements", None) is orig_diff:
                    mod.diff_statements = diff_statements
                if getattr(mod, "analyze", None) is orig_analyze:
                    mod.analyze = analyze

        from dipdiff.store.store import Store

        for method in ("versions", "meta"):
            orig = getattr(Store, method)

            def counted(store, *a, _orig=orig, _name=method, **kw):
                self.counts[f"Store.{_name} calls"] += 1
                return _orig(store, *a, **kw)

            setattr(Store, method, counted)

        for method in ("read_bytes", "read_text"):
            orig = getattr(pathlib.Path, method)

            def read(path, *a, _orig=orig, **kw):
                self._file_read(path)
                return _orig(path, *a, **kw)

            setattr(pathlib.Path, method, read)

    def _file_read(self, path) -> None:
        p = str(path)
        if not p.startswith(self.root):
            return
        name = Path(p).name
        kind = (
            "meta.json"
            if name == "meta.json"
            else "runs.json"
            if name == "runs.json"
            else "raw pages"
            if name.endswith(".gz")
            else "version files"
            if name.endswith(".md")
            else "other"
        )
        self.counts[f"reads: {kind}"] += 1
        self.counts["store reads"] += 1

    def reset(self) -> None:
        self.counts.clear()
        self.pairs.clear()
        self.texts.clear()


def measure(statements: int) -> dict:
    """Build the folder, run days 1-2, count days 3 (one edit) and 3 later (no edit)."""
    from typer.testing import CliRunner

    from dipdiff.cli.app import app
    from dipdiff.pipeline.demo import page_bytes
    from dipdiff.pipeline.server import LocalServer, Response

    libya1 = page_bytes("state-libya.day1.html").replace(
        b"2019-04-07T16:30:00", b"2019-04-18T16:30:00"
    )
    libya2 = page_bytes("state-libya.day2.html").replace(
        b"2019-04-07T16:30:00", b"2019-04-18T16:30:00"
    )
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp, LocalServer() as server:
        folder = Path(tmp)
        subprocess.run(["git", "init", "-q", "-b", "main", str(folder)], check=True)
        for k, v in (("user.name", "bench"), ("user.email", "bench@example.org")):
            subprocess.run(["git", "-C", str(folder), "config", k, v], check=True)
        half = statements // 2
        state = [LIBYA] + [f"/state/statement-{i}/" for i in range(half)]
        wh = [HAFTAR] + [f"/wh/statement-{i}/" for i in range(half, statements)]
        server.set(STATE, Response(_listing(state)))
        server.set(WH, Response(_listing(wh)))
        server.set(LIBYA, Response(libya1))
        server.set(HAFTAR, Response(page_bytes("whitehouse-haftar.day1.html")))
        for i in range(statements):
            server.set(f"/{'state' if i < half else 'wh'}/statement-{i}/", Response(page(i, 0)))
        config = folder / "dipdiff.toml"
        config.write_text(
            "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\n"
            # every statement is due on every run
            "[schedule]\nmin_interval = 0\nmax_interval = 0\n"
            f'[sources.state-dept]\nkind = "listing"\nurl = "{server.url(STATE)}"\n'
            'agency = "U.S. Department of State"\nselector = "li"\nlink = "a"\n'
            f'[sources.white-house]\nkind = "listing"\nurl = "{server.url(WH)}"\n'
            'agency = "The White House"\nselector = "li"\nlink = "a"\n',
            encoding="utf-8",
        )
        store = folder / "snapshots"
        runner = CliRunner()
        counters = Counters(store)

        def run(when: str) -> float:
            t = time.perf_counter()
            r = runner.invoke(
                app,
                ["--store", str(store), "run", "--config", str(config), "--commit"],
                env={"DIPDIFF_NOW": when, "NO_COLOR": "1"},
            )
            if r.exit_code not in (0, 1):
                raise SystemExit(f"dipdiff run at {when} failed ({r.exit_code}): {r.output[-800:]}")
            return time.perf_counter() - t

        run(DAYS[0])
        for i in (1, 2, half + 1):  # day 2: three edits, so that the feed has a history of changes
            server.set(f"/{'state' if i < half else 'wh'}/statement-{i}/", Response(page(i, 1)))
        run(DAYS[1])

        server.set(LIBYA, Response(libya2))
        counters.reset()
        seconds = run(DAYS[2])
        out["one edit"] = _figures(counters, seconds, edited=(libya1, libya2))
        counters.reset()
        seconds = run(DAYS[3])
        out["no edit"] = _figures(counters, seconds)
        from dipdiff.store.store import Store

        out["statements"] = len(Store(store).statement_ids())
    return out


def _figures(c: Counters, seconds: float, edited: tuple[bytes, bytes] | None = None) -> dict:
    f = dict(c.counts)
    f["seconds"] = round(seconds, 3)
    f["most diff calls of one pair"] = max(c.pairs.values(), default=0)
    f["most analyses of one text"] = max(c.texts.values(), default=0)
    if edited is not None:
        from dipdiff.scrape.charset import decode_html
        from dipdiff.scrape.extract import extract
        from dipdiff.text import content_hash

        a, b = (extract(decode_html(x), "https://example.gov/") for x in edited)
        f["diff calls of the edit"] = c.pairs[
            (content_hash(a.title, a.paragraphs), content_hash(b.title, b.paragraphs))
        ]
    return f


# -- the driver -----------------------------------------------------------------------------


def _extract_baseline(rev: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True
    ).stdout
    path = into / "baseline.tar"
    path.write_bytes(archive)
    with tarfile.open(path) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def _child(src: Path, statements: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.run(
        [sys.executable, __file__, "--measure", "--statements", str(statements)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        raise SystemExit(f"measuring {src} failed: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


ROWS = (
    "diff calls of the edit",
    "most diff calls of one pair",
    "diff calls",
    "stance analyses",
    "most analyses of one text",
    "store reads",
    "reads: meta.json",
    "reads: version files",
    "reads: runs.json",
    "reads: raw pages",
    "Store.meta calls",
    "Store.versions calls",
    "seconds",
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--statements", type=int, default=40)
    ap.add_argument("--baseline", default=BASELINE)
    ap.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        import dipdiff

        figures = measure(args.statements)
        figures["code"] = str(Path(dipdiff.__file__).parent)
        print(json.dumps(figures))
        return
    with tempfile.TemporaryDirectory() as tmp:
        before = _child(_extract_baseline(args.baseline, Path(tmp)), args.statements)
    after = _child(ROOT / "src", args.statements)
    print(
        f"dipdiff run --commit on a store of {after['statements']} statements in 2 sources, day 3 "
        f"of a 3-day history; before = {args.baseline}, after = this tree"
    )
    for scenario in ("one edit", "no edit"):
        print(f"\n{scenario}:")
        print(f"  {'':<30}{'before':>9}{'after':>9}{'ratio':>8}")
        for row in ROWS:
            if row not in before[scenario] and row not in after[scenario]:
                continue
            b, a = before[scenario].get(row, 0), after[scenario].get(row, 0)
            ratio = f"{b / a:.1f}x" if a else "-"
            fmt = "{:>9.2f}" if row == "seconds" else "{:>9}"
            print(f"  {row:<30}" + fmt.format(b) + fmt.format(a) + f"{ratio:>8}")


if __name__ == "__main__":
    main()
