"""``dipdiff fetch``, ``run``, ``report``, ``merge``: watching sources, telling what changed."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ClassVar

import typer
from rich.text import Text

from dipdiff.cli.base import (
    ConfigOption,
    app,
    exit_if_damaged,
    handle_errors,
    now,
    optional_config,
    parse_day,
    print_json,
    reports_dir,
    store_from,
)
from dipdiff.cli.complete import source_names
from dipdiff.errors import DipdiffError, InputError
from dipdiff.render.terminal import make_console, safe
from dipdiff.status import ExitStatus

WebhookOption = Annotated[
    str | None,
    typer.Option(
        "--webhook",
        envvar="DIPDIFF_WEBHOOK",
        help="POST a JSON summary here when something changed.",
    ),
]
SiteOption = Annotated[
    Path | None,
    typer.Option("--site", help="Rebuild this static site (dipdiff site) when something changed."),
]
WaitOption = Annotated[
    float, typer.Option("--wait", min=0, help="Seconds to wait for a run that holds the store.")
]
ReportsOption = Annotated[
    Path | None,
    typer.Option("--reports", help="Reports folder (default: reports/ beside the store)."),
]

if TYPE_CHECKING:
    from dipdiff.config import Config
    from dipdiff.models import RunResult
    from dipdiff.pipeline.notify import Delivery, Post, Targets
    from dipdiff.store.store import Store


@app.command()
@handle_errors
def report(
    ctx: typer.Context,
    date_: Annotated[
        str | None, typer.Option("--date", help="The day to report (YYYY-MM-DD, UTC).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Everything from this day (YYYY-MM-DD) on.")
    ] = None,
    run: Annotated[
        str | None, typer.Option("--run", help="One run: 'latest' or a run id (snapshots/runs/).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the report here ('-': print it).")
    ] = None,
    reports: ReportsOption = None,
    config: ConfigOption = Path("dipdiff.toml"),
) -> None:
    """Write a markdown report of what changed, update reports/README.md and reports/feed.xml."""
    from datetime import timedelta

    from dipdiff.config import CompareSettings, ReportSettings
    from dipdiff.pipeline import report as reports_
    from dipdiff.pipeline.run import divergence_finder
    from dipdiff.render.markdown import render_report

    if sum(x is not None for x in (date_, since, run)) > 1:
        raise InputError("use only one of --date, --since and --run")
    cfg = optional_config(config)
    window_s = (cfg.compare if cfg else CompareSettings()).window
    base_url = (cfg.reports if cfg else ReportSettings()).base_url
    store = store_from(ctx)
    with store.reading():  # the report and the feed read the same files: each once
        if date_ is not None:
            window = reports_.day_window(parse_day(date_, "--date"), store)
        elif since is not None:
            window = reports_.since_window(parse_day(since, "--since"), store)
        elif run is not None:
            window = reports_.run_window(store, run)
        else:
            window = reports_.default_window(store)
        history = reports_.History(store)
        data = reports_.build_report(
            store,
            window,
            find_divergences=divergence_finder(timedelta(seconds=window_s)),
            history=history,
        )
        if out is not None and str(out) == "-":
            sys.stdout.write(safe(render_report(data)))
            exit_if_damaged(store)
            return
        written = reports_.write_reports(
            store,
            reports_dir(store, reports),
            data,
            out,
            filename=window.filename,
            history=history,
            base_url=base_url,
        )
    make_console().print(
        Text(f"{written.report}  ({', '.join(f'{v} {k}' for k, v in data.counts().items())})")
    )
    exit_if_damaged(store)


class _RunLog:
    """``dipdiff run``'s log: timestamped lines on stderr, so that cron mails only what matters.

    ``--quiet``: errors only. Default: warnings, and a summary when something changed.
    ``--verbose``: every step and every statement.
    """

    LEVELS: ClassVar[dict[str, int]] = {"debug": 0, "info": 1, "warning": 2}

    def __init__(self, quiet: bool, verbose: bool) -> None:
        self.threshold = 3 if quiet else 0 if verbose else 1
        self.console = make_console(stderr=True)

    def __call__(self, level: str, message: str) -> None:
        if self.LEVELS[level] >= self.threshold:
            tag = "" if level == "info" else f"{level}: "
            one_line = " ".join(message.splitlines())
            self.console.print(Text(f"{now()} dipdiff: {tag}{safe(one_line)}"))


@app.command()
@handle_errors
def run(
    ctx: typer.Context,
    config: ConfigOption = Path("dipdiff.toml"),
    commit: Annotated[
        bool,
        typer.Option("--commit", help="git-commit snapshots/ and reports/ when something changed."),
    ] = False,
    webhook: WebhookOption = None,
    wait: WaitOption = 30.0,
    reports: ReportsOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print errors only.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log every step and every statement.")
    ] = False,
    site: SiteOption = None,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            help="I/N: only the sources of shard I of N (by host); `dipdiff merge` reports.",
        ),
    ] = None,
) -> None:
    """For cron: fetch due statements, write the report, optionally commit.

    Exit 0 nothing, 1 changes, 2 trouble.
    """
    from datetime import timedelta

    from dipdiff import models
    from dipdiff.config import load_config
    from dipdiff.pipeline import run as monitor
    from dipdiff.pipeline.fetch import fetch_sources
    from dipdiff.pipeline.shard import parse_shard, shard_sources, uid_seed

    part = parse_shard(shard) if shard is not None else None
    if part is not None and webhook and webhook == os.environ.get("DIPDIFF_WEBHOOK"):
        webhook = None  # the environment's webhook is the merge's: a shard leaves it alone
    if part is not None and (webhook or site):
        option = "--webhook" if webhook else "--site"
        raise InputError(
            f"{option} with --shard: a shard knows only part of the day; give it to dipdiff merge"
        )
    cfg = load_config(config)
    store = store_from(ctx)
    folder = reports_dir(store, reports)
    log = _RunLog(quiet, verbose)
    names = shard_sources(cfg, part) if part is not None else None
    if part is not None:
        store.seed_uid(uid_seed(cfg))

    def fetch(st: Store) -> RunResult:
        if names == []:  # a shard whose hosts none of the sources use: nothing to fetch
            started = now()
            return models.RunResult(started_at=started, finished_at=started)
        return fetch_sources(
            cfg,
            st,
            sources=names,
            clock=now,
            listener=monitor.LogListener(log),
            keep=part.keeps if part is not None else None,
        )

    post = _poster(webhook, cfg.fetch.timeout)
    # Before fetching: a target that cannot be sent to is a config error. A shard's [notify]
    # targets are the merge's: it knows only part of the day.
    targets = _targets(cfg) if part is None else None

    result = monitor.run_monitor(
        store,
        fetch,
        now=now,
        reports_dir=folder,
        commit=commit,
        find_divergences=monitor.divergence_finder(timedelta(seconds=cfg.compare.window)),
        lock_wait=wait,
        log=log,
        webhook=post,
        base_url=cfg.reports.base_url,
        targets=targets,
        shard=part,
    )
    if result.changed:
        where = f"; wrote {result.written.report}" if result.written else ""
        done = f"; committed {result.commit[:12]}" if result.commit else ""
        log("info", f"run {result.run.id}: {result.summary()}{where}{done}")
        for line in monitor.commit_message(result).splitlines()[2:]:
            log("info", line)
    _publish(store, site, cfg.site.base_url, result.changed, result.delivery, result.notified, log)
    raise typer.Exit(result.exit_code)


def _poster(webhook: str | None, timeout: float) -> Post | None:
    if not webhook:
        return None
    from dipdiff.scrape.http import post_json

    return functools.partial(post_json, webhook, timeout=timeout)


def _publish(
    store: Store,
    site: Path | None,
    site_url: str,
    changed: bool,
    delivery: Delivery | None,
    notified: Mapping[str, Delivery],
    log: _RunLog,
) -> None:
    """After a run or a merge: the site rebuilt when something changed; a webhook or target
    not reached is trouble, said in one line (their messages wait in the outbox)."""
    if site is not None and (changed or not site.is_dir()):
        from dipdiff.pipeline.site import build_site

        built = build_site(store, site, base_url=site_url)
        log("info", f"site {site}: {built.pages} pages, {len(built.written)} written")
    from dipdiff.store.outbox import OUTBOX

    kept_in = store.root / OUTBOX
    lines = []
    if delivery and delivery.error:
        lines.append(
            f"{delivery.error}; {delivery.kept} summary(ies) kept in {kept_in} for the next run"
        )
    lines += [
        f"{d.error}; {d.kept} message(s) kept in {kept_in} for the next run"
        for d in notified.values()
        if d.error
    ]
    if lines:
        raise DipdiffError("; ".join(lines))


def _targets(cfg: Config) -> Targets | None:
    """The ``[notify]`` targets with their channels (None: the config has none)."""
    if not cfg.notify.targets:
        return None
    from dipdiff.pipeline.notify import Targets
    from dipdiff.scrape.notifiers import open_channels

    channels = open_channels(cfg.notify, timeout=cfg.fetch.timeout, path=cfg.path)
    return Targets(cfg.notify.targets, channels, cfg.reports.base_url, cfg.site.base_url)


@app.command()
@handle_errors
def notify(
    ctx: typer.Context,
    config: ConfigOption = Path("dipdiff.toml"),
    test: Annotated[
        bool, typer.Option("--test", help="Send a sample message to every [notify] target.")
    ] = False,
) -> None:
    """The [notify] targets and the messages waiting for them; --test sends each a sample.

    Exit 2 when a sample did not arrive.
    """
    from dipdiff.config import load_config
    from dipdiff.pipeline.notify import sender, test_payload
    from dipdiff.store.outbox import Outbox

    cfg = load_config(config)
    targets = _targets(cfg)
    console = make_console()
    if targets is None:
        console.print(Text(f"no [notify] targets in {config}"))
        raise typer.Exit(ExitStatus.SUCCESS)
    failed = False
    outbox = Outbox(store_from(ctx).root)
    for t in targets.targets:
        waiting = len(outbox.pending(t.name)[0])
        rules = f"digest {t.digest}, {t.min_significance} and up, {', '.join(t.kinds)}"
        if t.sources or t.agencies:
            rules += f"; only {', '.join((*t.sources, *t.agencies))}"
        line = f"{t.name:<16} {rules}; {waiting} waiting"
        if test:
            try:
                sender(targets.channels[t.name], t)(test_payload())
                line += "; sample sent"
            except DipdiffError as e:
                failed = True
                line += f"; sample NOT sent: {e}"
        console.print(Text(safe(line)))
    raise typer.Exit(ExitStatus.TROUBLE if failed else ExitStatus.SUCCESS)


@app.command()
@handle_errors
def merge(
    ctx: typer.Context,
    refs: Annotated[
        list[str] | None,
        typer.Argument(help="The shards' branches or commits to merge first (git merge)."),
    ] = None,
    commit: Annotated[
        bool, typer.Option("--commit", help="git-commit the report, index and feed.")
    ] = False,
    wait: WaitOption = 30.0,
    reports: ReportsOption = None,
    config: ConfigOption = Path("dipdiff.toml"),
    webhook: WebhookOption = None,
    site: SiteOption = None,
) -> None:
    """After sharded runs: merge their commits, write the day's report once, optionally commit.

    Exit 0 nothing, 1 changes, 2 trouble.
    """
    from datetime import timedelta

    from dipdiff.config import CompareSettings, FetchSettings, ReportSettings
    from dipdiff.pipeline.merge import merge_shards
    from dipdiff.pipeline.run import divergence_finder

    cfg = optional_config(config)
    window_s = (cfg.compare if cfg else CompareSettings()).window
    store = store_from(ctx)
    log = _RunLog(quiet=False, verbose=False)
    result = merge_shards(
        store,
        reports_dir(store, reports),
        refs or (),
        commit=commit,
        find_divergences=divergence_finder(timedelta(seconds=window_s)),
        lock_wait=wait,
        base_url=(cfg.reports if cfg else ReportSettings()).base_url,
        webhook=_poster(webhook, (cfg.fetch if cfg else FetchSettings()).timeout),
        targets=_targets(cfg) if cfg else None,
        now=now(),
        log=log,
    )
    counts = ", ".join(f"{v} {k}" for k, v in result.counts().items())
    where = f"wrote {result.written.report}" if result.written else "nothing new: no report"
    done = f"; committed {result.commit[:12]}" if result.commit else ""
    make_console(stderr=True).print(Text(f"{where} ({counts}){done}"))
    site_url = cfg.site.base_url if cfg else ""
    _publish(store, site, site_url, result.changed, result.delivery, result.notified, log)
    exit_if_damaged(store)
    raise typer.Exit(result.exit_code)


@app.command()
@handle_errors
def fetch(
    ctx: typer.Context,
    config: ConfigOption = Path("dipdiff.toml"),
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            "-s",
            help="Only this source (repeatable).",
            autocompletion=source_names,
        ),
    ] = None,
    check_all: Annotated[
        bool, typer.Option("--all", help="Re-check every known statement, ignoring the schedule.")
    ] = False,
    since: Annotated[
        str | None, typer.Option(help="Only statements published since this date (ISO 8601).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Check at most N statements.", min=0)] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a machine-readable run summary on stdout.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log unchanged statements too.")
    ] = False,
) -> None:
    """Discover new statements and re-check known ones.

    Exit 0 nothing new, 1 new/changed, 2 trouble.
    """
    from dipdiff.clock import parse_timestamp, utc_timestamp
    from dipdiff.config import load_config
    from dipdiff.pipeline.fetch import exit_status, fetch_sources
    from dipdiff.render.json import summary
    from dipdiff.render.terminal import FetchProgress

    cfg = load_config(config)
    since_ts = utc_timestamp(parse_timestamp(since)) if since else None
    for name in source or []:
        cfg.source(name)  # an unknown name is an error before anything is fetched
    with FetchProgress(make_console(stderr=True), verbose=verbose) as progress:
        run = fetch_sources(
            cfg,
            store_from(ctx),
            sources=source or None,
            check_all=check_all,
            since=since_ts,
            limit=limit,
            clock=now,
            listener=progress,
        )
    doc = summary(run)
    if as_json:
        print_json(doc)
    else:
        counts = ", ".join(f"{n} {k}" for k, n in doc["outcomes"].items() if n) or "nothing due"
        trouble = f"; {len(run.problems)} source(s) could not be read" if run.problems else ""
        if run.damaged:
            trouble += f"; {len(run.damaged)} damaged file(s) left out (see `dipdiff verify`)"
        make_console(stderr=True).print(
            Text(f"checked {doc['checked']} statement(s): {counts}{trouble}")
        )
    raise typer.Exit(exit_status(run))
