"""Completed archive listings on disk, so browsing is instant after the first read and a restart.

Reading a large archive takes seconds to minutes; its entry list changes only
when the backup file does. Each completed listing is saved as one SQLite
database in `<data_dir>/index/`, named by a hash of the backup's identity and
the archive name, so the folder's file names reveal nothing. Rows carry each
path's rank among its siblings in `ArchiveIndex.folder_page` order, so any
folder page is one indexed range query, however large the archive.

Unencrypted backups are stored plainly. Encrypted backups are stored only
when the user turned on `remember_index`, and then sealed with keys derived
from the backup password (see index_codec). A database is only used while
the backup file keeps the identity it had when it was listed; anything that
does not open cleanly (damaged file, wrong password, older format) counts as
"no index" and the archive is simply read again.

Saved lists share one size cap. A listing whose database alone would pass
it is not saved at all (the log says so): that archive is then browsed from
the listing's own temporary database and read again after a restart.
Searches read a saved index a chunk at a time and keep only the page asked
for, so neither saving nor searching holds a million rows in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import json
import logging
import os
import sqlite3
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backup_inspector.backup_format.tar_entry import EntryType, TarEntry
from backup_inspector.inspection.archive_index import (
    ROOT,
    ArchiveIndex,
    IndexedPath,
    ListingPage,
    name_of,
    outermost_paths,
)
from backup_inspector.inspection.index_codec import (
    KdfLimits,
    PlainRowCodec,
    RowCodec,
    SealedRowCodec,
    WrongIndexPasswordError,
    new_salt,
    surrogate_safe_bytes,
)

_LOGGER: logging.Logger = logging.getLogger(__name__)

# 2: rows are compact JSON arrays (see _compact_row); 3: files carry their SHA-256,
# plain indexes a casefolded name column for finding a file across backups.
INDEX_FORMAT = "3"
EDGE_BYTES = 64 * 1024  # hashed at both ends of the backup file
INDEX_SUFFIX = ".index"
TEMP_PREFIX = ".partial-"
STALE_TEMP_AGE_S = 3600.0  # a temp file this old was left by a crash, not by a running save
DEFAULT_MAX_TOTAL_BYTES = 200 * 1024 * 1024
INSERT_BATCH_ROWS = 5000
SEARCH_CHUNK_ROWS = 5000  # rows a search reads per query (and per turn of the lock)
# A sealed index keeps names encrypted, so a search decrypts every row and keeps the
# matches in path order in memory: only this many of them can be paged through.
SEALED_SEARCH_WINDOW = 10_000
MODE_PLAIN = "plain"
MODE_SEALED = "sealed"
# Limits a stored index may ask for; a damaged meta table must not make us allocate gigabytes.
MAX_STORED_OPSLIMIT = 10
MAX_STORED_MEMLIMIT_BYTES = 256 * 1024 * 1024

# Rows are clustered by (parent_key, rank): a folder page is one contiguous range.
SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE rows (
    parent_key BLOB NOT NULL,
    rank INTEGER NOT NULL,
    path_key BLOB NOT NULL,
    is_folder INTEGER NOT NULL,
    row BLOB NOT NULL,
    entry BLOB,
    name_cf TEXT,
    PRIMARY KEY (parent_key, rank)
) WITHOUT ROWID;
"""
# Keys of the paths more than one member carries. Files without it (written before
# it existed) still open; they only cannot say that a path occurs once.
DUPLICATES_SCHEMA = "CREATE TABLE duplicated_paths (path_key BLOB PRIMARY KEY) WITHOUT ROWID"
# Built after the bulk insert (faster than keeping it up to date row by row).
PATH_INDEX = "CREATE UNIQUE INDEX rows_by_path ON rows (path_key)"
# Plain indexes only: finding a file by name across backups (a GLOB with a literal
# prefix, such as an exact name, is a range of this index; others scan the table once).
NAME_INDEX = "CREATE INDEX rows_by_name ON rows (name_cf)"
# The `entry` column: NULL = a folder with no entry of its own; these two name-free
# markers = the entry is exactly what the row shows, stored as "<path>" or "./<path>"
# (true of nearly every file, so most rows need no second copy); else the full entry.
ENTRY_AS_ROW = b""
ENTRY_AS_ROW_DOT_SLASH = b"./"


