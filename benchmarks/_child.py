"""One child process, measured: wall time, CPU time and peak RSS (of that child alone), for the
benchmarks that run dipdiff as a user would."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Figure:
    seconds: float
    cpu: float
    rss_mb: float
    code: int


def measured(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> Figure:
    """Wall time, CPU time and peak RSS of one child process (os.wait4: that child alone)."""
    started = time.perf_counter()
    with (cwd / ".out").open("wb") as out, (cwd / ".err").open("wb") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({code}): {(cwd / '.err').read_text()[-1500:]}")
    return Figure(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code)
