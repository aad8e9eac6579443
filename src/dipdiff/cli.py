"""The command line: parse options, call the core, render, map errors to exit codes.

The only module that imports typer. Exit codes follow diff(1): 0 no
differences, 1 differences found, 2 trouble.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer
from rich.table import Table
from rich.text import Text

from dipdiff import __version__
from dipdiff.errors import DipdiffError, InputError
from dipdiff.models import Outcome, SnapshotResult
from dipdiff.terminal import make_console, safe, safe_json

app = typer.Typer(
    name="dipdiff",
    help="Watch what governments say: snapshot official statements, redline silent edits, "
    "compare what agencies said.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class Exit(IntEnum):
    SAME = 0
    DIFFERENT = 1
    TROUBLE = 2


F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(fn: F) -> F:
    """Every failure becomes one line on stderr and exit code 2; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except DipdiffError as e:
            _fail(str(e))
        except KeyboardInterrupt:
            _fail("interrupted")
        except OSError as e:
            where = f"{e.filename}: " if getattr(e, "filename", None) else ""
            _fail(f"{where}{e.strerror or e}")
        except Exception as e:  # noqa: BLE001 - the promise is: no traceback, ever
            if os.environ.get("DIPDIFF_DEBUG"):
                raise
            _fail(f"internal error: {e.__class__.__name__}: {e} (set DIPDIFF_DEBUG=1 for a traceback)")

    return wrapper  # type: ignore[return-value]


def _fail(message: str) -> None:
    err = make_console(stderr=True)
    err.print(Text(f"dipdiff: error: {safe(' '.join(message.split()))}"))
    raise typer.Exit(Exit.TROUBLE)


def _print_json(doc: Any) -> None:
    """Indented JSON on stdout; controls and bidi overrides in strings only as escapes."""
    print(safe_json(json.dumps(doc, indent=2, ensure_ascii=False)))


def _version(value: bool) -> None:
    if value:
        print(f"dipdiff {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    store: Annotated[
        Path,
        typer.Option("--store", envvar="DIPDIFF_STORE", help="Snapshot folder.", show_default=True),
    ] = Path("snapshots"),
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = None,
) -> None:
    ctx.obj = {"store": store}


def _store(ctx: typer.Context):
    from dipdiff.store import Store

    return Store(ctx.obj["store"])


def _fetcher():
    from dipdiff.fetch import fetch_page, make_client
    from dipdiff.store import utc_timestamp

    client = make_client()

    def fetch(url: str):
        return fetch_page(client, url, fetched_at=utc_timestamp())

    return fetch


def _outcome_line(r: SnapshotResult) -> Text:
    styles = {Outcome.NEW: "cyan", Outcome.CHANGED: "yellow", Outcome.UNCHANGED: "dim",
              Outcome.BLOCKED: "red", Outcome.UNAVAILABLE: "red"}
    line = Text(f"{r.outcome.value:<10}", style=styles.get(r.outcome, ""))
    line.append(f" {r.statement_id}")
    if r.version:
        line.append(f"@{r.version}")
    if r.message:
        line.append(f"  ({safe(r.message)})")
    return line


# -- snapshot / import -------------------------------------------------------------------------


@app.command()
@handle_errors
def snapshot(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="Page to fetch.")],
    source: Annotated[Optional[str], typer.Option(help="Source name (default: the host).")] = None,
    agency: Annotated[Optional[str], typer.Option(help="Agency that issued the statement.")] = None,
) -> None:
    """Fetch one page, extract the statement, store it if its text changed."""
    from dipdiff.service import snapshot_url

    _check_source(source)
    result = snapshot_url(_store(ctx), _fetcher(), url, source=source, agency=agency)
    make_console().print(_outcome_line(result))


