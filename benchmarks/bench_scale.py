"""Benchmark: every store command on stores of 1,000, 10,000 and 50,000 statements.

    python benchmarks/bench_scale.py [--sizes 1000,10000,50000] [--rounds 3] [--only list,verify]

Each store holds a year of four agencies' statements (benchmarks/_statements.py: corpus-like
pages, in events that two or three agencies speak about), three versions each, recorded by
dipdiff's own recorder (``pipeline.record.Recorder``, the code of ``fetch`` and ``run``) day by
day with the clock pinned, one recorded run per day. Building the 50,000 store takes a while,
so it is kept under benchmarks/out/, keyed by the code that decides what is on disk (the
store's layout and the recorder); ``--reuse`` takes the newest store of a size whatever its key.

Every command runs as a subprocess (``dipdiff --store ...``, start-up included) and so does
its *floor*: a small Python process that reads and parses exactly the data the command needs
and nothing else (every ``meta.json`` and ``checks.jsonl`` for ``list``; the checks of one day
and the versions they stored for a day's report; every file, hashed and gunzipped, for
``verify``; git's word diff for ``diff``). Commands and floors take turns, round after round,
and the medians are printed with the peak RSS of each child and the ratio command / floor,
then a growth table (1k -> 10k -> 50k) in which linear growth reads 10x and 5x.

Before the rounds any derived index (``snapshots/.index*``) is deleted and rebuilt by one
command (``cold``), and ``divergences`` runs once with no stance cached (``cold``); the
rounds then run warm. ``--keep-index`` skips that (at 50,000 it takes about half an hour):
the figures are then of the store's index as it is, rebuilt only where the code under test
finds it stale.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import _statements as gen
from _child import Figure, measured

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SRC = ROOT / "src" / "dipdiff"
OUT = HERE / "out"
BIN = Path(sys.executable).parent
BUILDER_VERSION = "1"
# What decides the files a store holds: when one of these changes, the stores are built again.
KEYED = (
    SRC / "store" / "layout.py",
    SRC / "store" / "meta.py",
    SRC / "store" / "runs.py",
    SRC / "pipeline" / "record.py",
    HERE / "_statements.py",
)
LAST_DAY = (gen.YEAR_START + timedelta(days=gen.DAYS - 1)).date()
NOW = gen.YEAR_START + timedelta(days=gen.DAYS, hours=1)  # the run after the year: nothing due
WEEK_AGO = LAST_DAY - timedelta(days=6)


def config_text(listing: Callable[[str], str]) -> str:
    """The monitoring folder's config: one listing source per agency, a schedule for a big
    store (checks back off with a statement's age, up to a year: the doubling of the data)."""
    out = [
        "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\n",
        '[schedule]\nmin_interval = "1h"\nmax_interval = "366d"\nfactor = 1.1\n',
    ]
    for a in gen.AGENCIES:
        out.append(
            f'[sources.{a.source}]\nkind = "listing"\nurl = "{listing(a.source)}"\n'
            f'agency = "{a.name}"\nselector = "li"\nlink = "a"\n'
            # The listing is served locally, its links name the agency's site.
            f'allow_hosts = ["{a.host}"]\n'
        )
        if a.template == "un":
            out.append(
                f'[sources.{a.source}.extract]\nbody = ["div.field--name-body"]\n'
                "drop_paragraphs = ['^For information media']\n"
            )
    return "\n".join(out)


# -- building a store (in a child process) --------------------------------------------------------


def store_key() -> str:
    h = hashlib.sha256(BUILDER_VERSION.encode())
    for p in KEYED:
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def build(n: int, folder: Path) -> None:
    """Record a year of ``n`` statements into ``folder/snapshots`` with dipdiff's recorder."""
    from dipdiff.clock import utc_timestamp
    from dipdiff.config import load_config
    from dipdiff.models import Page
    from dipdiff.pipeline.events import DiffCache
    from dipdiff.pipeline.plan import Index, Task
    from dipdiff.pipeline.record import Recorder
    from dipdiff.store.store import Store

    # The benchmark's own copy needs no durability: one sync at the end instead of one per file.
    os.fsync = lambda _fd: None
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dipdiff.toml").write_text(config_text(lambda s: f"http://127.0.0.1:9/{s}/"))
    cfg = load_config(folder / "dipdiff.toml")
    sources = {s.name: s for s in cfg.sources}
    specs = gen.specs(n)
    checks = sorted(
        (when, spec.number, edition) for spec in specs for when, edition in gen.check_times(spec)
    )
    store = Store(folder / "snapshots")
    sids: dict[int, str] = {}
    started = time.perf_counter()
    clock = [""]
    with store.lock(), store.deferred_sync():
        recorder = Recorder(store, cfg.schedule, clock=lambda: clock[0])
        indexes = {name: Index([]) for name in sources}
        k = 0
        for day in range(gen.DAYS):
            day_start = gen.YEAR_START.replace(hour=0) + timedelta(days=day)
            day_end = day_start + timedelta(days=1)
            run, _ = store.begin_run(utc_timestamp(day_start))
            counts = {"new": 0, "changed": 0, "removed": 0, "divergent": 0, "checked": 0}
            recorder.diffs = DiffCache()  # one run's diffs, as in `dipdiff run`
            while k < len(checks) and checks[k][0] < day_end:
                when, number, edition = checks[k]
                k += 1
                spec = specs[number]
                src = sources[spec.agency.source]
                clock[0] = utc_timestamp(when)
                content = gen.page(spec, edition)
                page = Page(
                    spec.url,
                    spec.url,
                    200,
                    content,
                    content.decode("utf-8"),
                    "text/html",
                    fetched_at=clock[0],
                )
                task = Task(src, spec.url, sids.get(number))
                result = recorder.page(task, indexes[src.name], page, set())
                sids[number] = result.statement_id
                counts["checked"] += 1
                if result.outcome in ("new", "changed"):
                    counts[str(result.outcome)] += 1
            run.status, run.finished_at, run.counts = (
                "complete",
                utc_timestamp(day_end - timedelta(seconds=1)),
                counts,
            )
            store.end_run(run)
            if day % 30 == 0:
                print(
                    f"  day {day}: {len(sids)} statements, {k} checks, "
                    f"{time.perf_counter() - started:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
    manifest = {
        "n": n,
        "sids": [sids[s.number] for s in specs],
        "days": [s.day for s in specs],
        "seconds": round(time.perf_counter() - started, 1),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))


def cached_store(n: int, reuse: bool) -> Path:
    key = store_key()
    folder = OUT / f"scale-{n}-{key}"
    if not (folder / "manifest.json").exists() and reuse:
        found = sorted(
            (p for p in OUT.glob(f"scale-{n}-*") if (p / "manifest.json").exists()),
            key=lambda p: p.stat().st_mtime,
        )
        if found:
            folder = found[-1]
    if (folder / "manifest.json").exists():
        return folder
    tmp = OUT / f".building-{n}-{key}"
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"building a store of {n:,} statements in {folder} (once; it is kept)", flush=True)
    t = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--build", str(n), "--into", str(tmp)], check=True)
    tmp.rename(folder)
    print(f"  built in {time.perf_counter() - t:.0f} s", flush=True)
    return folder


