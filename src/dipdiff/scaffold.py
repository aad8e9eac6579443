"""The monitoring part of ``dipdiff init``: reports/, .gitignore, a crontab line, a CI workflow.

Templates are plain text returned as data; writing them (without clobbering what a user
already has) is the caller's job.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    content: str
    description: str


def monitoring_files(folder: str, dipdiff: str = "dipdiff", package: str = "dipdiff") -> list[ScaffoldFile]:
    """The files ``dipdiff init`` adds so that a folder can be monitored from cron or CI."""
    return [
        ScaffoldFile("reports/README.md", render_index([]), "the reports index; reports land here"),
        ScaffoldFile(".gitignore", GITIGNORE, "keeps virtualenvs and caches out of git"),
        ScaffoldFile(CRONTAB_PATH, CRONTAB.format(folder=_sh_quote(folder), dipdiff=_sh_quote(dipdiff)),
                     "an example crontab line for `dipdiff run --commit`"),
        ScaffoldFile(WORKFLOW_PATH, WORKFLOW.format(package=package),
                     "a scheduled GitHub Actions workflow running `dipdiff run --commit`"),
    ]


def _sh_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
