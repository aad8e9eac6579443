"""How right is dipdiff's judgement, against the engine and extractor before issue 12, in one run?

    pip install -e '.[bench]' && python benchmarks/bench_judgement.py [--pages]

1. Golden accuracy of the diff classes: every expected change of ``tests/cases/diff/cases.toml``
   (and of its real feed edits when the corpus is there), per class (cosmetic, minor,
   substantive) and per flag, for the current engine and for the engine at ``BASELINE``.
2. The labelled page pairs (``tests/cases/extract/pairs.toml``, pages in ``../shared/corpus`` or
   ``$DIPDIFF_CORPUS``): does the page have a substantive change? The labels are EDGI's own
   (``falsepos-*``: analysts do not care; ``truepos-*``: they do), plus the energy.gov and FEMA
   before/after pairs (real news and figures changed) and two identical EPA captures hours apart
   (no change). Precision and recall for the current extractor, the extractor before issue 12
   (at ``EXTRACT_BASELINE``: the same strategy, already ported to lxml, so that the figures
   compare strategies, not HTML parsers) and, when installed, trafilatura (``favor_recall``) as
   a candidate fallback; the diff engine is the current one for all three.
3. With ``--pages``: every saved HTML page of the corpus, the words each extractor keeps, and
   what it keeps that the current one does not (``+``) and misses (``-``).

The baseline modules are read with ``git show <commit>:<path>`` from this repository.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from dipdiff.analyse import diff as engine
from dipdiff.models import Statement
from dipdiff.scrape import extract as extractor
from dipdiff.scrape.discover import parse_feed
from dipdiff.text import comparable

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "c3b0e87dc57c5f93d7fbc9e77753b0109a865be7"  # main before issue 12's judgement work
EXTRACT_BASELINE = "d556532670601070efd52a5cbe688875c8b99849"  # its extractor, on lxml
CORPUS = Path(os.environ.get("DIPDIFF_CORPUS", ROOT.parent / "shared" / "corpus"))
CASES = ROOT / "tests" / "cases" / "diff" / "cases.toml"
_LOCATORS = ("kind", "old", "new", "where")


def at_baseline(path: str, name: str, commit: str = BASELINE) -> ModuleType:
    """The module at ``path`` as it was at ``commit``, importable beside the current one."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{commit}:{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the code runs
    exec(compile(source, f"{commit[:7]}:{path}", "exec"), module.__dict__)  # noqa: S102
    return module


# --- 1. golden diff classes --------------------------------------------------------------------


def _located(c: Any, want: dict[str, Any]) -> bool:
    if any(k in want and getattr(c, k) != want[k] for k in _LOCATORS):
        return False
    return want.get("old_contains", "") in c.old and want.get("new_contains", "") in c.new


def golden_cases() -> Iterable[tuple[str, Callable[[ModuleType], Any]]]:
    """(name, the changes an engine module finds) for every golden case the corpus allows."""
    data = tomllib.loads(CASES.read_text(encoding="utf-8"))
    for case in data["case"]:
        yield case, lambda m, c=case: m.diff_texts(c["a"], c["b"]).changes
    for case in data.get("corpus", []):
        folder = CORPUS / case["event"]
        if not folder.is_dir():
            continue
        meta = json.loads((folder / "event.json").read_text(encoding="utf-8"))

        def version(n: int, folder: Path = folder, meta: dict[str, Any] = meta) -> Statement:
            v = meta["versions"][n - 1]
            feed = parse_feed((folder / v["file"]).read_bytes(), meta["feed_url"], full_text=True)
            (item,) = [i for i in feed.items if i.guid == meta["item_guid"]]
            assert item.statement is not None
            return item.statement

        a, b = version(case["from"]), version(case["to"])
        yield case, lambda m, a=a, b=b: m.diff_statements(a, b).changes


def score_golden(module: ModuleType) -> tuple[Counter[str], Counter[str], int, int]:
    """Right and expected answers per class and flag, and expected changes found at all."""
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    found = expected = 0
    for case, run in golden_cases():
        changes = run(module)
        for want in case.get("expect", []):
            expected += 1
            hits = [c for c in changes if _located(c, want)]
            found += bool(hits)
            if "significance" in want:
                key = want["significance"]
                total[key] += 1
                right[key] += any(c.significance == key for c in hits)
            for flag in want.get("flags", []):
                total[f"flag {flag}"] += 1
                right[f"flag {flag}"] += any(flag in c.flags for c in hits)
            if want.get("no_flags"):
                total["no flag"] += 1
                right["no flag"] += any(not c.flags for c in hits)
    return right, total, found, expected


