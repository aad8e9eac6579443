"""Benchmark: `dipdiff fetch` against urlwatch and a bare httpx + lxml loop, in the same run.

    python benchmarks/bench_fetch.py [--pages 2000] [--edits 20] [--urlwatch PATH] [--memory]

A separate process (benchmarks/_site.py) serves N statement pages (modelled on a
state.gov press statement, ~40 KB each, with ETag and Last-Modified) and a
sitemap on 127.0.0.1. Each tool runs as a subprocess (interpreter start-up
included) three times: a first run (everything new), a no-change run, and a run
after K pages were edited. dipdiff runs with `--all` so that its schedule skips
nothing, with the same concurrency (8) as the baseline and no per-host delay.

urlwatch is looked for on PATH, then in benchmarks/.venv-urlwatch
(`python3 -m venv benchmarks/.venv-urlwatch && benchmarks/.venv-urlwatch/bin/pip
install urlwatch cssselect`); it is configured on the same URLs with a css filter
on the statement body. `--memory` also runs dipdiff alone at N/4 and N/2 pages to
show that its peak memory does not grow with the number of statements.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
# Every tool runs as installed: with byte-code caches (pip compiles urlwatch's on install;
# an editable dipdiff writes its own on first use unless PYTHONDONTWRITEBYTECODE is set).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(cmd: list[str], cwd: Path) -> tuple[float, int, str]:
    """Wall time, peak RSS (MB) and stdout of one subprocess."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    elapsed = time.perf_counter() - started
    # ru_maxrss of the finished child (KB on Linux), via os.wait4 semantics of getrusage.
    import resource

    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err.strip()[-500:]}")
    return elapsed, rss, out


def child_rss(cmd: list[str], cwd: Path) -> tuple[float, int, str]:
    """Like :func:`run`, but the peak RSS of this child alone (os.wait4)."""
    started = time.perf_counter()
    out_path = cwd / ".out"
    with out_path.open("w") as out, (cwd / ".err").open("w") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=ENV)
        _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(
            f"{' '.join(cmd[:3])} failed ({code}): {(cwd / '.err').read_text()[-800:]}"
        )
    child_rss.cpu = usage.ru_utime + usage.ru_stime  # type: ignore[attr-defined]
    return elapsed, usage.ru_maxrss // 1024, out_path.read_text()


class Site:
    def __init__(self, pages: int, validators: bool = True) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "_site.py"),
                str(pages),
                "validators" if validators else "plain",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(self.proc.stdout.readline())

    def cpu(self) -> float:
        """CPU seconds the site's process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def edit(self, k: int) -> None:
        self.proc.stdin.write(f"edit {k}\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "ok"

    def close(self) -> None:
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        self.proc.wait(10)


def dipdiff_setup(folder: Path, site: Site) -> list[str]:
    folder.mkdir(parents=True)
    (folder / "dipdiff.toml").write_text(f"""
