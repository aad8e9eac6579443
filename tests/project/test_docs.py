"""Tested docs: every command and option is in the README, and CI runs what the README says."""

from __future__ import annotations

import pytest
import typer
import typer.main

from dipdiff.cli.app import app
from helpers import README as README_PATH
from helpers import ROOT

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


def _console_block_after(heading: str) -> list[str]:
    """The lines of the first ``console`` block after ``heading``."""
    section = README.split(f"\n{heading}\n", 1)[1]
    block = section.split("```console\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_ci_runs_the_readme_development_commands_in_order():
    """.ci/run is the README's Development block, verbatim (each line may add `|| exit 1`)."""
    commands = _console_block_after("## Development")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    run = [line.removesuffix(" || exit 1") for line in ci if line and not line.startswith("#")]
    setup = ("set ", "cd ", "rm -rf .venv", "command -v chromium")  # the browser for the tests
    assert [line for line in run if not line.startswith(setup)] == commands, (
        "update .ci/run and the README's Development section together"
    )


def test_the_quickstart_test_command_is_the_development_install_and_tests():
    install, *_, tests = _console_block_after("## Development")
    quickstart = _console_block_after("## Quickstart")
    assert quickstart[1] == f"{install} && {tests}", quickstart
