"""`run --commit` when git gets in the way: a killed git command's lock, a detached HEAD, a
signing or hook failure. Real repositories, real `dipdiff` processes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dipdiff.store.store import Store
from dipdiff.store.verify import verify
from faultkit import FIGURES, ListingSite
from helpers import git, monitoring_folder

pytestmark = pytest.mark.slow  # real dipdiff processes and git repositories

CONFIG = (
    "[dipdiff]\nallow_private = true\ndelay = 0\nrobots = false\nretries = 0\n"
    '[sources.state-dept]\nkind = "listing"\nurl = "{url}"\n'
    'agency = "U.S. Department of State"\nselector = "li.item"\n'
)


@pytest.fixture
def monitored(tmp_path, server):
    site = ListingSite(server, pages=3)
    (tmp_path / "watch").mkdir()
    folder = monitoring_folder(tmp_path / "watch", CONFIG.format(url=server.url("/releases/")))
    git(folder, "config", "user.name", "t")
    git(folder, "config", "user.email", "t@example.org")
    return folder, site


def dipdiff(folder: Path, when: str, *, path: str | None = None, **kw) -> subprocess.Popen:
    env = {**os.environ, "DIPDIFF_NOW": when, "NO_COLOR": "1"}
    if path is not None:
        env["PATH"] = path
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "dipdiff", "--store", str(folder / "snapshots"), "run"),
            *("--config", str(folder / "dipdiff.toml"), "--commit"),
        ],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def finished(proc: subprocess.Popen) -> tuple[int, str]:
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def one_line(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dipdiff: error: "), err
    for n in needles:
        assert n in lines[0], err


@pytest.mark.parametrize("step", ["add", "commit"])
def test_a_run_killed_in_git_leaves_a_lock_the_next_run_clears(monitored, tmp_path, step):
    folder, site = monitored
    assert finished(dipdiff(folder, "2019-04-20T09:00:00Z"))[0] == 1
    # A git that holds index.lock for a while in `step`, as a real one does on a big repo.
    real = shutil.which("git")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    flag = tmp_path / "in-git"
    (bin_dir / "git").write_text(
        f'#!/bin/sh\nif [ "$1" = "{step}" ]; then\n'
        f'  touch "$("{real}" rev-parse --absolute-git-dir)/index.lock"; : > "{flag}"; sleep 60\n'
        f'fi\nexec "{real}" "$@"\n',
        encoding="utf-8",
    )
    (bin_dir / "git").chmod(0o755)
    site.edit(0, "without preconditions")
    proc = dipdiff(
        folder,
        "2019-04-21T09:00:00Z",
        path=f"{bin_dir}:{os.environ['PATH']}",
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not flag.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # cron's timeout, or a CI job cancelled
    proc.wait()
    lock = folder / ".git" / "index.lock"
    assert lock.exists()

    site.edit(1, "and to protect civilians")
    code, err = finished(dipdiff(folder, "2019-04-22T09:00:00Z"))
    assert code == 1, err
    assert not lock.exists() and git(folder, "status", "--porcelain", "snapshots") == ""
    message = git(folder, "log", "-1", "--format=%B")
    assert "statement-1-on-regional-talks" in message, message
    committed = git(folder, "log", "--name-only", "--format=", "-2")
    assert "2019-04-21T090000Z.md" in committed, committed  # the killed run's version too
    assert verify(Store(folder / "snapshots")) == []
    FIGURES["fault scenarios"] += 1
    FIGURES["damaged files tried"] += 1
    FIGURES["runs that went on"] += 1


def test_a_lock_of_a_git_command_someone_else_runs_is_named_not_removed(monitored):
    folder, _site = monitored
    lock = folder / ".git" / "index.lock"
    lock.write_bytes(b"")  # a `git commit` in another terminal, waiting for its editor
    code, err = finished(dipdiff(folder, "2019-04-20T09:00:00Z"))
    assert code == 2
    one_line(err, f"{lock}: exists", f"`rm {lock}`")
    assert lock.exists()
    assert len(Store(folder / "snapshots").statement_ids()) == 3  # recorded, not committed
    lock.unlink()  # what the message says to do
    code, err = finished(dipdiff(folder, "2019-04-20T10:00:00Z"))
    assert code == 1, err  # what the run that could not commit found is reported, and committed
    assert "3 new" in git(folder, "log", "-1", "--format=%s")
    assert git(folder, "status", "--porcelain", "snapshots") == ""
    FIGURES["fault scenarios"] += 1


def test_a_detached_head_is_refused_before_anything_is_fetched(monitored, server):
    folder, _site = monitored
    git(folder, "checkout", "-q", "--detach")
    head = git(folder, "rev-parse", "--short", "HEAD").strip()
    code, err = finished(dipdiff(folder, "2019-04-20T09:00:00Z"))
    assert code == 2
    one_line(err, "HEAD is detached", f"(at {head})", "git switch")
    assert server.hits("/releases/") == 0 and not (folder / "snapshots").exists()
    git(folder, "switch", "-q", "main")
    assert finished(dipdiff(folder, "2019-04-20T09:00:00Z"))[0] == 1
    FIGURES["fault scenarios"] += 1


def test_signing_and_hook_failures_show_gits_reason(monitored, tmp_path):
    folder, _site = monitored
    gpg = tmp_path / "gpg"
    gpg.write_text("#!/bin/sh\necho 'gpg: signing failed: No secret key' >&2\nexit 2\n")
    gpg.chmod(0o755)
    git(folder, "config", "commit.gpgsign", "true")
    git(folder, "config", "gpg.program", str(gpg))
    code, err = finished(dipdiff(folder, "2019-04-20T09:00:00Z"))
    assert code == 2
    one_line(err, "git commit failed", "gpg failed to sign the data")
    git(folder, "config", "--unset", "commit.gpgsign")

    hook = folder / ".git" / "hooks" / "reference-transaction"
    hook.write_text(
        '#!/bin/sh\n[ "$1" = prepared ] && { echo "main is frozen until Monday" >&2; exit 1; }\n'
        "exit 0\n"
    )
    hook.chmod(0o755)
    code, err = finished(dipdiff(folder, "2019-04-20T10:00:00Z"))
    assert code == 2
    one_line(err, "git commit failed", "main is frozen until Monday")
    hook.unlink()
    code, err = finished(dipdiff(folder, "2019-04-20T11:00:00Z"))
    assert code == 1, err
    assert "3 new" in git(folder, "log", "-1", "--format=%s")
    assert git(folder, "status", "--porcelain", "snapshots") == ""
    FIGURES["fault scenarios"] += 2