@dataclass(frozen=True)
class BackupIdentity:
    """One version of a backup file: where it is, its size and time, and a hash of its ends.

    Size and modification time catch ordinary changes; the hash of the first
    and last 64 KiB catches a file replaced by another of the same size whose
    time was preserved (a copy with `cp -p`, a restore from elsewhere).
    """

    path: str
    size: int
    mtime_ns: int
    edge_sha256: str

    def index_name(self, archive_name: str) -> str:
        """The opaque name of this identity's index of one archive."""
        fields = [INDEX_FORMAT, self.path, self.size, self.mtime_ns, self.edge_sha256, archive_name]
        encoded = json.dumps(fields, ensure_ascii=True).encode("ascii")
        return hashlib.sha256(b"backup-inspector index\0" + encoded).hexdigest()


def identify_backup(path: Path) -> BackupIdentity:
    """The identity of the backup file at `path` (OSError if it cannot be read)."""
    resolved = path.resolve()
    digest = hashlib.sha256()
    with resolved.open("rb") as backup_file:
        stat = os.fstat(backup_file.fileno())
        digest.update(backup_file.read(EDGE_BYTES))
        backup_file.seek(max(0, stat.st_size - EDGE_BYTES))
        digest.update(backup_file.read(EDGE_BYTES))
    return BackupIdentity(str(resolved), stat.st_size, stat.st_mtime_ns, digest.hexdigest())


_JSON_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)


def _json_bytes(value: Any) -> bytes:
    """Compact JSON; ASCII-escaped, so names with undecodable bytes survive."""
    return _JSON_ENCODER.encode(value).encode("ascii")


def _entry_json(entry: TarEntry) -> dict[str, Any]:
    """Everything needed to rebuild a TarEntry."""
    return {**entry.to_json(), "raw_name": entry.raw_name}


def _entry_marker(entry: TarEntry, row: dict[str, Any]) -> bytes | None:
    """ENTRY_AS_ROW(_DOT_SLASH) when the row already tells the whole entry, else None."""
    shown = (row["type"], row["size"], row["mtime"], row["mode"], row["link"])
    if shown != (entry.type.value, entry.size, entry.mtime, entry.mode, entry.link):
        return None  # a folder row shows totals, not the entry's own size
    if entry.raw_name == entry.path:
        return ENTRY_AS_ROW
    if entry.raw_name == "./" + entry.path:
        return ENTRY_AS_ROW_DOT_SLASH
    return None


def _entry_from_row(row: dict[str, Any], marker: bytes) -> TarEntry:
    """The entry a marker stands for."""
    path = row["path"]
    return TarEntry(
        path=path,
        raw_name=path if marker == ENTRY_AS_ROW else "./" + path,
        type=EntryType(row["type"]),
        size=row["size"],
        mtime=row["mtime"],
        mode=row["mode"],
        link=row["link"],
    )


def _entry_from_json(data: dict[str, Any]) -> TarEntry:
    """The TarEntry saved by `_entry_json`."""
    return TarEntry(
        path=data["path"],
        raw_name=data["raw_name"],
        type=EntryType(data["type"]),
        size=int(data["size"]),
        mtime=data["mtime"],
        mode=data["mode"],
        link=data["link"],
    )


def _compact_row(row: dict[str, Any], *, keys_are_paths: bool) -> list[Any]:
    """A page row as a JSON array: no key names, no name (the path's last part), and no
    path where the path key is the path. A million rows are about 70 MB smaller so.
    Folders end with their two counts, regular files with their SHA-256 (or None)."""
    values = [None if keys_are_paths else row["path"]]
    values += [row["type"], row["size"], row["mtime"], row["mode"], row["link"]]
    if "file_count" in row:
        values += [row["file_count"], row["child_count"]]
    elif "sha256" in row:
        values.append(row["sha256"])
    return values


