"""``dipdiff diff``: the word-level redline of two versions, files or URLs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from dipdiff.cli.base import app, handle_errors, make_fetcher, store_from
from dipdiff.cli.complete import statement_ids
from dipdiff.cli.pager import NoPager, paged, paged_text
from dipdiff.errors import InputError
from dipdiff.render.terminal import make_console, safe, safe_json
from dipdiff.status import ExitStatus

if TYPE_CHECKING:
    from dipdiff.analyse.signals import Lexicon
    from dipdiff.pipeline.load import Loaded

FORMATS = ("term", "md", "html", "json", "unified")
GRANULARITIES = ("word", "sentence", "paragraph")


@app.command()
@handle_errors
def diff(
    ctx: typer.Context,
    refs: Annotated[
        list[str],
        typer.Argument(
            metavar="A [B]",
            help="ID (latest two versions), ID@N ID@M, files or URLs.",
            autocompletion=statement_ids,
        ),
    ],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="term, md, html, json or unified.")
    ] = "term",
    context: Annotated[
        int, typer.Option(help="Unchanged paragraphs shown around each change.")
    ] = 1,
    ignore_cosmetic: Annotated[
        bool,
        typer.Option(
            "--ignore-cosmetic", help="Hide whitespace, quote, dash and case-only changes."
        ),
    ] = False,
    granularity: Annotated[
        str,
        typer.Option(
            "--granularity", "-g", help="word, sentence or paragraph: the unit a change snaps to."
        ),
    ] = "word",
    config: Annotated[
        Path,
        typer.Option(
            "--config",
            "-c",
            envvar="DIPDIFF_CONFIG",
            help="Config file whose [[signals.add]] extend the signal lexicon (if it exists).",
        ),
    ] = Path("dipdiff.toml"),
    no_pager: NoPager = False,
) -> None:
    """Word-level redline of two versions, files or URLs. Exit 0 same, 1 different, 2 trouble."""
    from dipdiff.analyse.diff import diff_statements
    from dipdiff.pipeline.load import resolve_pair

    if fmt not in FORMATS:
        raise InputError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if granularity not in GRANULARITIES:
        raise InputError(f"--granularity {granularity!r}: choose one of {', '.join(GRANULARITIES)}")
    if context < 0:
        raise InputError("--context must be 0 or more")
    lexicon = _user_lexicon(config)
    a, b = resolve_pair(
        refs, store_from(ctx), make_fetcher() if any("://" in r for r in refs) else None
    )
    warn_tampered(a, b)
    result = diff_statements(a.statement, b.statement, lexicon=lexicon, granularity=granularity)
    result = result.filtered(ignore_cosmetic=ignore_cosmetic)
    sides: dict[str, Any] = {
        "a_label": a.label,
        "b_label": b.label,
        "origins": (a.origin, b.origin),
    }
    pager = not no_pager
    # Each format's renderer is imported only when asked for: markdown's and html's modules
    # cost a tiny diff more than its whole diff did.
    if fmt == "json":
        from dipdiff.render.json import diff_json

        doc = diff_json(result, a.origin or a.version, b.origin or b.version)
        paged_text(safe_json(doc), pager=pager)
    elif fmt == "md":
        from dipdiff.render.markdown import diff_markdown

        paged_text(safe(diff_markdown(result, context=context, **sides)), pager=pager)
    elif fmt == "html":
        from dipdiff.render.html import diff_html

        paged_text(safe(diff_html(result, context=context, **sides)), pager=pager)
    elif fmt == "unified":
        from dipdiff.render.plain import diff_unified

        paged_text(safe(diff_unified(result, a.label, b.label)), pager=pager)
    else:
        from dipdiff.render.terminal import render_diff

        paged(
            lambda console: render_diff(
                console,
                result,
                context=context,
                labels=(a.label, b.label),
                origins=(a.origin, b.origin),
            ),
            pager=pager,
        )
    raise typer.Exit(ExitStatus.found(result.changes))


def warn_tampered(*loaded: Loaded) -> None:
    """One line on stderr for each stored version whose text fails its sha256."""
    for x in loaded:
        if x.warning:
            make_console(stderr=True).print(Text(f"dipdiff: {safe(x.warning)}"))


def _user_lexicon(config: Path) -> Lexicon | None:
    """The signal lexicon with the config's ``[[signals.add]]`` entries (or the default one)."""
    from dipdiff.analyse.signals import lexicon
    from dipdiff.config import load_config
    from dipdiff.errors import ConfigError

    if not config.exists():
        return None
    extra = load_config(config).signals.get("add")
    if extra is not None and not isinstance(extra, list):
        raise ConfigError(
            "'add' must be a list of [[signals.add]] tables", path=str(config), key="signals"
        )
    try:
        return lexicon(extra)
    except ConfigError as e:
        raise ConfigError(e.message, path=str(config)) from None
