"""A statement's language is recorded where it is stored and shown where it is compared: the
version header (older files without it read as before), each side of the diff JSON, and the
report's line for a statement not in English."""

from __future__ import annotations

import json
import sqlite3

from dipdiff.store.layout import parse_version

PAGE = """<html><head><title>Libye</title></head><body><article><h1>La situation en Libye</h1>
<p>Les États-Unis sont profondément préoccupés par les combats près de Tripoli et appellent toutes
les parties à reprendre les négociations politiques sous l’égide des Nations unies.</p>
<p>Il n’y a pas de solution militaire au conflit libyen.{extra}</p></article></body></html>"""
URL = "https://fr.usembassy.gov/fr/la-situation-en-libye/"


def test_the_version_header_records_the_language_and_diff_json_shows_it(cli, tmp_path):
    for n, extra in enumerate(("", " Nous resterons vigilants.")):
        page = tmp_path / f"p{n}.html"
        page.write_text(PAGE.format(extra=extra), encoding="utf-8")
        r = cli("import", str(page), "--url", URL, "--fetched-at", f"2019-04-0{n + 7}T09:00:00Z")
        assert r.exit_code == 1, r.output
    [sid] = [p.parent.relative_to(cli.store).as_posix() for p in cli.store.glob("*/*/meta.json")]
    files = sorted((cli.store / sid).glob("*.md"))
    header, _ = parse_version(files[0].read_text(encoding="utf-8"), str(files[0]))
    assert header["language"] == "fr"
    r = cli("diff", f"{sid}@1", f"{sid}@2", "--format", "json")
    assert r.exit_code == 1, r.output
    doc = json.loads(r.output)
    assert (doc["a"]["language"], doc["b"]["language"]) == ("fr", "fr")
    r = cli(
        "report", "--since", "2019-04-01", "--out", "-", env={"DIPDIFF_NOW": "2019-04-09T00:00:00Z"}
    )
    assert r.exit_code == 0, r.output
    assert f"`{sid}` · in French · version 1" in r.output, r.output


def test_a_version_file_without_a_language_reads_as_before(tmp_path):
    text = (
        '---\ntitle: "T"\nurl: "https://x.gov/a"\nagency: ""\npublished: null\n'
        'fetched_at: "2019-04-07T09:00:00Z"\nsha256: "00"\n---\n\n# T\n\nBody text.\n'
    )
    header, statement = parse_version(text, "old.md")
    assert "language" not in header and statement.paragraphs == ("Body text.",)


def _french_statement(cli, tmp_path) -> list:
    page = tmp_path / "p.html"
    page.write_text(PAGE.format(extra=""), encoding="utf-8")
    r = cli("import", str(page), "--url", URL, "--fetched-at", "2019-04-07T09:00:00Z")
    assert r.exit_code == 1, r.output
    return sorted(cli.store.glob("*/*/*.md"))


def _report(cli) -> str:
    r = cli(
        "report", "--since", "2019-04-01", "--out", "-", env={"DIPDIFF_NOW": "2019-04-09T00:00:00Z"}
    )
    assert r.exit_code == 0, r.output
    return r.stdout


def test_a_report_names_the_language_the_header_stored_without_detecting_it(cli, tmp_path):
    [version] = _french_statement(cli, tmp_path)
    text = version.read_text(encoding="utf-8")
    version.write_text(text.replace('language: "fr"', 'language: "de"'), encoding="utf-8")
    assert "· in German ·" in _report(cli)  # the header's word, not a detection


def test_a_version_without_a_language_header_is_detected_once(cli, tmp_path):
    [version] = _french_statement(cli, tmp_path)
    text = version.read_text(encoding="utf-8")
    version.write_text(text.replace('language: "fr"\n', ""), encoding="utf-8")  # an older file
    first = _report(cli)
    assert "· in French ·" in first
    with sqlite3.connect(cli.store / ".index.sqlite") as db:
        [(language,)] = db.execute("SELECT language FROM languages").fetchall()
    assert language == "fr"
    with sqlite3.connect(cli.store / ".index.sqlite") as db:  # what the next report takes
        db.execute("DELETE FROM readings")  # (the reading divergences stored says it too)
        db.execute("UPDATE languages SET language = 'it'")
    assert "· in Italian ·" in _report(cli)