def _expanded_row(values: list[Any], path: str) -> dict[str, Any]:
    """The page row a _compact_row array stands for."""
    row = {"path": path, "type": values[1], "size": values[2], "mtime": values[3]}
    row.update(mode=values[4], link=values[5], name=name_of(path))
    if len(values) == 8:
        row["file_count"], row["child_count"] = values[6], values[7]
    elif len(values) == 7:
        row["sha256"] = values[6]
    return row


def _read_only_uri(path: Path) -> str:
    """An SQLite URI that opens `path` read-only (a saved index is never changed in place)."""
    return path.resolve().as_uri() + "?mode=ro"


def _row_context(path_key: bytes) -> bytes:
    """AES-GCM associated data of a row: a row cannot be moved to another path."""
    return b"row:" + path_key


def _entry_context(path_key: bytes) -> bytes:
    """AES-GCM associated data of an entry."""
    return b"entry:" + path_key


SUMMARY_CONTEXT = b"summary"
# In the summary: how many paths are duplicated, when the listing could tell (else absent).
DUPLICATES_KEY = "duplicated_paths"
# One chunk of a search: the rows after a path key, in the order of the path index.
_PATH_KEYS_AFTER = "SELECT path_key FROM rows WHERE path_key > ? ORDER BY path_key LIMIT ?"
_ROWS_AFTER = "SELECT path_key, row FROM rows WHERE path_key > ? ORDER BY path_key LIMIT ?"


def _check_duplicate_count(connection: sqlite3.Connection, summary: dict[str, Any]) -> None:
    """ValueError when the duplicated paths stored are not as many as the (sealed) summary says.

    A lost row would let a reader stop at the first copy of a duplicated path.
    """
    if DUPLICATES_KEY in summary:
        stored = connection.execute("SELECT COUNT(*) FROM duplicated_paths").fetchone()[0]
        if stored != int(summary[DUPLICATES_KEY]):
            raise ValueError("duplicated path count differs")


class IndexTooLargeError(Exception):
    """A listing's database would pass the size cap of all saved listings on its own."""