[dipdiff]
allow_private = true
delay = 0
concurrency = 8
per_host = 8
robots = false
[sources.bench]
kind = "sitemap"
url = "{site.url("/sitemap.xml")}"
agency = "Benchmark Department"
max_items = 1000000
[sources.bench.extract]
title = ["h1.featured-content__headline"]
body = ["div.entry-content"]
""")
    return [str(BIN / "dipdiff"), "--store", "snapshots", "fetch", "--all", "--json"]


def dipdiff_count(out: str) -> str:
    doc = json.loads(out)
    o = doc["outcomes"]
    return f"{o['new']} new, {o['changed']} changed, {o['unchanged']} unchanged"


def urlwatch_bin() -> str | None:
    found = shutil.which("urlwatch")
    local = HERE / ".venv-urlwatch" / "bin" / "urlwatch"
    return found or (str(local) if local.exists() else None)


def urlwatch_setup(folder: Path, site: Site, pages: int, exe: str) -> list[str]:
    folder.mkdir(parents=True)
    jobs = [
        f'name: "r{i}"\nurl: "{site.url(f"/releases/{i}/")}"\nfilter:\n  - css: div.entry-content\n'
        for i in range(pages)
    ]
    (folder / "urls.yaml").write_text("---\n".join(jobs))
    (folder / "hooks.py").write_text("")
    (folder / "urlwatch.yaml").write_text(
        "display: {new: true, error: true, unchanged: false, empty-diff: false}\n"
        "report:\n  stdout: {enabled: true, color: false}\n"
        "  text: {details: false, footer: false, minimal: true}\n"
    )
    return [
        exe,
        "--urls",
        "urls.yaml",
        "--config",
        "urlwatch.yaml",
        "--hooks",
        "hooks.py",
        "--cache",
        "cache.db",
    ]


def urlwatch_count(out: str) -> str:
    new = out.count("NEW: ")
    changed = out.count("CHANGED: ")
    errors = out.count("ERROR: ")
    return f"{new} new, {changed} changed" + (f", {errors} errors" if errors else "")


def bare_setup(folder: Path, site: Site) -> list[str]:
    folder.mkdir(parents=True)
    return [sys.executable, str(HERE / "_bare.py"), site.url("/sitemap.xml"), "state.json"]


CPU: dict[tuple[str, str], tuple[float, float]] = {}  # (tool, phase) -> (tool CPU s, site CPU s)


def scenario(pages: int, edits: int, with_urlwatch: bool, out_dir: Path) -> dict:
    site = Site(pages)
    try:
        tools: dict[str, tuple[list[str], Path, callable]] = {}
        d = out_dir / "dipdiff"
        tools["dipdiff"] = (dipdiff_setup(d, site), d, dipdiff_count)
        exe = urlwatch_bin() if with_urlwatch else None
        if exe:
            u = out_dir / "urlwatch"
            tools["urlwatch"] = (urlwatch_setup(u, site, pages, exe), u, urlwatch_count)
        b = out_dir / "bare"
        tools["bare httpx+lxml"] = (bare_setup(b, site), b, lambda out: out.strip())
        results: dict[str, dict[str, tuple[float, int, str]]] = {t: {} for t in tools}
        for phase in ("first run", "no change", f"{edits} edited"):
            if phase.endswith("edited"):
                site.edit(edits)
            for name, (cmd, cwd, count) in tools.items():
                site_cpu = site.cpu()
                elapsed, rss, out = child_rss(cmd, cwd)
                results[name][phase] = (elapsed, rss, count(out))
                CPU[(name, phase)] = (child_rss.cpu, site.cpu() - site_cpu)  # type: ignore[attr-defined]
        return results
    finally:
        site.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--edits", type=int, default=20)
    ap.add_argument("--no-urlwatch", action="store_true")
    ap.add_argument(
        "--memory", action="store_true", help="also run dipdiff alone at N/4 and N/2 pages"
    )
    ap.add_argument(
        "--memory-only", action="store_true", help="only the memory runs (dipdiff alone)"
    )
    args = ap.parse_args()
    if args.memory_only:
        memory(args.pages, args.edits)
        return
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(HERE.parent / "src")], env=ENV, check=False
    )
    out_dir = HERE / "out" / f"fetch-{args.pages}"
    shutil.rmtree(out_dir, ignore_errors=True)
    if not args.no_urlwatch and not urlwatch_bin():
        print(
            "urlwatch not found (see the docstring); comparing with the bare loop only",
            file=sys.stderr,
        )
    print(
        f"{args.pages} statement pages on 127.0.0.1, {os.cpu_count()} CPU(s), Python "
        f"{sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}"
    )
    results = scenario(args.pages, args.edits, not args.no_urlwatch, out_dir)
    phases = list(next(iter(results.values())))
    print()
    print(f"{'tool':<18}" + "".join(f"{p:>22}" for p in phases))
    for name, by_phase in results.items():
        print(
            f"{name:<18}"
            + "".join(f"{t:>10.2f} s {rss:>5} MB  " for t, rss, _ in by_phase.values())
        )
    print("CPU seconds (tool / web site):")
    for name in results:
        print(
            f"{name:<18}"
            + "".join(f"{CPU[(name, p)][0]:>10.2f} / {CPU[(name, p)][1]:<9.2f}" for p in phases)
        )
    print()
    for name, by_phase in results.items():
        print(f"{name:<18}" + " | ".join(f"{p}: {c}" for p, (_, _, c) in by_phase.items()))
    print()
    dd = results["dipdiff"]
    for other in results:
        if other == "dipdiff":
            continue
        ratios = ", ".join(f"{p}: {results[other][p][0] / dd[p][0]:.2f}x" for p in phases)
        print(f"{other} time / dipdiff time  ->  {ratios}")
    bare = results["bare httpx+lxml"]["no change"][0]
    nochange = dd["no change"][0]
    first, bare_first = dd["first run"][0], results["bare httpx+lxml"]["first run"][0]
    print(f"dipdiff first run / bare loop = {first / bare_first:.2f} (target <= 2)")
    if "urlwatch" in results:
        print(
            f"urlwatch / dipdiff first run = "
            f"{results['urlwatch']['first run'][0] / first:.2f} (target >= 1)"
        )
    print(f"dipdiff no-change run / bare conditional loop = {nochange / bare:.2f} (target <= 1.5)")
    if "urlwatch" in results:
        print(
            f"urlwatch / dipdiff no-change run = "
            f"{results['urlwatch']['no change'][0] / nochange:.2f} (target >= 2)"
        )
    print("load average (1, 5, 15 min) at the end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    if args.memory:
        memory(args.pages, args.edits, known={args.pages: dd["no change"]})


def memory(pages: int, edits: int, known: dict | None = None) -> None:
    """dipdiff's peak memory in a no-change run at N/4, N/2 and N statements."""
    print()
    print("dipdiff peak memory (no-change run) as the store grows:")
    for n in (pages // 4, pages // 2, pages):
        if known and n in known:
            t, rss, _ = known[n]
        else:
            out = HERE / "out" / f"memory-{n}"
            shutil.rmtree(out, ignore_errors=True)
            sub = scenario(n, edits, False, out)["dipdiff"]
            t, rss, _ = sub["no change"]
        print(f"  {n:>6} statements: {rss:>4} MB peak RSS, {t:.2f} s", flush=True)


if __name__ == "__main__":
    main()
