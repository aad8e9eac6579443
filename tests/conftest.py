"""Shared fixtures: the real-page corpus, a local HTTP server, and an in-process CLI runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "snapshots"


@pytest.fixture
def cli(store_dir: Path) -> Cli:
    return Cli(store_dir)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What the fault suite tried (tests/faultkit.py counts it): printed when any of it ran."""
    if (
        FIGURES.get("fault scenarios")
        or FIGURES.get("pages fuzzed")
        or FIGURES.get("kills survived")
    ):
        terminalreporter.write_line(figures_line(FIGURES))