# -- floors: the least reading and parsing each command's data takes (in a child process) ---------


def _history(folder: Path) -> None:
    """A statement's identity and check history: ``meta.json`` and ``checks.jsonl``."""
    _json(folder / "meta.json")
    checks = folder / "checks.jsonl"
    if checks.exists():
        for line in checks.read_bytes().splitlines():
            json.loads(line)


def _runs(store: Path) -> None:
    """The runs log: one file per run under ``runs/``."""
    runs = store / "runs"
    if runs.is_dir():
        for p in runs.iterdir():
            _json(p)


def _json(path: Path) -> object:
    return json.loads(path.read_bytes())


def _version(path: Path) -> tuple[dict[str, object], list[str]]:
    """Parse a version file: its header values and its paragraphs."""
    text = path.read_bytes().decode("utf-8")
    head, _, body = text[4:].partition("\n---\n")
    header = {}
    for line in head.split("\n"):
        key, _, value = line.partition(": ")
        header[key] = json.loads(value)
    return header, [b for b in body.split("\n\n") if b.strip()]


def _versions(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith("Z.md"))


def _folders(store: Path) -> list[Path]:
    return sorted(d for s in store.iterdir() if s.is_dir() for d in s.iterdir() if d.is_dir())


def floor_list(store: Path, _: dict) -> None:
    for d in _folders(store):
        _history(d)
        _versions(d)


def floor_run(store: Path, _: dict) -> None:
    # What `run` must know of every statement to tell what is due: its check history.
    for d in _folders(store):
        _history(d)
    _runs(store)


def floor_log(store: Path, args: dict) -> None:
    d = store / args["sid"]
    _history(d)
    for p in _versions(d):
        _version(p)


def floor_show(store: Path, args: dict) -> None:
    _version(_versions(store / args["sid"])[-1])


