"""``dipdiff init``: the files of a new dipdiff folder.

Each file is one :class:`InitFile` in :data:`INIT_FILES`; ``init`` creates the
ones that do not exist yet and never overwrites. To make ``init`` create more
(reports/, a crontab line, a CI workflow), append to the list.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dipdiff.config import (
    CONFIG_NAME,
    BackfillSettings,
    CompareSettings,
    FetchSettings,
    Schedule,
    preset,
    preset_names,
)
from dipdiff.render.markdown import render_index
from dipdiff.store.git import BOT_EMAIL, BOT_NAME

# Presets that a new config enables; the others are listed, commented out.
ENABLED_PRESETS = ("state-dept", "white-house", "fcdo", "un-press")


@dataclass(frozen=True)
class InitFile:
    path: str  # relative to the folder; ending in "/" makes a folder
    content: Callable[[], str] | None = None
    description: str = ""
    content_for: Callable[[Path], str] | None = None  # content that depends on the folder


def _duration(seconds: float) -> str:
    """``"7d"``, ``"72h"``, ``"15m"``: days from a week up, as the README writes them."""
    for unit, size, least in (("d", 86400, 7 * 86400), ("h", 3600, 3600), ("m", 60, 60)):
        if seconds >= least and seconds % size == 0:
            return f'"{int(seconds // size)}{unit}"'
    return f"{seconds:g}"


def config_template() -> str:
    """A commented ``dipdiff.toml`` with every key, its default, and the built-in presets."""
    f, s, cmp, b = FetchSettings(), Schedule(), CompareSettings(), BackfillSettings()
    lines = [
        '# dipdiff configuration. Documented in README.md ("The config file").',
        '# Durations: seconds (30) or "30s", "15m", "2h", "7d".',
        "",
        "[dipdiff]",
        f'# user_agent = "{f.user_agent}"',
        f"# concurrency = {f.concurrency}        # requests in flight, all hosts",
        f"# per_host = {f.per_host}           # requests in flight to one host",
        f"# delay = {f.delay:g}              # seconds between two requests to one host",
        f"# timeout = {f.timeout:g}           # seconds for a response's headers; 3x for all of it",
        f"# retries = {f.retries}            # extra attempts on connection errors and 5xx",
        f"# backoff = {f.backoff:g}            # first wait before a retry, doubled each time",
        (
            f"# max_retry_after = {f.max_retry_after:g}  "
            "# a longer Retry-After gives up until the next run"
        ),
        f"# max_bytes = {f.max_bytes}   # response size cap",
        (
            f"# robots = {str(f.robots).lower()}         "
            "# respect robots.txt (per source: robots = false)"
        ),
        (
            f"# allow_private = {str(f.allow_private).lower()}  "
            "# private, loopback, link-local addresses (per source too)"
        ),
        "# A source's links and redirects are followed within its own site (state.gov for",
        '# www.state.gov) and to the hosts it lists: allow_hosts = ["media.example.gov"].',
        "",
        "[schedule]",
        "# Known statements are re-checked every factor x (time since they last changed),",
        "# kept between min_interval and max_interval; `dipdiff fetch --all` ignores it.",
        f"# min_interval = {_duration(s.min_interval)}",
        f"# max_interval = {_duration(s.max_interval)}",
        f"# factor = {s.factor:g}",
        f"# removed_after = {s.removed_after}      # consecutive 404/410 checks before `removed`",
        (
            f"# flap_window = {_duration(s.flap_window)}   "
            "# flapping (two texts alternating on each check) is judged on checks this recent"
        ),
        "",
        "[compare]",
        "# How far apart two statements' dates may be to be related: the default --window of",
        "# `dipdiff related` and `divergences`, and of the divergences `report` and `run` find.",
        f"# window = {_duration(cmp.window)}",
        "",
        "[reports]",
        "# The public URL of reports/ (e.g. https://github.com/me/watch/blob/main/reports/):",
        "# the feed's self link and its links to report sections. Unset: relative links.",
        '# base_url = ""',
        "",
        "[site]",
        "# The public URL of the static site (e.g. https://me.github.io/watch/): `run --site`",
        "# and `dipdiff site` build with it, and notifications link to its pages.",
        '# base_url = ""',
        "",
        "[backfill]",
        "# `dipdiff backfill`: statements' history from a web archive, and how gently to ask it",
        "# (the Wayback Machine allows about one CDX query per 2.5 s).",
        f'# archive = "{b.archive}"',
        f"# cdx_delay = {_duration(b.cdx_delay)}",
        f"# memento_delay = {_duration(b.memento_delay)}",
        "",
        "# Your own diplomatic signal phrases, added to dipdiff's lexicon:",
        "# [signals]",
        "",
        "# Notifications (pip install 'dipdiff[notify]'): Apprise URLs and their rules.",
        "# [notify.targets.newsroom]",
        '# url = "slack://T000/B000/XXXX"      # or json://, mailto://, matrix://, tgram://, ...',
        '# min_significance = "minor"         # cosmetic | minor | substantive',
        '# kinds = ["edits", "new", "removals", "restores", "moves", "divergences"]',
        '# digest = "run"                     # or "daily": one message per day',
        "",
        "# Sources. `preset` starts from a built-in preset (dipdiff sources); any key",
        "# overrides it. Keys: kind (feed|listing|sitemap|json), url, agency, full_text,",
        "# selector, link, item_date, next_page, pages, include, exclude, max_items, items,",
        "# link_field, base_url, content_api, robots, delay, enabled, split;",
        "# [sources.NAME.extract]: title, date, body, agency, remove, drop_paragraphs.",
    ]
    for name in preset_names():
        p = preset(name)
        on = name in ENABLED_PRESETS
        c = "" if on else "# "
        lines += ["", f"# {p.description}", f"{c}[sources.{name}]", f'{c}preset = "{name}"']
    lines += [
        "",
        "# A source of your own, e.g. a ministry's listing page:",
        "# [sources.my-ministry]",
        '# kind = "listing"',
        '# url = "https://www.example.gov/press-releases/"',
        '# agency = "Ministry of Foreign Affairs"',
        '# selector = "li.news-item"          # one item of the listing',
        '# link = "a.news-item__title"        # its link',
        '# item_date = "time"                 # its date (optional)',
        "# [sources.my-ministry.extract]",
        '# title = ["h1"]',
        '# body = ["div.article-body"]',
        '# remove = [".share-buttons"]',
        "",
    ]
    return "\n".join(lines)


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

SHARDED_CRONTAB = (
    "# dipdiff in {shards} shards (dipdiff init --shards {shards}), from cron on several hosts\n"
    "# sharing one git remote. Host K (K = 1..{shards}), in its own clone, runs shard K on a\n"
    "# branch of its own and pushes it; one host merges the branches after them, writes the\n"
    "# report and pushes main. Exit codes: 0 nothing changed, 1 changes found, 2 trouble.\n"
    "# On host K (write its number for K):\n"
    "# 17 * * * * cd {folder} && git fetch -q origin && git checkout -q -B shard-K origin/main"
    " && {dipdiff} run --shard K/{shards} --commit; git push -q -f origin shard-K\n"
    "# On the merging host, after the shards:\n"
    "47 * * * * cd {folder} && git checkout -q main && git pull -q --ff-only"
    " && git fetch -q origin '+refs/heads/shard-*:refs/remotes/origin/shard-*'"
    " && {{ {dipdiff} merge $(git branch -r --list 'origin/shard-*') --commit; [ $? -ne 2 ]; }}"
    " && git push -q origin main"
    " && for b in $(git branch -r --list 'origin/shard-*');"
    ' do git push -q origin --delete "${{b#origin/}}"; done\n'
)

# What both workflows start with: when they run, what they may do, one run at a time.
# Every job installs dipdiff the same way.
_SETUP = """\
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install {package}
"""

_HEAD = """\
name: dipdiff
on:
  schedule:
    - cron: "17 * * * *"  # hourly, at minute 17 (UTC)
  workflow_dispatch: {{}}
