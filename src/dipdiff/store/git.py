"""Committing a monitoring folder to git: ``dipdiff run --commit``.

Runs the ``git`` command through subprocess (no library: every CI image has git,
and its own error messages are what users search for). Failures become one-line
:class:`GitError` messages that keep git's own reason (a gpg or hook failure says why).

A dipdiff process killed while its ``git add`` or ``git commit`` runs leaves git's
``index.lock``, and every later git command fails on it. So that the next run can tell that lock
from one of a git command someone is running now, dipdiff writes ``dipdiff-git.pid`` (its pid)
into the git directory for the time of its git commands: a lock that was there before the
marker's process died is cleared; any other is named, with the command to run.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

from dipdiff.errors import DipdiffError

# Used only when the repository has no identity configured (a fresh CI runner):
# commits are then signed as the bot that made them.
BOT_NAME = "dipdiff"
BOT_EMAIL = "dipdiff@localhost"
MARKER = "dipdiff-git.pid"  # in the git directory, while dipdiff's git commands run


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
        raise GitError(f"{cwd}: git {args[0]} failed: {_reason(proc)}")
    return proc


def _reason(proc: subprocess.CompletedProcess[str]) -> str:
    """git's own words, on one line: a gpg or hook failure says why before git's last line
    (``fatal: failed to write commit object``) says what."""
    lines = [ln.strip() for ln in (proc.stderr or proc.stdout or "").splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith("hint:")] or lines
    return "; ".join(lines[-6:]) if lines else f"exit {proc.returncode}"


def _identity(root: Path) -> list[str]:
    """The bot's name for a commit when the repository has no identity configured."""
    if _git(root, "config", "user.email", check=False).stdout.strip():
        return []
    return ["-c", f"user.name={BOT_NAME}", "-c", f"user.email={BOT_EMAIL}"]


def repo_root(path: Path) -> Path:
    """The top of the git work tree containing ``path``; a one-line error if there is none."""
    folder = path if path.is_dir() else path.parent
    if not folder.is_dir():
        raise GitError(f"{path}: no such folder")
    proc = _git(folder, "rev-parse", "--show-toplevel", check=False)
    if proc.returncode != 0:
        raise GitError(f"{folder}: not a git repository (run `git init` there, or drop --commit)")
    return Path(proc.stdout.strip())


def check_branch(path: Path) -> None:
    """Refuse a detached HEAD: a commit there is lost by the next checkout of a branch."""
    root = repo_root(path)
    if _git(root, "symbolic-ref", "-q", "HEAD", check=False).returncode == 0:
        return
    head = _git(root, "rev-parse", "--short", "HEAD", check=False).stdout.strip() or "no commit"
    raise GitError(
        f"{root}: HEAD is detached (at {head}); --commit would commit where the next checkout "
        "loses it: check out a branch first (`git switch <branch>`)"
    )


@contextlib.contextmanager
def _dipdiff_git(root: Path) -> Iterator[None]:
    """Mark the git directory as used by this process while its git commands run; clear a
    lock that a killed dipdiff git command left."""
    git_dir = Path(_git(root, "rev-parse", "--absolute-git-dir").stdout.strip())
    marker, lock = git_dir / MARKER, git_dir / "index.lock"
    if lock.exists():
        if not _left_by_dead_dipdiff(marker, lock):
            raise GitError(
                f"{lock}: exists: a git command is running in {root}, or one was killed; "
                f"if none is running, remove it: `rm {lock}`"
            )
        lock.unlink(missing_ok=True)
    marker.write_text(f"{os.getpid()}\n", encoding="utf-8")
    try:
        yield
    finally:
        marker.unlink(missing_ok=True)


def _left_by_dead_dipdiff(marker: Path, lock: Path) -> bool:
    try:
        pid = int(marker.read_text(encoding="utf-8").strip())
        if lock.stat().st_mtime < marker.stat().st_mtime:
            return False  # the lock was there before that dipdiff began: not its git's
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def commit_paths(
    path: Path, paths: Sequence[Path], message: str, *, leave: Sequence[Path] = ()
) -> str | None:
    """Stage ``paths`` (additions, edits, deletions) and commit them; returns the new commit's hash.

    Returns None when staging them changes nothing. Other staged changes are left
    out of the commit: only ``paths`` are committed, and of them not the files ``leave``.
    """
    root = repo_root(path)
    rel = [os.path.relpath(p.resolve(), root) for p in paths if p.exists()]
    if not rel:
        return None
    # Files left out (damaged ones): committing them would make `git checkout` restore the damage.
    rel += [f":(exclude){os.path.relpath(p.parent.resolve() / p.name, root)}" for p in leave]
    with _dipdiff_git(root):
        _git(root, "add", "--all", "--", *rel)
        if _git(root, "diff", "--cached", "--quiet", "--", *rel, check=False).returncode == 0:
            return None
        _git(root, *_identity(root), "commit", "--quiet", "--no-verify", "-m", message, "--", *rel)
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


def merge_refs(path: Path, refs: Sequence[str]) -> str | None:
    """Merge ``refs`` (the shards' branches) into the checked-out branch in one commit.

    Returns the new HEAD, or None when every ref was already merged. A merge that
    conflicts is aborted, leaving the work tree as it was, and named in one line.
    """
    root = repo_root(path)
    before = _git(root, "rev-parse", "HEAD").stdout.strip()
    proc = _git(root, *_identity(root), "merge", "--quiet", "--no-edit", *refs, check=False)
    if proc.returncode != 0:
        _git(root, "merge", "--abort", check=False)
        raise GitError(f"{root}: git merge {' '.join(refs)} failed: {_reason(proc)}")
    after = _git(root, "rev-parse", "HEAD").stdout.strip()
    return after if after != before else None
