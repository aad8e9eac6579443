"""Shell completion as a bash user meets it: the script `--install-completion` installs, then Tab.

The test installs the completion into a fresh HOME, sources the file it wrote in a real bash,
and calls its completion function with the words typed so far (what bash does on Tab): commands,
options, statement IDs from the store (and ``ID@N`` versions), and source names from
``dipdiff.toml``, the built-in presets and the store.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from helpers import BIN

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")

LIBYA = "state-dept/the-situation-in-libya"


def _env(home) -> dict[str, str]:
    return {**os.environ, "HOME": str(home), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


def typed_in_bash(command: str, home) -> subprocess.CompletedProcess[str]:
    """``command`` as a bash user types it. Typer takes the shell to complete for from the
    processes above dipdiff (shellingham; a shell name after the option is ignored), so dipdiff
    must run under a bash, not straight under pytest, which may have no shell above it (CI, a run
    in the background: "Shell  not supported"). ``exit $?`` after it: bash would otherwise exec
    a lone command in place of itself, and dipdiff's parent would be pytest again."""
    return subprocess.run(
        ["bash", "--norc", "-c", f"{command}\nexit $?"],
        capture_output=True, text=True, env=_env(home), check=False,
    )  # fmt: skip


@pytest.fixture
def installed(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    r = typed_in_bash("dipdiff --install-completion", home)
    assert r.returncode == 0, r.stderr
    assert "bash completion installed" in r.stdout, r.stdout
    script = home / ".bash_completions" / "dipdiff.sh"
    assert f"source '{script}'" in (home / ".bashrc").read_text(encoding="utf-8")
    return home, script


def tab(installed, line: str, cwd) -> list[str]:
    """What bash offers on Tab after ``line`` (the last word is the one being completed)."""
    home, script = installed
    words = line.split(" ")
    program = (
        f"source {script}\n"
        f"COMP_WORDS=({' '.join(repr(w) for w in words)})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        "_dipdiff_completion dipdiff\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    r = subprocess.run(
        ["bash", "--norc", "-c", program],
        capture_output=True, text=True, env=_env(home), cwd=cwd, check=False,
    )  # fmt: skip
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return [w for w in r.stdout.splitlines() if w]


@pytest.fixture
def folder(tmp_path, cli, demo_files):
    """A monitoring folder: dipdiff.toml with two sources, a store with three statements."""
    (tmp_path / "dipdiff.toml").write_text(
        '[sources.state-dept]\npreset = "state-dept"\n'
        '[sources.embassy-tripoli]\nkind = "feed"\nurl = "https://ly.usembassy.gov/feed/"\n',
        encoding="utf-8",
    )
    for name, url in (
        ("state-libya.day1", f"https://www.state.gov/{LIBYA.split('/')[1]}/"),
        ("state-libya.day2", f"https://www.state.gov/{LIBYA.split('/')[1]}/"),
        ("whitehouse-haftar.day1", "https://www.whitehouse.gov/statement-on-libya/"),
    ):
        source = "white-house" if "whitehouse" in name else "state-dept"
        r = cli("import", str(demo_files[name]), "--url", url, "--source", source)
        assert r.exit_code == 1, r.output
    return tmp_path


def test_commands_and_options_complete(installed, tmp_path):
    assert tab(installed, "dipdiff sh", tmp_path) == ["show"]
    assert {"site", "snapshot", "show", "sources"} <= set(tab(installed, "dipdiff s", tmp_path))
    assert tab(installed, "dipdiff diff --no-p", tmp_path) == ["--no-pager"]
    assert "--install-completion" in tab(installed, "dipdiff --", tmp_path)


def test_statement_ids_complete_from_the_store(installed, folder):
    assert tab(installed, "dipdiff show state-dept/the", folder) == [LIBYA]
    assert tab(installed, "dipdiff log wh", folder) == ["white-house/statement-on-libya"]
    assert set(tab(installed, "dipdiff compare ", folder)) == {
        LIBYA,
        "white-house/statement-on-libya",
    }
    assert tab(installed, f"dipdiff diff {LIBYA}@", folder) == [f"{LIBYA}@1", f"{LIBYA}@2"]
    other = folder / "elsewhere"
    other.mkdir()
    # --store (or DIPDIFF_STORE) names another store: its IDs, and none where there is none.
    assert tab(installed, "dipdiff --store ../snapshots related st", other) == [LIBYA]
    assert tab(installed, "dipdiff show st", other) == []


def test_source_names_complete_from_the_config_presets_and_store(installed, folder):
    offered = tab(installed, "dipdiff fetch --source ", folder)
    assert offered[:2] == ["state-dept", "embassy-tripoli"]  # the configured sources first
    assert "white-house" in offered  # a preset (and a source of the store)
    assert tab(installed, "dipdiff sources check emb", folder) == ["embassy-tripoli"]
    assert tab(installed, "dipdiff fetch --config nowhere.toml -s emb", folder) == []


def test_show_completion_prints_the_script(tmp_path):
    r = typed_in_bash("dipdiff --show-completion", tmp_path)
    assert r.returncode == 0, r.stderr
    assert "_DIPDIFF_COMPLETE=complete_bash" in r.stdout
    assert "complete -o default -F _dipdiff_completion dipdiff" in r.stdout
