"""dipdiff: watch what governments say.

Snapshot official statements, redline their silent edits, and compare what
different agencies said about the same event. The command line is a thin layer
over this library::

    import dipdiff

    diff = dipdiff.diff_statements(dipdiff.extract(old_html, url), dipdiff.extract(new_html, url))
    print(dipdiff.summary_line(diff))

Every public name is listed in ``__all__`` and loaded from its home module on
first use (PEP 562): ``import dipdiff`` alone imports nothing else, so that
``dipdiff --version`` answers in a few tens of milliseconds and a script that
only diffs never loads httpx.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# Type checkers and IDEs read the names from here; at run time __getattr__ below
# imports each from the module named in _HOMES. tests/core/test_api.py keeps the three
# lists (these imports, _HOMES, __all__) equal. Not `typing.TYPE_CHECKING`: importing typing
# would double the cost of `import dipdiff`, and type checkers honour this spelling too.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dipdiff.analyse.compare import ActorComparison, Comparison, compare
    from dipdiff.analyse.diff import Change, DiffResult, diff_statements, diff_texts
    from dipdiff.config import Config, load_config
    from dipdiff.errors import (
        ConfigError,
        DipdiffError,
        ExtractError,
        FetchError,
        InputError,
        LockError,
        RobotsDisallowed,
        StoreError,
    )
    from dipdiff.models import (
        Check,
        Divergence,
        Event,
        Outcome,
        Page,
        Quote,
        RunResult,
        SnapshotResult,
        StanceRow,
        Statement,
        StatementRef,
        Version,
        VersionRef,
    )
    from dipdiff.pipeline.crosscheck import find_divergences
    from dipdiff.pipeline.fetch import fetch_sources
    from dipdiff.pipeline.run import RunReport, run_monitor
    from dipdiff.pipeline.snapshot import import_file, snapshot_url
    from dipdiff.render.html import compare_html, diff_html
    from dipdiff.render.json import compare_json, diff_json
    from dipdiff.render.markdown import compare_markdown, diff_markdown
    from dipdiff.render.plain import diff_unified, summary_line
    from dipdiff.scrape.extract import extract
    from dipdiff.store.store import Store
    from dipdiff.store.verify import verify

_HOMES: dict[str, tuple[str, ...]] = {
    # The pipeline, one stage at a time.
    "dipdiff.scrape.extract": ("extract",),
    "dipdiff.analyse.diff": ("diff_statements", "diff_texts", "DiffResult", "Change"),
    "dipdiff.analyse.compare": ("compare", "Comparison", "ActorComparison"),
    "dipdiff.store.store": ("Store",),
    "dipdiff.store.verify": ("verify",),
    "dipdiff.config": ("load_config", "Config"),
    "dipdiff.pipeline.snapshot": ("snapshot_url", "import_file"),
    "dipdiff.pipeline.fetch": ("fetch_sources",),
    "dipdiff.pipeline.run": ("run_monitor", "RunReport"),
    "dipdiff.pipeline.crosscheck": ("find_divergences",),
    # Printing a result: one function per file format of `dipdiff diff` and `dipdiff compare`.
    "dipdiff.render.plain": ("summary_line", "diff_unified"),
    "dipdiff.render.markdown": ("diff_markdown", "compare_markdown"),
    "dipdiff.render.html": ("diff_html", "compare_html"),
    "dipdiff.render.json": ("diff_json", "compare_json"),
    "dipdiff.models": (
        "Statement",
        "Page",
        "Check",
        "Outcome",
        "Version",
        "VersionRef",
        "SnapshotResult",
        "RunResult",
        "StatementRef",
        "Event",
        "Divergence",
        "StanceRow",
        "Quote",
    ),
    "dipdiff.errors": (
        "DipdiffError",
        "ConfigError",
        "InputError",
        "FetchError",
        "RobotsDisallowed",
        "ExtractError",
        "StoreError",
        "LockError",
    ),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "extract",
    "diff_statements",
    "diff_texts",
    "DiffResult",
    "Change",
    "compare",
    "Comparison",
    "ActorComparison",
    "Store",
    "verify",
    "load_config",
    "Config",
    "snapshot_url",
    "import_file",
    "fetch_sources",
    "run_monitor",
    "RunReport",
    "find_divergences",
    "summary_line",
    "diff_unified",
    "diff_markdown",
    "compare_markdown",
    "diff_html",
    "compare_html",
    "diff_json",
    "compare_json",
    "Statement",
    "Page",
    "Check",
    "Outcome",
    "Version",
    "VersionRef",
    "SnapshotResult",
    "RunResult",
    "StatementRef",
    "Event",
    "Divergence",
    "StanceRow",
    "Quote",
    "DipdiffError",
    "ConfigError",
    "InputError",
    "FetchError",
    "RobotsDisallowed",
    "ExtractError",
    "StoreError",
    "LockError",
]


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'dipdiff' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
