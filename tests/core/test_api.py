"""`import dipdiff` is the library: every name in `__all__`, loaded on first use, typed.

Each test runs in a fresh interpreter, because this test session has long since imported the
modules whose absence is the point.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import dipdiff

INIT = Path(dipdiff.__file__)


def run_python(code: str) -> str:
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _type_checking_imports() -> dict[str, str]:
    """name -> module, from the `if TYPE_CHECKING:` block of dipdiff/__init__.py."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    block = next(
        n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"
    )
    return {
        a.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for a in node.names
        if node.module.startswith("dipdiff")
    }


def test_all_names_the_surface_the_issue_asks_for():
    assert {
        "Store",
        "load_config",
        "extract",
        "diff_statements",
        "compare",
        "snapshot_url",
        "fetch_sources",
        "run_monitor",
        "Statement",
        "Outcome",
        "DipdiffError",
        "diff_markdown",
        "diff_json",
    } <= set(dipdiff.__all__)
    assert len(set(dipdiff.__all__)) == len(dipdiff.__all__), "a name listed twice in __all__"


def test_type_checkers_see_exactly_the_names_of_all_from_their_homes():
    seen = _type_checking_imports()
    assert sorted(seen) == sorted(dipdiff.__all__)
    assert (
        seen == dipdiff._HOME_OF
    )  # the lazy loader looks each name up where the type checker does


def test_each_name_is_the_object_of_its_home_module():
    for name in dipdiff.__all__:
        obj = getattr(dipdiff, name)
        home = sys.modules[dipdiff._HOME_OF[name]]
        assert obj is getattr(home, name), name
        # Defined there, not re-exported from elsewhere: the home is where a reader looks it up.
        assert getattr(obj, "__module__", home.__name__) == home.__name__, (
            f"{name} is defined in {obj.__module__}"
        )


def test_import_dipdiff_loads_nothing_until_a_name_is_used():
    out = run_python(
        "import sys, json, dipdiff; before = sorted(m for m in sys.modules if "
        "m.startswith('dipdiff'));dipdiff.diff_texts; print(json.dumps([before, "
        "'dipdiff.analyse.diff' in sys.modules, 'dipdiff.pipeline.fetch' in sys.modules]))"
    )
    before, diff_loaded, fetch_loaded = json.loads(out)
    assert before == ["dipdiff"]
    assert diff_loaded and not fetch_loaded


def test_dir_lists_every_public_name_before_any_is_loaded():
    names = json.loads(run_python("import json, dipdiff; print(json.dumps(dir(dipdiff)))"))
    assert set(dipdiff.__all__) <= set(names)
    assert "__version__" in names and names == sorted(names)


def test_star_import_binds_every_name_of_all():
    out = run_python(
        "from dipdiff import *\nimport json, dipdiff\n"
        "print(json.dumps(sorted(n for n in dipdiff.__all__ if globals().get(n) is "
        "getattr(dipdiff, n))))"
    )
    assert json.loads(out) == sorted(dipdiff.__all__)


def test_an_unknown_name_is_an_attribute_error_naming_it():
    out = run_python(
        "import dipdiff\ntry:\n    dipdiff.diff_statement\n"
        "except AttributeError as e:\n    print(e)\n"
        "print(hasattr(dipdiff, 'nope'))"
    )
    assert out.splitlines() == ["module 'dipdiff' has no attribute 'diff_statement'", "False"]


def test_the_library_works_without_the_command_line():
    """Diffing and rendering from Python imports neither typer nor rich."""
    out = run_python(
        "import sys, dipdiff\n"
        "r = dipdiff.diff_texts('We urge a halt.', 'We call for a halt.')\n"
        "print(dipdiff.summary_line(r)); print(dipdiff.diff_markdown(r).count('<del>urge</del>'))\n"
        "print(sorted(m for m in ('typer', 'rich', 'httpx', 'dipdiff.cli') if m in sys.modules))"
    )
    summary, dels, heavy = out.splitlines()
    assert summary.startswith("1 change") and "similarity" in summary
    assert dels == "1" and heavy == "[]"
