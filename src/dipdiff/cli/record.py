"""``dipdiff snapshot`` and ``import``: record a page fetched now, or pages saved earlier."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

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
from dipdiff.errors import InputError
from dipdiff.models import Outcome
from dipdiff.render.terminal import make_console, safe
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
    file: Annotated[
        Path,
        typer.Argument(
            help="Saved HTML page (archive copy, Wayback capture), or a .warc, .warc.gz or "
            ".wacz file."
        ),
    ],
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="The URL the page was captured from (a WARC/WACZ: only this statement's "
            "captures).",
        ),
    ] = None,
    fetched_at: Annotated[
        str | None, typer.Option("--fetched-at", help="ISO 8601 capture time (default: now).")
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(help="Source name (default: the host).", autocompletion=source_names),
    ] = None,
    agency: Annotated[str | None, typer.Option(help="Agency that issued the statement.")] = None,
) -> None:
    """Store a saved HTML page as a version, as if it had been fetched at that time; or every
    HTML capture of a WARC or WACZ file, each at its WARC-Date.

    Exit 0 nothing new, 1 a change recorded, 2 trouble.
    """
    from dipdiff.pipeline.snapshot import import_archive, import_file, is_archive_file

    check_source_name(source)
    store = store_from(ctx)
    if is_archive_file(file):
        if fetched_at is not None:
            raise InputError("--fetched-at: a WARC record's own WARC-Date is its capture time")
        if url is not None and not url.lower().startswith(("http://", "https://")):
            raise InputError(f"--url must be an http(s) URL, not {url!r}")
        done = import_archive(store, file, url=url, source=source, agency=agency)
        console = make_console()
        for r in done.results:
            console.print(outcome_line(r))
        stored = done.count(Outcome.NEW, Outcome.CHANGED, Outcome.RESTORED)
        make_console(stderr=True).print(
            Text(
                f"imported {safe(done.file)}: {done.captures} capture(s), {stored} version(s) "
                f"stored, {done.count(Outcome.UNCHANGED)} unchanged, "
                f"{done.count(Outcome.BLOCKED)} blocked, {done.skipped} imported before"
            )
        )
        raise typer.Exit(ExitStatus.found(done.news))
    if url is None:
        raise InputError("--url: the URL the page was captured from is needed for an HTML file")
    result = import_file(
        store, file, url, fetched_at=fetched_at or now(), source=source, agency=agency
    )
    make_console().print(outcome_line(result))
    raise typer.Exit(ExitStatus.found(result.news))
