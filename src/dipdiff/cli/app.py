"""The ``dipdiff`` typer application: every command module of this package, on one app."""

from __future__ import annotations

# Importing a command module registers its commands on ``app`` (typer decorators).
from dipdiff.cli import archive, browse, compare, diff, monitor, publish, record, setup  # noqa: F401 - help lists them in this order
from dipdiff.cli.base import app

__all__ = ["app"]
