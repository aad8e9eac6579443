"""Plain, frozen data passed between the pipeline's stages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # models are core: the diff engine's result is only named here, never imported
    from dipdiff.analyse.diff import DiffResult


#: Events that are news (exit code 1, a commit, a webhook, a feed entry): what a statement says
#: or where it is changed. The recorder decides each once, when it happens (pipeline/record.py).
CHANGE_KINDS = frozenset({"new", "changed", "restored", "removed", "back", "moved", "flapping"})
#: Events that are trouble, not news: a page that cannot be read begins (unavailable, blocked) or
#: ends (recovered) a spell. Reported under Problems, warned about once; exit code 0.
PROBLEM_KINDS = frozenset({"unavailable", "blocked", "recovered"})
#: Events that store a version (each stored version has exactly one).
STORING_KINDS = frozenset({"new", "changed", "restored"})
SIG_RANK = {"substantive": 0, "minor": 1, "cosmetic": 2}


@dataclass(frozen=True)
class StatementRef:
    """Enough about one statement to name and link it."""

    id: str
    title: str
    url: str
    agency: str = ""
    version: int | None = None
    language: str = ""  # ISO 639-1 of the version shown, when known

    @property
    def source(self) -> str:
        return self.id.split("/", 1)[0]


@dataclass(frozen=True)
class Event:
    """One thing that happened to one statement, as the recorder recorded it in one check."""

    kind: str  # one of CHANGE_KINDS or PROBLEM_KINDS
    statement: StatementRef  # version: the version the check stored (or saw)
    time: str  # when it happened (the check's time)
    a_version: int | None = None  # changed/restored: the version compared from
    a_time: str | None = None
    b_time: str | None = None
    diff: DiffResult | None = None  # changed/restored: a_version -> statement.version
    note: str = ""
    # A stable name for the event within the store (the version file it stored, else kind and
    # time): report anchors and feed links are made from it.
    key: str = ""
    sha256: str | None = None  # of the text the check saw
    restores: int | None = None  # restored: the earlier version whose text is back
    pair: tuple[int, int] | None = None  # flapping: the two versions whose texts alternate
    change_note: str = ""  # the site's own edit log for this version (GOV.UK change history)
    undisclosed: bool = False  # a substantive edit the site's edit log does not mention
    # A spell of trouble (unavailable, blocked) or its end (recovered): when it began, the last
    # check within it, and how many checks it lasted.
    since: str | None = None
    last: str | None = None
    checks: int = 0
    was: str | None = None  # back, recovered: the state that ended
    # Seen in a web archive (backfill, WARC import), not live: its origin ("wayback", a file).
    archive: str = ""

    @property
    def worst(self) -> str:
        """The most significant kind of change in the diff (``cosmetic`` when none)."""
        sigs = [c.significance for c in self.diff.changes] if self.diff else []
        return min(sigs, key=SIG_RANK.__getitem__, default="cosmetic")


@dataclass(frozen=True)
class Origin:
    """Where one side of a diff or a comparison comes from: a stored version (its ID, number and
    capture time), a page fetched now (its URL and time), or a file (nothing more)."""

    id: str | None = None
    version: int | None = None
    fetched_at: str | None = None

    @property
    def known(self) -> bool:
        return self.id is not None or self.fetched_at is not None


@dataclass(frozen=True)
class StanceRow:
    """One actor and the stance each side of a divergence takes towards it."""

    actor: str
    a: str
    b: str


@dataclass(frozen=True)
class Quote:
    """Evidence: a sentence of one statement (``statement_id``) about ``actor``."""

    statement_id: str
    text: str
    actor: str = ""


@dataclass(frozen=True)
class Divergence:
    """Two statements of different agencies that disagree about the same event."""

    a: StatementRef
    b: StatementRef
    summary: str = ""
    stances: tuple[StanceRow, ...] = ()
    evidence: tuple[Quote, ...] = ()
    score: float | None = None


@dataclass(frozen=True)
class Statement:
    """What a page says, stripped of its chrome."""

    title: str
    paragraphs: tuple[str, ...]
    url: str = ""
    agency: str = ""
    published: str | None = None  # ISO 8601 date or datetime, as precise as the page gives
    source: str = ""
    # The language its version header stored (detected when it was stored; None: a page not
    # stored, or a file written before headers kept it). Not part of what the statement says.
    language: str | None = field(default=None, compare=False)

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def words(self) -> int:
        return sum(len(p.split()) for p in self.paragraphs)


class Outcome(StrEnum):
    """What happened to one statement in one check. Exactly one per check."""

    NEW = "new"
    CHANGED = "changed"
    RESTORED = "restored"  # back to the text of an earlier version: stored again, as the latest
    UNCHANGED = "unchanged"
    FLAPPING = "flapping"  # one of two texts that alternate on most checks: not stored
    UNAVAILABLE = "unavailable"  # timeout, 5xx, connection error: retried later
    BLOCKED = "blocked"  # WAF/captcha page or a body that extracted to nearly nothing
    REMOVED = "removed"  # 404/410 repeatedly, or redirected to a listing page
    MOVED = "moved"  # same text found at a new URL


#: Outcomes that store a version.
STORING_OUTCOMES = frozenset({Outcome.NEW, Outcome.CHANGED, Outcome.RESTORED})


@dataclass(frozen=True)
class Check:
    """One entry of a statement's check history (``meta.json``)."""

    time: str
    outcome: Outcome
    url: str
    status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None
    version: int | None = None
    note: str | None = None
    # sha256 of the raw body (and the extraction rules): an identical page is
    # `unchanged` without being parsed again.
    raw_sha256: str | None = None
    # A stored change: the sha256 of the version it was compared with (its redline's left side).
    # Version numbers shift when an older capture is imported; the hash does not.
    base_sha256: str | None = None
    # The event this check records, decided once by the recorder (models.CHANGE_KINDS,
    # PROBLEM_KINDS); absent when nothing happened.
    event: str | None = None
    # A state that lasts (unavailable, blocked, removed, flapping): when it began.
    since: str | None = None
    # The `dipdiff run` that made the check; a check made by another command names the run
    # recorded last before it in `after` ("" before any run): a run reports by these, never
    # by a clock that can go backwards.
    run: str | None = None
    after: str | None = None
    # The site's own edit log (GOV.UK change history): a new note seen, and when it was published.
    change_note: str | None = None
    change_note_at: str | None = None
    # A substantive edit without a new note in the site's edit log.
    undisclosed: bool | None = None
    # A capture taken from a web archive (backfill, WARC import): "wayback" or the file's name,
    # and the capture's address there. Such a check was never a live sighting.
    archive: str | None = None
    memento: str | None = None

    def entry(self) -> dict[str, Any]:
        """The check as a line of ``meta.json``: only the fields that are set."""
        entry = {k: v for k, v in asdict(self).items() if v is not None}
        entry["outcome"] = str(self.outcome)
        return entry


