"""The command line: thin typer commands over the library.

``dipdiff --version`` answers here, before typer, rich, httpx and the rest are
imported, so that it takes a few tens of milliseconds. A command loads the one module of
this package that defines it (:data:`COMMAND_MODULES`), not the other commands'
dependencies; ``--help``, no command or an unknown one load them all (:mod:`dipdiff.cli.app`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

# Each command's module. A tiny `dipdiff diff` then costs typer and the diff engine, not rich
# tables, lxml and httpx too (tests/cli/test_entry.py checks that every command is here).
COMMAND_MODULES = {
    "list": "browse",
    "log": "browse",
    "show": "browse",
    "verify": "browse",
    "compare": "compare",
    "related": "compare",
    "divergences": "compare",
    "diff": "diff",
    "report": "monitor",
    "run": "monitor",
    "fetch": "monitor",
    "notify": "monitor",
    "merge": "monitor",
    "snapshot": "record",
    "import": "record",
    "backfill": "archive",
    "demo": "setup",
    "init": "setup",
    "sources": "setup",
    "config": "setup",
    "site": "publish",
    "export": "publish",
}
_VALUED = ("--store",)  # global options that take a value (the next argument)


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from dipdiff import __version__  # lazy: --version imports nothing else

        print(f"dipdiff {__version__}")
        return
    try:
        app = app_for(sys.argv[1:])
    except KeyboardInterrupt as e:
        # Ctrl-C while the commands load; once one runs, cli.base.handle_errors answers instead.
        from dipdiff.status import failure  # lazy: as light as the version

        end = failure(e)
        print(end.line, file=sys.stderr)
        sys.exit(end.status)
    app()


def app_for(args: list[str]) -> typer.Typer:
    """The typer app with the command that ``args`` name on it; with every command when they
    name none that is known or ask for help first (help and "no such command" list them all)."""
    import importlib  # lazy: none of this for --version

    name = command_name(args)
    module = COMMAND_MODULES.get(name or "")
    if module is None or "--help" in args[: args.index(name or "")]:
        from dipdiff.cli.app import app  # lazy: every command module

        return app
    importlib.import_module(f"dipdiff.cli.{module}")
    from dipdiff.cli.base import app as with_one  # lazy: the app the module registered on

    return with_one


def command_name(args: list[str]) -> str | None:
    """The command that a ``dipdiff`` command line names: its first non-option argument."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _VALUED:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None
