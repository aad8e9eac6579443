"""Reading the store's files, and the rule that keeps every read and write inside the store.

A symbolic link inside the store (a statement folder, a ``meta.json``) could point anywhere:
dipdiff neither reads nor writes through one, and never removes what one points to. The
store's own root may be a link (``snapshots -> /data/snapshots``): only what is below it counts.
"""

from __future__ import annotations

from pathlib import Path

from dipdiff.errors import DamagedFileError

LINK = (
    "a symbolic link: dipdiff neither reads nor writes through links inside the store "
    "(replace it with the file or folder it points to)"
)


def read_text(path: Path) -> str:
    """A store file as text; damage (a link, unreadable, not UTF-8) is a one-line error.

    A missing file raises :class:`FileNotFoundError`, for the caller to decide what it means.
    """
    if path.is_symlink():
        raise DamagedFileError(str(path), LINK)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as e:
        raise DamagedFileError(str(path), f"cannot read: {e.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise DamagedFileError(str(path), "not valid UTF-8") from None


def link_below(root: Path, path: Path) -> Path | None:
    """The first symbolic link on the way from ``root`` (not included) down to ``path``."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return None
    here = root
    for part in parts:
        here = here / part
        if here.is_symlink():
            return here
    return None


def no_links(root: Path, path: Path) -> Path:
    """``path``, if nothing between ``root`` and it is a link; else a one-line error."""
    link = link_below(root, path)
    if link is not None:
        raise DamagedFileError(str(link), LINK)
    return path
