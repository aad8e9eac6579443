"""``dipdiff backfill``: statements' history from a web archive, before dipdiff watched them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from dipdiff.cli.base import (
    ConfigOption,
    app,
    check_source_name,
    handle_errors,
    optional_config,
    print_json,
    store_from,
)
from dipdiff.errors import InputError
from dipdiff.render.terminal import BarProgress, make_console, safe
from dipdiff.status import ExitStatus

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import Console

    from dipdiff.models import SnapshotResult
    from dipdiff.pipeline.backfill import StatementBackfill


class BackfillProgress(BarProgress):
    """On a terminal, a bar of captures (found / fetched, stored so far); piped, one line per
    statement. On stderr, so that ``--json`` on stdout stays clean."""

    def __init__(self, console: Console) -> None:
        super().__init__(console)
        self.stored = 0
        if console.is_terminal:
            from rich.progress import TextColumn

            bar = self._draw(TextColumn("fetched, {task.fields[stored]} stored"))
            self.task = bar.add_task("captures", total=0, stored=0)

    def found(self, item: StatementBackfill, count: int) -> None:
        if self.bar is not None and self.task is not None:
            total = (self.bar.tasks[0].total or 0) + count
            self.bar.update(self.task, total=total, description=safe(item.id or item.url))

    def fetched(self, item: StatementBackfill, result: SnapshotResult | None) -> None:
        if self.bar is not None and self.task is not None:
            self.stored += 1 if result is not None and result.news else 0
            self.bar.update(
                self.task, advance=1, stored=self.stored, description=safe(item.id or item.url)
            )

    def done(self, item: StatementBackfill) -> None:
        from dipdiff.pipeline.backfill import statement_line

        self.say(Text(safe(statement_line(item))))


def _day(value: str | None, option: str, *, end: bool = False) -> datetime | None:
    from datetime import UTC, datetime, time, timedelta

    from dipdiff.clock import parse_timestamp

    if value is None:
        return None
    try:
        if len(value.strip()) == 10:  # a day: from its start, to its end
            day = datetime.combine(datetime.fromisoformat(value.strip()).date(), time(), UTC)
            return day + timedelta(days=1, seconds=-1) if end else day
        return parse_timestamp(value)
    except (ValueError, InputError):
        raise InputError(
            f"{option} {value!r}: expected a date (YYYY-MM-DD) or an ISO 8601 time"
        ) from None


@app.command()
@handle_errors
def backfill(
    ctx: typer.Context,
    urls: Annotated[
        list[str] | None, typer.Argument(help="Statement URLs (default: those of --source).")
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(help="Source name: its known statements, or the name for the URLs given."),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="Captures from this date (YYYY-MM-DD or ISO).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Captures up to this date (YYYY-MM-DD or ISO).")
    ] = None,
    archive: Annotated[
        str | None,
        typer.Option(
            help="Wayback-compatible archive (default: [backfill] archive, "
            "https://web.archive.org)."
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="Fetch at most N captures per statement.", min=1)
    ] = None,
    config: ConfigOption = Path("dipdiff.toml"),
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a machine-readable summary on stdout.")
    ] = False,
) -> None:
    """Record statements' earlier versions from the Wayback Machine's captures.

    Exit 0 nothing new, 1 versions recorded, 2 trouble (the archive stopped the run: run it
    again later to go on).
    """
    from dataclasses import replace

    from dipdiff.config import BackfillSettings
    from dipdiff.pipeline.backfill import backfill as run_backfill
    from dipdiff.pipeline.backfill import backfill_doc, summary_line, targets_of

    check_source_name(source)
    if not urls and source is None:
        raise InputError("give statement URLs, or --source NAME for its known statements")
    for url in urls or []:
        if not url.lower().startswith(("http://", "https://")):
            raise InputError(f"{url!r}: a statement URL must be http(s)")
    if archive is not None and not archive.lower().startswith(("http://", "https://")):
        raise InputError(f"--archive {archive!r}: must be an http(s) URL")
    cfg = optional_config(config)
    settings = cfg.backfill if cfg else BackfillSettings()
    if archive is not None:
        settings = replace(settings, archive=archive.rstrip("/"))
    store = store_from(ctx)
    targets = targets_of(store, urls or [], source=source, config=cfg)
    if not targets:
        raise InputError(f"--source {source}: no known statements in {store.root}")
    with BackfillProgress(make_console(stderr=True)) as progress:
        result = run_backfill(
            store,
            targets,
            settings=settings,
            fetch=cfg.fetch if cfg else None,
            schedule=cfg.schedule if cfg else None,
            start=_day(start, "--from"),
            end=_day(end, "--to", end=True),
            limit=limit,
            listener=progress,
        )
    if as_json:
        print_json(backfill_doc(result))
    make_console(stderr=True).print(Text(safe(summary_line(result))))
    if result.stopped:
        raise typer.Exit(ExitStatus.TROUBLE)
    raise typer.Exit(ExitStatus.found(result.news))
