"""The language model's cache, as a user meets it: ``diff --format json`` names each side's
language, and prints the same whether the cache is absent, being built by another process,
damaged, unwritable or stale; one folder is built per py3langid, by one process at a time, and
what is no longer used is removed."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dipdiff import langmodel
from helpers import BIN

FRENCH = "La France condamne fermement l’offensive des forces de Khalifa Haftar contre Tripoli.\n"
SPANISH = "España condena enérgicamente la ofensiva de las fuerzas de Haftar contra Trípoli.\n"
SAMPLES = [
    "The United States condemns the attack on civilians in Tripoli and calls for a ceasefire.",
    FRENCH,
    SPANISH,
    "Россия выступает за политическое урегулирование кризиса в Ливии.",
    "تدين الولايات المتحدة الهجوم على المدنيين في طرابلس",
    "中国支持利比亚人民自主选择的发展道路。",
]
DAY = 86400


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A cache as a first process leaves it, built once for the module."""
    folder = tmp_path_factory.mktemp("langcache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIPDIFF_CACHE", str(folder))
        assert _cached_identifier() is not None
    return folder


@pytest.fixture
def prebuilt(tmp_path, built) -> Path:
    """A copy of that cache, for one test to damage or age."""
    return Path(shutil.copytree(built, tmp_path / "cache"))


def _cached_identifier():
    import py3langid
    from py3langid import langid

    source = Path(langid.MODEL_DIR) / langid.MODEL_FILE
    return langmodel._from_cache(langid, source, str(py3langid.__version__))


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(FRENCH, encoding="utf-8")
    b.write_text(SPANISH, encoding="utf-8")
    return a, b


