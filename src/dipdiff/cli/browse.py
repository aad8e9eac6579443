"""``dipdiff list``, ``log``, ``show`` and ``verify``: reading the store."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from dipdiff.cli.base import app, exit_if_damaged, handle_errors, print_json, store_from
from dipdiff.cli.complete import statement_ids
from dipdiff.cli.pager import NoPager, paged
from dipdiff.errors import InputError
from dipdiff.render.terminal import Column, make_console, print_table, safe
from dipdiff.status import ExitStatus

if TYPE_CHECKING:
    from rich.console import Console

    from dipdiff.store.meta import StatementMeta
    from dipdiff.store.store import Store


@app.command("list")
@handle_errors
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The statements in the store."""
    store = store_from(ctx)
    if not store.root.is_dir():
        raise InputError(f"{store.root}: no such store (--store names the snapshots folder)")
    from dipdiff.pipeline.listing import statement_rows

    # Not inside store.reading(): that would hold every statement's record and history
    # until the end (hundreds of MB at 50,000); the index commits its entries in batches.
    rows = statement_rows(store)
    store.index.flush()
    _list_rows(rows, as_json, store)
    exit_if_damaged(store)


def _list_rows(rows: list[dict[str, Any]], as_json: bool, store: Store) -> None:
    if as_json:
        print_json(rows)
        return
    console = make_console()
    if not rows:
        console.print(Text(f"no statements in {store.root}"))
        return
    if not console.is_terminal:
        # Piped: one tab-separated line per statement, nothing cut, so that `cut -f1` works: a
        # tab inside a title becomes a space. Written as is: rich would expand the tabs to
        # spaces, at a millisecond a line.
        sys.stdout.write(
            "".join(
                safe("\t".join(" ".join(f.split("\t")) for f in fields)) + "\n"
                for fields in (
                    [r["id"], str(r["versions"]), r["last_fetched"] or "-", r["title"]]
                    for r in rows
                )
            )
        )
        return
    # IDs are what users copy into the next command: whole, on one line; titles wrap.
    columns = [
        Column("id", whole=True),
        Column("versions", whole=True, right=True),
        Column("last fetched", whole=True, optional=True),
        Column("title"),
    ]
    print_table(
        console,
        columns,
        [[r["id"], str(r["versions"]), r["last_fetched"] or "-", r["title"]] for r in rows],
    )


def _provenance(version: dict[str, Any]) -> str:
    """What the title's cell says before the title: only an archive origin and a restore need
    saying (the first version is new, the others changed), so that the table keeps its width."""
    said = f"(restored @{version['restores']}) " if version["restores"] else ""
    if version["archive"]:
        said = f"(from the archive: {version['archive']['origin']}) " + said
    return said


