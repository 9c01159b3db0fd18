"""Take chosen files and folders out of a backup, and stream single files out.

Streaming: each inner archive is read once, in place, to its end (a later
member with the same name wins, as in tar), plus a second read up to the
last hard-link target when a selected link's target was not selected. A
single file (read_entry) is read only up to it when a complete listing says
no other member has its name. Safety lives in
SafeExtractor (nothing lands outside the destination, no overwrite unless
asked, temporary names until complete); this module wires archives,
passwords, progress and the hard-link second pass around it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..backup_format.archive_keys import ArchiveKeyRing
from ..backup_format.findings import Finding, FindingCode
from ..backup_format.inner_tar import StopWalk
from ..backup_format.securetar_header import Encryption
from ..backup_format.tar_entry import DataSink, EntryType, TarEntry, normalise_member_path
from .archive_walk import EntryNotFoundError, ProgressTotals, require_archive, walk_archive
from .backup_overview import BackupOverview, InnerArchive
from .check_job import archive_read_gate, keyring_for
from .extract_writer import (
    DEFAULT_DISK_RESERVE_BYTES,
    LOW_SPACE_FLOOR_BYTES,
    ConflictPolicy,
    DiskFullError,
    ExtractReport,
    SafeExtractor,
    prefixes_of_lengths,
)
from .progress import CancelToken, ProgressCallback

__all__ = ["ConflictPolicy", "EntryNotFoundError", "ExtractReport", "extract", "read_entry"]

Selection = tuple[str, list[str]]
NOT_IN_ARCHIVE = "not in the archive"
NOT_REACHED = "could not be read: the archive is damaged before it (see the problems)"
# Hops followed from a hard link to the file with its bytes; tar links point
# straight at a file, so a longer chain is crafted (issue 9, finding 4).
MAX_HARDLINK_HOPS = 8


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
    """Knows which selected paths were met in the archive.

    The walk never stops early for an extraction: a later member with the
    same name replaces an earlier one (tar and a Home Assistant restore keep
    the last copy), and only the end of the archive tells that none follows.
    """

    def __init__(self, paths: list[str]) -> None:
        self.wanted = {normalise_member_path(p) for p in paths}
        self.seen: set[str] = set()
        self._wanted_lengths = {len(path) for path in self.wanted}

    def note(self, entry: TarEntry) -> None:
        """Mark the selected paths at or above `entry` as seen.

        Only the entry's ancestors as long as some selected path are looked
        up, so the work per entry grows with its name, not with the number
        of selected paths or (quadratically) with its depth.
        """
        if not self.wanted:
            return
        if "." in self.wanted:
            self.seen.add(".")
        for prefix in prefixes_of_lengths(entry.path, self._wanted_lengths):
            if prefix in self.wanted:
                self.seen.add(prefix)


def _extract_one_archive(
    overview: BackupOverview,
    archive: InnerArchive,
    paths: list[str],
    keyring: ArchiveKeyRing | None,
    destination: Path,
    conflict: ConflictPolicy,
    totals: ProgressTotals,
    free_space_floor_bytes: int,
) -> ExtractReport:
    tracker = _SelectionTracker(paths)
    # Leaving the block always calls finish(): a cancelled or failed walk
    # removes the partial file and still reports what was decided.
    with SafeExtractor(
        destination,
        selected_paths=sorted(tracker.wanted),
        conflict=conflict,
        archive_name=archive.name,
        free_space_floor_bytes=free_space_floor_bytes,
    ) as extractor:

        def on_entry(entry: TarEntry) -> DataSink | None:
            tracker.note(entry)
            return extractor.on_entry(entry)

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
        positions, report.pending_link_positions = report.pending_link_positions, {}
        report.merge(
            _extract_hardlink_targets(
                overview,
                archive,
                keyring,
                destination,
                conflict,
                (pending, positions),
                totals,
                free_space_floor_bytes,
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
    pending_links: tuple[list[tuple[str, str]], dict[str, int]],
    totals: ProgressTotals,
    free_space_floor_bytes: int,
) -> ExtractReport:
    """Second pass: selected hard links whose target was not selected get the target's bytes.

    A stream cannot seek back (the "seeking backwards is not allowed" failure
    of tarfile-based tools, format-spec §5), so the archive is read again, up
    to the last link (its target comes before it in a tar). Each link gets
    the last copy of its target before it, as tar would have linked.
    """
    pending, positions = pending_links
    last_link_position = max(positions.values(), default=None)
    position = [-1]
    with SafeExtractor.for_pending_hardlinks(
        destination,
        pending,
        archive_name=archive.name,
        conflict=conflict,
        free_space_floor_bytes=free_space_floor_bytes,
        link_positions=positions,
    ) as extractor:

        def on_entry(entry: TarEntry) -> DataSink | None:
            position[0] += 1
            if last_link_position is not None and position[0] >= last_link_position:
                raise StopWalk  # every link's target copies have gone by
            return extractor.on_entry(entry)

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
    *,
    disk_reserve_bytes: int = DEFAULT_DISK_RESERVE_BYTES,
    allow_low_space: bool = False,
) -> ExtractReport:
    """Extract the selected paths (empty list = whole archive) of each archive into `destination`.

    Files land at destination/<entry path>. Problems (wrong password, damaged
    archive, unsafe entries) are in the report. Writing stops before a file
    would leave less than `disk_reserve_bytes` free (or, with
    `allow_low_space`, the user agreed to go below: less than
    LOW_SPACE_FLOOR_BYTES); the report then says why. Raises
    ArchiveNotFoundError for an unknown archive and JobCancelledError when
    cancelled (files written so far stay, complete; the one in progress is removed).
    """
    archives = [(require_archive(overview, name), paths) for name, paths in selections]
    keyring = keyring_for(password)
    totals = ProgressTotals(sum(a.member.available_size for a, _ in archives), progress, cancel)
    report = ExtractReport()
    floor = (
        min(disk_reserve_bytes, LOW_SPACE_FLOOR_BYTES) if allow_low_space else disk_reserve_bytes
    )
    for archive, paths in archives:
        gate = archive_read_gate(overview, archive, password, keyring)
        if not gate.ok:
            report.problems.extend(gate.problems)
            continue
        try:
            report.merge(
                _extract_one_archive(
                    overview, archive, paths, keyring, destination, conflict, totals, floor
                )
            )
        except DiskFullError as err:
            # The file being written was removed; everything before it is complete.
            report.merge(err.report)
            report.stopped_reason = report.stopped_reason or str(err)
            break
    return report


@dataclass(frozen=True)
class _Occurrence:
    """One member of an archive: its position among the members, and its header."""

    ordinal: int
    entry: TarEntry


def _last_occurrence(
    overview: BackupOverview,
    archive: InnerArchive,
    keyring: ArchiveKeyRing | None,
    path: str,
    before_ordinal: int | None,
    totals: ProgressTotals,
) -> tuple[_Occurrence | None, Finding | None]:
    """The last member called `path` (before `before_ordinal`, if given), and the walk's problem.

    Reads no data and stops at `before_ordinal`. Without it the walk goes to
    the end of the archive: a later copy of the same name replaces an earlier
    one (tar and a Home Assistant restore keep the last), and only the end
    tells that none follows. When the archive is damaged, the last copy before
    the damage is the one the listing shows too.
    """
    counter = [0]
    found: list[_Occurrence] = []

    def on_entry(entry: TarEntry) -> DataSink | None:
        ordinal = counter[0]
        counter[0] += 1
        if before_ordinal is not None and ordinal >= before_ordinal:
            raise StopWalk
        if entry.path == path:
            found[:] = [_Occurrence(ordinal, entry)]
        return None

    problem = walk_archive(overview, archive, keyring, on_entry, totals).problem
    return (found[0] if found else None), problem


def _locate_file(
    overview: BackupOverview,
    archive: InnerArchive,
    keyring: ArchiveKeyRing | None,
    wanted: str,
    totals: ProgressTotals,
) -> _Occurrence:
    """The regular-file member whose bytes `wanted` stands for: its last copy, links followed.

    Walks to the end of the archive (see `_last_occurrence`), then follows
    hard links (see `_follow_hard_links`).
    """
    occurrence, problem = _last_occurrence(overview, archive, keyring, wanted, None, totals)
    if occurrence is None:
        if problem is not None:
            raise ReadEntryError(problem.message)
        raise _not_in_archive(archive, wanted)
    return _follow_hard_links(overview, archive, keyring, wanted, occurrence, totals)


def _follow_hard_links(
    overview: BackupOverview,
    archive: InnerArchive,
    keyring: ArchiveKeyRing | None,
    wanted: str,
    occurrence: _Occurrence,
    totals: ProgressTotals,
) -> _Occurrence:
    """The regular-file member that `occurrence` (the member called `wanted`) stands for.

    A hard link means the file that carried its target's name at that point
    of the archive: the last copy of the target *before* the link. Each hop
    is one walk, at most MAX_HARDLINK_HOPS of them, so a loop or a long chain
    of links is a clear refusal instead of a thousand re-reads (issue 9).
    """
    hops = 0
    while occurrence.entry.type is EntryType.HARDLINK:
        if hops == MAX_HARDLINK_HOPS:
            raise ReadEntryError(
                f"The hard link {wanted!r} is part of a chain of more than {MAX_HARDLINK_HOPS} "
                "links; it is not followed."
            )
        hops += 1
        target = occurrence.entry.link
        found, problem = _last_occurrence(
            overview, archive, keyring, target, occurrence.ordinal, totals
        )
        if found is None:
            if problem is not None:
                raise ReadEntryError(problem.message)
            raise ReadEntryError(
                f"The hard link {wanted!r} leads to {target!r}, which does not come before it "
                "in the archive (a missing target or a loop of links); it cannot be read."
            )
        occurrence = found
    if occurrence.entry.type is not EntryType.FILE:
        raise EntryNotFoundError(f"{wanted!r} is a {occurrence.entry.type.value}, not a file")
    return occurrence


def _not_in_archive(archive: InnerArchive, wanted: str) -> EntryNotFoundError:
    """The error for a path no member carries."""
    return EntryNotFoundError(f"{archive.name} has no entry {wanted!r}")


def _stream_only_copy(
    overview: BackupOverview,
    archive: InnerArchive,
    keyring: ArchiveKeyRing | None,
    wanted: str,
    sink: DataSink,
    totals: ProgressTotals,
    on_located: Callable[[TarEntry], None] | None,
) -> _Occurrence:
    """One walk to the first member called `wanted`, for a path that occurs only once.

    A regular file is announced to `on_located`, streamed into `sink`, and
    the walk stops right after it: no later copy can replace it, so nothing
    after it is read. Any other member (a hard link, a folder) is returned
    unread, and the walk stops at it.
    """
    counter = [0]
    found: list[_Occurrence] = []

    def on_entry(entry: TarEntry) -> DataSink | None:
        ordinal = counter[0]
        counter[0] += 1
        if entry.path != wanted:
            return None
        found.append(_Occurrence(ordinal, entry))
        if entry.type is not EntryType.FILE:
            raise StopWalk
        if on_located is not None:
            on_located(entry)
        return _StopAfterClose(sink, lambda: True)

    outcome = walk_archive(overview, archive, keyring, on_entry, totals)
    if outcome.problem is not None:  # before the member, or inside the file being streamed
        raise ReadEntryError(outcome.problem.message)
    if not found:
        raise _not_in_archive(archive, wanted)
    return found[0]


def _stream_located(
    overview: BackupOverview,
    archive: InnerArchive,
    keyring: ArchiveKeyRing | None,
    located: _Occurrence,
    sink: DataSink,
    totals: ProgressTotals,
) -> None:
    """Walk to the member found by an earlier walk, stream it into `sink`, and stop after it."""
    counter = [0]
    was_streamed = [False]

    def on_entry(entry: TarEntry) -> DataSink | None:
        ordinal = counter[0]
        counter[0] += 1
        if ordinal < located.ordinal:
            return None
        if entry.path != located.entry.path or entry.type is not EntryType.FILE:
            raise StopWalk  # the backup file changed between the two walks
        was_streamed[0] = True
        return _StopAfterClose(sink, lambda: True)

    outcome = walk_archive(overview, archive, keyring, on_entry, totals)
    if outcome.problem is not None:
        raise ReadEntryError(outcome.problem.message)
    if not was_streamed[0]:
        raise ReadEntryError(f"{archive.name} changed while {located.entry.path!r} was being read")


def read_entry(
    overview: BackupOverview,
    archive_name: str,
    path: str,
    password: str | None,
    sink: DataSink,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
    on_located: Callable[[TarEntry], None] | None = None,
    occurs_once: bool | None = None,
) -> TarEntry:
    """Stream the bytes of one regular file (the last copy of its name) into `sink`.

    Used by download and preview. `on_located` is told the header of the
    member that will be sent before any byte is, so a download can announce
    the exact length.

    `occurs_once` is what a complete listing knows of the path
    (`BrowsableIndex.occurs_once`). When True, the first copy is the last: one
    walk streams it and stops after it, so a file near the start of a 2 GB
    archive is read in a second, not a minute. Otherwise (no listing, an
    unfinished one, or a duplicated path) a first walk reads the archive to
    its end to find the last member with that name (following hard links,
    see `_locate_file`), and a second walk streams that very member.

    Raises EntryNotFoundError when the path is absent or not a file, and
    `ReadEntryError` when the archive cannot be read up to it or a hard link
    cannot be followed.
    """
    archive = require_archive(overview, archive_name)
    keyring = keyring_for(password)
    gate = archive_read_gate(overview, archive, password, keyring)
    if not gate.ok:
        raise ReadEntryError(gate.problems[0].message)
    wanted = normalise_member_path(path)
    # Up to two walks (more to follow hard links): progress runs over two.
    totals = ProgressTotals(2 * archive.member.available_size, progress, cancel)
    if occurs_once:
        only_copy = _stream_only_copy(overview, archive, keyring, wanted, sink, totals, on_located)
        if only_copy.entry.type is EntryType.FILE:
            return only_copy.entry
        located = _follow_hard_links(overview, archive, keyring, wanted, only_copy, totals)
    else:
        located = _locate_file(overview, archive, keyring, wanted, totals)
    if on_located is not None:
        on_located(located.entry)
    _stream_located(overview, archive, keyring, located, sink, totals)
    return located.entry


class ReadEntryError(ValueError):
    """The archive could not be read up to and through the wanted file; the message says why."""
