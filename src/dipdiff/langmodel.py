"""py3langid's language model, decompressed once into the user's cache and memory-mapped.

The model ships in py3langid's wheel as an LZMA-compressed ``.npz`` of 68 MB: decompressing it
takes about a second, on every process that detects a language (``diff --format json``, ``compare``,
every recording run). Its arrays are written here, uncompressed, as ``.npy`` files under
``$DIPDIFF_CACHE`` (default ``$XDG_CACHE_HOME/dipdiff``, else ``~/.cache/dipdiff``) the first time,
and memory-mapped after that: a process then reads only the pages of the model its text touches.

The cache is derived and never the truth: its folder's name carries the size and time of the
wheel's model file, so an upgraded py3langid gets a new one; a folder is published by one rename,
so a reader never sees half of it; a cache that cannot be written (a read-only home) means
loading the model as py3langid does. The identifier is py3langid's own class over the same
arrays, so a language detected is exactly the one py3langid detects.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

_ARRAYS = ("ptc", "pc", "nextmove", "rowbase", "out_feat")
_FORMAT = 1  # in the folder's name: a cache written in another layout is never read as this one


def cache_root() -> Path:
    """Where dipdiff keeps derived files that any run may rebuild."""
    if explicit := os.environ.get("DIPDIFF_CACHE"):
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "dipdiff"


@functools.cache
def identifier() -> Any:
    """py3langid's ``LanguageIdentifier`` over the cached arrays (built on first use)."""
    from py3langid import langid  # lazy: numpy and the model, for commands that detect languages

    source = Path(langid.MODEL_DIR) / langid.MODEL_FILE
    stat = source.stat()
    folder = cache_root() / f"langid-{_FORMAT}-{stat.st_size}-{stat.st_mtime_ns}"
    if not (folder / "classes.json").exists():
        try:
            _build(source, folder)
        except OSError:
            return langid.LanguageIdentifier.from_model_file(source)
    return _mapped(langid, folder)


def _mapped(langid: Any, folder: Path) -> Any:
    import numpy as np  # lazy: py3langid's own dependency, loaded with it

    arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
    classes = json.loads((folder / "classes.json").read_text(encoding="utf-8"))
    # The state machine is walked one byte at a time in Python: memoryviews index like the
    # stdlib arrays py3langid builds from the same data, without copying 40 MB first. Its row
    # offsets (py3langid shifts 100,000 of them into a list on every load) are stored shifted.
    found = langid.LanguageIdentifier(
        arrays["ptc"],
        arrays["pc"],
        classes,
        memoryview(arrays["nextmove"]),
        memoryview(arrays["out_feat"]),
        tk_row=(),
    )
    found._rowbase = memoryview(arrays["rowbase"])  # noqa: SLF001 - py3langid <0.5, tested
    return found


def _build(source: Path, folder: Path) -> None:
    """Decompress the model's arrays into ``folder``, published by a single rename."""
    import numpy as np  # lazy: as above

    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        with np.load(_decompressed(source, work), allow_pickle=False) as data:
            arrays = {name: data[name] for name in ("ptc", "pc", "nextmove", "out_feat")}
            arrays["rowbase"] = data["nextmove_row"].astype(np.uint32) << 8
            classes = data["classes"].tolist()
        for name in _ARRAYS:
            np.save(work / f"{name}.npy", arrays[name], allow_pickle=False)
        (work / "model.npz").unlink()
        (work / "classes.json").write_text(json.dumps(classes), encoding="utf-8")
        try:
            work.rename(folder)
        except OSError:
            if not (folder / "classes.json").exists():  # not another process's finished copy
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _decompressed(source: Path, work: Path) -> Path:
    import lzma  # lazy: only when the cache is built

    target = work / "model.npz"
    with lzma.open(source) as src, target.open("wb") as out:
        shutil.copyfileobj(src, out, length=1 << 20)
    return target
