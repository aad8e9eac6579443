"""Shared fixtures: the real-page corpus, a local HTTP server, and an in-process CLI runner."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

import pytest

from dipdiff.pipeline.server import LocalServer
from faultkit import FIGURES, figures_line
from helpers import Cli, corpus_file


@pytest.fixture
def corpus() -> Callable[[str], Path]:
    return corpus_file


@pytest.fixture
def server() -> Iterator[LocalServer]:
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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What the fault suite tried (tests/faultkit.py counts it): printed when any of it ran; and
    written as JSON where DIPDIFF_FAULT_FIGURES says, for benchmarks/fault_summary.py, which runs
    the suite one area at a time (a line of text would have to be parsed back)."""
    out = os.environ.get("DIPDIFF_FAULT_FIGURES")
    if out:
        Path(out).write_text(json.dumps(dict(FIGURES)), encoding="utf-8")
    if (
        FIGURES.get("fault scenarios")
        or FIGURES.get("pages fuzzed")
        or FIGURES.get("kills survived")
    ):
        terminalreporter.write_line(figures_line(FIGURES))