def report_golden() -> None:
    old = at_baseline("src/dipdiff/analyse/diff.py", "dipdiff_baseline_diff")
    now_r, total, now_f, expected = score_golden(engine)
    old_r, _, old_f, _ = score_golden(old)
    print(f"Golden diff cases ({CASES.relative_to(ROOT)}): {expected} expected changes")
    print(f"  {'answer':<20} {'n':>4} {'now':>12} {'baseline':>12}")
    for key in sorted(total, key=lambda k: (k.startswith("flag"), k == "no flag", k)):
        n = total[key]
        print(
            f"  {key:<20} {n:>4} {now_r[key]:>5} {now_r[key] / n:>6.0%} "
            f"{old_r[key]:>5} {old_r[key] / n:>6.0%}"
        )
    n_all, r_now, r_old = sum(total.values()), sum(now_r.values()), sum(old_r.values())
    print(f"  {'all answers':<20} {n_all:>4} {r_now:>5} {r_now / n_all:>6.0%} ", end="")
    print(f"{r_old:>5} {r_old / n_all:>6.0%}")
    print(f"  {'changes located':<20} {expected:>4} {now_f:>5} {'':>6} {old_f:>5}")


# --- 2. EDGI labelled pairs --------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    name: str
    a: str
    b: str
    substantive: bool  # the judge's answer: does it have a change an analyst cares about?


PAIRS = [
    Pair(p["name"], p["a"], p["b"], p["substantive"])
    for p in tomllib.loads((ROOT / "tests/cases/extract/pairs.toml").read_text(encoding="utf-8"))[
        "pair"
    ]
]

Extractor = Callable[[str], Statement]


def extractors() -> dict[str, Extractor]:
    old = at_baseline("src/dipdiff/scrape/extract.py", "dipdiff_baseline_extract", EXTRACT_BASELINE)
    out: dict[str, Extractor] = {"now": extractor.extract, "baseline": old.extract}
    try:
        import trafilatura  # lazy: an optional candidate, measured only where installed
    except ImportError:
        return out

    def with_trafilatura(html: str) -> Statement:
        doc = trafilatura.bare_extraction(html, favor_recall=True, include_tables=True)
        text = (doc.text if doc else "") or ""
        paragraphs = tuple(p for p in (x.strip() for x in text.split("\n")) if p)
        return Statement(title=(doc.title or "") if doc else "", paragraphs=paragraphs)

    out["trafilatura"] = with_trafilatura
    return out


def _html(relative: str) -> str:
    return extractor.decode_html((CORPUS / relative).read_bytes())


def report_pairs(engines: dict[str, Extractor]) -> None:
    pairs = [p for p in PAIRS if (CORPUS / p.a).is_file() and (CORPUS / p.b).is_file()]
    print(f"\nEDGI pairs ({len(pairs)} of {len(PAIRS)} in {CORPUS}): substantive changes found")
    print(f"  {'pair':<26} {'judge':>6} " + " ".join(f"{n:>12}" for n in engines))
    tally: dict[str, Counter[str]] = {n: Counter() for n in engines}
    for p in pairs:
        cells = []
        for name, run in engines.items():
            r = engine.diff_statements(run(_html(p.a)), run(_html(p.b)))
            subs = sum(c.significance == "substantive" for c in r.changes)
            said = subs > 0
            tally[name][("t" if said == p.substantive else "f") + ("p" if said else "n")] += 1
            cells.append(
                f"{subs:>3}/{len(r.changes):<3} {'ok' if said == p.substantive else 'WRONG':>5}"
            )
        print(f"  {p.name:<26} {'yes' if p.substantive else 'no':>6} " + " ".join(cells))
    for label, fn in (
        ("precision", lambda t: t["tp"] / max(t["tp"] + t["fp"], 1)),
        ("recall", lambda t: t["tp"] / max(t["tp"] + t["fn"], 1)),
        ("pairs right", lambda t: (t["tp"] + t["tn"]) / max(sum(t.values()), 1)),
    ):
        print(f"  {label:<33} " + " ".join(f"{fn(tally[n]):>12.0%}" for n in engines))


# --- 3. every corpus page -----------------------------------------------------------------------


def _words(paragraphs: Iterable[str]) -> Counter[str]:
    return Counter(w for p in paragraphs for w in comparable(p).split())


def report_pages(engines: dict[str, Extractor]) -> None:
    pages = sorted(CORPUS.rglob("*.html"))
    print(f"\nEvery saved page ({len(pages)}): words kept, and +words kept / -words missed")
    print("  that the current extractor ('now') misses / keeps")
    print(f"  {'page':<48} " + " ".join(f"{n:>16}" for n in engines))
    for path in pages:
        html = extractor.decode_html(path.read_bytes())
        kept: dict[str, tuple[str, ...]] = {}
        for name, run in engines.items():
            try:
                kept[name] = run(html).paragraphs
            except Exception:  # noqa: BLE001 - an extractor that fails on a page is a figure
                kept[name] = ()
        now = _words(kept["now"])
        cells = []
        for name, paragraphs in kept.items():
            mine = _words(paragraphs)
            plus, minus = (mine - now).total(), (now - mine).total()
            extra = "" if name == "now" else f" +{plus}/-{minus}"
            cells.append(f"{mine.total():>6}{extra:>10}")
        print(f"  {str(path.relative_to(CORPUS))[-48:]:<48} " + " ".join(cells))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", action="store_true", help="also the table of every corpus page")
    ns = ap.parse_args()
    report_golden()
    if not CORPUS.is_dir():
        print(f"\nno corpus at {CORPUS}: the EDGI pairs are skipped (set DIPDIFF_CORPUS)")
        return 0
    engines = extractors()
    report_pairs(engines)
    if ns.pages:
        report_pages(engines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