def floor_checked(store: Path, args: dict) -> None:
    """A report's data: the check histories of the statements checked in the window, the
    versions their checks stored (and the ones those are compared with), the runs log."""
    for sid, versions in args["checked"].items():
        d = store / sid
        _history(d)
        names = _versions(d)
        for k in versions:
            _version(names[k])
    _runs(store)


def floor_latest(store: Path, args: dict) -> None:
    """Cross-checking's data: the latest version of each statement that can take part."""
    for sid in args["sids"]:
        _version(_versions(store / sid)[-1])


def floor_verify(store: Path, _: dict) -> None:
    from dipdiff.text import content_hash

    for d in _folders(store):
        _history(d)
        for p in _versions(d):
            header, paras = _version(p)
            assert content_hash(str(header["title"]), paras[1:]) == header["sha256"], p
        raw = d / "raw"
        if raw.is_dir():
            for r in raw.iterdir():
                gzip.decompress(r.read_bytes())
    _runs(store)


def floor_files(_: Path, args: dict) -> None:
    for p in args["files"]:
        Path(p).read_bytes()


FLOORS = {
    "list": floor_list,
    "run": floor_run,
    "log": floor_log,
    "show": floor_show,
    "checked": floor_checked,
    "latest": floor_latest,
    "verify": floor_verify,
    "files": floor_files,
}


# -- measuring ------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    argv: list[str]  # after `dipdiff --store snapshots`, or a whole command line (diff)
    floor: list[str]  # the floor's command line
    env: dict[str, str] | None = None
    whole: bool = False  # argv is a whole command line


def write_args(folder: Path, name: str, doc: dict) -> str:
    path = folder / f".floor-{name}.json"
    path.write_text(json.dumps(doc))
    return str(path)


def floor_cmd(name: str, folder: Path, args_path: str | None = None) -> list[str]:
    return [
        sys.executable,
        __file__,
        "--floor",
        name,
        "--store",
        str(folder / "snapshots"),
        *(["--args", args_path] if args_path else []),
    ]


def checked_in(manifest: dict, since: str, until: str) -> dict[str, list[int]]:
    """The statements checked in (since, until] and the versions a report of it reads."""
    specs = gen.specs(manifest["n"])
    out: dict[str, list[int]] = {}
    for spec, sid in zip(specs, manifest["sids"], strict=True):
        times = gen.check_times(spec)
        inside = [
            (k, e)
            for k, (w, e) in enumerate(times)
            if since < w.strftime("%Y-%m-%dT%H:%M:%SZ") <= until
        ]
        if not inside:
            continue
        editions = {e for _, e in inside}
        before = {e for k, (_, e) in enumerate(times) if k < inside[0][0]}
        changed = editions - before
        versions = set(changed)
        if changed and min(changed) > 0:
            versions.add(min(changed) - 1)  # the redline's left side
        out[sid] = sorted(versions)
    return out


def near(manifest: dict, day: int, window: int) -> list[str]:
    return [
        sid
        for sid, d in zip(manifest["sids"], manifest["days"], strict=True)
        if abs(d - day) <= window
    ]


