"""Disk full, read-only store, file-size limit: a one-line error, exit 2, and the store as it was.

Tests run as root in CI, where file modes do not stop writes; so the store is put on a real
tmpfs, mounted (in a private mount namespace, with ``unshare``) too small or read-only. Where
namespaces are not allowed, those tests skip and say why; the file-size limit (``RLIMIT_FSIZE``)
and an ``fsync`` that fails with ENOSPC need no privileges and always run.
"""

from __future__ import annotations

import errno
import filecmp
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dipdiff.store.index import INDEX_NAME
from dipdiff.store.store import Store
from dipdiff.store.verify import verify
from faultkit import FIGURES, Site, dipdiff, fetch_config, stored_versions

pytestmark = pytest.mark.slow  # the disk-full suite: a write failed at each of its steps


def _namespaces_work() -> str | None:
    if not shutil.which("unshare"):
        return "the unshare command is not installed"
    r = subprocess.run(
        ["unshare", "-Urm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
        capture_output=True,
        text=True,
        check=False,
    )
    return None if r.returncode == 0 else f"cannot mount a tmpfs in a namespace: {r.stderr.strip()}"


NO_NAMESPACES = _namespaces_work()
needs_mounts = pytest.mark.skipif(NO_NAMESPACES is not None, reason=str(NO_NAMESPACES))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A store with day 1 of a small site, and the site (day 2 edits every page); tests copy it."""
    tmp_path = tmp_path_factory.mktemp("seeded")
    site = Site(tmp_path / "site", pages=3, days=2, seed=2).build()
    for i in range(site.pages):  # make sure day 2 is a new version of every page
        day2 = site.page_path(2, i)
        day2.write_bytes(site.page_path(1, i).read_bytes().replace(b"<p>", b"<p>Updated: ", 1))
    store = tmp_path / "seed" / "snapshots"
    for i, url in enumerate(site.urls):
        r = dipdiff(
            "--store",
            str(store),
            "import",
            str(site.page_path(1, i)),
            "--url",
            url,
            "--fetched-at",
            site.fetched_at(1),
        )
        assert r.returncode == 1, r.stderr  # new
    return site, store


def _import_args(store: Path, site: Site, i: int = 0) -> list[str]:
    return [
        sys.executable,
        "-m",
        "dipdiff",
        "--store",
        str(store),
        "import",
        str(site.page_path(2, i)),
        "--url",
        site.urls[i],
        "--fetched-at",
        site.fetched_at(2),
    ]


def _in_namespace(script: str, **env: str) -> subprocess.CompletedProcess:
    """Run ``script`` in a private mount namespace; ``$M`` is the mount point (created here)."""
    Path(env["M"]).mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        ["unshare", "-Urm", "sh", "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", **env},
        timeout=120,
        check=False,
    )


def _same_tree(a: Path, b: Path) -> bool:
    # The lock and the derived index are no part of what a store holds.
    cmp = filecmp.dircmp(a, b, ignore=[".lock", INDEX_NAME])
    stack = [cmp]
    while stack:
        c = stack.pop()
        if c.left_only or c.right_only or c.diff_files or c.funny_files:
            return False
        _, mismatch, errors = filecmp.cmpfiles(c.left, c.right, c.common_files, shallow=False)
        if mismatch or errors:
            return False
        stack.extend(c.subdirs.values())
    return True


def _one_line_error(stderr: str, *needles: str) -> None:
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dipdiff: error: "), stderr
    assert "Traceback" not in stderr
    for n in needles:
        assert n in lines[0], lines[0]


@needs_mounts
def test_disk_full_at_every_point_of_a_write(tmp_path, seeded):
    site, seed = seeded
    out = tmp_path / "out"
    out.mkdir()
    free_kb = [0, 4, 8, 16, 40]  # 0-8 KB: the raw page, the version or meta.json fails; 40: all fit
    script = ['set -e; mount -t tmpfs -o size=512k tmpfs "$M"']
    script += [
        f'''
            rm -rf "$M"/*; cp -a "$SEED" "$M/snapshots"
            dd if=/dev/zero of="$M/filler" bs=4k 2>/dev/null || true
            size=$(stat -c %s "$M/filler")
            truncate -s $((size > {kb * 1024} ? size - {kb * 1024} : 0)) "$M/filler"
            set +e
            "$PY" -m dipdiff --store "$M/snapshots" import "$PAGE" --url "$URL" \
                --fetched-at "$WHEN" >"$OUT/{kb}.out" 2>"$OUT/{kb}.err"
            echo $? >"$OUT/{kb}.rc"; set -e
            cp -a "$M/snapshots" "$OUT/{kb}.store"'''
        for kb in free_kb
    ]
    script.append('''rm -rf "$M/filler" "$M/snapshots"; cp -a "$SEED" "$M/snapshots"  # space again
        set +e  # the import exits 1: it recorded a change
        "$PY" -m dipdiff --store "$M/snapshots" import "$PAGE" --url "$URL" --fetched-at "$WHEN" \
            >"$OUT/after.out" 2>&1
        echo $? >"$OUT/after.rc"''')
    r = _in_namespace(
        "\n".join(script),
        M=str(tmp_path / "mnt"),
        SEED=str(seed),
        OUT=str(out),
        PY=sys.executable,
        PAGE=str(site.page_path(2, 0)),
        URL=site.urls[0],
        WHEN=site.fetched_at(2),
    )
    assert r.returncode == 0, r.stderr
    failed = 0
    for kb in free_kb:
        rc = int((out / f"{kb}.rc").read_text())
        after = out / f"{kb}.store"
        assert verify(Store(after)) == [], kb  # no temp file, no orphan, nothing half-written
        if rc == 2:
            failed += 1
            _one_line_error(
                (out / f"{kb}.err").read_text(),
                "cannot write: No space left on device",
                "(the disk is full)",
            )
            assert _same_tree(after, seed), f"{kb} KB free: the failed run changed the store"
        else:
            assert rc == 1, (out / f"{kb}.err").read_text()  # the change recorded
            assert stored_versions(after)[site.urls[0]] == 2
    assert failed >= 2  # the smallest margins really failed
    assert (out / "after.rc").read_text().strip() == "1", (out / "after.out").read_text()
    assert (out / "after.out").read_text().startswith("changed")
    FIGURES["fault scenarios"] += len(free_kb)


@needs_mounts
def test_disk_full_on_a_new_statement_leaves_no_empty_statement(tmp_path, seeded):
    site, _ = seeded
    out = tmp_path / "out"
    out.mkdir()
    script = '''set -e; mount -t tmpfs -o size=256k tmpfs "$M"
        "$PY" -m dipdiff --store "$M/snapshots" verify --repair >/dev/null 2>&1 || true
        mkdir -p "$M/snapshots"; : > "$M/snapshots/.lock"
        printf '.lock\\n.*.tmp\\n' > "$M/snapshots/.gitignore"
        printf '*/*/checks.jsonl merge=union\\n' > "$M/snapshots/.gitattributes"
        printf '{"uid": "0123"}\\n' > "$M/snapshots/store.json"
        dd if=/dev/zero of="$M/filler" bs=4k 2>/dev/null || true
        size=$(stat -c %s "$M/filler"); truncate -s $((size - 8192)) "$M/filler"
        set +e
        "$PY" -m dipdiff --store "$M/snapshots" import "$PAGE" --url "$URL" >"$OUT/out" 2>"$OUT/err"
        echo $? >"$OUT/rc"; set -e; cp -a "$M/snapshots" "$OUT/store"'''
    r = _in_namespace(
        script,
        M=str(tmp_path / "mnt"),
        OUT=str(out),
        PY=sys.executable,
        PAGE=str(site.page_path(1, 1)),
        URL=site.urls[1],
    )
    assert r.returncode == 0, r.stderr
    assert (out / "rc").read_text().strip() == "2", (out / "out").read_text()
    _one_line_error((out / "err").read_text(), "No space left on device")
    assert sorted(p.name for p in (out / "store").iterdir()) == [
        ".gitattributes",
        ".gitignore",
        ".lock",
        "store.json",
    ]
    FIGURES["fault scenarios"] += 1


@needs_mounts
def test_read_only_store(tmp_path, seeded):
    site, seed = seeded
    out = tmp_path / "out"
    out.mkdir()
    script = '''set -e; mount -t tmpfs tmpfs "$M"; cp -a "$SEED" "$M/snapshots"
        mount -o remount,ro "$M"
        set +e
        "$PY" -m dipdiff --store "$M/snapshots" import "$PAGE" --url "$URL" \
            >"$OUT/import.out" 2>"$OUT/import.err"
        echo $? >"$OUT/import.rc"
        "$PY" -m dipdiff --store "$M/snapshots" verify >"$OUT/verify.out" 2>&1
        echo $? >"$OUT/verify.rc"
        "$PY" -m dipdiff --store "$M/snapshots" list --json >"$OUT/list.out" 2>&1
        echo $? >"$OUT/list.rc"
        "$PY" -m dipdiff --store "$M/new-store" list >"$OUT/new.out" 2>"$OUT/new.err"
        echo $? >"$OUT/new.rc"
        "$PY" -m dipdiff --store "$M/new-store" import "$PAGE" --url "$URL" >"$OUT/new-import.out" \
            2>"$OUT/new-import.err"; echo $? >"$OUT/new-import.rc"
        cp -a "$M/snapshots" "$OUT/store"'''
    r = _in_namespace(
        script,
        M=str(tmp_path / "mnt"),
        SEED=str(seed),
        OUT=str(out),
        PY=sys.executable,
        PAGE=str(site.page_path(2, 0)),
        URL=site.urls[0],
    )
    assert r.returncode == 0, r.stderr
    read = lambda name: (out / name).read_text()  # noqa: E731
    assert read("import.rc").strip() == "2" and read("import.out") == ""
    _one_line_error(read("import.err"), ".lock", "Read-only file system", "read-only file system)")
    assert read("verify.rc").strip() == "0", read("verify.out")  # reading needs no write access
    assert read("list.rc").strip() == "0" and "Statement 0 on Regional Security" in read("list.out")
    # A store that does not exist is trouble, in one line naming it.
    assert read("new.rc").strip() == "2" and read("new.out") == ""
    _one_line_error(read("new.err"), "new-store", "no such store")
    assert read("new-import.rc").strip() == "2"
    _one_line_error(
        read("new-import.err"), "new-store", "cannot create the store", "Read-only file system"
    )
    assert _same_tree(out / "store", seed)
    FIGURES["fault scenarios"] += 3


def _limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG from write() instead of dying
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize("fails", ["raw", "checks.jsonl"])
def test_file_size_limit(tmp_path, seeded, fails, cli):
    """RLIMIT_FSIZE: the first write (the raw page) or the last (the check line) cannot be
    written."""
    site, seed = seeded
    store = tmp_path / "snapshots"
    shutil.copytree(seed, store)
    cli.store = store
    for _ in range(4):  # a longer check history: checks.jsonl becomes the largest file
        assert cli("import", str(site.page_path(1, 0)), "--url", site.urls[0]).output.startswith(
            "unchanged"
        )
    seed = tmp_path / "baseline"
    shutil.copytree(store, seed)
    folder = next(store.glob("*/statement-000-*"))
    # The new raw page and version are about as long as today's; checks.jsonl only grows.
    limit = (
        100 if fails == "raw" else max(p.stat().st_size for p in folder.rglob("2019-04-01*")) + 100
    )
    assert fails == "raw" or (folder / "checks.jsonl").stat().st_size > limit
    r = subprocess.run(
        _import_args(store, site),
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        preexec_fn=_limit_file_size(limit),
        check=False,
    )
    assert r.returncode == 2, r.stdout
    _one_line_error(
        r.stderr,
        "cannot write: File too large",
        "ulimit -f",
        "/raw/" if fails == "raw" else "checks.jsonl",
    )
    assert _same_tree(store, seed)  # the version written before its check failed was undone
    assert verify(Store(store)) == []
    FIGURES["fault scenarios"] += 1


def test_fsync_failing_with_enospc_keeps_the_store(tmp_path, seeded, cli, monkeypatch):
    """Some file systems report a full disk only at fsync; every fsync of a run fails in turn."""
    site, seed = seeded
    real_fsync = os.fsync
    for n in range(1, 12):
        store = tmp_path / f"s{n}"
        shutil.copytree(seed, store)
        calls = [0]

        def fsync(fd, n=n, calls=calls):
            calls[0] += 1
            if calls[0] == n:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real_fsync(fd)

        monkeypatch.setattr(os, "fsync", fsync)
        cli.store = store
        r = cli(
            "import",
            str(site.page_path(2, 0)),
            "--url",
            site.urls[0],
            "--fetched-at",
            site.fetched_at(2),
        )
        monkeypatch.setattr(os, "fsync", real_fsync)
        assert verify(Store(store)) == [], n
        if r.exit_code == 2:
            _one_line_error(r.output, "No space left on device")
            versions = stored_versions(store)[site.urls[0]]
            # The version is either not stored at all, or stored and only its check is missing.
            assert (versions == 1 and _same_tree(store, seed)) or versions == 2, n
        else:
            assert r.exit_code == 1 and r.output.startswith("changed"), r.output
    FIGURES["fault scenarios"] += 11


def test_a_group_commit_that_fails_stores_nothing_it_did_not_record(tmp_path, cli, server):
    """A fetch run's group commit fails at each of its fsyncs in turn (a full disk said only
    there): one line naming the file, exit 2, no leftover; the next run stores every page."""
    site = Site(tmp_path / "site", pages=3, days=1, seed=4).build(server.url("/releases/2019/"))
    site.serve_day(server, 1)
    config = fetch_config(tmp_path / "dipdiff.toml", server)
    real_fsync = os.fsync
    failed = 0
    for n in range(1, 10):
        store = tmp_path / f"s{n}"
        calls = [0]

        def fsync(fd, n=n, calls=calls):
            path = str(Path(f"/proc/self/fd/{fd}").readlink())
            if "/fault-site/" in path and path.endswith(".tmp"):
                calls[0] += 1  # a staged file of a statement, not one of the store's own
                if calls[0] == n:
                    raise OSError(errno.ENOSPC, "No space left on device")
            return real_fsync(fd)

        cli.store = store
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(os, "fsync", fsync)
            r = cli("fetch", "--all", "--config", str(config))
        if calls[0] < n:
            break  # fewer staged files than n: every one of them was tried
        failed += 1
        assert r.exit_code == 2, (n, r.output)
        # After the run's progress, one line names the file.
        _one_line_error(r.output.splitlines()[-1], "No space left on device", "/fault-site/")
        assert "Traceback" not in r.output
        assert not list(store.rglob("*.tmp")), n
        assert verify(Store(store)) == [], n
        again = cli("fetch", "--all", "--config", str(config))
        assert again.exit_code == 1, (n, again.output)
        assert stored_versions(store) == site.expected_versions(1), n
        assert verify(Store(store)) == [], n
    assert failed >= 6  # a meta.json, a raw page and a version file for each page
    FIGURES["fault scenarios"] += failed
