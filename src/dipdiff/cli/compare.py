"""``dipdiff compare``, ``related`` and ``divergences``: agencies side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from dipdiff.cli.base import (
    ConfigOption,
    app,
    compare_window,
    handle_errors,
    make_fetcher,
    parse_since,
    print_json,
    print_json_array,
    store_from,
)
from dipdiff.cli.complete import statement_ids
from dipdiff.cli.diff import warn_tampered
from dipdiff.cli.pager import NoPager, paged, paged_text
from dipdiff.errors import InputError
from dipdiff.render.terminal import Column, make_console, print_table, safe, safe_json
from dipdiff.status import ExitStatus

COMPARE_FORMATS = ("term", "md", "html", "json")


@app.command()
@handle_errors
def compare(
    ctx: typer.Context,
    a: Annotated[
        str,
        typer.Argument(
            metavar="A", help="Statement ID[@N], file or URL.", autocompletion=statement_ids
        ),
    ],
    b: Annotated[
        str,
        typer.Argument(
            metavar="B", help="Statement ID[@N], file or URL.", autocompletion=statement_ids
        ),
    ],
    fmt: Annotated[str, typer.Option("--format", "-f", help="term, md, html or json.")] = "term",
    no_pager: NoPager = False,
) -> None:
    """Two statements side by side: shared wording, actors, stances. Exit 1 when divergent."""
    from dipdiff.analyse.compare import compare as compare_statements
    from dipdiff.pipeline.load import load
    from dipdiff.render.html import compare_html
    from dipdiff.render.json import compare_json
    from dipdiff.render.markdown import compare_markdown
    from dipdiff.render.terminal import render_compare

    if fmt not in COMPARE_FORMATS:
        raise InputError(f"--format {fmt!r}: choose one of {', '.join(COMPARE_FORMATS)}")
    store = store_from(ctx)
    fetcher = make_fetcher() if "://" in a or "://" in b else None
    la, lb = load(a, store, fetcher), load(b, store, fetcher)
    warn_tampered(la, lb)
    result = compare_statements(la.statement, lb.statement)
    origins = (la.origin, lb.origin)
    pager = not no_pager
    if fmt == "json":
        doc = compare_json(result, la.origin or la.version, lb.origin or lb.version)
        paged_text(safe_json(doc), pager=pager)
    elif fmt == "md":
        paged_text(safe(compare_markdown(result, la.label, lb.label, origins)), pager=pager)
    elif fmt == "html":
        paged_text(safe(compare_html(result, la.label, lb.label, origins)), pager=pager)
    else:
        paged(
            lambda console: render_compare(
                console, result, labels=(la.label, lb.label), origins=origins
            ),
            pager=pager,
        )
    raise typer.Exit(ExitStatus.found(result.divergent))


@app.command()
@handle_errors
def related(
    ctx: typer.Context,
    ref: Annotated[
        str, typer.Argument(metavar="ID", help="Statement ID.", autocompletion=statement_ids)
    ],
    window: Annotated[
        str | None,
        typer.Option(
            "--window",
            help="How far apart the dates may be at most (closer counts more): 60d, 48h, 2w "
            "(default: [compare] window, 60d).",
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Show at most this many.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    config: ConfigOption = Path("dipdiff.toml"),
) -> None:
    """Statements of other sources about the same event: shared actors and places, close dates."""
    from dipdiff.pipeline.crosscheck import related_in_store
    from dipdiff.render.json import related_doc

    if limit < 1:
        raise InputError("--limit must be 1 or more")
    span, shown = compare_window(window, config)
    record, items = related_in_store(store_from(ctx), ref, span, limit=limit)
    if as_json:
        print_json(related_doc(record.id, items))
        return
    console = make_console()
    if not items:
        console.print(
            Text(f"no related statements from other sources within {shown} of {record.id}")
        )
        return
    columns = [
        Column("score", whole=True, right=True),
        Column("days", whole=True, right=True),
        Column("id", whole=True),
        Column("shared", optional=True),
        Column("title"),
    ]
    rows = [
        [
            f"{r.score:.2f}",
            f"{r.days:.1f}" if r.days is not None else "-",
            r.record.id,
            ", ".join(r.shared),
            r.record.statement.title,
        ]
        for r in items
    ]
    print_table(console, columns, rows)


@app.command()
@handle_errors
def divergences(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only pairs with a statement dated on or after this date."),
    ] = None,
    window: Annotated[
        str | None,
        typer.Option(
            "--window",
            help="How far apart related statements may be at most (closer counts more): 60d, 2w "
            "(default: [compare] window, 60d).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    config: ConfigOption = Path("dipdiff.toml"),
) -> None:
    """Related statements of different sources that diverge, most divergent first. Exit 1 if any."""
    from dipdiff.pipeline.crosscheck import find_divergences
    from dipdiff.render.json import divergence_doc
    from dipdiff.render.plain import divergence_line

    span, _ = compare_window(window, config)
    pairs = find_divergences(store_from(ctx), since=parse_since(since), window=span)
    if as_json:
        print_json_array(map(divergence_doc, pairs))
    else:
        console = make_console()
        if not pairs:
            console.print(Text("no divergences"))
        for d in pairs:
            console.print(Text(f"{d.score:.2f}  {d.a.id} ↔ {d.b.id}", style="bold"))
            for x in d.actors:
                console.print(Text(f"      {safe(divergence_line(x))}"))
    raise typer.Exit(ExitStatus.found(pairs))
