"""Quick and full checks of one backup: is it restorable, and if not, what breaks.

The quick check reads headers, metadata and the start of each encrypted
archive (the password against EVERY one, unlike Home Assistant, which tries
the first). The full check reads every archive to its last byte. Archives are
independent, so the full check reads two at once: inflation and decryption
release the GIL, and the machines this runs on have at least two cores.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..backup_format.archive_keys import ArchiveKeyRing
from ..backup_format.findings import Finding, FindingCode, Severity
from ..backup_format.inner_archive import ArchiveProblem, ArchiveReadError, check_password
from ..backup_format.safe_paths import Verdict, judge_entry
from ..backup_format.securetar_header import Compression, Encryption
from ..backup_format.tar_entry import TarEntry
from .archive_walk import (
    ProgressTotals,
    WalkOutcome,
    finding_for_read_error,
    has_error,
    walk_archive,
)
from .backup_overview import BackupOverview, InnerArchive, open_backup_file
from .progress import CancelToken, ProgressCallback

PARALLEL_ARCHIVES = 2
MAX_UNSAFE_EXAMPLES = 3


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

    @property
    def problems(self) -> list[Finding]:
        """Every finding: backup-level first, then each archive's."""
        return self.backup_problems + [p for check in self.archives for p in check.problems]

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
    overview: BackupOverview, password: str | None, keyring: ArchiveKeyRing | None = None
) -> CheckReport:
    """Metadata, archive list, and the password against every encrypted archive."""
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


def _unsafe_entry_collector(archive: InnerArchive):
    examples: list[str] = []
    count = 0

    def on_entry(entry: TarEntry) -> None:
        nonlocal count
        decision = judge_entry(entry)
        if decision.verdict == Verdict.REFUSE:
            count += 1
            if len(examples) < MAX_UNSAFE_EXAMPLES:
                examples.append(f"{entry.raw_name!r} ({decision.reason})")

    def finding() -> Finding | None:
        if not count:
            return None
        more = f" and {count - len(examples)} more" if count > len(examples) else ""
        return Finding(
            FindingCode.UNSAFE_ENTRY,
            f"{archive.file_name} has {count} entr{'y' if count == 1 else 'ies'} that would land outside their "
            f"folder or point outside it: {', '.join(examples)}{more}. Home Assistant refuses or skips these "
            "when restoring, and Backup Inspector never extracts them.",
            archive.name,
        )

    return on_entry, finding


EntryObserver = Callable[[TarEntry], None]


def _walk_for_check(
    overview: BackupOverview,
    check: ArchiveCheck,
    keyring: ArchiveKeyRing | None,
    totals: ProgressTotals,
    observer: EntryObserver | None,
    read_ahead: bool,
) -> None:
    archive = check.archive
    collect_unsafe, unsafe_finding = _unsafe_entry_collector(archive)

    def on_entry(entry: TarEntry) -> None:
        collect_unsafe(entry)
        if observer is not None:
            observer(entry)

    check.record_walk(
        walk_archive(overview, archive, keyring, on_entry, totals, read_ahead=read_ahead)
    )
    extra = unsafe_finding()
    if extra is not None:
        check.problems.append(extra)
        check.ok = not has_error(check.problems)


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
) -> CheckReport:
    """Read every inner archive to its last byte and verify everything the format allows.

    Archives whose password check failed are not read (their problem is
    already named). `on_archive_entries`, if given, is asked once per archive
    to be read for a callback that then sees its every entry (from the reading thread):
    checking and listing are then one pass, so browsing after a full check
    needs no second read. Raises JobCancelledError if `cancel` is set.
    """
    keyring = keyring_for(password)
    report = quick_check(overview, password, keyring)
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
    with ThreadPoolExecutor(max_workers=PARALLEL_ARCHIVES, thread_name_prefix="check") as pool:
        futures = [
            pool.submit(
                _walk_for_check,
                overview,
                c,
                keyring,
                totals,
                _observer_for(c, on_archive_entries),
                alone,
            )
            for c in to_read
        ]
        for future in futures:
            future.result()
    return report


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
    quick = quick_check(overview, password, keyring)
    check = next(c for c in quick.archives if c.archive is archive)
    if archive.encryption != Encryption.NONE:
        check.problems = check.problems + [
            p
            for p in quick.backup_problems
            if p.code in (FindingCode.WRONG_PASSWORD, FindingCode.PASSWORD_REQUIRED)
        ]
    check.ok = not has_error(check.problems)
    return check
