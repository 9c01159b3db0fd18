"""The entries of one inner archive, filled while the archive streams, paged per folder.

A listing of a million entries must stay usable and small: the page asks for
one folder (or one search) at a time, a page of rows at a time, and the
entries wait on disk in a temporary SQLite database, not in Python objects.
Folder sizes add up every file below them.

Names beyond the extraction limits (safe_paths: 4 096 bytes or 1 024
levels) are not indexed: the listing reports them as `unsafe-entry`. Within
the limits one name can still imply a thousand folders, each stored under
its full path, so the new folders of one index share a budget
(MAX_FOLDER_BYTES): past it, entries that would need new folders are left
out and counted (`left_out_entries` in the status). Without it, a 30 KB
archive of 1 000 names 1 000 levels deep asked for gigabytes.

Paths that more than one member carries are noted too (`occurs_once`): a
preview may stop at a file's first copy only when no later copy follows.
"""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from backup_inspector.backup_format.safe_paths import exceeds_path_limits
from backup_inspector.backup_format.tar_entry import DataSink, EntryType, TarEntry
from backup_inspector.inspection.content_hash import HashingSink

ROOT = ""  # the archive's root folder ("." in tar terms)


def parent_of(path: str) -> str:
    """The folder that holds `path` (ROOT for top-level entries)."""
    return path.rsplit("/", 1)[0] if "/" in path else ROOT


def name_of(path: str) -> str:
    """The last component of `path`."""
    return path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ListingPage:
    """One page of a folder or of a search.

    `pageable` is how many of the `total` can be paged through, set only
    where that is fewer (a sealed index's search keeps a window of matches);
    it is not part of a page's equality, which is about the rows.
    """

    rows: list[dict[str, Any]]
    total: int
    offset: int
    pageable: int | None = field(default=None, compare=False)


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

    def occurs_once(self, path: str) -> bool | None:
        """Whether exactly one member is called `path`; None when the index cannot tell.

        A reader may stop at a path's first copy only when no later copy can
        replace it (the last copy wins), and only a complete index knows that.
        """


EXPORT_CHUNK_PATHS = 2000
FLUSH_ENTRIES = 2000  # entries buffered before they go to the database (and a page's worth)
SQL_PARAMETERS = 500  # paths per "IN (...)" lookup, well under SQLite's parameter limit
SPILL_CACHE_KIB = 4096  # SQLite page cache of one listing; the rest of its pages stay on disk
FOLDER, OTHER = 0, 1  # the `kind` column: folders sort first
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # SQLite's INTEGER
# New folders' paths plus their bookkeeping, in bytes. Real archives stay far
# below: 100 000 folders of 80-byte paths are about 18 MB with the overhead.
MAX_FOLDER_BYTES = 64 * 1024 * 1024
FOLDER_OVERHEAD_BYTES = 100  # the remembered hash and the folder's row
# Files up to this size get a SHA-256 (a file's history groups versions by it).
# Hashing every byte made a full check 1.7 to 3.3 times as long (bench_find):
# SHA-256 costs about as much as inflating. The files people look for in old
# backups (YAML, .storage JSON, a Zigbee database) are small; the recorder
# database and camera recordings are not, and stay "not hashed".
MAX_HASHED_FILE_BYTES = 16 * 1024 * 1024
FLUSH_FOLDER_BYTES = 4 * 1024 * 1024  # flush early when the pending entries imply this many

