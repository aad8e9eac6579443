"""Shared fixtures: the real-page corpus, a local HTTP server, and an in-process CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dipdiff.cli.app import app
from dipdiff.pipeline.server import LocalServer

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("DIPDIFF_CORPUS", ROOT.parent / "shared" / "corpus"))


def corpus_file(relative: str) -> Path:
    """A file of ../shared/corpus; the test is skipped (with the reason) when it is absent."""
    path = CORPUS / relative
    if not path.exists():
        pytest.skip(f"real-page corpus not available: {path} (set DIPDIFF_CORPUS)")
    return path


@pytest.fixture
def corpus():
    return corpus_file


@pytest.fixture
def server():
    with LocalServer() as srv:
        yield srv


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "snapshots"


class Cli:
    """Call the CLI in-process against one store; returns click's Result."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.runner = CliRunner()

    def __call__(self, *args: str, env: dict | None = None):
        return self.runner.invoke(app, ["--store", str(self.store), *args], env={"NO_COLOR": "1", **(env or {})})


@pytest.fixture
def cli(store_dir: Path) -> Cli:
    return Cli(store_dir)


def pytest_terminal_summary(terminalreporter) -> None:
    """What the fault suite tried (tests/faultkit.py counts it): printed when any of it ran."""
    from faultkit import FIGURES, figures_line

    if FIGURES.get("fault scenarios") or FIGURES.get("pages fuzzed") or FIGURES.get("kills survived"):
        terminalreporter.write_line(figures_line(FIGURES))
