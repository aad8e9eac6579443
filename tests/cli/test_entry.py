"""`dipdiff --version` and `import dipdiff` import nothing heavy; a command imports its own.

Timed in benchmarks/bench_version.py and benchmarks/bench_scale.py.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from dipdiff.cli import COMMAND_MODULES, command_name

HEAVY = ("typer", "rich", "httpx", "bs4", "lxml", "dipdiff.cli.app")
LOADED = f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"


def test_version_imports_nothing_heavy():
    code = (
        "import sys; sys.argv = ['dipdiff', '--version']; from dipdiff.cli import main; main(); "
        f"{LOADED}"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    version, heavy = out.strip().splitlines()
    assert version.startswith("dipdiff ")
    assert heavy == "[]"


def test_import_dipdiff_imports_nothing_heavy():
    """The library's names load on first use: a script pays for what it uses."""
    out = subprocess.run(
        [sys.executable, "-c", f"import sys, dipdiff; {LOADED}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "[]"


def test_other_arguments_reach_the_cli():
    out = subprocess.run(
        [sys.executable, "-m", "dipdiff", "--help"], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0 and "fetch" in out.stdout


def test_every_command_is_loaded_by_its_own_module():
    import typer

    from dipdiff.cli.app import app

    where = {
        c.name or typer.main.get_command_name(c.callback.__name__): c.callback.__module__
        for c in app.registered_commands
        if c.callback is not None
    } | {
        # A group lives where its subcommands are defined.
        g.name: next(
            c.callback.__module__ for c in g.typer_instance.registered_commands if c.callback
        )
        for g in app.registered_groups
        if g.typer_instance is not None
    }
    assert {name: f"dipdiff.cli.{m}" for name, m in COMMAND_MODULES.items()} == where


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["diff", "a.txt", "b.txt"], "diff"),
        (["--store", "list", "show", "x/y"], "show"),  # a store folder named like a command
        (["--store=s", "log", "x/y"], "log"),
        (["--help"], None),
    ],
)
def test_the_command_is_the_first_argument_that_is_no_option(args, name):
    assert command_name(args) == name


def run_dipdiff(*args, cwd):
    code = (
        f"import sys; sys.argv = ['dipdiff', *{list(args)!r}]; from dipdiff.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('lxml', 'httpx', 'rich.table', 'dipdiff.cli.monitor')"
        " if m in sys.modules))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=cwd
    )


def test_a_tiny_diff_loads_neither_the_scraper_nor_the_other_commands(tmp_path):
    (tmp_path / "a.txt").write_text("The United States is deeply concerned.\n")
    (tmp_path / "b.txt").write_text("The United States is concerned.\n")
    r = run_dipdiff("diff", "a.txt", "b.txt", "--format", "json", cwd=tmp_path)
    *doc, loaded = r.stdout.strip().splitlines()
    assert '"changes"' in "".join(doc), r.stdout + r.stderr
    assert loaded == "[]", r.stderr


def test_help_and_unknown_commands_still_see_every_command(tmp_path):
    r = run_dipdiff("--help", "diff", cwd=tmp_path)
    assert "divergences" in r.stdout and "fetch" in r.stdout, r.stdout + r.stderr
    r = run_dipdiff("fecth", cwd=tmp_path)
    assert "No such command" in r.stderr and "fetch" in r.stderr, r.stderr


def _modules_of_a_run(tmp_path, *args: str) -> set[str]:
    (tmp_path / "a.txt").write_text("The United States is deeply concerned.\n")
    (tmp_path / "b.txt").write_text("The United States is concerned.\n")
    code = (
        "import sys, atexit; "
        "atexit.register(lambda: open('modules', 'w').write('\\n'.join(sys.modules))); "
        f"sys.argv = ['dipdiff', *{list(args)!r}]; from dipdiff.cli import main; main()"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert r.returncode == 1, r.stderr  # the two files differ
    return set((tmp_path / "modules").read_text().split())


@pytest.mark.parametrize("fmt", ["term", "json", "md"])
def test_a_file_diff_imports_what_its_format_needs_and_nothing_more(tmp_path, fmt):
    """No network stack, no page parser, no other format's renderer; pydantic (which typer 0.29
    coerced every option with) and numpy (the language model) never for a short text."""
    loaded = _modules_of_a_run(tmp_path, "diff", "a.txt", "b.txt", "--format", fmt, "--no-pager")
    heavy = {"httpx", "httpcore", "lxml", "bs4", "pydantic", "numpy", "py3langid", "jinja2"}
    assert not heavy & loaded
    renderers = {"md": "dipdiff.render.markdown", "json": "dipdiff.render.json"}
    assert {m for m in renderers.values() if m in loaded} == (
        {renderers[fmt]} if fmt in renderers else set()
    )
    assert "dipdiff.render.html" not in loaded