def related_target(n: int) -> int:
    """A statement of the last week that has related ones: one that names an armed group
    (the first after n - n/50; a country or a city alone is too common a name to relate two
    statements of a year's store)."""
    specs = gen.specs(n)
    for k in range(n - n // 50, n):
        text = " ".join(gen.paragraphs(specs[k], 0))
        if any(force in text for force in gen.FORCES.values()):
            return k
    return n - n // 50


def cases(folder: Path, manifest: dict, listing_url: Callable[[str], str]) -> list[Case]:
    sids = manifest["sids"]
    n = manifest["n"]
    at = related_target(n)
    target = sids[at]
    target_day = manifest["days"][at]
    (folder / "run.toml").write_text(config_text(listing_url))
    last = LAST_DAY.isoformat()
    day_from, day_to = f"{last}T00:00:00Z", f"{last}T23:59:59Z"
    week_from = f"{WEEK_AGO.isoformat()}T00:00:00Z"
    end = "9999-12-31T00:00:00Z"
    last_day = gen.DAYS - 1
    latest_all = write_args(folder, "divergences", {"sids": sids})
    latest_recent = write_args(
        folder,
        "divergences-since",
        {"sids": [s for s, d in zip(sids, manifest["days"], strict=True) if d >= last_day - 7]},
    )
    tiny = [folder / "tiny-a.txt", folder / "tiny-b.txt"]
    tiny[0].write_text("The United States is deeply concerned.\n")
    tiny[1].write_text("The United States is concerned.\n")
    big = long_documents(folder)
    git_diff = ["git", "diff", "--no-index", "--no-color", "--word-diff=porcelain"]
    dd = str(BIN / "dipdiff")
    return [
        Case("list", ["list"], floor_cmd("list", folder)),
        Case(
            "log",
            ["log", target, "--checks"],
            floor_cmd("log", folder, write_args(folder, "log", {"sid": target})),
        ),
        Case(
            "show",
            ["show", target],
            floor_cmd("show", folder, write_args(folder, "show", {"sid": target})),
        ),
        Case(
            "run, nothing due",
            ["run", "--config", "run.toml", "--reports", "run-reports"],
            floor_cmd("run", folder),
            env={"DIPDIFF_NOW": NOW.strftime("%Y-%m-%dT%H:%M:%SZ")},
        ),
        Case(
            "report, a day",
            ["report", "--date", last],
            floor_cmd(
                "checked",
                folder,
                write_args(folder, "day", {"checked": checked_in(manifest, day_from, day_to)}),
            ),
        ),
        Case(
            "report --since, a week",
            ["report", "--since", WEEK_AGO.isoformat()],
            floor_cmd(
                "checked",
                folder,
                write_args(folder, "week", {"checked": checked_in(manifest, week_from, end)}),
            ),
        ),
        Case(
            "related",
            ["related", target],
            floor_cmd(
                "latest",
                folder,
                write_args(folder, "related", {"sids": near(manifest, target_day, 7)}),
            ),
        ),
        Case("divergences", ["divergences"], floor_cmd("latest", folder, latest_all)),
        Case(
            "divergences --since, a day",
            ["divergences", "--since", last],
            floor_cmd("latest", folder, latest_recent),
        ),
        Case("verify", ["verify"], floor_cmd("verify", folder)),
        Case(
            "diff, tiny files",
            [dd, "diff", *map(str, tiny)],
            [*git_diff, *map(str, tiny)],
            whole=True,
        ),
        Case(
            "diff, 50k words 30% rewritten",
            [dd, "diff", *map(str, big), "--format", "json"],
            [*git_diff, *map(str, big)],
            whole=True,
        ),
    ]


def long_documents(folder: Path) -> list[Path]:
    import random

    from bench_diff import document, rewritten

    rng = random.Random(50_000)
    a = document(rng, 50_000)
    b = rewritten(rng, a)
    paths = [folder / "long-a.txt", folder / "long-b.txt"]
    for path, doc in zip(paths, (a, b), strict=True):
        path.write_text("\n\n".join(doc) + "\n")
    return paths


def command(case: Case, folder: Path) -> list[str]:
    if case.whole:
        return case.argv
    return [str(BIN / "dipdiff"), "--store", "snapshots", *case.argv]


def environment(case: Case) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DIPDIFF_NOW", "PYTHONDONTWRITEBYTECODE")
    }
    env["NO_COLOR"] = "1"
    return env | (case.env or {})


@contextlib.contextmanager
def listing_server(folder: Path, manifest: dict):
    """The agencies' listing pages (their 20 newest statements) for `run`."""
    from dipdiff.pipeline.server import LocalServer, Response

    specs = gen.specs(manifest["n"])
    with LocalServer() as server:
        for a in gen.AGENCIES:
            mine = [s for s in specs if s.agency.source == a.source][-20:]
            items = "".join(f'<li><a href="{s.url}">{gen.title(s)}</a></li>' for s in mine)
            server.set(
                f"/{a.source}/", Response(f"<html><body><ul>{items}</ul></body></html>".encode())
            )
        yield lambda source: server.url(f"/{source}/")