permissions:
  contents: write  # to push the commit
  pages: write  # to publish the site
  id-token: write  # (GitHub Pages' deployment asks for it)
concurrency:
  group: dipdiff  # never two runs on one store
  cancel-in-progress: false
jobs:
"""

_WORKFLOW_RUN = (
    """\
# dipdiff on a schedule: fetch, write reports/, commit snapshots/ and reports/, push;
# then build the static site (dipdiff site) and publish it on GitHub Pages when something changed.
"""
    + _HEAD
    + """\
  run:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    outputs:
      changed: ${{{{ steps.run.outputs.changed }}}}
    steps:
      - uses: actions/checkout@v4
"""
    + _SETUP
    + """\
      - name: dipdiff run
        id: run
        # Exit 1 means "changes found": success for this job; 2 is trouble and fails it.
        run: |
          set +e
          dipdiff run --commit --verbose
          status=$?
          if [ "$status" -eq 2 ]; then exit 2; fi
          echo "changed=$([ "$status" -eq 1 ] && echo true || echo false)" >> "$GITHUB_OUTPUT"
          git push
"""
)

# The site job of both workflows; {needs}: the job that says whether something changed.
_SITE_JOB = (
    """\
  site:
    needs: {needs}
    if: needs.{needs}.outputs.changed == 'true' || github.event_name == 'workflow_dispatch'
    runs-on: ubuntu-latest
    timeout-minutes: 30
    environment:
      name: github-pages
      url: ${{{{ steps.deploy.outputs.page_url }}}}
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{{{ github.ref }}}}  # the branch the job before just pushed to, at its new commit
"""
    + _SETUP
    + """\
      - id: pages
        uses: actions/configure-pages@v5
      # The last build's pages and manifest: the build rewrites only what changed.
      - uses: actions/cache@v4
        with:
          path: _site
          key: dipdiff-site-${{{{ github.run_id }}}}
          restore-keys: dipdiff-site-
      - run: dipdiff site _site --base-url "${{{{ steps.pages.outputs.base_url }}}}"
      - uses: actions/upload-pages-artifact@v3
        with:
          path: _site
      - id: deploy
        uses: actions/deploy-pages@v4
