"""Benchmark: the dipdiff engine against difflib, diff-match-patch and git, in one run.

    pip install -e '.[bench]' && python benchmarks/bench_diff.py [--quick]

Generates statement-like documents (500, 5,000 and 50,000 words) and, for each, three
edited versions: a few small word edits; 30% of paragraphs rewritten or reordered; an
unrelated document of the same size. Each engine diffs the same pair:

- dipdiff        ``diff_statements`` (alignment, word diff, classification, signals)
- sm-autojunk    ``difflib.SequenceMatcher`` on the word lists, autojunk on (the default)
- sm-exact       the same with ``autojunk=False`` (exact LCS-style matching, the baseline)
- dmp-words      diff-match-patch in word mode (words mapped to characters), 1 s timeout
- git-word-diff  ``git diff --no-index --word-diff=porcelain`` on the two files

It prints the median time of each, its ratio to dipdiff's, and the size of its edit script
(words deleted + words inserted; a dipdiff move counts its paragraph once), then checks the
targets of issue 3 and measures dipdiff's peak memory (tracemalloc) on the largest case.
"""

from __future__ import annotations

import argparse
import difflib
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from dipdiff.analyse.diff import diff_statements
from dipdiff.models import Statement

VOCAB = """
the united states welcomes condemns urges calls on all parties to exercise restraint and
ceasefire humanitarian access civilians government ministers talks negotiations process
support sovereignty territorial integrity of ukraine libya sudan yemen security council
resolution international partners commitment continue work together with our allies in
region stability peace prosperity economic cooperation development assistance aid million
dollars people violence attacks forces military operations political solution dialogue
secretary president spoke today discussed shared priorities including climate health
trade investment energy food water crisis response efforts important deeply concerned by
reports of we reaffirm strong relationship between both countries democracy human rights
rule law accountability for those responsible must be held will may should remain committed
""".split()
# A long tail of rarer words, as real statements have (the common words above make half a text).
_SYLLABLES = "ka ri to ne mu sa lo vi de pa ro zu me ti ga no fe la si bo".split()
TAIL = sorted({"".join(random.Random(k).choices(_SYLLABLES, k=3 + k % 3)) for k in range(4000)})
NAMES = [
    "Blinken",
    "Guterres",
    "Zelenskyy",
    "Haftar",
    "Salamé",
    "Geneva",
    "Tripoli",
    "Kyiv",
    "Khartoum",
    "Brussels",
    "NATO",
    "UN",
    "EU",
    "African Union",
]


def sentence(rng: random.Random) -> str:
    words = [
        rng.choice(VOCAB) if rng.random() < 0.55 else rng.choice(TAIL)
        for _ in range(rng.randint(12, 28))
    ]
    for _ in range(rng.randint(0, 2)):
        words[rng.randrange(len(words))] = rng.choice(NAMES)
    if rng.random() < 0.3:
        words[rng.randrange(len(words))] = f"{rng.randint(2, 900)},{rng.randint(100, 999)}"
    words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words) + "."


def document(rng: random.Random, words: int) -> list[str]:
    paragraphs, count = [], 0
    while count < words:
        p = " ".join(sentence(rng) for _ in range(rng.randint(2, 5)))
        paragraphs.append(p)
        count += len(p.split())
    return paragraphs


def few_edits(rng: random.Random, doc: list[str]) -> list[str]:
    out = list(doc)
    for _ in range(4):
        k = rng.randrange(len(out))
        ws = out[k].split()
        ws[rng.randrange(len(ws))] = rng.choice(VOCAB)
        out[k] = " ".join(ws)
    return out


