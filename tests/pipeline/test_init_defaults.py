"""`dipdiff init` writes the defaults the README documents, written the same way."""

from __future__ import annotations

import re

from dipdiff.pipeline.init import config_template
from helpers import README


def _values(text: str, table: str) -> dict[str, str]:
    body = text.split(f"[{table}]", 1)[1].split("\n\n", 1)[0]
    found = re.findall(r"^#? ?(\w+) = (\S+)", body, re.MULTILINE)
    return dict(found)


def test_the_schedule_defaults_in_the_template_are_the_readmes():
    readme = _values(README.read_text(encoding="utf-8"), "schedule")
    template = _values(config_template(), "schedule")
    assert readme["flap_window"] == '"72h"'
    assert template == readme
