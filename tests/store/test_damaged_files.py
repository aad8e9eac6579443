"""One damaged file of the store costs one statement (or one run record), never the monitoring.

A monitoring folder (a git repository, five statements on a local listing) runs on day 1; then
one file is damaged the way it happens (a merge that left conflict markers, a truncated or empty
file, a file that is not UTF-8). On day 2 every other statement is still checked, its edit
reported and committed; `list`, `report` and `verify` name the file; `verify --repair` mends what
it safely can and names what it cannot with the command to run; after that, day 3 runs clean and
no version was lost.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from dipdiff.store.store import Store
from faultkit import FIGURES, ListingSite, reported_once
from helpers import Cli, git, monitoring_folder

pytestmark = pytest.mark.slow  # three runs, a git repository and a repair per case: ~3 s each

SID0 = "state-dept/statement-0-on-regional-talks"


def _merge_file(path: Path, ours: str, base: str, theirs: str) -> None:
    """Write ``path`` as git leaves a file both sides of a merge changed: with markers."""
    parts = {}
    for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
        parts[name] = path.with_name(f"{path.name}.{name}")
        parts[name].write_text(text, encoding="utf-8")
    r = subprocess.run(
        ["git", "merge-file", "-p", *(str(parts[n]) for n in ("ours", "base", "theirs"))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode > 0 and "<<<<<<<" in r.stdout, r.stderr
    path.write_text(r.stdout, encoding="utf-8")
    for p in parts.values():
        p.unlink()


def _later(check: dict, time: str) -> dict:
    return {k: v for k, v in check.items() if k not in ("base_sha256", "version")} | {
        "time": time,
        "outcome": "unchanged",
    }


def meta_conflict(store: Path) -> Path:
    """Two clones of an older dipdiff (history inside meta.json) that both checked statement 0."""
    folder = store / SID0
    meta = Store(store).meta(SID0)
    doc = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    doc |= {"title": meta.title, "agency": meta.agency, "published": meta.published}
    (folder / "checks.jsonl").unlink()
    base = meta.checks
    texts = [
        json.dumps(doc | {"checks": checks}, indent=2) + "\n"
        for checks in (
            [*base, _later(base[-1], "2019-04-20T12:00:00Z")],
            base,
            [*base, _later(base[-1], "2019-04-20T15:00:00Z")],
        )
    ]
    _merge_file(folder / "meta.json", *texts)
    return folder / "meta.json"


def checks_conflict(store: Path) -> Path:
    """A merge without `.gitattributes` (an older checkout): both appended a check line."""
    path = store / SID0 / "checks.jsonl"
    base = path.read_text(encoding="utf-8")
    last = json.loads(base.splitlines()[-1])
    ours, theirs = (
        base + json.dumps(_later(last, t)) + "\n"
        for t in ("2019-04-20T12:00:00Z", "2019-04-20T15:00:00Z")
    )
    _merge_file(path, ours, base, theirs)
    return path


def meta_truncated(store: Path) -> Path:
    path = store / SID0 / "meta.json"
    path.write_bytes(path.read_bytes()[:40])
    return path


def meta_empty(store: Path) -> Path:
    path = store / SID0 / "meta.json"
    path.write_bytes(b"")
    return path


def meta_checks_not_a_list(store: Path) -> Path:
    path = store / SID0 / "meta.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(doc | {"checks": 5}), encoding="utf-8")
    return path


def version_empty(store: Path) -> Path:
    (path,) = (store / SID0).glob("*.md")
    path.write_bytes(b"")
    return path


def version_not_utf8(store: Path) -> Path:
    (path,) = (store / SID0).glob("*.md")
    path.write_bytes(path.read_bytes().replace(b"Statement 0", b"Statement \xff\xfe"))
    return path


def runs_conflict(store: Path) -> Path:
    """An older store's runs.json, merged from two clones that both ran."""
    (record,) = (store / "runs").iterdir()
    first = json.loads(record.read_text(encoding="utf-8"))
    record.unlink()
    (store / "runs").rmdir()
    uid = json.loads((store / "store.json").read_text(encoding="utf-8"))["uid"]

    def log(*times: str) -> str:
        more = [first | {"id": t, "started_at": t, "finished_at": t, "counts": {}} for t in times]
        return json.dumps({"store": uid, "runs": [first, *more]}, indent=1) + "\n"

    _merge_file(
        store / "runs.json", log("2019-04-20T12:00:00Z"), log(), log("2019-04-20T15:00:00Z")
    )
    return store / "runs.json"


