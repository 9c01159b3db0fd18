"""Writes the entries of one inner archive to disk, safely, and reports every decision.

The tar reader calls `SafeExtractor.on_entry()` for each member, streams a regular
file's bytes into the returned DataSink, then calls `close()` or `abort()`.
The extractor guarantees (user-needs §3.6, format-spec §5):

* nothing is created outside the destination folder, and nothing is ever written
  through a symbolic link — the parent folders are re-checked component by
  component at write time, because a later member can change what an earlier
  link points to;
* a file only gets its final name once all its bytes arrived (it is written as
  ".<name>.bi-partial-<random>" first), so a damaged archive, a cancelled job or
  a full disk never leave a half-written file that looks complete;
* existing files are only replaced with ConflictPolicy.OVERWRITE, and two members
  whose names map to the same name on disk never replace each other;
* hard links never need the tar stream to seek back (supervisor#7213): they are
  made from the file this run already wrote, or listed as pending;
* every member the caller selected ends up in exactly one of the report's lists.

The file-system primitives it builds on (exclusive creation, moves that never
replace, copies via partial files) live in `extract_files.py`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from backup_inspector.backup_format.findings import Finding, FindingCode
from backup_inspector.backup_format.safe_paths import (
    WINDOWS_FORBIDDEN_CHARACTERS,
    EntryDecision,
    NamePolicy,
    Verdict,
    default_name_policy,
    judge_entry,
    portable_name,
    resolve_dot_components,
    safe_directory_mode,
    safe_file_mode,
)
from backup_inspector.backup_format.tar_entry import (
    DataSink,
    EntryType,
    TarEntry,
    normalise_member_path,
)

from . import extract_files as files
from .archive_walk import shortened_name
from .content_hash import TeeSink
from .extract_files import EntryRefusedError, EntrySkippedError
from .symlink_chains import SymlinkChainGuard

# Room kept free on the destination. Home Assistant OS keeps /share and
# /backup on its data partition, and the Supervisor refuses backups, restores
# and updates below 2 GB free (issue 9, finding 6).
DEFAULT_DISK_RESERVE_BYTES = 2 * 1024 * 1024 * 1024
# Where writing stops even after the user agreed to cut into the reserve:
# the disk never reaches 0 bytes free.
LOW_SPACE_FLOOR_BYTES = 64 * 1024 * 1024
# While a file is written, free space is looked at again after this many
# bytes (other programs write to the same disk).
FREE_SPACE_RECHECK_BYTES = 8 * 1024 * 1024
_DEFAULT_NAME_MAX_BYTES = 255
MAX_NUMBERED_NAMES = 10_000
# Folders one extraction may create, counted as the work of finding and
# making them: levels newly made times the depth of the path. A real
# archive's 100 000 folders 8 levels deep cost about 1 M; 2 000 names 1 000
# levels deep, each under a folder of its own, would cost 2 000 M (minutes
# of kernel path walks and gigabytes of remembered paths). Past the budget,
# only entries whose folders exist already are written.
MAX_FOLDER_WORK = 4_000_000
FOLDER_BUDGET_REASON = (
    "its folders would take this extraction past what Backup Inspector creates in one go "
    "(a tree of very many very deep folders); it was not extracted"
)


def prefixes_of_lengths(path: str, lengths: set[int]) -> Iterator[str]:
    """`path` and its ancestor folders ("a/b/c" → "a", "a/b", "a/b/c") whose length is in `lengths`."""
    cut = path.find("/")
    while cut >= 0:
        if cut in lengths:
            yield path[:cut]
        cut = path.find("/", cut + 1)
    if len(path) in lengths:
        yield path


class ConflictPolicy(StrEnum):
    """What to do when a file to extract already exists in the destination."""

    SKIP = "skip"
    OVERWRITE = "overwrite"
    KEEP_BOTH = "keep-both"  # the new file becomes "name (1).ext", "name (2).ext", …


@dataclass
class ExtractReport:
    """Everything an extraction decided, entry by entry.

    `written` holds paths on disk relative to the destination (after renames);
    `skipped` and `refused` hold (archive path, reason); `renamed` holds
    (archive path, path on disk); `pending_hardlinks` holds (link path, target
    path) for hard links whose target was not extracted in this run — the caller
    can pass them to `SafeExtractor.for_pending_hardlinks()` for a second pass
    over the same archive. `refused` means unsafe (or no space left); `skipped`
    means harmless but not written (exists, special file, write error).
    """

    written: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    pending_hardlinks: list[tuple[str, str]] = field(default_factory=list)
    # Pending link path → its position among the archive's members (not in the
    # JSON): the second pass gives it the last copy of its target before it.
    pending_link_positions: dict[str, int] = field(default_factory=dict)
    bytes_written: int = 0
    problems: list[Finding] = field(default_factory=list)
    # Set when the extraction ended early (a full disk); None when it ran to the end.
    stopped_reason: str | None = None

    def merge(self, other: ExtractReport) -> ExtractReport:
        """Append `other`'s decisions to this report (in place) and return this report.

        In place so that a job can collect the reports of several archives in one
        object. Pending hard links are per archive: resolve them before merging
        reports of different archives. The first stop reason wins.
        """
        self.written.extend(other.written)
        self.skipped.extend(other.skipped)
        self.refused.extend(other.refused)
        self.renamed.extend(other.renamed)
        self.pending_hardlinks.extend(other.pending_hardlinks)
        self.pending_link_positions.update(other.pending_link_positions)
        self.bytes_written += other.bytes_written
        self.problems.extend(other.problems)
        if self.stopped_reason is None:
            self.stopped_reason = other.stopped_reason
        return self

    def to_json(self) -> dict[str, object]:
        """The JSON shape of `extract --json` and of the web extract result."""
        return {
            "written": list(self.written),
            "skipped": [{"path": path, "reason": reason} for path, reason in self.skipped],
            "refused": [{"path": path, "reason": reason} for path, reason in self.refused],
            "renamed": [{"from": old, "to": new} for old, new in self.renamed],
            "pending_hardlinks": [
                {"path": link, "target": target} for link, target in self.pending_hardlinks
            ],
            "bytes_written": self.bytes_written,
            "problems": [problem.to_json() for problem in self.problems],
            "stopped_reason": self.stopped_reason,
        }


class DiskFullError(Exception):
    """The destination ran out of space; extraction stopped cleanly.

    Carries the report of everything decided so far. No file is left behind
    half-written under its final name.
    """

    def __init__(self, message: str, report: ExtractReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True, slots=True)
class _WrittenFile:
    """A regular file this run wrote: where it is, and which inode it must still be."""

    actual_parts: tuple[str, ...]
    device: int
    inode: int


@dataclass(frozen=True, slots=True)
class _PlannedSymlink:
    """A symbolic link to create at the end of the run, once every file and folder exists."""

    entry: TarEntry
    parent_actual: tuple[str, ...]
    name: str
    target_on_disk: str


class _SinkState(StrEnum):
    OPEN = "open"
    DONE = "done"
    DISCARDED = "discarded"


class SafeExtractor:
    """Extracts the entries of one inner archive into `destination_dir`; see the module doc.

    Use one extractor per inner archive and call `finish()` at the end (it
    restores folder times and re-checks symbolic links). `selected_paths` are
    normalised entry paths: an entry is extracted if it equals one of them or
    lies below one; an empty list selects everything.
    """

    def __init__(
        self,
        destination_dir: Path,
        *,
        archive_name: str,
        selected_paths: Sequence[str] = (),
        conflict: ConflictPolicy | str = ConflictPolicy.SKIP,
        name_policy: NamePolicy | str | None = None,
        free_space_floor_bytes: int = DEFAULT_DISK_RESERVE_BYTES,
    ) -> None:
        Path(destination_dir).mkdir(parents=True, exist_ok=True)
        # Everything is checked against the real path, so a destination reached
        # through a symlink (e.g. /tmp on macOS) still works.
        self._destination_real = Path(os.path.realpath(destination_dir))
        self._archive_name = archive_name
        self._conflict = ConflictPolicy(conflict)
        self._name_policy = NamePolicy(name_policy) if name_policy else default_name_policy()
        # Writing stops before free space would drop below this.
        self._free_space_floor_bytes = free_space_floor_bytes
        self._selected_paths = frozenset(normalise_member_path(path) for path in selected_paths)
        self._selects_everything = not self._selected_paths or "." in self._selected_paths
        self._selected_lengths = {len(path) for path in self._selected_paths}
        # Second pass only: target member parts → link paths waiting for its bytes.
        # (link path, its member position) pairs; a position of None means "any".
        self._pending_link_paths_by_target: (
            dict[tuple[str, ...], list[tuple[str, int | None]]] | None
        ) = None
        self._served_link_paths: set[str] = set()
        # Position of the current member in the archive (0 for the first).
        self._entry_position = -1

        self._report = ExtractReport()
        self._finished_report: ExtractReport | None = None
        # archive folder parts → folder parts on disk (differs after renames)
        self._actual_dirs: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._folder_work = 0  # see MAX_FOLDER_WORK
        # folder parts on disk → (st_dev, st_ino) of the real folder checked level by
        # level once in this run; later uses compare one lstat with it (issue 9, finding 3)
        self._verified_dirs: dict[tuple[str, ...], tuple[int, int]] = {}
        self._folder_paths: dict[tuple[str, ...], Path] = {}
        self._created_dirs: set[tuple[str, ...]] = set()
        self._directory_mtimes: dict[tuple[str, ...], float] = {}
        # Which archive entries produced an object on disk in this run; used to
        # tell "two members meet on one name" from "the file existed before".
        self._owners_by_inode: dict[tuple[int, int], set[str]] = {}
        self._owners_by_path: dict[str, set[str]] = {}
        self._written_files: dict[tuple[str, ...], _WrittenFile] = {}
        self._unwritten_files: set[tuple[str, ...]] = set()
        self._hardlink_aliases: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._created_symlinks: list[tuple[str, tuple[str, ...]]] = []
        # archive path → link to create in finish(); a later member of that name replaces it
        self._planned_symlinks: dict[str, _PlannedSymlink] = {}
        self._symlink_guard = SymlinkChainGuard(str(self._destination_real))
        # Partial files of an extraction that was killed (SIGKILL, power loss) go first.
        files.remove_stale_partials(self._destination_real)
        self._reported_renames: set[tuple[str, str]] = set()
        self._written_paths: set[str] = set()
        self._open_sinks: list[_PartialFileSink] = []

    @classmethod
    def for_pending_hardlinks(
        cls,
        destination_dir: Path,
        pending_hardlinks: Sequence[tuple[str, str]],
        *,
        archive_name: str,
        link_positions: Mapping[str, int] | None = None,
        conflict: ConflictPolicy | str = ConflictPolicy.SKIP,
        name_policy: NamePolicy | str | None = None,
        free_space_floor_bytes: int = DEFAULT_DISK_RESERVE_BYTES,
    ) -> SafeExtractor:
        """An extractor for a second pass that writes only the pending hard links.

        When the first pass met a hard link whose target was not selected, the
        target's bytes had already gone by in the stream. Reading the archive
        again with this extractor writes those bytes to each link path (as
        independent copies) and nothing else. With `link_positions` (from the
        first report) a link gets the last copy of its target *before* it, as
        tar does when a name occurs twice; without, the last copy.
        """
        extractor = cls(
            destination_dir,
            archive_name=archive_name,
            conflict=conflict,
            name_policy=name_policy,
            free_space_floor_bytes=free_space_floor_bytes,
        )
        extractor._selects_everything = False
        links_by_target: dict[tuple[str, ...], list[tuple[str, int | None]]] = {}
        positions = link_positions or {}
        for link_path, target_path in pending_hardlinks:
            target_parts = resolve_dot_components(target_path.split("/"))
            if target_parts:
                links_by_target.setdefault(target_parts, []).append(
                    (link_path, positions.get(link_path))
                )
        extractor._pending_link_paths_by_target = links_by_target
        return extractor

    # ----------------------------------------------------------------- entry point

    def on_entry(self, entry: TarEntry) -> DataSink | None:
        """Decide what to do with `entry`; return a sink for a regular file to be written.

        Returns None when nothing is to be read (not selected, a folder or link
        that was created here, or an entry that was skipped or refused — each
        recorded in the report). Raises DiskFullError when the destination is full.
        """
        if self._finished_report is not None:
            raise RuntimeError("SafeExtractor.on_entry() called after finish()")
        self._entry_position += 1
        self._abort_open_sinks("not extracted: the archive reader moved on before the file ended")
        decision = judge_entry(entry)
        if self._pending_link_paths_by_target is not None:
            return self._on_entry_second_pass(entry, decision)
        if not self._is_selected(entry.path):
            self._remember_unselected(entry, decision)
            return None
        return self._extract_entry(entry, decision)

    def finish(self, *, create_symlinks: bool = True) -> ExtractReport:
        """Complete the run: drop unfinished files, create links, restore folder times.

        Symbolic links are created here, last, each only after checking that
        neither it nor any link created before it leads outside the
        destination with it in place (see `symlink_chains`): created earlier,
        a chain of links that are each harmless alone could open a way out,
        and a killed process would leave it behind. Without
        `create_symlinks` (the run failed or was cancelled) they are reported
        as not extracted. Folder times are set last, deepest first, because
        writing into a folder changes its time. Calling it again returns the
        same report.
        """
        if self._finished_report is not None:
            return self._finished_report
        self._abort_open_sinks("not extracted: the extraction ended before the file was complete")
        self._create_planned_symlinks(create_symlinks)
        self._report_links_whose_target_never_came()
        self._remove_symlinks_that_now_escape()
        self._restore_directory_mtimes()
        self._finished_report = self._report
        return self._report

    def __enter__(self) -> SafeExtractor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        """Always finish, so no partial file survives an error in the tar reader."""
        self.finish(create_symlinks=exc_type is None)

    # ------------------------------------------------------------------- selection

    def _is_selected(self, entry_path: str) -> bool:
        """Whether the entry equals a selected path or lies below one."""
        if self._selects_everything:
            return True
        return any(
            prefix in self._selected_paths
            for prefix in prefixes_of_lengths(entry_path, self._selected_lengths)
        )

    def _remember_unselected(self, entry: TarEntry, decision: EntryDecision) -> None:
        """Keep what a later selected hard link needs to know about unselected files."""
        if decision.verdict is not Verdict.EXTRACT:
            return
        if entry.type is EntryType.FILE:
            self._unwritten_files.add(decision.parts)
        elif entry.type is EntryType.HARDLINK:
            # A later link to this link really needs the same bytes.
            self._hardlink_aliases[decision.parts] = self._follow_aliases(decision.link_parts)

    def _on_entry_second_pass(self, entry: TarEntry, decision: EntryDecision) -> DataSink | None:
        """Second pass: write a pending target's bytes to every link path waiting for it."""
        assert self._pending_link_paths_by_target is not None
        if entry.type is not EntryType.FILE or decision.verdict is not Verdict.EXTRACT:
            return None
        waiting = self._pending_link_paths_by_target.get(decision.parts, [])
        link_paths = [
            link_path
            for link_path, position in waiting
            if position is None or self._entry_position < position
        ]
        sinks: list[DataSink] = []
        for link_path in link_paths:
            # A later copy (still before the link) replaces this one: the last wins.
            self._served_link_paths.add(link_path)
            link_entry = dataclasses.replace(entry, path=link_path, raw_name=link_path)
            sink = self._extract_entry(link_entry, judge_entry(link_entry))
            if sink is not None:
                sinks.append(sink)
        if not sinks:
            return None
        return sinks[0] if len(sinks) == 1 else TeeSink(sinks)

    # --------------------------------------------------------------- per-entry work

    def _extract_entry(self, entry: TarEntry, decision: EntryDecision) -> DataSink | None:
        """Carry out `decision` for a selected entry and record the outcome."""
        if entry.type is not EntryType.SYMLINK:
            # A later member with the name of a planned link replaces it (the last wins).
            self._planned_symlinks.pop(entry.path, None)
        if decision.verdict is Verdict.REFUSE:
            self._refuse(entry.path, decision.reason)
            if entry.type is EntryType.FILE and decision.parts:
                self._unwritten_files.add(decision.parts)
            return None
        if decision.verdict is Verdict.SKIP:
            self._skip(entry.path, decision.reason)
            return None
        if not decision.parts:
            # The archive's root "." is the destination folder itself: its time
            # and mode are the user's, not the archive's.
            return None
        file_parts = decision.parts if entry.type is EntryType.FILE else None
        with self._reporting_failures(entry.path, file_parts):
            if entry.type is EntryType.FILE:
                return self._start_file(entry, decision.parts)
            if entry.type is EntryType.DIR:
                self._extract_directory(entry, decision.parts)
            elif entry.type is EntryType.SYMLINK:
                self._extract_symlink(entry, decision.parts)
            elif entry.type is EntryType.HARDLINK:
                self._extract_hardlink(entry, decision)
        return None

    def _start_file(self, entry: TarEntry, parts: tuple[str, ...]) -> DataSink:
        """Prepare a partial file for a regular member; the sink commits it on close()."""
        parent_actual = self._ensure_directory(parts[:-1])
        parent_path = self._path_of(parent_actual)
        name = self._portable_component(parts[-1])
        self._require_name_fits(parent_path, name)
        if self._conflict is ConflictPolicy.SKIP and self._is_taken_by_earlier_file(
            parent_path / name, (*parent_actual, name), entry.path
        ):
            # Decided before any byte is written, so a skipped 4 GB file costs nothing.
            raise EntrySkippedError("exists")
        self._check_free_space(entry.path, entry.size, parent_path)
        sink = _PartialFileSink(self, entry, parts, parent_actual, parent_path, name)
        self._open_sinks.append(sink)
        return sink

    def _commit_file(self, sink: _PartialFileSink) -> None:
        """Give a complete partial file its final name, honouring the conflict policy."""
        parent_path = self._verified_directory(sink.parent_actual)
        final_name = self._place(
            parent_path,
            sink.parent_actual,
            sink.name,
            sink.entry.path,
            create_at=lambda final: files.move_without_replacing(sink.partial_path, final),
            replace_at=lambda final: os.replace(sink.partial_path, final),
        )
        self._record_written_file(sink.entry.path, sink.parts, (*sink.parent_actual, final_name))
        self._report.bytes_written += sink.received_bytes

    def _extract_directory(self, entry: TarEntry, parts: tuple[str, ...]) -> None:
        """Create a folder (or reuse an existing one) and schedule its time."""
        actual = self._ensure_directory(parts)
        if actual not in self._created_dirs:
            # A folder that was there before belongs to the user: keep its mode and time.
            self._skip(entry.path, "folder already exists; entries are extracted into it")
            return
        os.chmod(self._path_of(actual), safe_directory_mode(entry.mode))
        self._directory_mtimes[actual] = entry.mtime
        self._record_written(entry.path, actual)

    def _extract_symlink(self, entry: TarEntry, parts: tuple[str, ...]) -> None:
        """Plan a symbolic link; finish() creates it once all files and folders exist."""
        parent_actual = self._ensure_directory(parts[:-1])
        name = self._portable_component(parts[-1])
        self._planned_symlinks.pop(entry.path, None)  # keep the archive order of the last copy
        self._planned_symlinks[entry.path] = _PlannedSymlink(
            entry, parent_actual, name, self._symlink_target_on_disk(entry.link)
        )

    def _create_planned_symlinks(self, create_symlinks: bool) -> None:
        """Create the planned links in archive order, or report them as not extracted."""
        while self._planned_symlinks:
            archive_path = next(iter(self._planned_symlinks))
            planned = self._planned_symlinks.pop(archive_path)
            if not create_symlinks:
                self._skip(
                    archive_path,
                    "not extracted: the extraction stopped before symbolic links were created",
                )
                continue
            with self._reporting_failures(archive_path, None):
                self._create_symlink(planned)

    def _create_symlink(self, planned: _PlannedSymlink) -> None:
        """Create one link whose target, and every earlier link's, stays inside the destination."""
        entry = planned.entry
        parent_path = self._verified_directory(planned.parent_actual)
        target_on_disk = planned.target_on_disk
        is_directory_link = os.path.isdir(parent_path / target_on_disk)

        def require_admitted(final: Path) -> None:
            reason = self._symlink_refusal_reason(final, target_on_disk)
            if reason is not None:
                raise EntryRefusedError(reason)

        def create_at(final: Path) -> None:
            require_admitted(final)
            files.create_symlink(target_on_disk, final, is_directory_link)

        def replace_at(final: Path) -> None:
            require_admitted(final)
            partial = parent_path / files.partial_name(planned.name)
            files.create_symlink(target_on_disk, partial, is_directory_link)
            files.replace_or_remove(partial, final)

        final_name = self._place(
            parent_path, planned.parent_actual, planned.name, entry.path, create_at, replace_at
        )
        actual = (*planned.parent_actual, final_name)
        final_path = parent_path / final_name
        if os.name != "nt":
            self._symlink_guard.note_created(str(final_path))
        if os.utime in os.supports_follow_symlinks:
            files.set_mtime_quietly(final_path, entry.mtime, follow_symlinks=False)
        self._claim_owner(os.lstat(final_path), actual, entry.path)
        self._created_symlinks.append((entry.path, actual))
        self._record_written(entry.path, actual)

    def _symlink_refusal_reason(self, final: Path, target_on_disk: str) -> str | None:
        """Why a link to `target_on_disk` may not appear at `final`; None when it may."""
        if os.name != "nt":
            return self._symlink_guard.refusal_reason(str(final), target_on_disk)
        # Windows paths do not fit the guard's POSIX resolution; check this link alone.
        resolved_target = os.path.realpath(final.parent / target_on_disk)
        if files.is_within(resolved_target, self._destination_real):
            return None
        return f"symbolic link target resolves outside the destination ({target_on_disk})"

    def _extract_hardlink(self, entry: TarEntry, decision: EntryDecision) -> None:
        """Link to a file this run wrote (copy if linking fails), or mark it pending."""
        parts = decision.parts
        target_parts = self._follow_aliases(decision.link_parts)
        target_record = self._written_files.get(target_parts)
        if target_record is None:
            if target_parts in self._unwritten_files:
                self._report.pending_hardlinks.append((entry.path, "/".join(target_parts)))
                self._report.pending_link_positions[entry.path] = self._entry_position
                self._hardlink_aliases[parts] = target_parts
                return
            raise EntryRefusedError(
                f"hard link target is not a file extracted earlier from this archive ({entry.link})"
            )
        self._verified_directory(target_record.actual_parts[:-1])
        source_path = self._path_of(target_record.actual_parts)
        source_stat = os.lstat(source_path)
        if not stat.S_ISREG(source_stat.st_mode) or (
            source_stat.st_dev,
            source_stat.st_ino,
        ) != (target_record.device, target_record.inode):
            raise EntryRefusedError(
                f"hard link target changed on disk after it was extracted ({entry.link})"
            )
        parent_actual = self._ensure_directory(parts[:-1])
        parent_path = self._path_of(parent_actual)
        name = self._portable_component(parts[-1])
        self._require_name_fits(parent_path, name)
        if self._conflict is ConflictPolicy.SKIP and self._is_taken_by_earlier_file(
            parent_path / name, (*parent_actual, name), entry.path
        ):
            raise EntrySkippedError("exists")
        copied_bytes = [0]

        def create_at(final: Path) -> None:
            copied_bytes[0] += self._link_or_copy(entry.path, source_path, final)

        def replace_at(final: Path) -> None:
            partial = parent_path / files.partial_name(name)
            copied_bytes[0] += self._link_or_copy(entry.path, source_path, partial)
            files.replace_or_remove(partial, final)

        final_name = self._place(
            parent_path, parent_actual, name, entry.path, create_at, replace_at
        )
        self._record_written_file(entry.path, parts, (*parent_actual, final_name))
        self._report.bytes_written += copied_bytes[0]

    def _link_or_copy(self, archive_path: str, source_path: Path, final: Path) -> int:
        """Hard-link `source_path` at `final`; copy it where links are impossible.

        Returns the number of bytes copied (0 for a link). Raises FileExistsError
        if `final` exists, so the caller's conflict handling stays in charge.
        """
        try:
            os.link(source_path, final)
            return 0
        except FileExistsError:
            raise
        except (OSError, NotImplementedError) as error:
            if isinstance(error, OSError) and files.is_disk_full(error):
                raise
        size_bytes = os.lstat(source_path).st_size
        self._check_free_space(archive_path, size_bytes, final.parent)
        return files.copy_without_replacing(source_path, final)

    # -------------------------------------------------------------- names and folders

    def _ensure_directory(self, archive_parts: tuple[str, ...]) -> tuple[str, ...]:
        """Return the folder on disk for an archive folder, creating missing levels.

        Each level is looked at once per run: when it is created or first
        met (a symlink there means the entry is refused, whatever the link
        points to). After that, one lstat of the whole path must find the
        same folder (device and inode) it found then — a symlink swapped in
        anywhere on the way leads to another inode, or is itself a link —
        so 2 000 files 1 000 levels deep cost 2 000 checks, not 2 000 000.
        """
        if not archive_parts:
            return ()
        cached = self._actual_dirs.get(archive_parts)
        if cached is not None:
            self._verified_directory(cached)
            return cached
        if self._folder_work >= MAX_FOLDER_WORK and archive_parts[:-1] not in self._actual_dirs:
            raise EntryRefusedError(FOLDER_BUDGET_REASON)
        # The deepest level already known; usually the parent.
        depth = len(archive_parts) - 1
        while depth > 0 and archive_parts[:depth] not in self._actual_dirs:
            depth -= 1
        self._folder_work += (len(archive_parts) - depth) * len(archive_parts)
        if self._folder_work > MAX_FOLDER_WORK:
            raise EntryRefusedError(FOLDER_BUDGET_REASON)
        actual: tuple[str, ...] = self._actual_dirs[archive_parts[:depth]] if depth else ()
        current_path = self._verified_directory(actual)
        for level in range(depth + 1, len(archive_parts) + 1):
            archive_key = archive_parts[:level]
            actual = self._claim_directory(current_path, actual, archive_key)
            self._actual_dirs[archive_key] = actual
            current_path = current_path / actual[-1]
            self._remember_verified(actual, current_path)
        return actual

    def _remember_verified(self, actual: tuple[str, ...], path: Path) -> None:
        """Record the folder this run checked (or made) at `actual`, as it is now."""
        status = os.lstat(path)
        files.require_real_directory_status(status, actual)
        self._verified_dirs[actual] = (status.st_dev, status.st_ino)

    def _claim_directory(
        self, parent_path: Path, parent_actual: tuple[str, ...], archive_key: tuple[str, ...]
    ) -> tuple[str, ...]:
        """Find or create the folder for `archive_key` inside `parent_path`."""
        archive_dir_path = "/".join(archive_key)
        if archive_dir_path in self._planned_symlinks:
            # The link is only created at the end, but it is a link all the same.
            raise EntryRefusedError(
                f"'{archive_dir_path}' is a symbolic link; nothing is written through links"
            )
        wanted = self._portable_component(archive_key[-1])
        number = 0
        for _attempt in range(MAX_NUMBERED_NAMES):
            candidate = files.numbered_directory_name(wanted, number)
            actual = (*parent_actual, candidate)
            path = parent_path / candidate
            existing = files.lstat_or_none(path)
            if existing is None:
                try:
                    os.mkdir(path)
                except FileExistsError:
                    continue  # appeared meanwhile: look again
                self._created_dirs.add(actual)
                self._claim_owner(os.lstat(path), actual, archive_dir_path)
                self._record_rename(archive_dir_path, "/".join(actual))
                return actual
            if self._belongs_to_other_entry(existing, actual, archive_dir_path):
                number += 1  # two archive names meet on one name on disk
                continue
            if stat.S_ISLNK(existing.st_mode):
                raise EntryRefusedError(
                    f"'{'/'.join(actual)}' is a symbolic link; nothing is written through links"
                )
            if stat.S_ISDIR(existing.st_mode):
                self._claim_owner(existing, actual, archive_dir_path)
                self._record_rename(archive_dir_path, "/".join(actual))
                return actual
            # A file is where this folder has to be.
            if self._conflict is ConflictPolicy.SKIP:
                raise EntrySkippedError(f"'{'/'.join(actual)}' exists and is not a folder")
            if self._conflict is ConflictPolicy.KEEP_BOTH:
                number += 1
                continue
            os.unlink(path)
        raise EntrySkippedError(f"no free name found for folder '{archive_dir_path}'")

    def _portable_component(self, component: str) -> str:
        """The name one path component gets on disk under the name policy."""
        name = portable_name(component, self._name_policy)
        separators = {"/", os.sep} | ({os.altsep} if os.altsep else set())
        if name in ("", ".", "..") or "\0" in name or any(sep in name for sep in separators):
            raise EntryRefusedError(f"name cannot be used on this system ({component!r})")
        if os.name == "nt" and any(char in WINDOWS_FORBIDDEN_CHARACTERS for char in name):
            # On Windows, "a:b" would write an alternate data stream of "a".
            raise EntryRefusedError(
                f"name is not allowed on Windows ({component!r}); use the windows name policy"
            )
        return name

    def _symlink_target_on_disk(self, target: str) -> str:
        """The link target as stored on disk: components renamed like the names they point to."""
        if self._name_policy is NamePolicy.POSIX:
            return target
        components = [
            part if part in ("", ".", "..") else portable_name(part, self._name_policy)
            for part in target.split("/")
        ]
        return os.sep.join(components) if os.name == "nt" else "/".join(components)

    def _path_of(self, actual_parts: tuple[str, ...]) -> Path:
        """The absolute path of an object on disk, from its parts below the destination."""
        if not actual_parts:
            return self._destination_real
        return self._folder_path(actual_parts[:-1]) / actual_parts[-1]

    def _folder_path(self, actual_parts: tuple[str, ...]) -> Path:
        """The absolute path of a folder, built once per run (pathlib is slow on deep paths)."""
        path = self._folder_paths.get(actual_parts)
        if path is None:
            path = Path(os.path.join(self._destination_real, *actual_parts))
            self._folder_paths[actual_parts] = path
        return path

    def _verified_directory(self, actual_parts: tuple[str, ...]) -> Path:
        """The folder's path, after checking that no level of it is (now) a symlink.

        A folder checked level by level earlier in this run only needs one
        lstat: it must still be the same real folder (see `_ensure_directory`).
        Others are walked level by level once, and remembered.
        """
        path = self._folder_path(actual_parts)
        if not actual_parts:
            return path
        known = self._verified_dirs.get(actual_parts)
        if known is not None:
            status = os.lstat(path)
            files.require_real_directory_status(status, actual_parts)
            if (status.st_dev, status.st_ino) != known:
                raise EntryRefusedError(
                    f"'{'/'.join(actual_parts)}' changed on disk during the extraction; "
                    "nothing is written there"
                )
            return path
        current_path = self._destination_real
        for depth in range(1, len(actual_parts) + 1):
            current_path = current_path / actual_parts[depth - 1]
            known_level = self._verified_dirs.get(actual_parts[:depth])
            if known_level is None:
                self._remember_verified(actual_parts[:depth], current_path)
        return self._verified_directory(actual_parts)

    def _require_name_fits(self, parent_path: Path, name: str) -> None:
        """Skip early when the name (or a partial name next to it) cannot exist here."""
        try:
            name_max_bytes = os.pathconf(parent_path, "PC_NAME_MAX")
        except (AttributeError, ValueError, OSError):
            name_max_bytes = _DEFAULT_NAME_MAX_BYTES
        if len(os.fsencode(name)) > name_max_bytes:
            raise EntrySkippedError(
                f"name is longer than this file system allows ({name_max_bytes} bytes)"
            )

    # ----------------------------------------------------------------- conflicts

    def _place(
        self,
        parent_path: Path,
        parent_actual: tuple[str, ...],
        wanted: str,
        archive_path: str,
        create_at: Callable[[Path], None],
        replace_at: Callable[[Path], None],
    ) -> str:
        """Put a new object at `wanted` in `parent_path` under the conflict policy; return its name.

        `create_at(path)` must fail with FileExistsError rather than replace, so
        a file that appears between the check and the creation is never
        clobbered. `replace_at(path)` is only used with OVERWRITE.
        """
        number = 0
        for _attempt in range(MAX_NUMBERED_NAMES):
            candidate = files.numbered_file_name(wanted, number)
            final = parent_path / candidate
            existing = files.lstat_or_none(final)
            if existing is None:
                try:
                    create_at(final)
                except FileExistsError:
                    continue  # appeared meanwhile: decide again with what is there now
                return candidate
            candidate_actual = (*parent_actual, candidate)
            is_earlier_copy = self._is_earlier_copy(existing, candidate_actual, archive_path)
            if not is_earlier_copy and (
                self._belongs_to_other_entry(existing, candidate_actual, archive_path)
                or self._conflict is ConflictPolicy.KEEP_BOTH
            ):
                number += 1
                continue
            if self._conflict is ConflictPolicy.SKIP and not is_earlier_copy:
                raise EntrySkippedError("exists")
            if stat.S_ISDIR(existing.st_mode):
                raise EntrySkippedError(
                    "a folder with this name exists; folders are never replaced"
                )
            replace_at(final)
            return candidate
        raise EntrySkippedError(f"no free name found after {MAX_NUMBERED_NAMES} attempts")

    def _is_taken_by_earlier_file(
        self, path: Path, actual_parts: tuple[str, ...], archive_path: str
    ) -> bool:
        """Whether SKIP would skip this entry right now (a collision is renamed, not skipped)."""
        existing = files.lstat_or_none(path)
        return (
            existing is not None
            and not self._belongs_to_other_entry(existing, actual_parts, archive_path)
            and not self._is_earlier_copy(existing, actual_parts, archive_path)
        )

    def _owner_path_key(self, actual_parts: tuple[str, ...]) -> str:
        joined = "/".join(actual_parts)
        # NTFS compares names case-insensitively; the inode check covers other cases.
        return joined.casefold() if self._name_policy is NamePolicy.WINDOWS else joined

    def _claim_owner(
        self, st: os.stat_result, actual_parts: tuple[str, ...], archive_path: str
    ) -> None:
        """Note that `archive_path` produced (or uses) the object at `actual_parts`."""
        if st.st_ino:
            self._owners_by_inode.setdefault((st.st_dev, st.st_ino), set()).add(archive_path)
        self._owners_by_path.setdefault(self._owner_path_key(actual_parts), set()).add(archive_path)

    def _is_earlier_copy(
        self, st: os.stat_result, actual_parts: tuple[str, ...], archive_path: str
    ) -> bool:
        """Whether this run wrote the object for an earlier member with the same name.

        tar and a Home Assistant restore keep the last of several members with
        one name, so a later copy replaces it whatever the conflict policy
        (the policy is about files that were there before the run).
        """
        if stat.S_ISDIR(st.st_mode):
            return False
        owners = self._owners_by_path.get(self._owner_path_key(actual_parts), set())
        if st.st_ino:
            owners = owners | self._owners_by_inode.get((st.st_dev, st.st_ino), set())
        return archive_path in owners

    def _belongs_to_other_entry(
        self, st: os.stat_result, actual_parts: tuple[str, ...], archive_path: str
    ) -> bool:
        """Whether a different member of this run already owns the object on disk.

        By inode as well as by name, so that names the file system treats as
        equal ("Foo"/"foo" on case-insensitive disks, "a:b"/"a_b" after
        renaming) are detected too.
        """
        owners: set[str] = set()
        if st.st_ino:
            owners |= self._owners_by_inode.get((st.st_dev, st.st_ino), set())
        owners |= self._owners_by_path.get(self._owner_path_key(actual_parts), set())
        return bool(owners) and archive_path not in owners

    # ----------------------------------------------------------------- reporting

    @contextlib.contextmanager
    def _reporting_failures(
        self, archive_path: str, file_parts: tuple[str, ...] | None
    ) -> Iterator[None]:
        """Turn an entry's failure into a report line; stop only when the disk is full."""
        try:
            yield
        except EntryRefusedError as refusal:
            self._remember_unwritten(file_parts)
            self._refuse(archive_path, refusal.reason)
        except EntrySkippedError as skip:
            self._remember_unwritten(file_parts)
            self._skip(archive_path, skip.reason)
        except OSError as error:
            self._remember_unwritten(file_parts)
            if files.is_disk_full(error):
                reason = (
                    f"not enough free space: the disk became full while writing ({error.strerror})"
                )
                raise self._stop_for_full_disk(archive_path, reason) from error
            self._skip(archive_path, f"could not write: {error.strerror or error}")

    def _remember_unwritten(self, file_parts: tuple[str, ...] | None) -> None:
        """A regular file whose bytes did not land: later links to it become pending."""
        if file_parts:
            self._unwritten_files.add(file_parts)

    def _check_free_space(self, archive_path: str, size_bytes: int, directory: Path) -> None:
        """Stop the run before writing a file that would take free space below the floor."""
        free_bytes = shutil.disk_usage(directory).free
        if size_bytes + self._free_space_floor_bytes <= free_bytes:
            return
        reason = (
            f"not enough free space: '{archive_path}' needs {files.format_size(size_bytes)} "
            f"and {files.format_size(self._free_space_floor_bytes)} are kept free, "
            f"but only {files.format_size(free_bytes)} are free"
        )
        raise self._stop_for_full_disk(archive_path, reason)

    def _free_space_dropped_below_floor(self, directory: Path) -> str | None:
        """While writing: why the run must stop now (something else filled the disk), or None."""
        free_bytes = shutil.disk_usage(directory).free
        if free_bytes >= self._free_space_floor_bytes:
            return None
        return (
            f"not enough free space: only {files.format_size(free_bytes)} left free while "
            f"writing, below the {files.format_size(self._free_space_floor_bytes)} kept free"
        )

    def _stop_for_full_disk(self, archive_path: str, reason: str) -> DiskFullError:
        """Refuse the entry, finish the run, and build the error that ends the job."""
        self._report.refused.append((archive_path, reason))
        self._report.stopped_reason = reason
        return DiskFullError(reason, self.finish(create_symlinks=False))

    def _refuse(self, archive_path: str, reason: str) -> None:
        """Record an unsafe entry, both as a refusal and as a problem for the check view."""
        self._report.refused.append((archive_path, reason))
        self._report.problems.append(
            Finding(
                FindingCode.UNSAFE_ENTRY,
                f"Not extracted: '{shortened_name(archive_path)}' — {reason}. "
                "Other entries are not affected; "
                "nothing was written outside the destination folder.",
                archive=self._archive_name,
            )
        )

    def _skip(self, archive_path: str, reason: str) -> None:
        self._report.skipped.append((archive_path, reason))

    def _record_written(self, archive_path: str, actual_parts: tuple[str, ...]) -> None:
        actual_path = "/".join(actual_parts)
        if actual_path in self._written_paths:
            return  # a later copy of the same member replaced the earlier one
        self._written_paths.add(actual_path)
        self._report.written.append(actual_path)
        self._record_rename(archive_path, actual_path)

    def _record_written_file(
        self, archive_path: str, archive_parts: tuple[str, ...], actual_parts: tuple[str, ...]
    ) -> None:
        """Remember a regular file we wrote, so later hard links can use it."""
        written_stat = os.lstat(self._path_of(actual_parts))
        self._written_files[archive_parts] = _WrittenFile(
            actual_parts, written_stat.st_dev, written_stat.st_ino
        )
        self._unwritten_files.discard(archive_parts)
        self._claim_owner(written_stat, actual_parts, archive_path)
        self._record_written(archive_path, actual_parts)

    def _record_rename(self, archive_path: str, actual_path: str) -> None:
        """Report a name that differs on disk, once."""
        rename = (archive_path, actual_path)
        if archive_path != actual_path and rename not in self._reported_renames:
            self._reported_renames.add(rename)
            self._report.renamed.append(rename)

    def _follow_aliases(self, target_parts: tuple[str, ...]) -> tuple[str, ...]:
        """Resolve links to unselected links to the member that carries the bytes."""
        seen: set[tuple[str, ...]] = set()
        while target_parts in self._hardlink_aliases and target_parts not in seen:
            seen.add(target_parts)
            target_parts = self._hardlink_aliases[target_parts]
        return target_parts

    # ------------------------------------------------------------------- finishing

    def _abort_open_sinks(self, reason: str) -> None:
        for sink in list(self._open_sinks):
            sink.discard()
            self._remember_unwritten(sink.parts)
            self._skip(sink.entry.path, reason)

    def _report_links_whose_target_never_came(self) -> None:
        """Second pass: a pending link whose target is not in the archive any more is reported."""
        for target_parts, link_paths in (self._pending_link_paths_by_target or {}).items():
            for link_path, _position in link_paths:
                if link_path in self._served_link_paths:
                    continue
                self._skip(
                    link_path,
                    f"hard link target '{'/'.join(target_parts)}' was not found in the archive",
                )
        if self._pending_link_paths_by_target:
            self._pending_link_paths_by_target.clear()

    def _remove_symlinks_that_now_escape(self) -> None:
        """Remove links whose target, through links created later, now leaves the destination."""
        for archive_path, actual in self._created_symlinks:
            link_path = self._path_of(actual)
            if not os.path.islink(link_path):
                continue
            if files.is_within(os.path.realpath(link_path), self._destination_real):
                continue
            os.unlink(link_path)
            actual_path = "/".join(actual)
            if actual_path in self._written_paths:
                self._written_paths.discard(actual_path)
                self._report.written.remove(actual_path)
            self._refuse(
                archive_path,
                "symbolic link leads outside the destination through links extracted after it",
            )

    def _restore_directory_mtimes(self) -> None:
        """Set folder times deepest first, so setting a child does not change its parent."""
        for actual in sorted(self._directory_mtimes, key=len, reverse=True):
            try:
                path = self._verified_directory(actual)
            except (EntryRefusedError, EntrySkippedError, OSError):
                continue  # the folder changed under us; its time is not worth a failure
            files.set_mtime_quietly(path, self._directory_mtimes[actual], follow_symlinks=False)


