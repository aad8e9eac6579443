"""Links inside the store, files deleted by hand, and `verify` during a run: real runs through
the CLI against a local server, in a git repository."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dipdiff.pipeline.server import Response
from faultkit import FIGURES, ListingSite, statement_html
from helpers import Cli, git, monitoring_folder
from routes import slow

pytestmark = pytest.mark.slow  # several runs per test

CONFIG = (
    "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\n"
    '[sources.state-dept]\nkind = "listing"\nurl = "{url}"\n'
    'agency = "U.S. Department of State"\nselector = "li.item"\n'
)


def sid(i: int) -> str:
    return f"state-dept/statement-{i}-on-regional-talks"


@pytest.fixture
def monitored(tmp_path, server):
    site = ListingSite(server, pages=3)
    (tmp_path / "watch").mkdir()
    folder = monitoring_folder(tmp_path / "watch", CONFIG.format(url=server.url("/releases/")))
    return folder, site


def run(folder: Path, when: str):
    return Cli(folder / "snapshots")(
        "run", "--config", str(folder / "dipdiff.toml"), "--commit", env={"DIPDIFF_NOW": when}
    )


def tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def versions(folder: Path) -> dict[str, int]:
    r = Cli(folder / "snapshots")("list", "--json")
    return {row["id"]: row["versions"] for row in json.loads(r.stdout)}


def test_links_inside_the_store_are_never_followed(monitored, tmp_path):
    folder, site = monitored
    store = folder / "snapshots"
    assert run(folder, "2019-04-20T09:00:00Z").exit_code == 1
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    # Statement 1's folder and statement 2's meta.json now live outside, behind links.
    shutil.move(str(store / sid(1)), outside / "statement-1")
    (store / sid(1)).symlink_to(outside / "statement-1")
    shutil.copy(store / sid(2) / "meta.json", outside / "meta.json")
    (store / sid(2) / "meta.json").unlink()
    (store / sid(2) / "meta.json").symlink_to(outside / "meta.json")
    (outside / ".stray.tmp").write_text("not the store's", encoding="utf-8")
    before = tree(outside)

    for i in range(3):
        site.edit(i, "without preconditions")
    r = run(folder, "2019-04-21T09:00:00Z")
    assert r.exit_code == 2 and "symbolic link" in r.stderr, r.output
    assert versions(folder)[sid(0)] == 2  # the other statement goes on
    r = Cli(store)("verify", "--repair")
    assert r.exit_code == 2, r.output
    for link in (store / sid(1), store / sid(2) / "meta.json"):
        assert f"{link}: a symbolic link" in r.stderr, r.stderr
    assert tree(outside) == before  # nothing written, nothing removed through a link
    assert (store / sid(1)).is_symlink() and (store / sid(2) / "meta.json").is_symlink()
    FIGURES["fault scenarios"] += 1
    FIGURES["damaged files tried"] += 2
    FIGURES["runs that went on"] += 1


def test_a_deleted_meta_json_does_not_make_a_second_version(monitored):
    folder, site = monitored
    store = folder / "snapshots"
    assert run(folder, "2019-04-20T09:00:00Z").exit_code == 1
    (store / sid(0) / "meta.json").unlink()
    r = Cli(store)("verify")
    assert r.exit_code == 2 and "no meta.json (deleted?)" in r.stderr, r.output
    assert run(folder, "2019-04-21T09:00:00Z").exit_code == 0  # nothing new, nothing stored
    site.edit(0, "at once")
    assert run(folder, "2019-04-22T09:00:00Z").exit_code == 1
    assert versions(folder) == {sid(0): 2, sid(1): 1, sid(2): 1}
    assert (store / sid(0) / "meta.json").exists()
    assert Cli(store)("verify").exit_code == 0
    FIGURES["fault scenarios"] += 1
    FIGURES["damaged files tried"] += 1
    FIGURES["runs that went on"] += 2


def test_a_deleted_raw_page_is_found_by_verify(monitored):
    folder, _site = monitored
    store = folder / "snapshots"
    assert run(folder, "2019-04-20T09:00:00Z").exit_code == 1
    (raw,) = (store / sid(1) / "raw").iterdir()
    raw.unlink()
    r = Cli(store)("verify")
    assert r.exit_code == 2 and f"its raw page {raw.name} is missing" in r.stderr, r.output
    assert f"`git checkout -- {raw}`" in r.stderr
    git(folder, "checkout", "--", str(raw))
    assert Cli(store)("verify").exit_code == 0
    FIGURES["fault scenarios"] += 1
    FIGURES["damaged files tried"] += 1


def test_verify_during_a_run_does_not_report_what_the_run_is_writing(monitored, server):
    folder, site = monitored
    store = folder / "snapshots"
    assert run(folder, "2019-04-20T09:00:00Z").exit_code == 1
    for i in range(3):
        site.edit(i, "without preconditions")
    page = statement_html("Statement 2 on Talks", site.texts[2])
    server.set(site.path(2), slow(4, Response(page)))
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "dipdiff", "--store", str(store), "run"),
            *("--config", str(folder / "dipdiff.toml")),
        ],
        env={**os.environ, "DIPDIFF_NOW": "2019-04-21T09:00:00Z", "NO_COLOR": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while server.hits(site.path(2)) < 1 + 1:  # day 1, then this run's request
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        # What a run leaves for a moment while it writes: a temp file of an atomic write.
        tmp = store / sid(0) / ".meta.json.1a2b3c.tmp"
        tmp.write_text("{", encoding="utf-8")
        r = Cli(store)("verify")
        assert proc.poll() is None, "the run ended before verify ran"
        assert r.exit_code == 0, r.output
    finally:
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    r = Cli(store)("verify")  # the run is over: what is left now is a leftover
    assert r.exit_code == 2 and f"{tmp}: leftover temporary file" in r.stderr, r.output
    FIGURES["fault scenarios"] += 1
