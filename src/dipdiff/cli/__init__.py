"""The command line: thin typer commands over the library.

``dipdiff --version`` answers here, before typer, rich, httpx and the rest are
imported, so that it takes a few tens of milliseconds. Everything else goes to
:mod:`dipdiff.cli.app`, which assembles the commands of this package.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from dipdiff import __version__  # lazy: --version imports nothing else

        print(f"dipdiff {__version__}")
        return
    try:
        from dipdiff.cli.app import app  # lazy: typer, rich and the commands only when needed
    except KeyboardInterrupt as e:
        # Ctrl-C while the commands load; once one runs, cli.base.handle_errors answers instead.
        from dipdiff.status import failure  # lazy: as light as the version

        end = failure(e)
        print(end.line, file=sys.stderr)
        sys.exit(end.status)
    app()
