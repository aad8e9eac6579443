"""The monitoring part of ``dipdiff init``: reports/, .gitignore, a crontab line, a CI workflow.

Templates are plain text returned as data; writing them (without clobbering what a user
already has) is the caller's job.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dipdiff.digest import render_index

WORKFLOW_PATH = ".github/workflows/dipdiff.yml"
CRONTAB_PATH = "crontab.example"

GITIGNORE = """\
# dipdiff: the store keeps its own lock and temp files out of git (snapshots/.gitignore).
.venv/
__pycache__/
*.pyc
dipdiff-demo/
"""

CRONTAB = """\
# dipdiff: check every hour at minute 17; cron mails whatever is printed, and `dipdiff run`
# prints only when something changed or went wrong. Install with `crontab -e`.
# Exit codes: 0 nothing changed, 1 changes found (and committed), 2 trouble.
17 * * * * cd {folder} && {dipdiff} run --commit
"""

WORKFLOW = """\
# dipdiff on a schedule: fetch, write reports/, commit snapshots/ and reports/, push.
name: dipdiff
on:
  schedule:
    - cron: "17 * * * *"  # hourly, at minute 17 (UTC)
  workflow_dispatch: {{}}
permissions:
  contents: write  # to push the commit
concurrency:
  group: dipdiff  # never two runs on one store
  cancel-in-progress: false
jobs:
  run:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install {package}
      - name: dipdiff run
        # Exit 1 means "changes found": success for this job; 2 is trouble and fails it.
        run: |
          set +e
          dipdiff run --commit --verbose
          status=$?
          if [ "$status" -eq 2 ]; then exit 2; fi
          git push
"""


@dataclass(frozen=True)
class ScaffoldFile:
    path: str  # relative to the monitoring folder
    content: Callable[[Path], str]  # of the folder's absolute path
    description: str


def crontab(folder: Path, dipdiff: str = "dipdiff") -> str:
    return CRONTAB.format(folder=shlex.quote(str(folder)), dipdiff=shlex.quote(dipdiff))


def monitoring_files(dipdiff: str = "dipdiff", package: str = "dipdiff") -> list[ScaffoldFile]:
    """The files ``dipdiff init`` adds so that a folder can be monitored from cron or CI.

    ``dipdiff`` is the command the crontab runs (an absolute path: cron's PATH is short).
    """
    return [
        ScaffoldFile("reports/README.md", lambda folder: render_index([]),
                     "the reports index; dipdiff run writes reports here"),
        ScaffoldFile(".gitignore", lambda folder: GITIGNORE, "keeps virtualenvs and caches out of git"),
        ScaffoldFile(CRONTAB_PATH, lambda folder: crontab(folder, dipdiff),
                     "an example crontab line: dipdiff run --commit every hour"),
        ScaffoldFile(WORKFLOW_PATH, lambda folder: WORKFLOW.format(package=package),
                     "a scheduled GitHub Actions workflow running dipdiff run --commit"),
    ]
