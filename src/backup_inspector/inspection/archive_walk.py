"""One walk over one inner archive, shared by the check, listing and extraction jobs.

Opens the backup file, runs the format layer's walk with progress and
cancellation wired in, and turns a read failure into a Finding.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..backup_format.archive_keys import ArchiveKeyRing
from ..backup_format.findings import Finding, FindingCode, Severity
from ..backup_format.inner_archive import (
    ArchiveProblem,
    ArchiveReadError,
    WalkResult,
    walk_inner_archive,
)
from ..backup_format.inner_tar import EntryCallback, InnerTarWalker
from ..backup_format.safe_paths import Verdict, judge_entry
from ..backup_format.tar_entry import TarEntry
from .backup_overview import BackupOverview, InnerArchive, open_backup_file
from .progress import CancelToken, Progress, ProgressCallback
from .read_ahead import ReadAhead

MAX_UNSAFE_EXAMPLES = 3
# A refused name can be a megabyte long (that is one reason to refuse it).
MAX_EXAMPLE_NAME_CHARS = 120


class ArchiveNotFoundError(LookupError):
    """The backup has no inner archive of that name."""


class EntryNotFoundError(LookupError):
    """The archive has no entry at that path."""


@dataclass
class WalkOutcome:
    """What one walk saw: counts so far, and the problem that ended it early, if any."""

    entries: int
    content_bytes: int
    result: WalkResult | None
    problem: Finding | None
    read_to_end: bool  # every entry was read (even if an end-of-archive check then failed)


class ProgressTotals:
    """Adds up raw bytes read across archives (possibly read in parallel) and honours cancel."""

    def __init__(
        self, total_bytes: int, progress: ProgressCallback | None, cancel: CancelToken | None
    ) -> None:
        self._lock = threading.Lock()
        self._progress = progress
        self._cancel = cancel
        self.total = total_bytes or 1
        self.done = 0

    def check_cancelled(self) -> None:
        """Raise JobCancelledError if the job was cancelled (called per tar header too)."""
        if self._cancel is not None:
            self._cancel.raise_if_cancelled()

    def for_archive(self, archive: InnerArchive):
        """A raw-bytes callback for one archive."""
        archive_done = 0
        archive_total = archive.member.available_size

        def on_raw(size: int) -> None:
            nonlocal archive_done
            self.check_cancelled()
            with self._lock:
                archive_done += size
                self.done += size
                done = self.done
            if self._progress is not None:
                self._progress(
                    Progress(archive.name, archive_done, archive_total, done, self.total)
                )

        return on_raw


def require_archive(overview: BackupOverview, name: str) -> InnerArchive:
    """The archive called `name` (base or member name); ArchiveNotFoundError if absent."""
    archive = overview.find_archive(name)
    if archive is None:
        known = ", ".join(a.name for a in overview.archives) or "none"
        raise ArchiveNotFoundError(f"this backup has no archive called {name!r} (it has: {known})")
    return archive


def walk_archive(
    overview: BackupOverview,
    archive: InnerArchive,
    keyring: ArchiveKeyRing | None,
    on_entry: EntryCallback | None,
    totals: ProgressTotals,
    *,
    read_ahead: bool = True,
) -> WalkOutcome:
    """Walk `archive` once; a read failure becomes `problem` instead of an exception.

    With `read_ahead`, reading and decrypting run in a second thread while
    this one inflates and walks: right when the walk has the machine to
    itself (a listing, an extraction). The full check reads two archives at
    once instead; there the extra threads only fight over the GIL (measured
    with bench/bench_check.py: no faster, often slower).

    JobCancelledError (from the progress callback, or from the walker, which
    checks before every header) and errors raised by `on_entry` or its sinks
    (a full disk) propagate.
    """
    walker = InnerTarWalker(on_entry, check_stop=totals.check_cancelled)
    with open_backup_file(overview.path) as f:
        try:
            result = walk_inner_archive(
                f,
                archive.member,
                archive.sniff,
                keyring,
                walker,
                on_raw=totals.for_archive(archive),
                plaintext_wrapper=ReadAhead() if read_ahead else None,
            )
        except ArchiveReadError as err:
            return WalkOutcome(
                walker.entries,
                walker.content_bytes,
                None,
                finding_for_read_error(archive, err),
                read_to_end=err.reached_end,
            )
    return WalkOutcome(result.entries, result.content_bytes, result, None, read_to_end=True)


def finding_for_read_error(archive: InnerArchive, err: ArchiveReadError) -> Finding:
    """Turn a read failure into a plain-language Finding that says what it means for a restore."""
    if err.problem == ArchiveProblem.UNSUPPORTED:
        return Finding(
            FindingCode.UNSUPPORTED_ENCRYPTION,
            f"{archive.file_name} uses an encryption format this version of Backup Inspector cannot read "
            f"({err.detail}). This says nothing about the password; a newer Backup Inspector may read it.",
            archive.name,
        )
    if err.problem == ArchiveProblem.TRUNCATED:
        return Finding(
            FindingCode.TRUNCATED,
            f"{archive.file_name} is incomplete: the backup file was cut short inside it "
            f"({err.detail}); {archive.restore_consequence}. Files before the cut can still be extracted.",
            archive.name,
        )
    if err.problem == ArchiveProblem.PASSWORD_REQUIRED:
        return Finding(
            FindingCode.PASSWORD_REQUIRED,
            f"{archive.file_name} is encrypted: a password is needed.",
            archive.name,
        )
    if err.problem == ArchiveProblem.WRONG_PASSWORD:
        return Finding(
            FindingCode.WRONG_PASSWORD,
            f"The password does not open {archive.file_name}.",
            archive.name,
        )
    where = f" at {int(err.done_fraction * 100)} %" if err.done_fraction is not None else ""
    return Finding(
        FindingCode.ARCHIVE_CORRUPT,
        f"{archive.file_name} is damaged{where}: {err.detail} — {archive.restore_consequence}.",
        archive.name,
    )


def has_error(findings: list[Finding]) -> bool:
    """Whether any finding is an error."""
    return any(f.severity == Severity.ERROR for f in findings)


def _shown_name(raw_name: str) -> str:
    """A member name for a message: repr, cut to MAX_EXAMPLE_NAME_CHARS."""
    if len(raw_name) <= MAX_EXAMPLE_NAME_CHARS:
        return repr(raw_name)
    return f"{raw_name[:MAX_EXAMPLE_NAME_CHARS]!r}… ({len(raw_name):,} characters)"


def shortened_name(name: str) -> str:
    """A name for human text, cut to MAX_EXAMPLE_NAME_CHARS with its length said.

    A hostile archive's names can be megabytes long (issue 9, finding 3):
    repeated whole in every message and report line, 2 000 of them made 80 MB
    of output. The exact names stay in the JSON report.
    """
    if len(name) <= MAX_EXAMPLE_NAME_CHARS:
        return name
    return f"{name[:MAX_EXAMPLE_NAME_CHARS]}… ({len(name):,} characters)"


def unsafe_entry_collector(
    archive: InnerArchive,
) -> tuple[Callable[[TarEntry], None], Callable[[], Finding | None]]:
    """An entry callback that judges each entry's names, and the `unsafe-entry` finding it makes.

    The check and the listing both use it, so an archive the listing shows
    names the same refused entries as its check.
    """
    examples: list[str] = []
    count = 0

    def on_entry(entry: TarEntry) -> None:
        nonlocal count
        decision = judge_entry(entry)
        if decision.verdict == Verdict.REFUSE:
            count += 1
            if len(examples) < MAX_UNSAFE_EXAMPLES:
                examples.append(f"{_shown_name(entry.raw_name)} ({decision.reason})")

    def finding() -> Finding | None:
        if not count:
            return None
        more = f" and {count - len(examples)} more" if count > len(examples) else ""
        return Finding(
            FindingCode.UNSAFE_ENTRY,
            f"{archive.file_name} has {count} entr{'y' if count == 1 else 'ies'} that would land outside their "
            f"folder or point outside it, or whose names are too long or too deep to extract: "
            f"{', '.join(examples)}{more}. Backup Inspector never extracts these. Home Assistant's "
            "own restore is less strict: it restores links to absolute paths as they are, and only "
            "an entry whose path leaves its folder stops the restore (reported as "
            "entry-breaks-restore).",
            archive.name,
        )

    return on_entry, finding
