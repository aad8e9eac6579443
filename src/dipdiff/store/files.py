"""Reading the store's files, and the rule that keeps every read and write inside the store.

A symbolic link inside the store (a statement folder, a ``meta.json``) could point anywhere:
dipdiff neither reads nor writes through one, and never removes what one points to. The
store's own root may be a link (``snapshots -> /data/snapshots``): only what is below it counts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

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
    here = str(root)  # strings: asked for every statement of `list` (pathlib costs more)
    for part in parts:
        here = f"{here}/{part}"
        if os.path.islink(here):  # noqa: PTH114
            return Path(here)
    return None


def no_links(root: Path, path: Path) -> Path:
    """``path``, if nothing between ``root`` and it is a link; else a one-line error."""
    link = link_below(root, path)
    if link is not None:
        raise DamagedFileError(str(link), LINK)
    return path


def marker_line(text: str) -> int | None:
    """The line number of the first merge-conflict marker in ``text``, if any."""
    for i, line in enumerate(text.splitlines(), 1):
        if line[:7] in ("<" * 7, ">" * 7, "|" * 7) or line.rstrip() == "=" * 7:
            return i
    return None


def sides(text: str) -> tuple[str, str]:
    """The two sides of a file git left with conflict markers: each with the lines both share.

    The merge base of a ``diff3`` conflict (between ``|||||||`` and ``=======``) is left out.
    """
    ours: list[str] = []
    theirs: list[str] = []
    state = "both"
    for line in text.splitlines(keepends=True):
        mark = line[:7]
        if mark == "<" * 7:
            state = "ours"
        elif mark == "|" * 7 and state == "ours":
            state = "base"
        elif line.rstrip() == "=" * 7 and state in ("ours", "base"):
            state = "theirs"
        elif mark == ">" * 7 and state == "theirs":
            state = "both"
        else:
            if state in ("both", "ours"):
                ours.append(line)
            if state in ("both", "theirs"):
                theirs.append(line)
    return "".join(ours), "".join(theirs)


def parse_json(text: str, where: str, what: str) -> Any:
    """``text`` as JSON; an empty file, conflict markers or bad JSON is a one-line error
    naming ``where``."""
    if not text.strip():
        raise DamagedFileError(where, f"empty {what}")
    line = marker_line(text)
    if line is not None:
        raise DamagedFileError(where, f"git merge conflict markers (line {line})")
    try:
        return json.loads(text)
    except ValueError as e:
        raise DamagedFileError(where, f"corrupt {what} (truncated or not JSON: {e})") from None