# One row per path, the root ("" with no parent) included. Text is stored as
# BLOBs of surrogate-escaped UTF-8 (tar names may hold undecodable bytes), so
# names sort by their bytes, which is code point order. `kind` is sticky: a
# path that ever had a child or a directory entry stays a folder.
_SCHEMA = """
CREATE TABLE entries (
    path BLOB PRIMARY KEY,
    parent BLOB,
    name_cf BLOB NOT NULL,
    kind INTEGER NOT NULL,
    has_entry INTEGER NOT NULL DEFAULT 0,
    type TEXT,
    size INTEGER,
    mtime REAL,
    mode INTEGER,
    link BLOB,
    raw_name BLOB,
    total_size INTEGER NOT NULL DEFAULT 0,
    file_count INTEGER NOT NULL DEFAULT 0,
    child_count INTEGER NOT NULL DEFAULT 0,
    sha256 BLOB
) WITHOUT ROWID;
CREATE INDEX entries_by_folder ON entries (parent, kind, name_cf, path);
INSERT INTO entries (path, parent, name_cf, kind) VALUES (x'', NULL, x'', 0);
"""
# Paths that more than one member carries (the entries table keeps only the
# last copy): what lets a reader stop at the only copy of every other path.
_DUPLICATES_SCHEMA = "CREATE TABLE duplicated_paths (path BLOB PRIMARY KEY) WITHOUT ROWID"
# The page row columns (see _page_row), then name_cf and raw_name for the export.
_PAGE_COLUMNS = (
    "path, kind, has_entry, type, size, mtime, mode, link, total_size, file_count, "
    "child_count, sha256"
)
_FOLDER_PAGE = (
    f"SELECT {_PAGE_COLUMNS} FROM entries WHERE parent = ? "  # noqa: S608 (constant text)
    "ORDER BY kind, name_cf, path LIMIT ? OFFSET ?"
)
_SEARCH_PAGE = (
    f"SELECT {_PAGE_COLUMNS} FROM entries WHERE parent IS NOT NULL "  # noqa: S608
    "AND instr(name_cf, ?) ORDER BY path LIMIT ? OFFSET ?"
)
_EXPORT_CHUNK = (
    f"SELECT {_PAGE_COLUMNS}, name_cf, raw_name FROM entries WHERE parent = ? "  # noqa: S608
    "AND (kind, name_cf, path) > (?, ?, ?) ORDER BY kind, name_cf, path LIMIT ?"
)
# Fixed length, padded with NULLs (which match nothing), so the SQL text is a constant.
_KNOWN_PATHS = "SELECT path, has_entry, type, size, kind FROM entries WHERE path IN ({})".format(  # noqa: S608
    ", ".join("?" * SQL_PARAMETERS)
)
_UPSERT_ENTRY = """
INSERT INTO entries (path, parent, name_cf, kind, has_entry, type, size, mtime, mode, link, raw_name)
VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)
ON CONFLICT (path) DO UPDATE SET
    kind = min(kind, excluded.kind), has_entry = 1, type = excluded.type,
    size = excluded.size, mtime = excluded.mtime, mode = excluded.mode,
    link = excluded.link, raw_name = excluded.raw_name, sha256 = NULL
"""
_UPSERT_FOLDER = """
INSERT INTO entries (path, parent, name_cf, kind) VALUES (?, ?, ?, 0)
ON CONFLICT (path) DO UPDATE SET kind = 0
"""


def _key(path: str) -> bytes:
    """The stored form of a path or name (tar names may carry escaped raw bytes)."""
    return path.encode("utf-8", "surrogateescape")


def _storable(number: float) -> float:
    """`number` as SQLite can bind it: integers past 64 bits become (possibly infinite) floats.

    A damaged header can claim any size or time; the entry is listed before
    its data is found missing, and must not stop the listing.
    """
    if isinstance(number, int) and not INT64_MIN <= number <= INT64_MAX:
        try:
            return float(number)
        except OverflowError:
            return math.inf if number > 0 else -math.inf
    return number


def _text(stored: bytes) -> str:
    """A path or name back from its stored form."""
    return bytes(stored).decode("utf-8", "surrogateescape")


@dataclass(frozen=True)
class _Known:
    """What the database already holds for a path the next flush touches."""

    has_entry: bool
    type: str | None
    size: int | None
    is_folder: bool


