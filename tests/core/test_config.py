"""dipdiff.toml: presets as data, one-line errors naming file, table and key, suggestions."""

from __future__ import annotations

import pytest

from dipdiff.config import load_config, parse_config, parse_duration, preset, preset_names
from dipdiff.errors import ConfigError


def test_presets_are_data_and_cover_the_four_agencies():
    names = preset_names()
    for required in ("state-dept", "white-house", "fcdo", "un-press"):
        assert required in names
    assert preset("state-dept").url == "https://www.state.gov/rss-feed/press-releases/feed/"
    assert preset("state-dept").full_text is True
    assert preset("fcdo").content_api == "https://www.gov.uk/api/content"
    wh = preset("white-house")
    assert wh.selector == "ul.wp-block-post-template > li.wp-block-post"
    assert "h1.wp-block-whitehouse-topper__headline" in wh.extract.title


def test_a_source_overrides_its_preset():
    cfg = parse_config(
        '[sources.state-dept]\npreset = "state-dept"\nmax_items = 5\n'
        '[sources.state-dept.extract]\nbody = ["div.x"]\n'
    )
    src = cfg.source("state-dept")
    assert src.max_items == 5 and src.kind == "feed"
    assert src.extract.body == ("div.x",)
    assert src.extract.title == ("h1.featured-content__headline", "h1.report-header__headline")


def test_defaults_and_durations():
    cfg = parse_config(
        '[dipdiff]\ndelay = "2s"\n[schedule]\nmin_interval = "30m"\nmax_interval = "2d"\n'
    )
    assert cfg.fetch.delay == 2.0 and cfg.fetch.concurrency == 8
    assert cfg.schedule.min_interval == 1800 and cfg.schedule.max_interval == 172800
    assert (
        parse_duration("1w") == 604800
        and parse_duration("x") is None
        and parse_duration(True) is None
    )


def test_signals_add_tables_are_passed_through_and_nothing_else_is_accepted():
    cfg = parse_config('[[signals.add]]\nphrase = "gravely concerned"\n')
    assert cfg.signals == {"add": [{"phrase": "gravely concerned"}]}
    # Nothing reads [signals.concern]: accepting it would ignore the user without a word.
    with pytest.raises(ConfigError, match=r"unknown key 'concern' in \[signals\]"):
        parse_config('[signals.concern]\nphrases = ["gravely concerned"]\n')


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[sources.state-dept]\nkind = "listing"\nurl = "https://x.gov/"\nselectr = "li"\n',
            "cfg.toml: unknown key 'selectr' in [sources.state-dept]; did you mean 'selector'?",
        ),
        (
            "[dipdiff]\nconcurency = 3\n",
            "cfg.toml: unknown key 'concurency' in [dipdiff]; did you mean 'concurrency'?",
        ),
        (
            '[sources.a]\npreset = "state-dept"\n[sources.a.extract]\nbodyy = ["p"]\n',
            "cfg.toml: unknown key 'bodyy' in [sources.a.extract]; did you mean 'body'?",
        ),
        ('[sources.a]\npreset = "state-dep"\n', "did you mean 'state-dept'?"),
        (
            '[sources.a]\nkind = "feed"\nurl = "https://x.gov/"\nmax_items = "ten"\n',
            "cfg.toml: [sources.a]: 'max_items' must be a positive integer, not 'ten'",
        ),
        ('[sources.a]\nkind = "feed"\n', "cfg.toml: [sources.a]: missing key 'url'"),
        (
            '[sources.a]\nkind = "rss"\nurl = "https://x.gov/"\n',
            "'kind' must be one of feed, listing",
        ),
        (
            '[sources.a]\nkind = "listing"\nurl = "https://x.gov/"\nselector = "li[["\n',
            "[sources.a]: 'selector': bad CSS selector 'li[['",
        ),
        (
            '[sources.Bad_Name]\npreset = "state-dept"\n',
            "[sources.Bad_Name]: source names use lowercase",
        ),
        ('[dipdiff]\ndelay = "soon"\n', "[dipdiff]: 'delay' must be a duration"),
        ('[dipdiff]\nrobots = "yes"\n', "[dipdiff]: 'robots' must be a boolean, not 'yes'"),
        ("[dipdiff\n", "cfg.toml: invalid TOML"),
        ('[sources.a]\nkind = "feed"\nurl = "ftp://x.gov/"\n', "'url' must be an http(s) URL"),
    ],
)
def test_errors_are_one_line_and_name_file_table_and_key(text, expected):
    with pytest.raises(ConfigError) as e:
        parse_config(text, "cfg.toml")
    message = str(e.value)
    assert expected in message
    assert "\n" not in message and message.startswith("cfg.toml: ")


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "dipdiff.toml")


def test_unknown_source_name_is_suggested():
    cfg = parse_config('[sources.state-dept]\npreset = "state-dept"\n', "c.toml")
    with pytest.raises(ConfigError, match="did you mean 'state-dept'"):
        cfg.source("state-dep")
