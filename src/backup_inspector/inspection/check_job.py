"""Quick and full checks of one backup: is it restorable, and if not, what breaks.

The quick check reads headers, metadata and the start of each encrypted
archive (the password against EVERY one, unlike Home Assistant, which tries
the first). The full check reads every archive to its last byte. Archives are
independent, so the full check reads two at once: inflation and decryption
release the GIL, and the machines this runs on have at least two cores.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..backup_format.archive_keys import ArchiveKeyRing
from ..backup_format.findings import Finding, FindingCode, Severity
from ..backup_format.inner_archive import ArchiveProblem, ArchiveReadError, check_password
from ..backup_format.securetar_header import Compression, Encryption
from ..backup_format.tar_entry import DataSink, TarEntry
from .archive_walk import (
    ProgressTotals,
    WalkOutcome,
    finding_for_read_error,
    has_error,
    unsafe_entry_collector,
    walk_archive,
)
from .backup_overview import BackupOverview, InnerArchive, open_backup_file
from .content_hash import joined_sink
from .database_check import DatabaseReport, RecorderDatabaseCheck, database_notes
from .progress import CancelToken, ProgressCallback
from .restore_rehearsal import (
    RestoreEntryWatch,
    RestorePrediction,
    archive_facts,
    missing_archive_facts,
    rehearse_restore,
    watch_for,
)
from .target_facts import TargetFacts

PARALLEL_ARCHIVES = 2


@dataclass
class ArchiveCheck:
    """The verdict for one inner archive."""

    archive: InnerArchive
    ok: bool = True
    entries: int | None = None
    bytes: int | None = None  # content bytes of regular files
    compressed: bool | None = None
    problems: list[Finding] = field(default_factory=list)
    read_to_end: bool | None = None  # None: not read; True: every entry was read
    restore_watch: RestoreEntryWatch | None = None  # what the walk saw for the restore rehearsal

    def record_walk(self, outcome: WalkOutcome) -> None:
        """Take in what one walk over the archive saw, and its problem if it broke off."""
        self.entries = outcome.entries
        self.bytes = outcome.content_bytes
        self.read_to_end = outcome.read_to_end
        if outcome.result is not None:
            self.compressed = outcome.result.compression == Compression.GZIP
        if outcome.problem is not None:
            self.problems.append(outcome.problem)
        self.ok = not has_error(self.problems)

    def add_problem(self, finding: Finding | None) -> None:
        """Add a problem found besides the walk's own (None: nothing to add)."""
        if finding is not None:
            self.problems.append(finding)
            self.ok = not has_error(self.problems)

    def to_json(self) -> dict[str, object]:
        """Issue 2's per-archive JSON shape."""
        return {
            "name": self.archive.name,
            "archive": self.archive.file_name,
            "encryption": self.archive.encryption.value,
            "compressed": self.compressed
            if self.compressed is not None
            else self.archive.compressed,
            "ok": self.ok,
            "entries": self.entries,
            "bytes": self.bytes,
            "problems": [p.to_json() for p in self.problems],
        }


@dataclass
class CheckReport:
    """The verdict for a whole backup."""

    overview: BackupOverview
    level: str  # "quick" or "full"
    archives: list[ArchiveCheck]
    backup_problems: list[Finding]  # not tied to one archive's contents
    cancelled: bool = False
    database: DatabaseReport | None = None  # full check of a backup with a recorder database
    restore: RestorePrediction | None = None  # the restore rehearsal (issue 10)

    @property
    def problems(self) -> list[Finding]:
        """Every finding: backup-level first, then each archive's, then the restore rehearsal's."""
        restore = self.restore.findings if self.restore is not None else []
        return (
            self.backup_problems + [p for check in self.archives for p in check.problems] + restore
        )

    @property
    def ok(self) -> bool:
        """True only when no error was found (for "full": every byte was read and verified)."""
        return not self.cancelled and not any(p.severity == Severity.ERROR for p in self.problems)

    def to_json(self) -> dict[str, object]:
        """Issue 2's `check --json` shape (plus `level`)."""
        return {
            "path": str(self.overview.path),
            "ok": self.ok,
            "level": self.level,
            "cancelled": self.cancelled,
            "metadata": self.overview.metadata.to_json() if self.overview.metadata else None,
            "archives": [a.to_json() for a in self.archives],
            "problems": [p.to_json() for p in self.problems],
            "database": self.database.to_json() if self.database is not None else None,
            "restore": self.restore.to_json() if self.restore is not None else None,
        }


def keyring_for(password: str | None) -> ArchiveKeyRing | None:
    """One key ring per job: a v3 key derivation (Argon2id) is then done once."""
    return ArchiveKeyRing(password) if password is not None else None


