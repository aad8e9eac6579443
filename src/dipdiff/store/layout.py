"""The store's file names and formats: version files (header + text), raw pages, run records."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dipdiff.errors import StoreError
from dipdiff.models import STORING_OUTCOMES, Provenance, Statement
from dipdiff.text import clip

META = "meta.json"
CHECKS = "checks.jsonl"
RAW_DIR = "raw"
LOCK_NAME = ".lock"
TMP_SUFFIX = ".tmp"  # temp files are hidden: ".<name>.<random>.tmp"
RUNS_DIR = "runs"  # one file per `dipdiff run`
LEGACY_RUNS = "runs.json"  # the one file of every run, before runs/; read, then moved
STORE_FILE = "store.json"  # the store's own identity, written once
INDEX_NAME = ".index.sqlite"  # the derived index (store/index.py): a cache, never committed
GITIGNORE = f"{LOCK_NAME}\n.*{TMP_SUFFIX}\n{INDEX_NAME}*\n"
# Both copies' check lines after a merge, never a conflict: readers sort and de-duplicate them.
GITATTRIBUTES = f"*/*/{CHECKS} merge=union\n"
RUN_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{6}Z-[0-9a-f]{8}\.json$")
HEADER_FIELDS = ("title", "url", "agency", "published", "fetched_at", "sha256")
# A version taken from a web archive says so, after the fields every version has: files
# written before these existed read as before.
PROVENANCE_FIELDS = ("origin", "memento", "captured_at", "archive_digest")
# Written by this version of dipdiff, absent from older files (which read as before): the
# statement's language, ISO 639-1, as detected when it was stored.
OPTIONAL_FIELDS = ("language",)
VERSION_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{6}Z\.md$")


def render_version(
    statement: Statement,
    fetched_at: str,
    sha256: str,
    provenance: Provenance | None = None,
    language: str | None = None,
) -> str:
    """The text of a version file: a small header, the title, one paragraph per block."""
    values: dict[str, str | None] = {
        "title": statement.title,
        "url": statement.url,
        "agency": statement.agency,
        "published": statement.published,
        "fetched_at": fetched_at,
        "sha256": sha256,
        "language": language,
    }
    lines = ["---"]
    lines += [f"{k}: {json.dumps(values[k], ensure_ascii=False)}" for k in HEADER_FIELDS]
    if provenance is not None:
        lines += [
            f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in provenance.header().items()
        ]
    if language is not None:
        lines.append(f"language: {json.dumps(language)}")
    lines += ["---", "", f"# {statement.title}", ""]
    for p in statement.paragraphs:
        lines += [p, ""]
    return "\n".join(lines)


def parse_version(text: str, where: str) -> tuple[dict[str, Any], Statement]:
    """Parse a version file back into its header and statement. Errors name ``where``."""
    lines = text.split("\n")
    if not lines or lines[0] != "---":
        raise StoreError(where, "not a dipdiff version file (no '---' header)")
    header: dict[str, Any] = {}
    i = 1
    while i < len(lines) and lines[i] != "---":
        key, sep, raw = lines[i].partition(": ")
        if not sep or key not in HEADER_FIELDS + PROVENANCE_FIELDS + OPTIONAL_FIELDS:
            raise StoreError(where, f"bad header line {i + 1}: {clip(lines[i], 60)!r}")
        try:
            header[key] = json.loads(raw)
        except ValueError:
            raise StoreError(where, f"bad header value for {key!r} on line {i + 1}") from None
        i += 1
    missing = [k for k in HEADER_FIELDS if k not in header]
    if i >= len(lines) or missing:
        raise StoreError(where, f"incomplete header (missing {', '.join(missing) or '---'})")
    rest = "\n".join(lines[i + 1 :]).strip("\n")
    blocks = [b for b in rest.split("\n\n") if b.strip()] if rest else []
    if blocks and blocks[0].startswith("# "):
        blocks = blocks[1:]
    statement = Statement(
        title=header["title"] or "",
        paragraphs=tuple(blocks),
        url=header["url"] or "",
        agency=header["agency"] or "",
        published=header["published"],
        language=_text_or_none(header.get("language")),
    )
    return header, statement


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def provenance_of(header: dict[str, Any]) -> Provenance | None:
    """The archive a version file's header names, None for a version fetched live."""
    if not header.get("origin"):
        return None
    return Provenance(
        str(header["origin"]),
        str(header.get("memento") or ""),
        str(header.get("captured_at") or ""),
        str(header.get("archive_digest") or ""),
    )


STORING = {str(o) for o in STORING_OUTCOMES}
RAW_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{6}Z\.html\.gz$")


def stored_shas(checks: list[dict[str, Any]]) -> set[str]:
    """The sha256 of every version the check history says was stored."""
    return {
        c["sha256"]
        for c in checks
        if isinstance(c, dict) and c.get("outcome") in STORING and isinstance(c.get("sha256"), str)
    }


def version_name(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H%M%SZ.md")


def raw_name(version_name: str) -> str:
    return version_name[:-3] + ".html.gz"


def orphan_raw(folder: Path, raw: Path) -> bool:
    """A raw page whose version file was never written (the run died in between)."""
    return bool(RAW_NAME.match(raw.name)) and not (folder / (raw.name[:-8] + ".md")).exists()
