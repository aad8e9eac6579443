"""``dipdiff site`` and ``export``: the store published, as a static site or a SQLite database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from dipdiff.cli.base import (
    ConfigOption,
    app,
    handle_errors,
    optional_config,
    parse_window,
    store_from,
)
from dipdiff.render.terminal import make_console


@app.command()
@handle_errors
def site(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="Folder to write the site into.")],
    base_url: Annotated[
        str,
        typer.Option(
            "--base-url",
            help="Where the site is published (absolute links in its feeds; default: "
            "[site] base_url).",
        ),
    ] = "",
    title: Annotated[str, typer.Option("--title", help="The site's name.")] = "dipdiff archive",
    window: Annotated[
        str,
        typer.Option("--window", help="How far apart two statements on one event may be: 60d, 2w."),
    ] = "60d",
    config: ConfigOption = Path("dipdiff.toml"),
) -> None:
    """Build the store's static site: a page per statement, version, redline and event."""
    from dipdiff.pipeline.site import build_site

    cfg = optional_config(config)
    result = build_site(
        store_from(ctx),
        out,
        base_url=base_url or (cfg.site.base_url if cfg else ""),
        title=title,
        window=parse_window(window),
    )
    removed = f", {len(result.removed)} removed" if result.removed else ""
    make_console().print(
        Text(
            f"{out}: {result.pages} pages, {len(result.written)} written, "
            f"{result.unchanged} unchanged{removed}"
        )
    )


export_app = typer.Typer(
    help="Export the store for other tools.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(export_app, name="export")


@export_app.command("sqlite")
@handle_errors
def export_sqlite(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="The SQLite database to write (or bring up to date).")
    ],
    window: Annotated[
        str,
        typer.Option("--window", help="How far apart two statements on one event may be: 60d, 2w."),
    ] = "60d",
) -> None:
    """The store as a SQLite database for Datasette (full-text search; metadata.json beside)."""
    from dipdiff.pipeline.export import export_sqlite as export

    r = export(store_from(ctx), file, window=parse_window(window))
    removed = f", {r.removed} removed" if r.removed else ""
    make_console().print(
        Text(
            f"{file}: {r.statements} statements, {r.exported} exported{removed}, "
            f"{r.divergences} divergences; {r.metadata} for datasette"
        )
    )
