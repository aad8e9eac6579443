"""Shell completion of statement IDs and source names (``dipdiff --install-completion``).

The shell asks on every Tab, so these read as little as they can: the store's folder listing
for IDs (a statement's versions only once its ID is typed whole, for ``ID@N``), the names of
``dipdiff.toml``'s sources without validating the rest. A store or a config that cannot be
read completes nothing: a Tab never prints an error into the command line being typed.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from dipdiff.errors import DipdiffError

if TYPE_CHECKING:
    from dipdiff.store.store import Store


def _option(ctx: typer.Context, name: str, default: Path) -> Path:
    """The value given to ``--name`` on this command or an enclosing one (or its default)."""
    here: Any = ctx  # typer's Context, then click's: both have params and parent
    while here is not None:
        value = here.params.get(name)
        if value is not None:
            return Path(value)
        here = here.parent
    return default


def _store(ctx: typer.Context) -> Store:
    from dipdiff.store.store import Store  # lazy: only when the shell asks

    return Store(_option(ctx, "store", Path("snapshots")))


def statement_ids(ctx: typer.Context, incomplete: str) -> list[str]:
    """IDs that begin with what is typed; after ``ID@``, that statement's versions."""
    from dipdiff.store.lookup import ids_beginning  # lazy: only when the shell asks

    store = _store(ctx)
    try:
        if "@" in incomplete:
            sid = incomplete.split("@", 1)[0]
            numbers = [ref.number for ref in store.versions(sid)]
            return [f"{sid}@{n}" for n in numbers if f"{sid}@{n}".startswith(incomplete)]
        return ids_beginning(store, incomplete)
    except (DipdiffError, OSError):
        return []


def source_names(ctx: typer.Context, incomplete: str) -> list[str]:
    """Configured sources, then the built-in presets and the store's sources, as typed."""
    import tomllib  # lazy: only when the shell asks (commands import this module at start-up)

    from dipdiff.config import preset_names  # lazy: only when the shell asks
    from dipdiff.store.lookup import ids_beginning  # lazy: as above

    names: list[str] = []
    try:
        with _option(ctx, "config", Path("dipdiff.toml")).open("rb") as f:
            names += list(tomllib.load(f).get("sources", {}))
    except (OSError, tomllib.TOMLDecodeError, AttributeError):
        pass  # no config, or not one: the presets and the store still answer
    names += preset_names()
    with contextlib.suppress(DipdiffError, OSError):
        names += [sid.split("/", 1)[0] for sid in ids_beginning(_store(ctx), "")]
    return [n for n in dict.fromkeys(names) if n.startswith(incomplete)]
