"""``dipdiff snapshot`` and ``import``: pages into the store, fetched now or saved earlier.

``import`` takes a saved HTML page, or a web archive's files: every HTML capture of a
statement in a WARC (``.warc``, ``.warc.gz``) or a WACZ becomes a sighting at its ``WARC-Date``,
recorded by the one recorder with its provenance (the file's name, the record), as a live fetch
at that time would have been. Importing a file again adds nothing: a capture already recorded
from it is recognised in the statement's checks.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dipdiff.clock import parse_timestamp, utc_timestamp
from dipdiff.config import MAX_BYTES, ExtractRules, Schedule
from dipdiff.errors import InputError
from dipdiff.models import Outcome, Page, Provenance, SnapshotResult
from dipdiff.pipeline.load import read_file
from dipdiff.pipeline.record import Recorder
from dipdiff.scrape.charset import decode_html
from dipdiff.scrape.warc import WarcCapture, captures, read_records, wacz_members
from dipdiff.store.ids import source_for_url
from dipdiff.store.store import Store

ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".wacz")


def snapshot_url(
    store: Store,
    fetcher: Callable[[str], Page],
    url: str,
    *,
    source: str | None = None,
    agency: str | None = None,
    rules: ExtractRules | None = None,
    lock_wait: float = 0.0,
    schedule: Schedule | None = None,
) -> SnapshotResult:
    """Fetch one URL and record it, by the rules of every recorded page.

    See :mod:`dipdiff.pipeline.record`; ``schedule`` gives the flap window (flapping counts the
    checks within it). A fetch failure raises
    :class:`FetchError` (nothing stored).
    """
    page = fetcher(url)
    with store.lock(wait=lock_wait):
        return Recorder(store, schedule or Schedule()).capture(
            page, source=source, agency=agency, rules=rules
        )


def import_file(
    store: Store,
    path: Path,
    url: str,
    *,
    fetched_at: str,
    source: str | None = None,
    agency: str | None = None,
    lock_wait: float = 0.0,
    schedule: Schedule | None = None,
) -> SnapshotResult:
    """Store a saved HTML page (archive copy, Wayback capture) as if fetched at ``fetched_at``.

    An older capture takes its place in the statement's history; the rules are those of
    every recorded page (:mod:`dipdiff.pipeline.record`)."""
    if not url.lower().startswith(("http://", "https://")):
        raise InputError(f"--url must be an http(s) URL, not {url!r}")
    content = read_file(path)
    page = Page(
        url=url,
        final_url=url,
        status=200,
        content=content,
        text=decode_html(content),
        content_type="text/html",
        fetched_at=utc_timestamp(parse_timestamp(fetched_at)),
    )
    with store.lock(wait=lock_wait):
        return Recorder(store, schedule or Schedule()).capture(
            page, source=source, agency=agency, archived=True
        )


def is_archive_file(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


@dataclass
class ArchiveImport:
    """What a WARC or WACZ file held, and what became of its captures."""

    file: str
    captures: int = 0  # HTML pages of statements found in the file
    skipped: int = 0  # already imported from this file
    results: list[SnapshotResult] = field(default_factory=list)

    def count(self, *outcomes: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome in outcomes)

    @property
    def news(self) -> bool:
        return any(r.news for r in self.results)


def import_archive(
    store: Store,
    path: Path,
    *,
    url: str | None = None,
    source: str | None = None,
    agency: str | None = None,
    lock_wait: float = 0.0,
    schedule: Schedule | None = None,
) -> ArchiveImport:
    """Record every HTML capture of a statement in a WARC or WACZ file (of ``url`` only, when
    given), oldest first, each at its ``WARC-Date``."""
    found = _read_archive(path, url)
    done = ArchiveImport(path.name, len(found))
    with store.lock(wait=lock_wait):
        recorder = Recorder(store, schedule or Schedule())
        for c in found:
            src = source or source_for_url(c.url)
            sid = store.find_url(c.url, src)
            if sid is not None and _imported(store, sid, path.name, c):
                done.skipped += 1
                continue
            page = Page(
                url=c.url,
                final_url=c.final_url,
                status=200,
                content=c.content,
                text=decode_html(c.content, _charset(c.content_type)),
                content_type=c.content_type.split(";")[0].strip(),
                fetched_at=_when(c),
            )
            provenance = Provenance(path.name, c.final_url, c.date, c.digest)
            done.results.append(
                recorder.capture(page, source=src, agency=agency, provenance=provenance)
            )
    return done


def _read_archive(path: Path, url: str | None) -> list[WarcCapture]:
    wanted = {url} if url else None
    where = str(path)
    try:
        if path.name.lower().endswith(".wacz"):
            with zipfile.ZipFile(path) as zf:
                names, pages = wacz_members(zf)
                if not names:
                    raise InputError(f"{where}: a WACZ without WARC files (archive/*.warc.gz)")
                responses = []
                for name in names:
                    with zf.open(name) as f:
                        responses += read_records(f, f"{where}:{name}", MAX_BYTES)
            return captures(responses, wanted or pages)
        with path.open("rb") as f:
            return captures(read_records(f, where, MAX_BYTES), wanted)
    except FileNotFoundError:
        raise InputError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{where}: is a directory, not a file") from None
    except zipfile.BadZipFile as e:
        raise InputError(f"{where}: not a WACZ (zip) file ({e})") from None
    except OSError as e:
        raise InputError(f"{where}: cannot read ({e.strerror or e})") from None


def _when(c: WarcCapture) -> str:
    return utc_timestamp(parse_timestamp(c.date))  # read_records checked it


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"' ")
    return None


def _imported(store: Store, sid: str, origin: str, c: WarcCapture) -> bool:
    """Was this capture recorded from this file before (a check from it at its time)?"""
    when = _when(c)
    return any(
        ch.get("archive") == origin and ch.get("time") == when for ch in store.meta(sid).checks
    )
