"""The snapshot store: layout, atomicity, locking, identity, verification."""

from __future__ import annotations

import json
import multiprocessing
import os
import re

import pytest

from dipdiff.errors import InputError, LockError, StoreError
from dipdiff.models import Check, Outcome, Statement
from dipdiff.store.ids import parse_ref, slug_for_url, source_for_url
from dipdiff.store.store import Store
from dipdiff.store.verify import verify

ST = Statement(
    "A title", ("First paragraph.", "Second “quoted” paragraph."), url="https://x.gov/a/b-c"
)


def _new(store: Store, url: str = ST.url, source: str = "x-gov") -> str:
    from dipdiff.store.meta import StatementMeta

    sid = store.new_id(url, source)
    store.write_meta(StatementMeta(id=sid, source=source, url=url))
    return sid


def _edited(st: Statement, n: int) -> Statement:
    return Statement(st.title, (f"Edit {n}.", *st.paragraphs[1:]), url=st.url)


def test_version_files_round_trip_and_sort(tmp_path):
    store = Store(tmp_path)
    with store.lock():
        sid = _new(store)
        store.add_version(sid, _edited(ST, 1), "2024-05-01T10:00:00Z", b"<html>a</html>")
        # Same second: the second file still gets a later, fixed-length name.
        store.add_version(sid, ST, "2024-05-01T10:00:00Z", b"<html>b</html>")
        store.add_version(sid, _edited(ST, 2), "2023-01-01T00:00:00Z", None)
    refs = store.versions(sid)
    assert [r.filename for r in refs] == [
        "2023-01-01T000000Z.md",
        "2024-05-01T100000Z.md",
        "2024-05-01T100001Z.md",
    ]
    assert [r.fetched_at for r in refs] == [
        "2023-01-01T00:00:00Z",
        "2024-05-01T10:00:00Z",
        "2024-05-01T10:00:00Z",
    ]
    v = store.read_version(sid, -1)
    assert v.statement.paragraphs == ST.paragraphs and v.statement.title == ST.title
    assert store.read_raw(sid, 3) == b"<html>b</html>"
    text = (tmp_path / sid / refs[0].filename).read_bytes()
    assert b"\r" not in text and text.endswith(b"\n")
    assert text.splitlines()[1:7] == [
        f"{k}: ".encode() + json.dumps(v).encode()
        for k, v in [
            ("title", "A title"),
            ("url", ST.url),
            ("agency", ""),
            ("published", None),
            ("fetched_at", "2023-01-01T00:00:00Z"),
            ("sha256", refs[0].sha256),
        ]
    ]


def test_version_numbers(tmp_path):
    store = Store(tmp_path)
    with store.lock():
        sid = _new(store)
        store.add_version(sid, ST, "2024-05-01T10:00:00Z")
    assert store.read_version(sid, 1).ref.number == 1
    with pytest.raises(InputError, match="has 1 version"):
        store.read_version(sid, 2)
    with pytest.raises(InputError, match="no version 0"):
        store.read_version(sid, 0)


@pytest.mark.parametrize(
    "url",
    [
        "https://x.gov/../../etc/passwd",
        "https://x.gov/a/%2e%2e%2f%2e%2e/",
        "https://x.gov/" + "very-long-" * 50,
        "https://x.gov/?p=12345",
        "https://x.gov/",
        "https://x.gov/ünïcødé/ناسا/",
    ],
)
def test_slugs_are_safe_bounded_and_stable(url):
    slug = slug_for_url(url)
    assert slug == slug_for_url(url)
    assert 0 < len(slug) <= 80
    assert set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert ".." not in slug and "/" not in slug


def test_slug_collision_gets_a_hash(tmp_path):
    store = Store(tmp_path)
    with store.lock():
        a = _new(store, "https://x.gov/2019/statement-on-libya")
        b = _new(store, "https://x.gov/2020/statement-on-libya")
    assert a == "x-gov/statement-on-libya"
    assert re.fullmatch(r"x-gov/statement-on-libya-[0-9a-f]{8}", b)
    assert store.find_url("https://x.gov/2020/statement-on-libya", "x-gov") == b
    assert store.find_url("https://x.gov/2019/statement-on-libya", "x-gov") == a
    assert source_for_url("https://www.state.gov/x") == "state-gov"


def test_corrupt_metadata_is_one_line_naming_the_file(tmp_path):
    store = Store(tmp_path)
    with store.lock():
        sid = _new(store)
    meta = tmp_path / sid / "meta.json"
    meta.write_text("{not json", encoding="utf-8")
    with pytest.raises(StoreError) as e:
        store.meta(sid)
    assert str(meta) in str(e.value) and "\n" not in str(e.value)
    meta.write_text(
        json.dumps({"id": sid, "source": "x-gov", "url": "u", "colour": 1}), encoding="utf-8"
    )
    with pytest.raises(StoreError, match="unknown key 'colour'"):
        store.meta(sid)


def _hold_lock(root, ready, release):
    with Store(root).lock():
        ready.set()
        release.wait(10)


def test_lock_excludes_a_second_writer_and_names_the_lock(tmp_path):
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold_lock, args=(tmp_path, ready, release))
    p.start()
    try:
        assert ready.wait(10)
        with pytest.raises(LockError) as e, Store(tmp_path).lock(wait=0.2):
            pass
        assert str(tmp_path / ".lock") in str(e.value) and f"pid {p.pid}" in str(e.value)
    finally:
        release.set()
        p.join(10)
    with Store(tmp_path).lock():  # released when the holder ends
        pass


