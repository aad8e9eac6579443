"""``dipdiff verify --repair``: what can be resolved safely in damaged files of the store.

Resolved: a ``meta.json``, ``checks.jsonl``, ``runs.json`` or run record with git merge-conflict
markers (both sides kept: the union of their checks, or of their runs); an empty ``runs.json`` or
run record (it held nothing); a lost or damaged ``meta.json`` whose statement keeps its check
history in ``checks.jsonl`` (the identity it held is read again from the version files). What
cannot be resolved without guessing (a damaged version file; an older store's damaged
``meta.json``, which held the check history) is left as it is, for ``verify`` to name with the
command to run.
"""

from __future__ import annotations

import contextlib
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from dipdiff.errors import StoreError
from dipdiff.store.atomic import atomic_write
from dipdiff.store.files import marker_line, no_links, read_text, sides
from dipdiff.store.layout import CHECKS, LEGACY_RUNS, META, RUN_NAME, RUNS_DIR
from dipdiff.store.meta import StatementMeta, distinct, parse_check_lines, parse_meta
from dipdiff.store.runs import RunRecord, legacy_runs, moved_path, parse_run
from dipdiff.store.store import Store

_PROGRESS = {"running": 0, "interrupted": 1, "failed": 2, "complete": 3}


def mend(store: Store) -> list[str]:
    """Resolve what can be resolved (the caller holds the lock); one line per file mended.

    A file that cannot be mended is left as it was, and the next file is tried.
    """
    done: list[str] = []
    for folder in store.statement_folders():
        try:
            done += _mend_statement(store, folder)
        except (StoreError, OSError):
            continue
    with contextlib.suppress(StoreError, OSError):
        done += _mend_runs(store.root)
    return done


def _text(path: Path) -> str | None:
    """A file's text; None when it is missing, a link or unreadable (never mended)."""
    try:
        return read_text(path)
    except (FileNotFoundError, StoreError):
        return None


def _mend_statement(store: Store, folder: Path) -> list[str]:
    done: list[str] = []
    sid = f"{folder.parent.name}/{folder.name}"
    checks = no_links(store.root, folder / CHECKS)
    text = _text(checks)
    if text is not None and marker_line(text) is not None:
        ours, theirs = sides(text)
        lines = [ln for ln in dict.fromkeys((ours + theirs).splitlines()) if ln.strip()]
        atomic_write(checks, "".join(f"{ln}\n" for ln in lines).encode("utf-8"))
        store.forget(sid)
        done.append(f"{checks}: kept both sides of the merge conflict ({len(lines)} checks)")
    meta_path = no_links(store.root, folder / META)
    text = _text(meta_path)
    if text is not None and marker_line(text) is not None:
        meta = _union_meta(*sides(text), where=str(meta_path))
        if meta is not None:
            store.write_meta(_with_history(store, folder, meta))
            store.forget(sid)
            return [*done, f"{meta_path}: kept both sides of the merge conflict"]
    if checks.is_file() and not meta_path.is_symlink() and not _reads(text, str(meta_path)):
        identity = store.rebuilt_identity(sid)
        atomic_write(meta_path, identity.to_json().encode("utf-8"))
        store.forget(sid)
        what = "lost" if text is None else "damaged"
        done.append(f"{meta_path}: rebuilt from the version files (it was {what})")
    return done


def _reads(text: str | None, where: str) -> bool:
    if text is None:
        return False
    try:
        parse_meta(text, where)
    except StoreError:
        return False
    return True


def _union_meta(ours: str, theirs: str, *, where: str) -> StatementMeta | None:
    """Both sides of a conflicted ``meta.json`` as one: each side's checks once, in time
    order, and the description of the side that checked last. None when a side does not
    read, or the two sides are not the same statement."""
    try:
        a, b = parse_meta(ours, where), parse_meta(theirs, where)
    except StoreError:
        return None
    if (a["id"], a["source"]) != (b["id"], b["source"]):
        return None
    checks = distinct(_checks(a), _checks(b))
    checks.sort(key=lambda c: str(c.get("time", "")))
    latest = max(
        (a, b), key=lambda d: max((str(c.get("time", "")) for c in _checks(d)), default="")
    )
    names = {f.name for f in fields(StatementMeta)} - {"checks"}
    doc: dict[str, Any] = {k: v for k, v in latest.items() if k in names}
    previous = [*a.get("previous_urls", []), *b.get("previous_urls", [])]
    doc["previous_urls"] = [u for u in dict.fromkeys(previous) if u != doc["url"]]
    return StatementMeta(**doc, checks=checks)


def _checks(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in doc.get("checks", []) if isinstance(c, dict)]


def _with_history(store: Store, folder: Path, meta: StatementMeta) -> StatementMeta:
    """``meta`` with the lines ``checks.jsonl`` holds too (a store that had begun moving)."""
    text = _text(no_links(store.root, folder / CHECKS))
    if not text:
        return meta
    checks = distinct(meta.checks, parse_check_lines(text, str(folder / CHECKS)))
    checks.sort(key=lambda c: str(c.get("time", "")))
    return replace(meta, checks=checks)


def _mend_runs(root: Path) -> list[str]:
    done: list[str] = []
    legacy = no_links(root, root / LEGACY_RUNS)
    text = _text(legacy)
    if text is not None and not text.strip():
        legacy.unlink()
        done.append(f"{legacy}: removed (it was empty)")
    elif text is not None and marker_line(text) is not None:
        ours, theirs = sides(text)
        try:
            runs = _union_runs(legacy_runs(ours, str(legacy)), legacy_runs(theirs, str(legacy)))
        except StoreError:
            runs = None
        if runs is not None:
            for r in runs:
                atomic_write(no_links(root, moved_path(root, r)), r.to_json().encode("utf-8"))
            legacy.unlink()
            done.append(
                f"{legacy}: kept both sides of the merge conflict ({len(runs)} runs, "
                f"moved to {RUNS_DIR}/)"
            )
    folder = root / RUNS_DIR
    if folder.is_dir() and not folder.is_symlink():
        for path in sorted(p for p in folder.iterdir() if RUN_NAME.match(p.name)):
            done += _mend_run(path)
    return done


def _mend_run(path: Path) -> list[str]:
    text = _text(path)
    if text is None or path.is_symlink():
        return []
    if not text.strip():
        path.unlink()
        return [f"{path}: removed (it was empty)"]
    if marker_line(text) is None:
        return []
    ours, theirs = sides(text)
    try:
        runs = _union_runs([parse_run(ours, str(path))], [parse_run(theirs, str(path))])
    except StoreError:
        return []
    if len(runs) != 1:
        return []  # two different runs in one file: not ours to choose
    atomic_write(path, runs[0].to_json().encode("utf-8"))
    return [f"{path}: kept the side of the merge conflict that got further"]


def _union_runs(a: list[RunRecord], b: list[RunRecord]) -> list[RunRecord]:
    """Each run once; of two records of one run, the one that got further."""
    out: dict[str, RunRecord] = {}
    for r in [*a, *b]:
        have = out.get(r.id)
        if have is None or _progress(r) > _progress(have):
            out[r.id] = r
    return sorted(out.values(), key=lambda r: (r.started_at, r.id))


def _progress(r: RunRecord) -> tuple[int, str]:
    return _PROGRESS.get(r.status, 0), r.finished_at or ""
