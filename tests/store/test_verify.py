"""`dipdiff verify`: each kind of damage is found and named, one line each; leftovers repaired."""

from __future__ import annotations

import gzip
import json
import shutil

import pytest

from dipdiff.models import Check, Outcome, Statement
from dipdiff.store.meta import StatementMeta
from dipdiff.store.store import Store
from dipdiff.store.verify import verify

URL = "https://x.gov/a/statement-on-libya"
ST = Statement("A title", ("First paragraph of the statement.", "Second paragraph."), url=URL)
ST2 = Statement(
    "A title", ("First paragraph of the statement, edited.", "Second paragraph."), url=URL
)


@pytest.fixture
def store(tmp_path):
    """A healthy store: one statement with two versions, raw pages and a check history."""
    store = Store(tmp_path / "snapshots")
    with store.lock():
        sid = "x-gov/statement-on-libya"
        meta = StatementMeta(id=sid, source="x-gov", url=URL)
        store.write_meta(meta)
        for st, when, outcome in (
            (ST, "2024-05-01T10:00:00Z", Outcome.NEW),
            (ST2, "2024-05-02T10:00:00Z", Outcome.CHANGED),
        ):
            ref = store.add_version(
                sid, st, when, b"<html>" + st.paragraphs[0].encode() + b"</html>"
            )
            store.record_check(
                sid,
                Check(
                    time=when,
                    outcome=outcome,
                    url=URL,
                    status=200,
                    sha256=ref.sha256,
                    version=ref.number,
                ),
            )
    assert verify(store) == []
    return store


def folder(store):
    return store.root / "x-gov" / "statement-on-libya"


def edit_meta(store, fn):
    path = folder(store) / "meta.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def edit_checks(store, fn):
    path = folder(store) / "checks.jsonl"
    checks = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    fn(checks)
    path.write_text("".join(json.dumps(c) + "\n" for c in checks), encoding="utf-8")


def only(store, *needles):
    problems = verify(store)
    assert len(problems) == 1, problems
    for n in needles:
        assert n in problems[0], problems[0]
    assert "\n" not in problems[0]
    return problems[0]


def test_a_corrupt_raw_page_is_named(store):
    raw = min((folder(store) / "raw").iterdir())
    raw.write_bytes(gzip.compress(b"<html>whole page</html>")[:-6])
    only(store, str(raw), "corrupt raw page")


def test_an_orphaned_raw_page_is_a_leftover_and_repair_removes_it(store, cli):
    raw = folder(store) / "raw" / "2024-05-03T100000Z.html.gz"
    raw.write_bytes(gzip.compress(b"<html></html>"))
    only(store, str(raw), "without its version file", "verify --repair")
    cli.store = store.root
    r = cli("verify", "--repair")
    assert r.exit_code == 0, r.output
    assert f"removed {raw}" in r.output and not raw.exists()


def test_a_lost_version_is_found_from_the_check_history(store):
    versions = sorted(folder(store).glob("*.md"))
    versions[1].unlink()
    raw = folder(store) / "raw" / (versions[1].name[:-3] + ".html.gz")
    problems = verify(store)
    assert len(problems) == 2, problems
    assert (
        "check 2" in problems[0]
        and "no version file has" in problems[0]
        and "lost version" in problems[0]
    )
    assert str(raw) in problems[1] and "perhaps of the lost version; kept" in problems[1]
    store.repair()  # the raw page may be all that is left of the lost version: never removed
    assert raw.exists()
    raw.unlink()
    only(store, "check 2", "no version file has", "lost version")