def test_lock_of_a_killed_process_is_recovered(tmp_path):
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold_lock, args=(tmp_path, ready, release))
    p.start()
    assert ready.wait(10)
    p.kill()
    p.join(10)
    with Store(tmp_path).lock(wait=2):
        pass


def test_writes_need_the_lock(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(RuntimeError):
        store.add_version("x-gov/a", ST, "2024-01-01T00:00:00Z")


def test_verify_finds_hand_edits_and_leftovers(tmp_path):
    store = Store(tmp_path)
    with store.lock():
        sid = _new(store)
        ref = store.add_version(sid, ST, "2024-05-01T10:00:00Z", b"<html></html>")
        store.record_check(
            sid,
            Check(
                time="2024-05-01T10:00:00Z",
                outcome=Outcome.NEW,
                url=ST.url,
                sha256=ref.sha256,
                version=1,
            ),
        )
    assert verify(store) == []
    path = tmp_path / sid / ref.filename
    path.write_text(path.read_text(encoding="utf-8").replace("First", "Fist"), encoding="utf-8")
    (tmp_path / sid / ".meta.json.x.tmp").write_text("half", encoding="utf-8")
    # What a writer killed halfway leaves in the lock file: its own note, never "released".
    (tmp_path / ".lock").write_text("pid 1 on elsewhere since 2024-05-01T10:00:01Z")
    problems = verify(store)
    assert any(ref.filename in p and "sha256" in p for p in problems)
    assert any(".tmp" in p for p in problems)
    with store.lock():  # taking the lock sweeps temp files left by a killed run
        pass
    assert not any(".tmp" in p for p in verify(store))


def test_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    store = Store(tmp_path)
    with store.lock():
        sid = _new(store)
        store.record_check(sid, Check(time="t0", outcome=Outcome.UNAVAILABLE, url="u"))
        files = {p.name: p.read_bytes() for p in (tmp_path / sid).iterdir()}

        def boom(*a, **k):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "replace", boom)
        with pytest.raises(StoreError, match=r"meta\.json: cannot write: No space left on device"):
            store.write_meta(store.meta(sid))
        real_write = os.write

        def half(fd, data):  # the disk fills up in the middle of an appended line
            monkeypatch.setattr(os, "write", boom)
            return real_write(fd, bytes(data[: len(data) // 2]))

        monkeypatch.setattr(os, "write", half)
        with pytest.raises(StoreError, match=r"checks\.jsonl: cannot write: No space left"):
            store.record_check(sid, Check(time="t1", outcome=Outcome.UNAVAILABLE, url="u"))
    assert {p.name: p.read_bytes() for p in (tmp_path / sid).iterdir()} == files


def test_parse_ref():
    assert parse_ref("state-gov/abc@-1") == ("state-gov/abc", -1)
    assert parse_ref("state-gov/abc") == ("state-gov/abc", None)
    for bad in ("abc", "../x", "a/b/c", "a/b@x", "A/b"):
        with pytest.raises(InputError):
            parse_ref(bad)


def _view(store: Store) -> dict:
    """Everything a command reads of a store: ids, metadata, version lists and texts."""
    return {
        sid: (
            store.meta(sid),
            store.versions(sid),
            [store.read_version(sid, r.number) for r in store.versions(sid)],
        )
        for sid in store.statement_ids()
    }


def test_a_store_held_reads_each_file_once_and_its_writes_keep_the_cache_true(tmp_path):
    store = Store(tmp_path)
    with store.lock():
        sid = _new(store)
        store.add_version(sid, ST, "2024-05-01T10:00:00Z", b"<html>a</html>")
        store.record_check(sid, Check(time="2024-05-01T10:00:00Z", outcome=Outcome.NEW, url=ST.url))
    reader = Store(tmp_path)
    with reader.reading():
        for _ in range(3):
            _view(reader)
    assert reader.reads == {"listing": 1, "meta": 1, "checks": 1, "versions": 1, "version": 1}

    with store.lock():
        assert _view(store) == _view(Store(tmp_path))  # the lock reads afresh
        store.reads.clear()
        edited = Statement(ST.title, ("First paragraph, edited.", *ST.paragraphs[1:]), ST.url)
        v2 = store.add_version(sid, edited, "2024-05-02T10:00:00Z", b"<html>b</html>")
        older = store.add_version(
            sid, ST, "2023-01-01T00:00:00Z"
        )  # an older capture: numbers shift
        assert (older.number, store.version_ref(sid, -1).filename) == (1, v2.filename)
        store.record_check(
            sid,
            Check(
                time="2024-05-02T10:00:00Z", outcome=Outcome.CHANGED, url=ST.url, sha256=v2.sha256
            ),
        )
        store.undo_version(sid, older)
        other = _new(store, "https://x.gov/other")
        assert _view(store) == _view(Store(tmp_path))  # each write kept the cache true
        store.discard_empty(other)
        assert _view(store) == _view(Store(tmp_path))
        assert store.reads == {
            "versions": 1
        }  # nothing read again; the new statement's folder listed once
        mine = store.meta(sid)
        mine.checks.append({"time": "x"})
        mine.previous_urls.append("https://x.gov/old")
        assert store.meta(sid) == Store(tmp_path).meta(sid)  # a caller's copy is its own
    assert store._cache is None  # dropped when the lock is released
