"""The entries of one inner archive, filled while the archive streams, paged per folder.

A listing of 100 000 entries must stay usable: the page asks for one folder
(or one search) at a time, a page of rows at a time. Each folder keeps its
children; a folder's sorted order is computed once and kept until new
children arrive. Folder sizes add up every file below them.

Names beyond the extraction limits (safe_paths: 4 096 bytes or 1 024
levels) are not indexed: the listing reports them as `unsafe-entry`, and
storing every level of a 200 000-level name as its own folder path is what
made a 10 KB archive need gigabytes. Within the limits one name can still
imply a thousand folders, each stored under its full path, so the folders of
one index share a budget (MAX_FOLDER_BYTES): past it, entries that would
need new folders are left out and counted (`left_out_entries` in the
status). Each folder keeps a reference to its parent, so adding a file walks
up the levels without slicing its path again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from backup_inspector.backup_format.safe_paths import exceeds_path_limits
from backup_inspector.backup_format.tar_entry import EntryType, TarEntry

ROOT = ""  # the archive's root folder ("." in tar terms)


@dataclass
class _FolderSummary:
    """What is known about a folder: its own entry (if stored) and its content totals."""

    entry: TarEntry | None
    parent: _FolderSummary | None = None  # None only for ROOT
    children: dict[str, str] = field(default_factory=dict)  # child name -> child path
    total_size: int = 0
    file_count: int = 0
    sorted_children: list[str] | None = None


def parent_of(path: str) -> str:
    """The folder that holds `path` (ROOT for top-level entries)."""
    return path.rsplit("/", 1)[0] if "/" in path else ROOT


def name_of(path: str) -> str:
    """The last component of `path`."""
    return path.rsplit("/", 1)[-1]


def outermost_paths(paths: list[str]) -> list[str]:
    """The selected paths that no other selected path contains, each once.

    Sorted by components, a path's descendants follow it directly, so one
    comparison with the last kept path suffices: linear after the sort (a
    plan of 10 000 paths used to compare every pair). The root ("." or "")
    contains everything.
    """
    if any(path in (ROOT, ".") for path in paths):
        return ["."]
    kept: list[tuple[str, ...]] = []
    for parts in sorted({tuple(path.split("/")) for path in paths}):
        if kept and parts[: len(kept[-1])] == kept[-1]:
            continue
        kept.append(parts)
    return ["/".join(parts) for parts in kept]


@dataclass(frozen=True)
class ListingPage:
    """One page of a folder or of a search."""

    rows: list[dict[str, Any]]
    total: int
    offset: int


@dataclass(frozen=True)
class IndexedPath:
    """One path of a complete index, in the form a persistent store keeps it.

    `rank` is the path's position among its siblings in `folder_page` order,
    so a store can serve a folder page by rank without sorting names again.
    `entry` is None for folders that are only implied by deeper paths.
    """

    path: str
    parent: str
    rank: int
    is_folder: bool
    row: dict[str, Any]
    entry: TarEntry | None


class BrowsableIndex(Protocol):
    """What the routes read from an archive's index, wherever it is kept."""

    archive_name: str

    @property
    def is_complete(self) -> bool:
        """Whether every entry the archive holds has been read."""

    @property
    def entry_count(self) -> int:
        """How many entries are stored."""

    @property
    def job_id(self) -> str | None:
        """The listing job filling this index, while one runs."""

    def status_json(self) -> dict[str, Any]:
        """How far the listing is: entry count, completeness, result or error."""

    def has_folder(self, folder: str) -> bool:
        """Whether `folder` is a known folder (ROOT always is)."""

    def entry(self, path: str) -> TarEntry | None:
        """The entry stored at `path`, if any."""

    def folder_page(self, folder: str, offset: int, limit: int) -> ListingPage:
        """One page of a folder's children: folders first, then by name."""

    def search(self, text: str, offset: int, limit: int) -> ListingPage:
        """Entries anywhere in the archive whose name contains `text` (any case)."""

    def selection_size(self, paths: list[str]) -> tuple[int, int]:
        """Bytes and file count of the files at or below the given paths."""


EXPORT_CHUNK_PATHS = 2000
# Folder paths plus a folder's own bookkeeping, in bytes. Real archives stay far
# below: 100 000 folders of 80-byte paths are about 40 MB with the overhead.
# 1 000 names of 1 000 levels (30 KB of gzip) would otherwise take 1.4 GB.
MAX_FOLDER_BYTES = 96 * 1024 * 1024
FOLDER_OVERHEAD_BYTES = 400  # the summary, its children dict and the keys pointing at it


