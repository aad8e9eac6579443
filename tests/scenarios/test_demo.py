"""The offline demo: what a newcomer sees first."""

from __future__ import annotations

from typer.testing import CliRunner

from dipdiff.cli.app import app
from dipdiff.store.store import Store
from dipdiff.store.verify import verify


def test_demo_runs_offline_and_writes_store_and_report(tmp_path):
    folder = tmp_path / "demo"
    r = CliRunner().invoke(app, ["demo", "--dir", str(folder)], env={"NO_COLOR": "1"})
    assert r.exit_code == 0, r.output
    assert "changed    state-dept/the-situation-in-libya@2" in r.output
    assert "unchanged  white-house/statement-from-the-press-secretary-libya@1" in r.output
    assert (
        "new        state-dept/secretary-pompeos-call-with-un-special-representative-salame@1"
        in r.output
    )
    assert "[-urge the immediate-]{+call for a+}" in r.output
    # The cross-agency step: State opposed Haftar's offensive, the White House recognised his role.
    assert "Comparing agencies: state-dept/the-situation-in-libya@1 ↔ white-house/" in r.output
    assert (
        "DIVERGENT Khalifa Haftar: A critical (oppose, urge, halt) · B supportive (recognize, "
        "significant role)" in r.output
    )
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "<del>" in report and "<ins>" in report
    assert (
        "| Khalifa Haftar | critical (oppose, urge, halt) | supportive (recognize, significant "
        "role) | **yes**" in report
    )
    assert verify(Store(folder / "snapshots")) == []
    # A second run recreates the folder instead of piling up versions.
    r = CliRunner().invoke(app, ["demo", "--dir", str(folder)], env={"NO_COLOR": "1"})
    assert r.exit_code == 0, r.output
    assert len(Store(folder / "snapshots").versions("state-dept/the-situation-in-libya")) == 2


def test_demo_refuses_to_clobber_a_foreign_folder(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me", encoding="utf-8")
    r = CliRunner().invoke(app, ["demo", "--dir", str(tmp_path)])
    assert r.exit_code == 2
    assert (tmp_path / "precious.txt").exists()
