"""The README's examples are real: its transcripts are what the commands print, and its Python runs.

A ``console`` block with ``$ `` lines is a transcript. Each one is either run here — its commands in
one bash shell, as real subprocesses, in a fresh folder prepared the way the README describes
(``SETUPS``) — and must print exactly what the README shows, or it is listed in ``UNCHECKED``
with the reason it cannot be reproduced offline. A transcript that is in neither fails
``test_every_transcript_is_checked_or_excused``, so none can drift unnoticed.

How a transcript is read: ``$ cat FILE`` followed by text shows an input, and the test writes FILE
with that text before running the block; a line ``…`` stands for any number of lines left out; the
port of the local server is ignored. Commands see ``NO_COLOR=1`` and a terminal 200 columns wide.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest

from dipdiff.config import parse_config
from helpers import README as README_PATH

README = README_PATH.read_text(encoding="utf-8")
BIN = Path(sys.executable).parent
MARKER = "@@dipdiff-readme-step@@"
ELLIPSIS = "…"


@dataclass(frozen=True)
class Block:
    lang: str
    line: int  # of the opening fence, 1-based
    text: str  # dedented to the fence's indentation


def fenced_blocks(text: str) -> list[Block]:
    out: list[Block] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^( *)```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        indent, lang, start = len(m.group(1)), m.group(2), i
        body = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
            i += 1
        out.append(Block(lang, start + 1, "\n".join(body)))
        i += 1
    return out


@dataclass(frozen=True)
class Step:
    command: str
    output: tuple[str, ...]


@dataclass(frozen=True)
class Transcript:
    line: int
    steps: tuple[Step, ...]

    @property
    def key(self) -> str:
        """The first command without its comment: how SETUPS and UNCHECKED name a transcript."""
        return " ".join(re.sub(r"\s#.*$", "", self.steps[0].command).split())


def transcripts() -> list[Transcript]:
    found = []
    for b in fenced_blocks(README):
        lines = b.text.split("\n")
        if b.lang != "console" or not lines[0].startswith("$ "):
            continue
        steps: list[Step] = []
        for line in lines:
            if line.startswith("$ "):
                steps.append(Step(line[2:], ()))
            else:
                steps[-1] = Step(steps[-1].command, (*steps[-1].output, line))
        found.append(Transcript(b.line, tuple(steps)))
    return found


# -- the folders the README's transcripts run in ----------------------------------------------

Setup = Callable[
    [Path, Path], Path
]  # (an empty folder, a finished `dipdiff demo` folder) -> where to run


def empty_folder(folder: Path, demo: Path) -> Path:
    return folder


def the_demo_folder(folder: Path, demo: Path) -> Path:
    """Where `dipdiff demo` left its store: `cd dipdiff-demo`."""
    return Path(shutil.copytree(demo, folder / "dipdiff-demo"))


def the_demo_pages(folder: Path, demo: Path) -> Path:
    """The sample pages the demo serves (src/dipdiff/data/demo/)."""
    for page in resources.files("dipdiff").joinpath("data", "demo").iterdir():
        if page.name.endswith(".html"):
            (folder / page.name).write_bytes(page.read_bytes())
    return folder


def an_init_folder(folder: Path, demo: Path) -> Path:
    shell("dipdiff init watch >/dev/null", folder)
    return folder / "watch"


def the_config_example_with_a_typo(folder: Path, demo: Path) -> Path:
    """The README's own dipdiff.toml, with `selector` misspelt."""
    text, n = re.subn(r"^selector =", "selectr =", config_example(), flags=re.MULTILINE)
    assert n == 1, "the README's config example no longer has one `selector =` line"
    (folder / "dipdiff.toml").write_text(text, encoding="utf-8")
    return folder


def a_hand_edited_demo_store(folder: Path, demo: Path) -> Path:
    """The demo's store after a hand edit of version 1 and deleting version 2."""
    cwd = the_demo_folder(folder, demo)
    versions = sorted((cwd / "snapshots" / "state-dept" / "the-situation-in-libya").glob("*.md"))
    assert len(versions) == 2, versions
    first = versions[0].read_text(encoding="utf-8")
    versions[0].write_text(first.replace("deeply concerned", "very concerned", 1), encoding="utf-8")
    versions[1].unlink()
    return cwd


