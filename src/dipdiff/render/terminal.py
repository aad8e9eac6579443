"""Rich rendering for the terminal. Results go to stdout, errors to stderr.

Colour only on a TTY and never when ``NO_COLOR`` is set; untrusted text
(titles, page text) is always passed as plain ``Text`` so that markup or
terminal escape sequences in a page can never reach the terminal raw.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

from rich.console import Console
from rich.text import Text

from dipdiff.models import Origin, SnapshotResult
from dipdiff.render.common import percent, provenance
from dipdiff.render.plain import (
    alignment_note,
    fold_context,
    folded_lines,
    moved_note,
    not_analysed_notes,
    pair_lines,
    split_actors,
    stance_cell,
    summary,
    summary_line,
)
from dipdiff.text import clip

if TYPE_CHECKING:
    from rich.progress import Progress, ProgressColumn, TaskID

    from dipdiff.analyse.compare import Comparison
    from dipdiff.analyse.diff import DiffResult, Segment

# Escape sequences first (CSI, OSC up to BEL or ST, two-byte ESC x), so that none leaves its
# parameters behind as text; then any other C0/C1 control (but tab and newline), DEL, and the
# bidi embeddings/overrides/isolates that would display text in another order than it is.
UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_ESCAPES = re.compile(
    r"\x1b\[[0-9;:?<=>]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]"
    f"|[{UNSAFE}]"
)

_UNSAFE = re.compile(f"[{UNSAFE}]")


def safe(text: str) -> str:
    """Strip control characters, escape sequences and bidi overrides from untrusted text."""
    return _ESCAPES.sub("", text)


def safe_json(text: str) -> str:
    """JSON text with any control or bidi override character written as a ``\\uXXXX`` escape.

    ``json.dumps(ensure_ascii=False)`` escapes C0 but writes DEL, C1 and bidi overrides raw;
    they can only occur inside strings, where the escape means the same character.
    """
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def make_console(*, stderr: bool = False, force_plain: bool = False) -> Console:
    plain = force_plain or "NO_COLOR" in os.environ
    stream = sys.stderr if stderr else sys.stdout
    return Console(
        file=stream,
        no_color=plain,
        highlight=False,
        soft_wrap=True,
        force_terminal=None if not plain else False,
        emoji=False,
        markup=False,
    )


def _segments_text(segments: tuple[Segment, ...], color: bool) -> Text:
    out = Text()
    for seg in segments:
        t = safe(seg.text)
        if seg.op == "equal":
            out.append(t.replace("\n", "\n\n"))
        elif not t.strip():  # whitespace: show B's layout (a split paragraph breaks here)
            if seg.op == "insert":
                out.append(t.replace("\n", "\n\n"))
        elif not color:
            out.append(f"[-{t}-]" if seg.op == "delete" else f"{{+{t}+}}")
        elif seg.op == "delete":
            out.append(t, style="red strike")
        else:
            out.append(t, style="green")
    return out


def render_diff(
    console: Console,
    result: DiffResult,
    *,
    context: int = 1,
    labels: tuple[str, str] = ("", ""),
    origins: tuple[Origin | None, Origin | None] = (None, None),
) -> None:
    """Inline redline: deletions red and struck through, insertions green, context folded.

    Without colour it falls back to git's word-diff markers ``[-old-]{+new+}``.
    """
    color = console.is_terminal and not console.no_color
    title = safe(result.b.title or result.a.title)
    if title:
        console.print(Text(title, style="bold" if color else ""))
    if labels[0] or labels[1]:
        console.print(Text(f"{safe(labels[0])} → {safe(labels[1])}", style="dim" if color else ""))
    if any(o is not None and o.known for o in origins):
        for letter, label, o, st in (
            ("A", labels[0], origins[0], result.a),
            ("B", labels[1], origins[1], result.b),
        ):
            console.print(
                Text(f"{letter}: {safe(provenance(label, o, st))}", style="dim" if color else "")
            )
    if result.title_segments:
        console.print(Text("title: ") + _segments_text(result.title_segments, color))
    console.print()
    for item in fold_context(result.blocks, context):
        if isinstance(item, int):
            console.print(
                Text(f"  … {item} unchanged paragraph(s) …", style="dim" if color else "")
            )
            console.print()
            continue
        if item.kind == "move":
            console.print(Text(f"↕ {moved_note(item)}:", style="yellow" if color else ""))
            if item.b_index is None:  # the text itself is shown where it went
                console.print(
                    Text(safe(clip(item.segments[0].text, 100)), style="dim" if color else "")
                )
                console.print()
                continue
        console.print(_segments_text(item.segments, color))
        console.print()
    console.print(Text(summary_line(result), style="bold" if color else ""))


class BarProgress:
    """What a progress listener shares: on a terminal a transient rich bar (``bar``, None when
    piped), and lines said above it (or plainly when piped). The caller passes a stderr console,
    so that ``--json`` output on stdout stays clean."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def _draw(self, last: ProgressColumn) -> Progress:
        """The bar: description, bar, done/total, then ``last``."""
        from rich.progress import (  # lazy: only a terminal draws it
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
        )

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            last,
            console=self.console,
            transient=True,
        )
        return self.bar

    def __enter__(self) -> Self:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def say(self, line: Text) -> None:
        """A line above the bar on a terminal, on its own when piped."""
        (self.bar.console if self.bar is not None else self.console).print(line)