"""
)

WORKFLOW = _WORKFLOW_RUN + _SITE_JOB.replace("{needs}", "run")

SHARDED_WORKFLOW = (
    """\
# dipdiff in {shards} shards (dipdiff init --shards {shards}): each shard job runs the sources of
# one shard of the hosts (dipdiff run --shard I/{shards}) and pushes its commit to a branch of its
# own; one merge job then merges the branches, writes the day's report once (dipdiff merge) and
# pushes main, retrying a refused push on the new main; the site is rebuilt when something changed.
"""
    + _HEAD
    + """\
  shard:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    strategy:
      fail-fast: false  # the other shards go on; a failed one is picked up by the next round
      matrix:
        shard: {matrix}
    steps:
      - uses: actions/checkout@v4
"""
    + _SETUP
    + """\
      - name: dipdiff run --shard
        # Exit 1 means "changes found"; 2 is trouble and fails the job, after the push: what
        # the shard recorded is merged all the same.
        run: |
          set +e
          branch="shard-${{{{ matrix.shard }}}}"
          git checkout -q -B "$branch"
          dipdiff run --shard "${{{{ matrix.shard }}}}/{shards}" --commit --verbose
          status=$?
          git push -q -f origin "$branch" || exit 2
          if [ "$status" -eq 2 ]; then exit 2; fi
  merge:
    needs: shard
    if: ${{{{ always() }}}}  # merge the shards that pushed, even when one failed
    runs-on: ubuntu-latest
    timeout-minutes: 30
    concurrency:
      group: dipdiff-merge  # one writer of main's reports at a time
      cancel-in-progress: false
    outputs:
      changed: ${{{{ steps.merge.outputs.changed }}}}
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0  # the shards' branches need their merge base
"""
    + _SETUP
    + """\
      - name: dipdiff merge
        id: merge
        # A push refused because main moved meanwhile is not pushed again as it is: the new
        # main is fetched, this round rebased onto it and its report written again from the
        # rebased store.
        run: |
          set +e
          git config user.name "{bot_name}"
          git config user.email "{bot_email}"
          git fetch -q origin '+refs/heads/shard-*:refs/remotes/origin/shard-*'
          branches=$(git branch -r --list 'origin/shard-*')
          if [ -z "$branches" ]; then echo "changed=false" >> "$GITHUB_OUTPUT"; exit 0; fi
          dipdiff merge $branches --commit
          status=$?
          if [ "$status" -eq 2 ]; then exit 2; fi
          for attempt in 1 2 3 4 5; do
            git push -q origin HEAD:main && break
            if [ "$attempt" -eq 5 ]; then exit 2; fi
            sleep "$attempt"
            git fetch -q origin main
            git rebase -q origin/main || {{ git rebase --abort; exit 2; }}
            dipdiff merge --commit --webhook ""  # the report again; the webhook was told
            if [ "$?" -eq 2 ]; then exit 2; fi
          done
          for b in $branches; do git push -q origin --delete "${{b#origin/}}"; done
          echo "changed=$([ "$status" -eq 1 ] && echo true || echo false)" >> "$GITHUB_OUTPUT"