def _env(cache: Path | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DIPDIFF_CACHE", "XDG_CACHE_HOME")}
    return env | ({"DIPDIFF_CACHE": str(cache)} if cache else {}) | extra


def _diff(pair: tuple[Path, Path], cache: Path | None, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "dipdiff"), "diff", str(pair[0]), str(pair[1]), "--format", "json"],
        env=_env(cache, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _languages(proc: subprocess.Popen[str]) -> tuple[str, str]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err  # the two texts differ
    assert err == "", err  # nothing said about the cache, ever
    found = json.loads(out)
    return found["a"]["language"], found["b"]["language"]


def _folders(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir() if p.is_dir())


def _published(cache: Path) -> Path:
    (name,) = [n for n in _folders(cache) if n.startswith("langid-")]
    return cache / name


def _files(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def test_two_processes_at_once_detect_alike_and_publish_one_folder(tmp_path, pair):
    cache = tmp_path / "cache"
    first, second = _diff(pair, cache), _diff(pair, cache)
    assert _languages(first) == _languages(second) == ("fr", "es")
    # One folder, published whole, and no build left half-way; read after that, not rebuilt.
    folder = _published(cache)
    assert _folders(cache) == [folder.name]
    built = _files(folder)
    assert _languages(_diff(pair, cache)) == ("fr", "es")
    assert _files(folder) == built


def test_a_build_under_way_elsewhere_is_not_waited_for(tmp_path, pair):
    cache = tmp_path / "cache"
    cache.mkdir()
    with (cache / ".langid.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another process is building
        started = time.monotonic()
        assert _languages(_diff(pair, cache)) == ("fr", "es")
        waited = time.monotonic() - started
    assert _folders(cache) == []  # it built nothing: the other builder owns that
    assert waited < 100  # the test's only bound is that it returned, with the lock still held


def test_the_cache_follows_xdg_cache_home(tmp_path, pair):
    xdg = tmp_path / "xdg"
    assert _languages(_diff(pair, None, XDG_CACHE_HOME=str(xdg), HOME=str(tmp_path))) == (
        "fr",
        "es",
    )
    assert _published(xdg / "dipdiff").name.startswith("langid-1-")
    assert not (tmp_path / ".cache").exists()


def test_a_cache_that_cannot_be_written_detects_all_the_same(tmp_path, pair):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert _languages(_diff(pair, blocker / "cache")) == ("fr", "es")
    assert blocker.read_text() == "not a folder"


def test_a_readable_cache_whose_lock_cannot_be_taken_still_serves(prebuilt, pair, monkeypatch):
    """A cache on a read-only mount: no lock file can be made, nothing stamped or pruned."""
    cache = prebuilt
    folder = _published(cache)
    (cache / ".langid.lock").unlink()
    (cache / ".langid.lock").mkdir()  # opening it to lock fails, as on a read-only mount
    old = time.time() - 2 * DAY
    os.utime(folder, (old, old))  # due for its stamp, which needs the lock
    assert _languages(_diff(pair, cache)) == ("fr", "es")
    monkeypatch.setenv("DIPDIFF_CACHE", str(cache))
    assert _cached_identifier() is not None  # read from the cache, not loaded the plain way


@pytest.mark.parametrize("damage", ["truncated", "emptied", "manifest cut", "another model"])
def test_a_damaged_cache_is_not_trusted_and_is_rebuilt(prebuilt, pair, damage):
    cache = prebuilt
    folder = _published(cache)
    model, manifest = folder / "model.npz", folder / "built-from.json"
    size = model.stat().st_size
    if damage == "truncated":
        with model.open("r+b") as f:
            f.truncate(size // 2)
    elif damage == "emptied":
        model.write_bytes(b"")
    elif damage == "manifest cut":
        manifest.write_text(manifest.read_text()[:20])
    else:  # a model of the same version and size, other bytes
        manifest.write_text(json.dumps(json.loads(manifest.read_text()) | {"sha256": "0" * 64}))
    assert _languages(_diff(pair, cache)) == ("fr", "es")
    assert model.stat().st_size == size
    assert json.loads(manifest.read_text())["size"] == size


def test_folders_no_longer_used_and_crashed_builds_are_removed(tmp_path, pair):
    cache = tmp_path / "cache"
    stale = cache / "langid-1-0.3.0-4000000"  # another py3langid's, unused for 8 days
    recent = cache / "langid-1-0.5.0-5000000"  # another virtualenv's, used yesterday
    crashed = cache / ".langid-1-0.4.0-4586720.x1y2"  # a build a crash cut short
    for folder, age in ((stale, 8 * DAY), (recent, DAY), (crashed, 0)):
        folder.mkdir(parents=True)
        (folder / "model.npz").write_bytes(b"\x93NUMPY half")
        os.utime(folder, (time.time() - age, time.time() - age))
    assert _languages(_diff(pair, cache)) == ("fr", "es")
    ours = next(n for n in _folders(cache) if n.startswith("langid-1-0.4"))
    assert _folders(cache) == sorted([ours, recent.name])
    # Used again two days later: our folder's stamp is refreshed, and the other's, unused for 9
    # days by then, goes without a build of ours to prompt it.
    for folder, age in ((cache / ours, 2 * DAY), (recent, 9 * DAY)):
        os.utime(folder, (time.time() - age, time.time() - age))
    assert _languages(_diff(pair, cache)) == ("fr", "es")
    assert _folders(cache) == [ours]
    assert time.time() - (cache / ours).stat().st_mtime < DAY


@pytest.fixture(scope="module")
def reference():
    """py3langid's identifier as py3langid itself loads it (from the compressed model)."""
    from py3langid import langid

    return langid.LanguageIdentifier.from_model_file(langid.MODEL_DIR / langid.MODEL_FILE)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.sampled_from(SAMPLES), min_size=1, max_size=4),
    st.text(min_size=0, max_size=200),
)
def test_any_mixed_text_ranks_exactly_as_py3langid(reference, built, parts, noise):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIPDIFF_CACHE", str(built))
        cached = _cached_identifier()
    text = noise.join(parts)
    assert cached.rank(text) == reference.rank(text)
