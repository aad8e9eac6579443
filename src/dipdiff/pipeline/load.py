"""Loading a statement to compare: a store ID (``ID@N``), a local file, or a URL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dipdiff.errors import InputError
from dipdiff.models import Origin, Page, Statement, Version
from dipdiff.scrape.charset import decode_html
from dipdiff.store.layout import parse_version
from dipdiff.store.lookup import could_be_id, resolve_ref
from dipdiff.store.store import Store
from dipdiff.text import clean, content_hash

TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a file") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None


@dataclass(frozen=True)
class Loaded:
    """A statement loaded from a store ID, a file or a URL, with a label for output."""

    statement: Statement
    label: str
    version: int | None = None
    origin: Origin | None = None  # where it comes from (a stored version, a page fetched now)
    warning: str | None = None  # a stored version that fails its sha256 (edited by hand)


def stored(store: Store, sid: str, v: Version) -> Loaded:
    """A stored version, with where it comes from and a warning if its file was edited."""
    return Loaded(
        v.statement,
        f"{sid}@{v.ref.number}",
        v.ref.number,
        Origin(sid, v.ref.number, v.ref.fetched_at),
        tampered(store, sid, v),
    )


def tampered(store: Store, sid: str, v: Version) -> str | None:
    """One line when a version's text no longer matches its sha256: not what the page said."""
    if content_hash(v.statement.title, v.statement.paragraphs) == v.ref.sha256:
        return None
    path = store.statement_dir(sid) / v.ref.filename
    return (
        f"warning: {path}: text does not match its sha256 (edited by hand?): "
        "this is not the text dipdiff stored, nor a government edit"
    )


def load(ref: str, store: Store, fetcher: Callable[[str], Page] | None = None) -> Loaded:
    """Resolve ``ID[@N]``, a local file (.html/.htm/.txt/.md) or an http(s) URL."""
    if ref.lower().startswith(("http://", "https://")):
        if fetcher is None:
            raise InputError(f"{ref}: URLs cannot be loaded here")
        page = fetcher(ref)
        from dipdiff.scrape.extract import extract  # lazy: lxml only where a page is read

        return Loaded(extract(page.text, page.url), ref, origin=Origin(fetched_at=page.fetched_at))
    path = Path(ref)
    if path.exists() or path.suffix.lower() in TEXT_SUFFIXES + HTML_SUFFIXES:
        return Loaded(load_file(path), str(path))
    if could_be_id(ref):
        sid, n = resolve_ref(store, ref)
        return stored(store, sid, store.read_version(sid, n if n is not None else -1))
    raise InputError(f"{ref!r} is not a statement ID (<source>/<slug>[@N]), a file or a URL")


def load_file(path: Path) -> Statement:
    content = read_file(path)
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES:
        from dipdiff.scrape.extract import extract  # lazy: lxml only where a page is read

        return extract(decode_html(content), path.resolve().as_uri())
    if suffix in TEXT_SUFFIXES:
        text = decode_html(content)
        if text.startswith("---\n"):  # a version file from a store
            return parse_version(text, str(path))[1]
        blocks = [b.strip() for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
        title = blocks[0].lstrip("# ").strip() if blocks and blocks[0].startswith("#") else ""
        body = blocks[1:] if title else blocks
        # clean(): a text file is as untrusted as a page (escape sequences, bidi overrides).
        return Statement(
            title=clean(title),
            paragraphs=tuple(p for p in map(clean, body) if p),
            url=path.resolve().as_uri(),
        )
    raise InputError(
        f"{path}: unsupported file type {suffix or '(none)'} (use .html, .htm, .txt or .md)"
    )


def resolve_pair(
    refs: list[str], store: Store, fetcher: Callable[[str], Page] | None
) -> tuple[Loaded, Loaded]:
    """``diff ID`` (latest two versions) or ``diff A B``."""
    if len(refs) == 1:
        sid, n = resolve_ref(store, refs[0])
        refs_ = store.versions(sid)
        if len(refs_) < 2 and n is None:
            raise InputError(f"{sid} has only {len(refs_)} version(s); nothing to diff")
        b_n = n if n is not None else -1
        b = store.read_version(sid, b_n)
        if b.ref.number < 2:
            raise InputError(f"{sid}@{b.ref.number} is the first version; nothing before it")
        a = store.read_version(sid, b.ref.number - 1)
        return stored(store, sid, a), stored(store, sid, b)
    if len(refs) != 2:
        raise InputError("diff takes one statement ID or two things to compare")
    return load(refs[0], store, fetcher), load(refs[1], store, fetcher)
