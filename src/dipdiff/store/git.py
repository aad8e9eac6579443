"""Committing a monitoring folder to git: ``dipdiff run --commit``.

Runs the ``git`` command through subprocess (no library: every CI image has git,
and its own error messages are what users search for). Failures become one-line
:class:`GitError` messages.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from dipdiff.errors import DipdiffError

# Used only when the repository has no identity configured (a fresh CI runner):
# commits are then signed as the bot that made them.
BOT_NAME = "dipdiff"
BOT_EMAIL = "dipdiff@localhost"


class GitError(DipdiffError):
    """git is missing, the folder is not a repository, or a git command failed."""


def _git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("git")
    if exe is None:
        raise GitError("git: not found on PATH (needed by --commit)")
    env = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}
    try:
        proc = subprocess.run(
            [exe, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"{cwd}: git {args[0]} timed out") from None
    except OSError as e:
        raise GitError(f"{cwd}: cannot run git ({e.strerror})") from None
    if check and proc.returncode != 0:
        reason = (
            proc.stderr.strip() or proc.stdout.strip() or f"exit {proc.returncode}"
        ).splitlines()
        raise GitError(f"{cwd}: git {args[0]} failed: {reason[-1] if reason else ''}")
    return proc


def repo_root(path: Path) -> Path:
    """The top of the git work tree containing ``path``; a one-line error if there is none."""
    folder = path if path.is_dir() else path.parent
    if not folder.is_dir():
        raise GitError(f"{path}: no such folder")
    proc = _git(folder, "rev-parse", "--show-toplevel", check=False)
    if proc.returncode != 0:
        raise GitError(f"{folder}: not a git repository (run `git init` there, or drop --commit)")
    return Path(proc.stdout.strip())


def commit_paths(path: Path, paths: Sequence[Path], message: str) -> str | None:
    """Stage ``paths`` (additions, edits, deletions) and commit them; returns the new commit's hash.

    Returns None when staging them changes nothing. Other staged changes are left
    out of the commit: only ``paths`` are committed.
    """
    root = repo_root(path)
    rel = [os.path.relpath(p.resolve(), root) for p in paths if p.exists()]
    if not rel:
        return None
    _git(root, "add", "--all", "--", *rel)
    if _git(root, "diff", "--cached", "--quiet", "--", *rel, check=False).returncode == 0:
        return None
    identity: list[str] = []
    if not _git(root, "config", "user.email", check=False).stdout.strip():
        identity = ["-c", f"user.name={BOT_NAME}", "-c", f"user.email={BOT_EMAIL}"]
    _git(root, *identity, "commit", "--quiet", "--no-verify", "-m", message, "--", *rel)
    return _git(root, "rev-parse", "HEAD").stdout.strip()


def has_uncommitted_versions(store_root: Path) -> bool:
    """Does the store hold version files git has not committed (a run died before its commit)?"""
    root = repo_root(store_root)
    rel = os.path.relpath(store_root.resolve(), root)
    proc = _git(root, "status", "--porcelain", "--untracked-files=all", "--", rel)
    for line in proc.stdout.splitlines():
        name = line[3:].strip().strip('"')
        if re.search(r"/\d{4}-\d{2}-\d{2}T\d{6}Z\.md$", name):
            return True
    return False