class StoredArchiveIndex:
    """A complete archive index read from disk; the same read API as ArchiveIndex.

    Handlers call it from the event loop and from worker threads, so one
    connection is shared under a lock (each call is a few milliseconds).
    """

    def __init__(
        self,
        archive_name: str,
        connection: sqlite3.Connection,
        codec: RowCodec,
        summary: dict[str, Any],
    ) -> None:
        self.archive_name = archive_name
        self._connection = connection
        self._codec = codec
        self._summary = summary
        self._lock = threading.Lock()
        # Caches drop stored indexes without telling them; the connection closes with the object.
        self._closer = weakref.finalize(self, connection.close)

    def close(self) -> None:
        """Close the database connection now (it also closes when the index is dropped)."""
        with self._lock:
            self._closer()

    @property
    def is_complete(self) -> bool:
        """Always: only finished listings are stored."""
        return True

    @property
    def entry_count(self) -> int:
        """How many entries the archive holds."""
        return int(self._summary["entry_count"])

    @property
    def job_id(self) -> str | None:
        """No job fills a stored index."""
        return None

    def status_json(self) -> dict[str, Any]:
        """The same shape as ArchiveIndex.status_json of the finished listing."""
        return {
            "archive": self.archive_name,
            "entry_count": self._summary["entry_count"],
            "file_count": self._summary["file_count"],
            "total_size": self._summary["total_size"],
            "is_complete": True,
            "job_id": None,
            "result": self._summary["result"],
            "error": None,
        }

    def has_folder(self, folder: str) -> bool:
        """Whether `folder` is a known folder (ROOT always is)."""
        if folder == ROOT:
            return True
        found = self._fetch_one(
            "SELECT is_folder FROM rows WHERE path_key = ?", (self._codec.path_key(folder),)
        )
        return found is not None and bool(found[0])

    def entry(self, path: str) -> TarEntry | None:
        """The entry stored at `path`, if any."""
        path_key = self._codec.path_key(path)
        found = self._fetch_one("SELECT entry, row FROM rows WHERE path_key = ?", (path_key,))
        if found is None or found[0] is None:
            return None
        stored_entry = bytes(found[0])
        if stored_entry in (ENTRY_AS_ROW, ENTRY_AS_ROW_DOT_SLASH):
            return _entry_from_row(self._row(path_key, found[1]), stored_entry)
        return _entry_from_json(
            json.loads(self._codec.open(stored_entry, _entry_context(path_key)))
        )

    def occurs_once(self, path: str) -> bool | None:
        """Whether exactly one member is called `path`; None when the index cannot tell.

        None for paths without an entry of their own, and for every path of
        an index saved without the duplicated paths (by an older version, or
        from a listing that left entries out).
        """
        if DUPLICATES_KEY not in self._summary:
            return None
        path_key = self._codec.path_key(path)
        found = self._fetch_one(
            "SELECT EXISTS (SELECT 1 FROM duplicated_paths WHERE path_key = ?) FROM rows "
            "WHERE path_key = ? AND entry IS NOT NULL",
            (path_key, path_key),
        )
        return None if found is None else not found[0]

    def folder_page(self, folder: str, offset: int, limit: int) -> ListingPage:
        """One page of a folder's children, by their stored rank.

        Ranks are 0..n-1 within a folder, so both the total and the page are
        primary-key range lookups: no COUNT or OFFSET scan, whatever the size.
        """
        parent_key = self._codec.path_key(folder)
        with self._lock:
            total = self._connection.execute(
                "SELECT COALESCE(MAX(rank) + 1, 0) FROM rows WHERE parent_key = ?", (parent_key,)
            ).fetchone()[0]
            found = self._connection.execute(
                "SELECT path_key, row FROM rows WHERE parent_key = ? AND rank >= ? AND rank < ? "
                "ORDER BY rank",
                (parent_key, offset, offset + limit),
            ).fetchall()
        rows = [self._row(key, row) for key, row in found]
        return ListingPage(rows=rows, total=total, offset=offset)

    def search(self, text: str, offset: int, limit: int) -> ListingPage:
        """Entries whose name contains `text` (any case), by path, a chunk of rows at a time."""
        needle = text.casefold()
        if self._codec.keys_are_paths:
            return self._search_by_path_keys(needle, offset, limit)
        return self._search_sealed(needle, offset, limit)

    def _search_by_path_keys(self, needle: str, offset: int, limit: int) -> ListingPage:
        """Plain index: walk the path index in order (paths only), then read the page's rows."""
        total = 0
        page_keys: list[bytes] = []
        for (path_key,) in self._chunks(_PATH_KEYS_AFTER):
            if needle in name_of(self._codec.path_of(path_key)).casefold():
                if offset <= total < offset + limit:
                    page_keys.append(path_key)
                total += 1
        rows = []
        for path_key in page_keys:
            found = self._fetch_one("SELECT row FROM rows WHERE path_key = ?", (path_key,))
            assert found is not None  # a read-only database does not lose rows
            rows.append(self._row(path_key, found[0]))
        return ListingPage(rows=rows, total=total, offset=offset)

    def _search_sealed(self, needle: str, offset: int, limit: int) -> ListingPage:
        """Sealed index: decrypt every row; keep the first SEALED_SEARCH_WINDOW matches by path.

        The order is the memory index's (paths as UTF-8 bytes); pages past the
        window come back empty, with the true total, so the page can say to
        narrow the search.
        """
        total = 0

        def matches() -> Iterator[dict[str, Any]]:
            nonlocal total
            for path_key, stored in self._chunks(_ROWS_AFTER):
                row = self._row(path_key, stored)
                if needle in row["name"].casefold():
                    total += 1
                    yield row

        window = min(offset + limit, SEALED_SEARCH_WINDOW) if offset < SEALED_SEARCH_WINDOW else 0
        found = matches()
        kept = heapq.nsmallest(window, found, key=lambda row: surrogate_safe_bytes(row["path"]))
        for _counted in found:
            pass  # nsmallest reads nothing for an empty window: the matches are only counted
        return ListingPage(
            rows=kept[offset : offset + limit],
            total=total,
            offset=offset,
            pageable=SEALED_SEARCH_WINDOW if total > SEALED_SEARCH_WINDOW else None,
        )

    def _chunks(self, select: str) -> Iterator[tuple[Any, ...]]:
        """Every result of a keyset query (_PATH_KEYS_AFTER, _ROWS_AFTER), in path key order.

        Keyset paging: each chunk is one indexed range query under the lock,
        so folder pages are served between chunks of a long search.
        """
        after = b""
        while True:
            with self._lock:
                found = self._connection.execute(select, (after, SEARCH_CHUNK_ROWS)).fetchall()
            if not found:
                return
            yield from found
            after = found[-1][0]

    def file_rows(
        self, name_glob: str | None = None, path_filter: Callable[[str], bool] | None = None
    ) -> Iterator[dict[str, Any]]:
        """The page rows of regular files; only names matching an SQLite GLOB if given.

        A plain index matches the casefolded name column in SQL and the paths
        (its keys) with `path_filter` before decoding, so only matching rows
        are decoded; a sealed index has no names in the clear and decrypts
        every row (the caller matches those itself).
        """
        if self._codec.keys_are_paths and (name_glob is not None or path_filter is not None):
            with self._lock:
                found = self._connection.execute(
                    "SELECT path_key, row FROM rows WHERE (? IS NULL OR name_cf GLOB ?) "
                    "AND is_folder = 0",
                    (name_glob, name_glob),
                ).fetchall()
            for path_key, stored in found:
                if path_filter is not None and not path_filter(self._codec.path_of(path_key)):
                    continue
                row = self._row(path_key, stored)
                if row["type"] == EntryType.FILE.value:
                    yield row
            return
        after = b""
        while True:
            with self._lock:
                found = self._connection.execute(
                    "SELECT path_key, row FROM rows WHERE path_key > ? AND is_folder = 0 "
                    "ORDER BY path_key LIMIT ?",
                    (after, SEARCH_CHUNK_ROWS),
                ).fetchall()
            if not found:
                return
            for path_key, stored in found:
                row = self._row(path_key, stored)
                if row["type"] == EntryType.FILE.value:
                    yield row
            after = found[-1][0]

    def selection_size(self, paths: list[str]) -> tuple[int, int]:
        """Bytes and file count of the files at or below the given paths (overlaps once)."""
        total_size = 0
        file_count = 0
        for path in outermost_paths(paths):
            if path in (ROOT, "."):
                total_size += int(self._summary["total_size"])
                file_count += int(self._summary["file_count"])
                continue
            path_key = self._codec.path_key(path)
            found = self._fetch_one(
                "SELECT is_folder, row FROM rows WHERE path_key = ?", (path_key,)
            )
            if found is None:
                continue
            row = self._row(path_key, found[1])
            if found[0]:
                total_size += int(row["size"])
                file_count += int(row["file_count"])
            elif row["type"] == EntryType.FILE.value:
                total_size += int(row["size"])
                file_count += 1
        return total_size, file_count

    def _fetch_one(self, sql: str, parameters: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """One result row of a query, under the connection lock."""
        with self._lock:
            return self._connection.execute(sql, parameters).fetchone()

    def _row(self, path_key: bytes, stored: bytes) -> dict[str, Any]:
        """The JSON page row of one stored path."""
        values = json.loads(self._codec.open(stored, _row_context(path_key)))
        path = self._codec.path_of(path_key) if self._codec.keys_are_paths else values[0]
        return _expanded_row(values, path)


class IndexStore:
    """Saves and opens archive indexes in one folder, within a total size.

    `remember_protected` is the add-on's remember_index option: without it,
    nothing about an encrypted backup is written. Every failure to write is
    logged without file names and otherwise ignored: the memory index still
    serves the page.
    """

    def __init__(
        self,
        index_dir: Path,
        *,
        remember_protected: bool,
        max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
        kdf_limits: KdfLimits | None = None,
    ) -> None:
        self.index_dir = index_dir
        self._remember_protected = remember_protected
        self._max_total_bytes = max_total_bytes
        self._kdf_limits = kdf_limits or KdfLimits()

    def will_keep(self, *, is_protected: bool, password: str | None) -> bool:
        """Whether an index of such a backup may be saved or opened at all."""
        if not is_protected:
            return True
        return self._remember_protected and password is not None

    def identify(self, backup_path: Path) -> BackupIdentity | None:
        """The backup file's identity; None if it cannot be read (then nothing is stored)."""
        try:
            return identify_backup(backup_path)
        except OSError:
            return None

    def path_for(self, identity: BackupIdentity, archive_name: str) -> Path:
        """Where the index of one archive of this backup version is (or would be) kept."""
        return self.index_dir / (identity.index_name(archive_name) + INDEX_SUFFIX)

    # -- opening -------------------------------------------------------------

    def open_index(
        self,
        identity: BackupIdentity,
        archive_name: str,
        *,
        is_protected: bool,
        password: str | None,
    ) -> StoredArchiveIndex | None:
        """The saved index of this archive of this backup version, or None.

        None also for a wrong password, a damaged or foreign file, or an index
        of the other mode: a missing index only costs reading the archive again.
        """
        if not self.will_keep(is_protected=is_protected, password=password):
            return None
        path = self.path_for(identity, archive_name)
        if not path.is_file():
            return None
        connection: sqlite3.Connection | None = None
        try:
            connection = sqlite3.connect(_read_only_uri(path), uri=True, check_same_thread=False)
            meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("format") != INDEX_FORMAT or meta.get("identity") != path.stem:
                raise ValueError("not an index of this backup version")
            codec = self._codec_for_existing(meta, is_protected=is_protected, password=password)
            summary = json.loads(codec.open(meta["summary"], SUMMARY_CONTEXT))
            stored_rows = connection.execute("SELECT COUNT(*) FROM rows").fetchone()[0]
            if stored_rows != int(meta["row_count"]):
                raise ValueError("row count differs")
            _check_duplicate_count(connection, summary)
        except WrongIndexPasswordError:
            _LOGGER.debug("A saved file list was sealed with another password; reading again")
            self._close_quietly(connection)
            return None
        except Exception as error:  # any damage means "no index", never a failed page
            _LOGGER.warning(
                "A saved file list could not be read (%s); the archive is read again",
                type(error).__name__,
            )
            self._close_quietly(connection)
            return None
        self._mark_used(path)
        return StoredArchiveIndex(archive_name, connection, codec, summary)

    def _codec_for_existing(
        self, meta: dict[str, Any], *, is_protected: bool, password: str | None
    ) -> RowCodec:
        """The codec a saved index was written with, checked against the password."""
        mode = meta.get("mode")
        if mode == MODE_PLAIN and not is_protected:
            return PlainRowCodec()
        if mode == MODE_SEALED and is_protected and password is not None:
            limits = KdfLimits(int(meta["kdf_opslimit"]), int(meta["kdf_memlimit"]))
            if not (
                0 < limits.opslimit <= MAX_STORED_OPSLIMIT
                and 0 < limits.memlimit_bytes <= MAX_STORED_MEMLIMIT_BYTES
            ):
                raise ValueError("unreasonable key derivation limits")
            return SealedRowCodec.for_existing(
                password, bytes(meta["salt"]), limits, bytes(meta["check"])
            )
        raise ValueError("index mode does not fit the backup")

    @staticmethod
    def _close_quietly(connection: sqlite3.Connection | None) -> None:
        """Close a connection that turned out useless."""
        if connection is not None:
            connection.close()

    @staticmethod
    def _mark_used(path: Path) -> None:
        """Touch the file: the size cap drops the least recently used indexes first."""
        with contextlib.suppress(OSError):  # a read-only data folder still serves its indexes
            os.utime(path)

    def remove_sealed_indexes(self) -> int:
        """Delete every saved index of an encrypted backup; returns how many.

        Called at start-up while remember_index is off: turning the option
        off should leave nothing about encrypted backups on disk, not even
        sealed copies from when it was on.
        """
        removed = 0
        for path in self._index_files():
            try:
                with contextlib.closing(
                    sqlite3.connect(_read_only_uri(path), uri=True)
                ) as connection:
                    found = connection.execute(
                        "SELECT value FROM meta WHERE key = 'mode'"
                    ).fetchone()
                is_sealed = found is not None and found[0] == MODE_SEALED
            except sqlite3.Error:
                is_sealed = True  # unreadable: cannot prove it is plain, and it is useless anyway
            if is_sealed:
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed += 1
        return removed

    def _index_files(self) -> list[Path]:
        """The saved index files (none if the folder does not exist)."""
        try:
            found = self.index_dir.glob("*" + INDEX_SUFFIX)
            return sorted(path for path in found if not path.name.startswith(TEMP_PREFIX))
        except OSError:
            return []

    # -- saving --------------------------------------------------------------

    def save(
        self,
        identity: BackupIdentity,
        index: ArchiveIndex,
        *,
        is_protected: bool,
        password: str | None,
    ) -> bool:
        """Write a finished index atomically; True when it was written.

        `identity` is the backup's identity from before the listing started;
        if the file no longer has it, the listing may describe a mix of two
        versions and is not saved. Runs in the listing job's worker thread.
        """
        if not self.will_keep(is_protected=is_protected, password=password):
            return False
        if not index.is_complete or self.identify(Path(identity.path)) != identity:
            return False
        target = self.path_for(identity, index.archive_name)
        temp_path: Path | None = None
        try:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            descriptor, temp_name = tempfile.mkstemp(
                prefix=TEMP_PREFIX, suffix=INDEX_SUFFIX, dir=self.index_dir
            )
            os.close(descriptor)
            temp_path = Path(temp_name)
            codec, codec_meta = self._codec_for_new_index(is_protected, password)
            self._write_database(temp_path, identity, index, codec, codec_meta)
            os.replace(temp_path, target)
            temp_path = None
        except IndexTooLargeError:
            _LOGGER.warning(
                "The file list of an archive with %d entries needs more than the %.0f MB allowed "
                "for saved file lists: it is not saved, and the archive is read again after a "
                "restart",
                index.entry_count,
                self._max_total_bytes / (1024 * 1024),
            )
            return False
        except (OSError, sqlite3.Error) as error:
            # The message may hold a temp file name (hex) but never an entry name or password.
            _LOGGER.warning(
                "Could not save a file list for faster browsing: %s",
                getattr(error, "strerror", None) or type(error).__name__,
            )
            return False
        finally:
            if temp_path is not None:
                temp_path.unlink(missing_ok=True)
        self._enforce_size_cap(keep=target)
        return True

    def _codec_for_new_index(
        self, is_protected: bool, password: str | None
    ) -> tuple[RowCodec, dict[str, Any]]:
        """A codec for a new index and the meta values that reopen it."""
        if not is_protected:
            return PlainRowCodec(), {"mode": MODE_PLAIN}
        assert password is not None  # will_keep() said so
        salt = new_salt()
        codec = SealedRowCodec(password, salt, self._kdf_limits)
        return codec, {
            "mode": MODE_SEALED,
            "salt": salt,
            "kdf_opslimit": self._kdf_limits.opslimit,
            "kdf_memlimit": self._kdf_limits.memlimit_bytes,
            "check": codec.check_value,
        }

    def _write_database(
        self,
        temp_path: Path,
        identity: BackupIdentity,
        index: ArchiveIndex,
        codec: RowCodec,
        codec_meta: dict[str, Any],
    ) -> None:
        """Fill a new database file; the path index is built after the bulk insert."""
        connection = sqlite3.connect(temp_path)
        try:
            # No journal: the file is private until os.replace, a crash just leaves a temp file.
            connection.execute("PRAGMA journal_mode = OFF")
            connection.execute("PRAGMA synchronous = OFF")
            connection.executescript(SCHEMA)
            connection.execute(DUPLICATES_SCHEMA)
            row_count = 0
            batch: list[tuple[bytes, int, bytes, int, bytes, bytes | None, str | None]] = []
            parent_key = (
                ROOT,
                codec.path_key(ROOT),
            )  # the export yields a folder's children together
            for item in index.export_paths():
                if item.parent != parent_key[0]:
                    parent_key = (item.parent, codec.path_key(item.parent))
                batch.append(self._stored_row(item, codec, parent_key[1]))
                if len(batch) >= INSERT_BATCH_ROWS:
                    row_count += self._insert_rows(connection, batch)
                    self._check_size(temp_path)
            row_count += self._insert_rows(connection, batch)
            connection.execute(PATH_INDEX)
            if codec.keys_are_paths:
                connection.execute(NAME_INDEX)
            status = index.status_json()
            summary = {name: status[name] for name in ("entry_count", "file_count", "total_size")}
            summary["result"] = status["result"]
            summary.update(self._insert_duplicated_paths(connection, index, codec))
            meta = {
                **codec_meta,
                "format": INDEX_FORMAT,
                "identity": identity.index_name(index.archive_name),
                "row_count": row_count,
                "summary": codec.seal(_json_bytes(summary), SUMMARY_CONTEXT),
            }
            connection.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
            connection.commit()
        finally:
            connection.close()
        self._check_size(temp_path)
        with temp_path.open("rb+") as written:
            os.fsync(written.fileno())

    @staticmethod
    def _insert_duplicated_paths(
        connection: sqlite3.Connection, index: ArchiveIndex, codec: RowCodec
    ) -> dict[str, int]:
        """Store the keys of duplicated paths; {DUPLICATES_KEY: count} when the index knows them."""
        if not index.knows_duplicates:
            return {}
        connection.executemany(
            "INSERT OR IGNORE INTO duplicated_paths (path_key) VALUES (?)",
            ((codec.path_key(path),) for path in index.duplicated_paths()),
        )
        count = connection.execute("SELECT COUNT(*) FROM duplicated_paths").fetchone()[0]
        return {DUPLICATES_KEY: count}

    def _check_size(self, temp_path: Path) -> None:
        """Stop saving (IndexTooLargeError) once the new file alone is over the size cap."""
        if temp_path.stat().st_size > self._max_total_bytes:
            raise IndexTooLargeError

    @staticmethod
    def _stored_row(
        item: IndexedPath, codec: RowCodec, parent_key: bytes
    ) -> tuple[bytes, int, bytes, int, bytes, bytes | None, str | None]:
        """The column values of one path; only a plain index keeps the name in the clear."""
        path_key = codec.path_key(item.path)
        compact = _compact_row(item.row, keys_are_paths=codec.keys_are_paths)
        row = codec.seal(_json_bytes(compact), _row_context(path_key))
        entry: bytes | None = None
        if item.entry is not None:
            entry = _entry_marker(item.entry, item.row)
            if entry is None:
                entry = codec.seal(_json_bytes(_entry_json(item.entry)), _entry_context(path_key))
        name_cf = (
            # Text, so GLOB can use the name index; an undecodable byte becomes U+FFFD
            # (the caller matches the real name again, this column only narrows).
            surrogate_safe_bytes(name_of(item.path).casefold()).decode("utf-8", "replace")
            if codec.keys_are_paths
            else None
        )
        return parent_key, item.rank, path_key, int(item.is_folder), row, entry, name_cf

    @staticmethod
    def _insert_rows(
        connection: sqlite3.Connection,
        batch: list[tuple[bytes, int, bytes, int, bytes, bytes | None, str | None]],
    ) -> int:
        """Insert and clear one batch; returns how many rows it held."""
        connection.executemany(
            "INSERT INTO rows (parent_key, rank, path_key, is_folder, row, entry, name_cf) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            batch,
        )
        count = len(batch)
        batch.clear()
        return count

    def _enforce_size_cap(self, keep: Path) -> None:
        """Drop the least recently used indexes beyond the size cap, and stale temp files."""
        try:
            found: list[tuple[float, int, Path]] = []
            now = time.time()
            with os.scandir(self.index_dir) as entries:
                for entry in entries:
                    stat = entry.stat()
                    if entry.name.startswith(TEMP_PREFIX):
                        if now - stat.st_mtime > STALE_TEMP_AGE_S:
                            Path(entry.path).unlink(missing_ok=True)
                    elif entry.name.endswith(INDEX_SUFFIX):
                        found.append((stat.st_mtime, stat.st_size, Path(entry.path)))
            total = sum(size for _mtime, size, _path in found)
            for _mtime, size, path in sorted(found):
                if total <= self._max_total_bytes:
                    return
                if path != keep:
                    path.unlink(missing_ok=True)
                    total -= size
        except OSError as error:
            _LOGGER.warning(
                "Could not tidy the saved file lists: %s", error.strerror or type(error).__name__
            )
