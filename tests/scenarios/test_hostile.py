"""Hostile names and text: nothing a page or a file contains reaches the terminal raw, and no URL
or title can put a file outside the store.

A page's title and text carry ANSI escape sequences (colours, screen clears, OSC window titles
and hyperlinks), C1 controls, NULs, backspaces, carriage returns and bidi overrides (the
"Trojan Source" trick that shows text in another order than it is). Every command's output is
checked: human-readable output may not contain any of them; JSON must stay valid and carry
controls only as escapes.
"""

from __future__ import annotations

import json
import re

import pytest

from dipdiff.pipeline.server import Response
from faultkit import FIGURES, fetch_config
from routes import raw

ESC = "\x1b"
HOSTILE = (
    f"{ESC}[2J{ESC}[31mRed{ESC}[0m {ESC}]0;pwned\x07 "
    f"{ESC}]8;;http://evil.example/\x07link{ESC}]8;;\x07 nul\x00 back\x08space car\rriage bell\x07 "
    f"del\x7f csi\x9b31m \u202egnikcab\u202c \u2066iso\u2069"
)
# Raw in human-readable output: C0 (but tab and newline), DEL, C1, bidi embeddings, overrides
# and isolates.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def page(title: str, extra: str = "") -> bytes:
    body = (
        "The ministry condemns the attack and calls on all parties to exercise restraint, protect "
        "civilians and return to talks. " * 2
    )
    html = (
        f"<html><head><title>{title}</title></head><body><main><h1>{title}</h1>"
        f"<p>{body} {HOSTILE} {extra}</p><p>Second paragraph about &#27;[5mblinking&#27;[0m "
        f"and &#x202E;reversed text and {body}</p></main></body></html>"
    )
    return html.encode("utf-8")


def clean_output(text: str, what: str) -> None:
    bad = sorted({f"U+{ord(c):04X}" for c in FORBIDDEN.findall(text)})
    assert not bad, f"{what}: raw control characters in the output: {bad}\n{text[:500]!r}"


@pytest.fixture
def hostile_store(cli, server, tmp_path):
    """Two versions of a hostile statement, fetched through the real pipeline."""
    title = f"Statement {HOSTILE} on Talks"
    server.set("/evil", Response(page(title)))
    r1 = cli("snapshot", server.url("/evil"))
    server.set(
        "/evil",
        Response(page(title, extra="An added sentence with more \u202ehidden\u202c words.")),
    )
    r2 = cli("snapshot", server.url("/evil"))
    for r in (r1, r2):
        assert r.exit_code == 1, r.output  # new, then changed
        clean_output(r.output, "snapshot")
    assert r2.output.startswith("changed")
    return r2.output.split()[1].split("@")[0]