@dataclass(frozen=True)
class Provenance:
    """Where a version taken from a web archive came from: it was never seen live."""

    origin: str  # "wayback", or the name of the WARC/WACZ file it was imported from
    memento: str  # the capture's address in the archive (a WARC record: its target URI)
    captured_at: str  # the capture time as the archive writes it (14 digits, WARC-Date)
    digest: str = ""  # the archive's digest of the captured bytes

    def header(self) -> dict[str, str]:
        """The version file's header lines for it (``origin``, ``memento``, ...)."""
        return {
            "origin": self.origin,
            "memento": self.memento,
            "captured_at": self.captured_at,
            "archive_digest": self.digest,
        }


@dataclass(frozen=True)
class VersionRef:
    """One stored version of a statement, without its text."""

    statement_id: str
    number: int  # 1-based, in chronological order
    fetched_at: str
    sha256: str
    filename: str
    published: str | None = None  # the version's own published date (its header)
    provenance: Provenance | None = None  # taken from a web archive, not fetched live


@dataclass(frozen=True)
class Version:
    """One stored version of a statement, with its text."""

    ref: VersionRef
    statement: Statement


@dataclass(frozen=True)
class Page:
    """A fetched HTTP response, decoded."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int
    content: bytes
    text: str
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    redirects: tuple[str, ...] = ()
    fetched_at: str = ""


@dataclass(frozen=True)
class SnapshotResult:
    """The result of checking one statement once."""

    statement_id: str
    outcome: Outcome
    url: str
    version: int | None = None
    changes: int = 0
    message: str = ""
    title: str = ""
    # What the check recorded, and the event it makes (None: nothing happened, e.g. unchanged).
    # A stored change's event carries the versions compared and the diff, computed once.
    check: Check | None = None
    event: Event | None = None

    @property
    def diff(self) -> DiffResult | None:
        return self.event.diff if self.event is not None else None

    @property
    def news(self) -> bool:
        """Did the check record news (exit code 1): a change, a removal, a move, flapping?"""
        return self.event is not None and self.event.kind in CHANGE_KINDS


@dataclass(frozen=True)
class RunResult:
    """The outcomes of one run over many statements."""

    results: tuple[SnapshotResult, ...] = field(default_factory=tuple)
    started_at: str = ""
    finished_at: str = ""
    # Source-level trouble (a feed or listing that could not be read), one line each.
    problems: tuple[str, ...] = field(default_factory=tuple)
    requests: int = 0  # HTTP requests made, retries and robots.txt included
    # Damaged files of the store that cost their statement (or run record), one line each.
    damaged: tuple[str, ...] = field(default_factory=tuple)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def events(self) -> tuple[Event, ...]:
        """What happened in the run, one event per statement that did something."""
        return tuple(r.event for r in self.results if r.event is not None)