def test_check_history_must_be_well_formed(store):
    edit_checks(store, lambda c: c.append({"time": "yesterday", "outcome": "fine", "url": URL}))
    problems = verify(store)
    assert any("check 3" in p and "unknown outcome 'fine'" in p for p in problems), problems
    assert any("check 3" in p and "not an ISO 8601 time" in p for p in problems), problems
    edit_checks(store, lambda c: c.__setitem__(2, {"time": "2024-05-03T10:00:00Z", "url": URL}))
    only(store, "check 3", "missing key 'outcome'")
    edit_checks(
        store,
        lambda c: c.__setitem__(
            2, {"time": "2024-05-03T10:00:00Z", "url": URL, "outcome": "unchanged", "colour": "red"}
        ),
    )
    only(store, "check 3", "unknown key 'colour'")
    edit_checks(
        store,
        lambda c: c.__setitem__(
            2, {"time": "2024-05-03T10:00:00Z", "url": URL, "outcome": "unchanged", "status": "200"}
        ),
    )
    only(store, "check 3", "status should be a int")


def test_version_files_out_of_naming_order(store):
    _first, second = sorted(folder(store).glob("*.md"))
    text = second.read_text(encoding="utf-8").replace(
        "2024-05-02T10:00:00Z", "2024-04-01T10:00:00Z"
    )
    second.write_text(text, encoding="utf-8")
    problems = verify(store)
    assert any(str(second) in p and "out of time order" in p for p in problems), problems


def test_a_version_named_before_its_fetch_time(store):
    first, _ = sorted(folder(store).glob("*.md"))
    first.write_text(
        first.read_text(encoding="utf-8").replace("2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z"),
        encoding="utf-8",
    )
    only(store, str(first), "named earlier than its fetched_at")


def test_a_version_stored_twice_is_one_version_and_a_stray_file_is_named(store):
    """Two merged copies of a store that both stored an edit hold it twice: one version."""
    _first, second = sorted(folder(store).glob("*.md"))
    dup = folder(store) / "2024-05-03T100000Z.md"
    shutil.copy(second, dup)
    dup.write_text(
        dup.read_text(encoding="utf-8").replace("2024-05-02T10:00:00Z", "2024-05-03T10:00:00Z"),
        encoding="utf-8",
    )
    shutil.copy(
        folder(store) / "raw" / (second.stem + ".html.gz"),
        folder(store) / "raw" / (dup.stem + ".html.gz"),
    )
    assert verify(store) == []
    assert [r.filename for r in Store(store.root).versions("x-gov/statement-on-libya")] == [
        _first.name,
        second.name,
    ]
    dup.unlink()
    (folder(store) / "raw" / (dup.stem + ".html.gz")).unlink()
    stray = folder(store) / "notes.md"
    stray.write_text("mine", encoding="utf-8")
    only(store, str(stray), "unexpected file", "YYYY-MM-DDTHHMMSSZ.md")


def test_a_wrong_source(store):
    edit_meta(store, lambda d: d.__setitem__("source", "y-gov"))
    only(store, "meta.json", "source 'y-gov' does not match its folder")


def test_versions_without_metadata(store):
    (folder(store) / "meta.json").unlink()
    only(store, str(folder(store)), "2 version file(s) but no meta.json")


def test_a_truncated_header_is_named(store):
    first, _ = sorted(folder(store).glob("*.md"))
    first.write_bytes(first.read_bytes()[:60])
    only(store, str(first), "header")


def test_every_problem_goes_to_stderr_and_exits_2(store, cli):
    first, _ = sorted(folder(store).glob("*.md"))
    first.write_text(first.read_text(encoding="utf-8").replace("First", "Fist"), encoding="utf-8")
    (folder(store) / ".meta.json.abc.tmp").write_text("half", encoding="utf-8")
    cli.store = store.root
    r = cli("verify")
    assert r.exit_code == 2
    lines = r.output.splitlines()
    assert len(lines) == 2 and all(ln.startswith("dipdiff: ") for ln in lines), r.output
    assert any("sha256" in ln for ln in lines)
    assert any("leftover temporary file" in ln for ln in lines)
    assert cli("verify", "--repair").exit_code == 2  # repair never touches a version: still wrong
    assert not (folder(store) / ".meta.json.abc.tmp").exists()


def test_repair_of_a_missing_store_creates_nothing(tmp_path, cli):
    cli.store = tmp_path / "nothing-here"
    r = cli("verify", "--repair")
    assert r.exit_code == 2 and "no such store" in r.output
    assert not cli.store.exists()
