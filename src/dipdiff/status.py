"""Exit statuses, and the one place where an exception that ends a command becomes one.

Statuses follow diff(1): 0 nothing different, 1 differences found (a redline, a divergence, a
new or changed statement), 2 trouble. Ctrl-C is 130, as for any program killed by SIGINT in a
shell (128 + 2), so that a script can tell "interrupted" from "failed".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from dipdiff.errors import DipdiffError


class ExitStatus(IntEnum):
    SUCCESS = 0  # no differences, nothing new, all well
    DIFFERENCES = 1
    TROUBLE = 2
    INTERRUPTED = 130

    @classmethod
    def found(cls, differences: object) -> ExitStatus:
        """DIFFERENCES when ``differences`` is truthy (changes, pairs, events), else SUCCESS."""
        return cls.DIFFERENCES if differences else cls.SUCCESS


@dataclass(frozen=True)
class Failure:
    """How a command that raised ends: its status and the one line it prints on stderr."""

    status: ExitStatus
    line: str
    internal: bool = (
        False  # a bug, not a condition of the input: DIPDIFF_DEBUG=1 shows its traceback
    )


def failure(exc: BaseException) -> Failure:
    """The status and message for ``exc``: every exception a command can end with maps here."""
    if isinstance(exc, DipdiffError):
        return Failure(ExitStatus.TROUBLE, _error(str(exc)))
    if isinstance(exc, KeyboardInterrupt):
        return Failure(ExitStatus.INTERRUPTED, "dipdiff: interrupted")
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return Failure(ExitStatus.TROUBLE, _error(f"{where}{exc.strerror or exc}"))
    return Failure(
        ExitStatus.TROUBLE,
        _error(
            f"internal error: {exc.__class__.__name__}: {exc} (set DIPDIFF_DEBUG=1 for a traceback)"
        ),
        internal=True,
    )


def _error(message: str) -> str:
    return "dipdiff: error: " + " ".join(message.split())
