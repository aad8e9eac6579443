"""Tested docs: every command and every option the CLI offers is mentioned in the README."""

from __future__ import annotations

import pytest
import typer
import typer.main

from dipdiff.cli.app import app
from helpers import README as README_PATH

README = README_PATH.read_text(encoding="utf-8")


def _commands(group, prefix: str = "dipdiff"):
    # typer vendors its own click; duck-type instead of importing it.
    for name, cmd in sorted(group.commands.items()):
        full = f"{prefix} {name}"
        yield full, cmd
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, full)


COMMANDS = list(_commands(typer.main.get_command(app)))


@pytest.mark.parametrize(("full", "cmd"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_command_and_options_are_documented(full, cmd):
    assert f"`{full}" in README or f"{full} " in README, f"README does not mention `{full}`"
    for param in cmd.params:
        if param.param_type_name == "option" and not getattr(param, "hidden", False):
            flag = max(param.opts, key=len)
            if flag == "--help":
                continue
            assert flag in README, f"README does not mention {flag} of `{full}`"


def test_global_options_are_documented():
    for flag in ("--store", "--version"):
        assert flag in README