@app.command("import")
@handle_errors
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Saved HTML page (archive copy, Wayback capture).")],
    url: Annotated[str, typer.Option("--url", help="The URL the page was captured from.")],
    fetched_at: Annotated[
        Optional[str], typer.Option("--fetched-at", help="ISO 8601 capture time (default: now).")
    ] = None,
    source: Annotated[Optional[str], typer.Option(help="Source name (default: the host).")] = None,
    agency: Annotated[Optional[str], typer.Option(help="Agency that issued the statement.")] = None,
) -> None:
    """Store a saved HTML page as a version, as if it had been fetched at that time."""
    from dipdiff.service import import_file
    from dipdiff.store import utc_timestamp

    _check_source(source)
    result = import_file(_store(ctx), file, url, fetched_at=fetched_at or utc_timestamp(),
                         source=source, agency=agency)
    make_console().print(_outcome_line(result))


def _check_source(source: str | None) -> None:
    from dipdiff.normalize import slugify

    if source is not None and slugify(source, 100) != source:
        raise InputError(f"--source {source!r}: use lowercase letters, digits and dashes")


# -- list / log / show ------------------------------------------------------------------------


@app.command("list")
@handle_errors
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The statements in the store."""
    store = _store(ctx)
    rows = []
    for sid in store.statement_ids():
        meta = store.meta(sid)
        refs = store.versions(sid)
        rows.append({"id": sid, "versions": len(refs), "last_fetched": refs[-1].fetched_at if refs else None,
                     "agency": meta.agency, "title": meta.title, "url": meta.url})
    if as_json:
        _print_json(rows)
        return
    console = make_console()
    if not rows:
        console.print(Text(f"no statements in {store.root}"))
        return
    table = Table(box=None, pad_edge=False, show_edge=False)
    # IDs are what users copy into the next command: keep each on one line, and give
    # the title whatever width is left (never less than a readable column).
    id_width = max(len(r["id"]) for r in rows)
    title_min = 24
    fixed = 2 + 8 + 2 + 20 + 2  # versions, last fetched and the gaps between columns
    if not console.is_terminal:
        # Piped: one tab-separated line per statement, nothing cut, easy to `cut -f1`.
        for r in rows:
            console.print(Text("\t".join([r["id"], str(r["versions"]), r["last_fetched"] or "-",
                                          safe(r["title"])])))
        return
    table.add_column("id", overflow="fold",
                     max_width=max(20, min(id_width, console.width - fixed - title_min)))
    table.add_column("versions", justify="right", no_wrap=True)
    table.add_column("last fetched", no_wrap=True)
    table.add_column("title", overflow="fold", min_width=min(title_min, console.width // 3))
    for r in rows:
        table.add_row(Text(r["id"]), str(r["versions"]), r["last_fetched"] or "-", Text(safe(r["title"])))
    console.print(table)


@app.command()
@handle_errors
def log(
    ctx: typer.Context,
    statement_id: Annotated[str, typer.Argument(metavar="ID", help="<source>/<slug>")],
    checks: Annotated[bool, typer.Option("--checks", help="Show every check, not only versions.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The versions of one statement (and with --checks, its check history)."""
    from dipdiff.store import parse_ref

    store = _store(ctx)
    sid, _ = parse_ref(statement_id)
    meta = store.meta(sid)
    refs = store.versions(sid)
    versions = []
    for ref in refs:
        st = store.read_version(sid, ref.number).statement
        versions.append({"version": ref.number, "fetched_at": ref.fetched_at, "sha256": ref.sha256,
                         "words": st.words, "title": st.title, "file": ref.filename})
    if as_json:
        doc: dict[str, Any] = {"id": sid, "url": meta.url, "versions": versions}
        if checks:
            doc["checks"] = meta.checks
        _print_json(doc)
        return
    console = make_console()
    console.print(Text(f"{sid}  {safe(meta.url)}"))
    table = Table(box=None, pad_edge=False, show_edge=False)
    for col in ("@", "fetched at", "sha256", "words", "title"):
        table.add_column(col, overflow="fold")
    for v in versions:
        table.add_row(str(v["version"]), v["fetched_at"], v["sha256"][:12], str(v["words"]), Text(safe(v["title"])))
    console.print(table)
    if checks:
        console.print()
        table = Table(box=None, pad_edge=False, show_edge=False)
        for col in ("checked at", "outcome", "status", "version", "note"):
            table.add_column(col, overflow="fold")
        for c in meta.checks:
            table.add_row(str(c.get("time", "")), str(c.get("outcome", "")), str(c.get("status", "")),
                          str(c.get("version", "")), Text(safe(str(c.get("note", "")))))
        console.print(table)


