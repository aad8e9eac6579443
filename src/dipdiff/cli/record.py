"""``dipdiff snapshot`` and ``import``: record one page, fetched now or saved earlier."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dipdiff.cli.base import (
    app,
    check_source_name,
    handle_errors,
    make_fetcher,
    now,
    outcome_line,
    store_from,
)
from dipdiff.cli.complete import source_names
from dipdiff.render.terminal import make_console
from dipdiff.status import ExitStatus


@app.command()
@handle_errors
def snapshot(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="Page to fetch.")],
    source: Annotated[
        str | None,
        typer.Option(help="Source name (default: the host).", autocompletion=source_names),
    ] = None,
    agency: Annotated[str | None, typer.Option(help="Agency that issued the statement.")] = None,
) -> None:
    """Fetch one page, extract the statement, store it if its text changed.

    Exit 0 nothing new, 1 a change recorded, 2 trouble.
    """
    from dipdiff.pipeline.snapshot import snapshot_url

    check_source_name(source)
    result = snapshot_url(store_from(ctx), make_fetcher(), url, source=source, agency=agency)
    make_console().print(outcome_line(result))
    raise typer.Exit(ExitStatus.found(result.news))


@app.command("import")
@handle_errors
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Saved HTML page (archive copy, Wayback capture).")],
    url: Annotated[str, typer.Option("--url", help="The URL the page was captured from.")],
    fetched_at: Annotated[
        str | None, typer.Option("--fetched-at", help="ISO 8601 capture time (default: now).")
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(help="Source name (default: the host).", autocompletion=source_names),
    ] = None,
    agency: Annotated[str | None, typer.Option(help="Agency that issued the statement.")] = None,
) -> None:
    """Store a saved HTML page as a version, as if it had been fetched at that time.

    Exit 0 nothing new, 1 a change recorded, 2 trouble.
    """
    from dipdiff.pipeline.snapshot import import_file

    check_source_name(source)
    result = import_file(
        store_from(ctx), file, url, fetched_at=fetched_at or now(), source=source, agency=agency
    )
    make_console().print(outcome_line(result))
    raise typer.Exit(ExitStatus.found(result.news))
