"""Long output through a pager on a terminal, as git does: one mechanism for every command.

Output taller than the terminal goes to ``$DIPDIFF_PAGER``, else ``$PAGER``, else ``less``
(with ``LESS=FRX`` unless ``LESS`` is set: quit when it fits, keep colours, leave the screen as
it was). Never when stdout is not a terminal (piped or redirected), never with ``--no-pager``;
an empty pager or ``cat`` means none. A pager that cannot be started is no reason to lose the
output: it is printed as it is.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer
from rich.cells import cell_len

from dipdiff.render.terminal import make_console

if TYPE_CHECKING:
    from rich.console import Console

NoPager = Annotated[
    bool, typer.Option("--no-pager", help="Never page output taller than the terminal.")
]


def paged(render: Callable[[Console], None], *, pager: bool = True) -> None:
    """Print what ``render`` writes to a console; taller than the terminal, through the pager."""
    console = make_console()
    if not (pager and sys.stdout.isatty()):
        render(console)
        return
    with console.capture() as captured:
        render(console)
    page(captured.get(), console)


def paged_text(text: str, *, pager: bool = True) -> None:
    """Print ``text`` (already made safe); taller than the terminal, through the pager."""
    if not (pager and sys.stdout.isatty()):
        sys.stdout.write(text)
        return
    page(text, make_console())


def page(text: str, console: Console) -> None:
    """``text`` on the terminal: through the pager when it does not fit on one screen."""
    command = pager_command()
    if not command or screen_lines(text, console.width) <= console.height:
        console.file.write(text)
        return
    env = {**os.environ, "LESS": os.environ.get("LESS", "FRX")}  # as git: quit if one screen
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    console.file.flush()
    try:
        # The user's own $PAGER, run by the shell as git runs it.
        proc = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, env=env)  # noqa: S602
    except OSError:
        console.file.write(text)
        return
    with contextlib.suppress(BrokenPipeError):  # the reader quit before the end, as in git
        proc.communicate(text.encode(encoding, "replace"))
    while proc.poll() is None:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C belongs to the pager (less)
            proc.wait()


def pager_command() -> str:
    """The pager to run, or "" for none: an unset one is ``less`` if it is installed."""
    for var in ("DIPDIFF_PAGER", "PAGER"):
        if var in os.environ:
            command = os.environ[var].strip()
            break
    else:
        command = "less"
    try:
        program = shlex.split(command)[0] if command else ""
    except ValueError:  # unbalanced quotes: the shell would fail too
        return ""
    if command == "cat" or not program or shutil.which(program) is None:
        return ""
    return command


def screen_lines(text: str, width: int) -> int:
    """How many rows ``text`` takes on a terminal ``width`` columns wide (long lines wrap)."""
    return sum(max(1, -(-cell_len(line) // max(width, 1))) for line in text.splitlines())
