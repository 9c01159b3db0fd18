"""Take chosen files and folders out of a backup, and stream single files out.

Streaming: each inner archive is read once, in place, and only up to the last
selected file when the selection is only files. Safety lives in
SafeExtractor (nothing lands outside the destination, no overwrite unless
asked, temporary names until complete); this module wires archives,
passwords, progress and the hard-link second pass around it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..backup_format.archive_keys import ArchiveKeyRing
from ..backup_format.findings import Finding, FindingCode
from ..backup_format.inner_tar import StopWalk
from ..backup_format.securetar_header import Encryption
from ..backup_format.tar_entry import DataSink, EntryType, TarEntry, normalise_member_path
from .archive_walk import EntryNotFoundError, ProgressTotals, require_archive, walk_archive
from .backup_overview import BackupOverview, InnerArchive
from .check_job import archive_read_gate, keyring_for
from .extract_writer import ConflictPolicy, DiskFullError, ExtractReport, SafeExtractor
from .progress import CancelToken, ProgressCallback

__all__ = ["ConflictPolicy", "EntryNotFoundError", "ExtractReport", "extract", "read_entry"]

Selection = tuple[str, list[str]]
NOT_IN_ARCHIVE = "not in the archive"
NOT_REACHED = "could not be read: the archive is damaged before it (see the problems)"


class _StopAfterClose(DataSink):
    """Passes data to the real sink; after the member is complete, ends the walk if all is found."""

    def __init__(self, inner: DataSink, is_done: Callable[[], bool]) -> None:
        self._inner = inner
        self._is_done = is_done

    def write(self, data: bytes | memoryview) -> None:
        self._inner.write(data)

    def close(self) -> None:
        self._inner.close()
        if self._is_done():
            raise StopWalk

    def abort(self) -> None:
        self._inner.abort()


class _SelectionTracker:
    """Knows which selected paths were met, and when nothing more can be selected.

    A selected directory can gain entries until the end of the archive, so an
    early stop is only possible when every selected path turned out to be a
    non-directory entry that has been seen.
    """

    def __init__(self, paths: list[str]) -> None:
        self.wanted = {normalise_member_path(p) for p in paths}
        self.finished: set[str] = set()
        self.seen: set[str] = set()

    def note(self, entry: TarEntry) -> None:
        """Mark the selected paths at or above `entry` as seen.

        Looks up the entry's ancestors in the set of wanted paths (work per
        entry grows with its depth, not with the number of selected paths).
        """
        if "." in self.wanted:
            self.seen.add(".")
        candidate = entry.path
        while True:
            if candidate in self.wanted:
                self.seen.add(candidate)
            cut = candidate.rfind("/")
            if cut < 0:
                break
            candidate = candidate[:cut]
        if entry.path in self.wanted and entry.type != EntryType.DIR:
            self.finished.add(entry.path)

    def all_done(self) -> bool:
        """Whether every selected path was a non-folder entry that has been seen."""
        return bool(self.wanted) and len(self.finished) == len(self.wanted)


def _extract_one_archive(
    overview: BackupOverview,
    archive: InnerArchive,
    paths: list[str],
    keyring: ArchiveKeyRing | None,
    destination: Path,
    conflict: ConflictPolicy,
    totals: ProgressTotals,
) -> ExtractReport:
    tracker = _SelectionTracker(paths)
    # Leaving the block always calls finish(): a cancelled or failed walk
    # removes the partial file and still reports what was decided.
    with SafeExtractor(
        destination,
        selected_paths=sorted(tracker.wanted),
        conflict=conflict,
        archive_name=archive.name,
    ) as extractor:

        def on_entry(entry: TarEntry) -> DataSink | None:
            tracker.note(entry)
            sink = extractor.on_entry(entry)
            if sink is not None and entry.path in tracker.wanted:
                return _StopAfterClose(sink, tracker.all_done)
            if sink is None and tracker.all_done():
                raise StopWalk
            return sink

        problem = walk_archive(overview, archive, keyring, on_entry, totals).problem
    report = extractor.finish()
    if problem is not None:
        report.problems.append(problem)
        if report.written and archive.encryption != Encryption.V3:
            report.problems.append(_unverified_files_finding(archive, len(report.written)))
    missing_reason = NOT_IN_ARCHIVE if problem is None else NOT_REACHED
    for wanted in sorted(tracker.wanted - tracker.seen):
        report.skipped.append((f"{archive.name}/{wanted}", missing_reason))
    if report.pending_hardlinks:
        pending, report.pending_hardlinks = report.pending_hardlinks, []
        report.merge(
            _extract_hardlink_targets(
                overview, archive, keyring, destination, conflict, pending, totals
            )
        )
    return report


def _unverified_files_finding(archive: InnerArchive, count: int) -> Finding:
    """Files written before damage was found, from an archive checked only as a whole.

    A gzip checksum covers the whole archive and is only known at its end, so
    the files written before may hold damaged bytes. (SecureTar v3
    authenticates every 1 MiB block before any of it is written, so there the
    files before the damage are known to be intact.)
    """
    return Finding(
        FindingCode.ARCHIVE_CORRUPT,
        f"The {count} file(s) written from {archive.file_name} could not be verified: the archive's "
        "checksum covers all of it, so any of them may hold damaged bytes. Compare them with another "
        "backup before relying on them.",
        archive.name,
    )


def _extract_hardlink_targets(
    overview: BackupOverview,
    archive: InnerArchive,
    keyring: ArchiveKeyRing | None,
    destination: Path,
    conflict: ConflictPolicy,
    pending: list[tuple[str, str]],
    totals: ProgressTotals,
) -> ExtractReport:
    """Second pass: selected hard links whose target was not selected get the target's bytes.

    A stream cannot seek back (the "seeking backwards is not allowed" failure
    of tarfile-based tools, format-spec §5), so the archive is read again, up
    to the last target only (targets come before their links in a tar).
    """
    remaining = {target for _link, target in pending}
    with SafeExtractor.for_pending_hardlinks(
        destination, pending, archive_name=archive.name, conflict=conflict
    ) as extractor:

        def on_entry(entry: TarEntry) -> DataSink | None:
            is_target = entry.type == EntryType.FILE and entry.path in remaining
            remaining.discard(entry.path)
            sink = extractor.on_entry(entry)
            if is_target and sink is not None:
                return _StopAfterClose(sink, lambda: not remaining)
            return sink

        problem = walk_archive(overview, archive, keyring, on_entry, totals).problem
    report = extractor.finish()
    if problem is not None:
        report.problems.append(problem)
    return report


def extract(
    overview: BackupOverview,
    selections: list[Selection],
    password: str | None,
    destination: Path,
    conflict: ConflictPolicy = ConflictPolicy.SKIP,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ExtractReport:
    """Extract the selected paths (empty list = whole archive) of each archive into `destination`.

    Files land at destination/<entry path>. Problems (wrong password, damaged
    archive, unsafe entries) are in the report; a full disk ends the
    extraction with the report so far and a problem saying so. Raises
    ArchiveNotFoundError for an unknown archive and JobCancelledError when
    cancelled (files written so far stay, complete; the one in progress is removed).
    """
    archives = [(require_archive(overview, name), paths) for name, paths in selections]
    keyring = keyring_for(password)
    totals = ProgressTotals(sum(a.member.available_size for a, _ in archives), progress, cancel)
    report = ExtractReport()
    for archive, paths in archives:
        gate = archive_read_gate(overview, archive, password, keyring)
        if not gate.ok:
            report.problems.extend(gate.problems)
            continue
        try:
            report.merge(
                _extract_one_archive(
                    overview, archive, paths, keyring, destination, conflict, totals
                )
            )
        except DiskFullError as err:
            # The file being written was removed; everything before it is complete.
            report.merge(err.report)
            report.stopped_reason = f"the destination is full: {err}"
            break
    return report


def read_entry(
    overview: BackupOverview,
    archive_name: str,
    path: str,
    password: str | None,
    sink: DataSink,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
) -> TarEntry:
    """Stream one regular file's bytes into `sink` (download, preview); read no further than needed.

    Raises EntryNotFoundError when the path is absent or not a file, and
    ArchiveReadError-derived ValueError (`ReadEntryError`) when the archive
    cannot be read up to it.
    """
    archive = require_archive(overview, archive_name)
    keyring = keyring_for(password)
    gate = archive_read_gate(overview, archive, password, keyring)
    if not gate.ok:
        raise ReadEntryError(gate.problems[0].message)
    wanted = normalise_member_path(path)
    found: list[TarEntry] = []

    def on_entry(entry: TarEntry) -> DataSink | None:
        if entry.path != wanted:
            return None
        found.append(entry)
        if entry.type == EntryType.FILE:
            return _StopAfterClose(sink, lambda: True)
        raise StopWalk

    outcome = walk_archive(
        overview,
        archive,
        keyring,
        on_entry,
        ProgressTotals(archive.member.available_size, progress, cancel),
    )
    if not found:
        if outcome.problem is not None:
            raise ReadEntryError(outcome.problem.message)
        raise EntryNotFoundError(f"{archive.name} has no entry {wanted!r}")
    entry = found[0]
    if entry.type == EntryType.HARDLINK:
        return read_entry(overview, archive_name, entry.link, password, sink, cancel, progress)
    if entry.type != EntryType.FILE:
        raise EntryNotFoundError(f"{wanted!r} is a {entry.type.value}, not a file")
    if outcome.problem is not None:
        raise ReadEntryError(outcome.problem.message)
    return entry


class ReadEntryError(ValueError):
    """The archive could not be read up to and through the wanted file; the message says why."""
