"""``meta.json``: a statement's identity and its check history, one check per line."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StatementMeta:
    """The contents of ``meta.json``. Field order here is the order on disk."""

    id: str
    source: str
    url: str
    title: str = ""
    agency: str = ""
    published: str | None = None
    guid: str | None = None
    previous_urls: list[str] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> str:
        """Indented JSON with one check per line: one line per check in ``git diff``, and
        fast (the C encoder; ``indent`` would force json's pure-Python one on 1,000 checks)."""
        head = {f: getattr(self, f) for f in self.__dataclass_fields__ if f != "checks"}
        lines = [
            f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()
        ]
        checks = [json.dumps(c, ensure_ascii=False, separators=(", ", ": ")) for c in self.checks]
        body = ",\n    ".join(checks)
        lines.append(f'  "checks": [\n    {body}\n  ]' if checks else '  "checks": []')
        return "{\n" + "\n".join(lines) + "\n}\n"
