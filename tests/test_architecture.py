"""The layering the README promises, checked on the source: a newcomer can trust module names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "src" / "dipdiff"
PURE = ("extract", "normalize", "diff", "signals", "compare", "discover", "report", "entities", "stance",
        "compare_report",
        "digest", "scaffold")
IO_MODULES = {"httpx", "typer", "rich", "dipdiff.fetch", "dipdiff.store", "dipdiff.service", "dipdiff.cli",
              "dipdiff.terminal", "subprocess", "socket", "shutil"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def _modules():
    return sorted(p for p in PKG.rglob("*.py"))


def _top(name: str) -> str:
    return name if name.startswith("dipdiff.") else name.split(".")[0]


@pytest.mark.parametrize("name", [n for n in PURE if (PKG / f"{n}.py").exists()])
def test_pure_modules_do_no_io(name):
    bad = {i for i in _imports(PKG / f"{name}.py") if _top(i) in IO_MODULES or i.split(".")[0] in IO_MODULES}
    assert not bad, f"{name}.py is pure but imports {sorted(bad)}"


def test_only_cli_imports_typer_and_only_fetch_imports_httpx():
    for path in _modules():
        imports = {i.split(".")[0] for i in _imports(path)}
        if "typer" in imports:
            assert path.name == "cli.py", f"{path.name} imports typer"
        if "httpx" in imports:
            assert path.name == "fetch.py", f"{path.name} imports httpx"
