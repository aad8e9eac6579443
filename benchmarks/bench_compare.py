"""How fast is cross-agency comparison, compared with the naive way, measured in the same run?

1. ``compare`` of two 2,000-word statements (B is A edited: sentences reworded, moved, cut,
   added). Baseline: the naive alignment that scores every sentence of A against every
   sentence of B with difflib, as a first implementation would.
2. ``divergences`` over a store of 5,000 statements (1,000 events, each reported by up to
   five agencies over a year). Baseline: comparing every pair of statements from different
   sources, with the full ``compare``; it cannot finish at this size, so it is timed on the
   first ``--sample`` statements and extrapolated by the number of pairs.

    python benchmarks/bench_compare.py [--statements 5000] [--words 2000] [--sample 80]

The store is written to /dev/shm when it exists (RAM), else to a temporary folder; writing
it is setup and is reported but not counted.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from difflib import SequenceMatcher
from pathlib import Path

from dipdiff.analyse.compare import compare
from dipdiff.analyse.entities import split_sentences
from dipdiff.analyse.related import Index
from dipdiff.clock import utc_timestamp
from dipdiff.models import Statement
from dipdiff.pipeline.crosscheck import find_divergences, store_records
from dipdiff.store.meta import StatementMeta
from dipdiff.store.store import Store

SOURCES = {
    "state-dept": ("https://www.state.gov/", "U.S. Department of State"),
    "white-house": ("https://www.whitehouse.gov/briefing-room/", "The White House"),
    "fcdo": ("https://www.gov.uk/government/news/", "Foreign, Commonwealth & Development Office"),
    "eeas": ("https://www.eeas.europa.eu/eeas/", "European External Action Service"),
    "un": ("https://press.un.org/en/", "United Nations"),
}
ACTORS = [
    "Khalifa Haftar",
    "the Libyan National Army",
    "the Houthis",
    "Hamas",
    "the Taliban",
    "the Wagner Group",
    "the Rapid Support Forces",
    "the Sudanese Armed Forces",
    "Hizballah",
    "ISIS",
    "al-Shabaab",
    "Boko Haram",
    "the Syrian Democratic Forces",
    "M23",
    "Vladimir Putin",
    "Bashar al-Assad",
    "Nicolás Maduro",
    "Alexander Lukashenko",
    "Min Aung Hlaing",
    "Mohamed Hamdan Dagalo",
]
PLACES = [
    "Tripoli",
    "Benghazi",
    "Khartoum",
    "Darfur",
    "Kabul",
    "Aden",
    "Sanaa",
    "Gaza",
    "Goma",
    "Idlib",
    "Aleppo",
    "Mogadishu",
    "Caracas",
    "Minsk",
    "Kyiv",
    "Odesa",
    "Juba",
    "Bamako",
    "Niamey",
    "Port-au-Prince",
]
CRITICAL = [
    "We condemn the offensive by {x} and urge an immediate halt to these military operations.",
    "The United States opposes the assault launched by {x} near {p}.",
    "We call on {x} to withdraw its fighters from {p} and to release all detainees.",
    "The attacks by {x} on civilians in {p} are unacceptable.",
]
SUPPORTIVE = [
    "The President recognized {x}'s significant role in fighting terrorism around {p}.",
    "We welcome the commitment of {x} to the ceasefire in {p}.",
    "We commend {x} for protecting civilians in {p}.",
]
NEUTRAL = [
    "Officials met {x} in {p} to discuss the situation.",
    "The delegation discussed developments in {p} with representatives of {x}.",
]
FILLER = [
    "The humanitarian situation remains dire, and access for aid workers is limited.",
    (
        "There is no military solution to the conflict, and only a political process can bring "
        "lasting peace."
    ),
    "We will continue to work with our international partners to support a negotiated settlement.",
    (
        "Civilians continue to bear the brunt of the violence, and the needs of displaced families "
        "are growing."
    ),
    "The talks are expected to resume next week under the auspices of the special envoy.",
    "Further assistance will be provided to host communities and to the most vulnerable.",
    "The parties must respect international humanitarian law and protect civilian infrastructure.",
    "Economic pressures have deepened the hardship faced by ordinary people across the region.",
]


def statement(
    rng: random.Random, source: str, x: str, p: str, tone: str, words: int, n: int
) -> Statement:
    base, agency = SOURCES[source]
    pool = {"critical": CRITICAL, "supportive": SUPPORTIVE, "neutral": NEUTRAL}[tone]
    sentences = [rng.choice(pool).format(x=x, p=p)]
    while sum(len(s.split()) for s in sentences) < words:
        sentences.append(
            rng.choice(FILLER) if rng.random() < 0.85 else rng.choice(pool).format(x=x, p=p)
        )
    paragraphs = tuple(" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4))
    return Statement(f"Statement on {p}", paragraphs, url=f"{base}statement-{n}/", agency=agency)


def long_pair(words: int) -> tuple[Statement, Statement]:
    rng = random.Random(7)
    a_sents, k = [], 0
    while sum(len(s.split()) for s in a_sents) < words:
        x, p = rng.choice(ACTORS), rng.choice(PLACES)
        tmpl = rng.choice(CRITICAL + SUPPORTIVE + NEUTRAL + FILLER)
        a_sents.append(tmpl.format(x=x, p=p).replace(".", f" (item {k}).", 1))
        k += 1
    b_sents = []
    for s in a_sents:
        r = rng.random()
        if r < 0.1:
            continue  # cut
        reworded = s.replace("We ", "The Government ").replace("the ", "these ", 1)
        b_sents.append(reworded if r < 0.3 else s)
    for i in range(len(a_sents) // 10):
        b_sents.insert(
            rng.randrange(len(b_sents)), rng.choice(FILLER).replace(".", f" (new {i}).", 1)
        )
    group = lambda ss: tuple(" ".join(ss[i : i + 5]) for i in range(0, len(ss), 5))  # noqa: E731
    return (
        Statement("A", group(a_sents), url="https://www.state.gov/a/"),
        Statement("B", group(b_sents), url="https://www.whitehouse.gov/b/"),
    )


def naive_align(a: Statement, b: Statement) -> int:
    sa = [s.text.split() for s in split_sentences(a.paragraphs)]
    sb = [s.text.split() for s in split_sentences(b.paragraphs)]
    pairs = 0
    for x in sa:
        best = max((SequenceMatcher(None, x, y, autojunk=False).ratio() for y in sb), default=0)
        pairs += best >= 0.5
    return pairs


def build_store(root: Path, n: int) -> None:
    rng = random.Random(42)
    store = Store(root)
    start = datetime(2025, 1, 1, 9, tzinfo=UTC)
    with store.lock():
        k = 0
        while k < n:
            x, p = rng.choice(ACTORS), rng.choice(PLACES)
            day = start + timedelta(days=rng.randrange(365), hours=rng.randrange(24))
            tones = ["critical", "supportive", "neutral"]
            for source in rng.sample(list(SOURCES), rng.randint(2, 5)):
                if k >= n:
                    break
                st = statement(rng, source, x, p, rng.choice(tones), rng.randint(150, 600), k)
                when = day + timedelta(hours=rng.randrange(72))
                st = Statement(st.title, st.paragraphs, st.url, st.agency, when.isoformat(), source)
                sid = f"{source}/statement-{k:05d}"
                store.write_meta(
                    StatementMeta(
                        id=sid, source=source, url=st.url, title=st.title, agency=st.agency
                    )
                )
                store.add_version(sid, st, utc_timestamp(when))
                k += 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--statements", type=int, default=5000)
    ap.add_argument("--words", type=int, default=2000)
    ap.add_argument("--sample", type=int, default=80)
    args = ap.parse_args()

    a, b = long_pair(args.words)
    compare(a, b)  # warm the lexicon and gazetteer caches
    t = time.perf_counter()
    c = compare(a, b)
    ours = time.perf_counter() - t
    t = time.perf_counter()
    naive_pairs = naive_align(a, b)
    naive = time.perf_counter() - t
    print(
        f"compare: {a.words:,} vs {b.words:,} words, {len(c.shared)} shared sentences, "
        f"{len(c.actors)} actors"
    )
    print(f"  dipdiff compare            {ours:8.3f} s")
    print(
        f"  naive all-pairs alignment  {naive:8.3f} s   ({naive_pairs} pairs; alignment only)  "
        f"ratio {naive / ours:5.1f}x"
    )

    shm = Path("/dev/shm")  # noqa: S108 - a RAM disk if any: the benchmark times CPU, not disk
    parent = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    with tempfile.TemporaryDirectory(dir=parent) as tmp:
        root = Path(tmp) / "snapshots"
        t = time.perf_counter()
        build_store(root, args.statements)
        print(
            f"\ndivergences: store of {args.statements:,} statements written in "
            f"{time.perf_counter() - t:.1f} s (setup, not counted)"
        )
        t = time.perf_counter()
        pairs = find_divergences(Store(root))
        ours = time.perf_counter() - t
        print(f"  dipdiff divergences        {ours:8.2f} s   ({len(pairs):,} divergent pairs)")

        # Time as a weight reaches weeks apart (default window 60 days): what the wider search
        # costs over the old 7-day cut, on one index (the analyses, built once, are the same).
        index = Index(store_records(Store(root)))
        for days in (7, 60):
            t = time.perf_counter()
            found = index.divergences(window=timedelta(days=days))
            print(
                f"  pairing only, window {days:2d}d   {time.perf_counter() - t:8.2f} s   "
                f"({len(found):,} divergent pairs; analyses already built)"
            )

        records = random.Random(1).sample(
            store_records(Store(root)), min(args.sample, args.statements)
        )
        t = time.perf_counter()
        compared = 0
        for i, x in enumerate(records):
            for y in records[i + 1 :]:
                if x.source != y.source:
                    compare(x.statement, y.statement)
                    compared += 1
        sample = time.perf_counter() - t
        total_pairs = (
            compared
            * (args.statements * (args.statements - 1))
            / max(len(records) * (len(records) - 1), 1)
        )
        naive = sample * total_pairs / max(compared, 1)
        print(
            f"  naive all pairs, sample    {sample:8.2f} s   ({compared:,} pairs of {len(records)} "
            f"statements)"
        )
        print(
            f"  naive all pairs, {args.statements:,}   {naive:8.0f} s   (extrapolated: "
            f"{total_pairs:,.0f} pairs)  ratio {naive / ours:5.0f}x"
        )


if __name__ == "__main__":
    main()