SETUPS: dict[str, Setup] = {
    "dipdiff demo": empty_folder,
    "cat before.txt": empty_folder,
    "cat en.txt": empty_folder,  # needs the multilingual extra, which the test extra installs
    "cat paris.txt": empty_folder,
    (
        "dipdiff diff whitehouse-haftar.day1.html whitehouse-haftar.day2.html | tail -1"
    ): the_demo_pages,
    (
        "dipdiff compare state-dept/the-situation-in-libya@1 "
        "white-house/statement-from-the-press-secretary-libya"
    ): the_demo_folder,
    "dipdiff related state-dept/the-situation-in-libya": the_demo_folder,
    "dipdiff divergences": the_demo_folder,
    "dipdiff init watch": empty_folder,
    "dipdiff sources": an_init_folder,
    "dipdiff fetch": the_config_example_with_a_typo,
    "dipdiff report": the_demo_folder,
    "dipdiff site site --window 14d": the_demo_folder,
    "dipdiff export sqlite dipdiff.db --window 14d": the_demo_folder,
    "dipdiff --store snapshots verify": a_hand_edited_demo_store,
}

UNCHECKED = {
    "cd watch && dipdiff fetch": (
        "reads the live State Department feed (recorded against its saved history)"
    ),
    "dipdiff run --commit": (
        "fetches the configured sources, and commit hashes depend on the time of the commit"
    ),
    (
        "dipdiff backfill https://www.fema.gov/hurricane-maria --archive http://127.0.0.1:8750 "
        "--to 2017-12-31"
    ): (
        "needs the local archive of tests/archive.py serving the corpus's FEMA pages; "
        "tests/scenarios/test_backfill.py runs the same backfill and checks these counts"
    ),
    "python benchmarks/bench_diff.py": "timings",
    "python benchmarks/fault_summary.py --quick": "timings",
}


# -- running them -----------------------------------------------------------------------------


