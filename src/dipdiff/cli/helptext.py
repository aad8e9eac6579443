"""``--help`` as a reader expects it, without typer's artefacts.

typer 0.28 writes a required argument ``{A [B]}...`` in the usage line and ``A [B] <list[str]>``
in the argument list, and an option's value as its Python type (``--format <str>``). Here the
usage reads ``dipdiff diff [OPTIONS] A [B]``, an argument is its name, and an option's value is
named after the option (``--format FORMAT``), as click and most Unix tools write them.
"""

from __future__ import annotations

import re
from typing import Any

from typer.core import TyperArgument, TyperGroup, TyperOption

_SENTENCE = re.compile(r"(?<=[.!?])\s")


class _Argument(TyperArgument):
    def _shown(self) -> str:
        if self.metavar is not None:
            return self.metavar  # the command said how it reads: "A [B]", "ID[@N]"
        name = (self.name or "").upper()
        return f"{name}..." if self.nargs != 1 else name

    def make_metavar(self, ctx: Any, *, usage: bool = False) -> str:  # noqa: ARG002 - typer's
        if usage and not self.required:
            return f"[{self._shown()}]"
        return self._shown()


class _Option(TyperOption):
    def make_metavar(self, ctx: Any) -> str:  # noqa: ARG002 - typer's (vendored click)
        if self.metavar is not None:
            return self.metavar
        if self.type.name in ("int", "float"):
            return "N"
        longest = max(self.opts, key=len).lstrip("-")
        return longest.upper()


def _plain(command: Any) -> None:
    """Every parameter of ``command`` (and of its subcommands) written the plain way."""
    if command.help and not command.short_help:
        # The list of commands shows each one's first sentence whole (wrapped), never cut
        # with "..." at 80 columns as click does.
        first = " ".join(command.help.split("\n\n", 1)[0].split())
        command.short_help = _SENTENCE.split(first, maxsplit=1)[0]
    for param in command.params:
        # The subclasses only show what typer made: the parameters keep their state.
        if isinstance(param, TyperArgument):
            param.__class__ = _Argument
        elif isinstance(param, TyperOption):
            param.__class__ = _Option
    for sub in getattr(command, "commands", {}).values():
        _plain(sub)


class PlainHelpGroup(TyperGroup):
    """The root command: typer builds every subcommand first, then this group, which rewrites
    how their parameters are shown (nothing about how they are parsed)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain(self)
