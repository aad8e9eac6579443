"""Cross-language sentence alignment: how fast, and how right, on the gold set.

The gold set (tests/cases/align/gold.toml) is English statements and their translations into
French, Spanish, Russian, Arabic and Chinese, each translation leaving one sentence out and some
adding one. For each language: pairs found right (precision), gold pairs found (recall), and
sentences rightly left unpaired — by the multilingual encoder, and by the word aligner that
compares texts in one language (the baseline, measured in the same run). Then sentences encoded
per second, with the model's load time apart.

    python benchmarks/bench_align.py      (needs pip install 'dipdiff[multilingual]')
"""

from __future__ import annotations

import sys
import time
import tomllib
from pathlib import Path

from dipdiff.analyse import crosslingual
from dipdiff.analyse.compare import align_sentences
from dipdiff.analyse.entities import Sentence

GOLD = Path(__file__).resolve().parent.parent / "tests" / "cases" / "align" / "gold.toml"


def _score(found: set[tuple[int, int]], doc: dict[str, object]) -> tuple[int, int, int, int, int]:
    """(right pairs, found pairs, gold pairs, rightly unpaired, unpaired in gold)."""
    gold = {(int(i), int(j)) for i, j in doc["pairs"]}  # type: ignore[attr-defined]
    n_a, n_b = len(doc["en"]), len(doc["xx"])  # type: ignore[arg-type]
    lone = {("a", i) for i in range(n_a)} - {("a", i) for i, _ in gold}
    lone |= {("b", j) for j in range(n_b)} - {("b", j) for _, j in gold}
    said = {("a", i) for i in range(n_a)} - {("a", i) for i, _ in found}
    said |= {("b", j) for j in range(n_b)} - {("b", j) for _, j in found}
    return len(found & gold), len(found), len(gold), len(lone & said), len(lone)


def main() -> None:
    docs = tomllib.loads(GOLD.read_text(encoding="utf-8"))["doc"]
    t = time.perf_counter()
    encode = crosslingual.encoder()
    if encode is None:
        print(f"the multilingual encoder is not installed: {crosslingual.EXTRA}")
        sys.exit(2)
    encode(["warm-up"])
    load = time.perf_counter() - t
    rows = []
    sentences = 0
    encoding = 0.0
    for doc in docs:
        t = time.perf_counter()
        pairs = crosslingual.align(doc["en"], doc["xx"], encode)
        encoding += time.perf_counter() - t
        sentences += len(doc["en"]) + len(doc["xx"])
        sa = [Sentence(x, 0, i) for i, x in enumerate(doc["en"])]
        sb = [Sentence(x, 0, j) for j, x in enumerate(doc["xx"])]
        words, _, _ = align_sentences(sa, sb)
        rows.append(
            (
                doc["language"],
                _score({(p.a_index, p.b_index) for p in pairs}, doc),
                _score({(p.a_index, p.b_index) for p in words}, doc),
            )
        )
    print(f"cross-language alignment: gold set of {sum(len(d['pairs']) for d in docs)} pairs")
    print(f"  {'language':<9} {'encoder P':>9} {'R':>6} {'unpaired':>9}   {'words P':>8} {'R':>6}")
    totals = [[0] * 5, [0] * 5]
    for code, enc, base in rows:
        print(
            f"  {code:<9} {enc[0] / max(enc[1], 1):>9.0%} {enc[0] / enc[2]:>6.0%} "
            f"{enc[3]:>4}/{enc[4]:<4}   {base[0] / max(base[1], 1):>8.0%} {base[0] / base[2]:>6.0%}"
        )
        for k, row in enumerate((enc, base)):
            totals[k] = [x + y for x, y in zip(totals[k], row, strict=True)]
    enc, base = totals
    accuracy = enc[0] / enc[2]
    print(
        f"  {'all':<9} {enc[0] / max(enc[1], 1):>9.0%} {accuracy:>6.0%} "
        f"{enc[3]:>4}/{enc[4]:<4}   {base[0] / max(base[1], 1):>8.0%} {base[0] / base[2]:>6.0%}"
    )
    print(
        f"  alignment accuracy {accuracy:.1%} (words: {base[0] / base[2]:.1%}); "
        f"{sentences / encoding:.1f} sentences/s encoded and aligned "
        f"({sentences} in {encoding:.2f} s); model loaded in {load:.2f} s"
    )


if __name__ == "__main__":
    main()
