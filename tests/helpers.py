"""What several test folders share: where things are, the real-page corpus, an in-process CLI.

Fixtures wrapping these live in ``conftest.py``; test modules that need the plain functions or
paths import them from here (``tests/`` is on ``sys.path`` through pytest's ``pythonpath``).
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from dipdiff.cli.app import app
from dipdiff.models import Statement
from dipdiff.scrape.charset import decode_html
from dipdiff.scrape.discover import parse_feed
from dipdiff.scrape.extract import extract

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SRC = ROOT / "src" / "dipdiff"
README = ROOT / "README.md"
CASES = TESTS / "cases"
CORPUS = Path(os.environ.get("DIPDIFF_CORPUS", ROOT.parent / "shared" / "corpus"))
BIN = Path(sys.executable).parent  # the virtualenv's scripts: the installed `dipdiff`


def corpus_file(relative: str) -> Path:
    """A file of ../shared/corpus; the test is skipped (with the reason) when it is absent."""
    path = CORPUS / relative
    if not path.exists():
        pytest.skip(f"real-page corpus not available: {path} (set DIPDIFF_CORPUS)")
    return path


class Cli:
    """Call the CLI in-process against one store; returns click's Result."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.runner = CliRunner()

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return self.runner.invoke(
            app, ["--store", str(self.store), *args], env={"NO_COLOR": "1", **(env or {})}
        )


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo``; its stdout (a failing git command fails the test)."""
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def monitoring_folder(folder: Path, config: str) -> Path:
    """A git repository with one committed ``dipdiff.toml``: where `dipdiff run --commit` runs."""
    git(folder, "init", "-q", "-b", "main")
    (folder / "dipdiff.toml").write_text(config, encoding="utf-8")
    git(folder, "add", "dipdiff.toml")
    git(folder, *IDENTITY, "commit", "-qm", "config")
    return folder


IDENTITY = ("-c", "user.name=t", "-c", "user.email=t@example.org")  # who commits in tests


def laptop_and_ci(tmp: Path, files: dict[str, str]) -> tuple[Path, Path, Path]:
    """A bare ``origin``, a ``laptop`` clone that committed ``files`` (path -> text) and pushed
    them, and a ``ci`` clone of it: one monitoring repository kept in two places."""
    origin = tmp / "origin.git"
    git(tmp, "init", "-q", "--bare", "-b", "main", str(origin))
    laptop = tmp / "laptop"
    git(tmp, "clone", "-q", str(origin), str(laptop))
    for name, text in files.items():
        (laptop / name).parent.mkdir(parents=True, exist_ok=True)
        (laptop / name).write_text(text, encoding="utf-8")
    git(laptop, "add", *files)
    git(laptop, *IDENTITY, "commit", "-qm", "config")
    git(laptop, "push", "-q", "origin", "main")
    ci = tmp / "ci"
    git(tmp, "clone", "-q", str(origin), str(ci))
    return origin, laptop, ci


# The corpus's real feeds and pages of statements, with the site each came from: for tests that
# need a store of many real statements on many topics (related, divergences).
CORPUS_FEEDS = (
    ("state-gov-press-releases-rss", "https://www.state.gov/feed/", "state-dept"),
    ("whitehouse-gov-briefing-room-rss", "https://www.whitehouse.gov/feed/", "white-house"),
    ("whitehouse-briefings-rss-thirdparty-2025", "https://www.whitehouse.gov/feed/", "white-house"),
)
OBAMA_BRIEFS = "obama-whitehouse-press-office-2009-2016/briefs"


def corpus_statements() -> list[tuple[str, Statement]]:
    """Every distinct statement of the corpus's feeds (its last version) and Obama-era briefs,
    as (source, statement); skips the test when the corpus is absent."""
    corpus_file(CORPUS_FEEDS[0][0])
    found: dict[tuple[str, str], Statement] = {}
    for folder, base, source in CORPUS_FEEDS:
        for path in sorted((CORPUS / folder).rglob("*")):
            if path.suffix not in (".rss", ".xml"):
                continue
            for item in parse_feed(path.read_bytes(), base, full_text=True).items:
                if item.statement is not None:
                    found[(source, item.url)] = item.statement
    for path in sorted((CORPUS / OBAMA_BRIEFS).glob("*.html")):
        url = "https://obamawhitehouse.archives.gov/the-press-office/" + path.stem
        found[("obama-white-house", url)] = extract(decode_html(path.read_bytes()), url)
    return [(source, st) for (source, _), st in sorted(found.items())]


def run_in_terminal(args: list[str], env: dict[str, str], rows: int = 24) -> str:
    """Run dipdiff with stdin/stdout on a pseudo-terminal ``rows`` high; what it printed."""
    main, secondary = pty.openpty()
    full_env = {**os.environ, "LINES": str(rows), "COLUMNS": "100", "NO_COLOR": "1", **env}
    proc = subprocess.Popen(
        [str(BIN / "dipdiff"), *args],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=full_env,
        close_fds=True,
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # the terminal closed: the process is gone
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(main)
    return b"".join(chunks).decode("utf-8", "replace")


def age(root: Path, seconds: float = 3600) -> None:
    """Make every file under ``root`` look written ``seconds`` ago (settled, for the index)."""
    then = time.time() - seconds
    for path in root.rglob("*"):
        os.utime(path, (then, then))