def bench_size(
    n: int, rounds: int, only: set[str] | None, reuse: bool, keep_index: bool = False
) -> dict[str, dict]:
    folder = cached_store(n, reuse)
    manifest = json.loads((folder / "manifest.json").read_text())
    store = folder / "snapshots"
    runs_before = set((store / "runs").iterdir()) if (store / "runs").is_dir() else set()
    results: dict[str, dict] = {}
    try:
        with listing_server(folder, manifest) as listing:
            all_cases = cases(folder, manifest, listing)
            chosen = [
                c
                for c in all_cases
                if only is None or c.name.split(",")[0].split()[0] in only or c.name in only
            ]
            for leftover in () if keep_index else store.glob(".index*"):
                leftover.unlink()
            cold = {}
            first = None if keep_index else next((c for c in chosen if not c.whole), None)
            if first is not None:
                cold["index build (cold), by " + first.name] = measured(
                    command(first, folder), folder, environment(first)
                )
            # Each command once more before the rounds: the first to need a part of the index
            # builds it (run: planning's summaries; report and divergences: the readings), so
            # that the medians are of the warm store, and the first runs are shown apart.
            for c in chosen if first is not None else ():
                if c is not first and not c.whole:
                    name = (
                        "divergences, no stance cached (cold)"
                        if c.name == "divergences"
                        else f"{c.name} (first)"
                    )
                    cold[name] = measured(command(c, folder), folder, environment(c))
            times: dict[str, list[Figure]] = {c.name: [] for c in chosen}
            floors: dict[str, list[Figure]] = {c.name: [] for c in chosen}
            for r in range(rounds):
                for c in chosen:
                    times[c.name].append(measured(command(c, folder), folder, environment(c)))
                    floors[c.name].append(measured(c.floor, folder))
                print(f"  {n:,}: round {r + 1} of {rounds} done", flush=True)
            for name, figs in cold.items():
                results[name] = {"time": figs.seconds, "rss": figs.rss_mb, "cpu": figs.cpu}
            for c in chosen:
                results[c.name] = {
                    "time": statistics.median(f.seconds for f in times[c.name]),
                    "cpu": statistics.median(f.cpu for f in times[c.name]),
                    "rss": max(f.rss_mb for f in times[c.name]),
                    "floor": statistics.median(f.seconds for f in floors[c.name]),
                    "floor_cpu": statistics.median(f.cpu for f in floors[c.name]),
                }
    finally:
        # `run` added its record to the log: the store stays as built.
        if (store / "runs").is_dir():
            for p in set((store / "runs").iterdir()) - runs_before:
                p.unlink()
    return results


def report(all_results: dict[int, dict[str, dict]]) -> None:
    sizes = sorted(all_results)
    for n in sizes:
        res = all_results[n]
        print(f"\n{n:,} statements (medians; peak RSS of the command's process)")
        print(f"  {'command':<40}{'time':>9}{'RSS':>8}{'floor':>9}{'ratio':>8}")
        for name, r in res.items():
            if "floor" in r:
                print(
                    f"  {name:<40}{r['time']:>8.2f}s{r['rss']:>6.0f}MB{r['floor']:>8.2f}s"
                    f"{r['time'] / r['floor']:>7.1f}x"
                )
            else:
                print(f"  {name:<40}{r['time']:>8.2f}s{r['rss']:>6.0f}MB")
        extra = res.get("diff, 50k words 30% rewritten"), res.get("diff, tiny files")
        if all(extra):
            big, tiny = extra
            ours = big["cpu"] - tiny["cpu"]
            git = big["floor_cpu"] - tiny["floor_cpu"]
            print(
                f"  diff 50k words, CPU beyond start-up: dipdiff {ours * 1000:.0f} ms, "
                f"git word-diff {git * 1000:.0f} ms ({ours / max(git, 1e-3):.1f}x; target <= 10x)"
            )
    if len(sizes) > 1:
        names = [k for k in all_results[sizes[-1]] if all(k in all_results[n] for n in sizes)]
        print(
            "\ngrowth (time; each step's factor, where linear in the statements is "
            + ", ".join(f"{b // a}x" for a, b in itertools.pairwise(sizes))
            + ")"
        )
        print(
            f"  {'command':<40}"
            + "".join(f"{n:>10,}" for n in sizes)
            + "".join(f"{f'{a // 1000}k->{b // 1000}k':>11}" for a, b in itertools.pairwise(sizes))
        )
        for name in names:
            ts = [all_results[n][name]["time"] for n in sizes]
            print(
                f"  {name:<40}"
                + "".join(f"{t:>9.2f}s" for t in ts)
                + "".join(f"{b / a:>10.1f}x" for a, b in itertools.pairwise(ts))
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000,10000,50000")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", help="comma-separated command names (list, run, report, ...)")
    ap.add_argument("--reuse", action="store_true", help="take any built store of a size")
    ap.add_argument(
        "--keep-index", action="store_true", help="no cold index build: measure the store as it is"
    )
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--build", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--into", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--floor", help=argparse.SUPPRESS)
    ap.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--args", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.build:
        build(args.build, args.into)
        return
    if args.floor:
        FLOORS[args.floor](args.store, json.loads(args.args.read_text()) if args.args else {})
        return
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(SRC)], check=False)
    only = set(args.only.split(",")) if args.only else None
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{os.cpu_count()} CPU(s), Python {sys.version.split()[0]}; {args.rounds} rounds")
    results = {n: bench_size(n, args.rounds, only, args.reuse, args.keep_index) for n in sizes}
    report(results)
    if args.json:
        args.json.write_text(json.dumps({str(k): v for k, v in results.items()}, indent=1))


if __name__ == "__main__":
    main()