@app.command()
@handle_errors
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="ID[@N]", help="Statement, optionally a version (1 = first, -1 = latest).")],
    raw: Annotated[bool, typer.Option("--raw", help="Print the raw HTML as fetched.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The text of one version."""
    from dipdiff.report import statement_meta, statement_text
    from dipdiff.store import parse_ref

    store = _store(ctx)
    sid, n = parse_ref(ref)
    n = -1 if n is None else n
    if raw:
        content = store.read_raw(sid, n)
        if sys.stdout.isatty():
            # A page can carry escape sequences; only a pipe or a file gets the bytes as fetched.
            from dipdiff.extract import decode_html

            make_console().print(Text(safe(decode_html(content))))
        else:
            sys.stdout.buffer.write(content)
        return
    v = store.read_version(sid, n)
    if as_json:
        doc = statement_meta(v.statement, v.ref.number) | {
            "id": sid, "fetched_at": v.ref.fetched_at, "sha256": v.ref.sha256,
            "paragraphs": list(v.statement.paragraphs)}
        _print_json(doc)
        return
    make_console().print(Text(safe(statement_text(v.statement))), end="")


# -- diff -------------------------------------------------------------------------------------

FORMATS = ("term", "md", "html", "json", "unified")
GRANULARITIES = ("word", "sentence", "paragraph")


@app.command()
@handle_errors
def diff(
    ctx: typer.Context,
    refs: Annotated[list[str], typer.Argument(metavar="A [B]", help="ID (latest two versions), ID@N ID@M, files or URLs.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="term, md, html, json or unified.")] = "term",
    context: Annotated[int, typer.Option(help="Unchanged paragraphs shown around each change.")] = 1,
    ignore_cosmetic: Annotated[bool, typer.Option("--ignore-cosmetic", help="Hide whitespace, quote, dash and case-only changes.")] = False,
    granularity: Annotated[str, typer.Option("--granularity", "-g", help="word, sentence or paragraph: the unit a change snaps to.")] = "word",
    config: Annotated[Path, typer.Option("--config", "-c", envvar="DIPDIFF_CONFIG", help="Config file whose [[signals.add]] extend the signal lexicon (if it exists).")] = Path("dipdiff.toml"),
) -> None:
    """Word-level redline of two versions, files or URLs. Exit 0 same, 1 different, 2 trouble."""
    from dipdiff.diff import diff_statements
    from dipdiff.report import diff_html, diff_json, diff_markdown, diff_unified
    from dipdiff.service import resolve_pair
    from dipdiff.terminal import render_diff

    if fmt not in FORMATS:
        raise InputError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if granularity not in GRANULARITIES:
        raise InputError(f"--granularity {granularity!r}: choose one of {', '.join(GRANULARITIES)}")
    if context < 0:
        raise InputError("--context must be 0 or more")
    lexicon = _user_lexicon(config)
    a, b = resolve_pair(refs, _store(ctx), _fetcher() if any("://" in r for r in refs) else None)
    result = diff_statements(a.statement, b.statement, lexicon=lexicon, granularity=granularity)
    result = result.filtered(ignore_cosmetic=ignore_cosmetic)
    if fmt == "json":
        sys.stdout.write(safe_json(diff_json(result, a.version, b.version)))
    elif fmt == "md":
        sys.stdout.write(safe(diff_markdown(result, context=context, a_label=a.label, b_label=b.label)))
    elif fmt == "html":
        sys.stdout.write(safe(diff_html(result, context=context, a_label=a.label, b_label=b.label)))
    elif fmt == "unified":
        sys.stdout.write(safe(diff_unified(result, a.label, b.label)))
    else:
        render_diff(make_console(), result, context=context, labels=(a.label, b.label))
    raise typer.Exit(Exit.DIFFERENT if result.changes else Exit.SAME)


def _user_lexicon(config: Path):
    """The signal lexicon with the config's ``[[signals.add]]`` entries; the default without a config."""
    from dipdiff.config import load_config
    from dipdiff.errors import ConfigError
    from dipdiff.signals import lexicon

    if not config.exists():
        return None
    extra = load_config(config).signals.get("add")
    if extra is not None and not isinstance(extra, list):
        raise ConfigError("'add' must be a list of [[signals.add]] tables", path=str(config), key="signals")
    try:
        return lexicon(extra)
    except ConfigError as e:
        raise ConfigError(e.message, path=str(config)) from None


# -- verify -----------------------------------------------------------------------------------


@app.command()
@handle_errors
def verify(
    ctx: typer.Context,
    repair: Annotated[bool, typer.Option(
        "--repair", help="First remove what interrupted runs left behind (temp files, raw pages "
        "without their version, statements with nothing stored); never touches a version.")] = False,
) -> None:
    """Check every file of the store: headers, hashes, metadata. Exit 2 naming what is wrong."""
    store = _store(ctx)
    console = make_console()
    if repair:
        for path in store.repair():
            console.print(Text(f"removed {safe(path)}"))
    problems = store.verify()
    if problems:
        err = make_console(stderr=True)
        for p in problems:
            err.print(Text(f"dipdiff: {safe(p)}"))
        raise typer.Exit(Exit.TROUBLE)
    n = len(store.statement_ids())
    console.print(Text(f"ok: {n} statement(s) in {store.root} verified"))


# -- report / run (monitoring) ------------------------------------------------------------------


def _now() -> str:
    """The current time; ``DIPDIFF_NOW`` (ISO 8601) pins it, for backfills and tests."""
    from dipdiff.store import parse_timestamp, utc_timestamp

    pinned = os.environ.get("DIPDIFF_NOW")
    if pinned:
        try:
            return utc_timestamp(parse_timestamp(pinned))
        except InputError:
            raise InputError(f"DIPDIFF_NOW={pinned!r}: not an ISO 8601 time") from None
    return utc_timestamp()


def _parse_day(value: str, option: str):
    from datetime import date

    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise InputError(f"{option} {value!r}: expected a date, YYYY-MM-DD") from None


def _reports_dir(store, reports: Optional[Path]) -> Path:
    from dipdiff.monitor import default_reports_dir

    return reports if reports is not None else default_reports_dir(store)


@app.command()
@handle_errors
def report(
    ctx: typer.Context,
    date_: Annotated[Optional[str], typer.Option("--date", help="The day to report (YYYY-MM-DD, UTC).")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Everything from this day (YYYY-MM-DD) on.")] = None,
    run: Annotated[Optional[str], typer.Option("--run", help="One run: 'latest' or a run id from runs.json.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Write the report here ('-': print it).")] = None,
    reports: Annotated[Optional[Path], typer.Option("--reports", help="Reports folder (default: reports/ beside the store).")] = None,
) -> None:
    """Write a markdown report of what changed, update reports/README.md and reports/feed.xml."""
    from dipdiff import monitor
    from dipdiff.digest import render_report

    if sum(x is not None for x in (date_, since, run)) > 1:
        raise InputError("use only one of --date, --since and --run")
    store = _store(ctx)
    if date_ is not None:
        window = monitor.day_window(_parse_day(date_, "--date"), store)
    elif since is not None:
        window = monitor.since_window(_parse_day(since, "--since"), store)
    elif run is not None:
        window = monitor.run_window(store, run)
    else:
        window = monitor.default_window(store)
    data = monitor.build_report(store, window, find_divergences=monitor.divergence_finder())
    if out is not None and str(out) == "-":
        sys.stdout.write(safe(render_report(data)))
        return
    written = monitor.write_reports(store, _reports_dir(store, reports), data, out, filename=window.filename)
    make_console().print(Text(f"{written.report}  ({', '.join(f'{v} {k}' for k, v in data.counts().items())})"))


class _RunLog:
    """``dipdiff run``'s log: timestamped lines on stderr, so that cron mails only what matters.

    ``--quiet``: errors only. Default: warnings, and a summary when something changed.
    ``--verbose``: every step and every statement.
    """

    LEVELS = {"debug": 0, "info": 1, "warning": 2}

    def __init__(self, quiet: bool, verbose: bool) -> None:
        self.threshold = 3 if quiet else 0 if verbose else 1
        self.console = make_console(stderr=True)

    def __call__(self, level: str, message: str) -> None:
        if self.LEVELS[level] >= self.threshold:
            tag = "" if level == "info" else f"{level}: "
            one_line = " ".join(message.splitlines())
            self.console.print(Text(f"{_now()} dipdiff: {tag}{safe(one_line)}"))


@app.command()
@handle_errors
def run(
    ctx: typer.Context,
    config: ConfigOption = Path("dipdiff.toml"),
    commit: Annotated[bool, typer.Option("--commit", help="git-commit snapshots/ and reports/ when something changed.")] = False,
    webhook: Annotated[Optional[str], typer.Option("--webhook", envvar="DIPDIFF_WEBHOOK", help="POST a JSON summary here when something changed.")] = None,
    wait: Annotated[float, typer.Option("--wait", min=0, help="Seconds to wait for a run that holds the store.")] = 30.0,
    reports: Annotated[Optional[Path], typer.Option("--reports", help="Reports folder (default: reports/ beside the store).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print errors only.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every step and every statement.")] = False,
) -> None:
    """For cron: fetch due statements, write the report, optionally commit. Exit 0 nothing, 1 changes, 2 trouble."""
    from dipdiff import monitor
    from dipdiff.config import load_config
    from dipdiff.service import fetch_sources

    cfg = load_config(config)
    store = _store(ctx)
    folder = _reports_dir(store, reports)
    log = _RunLog(quiet, verbose)

    def fetch(st):
        return fetch_sources(cfg, st, clock=_now, listener=monitor.LogListener(log))

    result = monitor.run_monitor(store, fetch, now=_now, reports_dir=folder, commit=commit,
                                 find_divergences=monitor.divergence_finder(), lock_wait=wait, log=log)
    if result.changed:
        where = f"; wrote {result.written.report}" if result.written else ""
        done = f"; committed {result.commit[:12]}" if result.commit else ""
        log("info", f"run {result.run.id}: {result.summary()}{where}{done}")
        for line in monitor.commit_message(result).splitlines()[2:]:
            log("info", line)
    if webhook and result.changed:
        from dipdiff.fetch import post_json

        post_json(webhook, monitor.webhook_payload(result))
        log("debug", f"posted the summary to {webhook}")
    raise typer.Exit(result.exit_code)


# -- compare / related / divergences (cross-agency) ----------------------------------------------

COMPARE_FORMATS = ("term", "md", "html", "json")


def _window(value: str, option: str = "--window"):
    """``7d``, ``48h``, ``2w`` or a number of days."""
    import re
    from datetime import timedelta

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([hdw]?)\s*", value)
    if not m:
        raise InputError(f"{option} {value!r}: expected a duration such as 7d, 48h or 2w")
    n = float(m.group(1))
    return timedelta(hours=n) if m.group(2) == "h" else timedelta(weeks=n) if m.group(2) == "w" else timedelta(days=n)


def _since(value: Optional[str]):
    from dipdiff.store import parse_timestamp

    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except InputError:
        raise InputError(f"--since {value!r}: expected a date (YYYY-MM-DD) or an ISO 8601 time") from None


@app.command()
@handle_errors
def compare(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(metavar="A", help="Statement ID[@N], file or URL.")],
    b: Annotated[str, typer.Argument(metavar="B", help="Statement ID[@N], file or URL.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="term, md, html or json.")] = "term",
) -> None:
    """What two statements say side by side: shared wording, actors, stances. Exit 1 when divergent."""
    from dipdiff.compare import compare as compare_statements
    from dipdiff.compare_report import compare_html, compare_json, compare_markdown
    from dipdiff.service import load
    from dipdiff.terminal import render_compare

    if fmt not in COMPARE_FORMATS:
        raise InputError(f"--format {fmt!r}: choose one of {', '.join(COMPARE_FORMATS)}")
    store = _store(ctx)
    fetcher = _fetcher() if "://" in a or "://" in b else None
    la, lb = load(a, store, fetcher), load(b, store, fetcher)
    result = compare_statements(la.statement, lb.statement)
    if fmt == "json":
        sys.stdout.write(safe_json(compare_json(result, la.version, lb.version)))
    elif fmt == "md":
        sys.stdout.write(safe(compare_markdown(result, la.label, lb.label)))
    elif fmt == "html":
        sys.stdout.write(safe(compare_html(result, la.label, lb.label)))
    else:
        render_compare(make_console(), result, labels=(la.label, lb.label))
    raise typer.Exit(Exit.DIFFERENT if result.divergent else Exit.SAME)


@app.command()
@handle_errors
def related(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="ID", help="Statement ID.")],
    window: Annotated[str, typer.Option("--window", help="How far apart the dates may be: 7d, 48h, 2w.")] = "7d",
    limit: Annotated[int, typer.Option("--limit", help="Show at most this many.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Statements of other sources about the same event: shared actors and places, close dates."""
    from dipdiff.compare_report import related_doc
    from dipdiff.service import related_in_store

    if limit < 1:
        raise InputError("--limit must be 1 or more")
    record, items = related_in_store(_store(ctx), ref, _window(window), limit=limit)
    if as_json:
        _print_json(related_doc(record.id, items))
        return
    console = make_console()
    if not items:
        console.print(Text(f"no related statements from other sources within {window} of {record.id}"))
        return
    table = Table(box=None, pad_edge=False, show_edge=False)
    for col in ("score", "days", "id", "shared", "title"):
        table.add_column(col, overflow="fold", no_wrap=col in ("score", "days", "id"))
    for r in items:
        table.add_row(f"{r.score:.2f}", f"{r.days:.1f}" if r.days is not None else "-", Text(r.record.id),
                      Text(safe(", ".join(r.shared))), Text(safe(r.record.statement.title)))
    console.print(table)


@app.command()
@handle_errors
def divergences(
    ctx: typer.Context,
    since: Annotated[Optional[str], typer.Option("--since", help="Only pairs with a statement dated on or after this date.")] = None,
    window: Annotated[str, typer.Option("--window", help="How far apart related statements may be: 7d, 48h, 2w.")] = "7d",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Related statements of different sources that diverge, most divergent first. Exit 1 when any."""
    from dipdiff.compare_report import divergence_line, divergences_doc
    from dipdiff.service import find_divergences

    pairs = find_divergences(_store(ctx), since=_since(since), window=_window(window))
    if as_json:
        _print_json(divergences_doc(pairs))
    else:
        console = make_console()
        if not pairs:
            console.print(Text("no divergences"))
        for d in pairs:
            console.print(Text(f"{d.score:.2f}  {d.a.id} ↔ {d.b.id}", style="bold"))
            for x in d.actors:
                console.print(Text(f"      {safe(divergence_line(x))}"))
    raise typer.Exit(Exit.DIFFERENT if pairs else Exit.SAME)


# -- demo -------------------------------------------------------------------------------------


@app.command()
@handle_errors
def demo(
    folder: Annotated[Path, typer.Option("--dir", help="Demo folder (recreated each run).")] = Path("dipdiff-demo"),
) -> None:
    """Run the whole product offline on bundled sample statements."""
    from dipdiff import demo as d
    from dipdiff.fetch import fetch_page, make_client
    from dipdiff.report import diff_markdown
    from dipdiff.serve import LocalServer
    from dipdiff.service import snapshot_url
    from dipdiff.store import Store
    from dipdiff.terminal import render_diff

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
            console.print(Text(f"{day} ({when}): snapshotting {len(pages)} statement(s)", style="bold"))
            results = []
            for p in pages:
                r = snapshot_url(store, lambda u, when=when: fetch_page(client, u, fetched_at=when),
                                 server.url(p.path), source=p.source, agency=p.agency)
                results.append(r)
                console.print(Text("  ") + _outcome_line(r))
            changed += d.changed_diffs(store, results)
    for r, result in changed:
        console.print()
        render_diff(console, result, labels=(f"{r.statement_id}@{r.version - 1}", f"{r.statement_id}@{r.version}"))
        report += [diff_markdown(result, a_label=f"{r.statement_id}@{r.version - 1}",
                                 b_label=f"{r.statement_id}@{r.version}"), ""]
    report += _demo_compare(console, store, d.COMPARE)
    report_path = folder / "report.md"
    report_path.write_text("\n".join(report).rstrip() + "\n", encoding="utf-8")
    console.print()
    console.print(Text(f"Store:  {store.root}/  (try: dipdiff --store {store.root} list)"))
    console.print(Text(f"Report: {report_path}"))


def _demo_compare(console, store, refs: tuple[str, str]) -> list[str]:
    """The demo's cross-agency step: what State and the White House said about Haftar."""
    from dipdiff.compare import compare as compare_statements
    from dipdiff.compare_report import compare_markdown
    from dipdiff.service import load
    from dipdiff.terminal import render_compare

    a, b = load(refs[0], store), load(refs[1], store)
    console.print()
    console.print(Text(f"Comparing agencies: {a.label} ↔ {b.label}", style="bold"))
    result = compare_statements(a.statement, b.statement)
    render_compare(console, result, labels=(a.label, b.label), full=False)
    return [compare_markdown(result, a.label, b.label), ""]


# -- init / fetch / sources (sources and scraping) ---------------------------------------------

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", envvar="DIPDIFF_CONFIG", help="Config file (dipdiff.toml).",
                 show_default=True),
]


@app.command()
@handle_errors
def init(
    folder: Annotated[Path, typer.Argument(help="Folder to set up (default: the current one).")] = Path("."),
) -> None:
    """Create dipdiff.toml (with the built-in presets), snapshots/, reports/ and cron/CI examples."""
    from dipdiff.project import init_project

    console = make_console()
    for path, created, description in init_project(folder):
        verb = "created" if created else "kept   "
        console.print(Text(f"{verb} {path}  ({description})"))
    console.print(Text(f"next: edit {folder / 'dipdiff.toml'}, then run `dipdiff fetch` in {folder}"))
    console.print(Text(f"to monitor: `dipdiff run --commit` from cron ({folder / 'crontab.example'}) "
                       f"or CI ({folder / '.github/workflows/dipdiff.yml'}), in a git repository"))


@app.command()
@handle_errors
def fetch(
    ctx: typer.Context,
    config: ConfigOption = Path("dipdiff.toml"),
    source: Annotated[Optional[list[str]], typer.Option("--source", "-s", help="Only this source (repeatable).")] = None,
    check_all: Annotated[bool, typer.Option("--all", help="Re-check every known statement, ignoring the schedule.")] = False,
    since: Annotated[Optional[str], typer.Option(help="Only statements published since this date (ISO 8601).")] = None,
    limit: Annotated[Optional[int], typer.Option(help="Check at most N statements.", min=0)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a machine-readable run summary on stdout.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log unchanged statements too.")] = False,
) -> None:
    """Discover new statements and re-check known ones. Exit 0 nothing new, 1 new/changed, 2 trouble."""
    from dipdiff.config import load_config
    from dipdiff.service import exit_status, fetch_sources, summary
    from dipdiff.store import parse_timestamp, utc_timestamp
    from dipdiff.terminal import FetchProgress

    cfg = load_config(config)
    since_ts = utc_timestamp(parse_timestamp(since)) if since else None
    for name in source or []:
        cfg.source(name)  # an unknown name is an error before anything is fetched
    with FetchProgress(make_console(stderr=True), verbose=verbose) as progress:
        run = fetch_sources(cfg, _store(ctx), sources=source or None, check_all=check_all, since=since_ts,
                            limit=limit, listener=progress)
    doc = summary(run)
    if as_json:
        _print_json(doc)
    else:
        counts = ", ".join(f"{n} {k}" for k, n in doc["outcomes"].items() if n) or "nothing due"
        trouble = f"; {len(run.problems)} source(s) could not be read" if run.problems else ""
        make_console(stderr=True).print(Text(f"checked {doc['checked']} statement(s): {counts}{trouble}"))
    raise typer.Exit(exit_status(run))


sources_app = typer.Typer(help="Built-in presets and configured sources; `sources check NAME` tests one.",
                          invoke_without_command=True, no_args_is_help=False, rich_markup_mode=None)
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
    rows = [{"name": s.name, "where": "config", "kind": s.kind, "enabled": s.enabled, "url": s.url,
             "preset": s.preset, "agency": s.agency} for s in configured]
    rows += [{"name": n, "where": "preset", "kind": p.kind, "enabled": None, "url": p.url, "preset": n,
              "agency": p.agency, "description": p.description}
             for n, p in ((n, preset(n)) for n in preset_names())]
    if as_json:
        _print_json(rows)
        return
    console = make_console()
    table = Table(box=None, pad_edge=False, show_edge=False)
    for col in ("name", "from", "kind", "url"):
        table.add_column(col, overflow="fold", no_wrap=col == "name")
    for r in rows:
        where = r["where"] if r["where"] == "preset" else ("config" if r["enabled"] else "config (disabled)")
        table.add_row(Text(r["name"]), where, r["kind"], Text(safe(r["url"])))
    console.print(table)
    if not configured:
        console.print(Text(f"({config} not found: showing the built-in presets; `dipdiff init` creates one)"))


@sources_app.command("check")
@handle_errors
def sources_check(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A configured source or a built-in preset.")],
    url: Annotated[Optional[str], typer.Option("--url", help="Check this statement URL instead of the first one found.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fetch one listing and one statement of a source and show what the selectors extracted."""
    from dipdiff.config import load_config, preset, preset_names
    from dipdiff.service import check_source

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
        _print_json(report)
    else:
        _print_source_check(report)
    raise typer.Exit(Exit.TROUBLE if report["problems"] else Exit.SAME)


def _print_source_check(report: dict[str, Any]) -> None:
    console = make_console()
    console.print(Text(f"{report['source']} ({report['kind']}): {safe(report['url'])}", style="bold"))
    console.print(Text(f"  found {report['found']} statement(s)"))
    for item in report["items"][:5]:
        console.print(Text(f"  - {safe(item['published'] or '-'):<25} {safe(item['title'] or '')[:70]}"))
        console.print(Text(f"    {safe(item['url'])}"))
    st = report.get("statement")
    if st:
        console.print()
        console.print(Text(f"statement: {safe(st['url'])}", style="bold"))
        for key in ("title", "published", "agency"):
            console.print(Text(f"  {key:<10} {safe(str(st[key] or '-'))}"))
        console.print(Text(f"  words      {st['words']} in {len(st['paragraphs'])} paragraph(s)"))
        for p in st["paragraphs"][:3]:
            console.print(Text(f"  | {safe(p)[:300]}"))
        if len(st["paragraphs"]) > 3:
            console.print(Text(f"  | … {len(st['paragraphs']) - 3} more paragraph(s)"))
    for problem in report["problems"]:
        make_console(stderr=True).print(Text(f"dipdiff: problem: {safe(problem)}"))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
