"""Every command's --help reads as a person wrote it, at 80, 120 and 200 columns.

typer writes a required argument ``{A [B]}...``, a list argument ``A [B] <list[str]>`` and an
option's value as a Python type (``--format <str>``); click cuts a command's summary with
"...". None of that may reach a reader: every command and subcommand is checked, found from the
app itself, so that a command added later is checked too.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import typer

from dipdiff.cli.app import app
from helpers import BIN

ARTEFACTS = re.compile(
    r"\{[^}\s]*[A-Z][^}]*\}"  # {A [B]}
    r"|<(?:str|int|float|bool|path|file|datetime|list\[[^\]]*\])>"  # <str>, <list[str]>, <path>
    r"|\S\]\.\.\.(?<!\[ARGS\]\.\.\.)"  # A [B]... (click's COMMAND [ARGS]... is meant)
    r"|\w\.\.\.$",  # a summary cut short
    re.MULTILINE,
)


def _commands(command, path=()):
    yield path
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_every_command_is_found():
    names = {" ".join(p) for p in COMMANDS}
    assert {"", "diff", "show", "config check", "sources check", "export sqlite"} <= names


@pytest.mark.parametrize("columns", [80, 120, 200])
@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "dipdiff")
def test_help_has_no_typer_artefacts(cli, path, columns):
    r = cli(*path, "--help", env={"COLUMNS": str(columns)})
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"Usage: dipdiff {' '.join(path)}".rstrip() + " "), r.output
    found = ARTEFACTS.findall(r.output)
    assert not found, f"{found} in:\n{r.output}"
    for line in r.output.splitlines():
        assert len(line) <= columns, line


def test_usage_and_arguments_read_as_written():
    def help_of(*args: str) -> str:
        r = subprocess.run(  # the installed command: it loads only the module of the command
            [str(BIN / "dipdiff"), *args, "--help"],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "80"},
            check=False,
        )
        assert r.returncode == 0, r.stderr
        return r.stdout

    diff = help_of("diff")
    assert diff.startswith("Usage: dipdiff diff [OPTIONS] A [B]\n"), diff
    assert re.search(r"^  A \[B\]  ID \(latest two versions\)", diff, re.MULTILINE), diff
    assert re.search(r"^  -f, --format FORMAT +term, md", diff, re.MULTILINE), diff
    assert re.search(r"^  --context N +Unchanged paragraphs", diff, re.MULTILINE), diff
    show = help_of("show")
    assert show.startswith("Usage: dipdiff show [OPTIONS] ID[@N]\n"), show
    site = help_of("site")
    assert site.startswith("Usage: dipdiff site [OPTIONS] OUT\n"), site
    init = help_of("init")
    assert init.startswith("Usage: dipdiff init [OPTIONS] [FOLDER]\n"), init
    root = help_of()
    assert re.search(
        r"^  log +The versions of one statement \(and with --checks, its check\n +history\)\.$",
        root,
        re.MULTILINE,
    ), root
