"""``[notify]`` and ``[signals]`` in dipdiff.toml: each mistake is one line naming table and key."""

from __future__ import annotations

import pytest

from dipdiff.config import parse_config
from dipdiff.errors import ConfigError

SOURCE = '[sources.state-dept]\npreset = "state-dept"\n'
TARGET = '[notify.targets.news]\nurl = "json://127.0.0.1:9/"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[signals]\nadd = "oops"\n',
            "dipdiff.toml: [signals]: 'add' must be a list of tables, not 'oops'",
        ),
        ("[signals]\nadds = []\n", "unknown key 'adds' in [signals]; did you mean 'add'?"),
        (TARGET + 'kinds = ["edit"]\n', "'kinds' must be one of edits, new, removals, restores, "),
        (TARGET + 'kinds = ["restore"]\n', "not 'restore'; did you mean 'restores'?"),
        (TARGET + 'digest = "dayly"\n', "not 'dayly'; did you mean 'daily'?"),
        (TARGET + 'min_significance = "big"\n', "'min_significance' must be one of cosmetic"),
        (TARGET + 'sources = ["state-dpt"]\n', "no source 'state-dpt' in [sources]; did you mean"),
        (TARGET + 'urls = ["x"]\n', "unknown key 'urls' in [notify.targets.news]; did you mean"),
        ("[notify.targets.news]\nkinds = []\n", "give 'url' (one or more Apprise URLs) or 'tag'"),
        ('[notify.targets.news]\nurl = "slack"\n', "'url' 'slack' is not an Apprise URL"),
        ('[notify.targets.news]\ntag = "desk"\n', "'tag' needs an Apprise config file"),
        ('[notify]\nconfig = "apprise.yml"\n', "'config' has no effect without a [notify.targets"),
        (
            '[site]\nbase_url = "_site/"\n',
            "[site]: 'base_url' must be an http(s) URL, not '_site/'",
        ),
        ('[notify]\nreport_url = "https://x/"\n', "unknown key 'report_url' in [notify]"),
        ("[site]\nbaseurl = 1\n", "unknown key 'baseurl' in [site]; did you mean 'base_url'?"),
    ],
)
def test_a_bad_notify_or_signals_table_is_one_line_naming_it(text, message):
    with pytest.raises(ConfigError) as e:
        parse_config(SOURCE + text)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_targets_and_their_rules_load():
    cfg = parse_config(
        SOURCE + TARGET + 'min_significance = "substantive"\nsources = ["state-dept"]\n'
        'digest = "daily"\n[notify.targets.all]\nurl = ["json://127.0.0.1:9/a", "https://x/"]\n'
    )
    news, every = cfg.notify.targets
    assert (news.name, news.min_significance, news.sources, news.digest) == (
        "news",
        "substantive",
        ("state-dept",),
        "daily",
    )
    assert every.urls == ("json://127.0.0.1:9/a", "https://x/")
    assert every.kinds == ("edits", "new", "removals", "restores", "moves", "divergences")