class FetchProgress(BarProgress):
    """A ``dipdiff fetch`` listener: a rich progress bar on a TTY, plain log lines otherwise."""

    def __init__(self, console: Console, *, verbose: bool = False) -> None:
        super().__init__(console)
        self.verbose = verbose
        if console.is_terminal:
            from rich.progress import TimeElapsedColumn  # lazy: only a terminal draws it

            self._draw(TimeElapsedColumn())

    def planned(self, source: str, count: int) -> None:
        if self.bar is not None:
            if self.task is None:
                self.task = self.bar.add_task(source, total=count)
            else:
                total = (self.bar.tasks[0].total or 0) + count
                self.bar.update(self.task, total=total, description=source)
        else:
            self.console.print(Text(f"{source}: checking {count} statement(s)"))

    def checked(self, result: SnapshotResult) -> None:
        line = Text(f"{result.outcome.value:<11} {result.statement_id}")
        if result.version:
            line.append(f"@{result.version}")
        if result.message:
            line.append(f"  ({safe(result.message)})")
        if self.bar is not None and self.task is not None:
            self.bar.advance(self.task)
        if self.verbose or result.outcome.value != "unchanged":
            self.say(line)

    def problem(self, message: str) -> None:
        self.say(Text(f"dipdiff: warning: {safe(message)}"))


# Quotes per actor and side on the terminal; --format md and json quote every sentence.
MAX_EVIDENCE = 2
MAX_FOLDED_NAMES = 30  # names on the folded line; --format json lists every actor


