"""``dipdiff init``, ``sources``, ``sources check`` and ``demo``: set a folder up, try it out."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from dipdiff.cli.base import ConfigOption, app, handle_errors, outcome_line, print_json
from dipdiff.cli.complete import source_names
from dipdiff.errors import InputError
from dipdiff.render.terminal import Column, make_console, print_table, safe
from dipdiff.status import ExitStatus
from dipdiff.text import clip

if TYPE_CHECKING:
    from rich.console import Console

    from dipdiff.models import Page
    from dipdiff.pipeline.health import SourceHealth
    from dipdiff.scrape.http import Client
    from dipdiff.store.store import Store


@app.command()
@handle_errors
def demo(
    folder: Annotated[Path, typer.Option("--dir", help="Demo folder (recreated each run).")] = Path(
        "dipdiff-demo"
    ),
) -> None:
    """Run the whole product offline on bundled sample statements."""
    from dipdiff.pipeline import demo as d
    from dipdiff.pipeline.server import LocalServer
    from dipdiff.pipeline.snapshot import snapshot_url
    from dipdiff.render.markdown import diff_markdown
    from dipdiff.render.terminal import render_diff
    from dipdiff.scrape.http import make_client
    from dipdiff.store.store import Store

    console = make_console()
    d.prepare_dir(folder)
    store = Store(folder / "snapshots")
    report = ["# dipdiff demo report", ""]
    with LocalServer() as server, make_client() as client:
        console.print(Text(f"Serving sample statements on {server.url('/')} (no network needed)."))
        changed = []
        for day, when in d.DAYS.items():
            pages = d.serve_day(server, day)
            console.print()
            console.print(
                Text(f"{day} ({when}): snapshotting {len(pages)} statement(s)", style="bold")
            )
            results = []
            for p in pages:
                r = snapshot_url(
                    store,
                    functools.partial(_fetch_at, client, when),
                    server.url(p.path),
                    source=p.source,
                    agency=p.agency,
                )
                results.append(r)
                console.print(Text("  ") + outcome_line(r))
            changed += d.changed_diffs(results)
    for r, result in changed:
        labels = (
            f"{r.statement_id}@{r.event.a_version if r.event else ''}",
            f"{r.statement_id}@{r.version}",
        )
        console.print()
        render_diff(console, result, labels=labels)
        report += [diff_markdown(result, a_label=labels[0], b_label=labels[1]), ""]
    report += _demo_compare(console, store, d.COMPARE)
    report_path = folder / "report.md"
    report_path.write_text("\n".join(report).rstrip() + "\n", encoding="utf-8")
    console.print()
    console.print(Text(f"Store:  {store.root}/  (try: dipdiff --store {store.root} list)"))
    console.print(Text(f"Report: {report_path}"))


def _fetch_at(client: Client, when: str, url: str) -> Page:
    from dipdiff.scrape.http import fetch_page

    return fetch_page(client, url, fetched_at=when)


def _demo_compare(console: Console, store: Store, refs: tuple[str, str]) -> list[str]:
    """The demo's cross-agency step: what State and the White House said about Haftar."""
    from dipdiff.analyse.compare import compare as compare_statements
    from dipdiff.pipeline.load import load
    from dipdiff.render.markdown import compare_markdown
    from dipdiff.render.terminal import render_compare

    a, b = load(refs[0], store), load(refs[1], store)
    console.print()
    console.print(Text(f"Comparing agencies: {a.label} ↔ {b.label}", style="bold"))
    result = compare_statements(a.statement, b.statement)
    render_compare(console, result, labels=(a.label, b.label), full=False)
    return [compare_markdown(result, a.label, b.label), ""]


@app.command()
@handle_errors
def init(
    folder: Annotated[
        Path, typer.Argument(help="Folder to set up (default: the current one).")
    ] = Path(),
    shards: Annotated[
        int | None,
        typer.Option(
            "--shards",
            min=1,
            help="Crontab and CI workflow for N shards (run --shard I/N, then dipdiff merge).",
        ),
    ] = None,
) -> None:
    """Create dipdiff.toml (with the built-in presets), snapshots/, reports/, cron/CI examples."""
    from dipdiff.pipeline.init import init_project

    console = make_console()
    for path, created, description in init_project(folder, shards):
        verb = "created" if created else "kept   "
        console.print(Text(f"{verb} {path}  ({description})"))
    console.print(
        Text(f"next: edit {folder / 'dipdiff.toml'}, then run `dipdiff fetch` in {folder}")
    )
    console.print(
        Text(
            f"to monitor: `dipdiff run --commit` from cron ({folder / 'crontab.example'}) "
            f"or CI ({folder / '.github/workflows/dipdiff.yml'}), in a git repository"
        )
    )


sources_app = typer.Typer(
    help="Built-in presets and configured sources; `sources check NAME` tests one.",
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode=None,
)

app.add_typer(sources_app, name="sources")