def runs_empty(store: Path) -> Path:
    (record,) = (store / "runs").iterdir()
    record.unlink()
    (store / "runs").rmdir()
    (store / "runs.json").write_bytes(b"")
    return store / "runs.json"


def run_record_empty(store: Path) -> Path:
    (record,) = (store / "runs").iterdir()
    record.write_bytes(b"")
    return record


#: damage -> (does it cost statement 0?, can `verify --repair` mend it?)
CASES: dict[Callable[[Path], Path], tuple[bool, bool]] = {
    meta_conflict: (True, True),
    checks_conflict: (True, True),
    meta_truncated: (True, True),
    meta_empty: (True, True),
    meta_checks_not_a_list: (True, True),
    version_empty: (True, False),
    version_not_utf8: (True, False),
    runs_conflict: (False, True),
    runs_empty: (False, True),
    run_record_empty: (False, True),
}


@pytest.fixture
def monitored(tmp_path, server):
    site = ListingSite(server, pages=5)
    folder = monitoring_folder(
        tmp_path,
        "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\n"
        f'[sources.state-dept]\nkind = "listing"\nurl = "{server.url("/releases/")}"\n'
        'agency = "U.S. Department of State"\nselector = "li.item"\n',
    )
    return folder, site


def _run(folder: Path, when: str):
    return Cli(folder / "snapshots")(
        "run", "--config", str(folder / "dipdiff.toml"), "--commit", env={"DIPDIFF_NOW": when}
    )


@pytest.mark.parametrize("damage", list(CASES), ids=[f.__name__ for f in CASES])
def test_a_damaged_file_costs_its_statement_only(monitored, damage):
    folder, site = monitored
    store = folder / "snapshots"
    cli = Cli(store)
    costs_statement, mendable = CASES[damage]
    r = _run(folder, "2019-04-20T09:00:00Z")
    assert r.exit_code == 1, r.output
    path = damage(store)

    # Day 2: two edits, one of them to the damaged statement.
    site.edit(0, "without preconditions")
    site.edit(1, "and to protect civilians")
    r = _run(folder, "2019-04-21T09:00:00Z")
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and str(path) in r.stderr, r.output
    report = (folder / "reports" / "2019-04-21.md").read_text(encoding="utf-8")
    problems = report.split("## Problems")[-1]
    assert "Statement 1 on Talks" in report and f"{path.parent.name}/" in problems, report
    assert ("Statement 0 on Talks" in report) is not costs_statement, report
    committed = git(folder, "show", "--name-only", "--format=%s", "HEAD")
    assert "2019-04-21T090000Z.md" in committed and "statement-1-" in committed, committed
    FIGURES["runs that went on"] += 1

    r = cli("list", "--json")  # never reads run records
    assert r.exit_code == (2 if costs_statement else 0), r.output
    assert (str(path) in r.stderr) is costs_statement, r.output
    assert len(json.loads(r.stdout)) == (4 if costs_statement else 5), r.stdout
    r = cli("report", "--date", "2019-04-21", "--out", "-")
    assert r.exit_code == 2 and str(path) in r.stderr and "Statement 1 on Talks" in r.stdout
    r = cli("verify")
    assert r.exit_code == 2 and str(path) in r.stderr, r.output

    r = cli("verify", "--repair")
    if mendable:
        assert r.exit_code == 0 and f"repaired {path}" in r.stdout, r.output
    else:
        # Named, with the command that mends it; the suggested command does.
        assert r.exit_code == 2 and f"git checkout -- {path}" in r.stderr, r.output
        git(folder, "checkout", "--", str(path))
        r = cli("verify")
        assert r.exit_code == 0, r.output

    # Day 3: a clean run, which now checks the damaged statement too.
    r = _run(folder, "2019-04-22T09:00:00Z")
    assert r.exit_code in (0, 1) and "warning:" not in r.stderr, r.output
    r = cli("verify")
    assert r.exit_code == 0, r.output
    assert reported_once(store) == []
    versions = {row["id"]: row["versions"] for row in json.loads(cli("list", "--json").stdout)}
    assert versions == {f"state-dept/statement-{i}-on-regional-talks": 1 for i in range(5)} | {
        SID0: 2,
        "state-dept/statement-1-on-regional-talks": 2,
    }
    FIGURES["damaged files tried"] += 1
    FIGURES["fault scenarios"] += 1
