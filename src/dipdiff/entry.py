"""The ``dipdiff`` console script.

``dipdiff --version`` answers here, before typer, rich, httpx and the rest are
imported, so that it takes a few tens of milliseconds (the README promises
under 150 ms). Everything else goes to :mod:`dipdiff.cli`.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from dipdiff import __version__

        print(f"dipdiff {__version__}")
        return
    from dipdiff.cli import main as cli_main

    cli_main()
