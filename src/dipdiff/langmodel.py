"""py3langid's language model, decompressed once into the user's cache and memory-mapped.

The model ships in py3langid's wheel as an LZMA-compressed ``.npz`` (4.5 MB, 68 MB unpacked):
unpacking it takes about a second in every process that detects a language (``diff --format
json``, ``compare``, every recording run). The unpacked ``.npz`` (an uncompressed zip of ``.npy``
arrays) is kept under :func:`cache_root` and its arrays are memory-mapped where they lie in it: a
process reads only the pages of the model its text touches.

The cache is derived, never the truth, and shared by every virtualenv of the user:

- its folder is named by py3langid's version and the model file's size, so a fresh virtualenv of
  the same py3langid finds the folder another one built; the SHA-256 of the compressed model it was
  built from is recorded, computed from the very bytes that were unpacked, and checked against the
  installed model on every load (a few milliseconds), so a same-sized different model is never
  read through it;
- one process builds at a time, under a lock it never waits for: the others load the model as
  py3langid does meanwhile;
- a folder is built aside and published by one rename, its files on disk first;
- folders of other keys are removed once no process has used them for a week (another
  virtualenv on another py3langid keeps its own while it is in use), and builds a crash cut short
  are removed by the next builder;
- anything wrong with it (absent, partial, damaged since, unwritable, another model) means loading
  the model as py3langid does: the languages detected are the same either way.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import lzma
import math
import mmap
import os
import shutil
import struct
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal

_FORMAT = 1  # in the folder's name: a cache written in another layout is never read as this one
_PREFIX = "langid-"
_MODEL = "model.npz"
_MANIFEST = "built-from.json"
_LOCK = ".langid.lock"
_UNUSED = 7 * 86400.0  # seconds: a folder of another key unused this long is removed
_STAMP_EVERY = 86400.0  # seconds: how stale a folder's last-use stamp may get before refreshing
_ARRAYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")
_TYPECODES: dict[tuple[str, int], Literal["b", "B", "h", "H", "i", "I", "q", "Q"]] = {
    ("i", 1): "b",
    ("u", 1): "B",
    ("i", 2): "h",
    ("u", 2): "H",
    ("i", 4): "i",
    ("u", 4): "I",
    ("i", 8): "q",
    ("u", 8): "Q",
}
_ERRORS = (OSError, ValueError, KeyError, EOFError, struct.error, zipfile.BadZipFile)


def cache_root() -> Path:
    """Where dipdiff keeps files any process may rebuild: ``$DIPDIFF_CACHE``, else
    ``$XDG_CACHE_HOME/dipdiff``, else ``~/.cache/dipdiff``."""
    if explicit := os.environ.get("DIPDIFF_CACHE"):
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "dipdiff"


@functools.cache
def identifier() -> Any:
    """py3langid's own ``LanguageIdentifier``, over the cached arrays when the cache serves."""
    import py3langid  # lazy: numpy and the model, only for commands that detect languages
    from py3langid import langid  # lazy: as above

    source = Path(langid.MODEL_DIR) / langid.MODEL_FILE
    found = _from_cache(langid, source, str(py3langid.__version__))
    if found is None:
        return langid.LanguageIdentifier.from_model_file(source)
    return found


def _from_cache(langid: Any, source: Path, version: str) -> Any | None:
    """The identifier over the cache, building it first if this process may; None if the cache
    cannot serve now."""
    try:
        root = cache_root()
        size = source.stat().st_size
        digest = _sha256(source)
        folder = root / f"{_PREFIX}{_FORMAT}-{version}-{size}"
        found = _opened(langid, folder, digest)
        if found is not None:
            if time.time() - folder.stat().st_mtime > _STAMP_EVERY:
                with contextlib.suppress(*_ERRORS):  # a read-only cache serves all the same
                    _stamp_and_prune(root, folder)
            return found
        with _builder_lock(root) as mine:
            if not mine:
                return None
            found = _opened(langid, folder, digest)  # another builder may just have finished
            if found is None:
                _build(source, digest, folder)
                found = _opened(langid, folder, digest)
            _prune(root, folder)
            return found
    except _ERRORS:  # no room, no permission, or a cache damaged since it was built
        return None


def _opened(langid: Any, folder: Path, digest: str) -> Any | None:
    """py3langid's identifier over the arrays of ``folder``'s model, or None when the folder is
    absent, built from another model, or damaged (missing, truncated or malformed arrays)."""
    try:
        manifest = json.loads((folder / _MANIFEST).read_text(encoding="utf-8"))
        model = folder / _MODEL
        if manifest.get("sha256") != digest or manifest.get("size") != model.stat().st_size:
            return None
        arrays = _mapped(model)
    except _ERRORS:
        return None
    ptc, pc, classes = arrays["ptc"], arrays["pc"], arrays["classes"].tolist()
    row, out = arrays["nextmove_row"], arrays["out_feat"]
    if ptc.ndim != 2 or not ptc.shape[1] == len(pc) == len(classes) or len(row) != len(out):
        return None
    return langid.LanguageIdentifier(
        ptc, pc, classes, _indexable(arrays["nextmove"]), _indexable(out), tk_row=_indexable(row)
    )