def render_compare(
    console: Console,
    result: Comparison,
    *,
    labels: tuple[str, str] = ("A", "B"),
    full: bool = True,
    origins: tuple[Origin | None, Origin | None] = (None, None),
) -> None:
    """Actors with a stance first (divergent ones highlighted, with evidence), the others folded
    into one line, then shared and one-sided wording.

    ``full=False`` shows the actors and the summary only (the demo).
    """

    color = console.is_terminal and not console.no_color
    bold = "bold" if color else ""
    for letter, label, o, st in (
        ("A", labels[0], origins[0], result.a),
        ("B", labels[1], origins[1], result.b),
    ):
        console.print(
            Text(f"{letter}: {safe(label)}  {safe(st.title)}", style=bold if full else "")
        )
        if o is not None and o.known:
            where = provenance("", o, st).removeprefix(" · ")
            console.print(Text(f"   {safe(where)}", style="dim" if color else ""))
    console.print()
    console.print(Text("Actors and stances", style=bold))
    for note in not_analysed_notes(result):
        console.print(Text(f"  {safe(note)}"))
    shown, folded = split_actors(result.actors)
    for x in shown:
        mark = "DIVERGENT " if x.divergent else "          "
        line = Text(mark, style="bold red" if x.divergent and color else "")
        line.append(f"{safe(x.name)}: A {safe(stance_cell(x.a))} · B {safe(stance_cell(x.b))}")
        console.print(line)
        if x.divergent:
            for reason in x.reasons:
                console.print(Text(f"            {safe(reason)}", style="dim" if color else ""))
            for label, side in (("A", x.a), ("B", x.b)):
                for e in side.evidence[:MAX_EVIDENCE]:
                    console.print(Text(f"            {label}: “{safe(e)}”"))
                if len(side.evidence) > MAX_EVIDENCE:
                    more = len(side.evidence) - MAX_EVIDENCE
                    console.print(
                        Text(f"            {label}: … {more} more (--format md quotes them all)")
                    )
    for names in folded_lines(folded, MAX_FOLDED_NAMES):
        console.print(Text(f"          {safe(names)}"))
    if not result.actors:
        console.print(Text("  no actors named"))
    console.print()
    if not full:
        console.print(Text(summary(result), style=bold))
        return
    console.print(Text(f"Shared wording ({len(result.shared)})", style=bold))
    why = alignment_note(result)
    if why:
        console.print(Text(f"  {safe(why)}"))
    for s in result.shared:
        if s.translated:
            first, *rest = pair_lines(s)
            console.print(Text(f"  {first}"))
            for row in rest:
                console.print(Text(f"    {safe(row)}"))
            continue
        similar = percent(s.similarity, changed=bool(s.changes))
        console.print(Text(f"  {s.match} {similar}: ") + _segments_text(s.segments, color))
    for title, items in (("Only in A", result.only_a), ("Only in B", result.only_b)):
        console.print()
        console.print(Text(f"{title} ({len(items)})", style=bold))
        for t in items:
            console.print(Text(f"  {safe(t)}"))
    console.print()
    console.print(Text(summary(result), style=bold))


@dataclass(frozen=True)
class Column:
    """A column of :func:`print_table`: ``whole`` values (IDs, URLs, numbers) are never wrapped
    or cut; the others (titles) wrap at words. ``optional`` columns go first when it is narrow."""

    name: str
    whole: bool = False
    optional: bool = False
    right: bool = False


_GAP = 2
_MIN_WRAPPED = 20  # a title narrower than this reads one word a line: drop a column instead


def print_table(console: Console, columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> None:
    """A table that fits: piped, every value whole on one line (aligned, never wrapped or cut);
    on a terminal, whole columns kept whole, optional columns dropped until the others fit,
    and the rest wrapping at words."""
    from rich.table import Table  # lazy: only commands that print tables need it

    cells = [[safe(c) for c in row] for row in rows]
    keep = list(range(len(columns)))
    if console.is_terminal:
        widths = [max([len(columns[i].name), *(len(r[i]) for r in cells)]) for i in keep]
        for i in sorted(keep, key=lambda i: not columns[i].optional, reverse=False):
            need = sum(widths[k] for k in keep if columns[k].whole) + _GAP * (len(keep) - 1)
            wrapped = [k for k in keep if not columns[k].whole]
            if not columns[i].optional or need + _MIN_WRAPPED * len(wrapped) <= console.width:
                break
            keep.remove(i)
    table = Table(box=None, pad_edge=False, show_edge=False, padding=(0, _GAP, 0, 0))
    for i in keep:
        c = columns[i]
        table.add_column(
            c.name,
            no_wrap=c.whole or not console.is_terminal,
            overflow="ignore" if c.whole or not console.is_terminal else "fold",
            justify="right" if c.right else "left",
            min_width=len(c.name) if c.whole else None,
        )
    for r in cells:
        table.add_row(*(Text(r[i]) for i in keep))
    if console.is_terminal:
        console.print(table)
        return
    # Piped: as wide as the widest row, then the padding rich adds to the last column cut off.
    wide = Console(width=100_000, no_color=True, highlight=False, emoji=False, markup=False)
    with wide.capture() as captured:
        wide.print(table)
    for line in captured.get().splitlines():
        console.file.write(line.rstrip() + "\n")
