"""`dipdiff config check`: the whole config validated without fetching; a key without effect is an
error, named on one line."""

from __future__ import annotations

import pytest

GOOD = (
    '[sources.state-dept]\npreset = "state-dept"\n'
    '[sources.ministry]\nkind = "listing"\nurl = "https://www.example.gov/news/"\n'
    'selector = "li.news-item"\n'
    '[[signals.add]]\nphrase = "gravely concerned"\npolarity = "critical"\n'
    '[notify.targets.desk]\nurl = "json://127.0.0.1:9/desk"\ndigest = "daily"\n'
)


def test_a_good_config_is_ok_and_nothing_is_fetched(cli, tmp_path, server):
    config = tmp_path / "dipdiff.toml"
    config.write_text(GOOD.replace("https://www.example.gov", server.url("")), encoding="utf-8")
    r = cli("config", "check", "--config", str(config))
    assert r.exit_code == 0, r.output
    assert r.output == (
        f"{config}: ok: 2 source(s) (state-dept, ministry), 1 notify target(s), 1 signal(s) added\n"
    )
    assert server.posted == [] and not (tmp_path / "snapshots").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[signals]\nadd = "oops"\n', "[signals]: 'add' must be a list of tables, not 'oops'"),
        ("[[signals.add]]\npolarity = 'critical'\n", "'phrase' must be a non-empty string"),
        (
            '[sources.feed]\nkind = "feed"\nurl = "https://x.gov/feed/"\nselector = "li"\n',
            "[sources.feed]: 'selector' has no effect on a feed source (only on listing sources)",
        ),
        (
            '[sources.api]\nkind = "json"\nurl = "https://x.gov/api"\nfull_text = true\n',
            "[sources.api]: 'full_text' has no effect on a json source (only on feed sources)",
        ),
        (
            '[sources.wh]\npreset = "white-house"\nitems = "results"\n',
            "[sources.wh]: 'items' has no effect on a listing source (only on json sources)",
        ),
        (
            '[notify.targets.chat]\nurl = "nosuchservice://secret-token"\n',
            "[notify.targets.chat]: Apprise does not know the URL 'nosuchservice://…'",
        ),
        ("[schedule]\nflap_windw = '1h'\n", "unknown key 'flap_windw' in [schedule]; did you mean"),
    ],
)
def test_an_unknown_or_ineffective_key_is_one_line_and_exit_2(cli, tmp_path, extra, message):
    config = tmp_path / "dipdiff.toml"
    config.write_text('[sources.state-dept]\npreset = "state-dept"\n' + extra, encoding="utf-8")
    r = cli("config", "check", "--config", str(config))
    assert r.exit_code == 2, r.output
    (line,) = r.output.splitlines()
    assert line.startswith(f"dipdiff: error: {config}: "), line
    assert message in line
    assert "secret-token" not in line
