"""Hostile and broken config files, through `dipdiff fetch --config`: one line, exit 2, the file and
the key named; and random damage to a valid file never escapes as anything but ConfigError."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dipdiff.config import parse_config
from dipdiff.errors import ConfigError
from faultkit import FIGURES

VALID = """[dipdiff]
delay = 0
timeout = "20s"
retries = 2
user_agent = "dipdiff-test"

[schedule]
min_interval = "15m"

[sources.state-dept]
preset = "state-dept"
url = "https://www.state.gov/rss-feed/press-releases/feed/"

[sources.listing]
kind = "listing"
url = "https://x.gov/news/"
selector = "li.item"
include = ["/releases/"]
"""
SOURCE = '[sources.a]\nkind = "feed"\nurl = "https://x.gov/"\n'


def one_line(r, *needles):
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert (
        len(lines) == 1 and lines[0].startswith("dipdiff: error: ") and "Traceback" not in r.output
    ), r.output
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (
            "[dipdiff]\ntimeout = inf\n" + SOURCE,
            ["[dipdiff]", "'timeout' must be a duration", "inf"],
        ),
        ("[dipdiff]\nbackoff = inf\n" + SOURCE, ["'backoff' must be a duration"]),
        ("[dipdiff]\ndelay = nan\n" + SOURCE, ["'delay' must be a duration"]),
        ("[dipdiff]\ntimeout = 0\n" + SOURCE, ["'timeout' must be more than 0"]),
        ('[dipdiff]\ntimeout = "9999999d"\n' + SOURCE, ["'timeout' must be a duration"]),
        (
            '[dipdiff]\nuser_agent = "dipdiff\\r\\nX-Injected: 1"\n' + SOURCE,
            ["'user_agent' contains a control character"],
        ),
        (
            '[dipdiff]\nuser_agent = "x\\u001b[2J"\n' + SOURCE,
            ["'user_agent' contains a control character (U+001B)"],
        ),
        (
            "[dipdiff]\nconcurrency = true\n" + SOURCE,
            ["'concurrency' must be a positive integer, not True"],
        ),
        ("[dipdiff]\nconcurrency = [1]\n" + SOURCE, ["'concurrency' must be a positive integer"]),
        ('[dipdiff]\nrobots = "no"\n' + SOURCE, ["'robots' must be a boolean"]),
        ("[dipdiff]\ndelay = { seconds = 1 }\n" + SOURCE, ["'delay' must be a duration"]),
        (
            '[sources."../../etc"]\nkind = "feed"\nurl = "https://x.gov/"\n',
            ["[sources.../../etc]", "source names"],
        ),
        (
            '[sources.a]\nkind = "feed"\nurl = "https://x.gov/"\nurl = "https://y.gov/"\n',
            ["invalid TOML"],
        ),
        (
            '[sources.a]\nkind = "feed"\nurl = "javascript:alert(1)"\n',
            ["'url' must be an http(s) URL"],
        ),
        (
            '[sources.a]\nkind = "listing"\nurl = "https://x.gov/"\nselector = "li\\u0000"\n',
            ["control character"],
        ),
        (
            '[sources.a]\nkind = "feed"\nurl = "https://x.gov/"\nagnecy = 1\n',
            ["unknown key 'agnecy'", "did you mean 'agency'"],
        ),
        ("[dipdif]\ndelay = 0\n", ["unknown key 'dipdif'", "did you mean 'dipdiff'"]),
        ("[sources]\na = 1\n", ["[sources.a] must be a table"]),
        ("sources = 3\n", ["[sources] must be a table"]),
        ("[dipdiff\n", ["invalid TOML"]),
        ('[sources.a]\nkind = "feed"\nurl = """https://x.gov/\n', ["invalid TOML"]),
    ],
)
def test_bad_config_is_one_line_naming_file_and_key(cli, tmp_path, text, needles):
    config = tmp_path / "dipdiff.toml"
    config.write_text(text, encoding="utf-8")
    r = cli("fetch", "--config", str(config))
    one_line(r, str(config), *needles)
    FIGURES["fault scenarios"] += 1


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"\xff\xfe[\x00d\x00", "not valid UTF-8"),
        (b"[dipdiff]\ndelay = 0\x00\n", "invalid TOML"),
        ('[dipdiff]\ndelay = "1\u202es"\n'.encode(), "'delay' must be a duration"),
    ],
)
def test_binary_and_hostile_bytes_in_a_config(cli, tmp_path, content, needle):
    config = tmp_path / "dipdiff.toml"
    config.write_bytes(content)
    r = cli("fetch", "--config", str(config))
    one_line(r, str(config), needle)
    assert "\u202e" not in r.output
    FIGURES["fault scenarios"] += 1


def test_a_directory_or_missing_config(cli, tmp_path):
    one_line(cli("fetch", "--config", str(tmp_path)), str(tmp_path), "is a directory")
    one_line(cli("fetch", "--config", str(tmp_path / "nope.toml")), "nope.toml", "no such file")


@st.composite
def damaged(draw):
    """The valid file with a few random deletions, insertions and duplications of lines."""
    text = VALID
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "insert", "duplicate", "replace"]))
        i = draw(st.integers(0, len(text)))
        if op == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 12)) :]
        elif op == "insert":
            text = (
                text[:i]
                + draw(st.text(st.sampled_from('[]{}"=.,#\n 0123456789abcxyz-_\\'), max_size=8))
                + text[i:]
            )
        elif op == "duplicate":
            lines = text.splitlines(keepends=True)
            k = draw(st.integers(0, len(lines) - 1))
            text = "".join([*lines[: k + 1], lines[k], *lines[k + 1 :]])
        else:
            text = text[:i] + draw(st.text(max_size=4)) + text[i + 1 :]
    return text


@pytest.mark.slow  # the fuzz suite: 150 damaged configs
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_damaged_config_raises_only_config_errors(text):
    FIGURES["configs fuzzed"] += 1
    try:
        cfg = parse_config(text, "fuzz.toml")
    except ConfigError as e:
        message = str(e)
        assert message.startswith("fuzz.toml: ") and "\n" not in message
    else:
        assert cfg.fetch.timeout > 0
        for source in cfg.sources:
            assert source.url.startswith(("http://", "https://"))