def _indexable(array: Any) -> memoryview:
    """An integer array as a memoryview of Python ints. The state machine is walked one byte at
    a time in Python: indexed so, like the stdlib arrays py3langid builds from the same data,
    without copying 20 MB first (numpy's own scalars would be slower to index)."""
    if not array.dtype.isnative or array.dtype.kind not in "iu":
        raise ValueError(f"an array of {array.dtype} cannot be walked")
    return memoryview(array).cast("B").cast(_TYPECODES[array.dtype.kind, array.dtype.itemsize])


def _mapped(model: Path) -> dict[str, Any]:
    """The arrays of an uncompressed ``.npz``, as read-only views of one memory map of it."""
    import numpy as np  # lazy: py3langid's own dependency, loaded with it

    with model.open("rb") as f:
        where = {name: _array_at(f, info) for name, info in _members(f).items()}
        buffer = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    arrays = {}
    for name in _ARRAYS:
        offset, dtype, shape, fortran = where[name]
        count = int(np.prod(shape, dtype=np.int64))
        flat = np.frombuffer(buffer, dtype=dtype, count=count, offset=offset)
        arrays[name] = flat.reshape(shape, order="F" if fortran else "C")
    return arrays


def _members(f: IO[bytes]) -> dict[str, zipfile.ZipInfo]:
    with zipfile.ZipFile(f) as z:
        infos = {info.filename.removesuffix(".npy"): info for info in z.infolist()}
    if any(infos[name].compress_type != zipfile.ZIP_STORED for name in _ARRAYS):
        raise ValueError("a compressed member cannot be mapped")
    return infos


def _array_at(f: IO[bytes], info: zipfile.ZipInfo) -> tuple[int, Any, tuple[int, ...], bool]:
    """Where a stored ``.npy`` member's data starts in the file, and its dtype, shape, order."""
    from numpy.lib import format as npy  # lazy: as above

    f.seek(info.header_offset)
    local = f.read(30)
    if local[:4] != b"PK\x03\x04":
        raise ValueError("not a zip member's header")
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    f.seek(info.header_offset + 30 + name_length + extra_length)
    major, _ = npy.read_magic(f)
    read_header = npy.read_array_header_1_0 if major == 1 else npy.read_array_header_2_0
    shape, fortran, dtype = read_header(f)
    if dtype.hasobject:
        raise ValueError("an array of Python objects cannot be mapped")
    end = f.tell() + dtype.itemsize * math.prod(shape)
    if end > info.header_offset + 30 + name_length + extra_length + info.file_size:
        raise ValueError("an array longer than its member")
    return f.tell(), dtype, shape, fortran


def _build(source: Path, digest: str, folder: Path) -> None:
    """Unpack ``source`` into ``folder``: built aside, on disk, then published by one rename."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        model = work / _MODEL
        built_from = _unpack(source, model)
        if built_from != digest:  # the model was replaced while it was read: build nothing
            raise ValueError(f"{source} changed while it was unpacked")
        _mapped(model)  # what is published must be readable
        manifest = {"sha256": digest, "size": model.stat().st_size, "source": str(source)}
        (work / _MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        for path in (model, work / _MANIFEST, work):  # a power cut leaves no published stub
            _fsync(path)
        if folder.exists():  # built from another model of the same version and size
            shutil.rmtree(folder)
        work.rename(folder)
        _fsync(folder.parent)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _unpack(source: Path, target: Path) -> str:
    """Decompress ``source`` into ``target``; the SHA-256 of the compressed bytes read."""
    h = hashlib.sha256()
    with source.open("rb") as raw, target.open("wb") as out:
        unpacker = lzma.LZMADecompressor()
        while chunk := raw.read(1 << 20):
            h.update(chunk)
            out.write(unpacker.decompress(chunk))
        if not unpacker.eof:
            raise ValueError(f"{source} ends inside its compressed stream")
    return h.hexdigest()


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


@contextlib.contextmanager
def _builder_lock(root: Path) -> Iterator[bool]:
    """Whether this process holds the builder's lock (never waited for); held in the block."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock too


def _stamp_and_prune(root: Path, folder: Path) -> None:
    """Mark ``folder`` as in use today, and remove what no process uses any more."""
    with contextlib.suppress(OSError):
        os.utime(folder)
    with _builder_lock(root) as mine:
        if mine:
            _prune(root, folder)


def _prune(root: Path, keep: Path) -> None:
    """With the builder's lock held: remove the builds a crash cut short (no other build runs)
    and the folders of other keys no process has used for a week."""
    now = time.time()
    for path in root.iterdir():
        if path == keep or not path.is_dir():
            continue
        crashed = path.name.startswith(f".{_PREFIX}")
        unused = path.name.startswith(_PREFIX) and now - path.stat().st_mtime > _UNUSED
        if crashed or unused:
            shutil.rmtree(path, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