class _PartialFileSink(DataSink):
    """Writes one member to ".<name>.bi-partial-<random>" and commits it on close()."""

    def __init__(
        self,
        extractor: SafeExtractor,
        entry: TarEntry,
        parts: tuple[str, ...],
        parent_actual: tuple[str, ...],
        parent_path: Path,
        name: str,
    ) -> None:
        self.entry = entry
        self.parts = parts
        self.parent_actual = parent_actual
        self.name = name
        self.partial_path = parent_path / files.partial_name(name)
        self.received_bytes = 0
        self._next_space_check_bytes = FREE_SPACE_RECHECK_BYTES
        self._extractor = extractor
        self._state = _SinkState.OPEN
        self._fd: int | None = os.open(self.partial_path, files.NEW_FILE_FLAGS, 0o600)
        try:
            files.lock_partial(self._fd)
        except OSError:
            self.discard()
            raise

    def write(self, data: bytes | memoryview) -> None:
        """Append data; after a failure the rest of the member is ignored (it was reported)."""
        if self._state is not _SinkState.OPEN:
            return
        if self.received_bytes >= self._next_space_check_bytes:
            self._next_space_check_bytes = self.received_bytes + FREE_SPACE_RECHECK_BYTES
            reason = self._extractor._free_space_dropped_below_floor(self.partial_path.parent)
            if reason is not None:
                self.discard()
                self._extractor._remember_unwritten(self.parts)
                raise self._extractor._stop_for_full_disk(self.entry.path, reason)
        with self._extractor._reporting_failures(self.entry.path, self.parts):
            try:
                assert self._fd is not None
                self.received_bytes += files.write_all(self._fd, data)
            except BaseException:
                self.discard()
                raise

    def close(self) -> None:
        """All bytes arrived: set mode and time, then give the file its final name."""
        if self._state is not _SinkState.OPEN:
            return
        with self._extractor._reporting_failures(self.entry.path, self.parts):
            try:
                if self.received_bytes != self.entry.size:
                    raise EntrySkippedError(
                        f"incomplete: {self.received_bytes} of {self.entry.size} bytes arrived"
                    )
                self._close_with_metadata()
                self._extractor._commit_file(self)
                self._close_descriptor_quietly()  # held (locked) until it had its final name
                self._finish(_SinkState.DONE)
            finally:
                if self._state is _SinkState.OPEN:
                    self.discard()

    def abort(self) -> None:
        """The data will not be complete: remove the partial file and report the member."""
        if self._state is not _SinkState.OPEN:
            return
        self.discard()
        self._extractor._remember_unwritten(self.parts)
        self._extractor._skip(
            self.entry.path,
            "not extracted: its data ended early (damaged archive) or extraction was cancelled",
        )

    def discard(self) -> None:
        """Close and delete the partial file; never raises."""
        self._close_descriptor_quietly()
        with contextlib.suppress(OSError):
            os.unlink(self.partial_path)
        self._finish(_SinkState.DISCARDED)

    def _close_with_metadata(self) -> None:
        assert self._fd is not None
        mode = safe_file_mode(self.entry.mode)
        if hasattr(os, "fchmod"):
            os.fchmod(self._fd, mode)
        else:
            os.chmod(self.partial_path, mode)
        # Renaming and linking keep the modification time, so it is set here.
        if files.HOLDS_PARTIAL_LOCKS and os.utime in os.supports_fd:
            files.set_mtime_quietly(self._fd, self.entry.mtime, follow_symlinks=True)
            return
        fd = self._fd
        self._fd = None
        os.close(fd)
        files.set_mtime_quietly(self.partial_path, self.entry.mtime, follow_symlinks=True)

    def _close_descriptor_quietly(self) -> None:
        if self._fd is not None:
            fd = self._fd
            self._fd = None
            with contextlib.suppress(OSError):
                os.close(fd)

    def _finish(self, state: _SinkState) -> None:
        self._state = state
        if self in self._extractor._open_sinks:
            self._extractor._open_sinks.remove(self)
