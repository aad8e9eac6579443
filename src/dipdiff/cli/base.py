"""What every command shares: the typer app, the global options, error handling, small helpers.

Every failure becomes one line on stderr and an :class:`~dipdiff.status.ExitStatus`
(:func:`handle_errors`, through :func:`dipdiff.status.failure`): 0 no differences, 1 differences
found, 2 trouble, 130 interrupted.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.text import Text

from dipdiff import __version__
from dipdiff.cli.helptext import PlainHelpGroup
from dipdiff.errors import InputError
from dipdiff.models import Outcome, SnapshotResult
from dipdiff.render.terminal import make_console, safe, safe_json
from dipdiff.status import ExitStatus, failure

if TYPE_CHECKING:  # the commands import these lazily, for start-up time
    from dipdiff.config import Config
    from dipdiff.models import Page
    from dipdiff.store.store import Store

app = typer.Typer(
    name="dipdiff",
    help="Watch what governments say: snapshot official statements, redline silent edits, "
    "compare what agencies said.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=PlainHelpGroup,
)


F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(fn: F) -> F:
    """Every failure becomes one line on stderr and its exit status; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except (Exception, KeyboardInterrupt) as e:
            end = failure(e)
            if end.internal and os.environ.get("DIPDIFF_DEBUG"):
                raise
            make_console(stderr=True).print(Text(safe(end.line)))
            raise typer.Exit(end.status) from None

    return wrapper  # type: ignore[return-value]


def print_json(doc: Any) -> None:
    """Indented JSON on stdout; controls and bidi overrides in strings only as escapes.

    Written as it is encoded: a document of tens of megabytes is never one string (and its
    escaped copy, and its encoded copy) in memory."""
    _write(json.JSONEncoder(indent=2, ensure_ascii=False).iterencode(doc))


def print_json_array(items: Iterable[Any]) -> None:
    """What :func:`print_json` prints of ``list(items)``, each item made only when it is
    written (a long result need not exist as documents all at once)."""
    _write(_array_chunks(items))


def _array_chunks(items: Iterable[Any]) -> Iterator[str]:
    encoder = json.JSONEncoder(indent=2, ensure_ascii=False)
    first = True
    for item in items:
        yield "[\n  " if first else ",\n  "
        first = False
        # One level deeper: JSON strings hold no raw newline, so every newline is indentation.
        for chunk in encoder.iterencode(item):
            yield chunk.replace("\n", "\n  ")
    yield "[]" if first else "\n]"


def _write(chunks: Iterable[str]) -> None:
    """``chunks`` on stdout, made safe (:func:`safe_json` changes single characters, so it may
    work piece by piece), a newline after the document, in writes of about 64 kB."""
    out = sys.stdout
    buffer: list[str] = []
    size = 0
    for chunk in chunks:
        buffer.append(chunk)
        size += len(chunk)
        if size >= _WRITE_SIZE:
            out.write(safe_json("".join(buffer)))
            buffer.clear()
            size = 0
    buffer.append("\n")
    out.write(safe_json("".join(buffer)))


_WRITE_SIZE = 1 << 16


def _version(value: bool) -> None:
    if value:
        print(f"dipdiff {__version__}")
        raise typer.Exit


@app.callback()
def main_options(
    ctx: typer.Context,
    store: Annotated[
        Path,
        typer.Option("--store", envvar="DIPDIFF_STORE", help="Snapshot folder.", show_default=True),
    ] = Path("snapshots"),
    version: Annotated[  # noqa: ARG001 - typer binds --version here; _version answers it
        bool | None,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = None,
) -> None:
    ctx.obj = {"store": store}


def store_from(ctx: typer.Context) -> Store:
    from dipdiff.store.store import Store

    return Store(ctx.obj["store"])


def exit_if_damaged(store: Store) -> None:
    """Name each damaged file the command left out, and exit 2: the store needs a look
    (``dipdiff verify``), though every other statement was read."""
    if store.damage:
        err = make_console(stderr=True)
        for line in store.damage.values():
            err.print(Text(f"dipdiff: left out: {safe(line)}"))
        raise typer.Exit(ExitStatus.TROUBLE)


def make_fetcher() -> Callable[[str], Page]:
    from dipdiff.scrape.http import fetch_page, make_client

    client = make_client()

    def fetch(url: str) -> Page:
        return fetch_page(client, url, fetched_at=now())

    return fetch


def outcome_line(r: SnapshotResult) -> Text:
    styles = {
        Outcome.NEW: "cyan",
        Outcome.CHANGED: "yellow",
        Outcome.RESTORED: "yellow",
        Outcome.UNCHANGED: "dim",
        Outcome.BLOCKED: "red",
        Outcome.UNAVAILABLE: "red",
    }
    line = Text(f"{r.outcome.value:<10}", style=styles.get(r.outcome, ""))
    line.append(f" {r.statement_id}")
    if r.version:
        line.append(f"@{r.version}")
    if r.message:
        line.append(f"  ({safe(r.message)})")
    return line


def check_source_name(source: str | None) -> None:
    from dipdiff.text import slugify

    if source is not None and slugify(source, 100) != source:
        raise InputError(f"--source {source!r}: use lowercase letters, digits and dashes")


def now() -> str:
    """The current time; ``DIPDIFF_NOW`` (ISO 8601) pins it, for backfills and tests."""
    from dipdiff.clock import parse_timestamp, utc_timestamp

    pinned = os.environ.get("DIPDIFF_NOW")
    if pinned:
        try:
            return utc_timestamp(parse_timestamp(pinned))
        except InputError:
            raise InputError(f"DIPDIFF_NOW={pinned!r}: not an ISO 8601 time") from None
    return utc_timestamp()


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise InputError(f"{option} {value!r}: expected a date, YYYY-MM-DD") from None


def reports_dir(store: Store, reports: Path | None) -> Path:
    from dipdiff.pipeline.report import default_reports_dir

    return reports if reports is not None else default_reports_dir(store)


def parse_window(value: str, option: str = "--window") -> timedelta:
    """``7d``, ``48h``, ``2w`` or a number of days."""

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([hdw]?)\s*", value)
    if not m:
        raise InputError(f"{option} {value!r}: expected a duration such as 7d, 48h or 2w")
    n = float(m.group(1))
    return (
        timedelta(hours=n)
        if m.group(2) == "h"
        else timedelta(weeks=n)
        if m.group(2) == "w"
        else timedelta(days=n)
    )


def parse_since(value: str | None) -> datetime | None:
    from dipdiff.clock import parse_timestamp

    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except InputError:
        raise InputError(
            f"--since {value!r}: expected a date (YYYY-MM-DD) or an ISO 8601 time"
        ) from None


def optional_config(path: Path) -> Config | None:
    """The config file, for commands that run without one (None when it does not exist)."""
    from dipdiff.config import load_config

    return load_config(path) if path.exists() else None


def compare_window(window: str | None, config: Path) -> tuple[timedelta, str]:
    """``--window``, else the config's ``[compare] window``; and how to say it."""
    if window is not None:
        return parse_window(window), window
    from dipdiff.config import CompareSettings

    cfg = optional_config(config)
    seconds = (cfg.compare if cfg else CompareSettings()).window
    return timedelta(seconds=seconds), f"{seconds / 86400:g}d"


ConfigOption = Annotated[
    Path,
    typer.Option(
        "--config",
        "-c",
        envvar="DIPDIFF_CONFIG",
        help="Config file (dipdiff.toml).",
        show_default=True,
    ),
]
