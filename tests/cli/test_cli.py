"""The CLI end to end, in-process, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket

from dipdiff.pipeline.server import Response

OBAMA = (
    "obama-whitehouse-press-office-2009-2016/briefs/"
    "the-press-office-2013-09-21-statement-nsc-spokesperson-caitlin-hayden-attack-nairobi.html"
)
PATH = "/the-press-office/2013/09/21/statement-nsc-spokesperson-caitlin-hayden-attack-nairobi"
SID = "127-0-0-1/statement-nsc-spokesperson-caitlin-hayden-attack-nairobi"


def _serve_versions(server, corpus):
    original = corpus(OBAMA).read_bytes()
    edited = original.replace(b"despicable terrorist attack", b"cowardly terrorist attack")
    assert edited != original
    server.set(PATH, Response(original))
    return original, edited


def test_snapshot_new_unchanged_changed_and_diff(cli, server, corpus):
    _, edited = _serve_versions(server, corpus)
    url = server.url(PATH)

    r = cli("snapshot", url)
    assert r.exit_code == 1, r.output  # a change recorded, like fetch and run
    assert r.output.startswith("new") and f"{SID}@1" in r.output

    r = cli("snapshot", url)
    assert r.exit_code == 0, r.output
    assert r.output.startswith("unchanged")

    server.set(PATH, Response(edited))
    r = cli("snapshot", url)
    assert r.exit_code == 1, r.output
    assert r.output.startswith("changed") and "(1 change: 1 substantive)" in r.output

    r = cli("diff", SID)
    assert r.exit_code == 1, r.output
    assert "[-despicable-]{+cowardly+}" in r.output

    r = cli("diff", SID, "--format", "json")
    assert r.exit_code == 1
    doc = json.loads(r.output)
    assert set(doc) >= {"a", "b", "similarity", "changes", "summary"}
    assert set(doc["a"]) >= {"title", "url", "agency", "published", "version", "words"}
    assert doc["a"]["version"] == 1 and doc["b"]["version"] == 2
    assert doc["a"]["published"].startswith("2013-09-21")
    (change,) = doc["changes"]
    assert (change["kind"], change["old"], change["new"]) == ("replace", "despicable", "cowardly")
    assert change["significance"] == "substantive"
    assert isinstance(change["signals"], list)
    assert 0 < doc["similarity"] < 1

    r = cli("diff", f"{SID}@1", f"{SID}@2", "--format", "md")
    assert r.exit_code == 1
    assert "<del>despicable</del> <ins>**cowardly**</ins>" in r.output  # readable without colour
    assert "| changes |" in r.output

    r = cli("diff", f"{SID}@1", f"{SID}@-1", "--format", "unified")
    assert r.exit_code == 1
    assert r.output.startswith(f"--- {SID}@1\n+++ {SID}@2\n")
    assert (
        "\n-The United States condemns" in r.output and "\n+The United States condemns" in r.output
    )

    r = cli("diff", f"{SID}@1", f"{SID}@1")
    assert r.exit_code == 0, r.output
    assert "no differences" in r.output


def test_list_log_show(cli, server, corpus):
    _serve_versions(server, corpus)
    assert (
        cli("snapshot", server.url(PATH), "--source", "wh", "--agency", "The White House").exit_code
        == 1
    )
    sid = "wh/statement-nsc-spokesperson-caitlin-hayden-attack-nairobi"

    r = cli("list", "--json")
    assert r.exit_code == 0, r.output
    (row,) = json.loads(r.output)
    assert row["id"] == sid and row["versions"] == 1 and row["agency"] == "The White House"

    r = cli("list")  # piped: one line per statement, tab-separated, for `cut -f1`
    assert r.exit_code == 0, r.output
    assert r.output.split("\n") == [
        "\t".join([sid, "1", row["last_fetched"], row["title"]]),
        "",
    ], r.output

    r = cli("log", sid, "--checks")
    assert r.exit_code == 0, r.output
    assert "Statement by NSC Spokesperson" in r.output and "new" in r.output

    r = cli("show", f"{sid}@1")
    assert r.exit_code == 0, r.output
    assert r.output.startswith(
        "Statement by NSC Spokesperson Caitlin Hayden on the Attack in Nairobi\n"
    )
    assert "despicable terrorist attack" in r.output

    r = cli("show", sid, "--raw")
    assert r.exit_code == 0
    assert "<html" in r.output.lower()


def test_import_places_versions_in_time_order(cli, tmp_path, corpus):
    pair = "edgi-web-monitoring-processing/archives-2017/truepos-major-changes-{}.html"
    url = "https://www.epa.gov/climatechange/federal-partner-collaboration"
    # The later capture is imported first; the earlier one must become version 1.
    r = cli(
        "import",
        str(corpus(pair.format("b"))),
        "--url",
        url,
        "--fetched-at",
        "2017-02-01T10:00:00Z",
    )
    assert r.exit_code == 1, r.output  # new
    r = cli(
        "import",
        str(corpus(pair.format("a"))),
        "--url",
        url,
        "--fetched-at",
        "2017-01-20T10:00:00+00:00",
    )
    assert r.exit_code == 1, r.output  # changed (an older capture, placed before)
    r = cli("log", "epa-gov/federal-partner-collaboration", "--json")
    versions = json.loads(r.output)["versions"]
    assert [v["fetched_at"] for v in versions] == ["2017-01-20T10:00:00Z", "2017-02-01T10:00:00Z"]
    assert [v["file"] for v in versions] == sorted(v["file"] for v in versions)


def test_identical_captures_are_unchanged(cli, corpus):
    a = corpus(
        "edgi-web-monitoring-processing/wayback-mementos/20190101033033__www.epa.gov_hfstudy_epa-published-research-related-hydraulic-fracturing-study.html"
    )
    b = a.with_name(
        "20190101051123__www.epa.gov_hfstudy_epa-published-research-related-hydraulic-fracturing-study.html"
    )
    url = "https://www.epa.gov/hfstudy/epa-published-research-related-hydraulic-fracturing-study"
    assert cli(
        "import", str(a), "--url", url, "--fetched-at", "2019-01-01T03:30:33Z"
    ).output.startswith("new")
    assert cli(
        "import", str(b), "--url", url, "--fetched-at", "2019-01-01T05:11:23Z"
    ).output.startswith("unchanged")


def test_diff_local_files(cli, tmp_path):
    a = tmp_path / "a.txt"
    b = tmp_path / "b.md"
    a.write_text("# Title\n\nWe urge restraint.\n\nSecond paragraph.\n", encoding="utf-8")
    b.write_text("# Title\n\nWe demand restraint.\n\nSecond paragraph.\n", encoding="utf-8")
    r = cli("diff", str(a), str(b))
    assert r.exit_code == 1, r.output
    assert "[-urge-]{+demand+}" in r.output
    assert cli("diff", str(a), str(a)).exit_code == 0


def test_diff_urls(cli, server, corpus):
    _original, edited = _serve_versions(server, corpus)
    server.set("/edited", Response(edited))
    r = cli("diff", server.url(PATH), server.url("/edited"), "--format", "json")
    assert r.exit_code == 1, r.output
    assert json.loads(r.output)["summary"]["changes"] == 1


def _one_line_error(r, *needles):
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1, r.output
    assert lines[0].startswith("dipdiff: error: ")
    for n in needles:
        assert n in lines[0], lines[0]


def test_bad_input_is_one_line_and_exit_2(cli, server, tmp_path):
    _one_line_error(
        cli("diff", str(tmp_path / "missing.html"), str(tmp_path / "x.txt")),
        "missing.html",
        "no such file",
    )
    _one_line_error(cli("show", "not an id"), "not a statement ID")
    _one_line_error(cli("show", "nope/nothing"), "no statement 'nope/nothing'")
    server.set(
        "/report.pdf", Response(b"%PDF-1.4 ...", headers={"Content-Type": "application/pdf"})
    )
    _one_line_error(cli("snapshot", server.url("/report.pdf")), "report.pdf", "not an HTML page")
    _one_line_error(cli("snapshot", server.url("/gone")), "/gone", "HTTP 404")
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _one_line_error(
        cli("snapshot", f"http://127.0.0.1:{port}/x"), f"127.0.0.1:{port}/x", "cannot connect"
    )
    _one_line_error(cli("diff", "a/b", "--format", "pdf"), "--format")
    _one_line_error(cli("snapshot", "ftp://example.invalid/x"), "ftp://example.invalid/x")


def test_blocked_page_is_never_stored(cli, server, store_dir):
    server.set(
        "/wall",
        Response(
            b"<html><head><title>Access Denied</title></head><body><h1>Access Denied</h1>"
            b"<p>You don't have permission to access this server.</p></body></html>"
        ),
    )
    r = cli("snapshot", server.url("/wall"))
    assert r.exit_code == 0, r.output
    assert r.output.startswith("blocked")
    assert not list(store_dir.glob("*/*/*.md"))


def test_version_flag():
    from typer.testing import CliRunner

    from dipdiff import __version__
    from dipdiff.cli.app import app

    r = CliRunner().invoke(app, ["--version"])
    assert r.exit_code == 0 and r.output.strip() == f"dipdiff {__version__}"


def test_show_raw_strips_escapes_on_a_terminal_only(cli, server, store_dir):
    import os
    import subprocess
    import sys

    page = (
        b"<html><head><title>T</title></head><body><article><h1>T</h1><p>"
        + b"Words of a statement. " * 5
        + b"\x1b]0;pwned\x07\x1b[31mred</p></article></body></html>"
    )
    server.set("/esc", Response(page))
    r = cli("snapshot", server.url("/esc"), "--source", "x")
    assert r.exit_code == 1, r.output
    (row,) = json.loads(cli("list", "--json").output)
    args = [sys.executable, "-m", "dipdiff", "--store", str(store_dir), "show", row["id"], "--raw"]
    piped = subprocess.run(args, capture_output=True, check=True).stdout
    assert piped == page  # a pipe gets the bytes as fetched
    leader, follower = os.openpty()
    try:
        subprocess.run(
            args,
            stdout=follower,
            stderr=subprocess.DEVNULL,
            check=True,
            timeout=30,
            env={**os.environ, "NO_COLOR": "1"},
        )
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert b"Words of a statement." in shown
    assert b"\x1b" not in shown and b"]0;pwned" not in shown and b"red</p>" in shown


def test_piped_list_is_one_tab_separated_line_per_statement(cli, server):
    from dipdiff.pipeline.demo import page_bytes
    from dipdiff.pipeline.server import Response

    server.set("/libya/", Response(page_bytes("state-libya.day1.html")))
    server.set("/haftar/", Response(page_bytes("whitehouse-haftar.day1.html")))
    for path in ("/libya/", "/haftar/"):
        assert cli("snapshot", server.url(path)).exit_code == 1  # new: a change
    r = cli("list", env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert len(lines) == 2
    fields = [line.split("\t") for line in lines]
    assert all(len(f) == 4 for f in fields), lines  # `cut -f1` gives the IDs
    assert sorted(f[0] for f in fields) == sorted(["127-0-0-1/libya", "127-0-0-1/haftar"]) or all(
        "/" in f[0] for f in fields
    )
    assert any(f[3] == "The Situation in Libya" for f in fields)
