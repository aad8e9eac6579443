"""Shared fixtures: the real-page corpus, a local HTTP server, and an in-process CLI runner."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from dipdiff import langmodel
from dipdiff.analyse.language import detect_language
from dipdiff.pipeline.server import LocalServer
from faultkit import FIGURES, figures_line
from helpers import Cli, corpus_file

_FIGURES_KEY = "dipdiff_fault_figures"


@pytest.fixture
def corpus() -> Callable[[str], Path]:
    return corpus_file


@pytest.fixture
def server() -> Iterator[LocalServer]:
    # A test's server answers from threads of the process that runs the code under test, and the
    # language model's first load holds the GIL (about a second without the cache, which a test
    # may make unusable): a first new version mid-run stalled the server past the sub-second
    # deadlines that fault tests give slow pages, and a good page "timed out" (tests that ran
    # alone failed so). Loaded before the server starts; once per process, it is kept.
    detect_language("The model is loaded before any test server answers.")
    with LocalServer() as srv:
        yield srv


@pytest.fixture
def demo_files(tmp_path: Path) -> dict[str, Path]:
    """The bundled demo pages as files: ``state-libya.day1`` -> its path."""
    out = {}
    for name in ("state-libya.day1.html", "whitehouse-haftar.day1.html", "state-libya.day2.html"):
        p = tmp_path / name
        p.write_bytes(resources.files("dipdiff").joinpath("data", "demo", name).read_bytes())
        out[name.split(".")[0] + "." + name.split(".")[1]] = p
    return out


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "snapshots"


@pytest.fixture
def cli(store_dir: Path) -> Cli:
    return Cli(store_dir)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An xdist worker hands what its tests counted to the controller, which sums them: the figures
    are the whole suite's however its tests were spread over workers."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[_FIGURES_KEY] = dict(FIGURES)


class _WorkerFigures:
    """Registered only where xdist is (its hooks are unknown to pytest without it)."""

    @staticmethod
    def pytest_testnodedown(node: Any) -> None:
        """On the controller, a worker finished: add its figures to the controller's."""
        FIGURES.update(getattr(node, "workeroutput", {}).get(_FIGURES_KEY, {}))


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_WorkerFigures())
    if not hasattr(config, "workerinput"):
        _own_language_cache(config)


def _own_language_cache(config: pytest.Config) -> None:
    """The suite's language-model cache (dipdiff/langmodel.py): a folder of its own, never the
    user's home, shared by the xdist workers (they inherit the environment) and every process the
    tests start; removed when the run ends. Built here, before any test: a test that counts a
    process's fsyncs and renames (the kill campaigns of faultkit.py) must not count the cache's."""
    folder = tempfile.mkdtemp(prefix="dipdiff-suite-cache-")
    os.environ["DIPDIFF_CACHE"] = folder
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    langmodel.identifier()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """What the fault suite tried (tests/faultkit.py counts it): printed when any of it ran; and
    written as JSON where DIPDIFF_FAULT_FIGURES says, for benchmarks/fault_summary.py, which runs
    the suite one area at a time (a line of text would have to be parsed back). Only the
    controller's summary counts: a worker's figures are a part, summed by the controller."""
    if hasattr(config, "workerinput"):
        return
    out = os.environ.get("DIPDIFF_FAULT_FIGURES")
    if out:
        Path(out).write_text(json.dumps(dict(FIGURES)), encoding="utf-8")
    if (
        FIGURES.get("fault scenarios")
        or FIGURES.get("pages fuzzed")
        or FIGURES.get("kills survived")
    ):
        terminalreporter.write_line(figures_line(FIGURES))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first: spread over the xdist workers from the start, so that none of them
    (a minute and more under load) starts last and holds up the end of the run."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