def _password_findings(
    overview: BackupOverview, password: str | None, keyring: ArchiveKeyRing | None
) -> dict[str, list[Finding]]:
    """Check the password against every encrypted archive; findings keyed by archive name ("" = backup)."""
    encrypted = [
        a
        for a in overview.archives
        if a.encryption in (Encryption.V1, Encryption.V2, Encryption.V3)
    ]
    by_archive: dict[str, list[Finding]] = {"": []}
    for archive in overview.archives:
        by_archive[archive.name] = []
        if archive.sniff.unsupported_version is not None:
            by_archive[archive.name].append(
                finding_for_read_error(
                    archive,
                    ArchiveReadError(ArchiveProblem.UNSUPPORTED, archive.sniff.problem or ""),
                )
            )
    if not encrypted:
        return by_archive
    if password is None:
        by_archive[""].append(
            Finding(
                FindingCode.PASSWORD_REQUIRED,
                "This backup is password protected. Enter its password or emergency kit to check what is "
                "inside; without it only the metadata can be checked.",
            )
        )
        return by_archive
    keyring = keyring or ArchiveKeyRing(password)
    rejected: list[tuple[InnerArchive, ArchiveReadError]] = []
    accepted = 0
    with open_backup_file(overview.path) as f:
        for archive in encrypted:
            try:
                check_password(f, archive.member, archive.sniff, keyring)
                accepted += 1
            except ArchiveReadError as err:
                if err.problem in (ArchiveProblem.WRONG_PASSWORD, ArchiveProblem.NOT_DECRYPTABLE):
                    rejected.append((archive, err))
                else:
                    by_archive[archive.name].append(finding_for_read_error(archive, err))
    if rejected and not accepted:
        by_archive[""].append(
            Finding(
                FindingCode.WRONG_PASSWORD,
                "The password is wrong: it does not open any of the encrypted archives. Check for typos; "
                "an emergency-kit key is 7 groups of 4 characters and the hyphens belong to it.",
            )
        )
    else:
        for archive, err in rejected:
            if err.problem == ArchiveProblem.WRONG_PASSWORD:
                message = (
                    f"{archive.file_name} was encrypted with a different password than the rest of the "
                    f"backup; with this password {archive.restore_consequence}."
                )
                by_archive[archive.name].append(
                    Finding(FindingCode.WRONG_PASSWORD, message, archive.name)
                )
            else:
                message = (
                    f"{archive.file_name} does not decrypt with the password that opens the other "
                    "archives: it was encrypted with a different password, or its start is damaged "
                    f"(SecureTar v1/v2 cannot tell which). Either way, {archive.restore_consequence}."
                )
                by_archive[archive.name].append(
                    Finding(FindingCode.ARCHIVE_CORRUPT, message, archive.name)
                )
    return by_archive


def _password_blocks(backup_problems: list[Finding]) -> bool:
    """Whether a backup-level password problem keeps every encrypted archive closed."""
    return any(
        p.code in (FindingCode.WRONG_PASSWORD, FindingCode.PASSWORD_REQUIRED)
        for p in backup_problems
    )


def quick_check(
    overview: BackupOverview,
    password: str | None,
    keyring: ArchiveKeyRing | None = None,
    target: TargetFacts | None = None,
) -> CheckReport:
    """Metadata, archive list, the password against every encrypted archive, and the restore
    rules the metadata alone can judge (against `target`, the system a restore would run on).
    """
    report = _quick_report(overview, password, keyring)
    _attach_restore_prediction(report, target)
    return report


def _attach_restore_prediction(report: CheckReport, target: TargetFacts | None) -> None:
    """Rehearse the Supervisor's restore with what the check saw (restore_rehearsal)."""
    facts = missing_archive_facts(report.overview)
    for check in report.archives:
        facts[check.archive.name] = archive_facts(
            check.archive, check.problems, check.read_to_end, check.restore_watch
        )
    report.restore = rehearse_restore(report.overview, report.backup_problems, facts, target)


def _quick_report(
    overview: BackupOverview, password: str | None, keyring: ArchiveKeyRing | None
) -> CheckReport:
    by_archive = _password_findings(overview, password, keyring)
    checks = [
        ArchiveCheck(archive=a, problems=list(by_archive.get(a.name, [])))
        for a in overview.archives
    ]
    password_blocks = _password_blocks(by_archive[""])
    for check in checks:
        is_locked = password_blocks and check.archive.encryption != Encryption.NONE
        check.ok = check.archive.is_complete and not is_locked and not has_error(check.problems)
    return CheckReport(
        overview=overview,
        level="quick",
        archives=checks,
        backup_problems=list(overview.findings) + by_archive[""],
    )


# Sees every entry of a full check; may return a sink for a file's bytes (the listing's hash).
EntryObserver = Callable[[TarEntry], DataSink | None]


