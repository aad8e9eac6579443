"""The language model's cache: the same ranking as py3langid's own loading, built once, and a
cache that cannot be written or was left half-built by a crash never changes an answer."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dipdiff import langmodel
from dipdiff.analyse.language import detect_language

SAMPLES = [
    "The United States condemns the attack on civilians in Tripoli and calls for a ceasefire.",
    "La France condamne fermement l’offensive des forces de Khalifa Haftar contre Tripoli.",
    "España condena enérgicamente la ofensiva de las fuerzas de Haftar contra Trípoli.",
    "Россия выступает за политическое урегулирование кризиса в Ливии.",
    "تدين الولايات المتحدة الهجوم على المدنيين في طرابلس",
    "中国支持利比亚人民自主选择的发展道路。",
]


@pytest.fixture(scope="module")
def reference():
    """py3langid's identifier as py3langid itself loads it (from the compressed model)."""
    from py3langid import langid

    return langid.LanguageIdentifier.from_model_file(langid.MODEL_DIR / langid.MODEL_FILE)


def test_the_cached_model_ranks_exactly_as_py3langid(reference):
    cached = langmodel.identifier()
    for text in SAMPLES:
        assert cached.rank(text) == reference.rank(text), text


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.sampled_from(SAMPLES), min_size=1, max_size=4),
    st.text(min_size=0, max_size=200),
)
def test_any_mixed_text_ranks_exactly_as_py3langid(reference, parts, noise):
    text = noise.join(parts)
    assert langmodel.identifier().rank(text) == reference.rank(text)


def _detect_in_a_fresh_process(cache, text: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys; from dipdiff.analyse.language import detect_language; "
        "print(detect_language(sys.argv[1]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code, text],
        capture_output=True,
        text=True,
        env={"DIPDIFF_CACHE": str(cache), "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_the_cache_is_built_once_and_then_read(tmp_path):
    cache = tmp_path / "cache"
    crashed = cache / ".langid-0-0.crashed"  # a work folder whose build a crash cut short
    crashed.mkdir(parents=True)
    (crashed / "ptc.npy").write_bytes(b"\x93NUMPY half")
    first = _detect_in_a_fresh_process(cache, SAMPLES[1])
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == detect_language(SAMPLES[1]) == "fr"
    # One folder published whole; its own work folder gone, the crashed one never read.
    (folder,) = [p for p in cache.iterdir() if p != crashed]
    assert not folder.name.startswith(".")
    stamp = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    again = _detect_in_a_fresh_process(cache, SAMPLES[2])
    assert again.stdout.strip() == "es", again.stderr
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == stamp


def test_an_unwritable_cache_detects_all_the_same(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    r = _detect_in_a_fresh_process(blocker / "cache", SAMPLES[3])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ru"