@sources_app.callback()
@handle_errors
def sources_list(
    ctx: typer.Context,
    config: ConfigOption = Path("dipdiff.toml"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the built-in presets and the sources of the config file."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = {**(ctx.obj or {}), "config": config}
        return
    from dipdiff.config import load_config, preset, preset_names

    configured = load_config(config).sources if config.exists() else ()
    health = _health(ctx, [s.name for s in configured])
    rows: list[dict[str, Any]] = [
        {
            "name": s.name,
            "where": "config",
            "kind": s.kind,
            "enabled": s.enabled,
            "url": s.url,
            "preset": s.preset,
            "agency": s.agency,
            "health": health[s.name].as_dict(),
        }
        for s in configured
    ]
    rows += [
        {
            "name": n,
            "where": "preset",
            "kind": p.kind,
            "enabled": None,
            "url": p.url,
            "preset": n,
            "agency": p.agency,
            "description": p.description,
        }
        for n, p in ((n, preset(n)) for n in preset_names())
    ]
    if as_json:
        print_json(rows)
        return
    console = make_console()
    columns = [
        Column("name", whole=True),
        Column("from"),
        Column("kind"),
        Column("url", whole=True),
    ]
    rows_shown = [
        [
            r["name"],
            r["where"]
            if r["where"] == "preset"
            else ("config" if r["enabled"] else "config (disabled)"),
            r["kind"],
            r["url"],
        ]
        for r in rows
    ]
    print_table(console, columns, rows_shown)
    if configured:
        console.print()
    for s in configured:
        console.print(Text(_health_line(health[s.name])))
    if not configured:
        console.print(
            Text(f"({config} not found: showing the built-in presets; `dipdiff init` creates one)")
        )


def _health(ctx: typer.Context, names: list[str]) -> dict[str, SourceHealth]:
    from dipdiff.cli.base import now, store_from
    from dipdiff.pipeline.health import source_health

    store = store_from(ctx)
    with store.reading():
        return {h.name: h for h in source_health(store, names, now())}


def _health_line(h: SourceHealth) -> str:
    """``state-dept: 10 statements · last success … · last failure …: why · … · extraction ok``"""
    if h.last_success is None and h.last_failure is None:
        return f"{h.name}: not checked yet"
    parts = [
        f"{h.name}: {h.statements} statement{'' if h.statements == 1 else 's'}",
        f"last success {h.last_success}" if h.last_success else "no success yet",
        f"last failure {h.last_failure}: {safe(h.failure_reason)}"
        if h.last_failure
        else "no failure",
        f"{h.checks_last_day} check(s) in the last day",
        f"extraction BROKEN: the last {h.no_body_streak} pages had no body (try `dipdiff sources "
        f"check {h.name}`)"
        if h.extraction_broken
        else "extraction ok",
    ]
    return " · ".join(parts)


@sources_app.command("check")
@handle_errors
def sources_check(
    ctx: typer.Context,
    name: Annotated[
        str,
        typer.Argument(
            help="A configured source or a built-in preset.", autocompletion=source_names
        ),
    ],
    url: Annotated[
        str | None,
        typer.Option("--url", help="Check this statement URL instead of the first one found."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fetch one listing and one statement of a source and show what the selectors extracted."""
    from dipdiff.config import load_config, preset, preset_names
    from dipdiff.pipeline.fetch import check_source

    config = (ctx.obj or {}).get("config", Path("dipdiff.toml"))
    cfg = load_config(config) if config.exists() else None
    if cfg is not None and any(s.name == name for s in cfg.sources):
        src = cfg.source(name)
    elif name in preset_names():
        src = preset(name)
    else:
        raise InputError(f"no source or preset {name!r} (see `dipdiff sources`)")
    report = check_source(src, url=url, settings=cfg.fetch if cfg else None)
    if as_json:
        print_json(report)
    else:
        _print_source_check(report)
    raise typer.Exit(ExitStatus.TROUBLE if report["problems"] else ExitStatus.SUCCESS)


def _print_source_check(report: dict[str, Any]) -> None:
    console = make_console()
    console.print(
        Text(f"{report['source']} ({report['kind']}): {safe(report['url'])}", style="bold")
    )
    console.print(Text(f"  found {report['found']} statement(s)"))
    for item in report["items"][:5]:
        console.print(
            Text(f"  - {safe(item['published'] or '-'):<25} {clip(safe(item['title'] or ''), 70)}")
        )
        console.print(Text(f"    {safe(item['url'])}"))
    st = report.get("statement")
    if st:
        console.print()
        console.print(Text(f"statement: {safe(st['url'])}", style="bold"))
        for key in ("title", "published", "agency"):
            console.print(Text(f"  {key:<10} {safe(str(st[key] or '-'))}"))
        console.print(Text(f"  words      {st['words']} in {len(st['paragraphs'])} paragraph(s)"))
        for p in st["paragraphs"][:3]:
            console.print(Text(f"  | {clip(safe(p), 300)}"))
        if len(st["paragraphs"]) > 3:
            console.print(Text(f"  | … {len(st['paragraphs']) - 3} more paragraph(s)"))
    for problem in report["problems"]:
        make_console(stderr=True).print(Text(f"dipdiff: problem: {safe(problem)}"))


config_app = typer.Typer(
    help="Check dipdiff.toml without fetching anything.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

app.add_typer(config_app, name="config")


@config_app.command("check")
@handle_errors
def config_check(config: ConfigOption = Path("dipdiff.toml")) -> None:
    """Validate dipdiff.toml: every source and preset, the signals, the notify targets.

    Nothing is fetched. An unknown key, or one that has no effect, is an error (exit 2).
    """
    from dipdiff.analyse.signals import lexicon
    from dipdiff.config import check_config
    from dipdiff.errors import ConfigError
    from dipdiff.scrape.notifiers import open_channels

    cfg = check_config(config)
    added = cfg.signals.get("add") or []
    try:
        lexicon(added)
    except ConfigError as e:
        raise ConfigError(e.message, path=str(config)) from None
    open_channels(cfg.notify, timeout=cfg.fetch.timeout, path=cfg.path)  # URLs, tags, the extra
    names = ", ".join(s.name for s in cfg.sources) or "none"
    make_console().print(
        Text(
            f"{config}: ok: {len(cfg.sources)} source(s) ({names}), "
            f"{len(cfg.notify.targets)} notify target(s), {len(added)} signal(s) added"
        )
    )