@app.command()
@handle_errors
def log(
    ctx: typer.Context,
    statement_id: Annotated[
        str,
        typer.Argument(
            metavar="ID", help="<source>/<slug>, or its beginning", autocompletion=statement_ids
        ),
    ],
    checks: Annotated[
        bool, typer.Option("--checks", help="Show every check, not only versions.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    no_pager: NoPager = False,
) -> None:
    """The versions of one statement (and with --checks, its check history)."""
    from dipdiff.pipeline.events import version_events
    from dipdiff.store.lookup import resolve_ref

    store = store_from(ctx)
    sid, _ = resolve_ref(store, statement_id)
    meta = store.meta(sid)
    refs = store.versions(sid)
    stored_as = version_events(refs, meta.checks)
    versions: list[dict[str, Any]] = []
    for ref in refs:
        st = store.read_version(sid, ref.number).statement
        event, restores = stored_as.get(ref.filename, (None, None))
        versions.append(
            {
                "version": ref.number,
                "fetched_at": ref.fetched_at,
                "sha256": ref.sha256,
                "words": st.words,
                "title": st.title,
                "file": ref.filename,
                "event": event,
                "restores": restores,
                # Taken from a web archive: where, so that it is never read as seen live.
                "archive": ref.provenance.header() if ref.provenance else None,
            }
        )
    if as_json:
        doc: dict[str, Any] = {"id": sid, "url": meta.url, "versions": versions}
        if checks:
            doc["checks"] = meta.checks
        print_json(doc)
        return
    paged(lambda console: _print_log(console, sid, meta, versions, checks), pager=not no_pager)


def _print_log(
    console: Console,
    sid: str,
    meta: StatementMeta,
    versions: list[dict[str, Any]],
    checks: bool,
) -> None:
    console.print(Text(f"{sid}  {safe(meta.url)}"))
    whole = [Column(c, whole=True) for c in ("@", "fetched at", "sha256", "words")]
    print_table(
        console,
        [*whole, Column("title")],
        [
            [
                str(v["version"]),
                v["fetched_at"],
                v["sha256"][:12],
                str(v["words"]),
                _provenance(v) + v["title"],
            ]
            for v in versions
        ],
    )
    if checks:
        console.print()
        whole = [Column(c, whole=True) for c in ("checked at", "outcome", "status", "version")]
        print_table(
            console,
            [*whole, Column("note")],
            [
                [str(c.get(k, "")) for k in ("time", "outcome", "status", "version", "note")]
                for c in meta.checks
            ],
        )


@app.command()
@handle_errors
def show(
    ctx: typer.Context,
    ref: Annotated[
        str,
        typer.Argument(
            metavar="ID[@N]",
            help="Statement (or the beginning of its ID), optionally a version (1 = first, "
            "-1 = latest).",
            autocompletion=statement_ids,
        ),
    ],
    raw: Annotated[bool, typer.Option("--raw", help="Print the raw HTML as fetched.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    no_pager: NoPager = False,
) -> None:
    """The text of one version."""
    from dipdiff.pipeline.load import stored
    from dipdiff.render.json import statement_meta
    from dipdiff.render.plain import statement_text
    from dipdiff.store.lookup import resolve_ref

    store = store_from(ctx)
    sid, n = resolve_ref(store, ref)
    n = -1 if n is None else n
    if raw:
        content = store.read_raw(sid, n)
        if sys.stdout.isatty():
            # A page can carry escape sequences; only a pipe or a file gets the bytes as fetched.
            from dipdiff.scrape.charset import decode_html

            make_console().print(Text(safe(decode_html(content))))
        else:
            sys.stdout.buffer.write(content)
        return
    v = store.read_version(sid, n)
    loaded = stored(store, sid, v)
    if loaded.warning:
        make_console(stderr=True).print(Text(f"dipdiff: {safe(loaded.warning)}"))
    if as_json:
        doc = statement_meta(v.statement, loaded.origin) | {
            "sha256": v.ref.sha256,
            "paragraphs": list(v.statement.paragraphs),
        }
        print_json(doc)
        return
    text = Text(safe(statement_text(v.statement)))
    paged(lambda console: console.print(text, end=""), pager=not no_pager)


@app.command()
@handle_errors
def verify(
    ctx: typer.Context,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="First remove what interrupted runs left behind (temp files, raw pages "
            "without their version, statements with nothing stored) and resolve what a merge "
            "or a lost file left (conflict markers in metadata, check histories and run "
            "records: both sides kept; an empty run record; a lost meta.json, rebuilt); never "
            "touches a version.",
        ),
    ] = False,
) -> None:
    """Check every file of the store: headers, hashes, metadata. Exit 2 naming what is wrong."""
    store = store_from(ctx)
    console = make_console()
    from dipdiff.store.mend import mend
    from dipdiff.store.verify import verify as verify_store

    if repair and store.root.is_dir():
        for path in store.repair():
            console.print(Text(f"removed {safe(path)}"))
        with store.lock():
            for line in mend(store):
                console.print(Text(f"repaired {safe(line)}"))

    problems = verify_store(store)
    if problems:
        err = make_console(stderr=True)
        for p in problems:
            err.print(Text(f"dipdiff: {safe(p)}"))
        raise typer.Exit(ExitStatus.TROUBLE)
    n = len(store.statement_ids())
    console.print(Text(f"ok: {n} statement(s) in {store.root} verified"))