def _walk_for_check(
    overview: BackupOverview,
    check: ArchiveCheck,
    keyring: ArchiveKeyRing | None,
    totals: ProgressTotals,
    observer: EntryObserver | None,
    read_ahead: bool,
    database: RecorderDatabaseCheck | None,
) -> None:
    archive = check.archive
    collect_unsafe, unsafe_finding = unsafe_entry_collector(archive)
    watch = check.restore_watch = watch_for(archive)

    def on_entry(entry: TarEntry) -> DataSink | None:
        collect_unsafe(entry)
        listing_sink = observer(entry) if observer is not None else None
        restore_sink = watch.on_entry(entry)
        database_sink = database.sink_for(archive, entry) if database is not None else None
        return joined_sink(
            database_sink if database_sink is not None else restore_sink, listing_sink
        )

    outcome = walk_archive(overview, archive, keyring, on_entry, totals, read_ahead=read_ahead)
    check.record_walk(outcome)
    check.add_problem(unsafe_finding())
    if database is not None:
        for finding in database.archive_read(archive, stream_verified=outcome.problem is None):
            check.add_problem(finding)


def _observer_for(
    check: ArchiveCheck, on_archive_entries: Callable[[InnerArchive], EntryObserver | None] | None
) -> EntryObserver | None:
    return on_archive_entries(check.archive) if on_archive_entries is not None else None


def full_check(
    overview: BackupOverview,
    password: str | None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    on_archive_entries: Callable[[InnerArchive], EntryObserver | None] | None = None,
    database_dir: Path | None = None,
    check_database: bool = True,
    target: TargetFacts | None = None,
) -> CheckReport:
    """Read every inner archive to its last byte and verify everything the format allows.

    Archives whose password check failed are not read (their problem is
    already named). `on_archive_entries`, if given, is asked once per archive
    to be read for a callback that then sees its every entry (from the reading thread):
    checking and listing are then one pass, so browsing after a full check
    needs no second read. The same walk feeds the restore rehearsal against
    `target`. Raises JobCancelledError if `cancel` is set.

    With `check_database`, the recorder database is copied into a private
    folder under `database_dir` (the system temp if None) during the same
    walk and checked with SQLite (database_check); the folder is gone when
    this returns or raises.
    """
    keyring = keyring_for(password)
    report = _quick_report(overview, password, keyring)
    report.level = "full"
    password_blocks = _password_blocks(report.backup_problems)
    to_read: list[ArchiveCheck] = []
    for check in report.archives:
        if check.problems:
            continue  # its problem is already named (wrong password, unsupported, ...)
        if password_blocks and check.archive.encryption != Encryption.NONE:
            check.ok = False  # not read: the verdict cannot be green
            continue
        to_read.append(check)
    totals = ProgressTotals(sum(c.archive.member.available_size for c in to_read), progress, cancel)
    # Largest first: it is the critical path. One archive alone gets a read-ahead thread instead.
    to_read.sort(key=lambda c: c.archive.member.available_size, reverse=True)
    alone = len(to_read) == 1
    database = RecorderDatabaseCheck(database_dir, cancel) if check_database else None
    # The pool exits first (every walk done), then the private folder is removed.
    with (
        database if database is not None else contextlib.nullcontext(),
        ThreadPoolExecutor(max_workers=PARALLEL_ARCHIVES, thread_name_prefix="check") as pool,
    ):
        futures = [
            pool.submit(
                _walk_for_check,
                overview,
                c,
                keyring,
                totals,
                _observer_for(c, on_archive_entries),
                alone,
                database,
            )
            for c in to_read
        ]
        for future in futures:
            future.result()
    if database is not None:
        _add_database_results(report, database, to_read)
    _attach_restore_prediction(report, target)
    return report


def _add_database_results(
    report: CheckReport, database: RecorderDatabaseCheck, were_read: list[ArchiveCheck]
) -> None:
    """The database facts, and the notes on a database left out or kept in an app."""
    report.database = database.report
    homeassistant = next(
        (c for c in were_read if c.archive.kind == "homeassistant" and c.read_to_end), None
    )
    notes = database_notes(report.overview, homeassistant is not None, database.saw_database)
    target = homeassistant.problems if homeassistant is not None else report.backup_problems
    target.extend(notes)


def archive_read_gate(
    overview: BackupOverview,
    archive: InnerArchive,
    password: str | None,
    keyring: ArchiveKeyRing | None = None,
) -> ArchiveCheck:
    """The quick verdict for one archive before reading it (listing, extraction, download).

    Checks the password against every encrypted archive of the backup, so a
    wrong password is told apart from one damaged archive. If the returned
    check has an error, the archive must not be read: the problem is named.
    """
    quick = _quick_report(overview, password, keyring)
    check = next(c for c in quick.archives if c.archive is archive)
    if archive.encryption != Encryption.NONE:
        check.problems = check.problems + [
            p
            for p in quick.backup_problems
            if p.code in (FindingCode.WRONG_PASSWORD, FindingCode.PASSWORD_REQUIRED)
        ]
    check.ok = not has_error(check.problems)
    return check