COMMANDS = [
    ("list",),
    ("log", "{sid}"),
    ("log", "{sid}", "--checks"),
    ("show", "{sid}"),
    ("show", "{sid}@1"),
    ("diff", "{sid}"),
    ("diff", "{sid}", "--format", "md"),
    ("diff", "{sid}", "--format", "unified"),
    ("diff", "{sid}", "--format", "html"),
    ("diff", "{sid}@1", "{sid}@2", "--context", "0"),
    ("compare", "{sid}@1", "{sid}@2"),
    ("compare", "{sid}@1", "{sid}@2", "--format", "md"),
    ("verify",),
]
JSON_COMMANDS = [
    ("list", "--json"),
    ("log", "{sid}", "--json", "--checks"),
    ("show", "{sid}", "--json"),
    ("diff", "{sid}", "--format", "json"),
    ("compare", "{sid}@1", "{sid}@2", "--format", "json"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_human_output_never_carries_raw_controls(cli, hostile_store, args):
    r = cli(*[a.format(sid=hostile_store) for a in args])
    assert r.exit_code in (0, 1), r.output
    clean_output(r.output, " ".join(args))
    FIGURES["fault scenarios"] += 1


@pytest.mark.parametrize("args", JSON_COMMANDS, ids=[" ".join(a) for a in JSON_COMMANDS])
def test_json_output_is_valid_and_escapes_controls(cli, hostile_store, args):
    r = cli(*[a.format(sid=hostile_store) for a in args])
    assert r.exit_code in (0, 1), r.output
    json.loads(r.stdout)
    clean_output(r.stdout, " ".join(args))
    FIGURES["fault scenarios"] += 1


def test_a_tampered_store_file_is_flagged_and_never_echoed_raw(cli, hostile_store, store_dir):
    (version, *_) = sorted(store_dir.glob("*/*/*.md"))
    text = version.read_text(encoding="utf-8")
    version.write_text(
        text.replace("Second paragraph", f"Second {ESC}[5mparagraph\x9b"), encoding="utf-8"
    )
    r = cli("verify")
    assert r.exit_code == 2 and "control characters" in r.output, r.output
    clean_output(r.output, "verify")
    for args in (
        ("show", f"{hostile_store}@1"),
        ("diff", hostile_store, "--format", "md"),
        ("diff", hostile_store, "--format", "json"),
        ("show", f"{hostile_store}@1", "--json"),
    ):
        r = cli(*args)
        clean_output(r.output, " ".join(args))


def test_text_files_given_to_diff_are_cleaned(cli, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.md"
    a.write_text(f"# Title {HOSTILE}\n\nWe urge restraint {HOSTILE}.\n", encoding="utf-8")
    b.write_text(f"# Title {HOSTILE}\n\nWe demand restraint {HOSTILE}.\n", encoding="utf-8")
    for fmt in ("term", "md", "unified", "html", "json"):
        r = cli("diff", str(a), str(b), "--format", fmt)
        assert r.exit_code == 1, r.output
        clean_output(r.output, f"diff --format {fmt}")


def test_errors_naming_hostile_input_are_clean(cli, server):
    for args in (
        ("show", f"x-gov/a{ESC}[31m"),
        ("diff", f"evil{ESC}]0;t\x07.html", "b.txt"),
        ("snapshot", f"http://127.0.0.1:{server.port}/{ESC}[2J"),
        ("snapshot", f"ftp://x/{ESC}[2J"),
        ("log", "a/b\u202e"),
    ):
        r = cli(*args)
        assert r.exit_code == 2, r.output
        assert r.output.count("\n") == 1, r.output
        clean_output(r.output, " ".join(args))


def test_a_server_reason_phrase_with_escapes_is_clean(cli, server):
    server.set(
        "/reason",
        raw(
            f"HTTP/1.1 503 Down{ESC}[2J{ESC}]0;pwned\x07\r\nContent-Length: 0\r\n\r\n".encode(
                "latin-1"
            )
        ),
    )
    r = cli("snapshot", server.url("/reason"))
    assert r.exit_code == 2
    clean_output(r.output, "snapshot of a hostile reason phrase")


def test_fetch_run_lines_are_clean(cli, server, tmp_path):
    title = f"Listed {HOSTILE} statement"
    server.set(
        "/releases/",
        Response(f'<ul><li class="item"><a href="/releases/a/">{title}</a></li></ul>'.encode()),
    )
    server.set("/releases/a/", Response(page(title)))
    config = fetch_config(tmp_path / "dipdiff.toml", server)
    for args in (
        ("fetch", "--config", str(config)),
        ("fetch", "--config", str(config), "--all", "--verbose"),
    ):
        r = cli(*args)
        assert r.exit_code in (0, 1), r.output
        clean_output(r.output, " ".join(args))
    r = cli("fetch", "--config", str(config), "--all", "--json")
    json.loads(r.stdout)
    clean_output(r.stdout, "fetch --json")


@pytest.mark.parametrize(
    "path",
    [
        "/..%2f..%2f..%2fetc%2fpasswd",
        "/%2e%2e/%2e%2e/secret",
        "/" + "very-long-segment-" * 120,
        "/a/b/..%00/c",
        "/C:%5cWindows%5csystem32",
        "/.git/config",
        "/%00",
        "/" + "é" * 300,
    ],
)
def test_hostile_urls_stay_inside_the_store(cli, server, store_dir, path):
    from urllib.parse import quote

    server.set(quote(path, safe="/%:"), Response(page(f"Statement at {path[:40]}")))
    r = cli("snapshot", server.url(path))
    assert r.exit_code == 1, r.output
    clean_output(r.output, "snapshot")
    files = [p.resolve() for p in store_dir.rglob("*")]
    assert files and all(store_dir.resolve() in p.parents for p in files)
    assert all(len(p.name) <= 100 for p in files)
    sid = r.output.split()[1].split("@")[0]
    assert re.fullmatch(r"[a-z0-9-]+/[a-z0-9][a-z0-9-]{0,99}", sid)
    assert cli("verify").exit_code == 0
    FIGURES["fault scenarios"] += 1


def test_a_long_hostile_title_does_not_break_the_store(cli, server, store_dir):
    title = ("../" * 50) + "A" * 5000 + HOSTILE
    server.set("/long", Response(page(title)))
    r = cli("snapshot", server.url("/long"))
    assert r.exit_code == 1, r.output
    sid = r.output.split()[1].split("@")[0]
    assert len(sid.split("/")[1]) <= 80
    for args in (("list",), ("show", sid), ("log", sid)):
        out = cli(*args)
        assert out.exit_code == 0
        clean_output(out.output, " ".join(args))