class ArchiveIndex:
    """Thread-safe index of one archive's entries; a listing job adds, handlers read."""

    def __init__(self, archive_name: str) -> None:
        self.archive_name = archive_name
        self._lock = threading.Lock()
        self._entries: dict[str, TarEntry] = {}
        self._folders: dict[str, _FolderSummary] = {ROOT: _FolderSummary(entry=None)}
        self._is_complete = False
        self._result: dict[str, Any] | None = None
        self._error: dict[str, str] | None = None
        self._job_id: str | None = None
        self._folder_bytes = 0
        self._left_out = 0

    # -- filling -------------------------------------------------------------

    def add(self, entry: TarEntry) -> None:
        """Add one entry as the listing reads it (the on_entry callback).

        Entries beyond the path limits are left out (the listing reports them),
        and so are entries that need new folders once MAX_FOLDER_BYTES is spent.
        """
        path = entry.path
        if path in (".", "") or exceeds_path_limits(path):
            return
        with self._lock:
            if self._folder_bytes > MAX_FOLDER_BYTES and not self._fits_existing_folders_locked(
                entry
            ):
                self._left_out += 1
                return
            if path in self._entries:
                self._remove_from_totals_locked(self._entries[path])
            self._entries[path] = entry
            if entry.type is EntryType.DIR:
                folder = self._folders.get(path)
                if folder is None:
                    self._folders[path] = _FolderSummary(entry=entry)
                    self._folder_bytes += len(path) + FOLDER_OVERHEAD_BYTES
                else:
                    folder.entry = entry
            self._link_into_parents_locked(path)
            if entry.type is EntryType.FILE:
                self._add_to_totals_locked(path, entry.size, +1)

    def _link_into_parents_locked(self, path: str) -> None:
        """Register `path` in its parent folder, creating missing parent folders."""
        child = path
        child_folder = self._folders.get(path)
        while True:
            parent = parent_of(child)
            folder = self._folders.get(parent)
            if folder is None:
                folder = _FolderSummary(entry=None)
                self._folders[parent] = folder
                self._folder_bytes += len(parent) + FOLDER_OVERHEAD_BYTES
            if child_folder is not None and child_folder.parent is None:
                child_folder.parent = folder
            name = name_of(child)
            if name in folder.children:
                return
            folder.children[name] = child
            folder.sorted_children = None
            if parent == ROOT:
                return
            child, child_folder = parent, folder

    def _fits_existing_folders_locked(self, entry: TarEntry) -> bool:
        """Whether adding `entry` creates no folder (its parent exists; it is no new folder)."""
        if entry.type is EntryType.DIR and entry.path not in self._folders:
            return False
        return parent_of(entry.path) in self._folders

    def _add_to_totals_locked(self, path: str, size: int, count: int) -> None:
        """Add a file's size and count to every folder above it."""
        folder: _FolderSummary | None = self._folders[parent_of(path)]
        while folder is not None:
            folder.total_size += size
            folder.file_count += count
            folder = folder.parent

    def _remove_from_totals_locked(self, previous: TarEntry) -> None:
        """Undo a replaced file's contribution (tar allows a path twice; the last wins)."""
        if previous.type is EntryType.FILE:
            self._add_to_totals_locked(previous.path, -previous.size, -1)

    def start(self, job_id: str) -> None:
        """Forget a previous failed attempt; a new listing job fills the index."""
        with self._lock:
            self._job_id = job_id
            self._error = None

    def finish(self, result: dict[str, Any]) -> None:
        """The listing read the archive to its end (or to where it is damaged)."""
        with self._lock:
            self._is_complete = True
            self._result = result
            self._job_id = None

    def fail(self, code: str, message: str) -> None:
        """The listing stopped early (cancelled, password, file gone)."""
        with self._lock:
            self._error = {"code": code, "message": message}
            self._job_id = None

    # -- reading -------------------------------------------------------------

    @property
    def is_complete(self) -> bool:
        """Whether every entry the archive holds has been read."""
        with self._lock:
            return self._is_complete

    @property
    def entry_count(self) -> int:
        """How many entries are stored (for the cache's memory budget)."""
        with self._lock:
            return len(self._entries)

    @property
    def job_id(self) -> str | None:
        """The listing job filling this index, while one runs."""
        with self._lock:
            return self._job_id

    def status_json(self) -> dict[str, Any]:
        """How far the listing is: entry count, completeness, result or error."""
        with self._lock:
            root = self._folders[ROOT]
            return {
                "archive": self.archive_name,
                "entry_count": len(self._entries),
                "file_count": root.file_count,
                "total_size": root.total_size,
                "is_complete": self._is_complete,
                "job_id": self._job_id,
                "result": self._result,
                "error": self._error,
            } | ({"left_out_entries": self._left_out} if self._left_out else {})

    def has_folder(self, folder: str) -> bool:
        """Whether `folder` is a known folder (ROOT always is)."""
        with self._lock:
            return folder in self._folders

    def entry(self, path: str) -> TarEntry | None:
        """The entry stored at `path`, if any."""
        with self._lock:
            return self._entries.get(path)

    def folder_page(self, folder: str, offset: int, limit: int) -> ListingPage:
        """One page of a folder's children: folders first, then by name."""
        with self._lock:
            summary = self._folders.get(folder)
            if summary is None:
                return ListingPage(rows=[], total=0, offset=offset)
            if summary.sorted_children is None:
                summary.sorted_children = sorted(
                    summary.children.values(), key=self._sort_key_locked
                )
            paths = summary.sorted_children[offset : offset + limit]
            return ListingPage(
                rows=[self._row_locked(path) for path in paths],
                total=len(summary.sorted_children),
                offset=offset,
            )

    def search(self, text: str, offset: int, limit: int) -> ListingPage:
        """Entries anywhere in the archive whose name contains `text` (any case)."""
        needle = text.casefold()
        with self._lock:
            matches = sorted(
                path for path in self._all_paths_locked() if needle in name_of(path).casefold()
            )
            return ListingPage(
                rows=[self._row_locked(path) for path in matches[offset : offset + limit]],
                total=len(matches),
                offset=offset,
            )

    def selection_size(self, paths: list[str]) -> tuple[int, int]:
        """Bytes and file count of the files at or below the given paths (overlaps once)."""
        with self._lock:
            total_size = 0
            file_count = 0
            for path in outermost_paths(paths):
                if path in (ROOT, "."):
                    root = self._folders[ROOT]
                    total_size += root.total_size
                    file_count += root.file_count
                elif path in self._folders:
                    folder = self._folders[path]
                    total_size += folder.total_size
                    file_count += folder.file_count
                elif path in self._entries and self._entries[path].type is EntryType.FILE:
                    total_size += self._entries[path].size
                    file_count += 1
            return total_size, file_count

    # -- export --------------------------------------------------------------

    def export_paths(self) -> Iterator[IndexedPath]:
        """Every path except the root, with its parent, sibling rank and page row.

        Meant for a finished index (nothing is added any more). The lock is
        taken per chunk rather than for the whole walk, so pages keep being
        served while a store writes 100 000 rows to disk.
        """
        with self._lock:
            folders = list(self._folders)
        for folder_path in folders:
            with self._lock:
                summary = self._folders[folder_path]
                if summary.sorted_children is None:
                    summary.sorted_children = sorted(
                        summary.children.values(), key=self._sort_key_locked
                    )
                children = summary.sorted_children
            for start in range(0, len(children), EXPORT_CHUNK_PATHS):
                with self._lock:
                    chunk = [
                        IndexedPath(
                            path=path,
                            parent=folder_path,
                            rank=start + offset,
                            is_folder=path in self._folders,
                            row=self._row_locked(path),
                            entry=self._entries.get(path),
                        )
                        for offset, path in enumerate(children[start : start + EXPORT_CHUNK_PATHS])
                    ]
                yield from chunk

    def _all_paths_locked(self) -> set[str]:
        """Every stored entry and every implied folder."""
        paths = set(self._entries)
        paths.update(folder for folder in self._folders if folder != ROOT)
        return paths

    def _sort_key_locked(self, path: str) -> tuple[int, str, str]:
        """Folders first, then case-insensitive name."""
        is_folder = path in self._folders
        name = name_of(path)
        return (0 if is_folder else 1, name.casefold(), name)

    def _row_locked(self, path: str) -> dict[str, Any]:
        """The JSON row the page shows for one path."""
        entry = self._entries.get(path)
        folder = self._folders.get(path)
        if entry is None:
            row: dict[str, Any] = {
                "path": path,
                "type": EntryType.DIR.value,
                "size": 0,
                "mtime": None,
                "mode": None,
                "link": "",
            }
        else:
            row = entry.to_json()
        row["name"] = name_of(path)
        if folder is not None:
            row["type"] = EntryType.DIR.value
            row["size"] = folder.total_size
            row["file_count"] = folder.file_count
            row["child_count"] = len(folder.children)
        return row