"""
    + _SITE_JOB.replace("{needs}", "merge")
)


def sharded_workflow(shards: int, package: str = "dipdiff") -> str:
    """The GitHub Actions workflow of ``dipdiff init --shards N``: N shard jobs, one merge."""
    return SHARDED_WORKFLOW.format(
        shards=shards,
        matrix="[" + ", ".join(str(i) for i in range(1, shards + 1)) + "]",
        package=package,
        bot_name=BOT_NAME,
        bot_email=BOT_EMAIL,
    )


@dataclass(frozen=True)
class ScaffoldFile:
    path: str  # relative to the monitoring folder
    content: Callable[[Path], str]  # of the folder's absolute path
    description: str


def crontab(folder: Path, dipdiff: str = "dipdiff", shards: int | None = None) -> str:
    where = {"folder": shlex.quote(str(folder)), "dipdiff": shlex.quote(dipdiff)}
    if shards is None:
        return CRONTAB.format(**where)
    return SHARDED_CRONTAB.format(shards=shards, **where)


def monitoring_files(
    dipdiff: str = "dipdiff", package: str = "dipdiff", shards: int | None = None
) -> list[ScaffoldFile]:
    """The files ``dipdiff init`` adds so that a folder can be monitored from cron or CI.

    ``dipdiff`` is the command the crontab runs (an absolute path: cron's PATH is short);
    ``shards``: the crontab and workflow of a run in that many shards (``init --shards``).
    """
    if shards is not None:
        return [
            ScaffoldFile(
                CRONTAB_PATH,
                lambda folder: crontab(folder, dipdiff, shards),
                f"example crontab lines: {shards} shard hosts and one that merges",
            ),
            ScaffoldFile(
                WORKFLOW_PATH,
                lambda _: sharded_workflow(shards, package),
                f"a scheduled GitHub Actions workflow: {shards} shard jobs, one merge, the site",
            ),
        ]
    return [
        ScaffoldFile(
            "reports/README.md",
            lambda _: render_index([]),
            "the reports index; dipdiff run writes reports here",
        ),
        ScaffoldFile(".gitignore", lambda _: GITIGNORE, "keeps virtualenvs and caches out of git"),
        ScaffoldFile(
            CRONTAB_PATH,
            lambda folder: crontab(folder, dipdiff),
            "an example crontab line: dipdiff run --commit every hour",
        ),
        ScaffoldFile(
            WORKFLOW_PATH,
            lambda _: WORKFLOW.format(package=package),
            "a scheduled GitHub Actions workflow: dipdiff run --commit, the site on Pages",
        ),
    ]


INIT_FILES: list[InitFile] = [
    InitFile(CONFIG_NAME, config_template, "sources and settings"),
    InitFile("snapshots/", None, "the snapshot store (commit it to git)"),
]


def _monitoring_files(shards: int | None = None) -> list[InitFile]:
    """reports/, .gitignore, a crontab line and a CI workflow, for ``dipdiff run`` (with
    ``shards``: the crontab and workflow of a sharded run only)."""

    dipdiff = shutil.which("dipdiff") or "dipdiff"
    return [
        InitFile(f.path, None, f.description, f.content)
        for f in monitoring_files(dipdiff, shards=shards)
    ]


INIT_FILES += _monitoring_files()


def init_project(folder: Path, shards: int | None = None) -> list[tuple[str, bool, str]]:
    """Create the files of :data:`INIT_FILES` in ``folder``; returns (path, created, what it is).

    ``shards``: the crontab and workflow run the sources in that many shards, merged once."""
    folder.mkdir(parents=True, exist_ok=True)
    sharded = {f.path: f for f in _monitoring_files(shards)} if shards is not None else {}
    done = []
    for item in (sharded.get(i.path, i) for i in INIT_FILES):
        target = folder / item.path
        if item.path.endswith("/"):
            created = not target.exists()
            target.mkdir(parents=True, exist_ok=True)
        else:
            created = not target.exists()
            if created:
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.tmp")
                text = (
                    item.content_for(folder.resolve())
                    if item.content_for
                    else item.content()
                    if item.content
                    else ""
                )
                tmp.write_text(text, encoding="utf-8")
                tmp.replace(target)
        done.append((str(target), created, item.description))
    return done
