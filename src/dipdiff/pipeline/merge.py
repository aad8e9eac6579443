"""``dipdiff merge``: the shards' commits merged through git, then the day's report written once.

Each shard (``dipdiff run --shard I/N``) commits only its statements and its run record,
so the shards' branches merge without conflicts. What every run would otherwise rewrite,
the day's report, ``reports/README.md`` and ``reports/feed.xml``, is written here, from the
merged store: the report covers every shard's checks, and divergences between statements
of two shards are found here, where both are known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dipdiff.pipeline.report import (
    DivergenceFinder,
    History,
    WrittenReport,
    build_report,
    default_window,
    write_reports,
)
from dipdiff.render.markdown import ReportInput
from dipdiff.status import ExitStatus
from dipdiff.store.git import commit_paths, merge_refs
from dipdiff.store.store import Store


@dataclass(frozen=True)
class MergeReport:
    """What ``dipdiff merge`` did: the merge commit, the report and the commit of the report."""

    merged: str | None  # the merge commit (None: no refs given, or all merged already)
    report: ReportInput
    written: WrittenReport | None  # None: nothing to report that day, nothing written
    commit: str | None = None

    @property
    def exit_code(self) -> ExitStatus:
        """diff(1) style: 1 when the day's report has changes or divergences."""
        return ExitStatus.found(any(self.report.counts().values()))


def merge_shards(
    store: Store,
    reports_dir: Path,
    refs: Sequence[str] = (),
    *,
    commit: bool = False,
    find_divergences: DivergenceFinder | None = None,
    lock_wait: float = 0.0,
) -> MergeReport:
    """Merge ``refs`` into the store's repository, then write (and commit) the day's report.

    Running it again changes nothing: the merge finds nothing new and the report, built
    from the same store, is the same file.
    """
    # git first: the lock would create the store's own files, and git does not merge
    # into a folder holding untracked copies of files the shards committed.
    merged = merge_refs(store.root.parent, refs) if refs else None
    with store.lock(wait=lock_wait):
        window = default_window(store)
        history = History(store)
        report = build_report(store, window, history=history, find_divergences=find_divergences)
        path = reports_dir / window.filename
        written = None
        if any(report.counts().values()) or report.notes or path.exists():
            written = write_reports(
                store, reports_dir, report, filename=window.filename, history=history
            )
        sha = None
        if commit and written is not None:
            counts = ", ".join(f"{v} {k}" for k, v in report.counts().items())
            sha = commit_paths(
                store.root,
                [reports_dir],
                f"dipdiff merge: report of {window.label} ({counts})\n\n"
                f"Runs: {', '.join(window.runs)}\n",
            )
    return MergeReport(merged, report, written, sha)