class ArchiveIndex:
    """Thread-safe index of one archive's entries; a listing job adds, handlers read.

    A million entries as Python objects took about 500 MB, so the entries go
    to a private temporary SQLite database as they arrive, a batch at a time.
    Memory holds one batch and SQLite's small page cache; folder pages,
    searches and the export read the database with a limit.
    """

    def __init__(self, archive_name: str, *, names_are_private: bool = False) -> None:
        """`names_are_private`: the archive is encrypted, so its names never go to disk.

        Its listing then lives in an in-memory SQLite database: still far
        smaller than Python objects, and gone with the process (the brief's
        rule: decrypted data touches disk only where a check needs it).
        """
        self.archive_name = archive_name
        self._lock = threading.Lock()
        connection, spill_path = (
            (sqlite3.connect(":memory:", check_same_thread=False), None)
            if names_are_private
            else _open_spill_database()
        )
        connection.execute("PRAGMA journal_mode = OFF")
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute(f"PRAGMA cache_size = -{SPILL_CACHE_KIB}")
        connection.executescript(_SCHEMA)
        connection.execute(_DUPLICATES_SCHEMA)
        self._connection = connection
        # Dropped indexes close their database (and so free its file) without being told.
        self._closer = weakref.finalize(self, _close_spill_database, connection, spill_path)
        self._pending: list[TarEntry] = []
        # Digests of regular files whose last byte was read, by path, until the next flush.
        self._pending_hashes: dict[str, str] = {}
        self._pending_folder_bytes = 0
        self._folder_hashes: set[int] = (
            set()
        )  # folders seen so far, by hash (a budget, not a truth)
        self._folder_bytes = 0
        self._left_out = 0
        self._entry_count = 0
        self._is_complete = False
        self._result: dict[str, Any] | None = None
        self._error: dict[str, str] | None = None
        self._job_id: str | None = None

    # -- filling -------------------------------------------------------------

    def add(self, entry: TarEntry) -> DataSink | None:
        """Add one entry as the listing reads it (the on_entry callback).

        Entries beyond the path limits are left out (the listing reports them),
        and so are entries that need new folders once MAX_FOLDER_BYTES is spent.
        For a regular file, returns the sink that hashes its bytes: the row
        gets its SHA-256 once the last byte has been read. A caller that
        drops the sink (a header-only walk) leaves the row "not hashed".
        """
        path = entry.path
        if path in (".", "") or exceeds_path_limits(path):
            return None
        with self._lock:
            new_folders = self._new_folder_hashes_locked(entry)
            new_bytes = sum(size for _, size in new_folders)
            if new_bytes and self._folder_bytes + new_bytes > MAX_FOLDER_BYTES:
                self._left_out += 1
                return None
            # Tar allows a path twice: a later copy is not hashed yet, whatever the first was.
            self._pending_hashes.pop(path, None)
            self._folder_hashes.update(folder_hash for folder_hash, _ in new_folders)
            self._folder_bytes += new_bytes
            self._pending_folder_bytes += new_bytes
            self._pending.append(entry)
            if (
                len(self._pending) >= FLUSH_ENTRIES
                or self._pending_folder_bytes >= FLUSH_FOLDER_BYTES
            ):
                self._flush_locked()
        if entry.type is not EntryType.FILE or entry.size > MAX_HASHED_FILE_BYTES:
            return None
        return HashingSink(lambda digest: self._record_hash(path, digest))

    def _record_hash(self, path: str, digest: str | None) -> None:
        """The file at `path` was read to its last byte; its row gets `digest` at the next flush.

        The digest arrives before the walk reads the next header, so it is the
        hash of the newest copy of `path` added so far.
        """
        if digest is None:
            return  # the archive broke off inside the file
        with self._lock:
            self._pending_hashes[path] = digest

    def _new_folder_hashes_locked(self, entry: TarEntry) -> list[tuple[int, int]]:
        """The folders `entry` would create, as (hash of path, budget bytes), deepest first.

        Walks up only until a folder already seen, so the cost is the length
        of the new folders' paths: bounded by the budget. A hash collision
        only makes the budget count a folder less.
        """
        found: list[tuple[int, int]] = []
        if entry.type is EntryType.DIR and hash(entry.path) not in self._folder_hashes:
            found.append((hash(entry.path), len(entry.path) + FOLDER_OVERHEAD_BYTES))
        folder = parent_of(entry.path)
        while folder != ROOT:
            folder_hash = hash(folder)
            if folder_hash in self._folder_hashes:
                break
            found.append((folder_hash, len(folder) + FOLDER_OVERHEAD_BYTES))
            folder = parent_of(folder)
        return found

    def _flush_locked(self) -> None:
        """Write the buffered entries: rows, implied parent folders, folder totals.

        Tar allows a path twice and the last copy wins, so a replaced file's
        size is taken back out of the totals of the folders above it.
        """
        if not self._pending:
            self._write_hashes_locked()
            return
        latest = {entry.path: entry for entry in self._pending}
        repeated = _repeated_paths(self._pending) if len(latest) < len(self._pending) else set()
        self._pending = []
        self._pending_folder_bytes = 0
        ancestors = _ancestors_of(latest)
        known = self._known_locked([*latest, *ancestors])
        self._record_duplicates_locked(latest, repeated, known)
        direct_totals: dict[str, list[int]] = {}
        new_children: dict[str, int] = {}
        entry_rows = []
        for path, entry in latest.items():
            parent = parent_of(path)
            previous = known.get(path)
            if previous is None:
                new_children[parent] = new_children.get(parent, 0) + 1
            elif previous.has_entry and previous.type == EntryType.FILE.value:
                _add_direct(direct_totals, parent, -(previous.size or 0), -1)
            if previous is None or not previous.has_entry:
                self._entry_count += 1
            if entry.type is EntryType.FILE:
                _add_direct(direct_totals, parent, entry.size, 1)
            is_folder = entry.type is EntryType.DIR or path in ancestors
            entry_rows.append(_entry_row(entry, parent, FOLDER if is_folder else OTHER))
        folder_rows = []
        for path in ancestors:
            if path not in known and path not in latest:
                parent = parent_of(path)
                new_children[parent] = new_children.get(parent, 0) + 1
            folder_rows.append((_key(path), _key(parent_of(path)), _key(name_of(path).casefold())))
        execute = self._connection.executemany
        execute(_UPSERT_ENTRY, entry_rows)
        execute(_UPSERT_FOLDER, folder_rows)
        execute(
            "UPDATE entries SET child_count = child_count + ? WHERE path = ?",
            [(count, _key(folder)) for folder, count in new_children.items()],
        )
        execute(
            "UPDATE entries SET total_size = total_size + ?, file_count = file_count + ? "
            "WHERE path = ?",
            [
                (_storable(size), count, _key(folder))
                for folder, (size, count) in _rolled_up(direct_totals)
            ],
        )
        self._write_hashes_locked()

    def _write_hashes_locked(self) -> None:
        """Store the digests that arrived since the last flush (after their rows exist)."""
        if not self._pending_hashes:
            return
        hashes, self._pending_hashes = self._pending_hashes, {}
        self._connection.executemany(
            "UPDATE entries SET sha256 = ? WHERE path = ? AND has_entry AND type = 'file'",
            [(bytes.fromhex(digest), _key(path)) for path, digest in hashes.items()],
        )

    def _record_duplicates_locked(
        self, latest: dict[str, TarEntry], repeated: set[str], known: dict[str, _Known]
    ) -> None:
        """Note the paths of this batch that a member carried before (in it, or stored)."""
        duplicated = [
            (_key(path),)
            for path in latest
            if path in repeated or (path in known and known[path].has_entry)
        ]
        self._connection.executemany(
            "INSERT OR IGNORE INTO duplicated_paths (path) VALUES (?)", duplicated
        )

    def _known_locked(self, paths: list[str]) -> dict[str, _Known]:
        """What the database holds for these paths (absent ones are new)."""
        known: dict[str, _Known] = {}
        for start in range(0, len(paths), SQL_PARAMETERS):
            chunk = [_key(path) for path in paths[start : start + SQL_PARAMETERS]]
            chunk.extend([None] * (SQL_PARAMETERS - len(chunk)))
            found = self._connection.execute(_KNOWN_PATHS, chunk)
            for path, has_entry, entry_type, size, kind in found:
                known[_text(path)] = _Known(bool(has_entry), entry_type, size, kind == FOLDER)
        return known

    def start(self, job_id: str) -> None:
        """Forget a previous failed attempt; a new listing job fills the index."""
        with self._lock:
            self._job_id = job_id
            self._error = None

    def finish(self, result: dict[str, Any]) -> None:
        """The listing read the archive to its end (or to where it is damaged)."""
        with self._lock:
            self._flush_locked()
            self._is_complete = True
            self._result = result
            self._job_id = None
            self._connection.execute("PRAGMA shrink_memory")

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
        """How many entries are stored (for the cache's budget)."""
        with self._lock:
            return self._entry_count + len(self._pending)

    @property
    def job_id(self) -> str | None:
        """The listing job filling this index, while one runs."""
        with self._lock:
            return self._job_id

    def status_json(self) -> dict[str, Any]:
        """How far the listing is: entry count, completeness, result or error."""
        with self._lock:
            self._flush_locked()
            total_size, file_count = self._connection.execute(
                "SELECT total_size, file_count FROM entries WHERE path = x''"
            ).fetchone()
            return {
                "archive": self.archive_name,
                "entry_count": self._entry_count,
                "file_count": file_count,
                "total_size": total_size,
                "is_complete": self._is_complete,
                "job_id": self._job_id,
                "result": self._result,
                "error": self._error,
            } | ({"left_out_entries": self._left_out} if self._left_out else {})

    def has_folder(self, folder: str) -> bool:
        """Whether `folder` is a known folder (ROOT always is)."""
        found = self._fetch_one("SELECT kind FROM entries WHERE path = ?", (_key(folder),))
        return found is not None and found[0] == FOLDER

    def entry(self, path: str) -> TarEntry | None:
        """The entry stored at `path`, if any."""
        found = self._fetch_one(
            "SELECT type, size, mtime, mode, link, raw_name FROM entries "
            "WHERE path = ? AND has_entry",
            (_key(path),),
        )
        if found is None:
            return None
        entry_type, size, mtime, mode, link, raw_name = found
        return TarEntry(
            path=path,
            raw_name=path if raw_name is None else _text(raw_name),
            type=EntryType(entry_type),
            size=size,
            mtime=mtime,
            mode=mode,
            link=_text(link),
        )

    def folder_page(self, folder: str, offset: int, limit: int) -> ListingPage:
        """One page of a folder's children: folders first, then by name (any case)."""
        with self._lock:
            self._flush_locked()
            found = self._connection.execute(
                "SELECT child_count, kind FROM entries WHERE path = ?", (_key(folder),)
            ).fetchone()
            if found is None or found[1] != FOLDER:
                return ListingPage(rows=[], total=0, offset=offset)
            rows = self._connection.execute(_FOLDER_PAGE, (_key(folder), limit, offset)).fetchall()
            return ListingPage(rows=[_page_row(row) for row in rows], total=found[0], offset=offset)

    def search(self, text: str, offset: int, limit: int) -> ListingPage:
        """Entries anywhere in the archive whose name contains `text` (any case), by path."""
        needle = _key(text.casefold())
        with self._lock:
            self._flush_locked()
            total = self._connection.execute(
                "SELECT COUNT(*) FROM entries WHERE parent IS NOT NULL AND instr(name_cf, ?)",
                (needle,),
            ).fetchone()[0]
            rows = self._connection.execute(_SEARCH_PAGE, (needle, limit, offset)).fetchall()
            return ListingPage(rows=[_page_row(row) for row in rows], total=total, offset=offset)

    def file_rows(
        self, name_glob: str | None = None, path_filter: Callable[[str], bool] | None = None
    ) -> Iterator[dict[str, Any]]:
        """The page rows of regular files, by path; only names matching an SQLite GLOB if given.

        `name_glob` is matched against the casefolded name, `path_filter`
        against the path. Read a chunk at a time under the lock, like the export.
        """
        after = b""
        while True:
            with self._lock:
                self._flush_locked()
                found = self._connection.execute(
                    f"SELECT {_PAGE_COLUMNS} FROM entries WHERE path > ? "  # noqa: S608
                    "AND has_entry AND type = 'file' AND kind = 1 "
                    "AND (? IS NULL OR CAST(name_cf AS TEXT) GLOB ?) ORDER BY path LIMIT ?",
                    (after, name_glob, name_glob, EXPORT_CHUNK_PATHS),
                ).fetchall()
            if not found:
                return
            for row in found:
                if path_filter is None or path_filter(_text(row[0])):
                    yield _page_row(row)
            after = found[-1][0]

    def selection_size(self, paths: list[str]) -> tuple[int, int]:
        """Bytes and file count of the files at or below the given paths (overlaps once)."""
        total_size = 0
        file_count = 0
        for path in outermost_paths(paths):
            found = self._fetch_one(
                "SELECT kind, has_entry, type, size, total_size, file_count FROM entries "
                "WHERE path = ?",
                (_key(ROOT if path == "." else path),),
            )
            if found is None:
                continue
            kind, has_entry, entry_type, size, folder_size, folder_files = found
            if kind == FOLDER:
                total_size += folder_size
                file_count += folder_files
            elif has_entry and entry_type == EntryType.FILE.value:
                total_size += size
                file_count += 1
        return total_size, file_count

    @property
    def knows_duplicates(self) -> bool:
        """Whether the index can tell duplicated paths: complete, and nothing left out.

        An entry left out for the folder budget may be the other copy of a
        path that is indexed, so such an index does not claim a path is unique.
        """
        with self._lock:
            return self._is_complete and not self._left_out

    def occurs_once(self, path: str) -> bool | None:
        """Whether exactly one member is called `path`; None when the index cannot tell.

        None while the listing runs (a later copy may still come), when
        entries were left out, and for paths without an entry of their own.
        """
        if not self.knows_duplicates:
            return None
        found = self._fetch_one(
            "SELECT EXISTS (SELECT 1 FROM duplicated_paths WHERE path = ?) FROM entries "
            "WHERE path = ? AND has_entry",
            (_key(path), _key(path)),
        )
        return None if found is None else not found[0]

    def duplicated_paths(self) -> Iterator[str]:
        """Every path that more than one member carries, a chunk at a time (for a store)."""
        after = b""
        while True:
            with self._lock:
                self._flush_locked()
                found = self._connection.execute(
                    "SELECT path FROM duplicated_paths WHERE path > ? ORDER BY path LIMIT ?",
                    (after, EXPORT_CHUNK_PATHS),
                ).fetchall()
            if not found:
                return
            yield from (_text(path) for (path,) in found)
            after = found[-1][0]

    def _fetch_one(self, sql: str, parameters: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """One result row of a query, with every buffered entry written first."""
        with self._lock:
            self._flush_locked()
            return self._connection.execute(sql, parameters).fetchone()

    # -- export --------------------------------------------------------------

    def export_paths(self) -> Iterator[IndexedPath]:
        """Every path except the root, with its parent, sibling rank and page row.

        Meant for a finished index (nothing is added any more). Folders and
        their children are read a chunk at a time (keyset paging, so a folder
        of a million entries costs no more per chunk than a small one), and
        the lock is taken per chunk: pages keep being served while a store
        writes a million rows to disk.
        """
        last_folder: bytes | None = None
        while True:
            with self._lock:
                self._flush_locked()
                folders = self._connection.execute(
                    "SELECT path FROM entries WHERE kind = 0 AND (? IS NULL OR path > ?) "
                    "ORDER BY path LIMIT ?",
                    (last_folder, last_folder, SQL_PARAMETERS),
                ).fetchall()
            if not folders:
                return
            for (folder,) in folders:
                yield from self._export_children(_text(folder))
            last_folder = folders[-1][0]

    def _export_children(self, folder: str) -> Iterator[IndexedPath]:
        """The children of one folder in page order, with their ranks."""
        after: tuple[int, bytes, bytes] = (-1, b"", b"")
        rank = 0
        while True:
            with self._lock:
                rows = self._connection.execute(
                    _EXPORT_CHUNK, (_key(folder), *after, EXPORT_CHUNK_PATHS)
                ).fetchall()
            if not rows:
                return
            for row in rows:
                page_row = _page_row(row[:-2])
                yield IndexedPath(
                    path=page_row["path"],
                    parent=folder,
                    rank=rank,
                    is_folder=row[1] == FOLDER,
                    row=page_row,
                    entry=_entry_of(row, page_row["path"]),
                )
                rank += 1
            last = rows[-1]
            after = (last[1], last[-2], last[0])


def _open_spill_database() -> tuple[sqlite3.Connection, Path]:
    """A new database in Python's temporary folder, unlinked at once where the OS allows.

    Not SQLite's own anonymous temporary database: SQLite picks /var/tmp
    first, which the add-on's AppArmor profile does not let it write, and it
    would only find out when the cache first spills. Python's tempfile tries
    each folder by writing to it. Unlinked, the file disappears with the
    process even after a crash. Only for unencrypted archives: an encrypted
    archive's names stay in memory (ArchiveIndex's names_are_private).
    """
    descriptor, name = tempfile.mkstemp(prefix="backup-inspector-listing-", suffix=".sqlite")
    os.close(descriptor)
    path = Path(name)
    try:
        connection = sqlite3.connect(path, check_same_thread=False)
    except sqlite3.Error:
        path.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # Windows keeps an open file; then it goes on close
        path.unlink()
    return connection, path


def _close_spill_database(connection: sqlite3.Connection, path: Path | None) -> None:
    """Close a listing's database and remove its file if it still exists."""
    connection.close()
    if path is not None:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


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


def _repeated_paths(entries: list[TarEntry]) -> set[str]:
    """The paths that more than one of `entries` carries."""
    seen: set[str] = set()
    repeated: set[str] = set()
    for entry in entries:
        (repeated if entry.path in seen else seen).add(entry.path)
    return repeated


def _ancestors_of(paths: dict[str, TarEntry]) -> dict[str, None]:
    """Every folder above the given paths (the root excluded), each once."""
    found: dict[str, None] = {}
    for path in paths:
        folder = parent_of(path)
        while folder != ROOT and folder not in found:
            found[folder] = None
            folder = parent_of(folder)
    return found


def _add_direct(totals: dict[str, list[int]], folder: str, size: int, count: int) -> None:
    """Add a file's size and count to the folder that directly holds it."""
    found = totals.setdefault(folder, [0, 0])
    found[0] += size
    found[1] += count


def _rolled_up(direct: dict[str, list[int]]) -> Iterator[tuple[str, tuple[int, int]]]:
    """The direct totals added to every folder above, up to the root."""
    rolled: dict[str, list[int]] = {}
    for folder, (size, count) in direct.items():
        current = folder
        while True:
            _add_direct(rolled, current, size, count)
            if current == ROOT:
                break
            current = parent_of(current)
    for folder, (size, count) in rolled.items():
        yield folder, (size, count)


def _entry_row(entry: TarEntry, parent: str, kind: int) -> tuple[Any, ...]:
    """The _UPSERT_ENTRY values of one entry."""
    raw_name = None if entry.raw_name == entry.path else _key(entry.raw_name)
    return (
        _key(entry.path),
        _key(parent),
        _key(name_of(entry.path).casefold()),
        kind,
        entry.type.value,
        _storable(entry.size),
        _storable(entry.mtime),
        entry.mode,
        _key(entry.link),
        raw_name,
    )


def _page_row(stored: tuple[Any, ...]) -> dict[str, Any]:
    """The JSON row the page shows for one path (the _PAGE_COLUMNS of a page query).

    Regular files carry `sha256`: the hex digest, or None where the bytes
    were not read ("not hashed").
    """
    path_bytes, kind, has_entry, entry_type, size, mtime, mode, link = stored[:8]
    path = _text(path_bytes)
    if has_entry:
        row: dict[str, Any] = {
            "path": path,
            "type": entry_type,
            "size": size,
            "mtime": mtime,
            "mode": mode,
            "link": _text(link),
        }
    else:
        row = {"path": path, "type": EntryType.DIR.value, "size": 0, "mtime": None}
        row.update(mode=None, link="")
    row["name"] = name_of(path)
    if kind == FOLDER:
        row["type"] = EntryType.DIR.value
        row["size"], row["file_count"], row["child_count"] = stored[8:11]
    elif row["type"] == EntryType.FILE.value:
        row["sha256"] = bytes(stored[11]).hex() if stored[11] is not None else None
    return row


def _entry_of(stored: tuple[Any, ...], path: str) -> TarEntry | None:
    """The entry of an _EXPORT_CHUNK row; None for folders implied by deeper paths."""
    if not stored[2]:
        return None
    raw_name = stored[-1]
    return TarEntry(
        path=path,
        raw_name=path if raw_name is None else _text(raw_name),
        type=EntryType(stored[3]),
        size=stored[4],
        mtime=stored[5],
        mode=stored[6],
        link=_text(stored[7]),
    )
