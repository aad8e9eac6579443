"""`dipdiff init` scaffolds a monitoring folder: reports/, .gitignore, crontab and CI examples."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from dipdiff.cli.app import app
from dipdiff.pipeline.init import WORKFLOW
from helpers import README as README_PATH

README = README_PATH.read_text(encoding="utf-8")


def test_init_scaffolds_a_monitoring_folder_and_never_overwrites(tmp_path):
    folder = tmp_path / "my watch"
    r = CliRunner().invoke(app, ["init", str(folder)], env={"NO_COLOR": "1"})
    assert r.exit_code == 0, r.output
    for name in (
        "dipdiff.toml",
        "reports/README.md",
        ".gitignore",
        "crontab.example",
        ".github/workflows/dipdiff.yml",
    ):
        assert (folder / name).is_file(), name
        assert f"created {folder / name}" in r.output
    cron = [
        ln
        for ln in (folder / "crontab.example").read_text(encoding="utf-8").splitlines()
        if ln and not ln.startswith("#")
    ]
    # One valid line: five time fields, then a command that cds into the folder (quoted: a space).
    assert len(cron) == 1 and re.match(
        r"^(\S+ ){5}cd '.+/my watch' && \S*dipdiff run --commit$", cron[0]
    )
    assert "[](feed.xml)" not in (folder / "reports" / "README.md").read_text(encoding="utf-8")

    (folder / "crontab.example").write_text("mine\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["init", str(folder)], env={"NO_COLOR": "1"})
    assert r.exit_code == 0 and f"kept    {folder / 'crontab.example'}" in r.output
    assert (folder / "crontab.example").read_text(encoding="utf-8") == "mine\n"


def test_workflow_runs_dipdiff_run_commit_on_a_schedule_and_is_documented():
    text = WORKFLOW.format(package="dipdiff")
    assert text in README  # the README shows exactly what init writes
    assert re.search(r'^on:\n  schedule:\n    - cron: "(\S+ ){4}\S+"', text, re.MULTILINE)
    assert "contents: write" in text and "dipdiff run --commit" in text and "git push" in text
    # YAML: spaces only, and every block's indentation is a multiple of two.
    assert "\t" not in text
    assert all((len(ln) - len(ln.lstrip(" "))) % 2 == 0 for ln in text.splitlines())