def rewritten(rng: random.Random, doc: list[str]) -> list[str]:
    """30% of paragraphs touched: half of them get sentences rewritten, half move elsewhere."""
    out = list(doc)
    touched = rng.sample(range(len(out)), max(1, round(0.3 * len(out))))
    rewrite, move = touched[::2], touched[1::2]
    for k in rewrite:
        sentences = out[k].split(". ")
        for s in rng.sample(range(len(sentences)), max(1, len(sentences) // 2)):
            sentences[s] = sentence(rng).rstrip(".")
        out[k] = ". ".join(sentences).rstrip(".") + "."
    moving = [out[k] for k in sorted(move)]
    out = [p for k, p in enumerate(out) if k not in set(move)]
    for p in moving:
        out.insert(rng.randrange(len(out) + 1), p)
    return out


# -- engines -------------------------------------------------------------------------------------


def run_dipdiff(a: list[str], b: list[str], _files, *, moves_twice: bool = False) -> int:
    r = diff_statements(Statement("", tuple(a)), Statement("", tuple(b)))
    size = 0
    for c in r.changes:
        if (
            c.kind == "move"
        ):  # a relocation; with moves_twice, priced as a deletion plus an insertion
            size += len(c.new.split()) + (len(c.old.split()) if moves_twice else 0)
        elif not c.moved or not moves_twice:
            size += len(c.old.split()) + len(c.new.split())
    return size


def _sm(autojunk: bool) -> Callable:
    def run(a: list[str], b: list[str], _files) -> int:
        wa, wb = " ".join(a).split(), " ".join(b).split()
        ops = difflib.SequenceMatcher(None, wa, wb, autojunk=autojunk).get_opcodes()
        return sum((i2 - i1) + (j2 - j1) for tag, i1, i2, j1, j2 in ops if tag != "equal")

    return run


def run_dmp(a: list[str], b: list[str], _files) -> int:
    from diff_match_patch import diff_match_patch

    dmp = diff_match_patch()  # Diff_Timeout = 1.0 s, its default
    wa, wb = " ".join(a).split(), " ".join(b).split()
    table: dict[str, str] = {}

    def encode(words: list[str]) -> str:
        return "".join(
            table.setdefault(w, chr(0xF0000 + len(table)) if len(table) < 65000 else "?")
            for w in words
        )

    diffs = dmp.diff_main(encode(wa), encode(wb), False)
    return sum(len(text) for op, text in diffs if op != 0)


def run_git(a: list[str], b: list[str], files) -> int:
    fa, fb = files
    out = subprocess.run(
        ["git", "diff", "--no-index", "--no-color", "--word-diff=porcelain", str(fa), str(fb)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    size = 0
    for line in out.splitlines()[4:]:
        if line[:1] in "+-" and not line.startswith(("+++", "---")):
            size += len(line[1:].split())
    return size


ENGINES: dict[str, Callable] = {
    "dipdiff": run_dipdiff,
    "sm-autojunk": _sm(True),
    "sm-exact": _sm(False),
    "dmp-words": run_dmp,
    "git-word-diff": run_git,
}


def timed_together(
    engines: dict[str, Callable], a, b, files, repeats: int, budget: float
) -> dict[str, tuple[float, int]]:
    """Median time and edit-script size of each engine. The engines take turns, one run each per
    round, so that a busy machine slows them all alike; an engine whose runs have used up
    ``budget`` seconds (exact matching on 50,000 words) sits out the remaining rounds."""
    times: dict[str, list[float]] = {name: [] for name in engines}
    sizes: dict[str, int] = {}
    for _ in range(repeats):
        for name, fn in engines.items():
            if times[name] and sum(times[name]) > budget:
                continue
            t = time.perf_counter()
            sizes[name] = fn(a, b, files)
            times[name].append(time.perf_counter() - t)
    return {name: (statistics.median(times[name]), sizes[name]) for name in engines}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="500 and 5,000 words only")
    ap.add_argument("--repeats", type=int, default=11)
    ns = ap.parse_args()
    sizes = [500, 5_000] if ns.quick else [500, 5_000, 50_000]
    results: dict[tuple[int, str, str], tuple[float, int]] = {}
    git = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False)
    print(f"python {sys.version.split()[0]}, {git.stdout.strip()}")
    print(
        f"{'words':>6} {'scenario':<10} {'engine':<14} {'median':>9} {'x dipdiff':>9} "
        f"{'script':>7} {'x exact':>8}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            rng = random.Random(n)
            base = document(rng, n)
            scenarios = {
                "few-edits": few_edits(rng, base),
                "30%": rewritten(rng, base),
                "unrelated": document(random.Random(n + 1), n),
            }
            for name, edited in scenarios.items():
                fa, fb = Path(tmp) / f"{n}-{name}-a.txt", Path(tmp) / f"{n}-{name}-b.txt"
                fa.write_text("\n\n".join(base) + "\n", encoding="utf-8")
                fb.write_text("\n\n".join(edited) + "\n", encoding="utf-8")
                for engine, figures in timed_together(
                    ENGINES, base, edited, (fa, fb), ns.repeats, 3.0
                ).items():
                    results[(n, name, engine)] = figures
                mine_t, _ = results[(n, name, "dipdiff")]
                _, exact_s = results[(n, name, "sm-exact")]
                for engine in ENGINES:
                    t, size = results[(n, name, engine)]
                    print(
                        f"{n:>6} {name:<10} {engine:<14} {t * 1000:>7.1f}ms {t / mine_t:>8.2f}x "
                        f"{size:>7} {size / max(exact_s, 1):>7.2f}x"
                    )
    print()
    ok = True

    def check(label: str, passed: bool) -> None:
        nonlocal ok
        ok &= passed
        print(f"{'PASS' if passed else 'FAIL'}  {label}")

    t_mine, _ = results[(5_000, "few-edits", "dipdiff")]
    t_dmp, _ = results[(5_000, "few-edits", "dmp-words")]
    check(
        (
            f"5,000 words, few edits: dipdiff {t_mine * 1000:.1f} ms < diff-match-patch "
            f"{t_dmp * 1000:.1f} ms"
        ),
        t_mine < t_dmp,
    )
    big = max(sizes)
    t_mine, s_mine = results[(big, "30%", "dipdiff")]
    t_git, _ = results[(big, "30%", "git-word-diff")]
    _, s_exact = results[(big, "30%", "sm-exact")]
    check(
        f"{big:,} words, 30% rewritten/reordered: dipdiff {t_mine * 1000:.0f} ms < 10 x git "
        f"{t_git * 1000:.0f} ms ({t_mine / t_git:.1f}x)",
        t_mine < 10 * t_git,
    )
    check(
        f"{big:,} words, 30%: edit script {s_mine} words <= 1.1 x difflib exact {s_exact} "
        f"({s_mine / s_exact:.2f}x)",
        s_mine <= 1.1 * s_exact,
    )
    rng = random.Random(big)
    base = document(rng, big)
    few_edits(rng, base)
    edited = rewritten(rng, base)
    strict = run_dipdiff(base, edited, None, moves_twice=True)
    check(
        f"{big:,} words, 30%: ... with every move priced as a deletion plus an insertion, {strict} "
        f"words "
        f"({strict / s_exact:.2f}x)",
        strict <= 1.1 * s_exact,
    )
    per_word = {n: results[(n, "30%", "dipdiff")][0] / n for n in sizes}
    growth = per_word[big] / per_word[sizes[1]]
    check(
        f"not quadratic: time per word at {big:,} words is {growth:.2f}x that at {sizes[1]:,}",
        growth < 3,
    )
    tracemalloc.start()
    run_dipdiff(base, edited, None)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    check(f"memory: dipdiff peak {peak:.1f} MB on {big:,} words (30%) < 200 MB", peak < 200)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
