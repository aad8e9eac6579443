"""The layering the README promises, checked on the source with ``ast``, so that it cannot rot.

    core (models, errors, status, clock, text, config)
      <- analyse, scrape          (siblings: neither imports the other)
      <- store
      <- render
      <- pipeline
      <- cli

A module imports only from its own package or from layers below it; the import graph has no cycles;
imports sit at the top of a module except in ``cli/`` and where a comment on the line says why
(``# lazy: ...``, for start-up time); and each outside library lives in one obvious place.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import SRC

PKG = SRC

CORE = {
    "dipdiff",
    "dipdiff.models",
    "dipdiff.errors",
    "dipdiff.status",
    "dipdiff.clock",
    "dipdiff.text",
    "dipdiff.config",
    "dipdiff.langmodel",
}
RANK = {"core": 0, "analyse": 1, "scrape": 1, "store": 2, "render": 3, "pipeline": 4, "cli": 5}
# Outside libraries, and the only modules that may import them.
HOMES = {
    "typer": ("dipdiff.cli",),
    "httpx": ("dipdiff.scrape.http",),
    "httpcore": ("dipdiff.scrape.net",),
    "apprise": ("dipdiff.scrape.notifiers",),
    "rich": ("dipdiff.render.terminal", "dipdiff.cli"),
    # git, and the user's $PAGER for long output on a terminal
    "subprocess": ("dipdiff.store.git", "dipdiff.cli.pager"),
    "fcntl": ("dipdiff.store.", "dipdiff.langmodel"),
    "jinja2": ("dipdiff.render.site",),
    "markupsafe": ("dipdiff.render.site",),
    "sqlite_utils": ("dipdiff.pipeline.export",),
}
# Pure code: text in, results out. No network, no terminal, no filesystem writes, no processes.
PURE = (
    "dipdiff.analyse.",
    "dipdiff.scrape.extract",
    "dipdiff.scrape.discover",
    "dipdiff.render.",
    "dipdiff.text",
    "dipdiff.models",
)
IMPURE = {
    "httpx",
    "typer",
    "rich",
    "subprocess",
    "socket",
    "shutil",
    "tempfile",
    "fcntl",
    "os",
    "dipdiff.store",
    "dipdiff.pipeline",
    "dipdiff.cli",
    "dipdiff.scrape.http",
}
ALLOWED_IMPURE = {
    "dipdiff.render.terminal": {"rich", "os"}
}  # the terminal is output, by definition


def module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def layer(module: str) -> str:
    if module in CORE:
        return "core"
    if module == "dipdiff.__main__":  # `python -m dipdiff` is the command line
        return "cli"
    return module.split(".")[1]


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(path: Path) -> Iterator[tuple[str, ast.stmt, bool]]:
    """(imported module or dipdiff module.name, node, at top level) for each import.

    Imports under ``if TYPE_CHECKING:`` are left out.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if _type_checking(node):
            skip |= {id(n) for n in ast.walk(node)}
    top = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, node, id(node) in top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module == "dipdiff":
                for a in node.names:  # `from dipdiff import x`: the package, or its submodule x
                    sub = f"dipdiff.{a.name}"
                    yield (sub if sub in MODULES else "dipdiff"), node, id(node) in top
            else:
                for a in node.names:
                    sub = f"{node.module}.{a.name}"
                    yield (sub if sub in MODULES else node.module), node, id(node) in top


def dipdiff_target(name: str) -> str | None:
    """The dipdiff module an import names (a module, or the module holding the imported name)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_downwards(module):
    here = layer(module)
    for name, node, _ in imports(MODULES[module]):
        if not name.startswith("dipdiff"):
            continue
        target = dipdiff_target(name)
        if target is None or target == module:
            continue
        there = layer(target)
        if there == here:
            continue
        assert RANK[there] < RANK[here], (
            f"{module} (layer {here}) imports {target} (layer {there}) on line {node.lineno}: "
            "dependencies run core <- analyse, scrape <- store <- render <- pipeline <- cli"
        )


def test_no_import_cycles():
    graph = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for name, _, _ in imports(path):
            target = dipdiff_target(name) if name.startswith("dipdiff") else None
            if target and target not in (module, "dipdiff"):
                graph[module].add(target)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycle = [*stack[stack.index(n) :], n]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "dipdiff"))
def test_the_package_imports_public_names_from_their_homes(module):
    """`from dipdiff import Store` inside the package would hide an upward import behind the
    lazy facade."""
    for name, node, _ in imports(MODULES[module]):
        if name == "dipdiff" and isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names]
            assert names == ["__version__"], (
                f"{module} line {node.lineno} imports {', '.join(names)} from the dipdiff facade; "
                "import it from its own module"
            )


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.startswith("dipdiff.cli")))
def test_imports_at_the_top_unless_lazy_for_a_reason(module):
    path = MODULES[module]
    lines = path.read_text(encoding="utf-8").split("\n")
    for _, node, top in imports(path):
        if not top:
            line = lines[node.lineno - 1]
            assert "# lazy:" in line, (
                f"{module} line {node.lineno} imports inside a function without a '# lazy: <why>' "
                f"comment"
            )


@pytest.mark.parametrize("library", sorted(HOMES))
def test_each_library_has_one_home(library):
    for module, path in MODULES.items():
        if any(name.split(".")[0] == library for name, _, _ in imports(path)):
            assert module.startswith(HOMES[library]), (
                f"{module} imports {library}; only {HOMES[library]} may"
            )


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith(PURE) or m in PURE))
def test_pure_modules_do_no_io(module):
    allowed = ALLOWED_IMPURE.get(module, set())
    for name, node, _ in imports(MODULES[module]):
        top = name.split(".")[0]
        bad = {top, name, dipdiff_target(name) or ""} & IMPURE
        bad |= {i for i in IMPURE if i.startswith("dipdiff.") and name.startswith(i)}
        assert not (bad - allowed), f"{module} is pure but imports {name} (line {node.lineno})"


def test_the_rules_see_the_whole_package():
    """The checks above are only as good as their view of the package: make sure it is complete."""
    assert {layer(m) for m in MODULES} == set(RANK)
    assert "dipdiff.scrape.http" in MODULES and "dipdiff.cli.app" in MODULES
    assert any(name == "httpx" for name, _, _ in imports(MODULES["dipdiff.scrape.http"]))