def shell_env() -> dict[str, str]:
    # The suite's language cache stays (conftest.py): the transcripts never write into the home.
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("DIPDIFF_") or k == "DIPDIFF_CACHE"
    }
    # Unbuffered, so that stderr lines come where a terminal would show them.
    env.update(
        NO_COLOR="1",
        COLUMNS="200",
        PYTHONUNBUFFERED="1",
        PYTHONIOENCODING="utf-8",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def shell(script: str, cwd: Path) -> str:
    r = subprocess.run(
        ["bash", "-c", "exec 2>&1\n" + script],
        cwd=cwd,
        env=shell_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )
    return r.stdout


def normalise(lines: list[str] | tuple[str, ...]) -> list[str]:
    out = [re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", line).rstrip() for line in lines]
    while out and not out[-1]:
        out.pop()
    return out


def fits(expected: list[str], actual: list[str]) -> bool:
    """``expected`` equals ``actual``, where a line ``…`` in ``expected`` stands for any lines."""
    parts: list[list[str]] = [[]]
    for line in expected:
        if line.strip() == ELLIPSIS:
            parts.append([])
        else:
            parts[-1].append(line)
    if len(parts) == 1:
        return expected == actual
    first, *middle, last = parts
    start, end = len(first), len(actual) - len(last)
    if actual[:start] != first or end < start or actual[end:] != last:
        return False
    for part in middle:
        window = actual[start:end]
        at = next(
            (i for i in range(len(window) - len(part) + 1) if window[i : i + len(part)] == part),
            None,
        )
        if at is None:
            return False
        start += at + len(part)
    return True


def run_transcript(t: Transcript, cwd: Path) -> list[list[str]]:
    for step in t.steps:
        words = step.command.split()
        if len(words) == 2 and words[0] == "cat":
            (cwd / words[1]).write_text("\n".join(step.output) + "\n", encoding="utf-8")
    script = "".join(f"printf '\\n{MARKER}\\n'\n{s.command}\n" for s in t.steps)
    out = shell(script, cwd)
    return [normalise(part.split("\n")) for part in out.split(f"\n{MARKER}\n")[1:]]


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    out = shell("dipdiff demo", folder)
    assert (folder / "dipdiff-demo" / "snapshots").is_dir(), out
    return folder / "dipdiff-demo"


def test_every_transcript_is_checked_or_excused():
    keys = {t.key: t.line for t in transcripts()}
    new = {k: line for k, line in keys.items() if k not in SETUPS and k not in UNCHECKED}
    assert not new, (
        f"README transcripts neither in SETUPS nor in UNCHECKED (line: first command): {new}"
    )
    stale = (set(SETUPS) | set(UNCHECKED)) - set(keys)
    assert not stale, f"no README transcript starts with: {sorted(stale)}"


CHECKED = [t for t in transcripts() if t.key in SETUPS]


@pytest.mark.parametrize("t", CHECKED, ids=[t.key for t in CHECKED])
def test_transcript_is_what_the_commands_print(t: Transcript, tmp_path: Path, demo_folder: Path):
    cwd = SETUPS[t.key](tmp_path, demo_folder)
    outputs = run_transcript(t, cwd)
    assert len(outputs) == len(t.steps), outputs
    for step, actual in zip(t.steps, outputs, strict=True):
        expected = normalise(step.output)
        if not fits(expected, actual):
            diff = "\n".join(
                difflib.unified_diff(expected, actual, "README.md", "printed", lineterm="")
            )
            pytest.fail(
                f"README.md line {t.line}: `$ {step.command}` printed something else "
                f"(update the README if the new output is right):\n{diff}"
            )


def test_fits_reads_an_ellipsis_as_lines_left_out():
    assert fits(["a", "…", "d"], ["a", "b", "c", "d"]) and fits(["a", "  …"], ["a", "b"])
    assert fits(["…", "c", "…"], ["a", "c", "d"]) and fits(["a", "…"], ["a"])
    assert not fits(["a", "…", "d"], ["a", "b"]) and not fits(["a", "b"], ["a", "b", "c"])
    assert not fits(["…", "x", "…"], ["a", "b"])


# -- the other examples -----------------------------------------------------------------------


def config_example() -> str:
    section = README.split("### The config file", 1)[1]
    return next(b.text for b in fenced_blocks(section) if b.lang == "toml")


def test_the_config_example_is_a_valid_config():
    cfg = parse_config(config_example(), "README.md")
    assert {"state-dept", "my-ministry"} <= {source.name for source in cfg.sources}


def test_python_names_in_the_readme_exist():
    """`dipdiff.module.name` in the prose: each one imports."""
    names = set(re.findall(r"`(dipdiff(?:\.\w+)+)[`(]", README)) - {"dipdiff.toml"}
    assert names, "the README names no Python object"
    missing = []
    for name in sorted(names):
        module, _, attr = name.rpartition(".")
        try:
            found = hasattr(__import__(module, fromlist=[attr]), attr)
        except ImportError:
            found = False
        if not found:
            missing.append(name)
    assert not missing, f"README.md names Python objects that do not exist: {missing}"


def python_section() -> str:
    return README.split("## Use it from Python", 1)[1].split("\n## ", 1)[0]


def test_the_python_section_names_every_public_name():
    import dipdiff

    missing = [name for name in dipdiff.__all__ if f"`{name}" not in python_section()]
    assert not missing, f"README.md, Use it from Python: not mentioned: {missing}"


def python_example() -> tuple[str, list[str]]:
    """The code of "Use it from Python" and the output the README shows for it."""
    blocks = fenced_blocks(python_section())
    code = next(i for i, b in enumerate(blocks) if b.lang == "python")
    assert blocks[code + 1].lang == "text", (
        "the example's output block (```text) must follow its code"
    )
    return blocks[code].text, blocks[code + 1].text.split("\n")


def test_the_python_example_prints_what_the_readme_shows(tmp_path: Path):
    code, expected = python_example()
    r = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=shell_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    actual = normalise(r.stdout.split("\n"))
    assert fits(normalise(expected), actual), (
        "README.md, Use it from Python: the example printed\n"
        + "\n".join(
            difflib.unified_diff(normalise(expected), actual, "README.md", "printed", lineterm="")
        )
    )
