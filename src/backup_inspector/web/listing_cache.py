"""Where archive listings are kept between requests: in memory, and on disk with a data folder.

The routes only see the ListingCache interface. MemoryListingCache keeps the
indexes of the session; PersistentListingCache adds the service layer's
IndexStore underneath, so an archive read once (in this run or an earlier
one) opens without a new listing job.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from backup_inspector.inspection.archive_index import ArchiveIndex, BrowsableIndex
from backup_inspector.inspection.index_store import BackupIdentity, IndexStore, StoredArchiveIndex

_LOGGER: logging.Logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ListingKey:
    """One archive of one version of a backup file: a changed file gets new keys.

    `backup_path` and `is_protected` are what a persistent store needs: the
    file to identify, and whether its entry names are private.
    """

    backup_id: str
    file_size: int
    file_mtime_ns: int
    archive_name: str
    backup_path: Path | None = None
    is_protected: bool = True


FileVersion = tuple[int, int]  # (file size, mtime in ns) of a backup file


def _is_dropped(key: ListingKey, backup_id: str, keep_version: FileVersion | None) -> bool:
    """Whether discard_backup(backup_id, keep_version) drops the index under `key`."""
    if key.backup_id != backup_id:
        return False
    return keep_version is None or (key.file_size, key.file_mtime_ns) != keep_version


class ListingCache(Protocol):
    """Get or create the index of an archive; drop those of a backup."""

    def get_or_create(self, key: ListingKey) -> tuple[BrowsableIndex, bool]:
        """The index for `key`, and whether it was just created (an empty ArchiveIndex)."""

    def get(self, key: ListingKey) -> BrowsableIndex | None:
        """The index for `key`, if one exists."""

    def completed(self, key: ListingKey, index: ArchiveIndex, password: str | None) -> None:
        """A listing job finished filling `index` (persist it, where that is wanted)."""

    def discard(self, key: ListingKey) -> None:
        """Forget one archive's index (a failed or cancelled listing)."""

    def discard_backup(self, backup_id: str, keep_version: FileVersion | None = None) -> None:
        """Forget the indexes of a backup (the file changed or disappeared).

        With `keep_version` (file size, mtime in ns), the indexes of that
        version of the file stay: a listing of the current file may already
        be running when a folder scan reports the file as new or changed.
        """

    def trim(self) -> None:
        """Drop old indexes beyond the memory budget (called every few seconds)."""


MAX_CACHED_ARCHIVES = 24
# Entries wait in each listing's temporary database (about 160 bytes each on
# disk, a few MB of cache each in memory), so this bounds temporary disk use
# rather than memory: half a million entries stay near 80 MB.
MAX_CACHED_ENTRIES = 500_000


class MemoryListingCache:
    """Keeps the most recently used archive indexes in memory, for the session."""

    def __init__(
        self, max_archives: int = MAX_CACHED_ARCHIVES, max_entries: int = MAX_CACHED_ENTRIES
    ) -> None:
        self._max_archives = max_archives
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._indexes: OrderedDict[ListingKey, ArchiveIndex] = OrderedDict()

    def get_or_create(self, key: ListingKey) -> tuple[ArchiveIndex, bool]:
        """The index for `key`, and whether it was just created (empty)."""
        with self._lock:
            index = self._indexes.get(key)
            if index is not None:
                self._indexes.move_to_end(key)
                return index, False
            index = ArchiveIndex(key.archive_name, names_are_private=key.is_protected)
            self._indexes[key] = index
            self._drop_oldest_locked()
            return index, True

    def get(self, key: ListingKey) -> ArchiveIndex | None:
        """The index for `key`, if one exists."""
        with self._lock:
            index = self._indexes.get(key)
            if index is not None:
                self._indexes.move_to_end(key)
            return index

    def completed(self, key: ListingKey, index: ArchiveIndex, password: str | None) -> None:
        """Nothing to do: the index already lives here."""

    def discard(self, key: ListingKey) -> None:
        """Forget one archive's index."""
        with self._lock:
            self._indexes.pop(key, None)

    def discard_backup(self, backup_id: str, keep_version: FileVersion | None = None) -> None:
        """Forget the indexes of a backup, except those of `keep_version`."""
        with self._lock:
            for key in [key for key in self._indexes if _is_dropped(key, backup_id, keep_version)]:
                del self._indexes[key]

    def _is_over_budget_locked(self) -> bool:
        """Whether more archives or entries are kept than allowed."""
        if len(self._indexes) > self._max_archives:
            return True
        return sum(index.entry_count for index in self._indexes.values()) > self._max_entries

    def _drop_oldest_locked(self) -> None:
        """Drop least recently used indexes that no listing fills, until within budget.

        The newest index always stays, even alone over budget: it is the one in use.
        """
        for key in list(self._indexes)[:-1]:
            if not self._is_over_budget_locked():
                return
            if self._indexes[key].job_id is None:
                del self._indexes[key]

    def trim(self) -> None:
        """Enforce the budget now (listings grow after they were created)."""
        with self._lock:
            self._drop_oldest_locked()


MAX_OPEN_STORED_INDEXES = 32  # each holds one SQLite connection, not its rows


class PersistentListingCache:
    """Memory first, then completed listings saved on disk, else a new memory index.

    Stored indexes that were opened stay open (for an encrypted backup that
    saves a key derivation per request) until the backup changes or its
    password is forgotten. `password_of` gives the backup's current password:
    a sealed index opens only with the password it was saved with.
    """

    def __init__(
        self,
        memory: MemoryListingCache,
        store: IndexStore,
        password_of: Callable[[str], str | None],
        max_open_stored: int = MAX_OPEN_STORED_INDEXES,
    ) -> None:
        self._memory = memory
        self._store = store
        self._password_of = password_of
        self._max_open_stored = max_open_stored
        self._lock = threading.Lock()
        self._stored: OrderedDict[ListingKey, StoredArchiveIndex] = OrderedDict()
        # Identity of the file when each new memory index was created, to be saved under.
        self._identities_at_start: dict[ListingKey, BackupIdentity] = {}

    def get_or_create(self, key: ListingKey) -> tuple[BrowsableIndex, bool]:
        """The index for `key` from memory or disk; else a new empty memory index."""
        index = self._memory.get(key)
        if index is not None:
            return index, False
        stored, identity = self._open_stored(key)
        if stored is not None:
            return stored, False
        index, is_new = self._memory.get_or_create(key)
        if is_new and identity is not None:
            with self._lock:
                self._identities_at_start[key] = identity
        return index, is_new

    def get(self, key: ListingKey) -> BrowsableIndex | None:
        """The index for `key` from memory or disk, if one exists."""
        index = self._memory.get(key)
        if index is not None:
            return index
        return self._open_stored(key)[0]

    def completed(self, key: ListingKey, index: ArchiveIndex, password: str | None) -> None:
        """Save the finished index, if this backup's indexes may be kept on disk.

        Runs in the listing job's thread; a failure costs only the saving.
        """
        with self._lock:
            identity = self._identities_at_start.pop(key, None)
        if identity is None:
            return
        try:
            self._store.save(identity, index, is_protected=key.is_protected, password=password)
        except Exception:
            _LOGGER.exception("Saving a file list failed")

    def discard(self, key: ListingKey) -> None:
        """Forget one archive's index (memory and any opened stored index)."""
        self._memory.discard(key)
        with self._lock:
            self._stored.pop(key, None)
            self._identities_at_start.pop(key, None)

    def discard_backup(self, backup_id: str, keep_version: FileVersion | None = None) -> None:
        """Forget the indexes of a backup but `keep_version`'s; saved files stay on disk."""
        self._memory.discard_backup(backup_id, keep_version)
        with self._lock:
            for keys in (self._stored, self._identities_at_start):
                for key in [key for key in keys if _is_dropped(key, backup_id, keep_version)]:
                    del keys[key]

    def trim(self) -> None:
        """Enforce the memory budget."""
        self._memory.trim()

    def _open_stored(
        self, key: ListingKey
    ) -> tuple[StoredArchiveIndex | None, BackupIdentity | None]:
        """(an already opened or newly opened stored index, the file's identity if it was read)."""
        with self._lock:
            stored = self._stored.get(key)
            if stored is not None:
                self._stored.move_to_end(key)
                return stored, None
        if key.backup_path is None:
            return None, None
        password = self._password_of(key.backup_id) if key.is_protected else None
        if not self._store.will_keep(is_protected=key.is_protected, password=password):
            return None, None
        identity = self._store.identify(key.backup_path)
        if identity is None or (identity.size, identity.mtime_ns) != (
            key.file_size,
            key.file_mtime_ns,
        ):
            return None, None  # the file changed since the folder scan: the key is stale
        stored = self._store.open_index(
            identity, key.archive_name, is_protected=key.is_protected, password=password
        )
        if stored is not None:
            with self._lock:
                self._stored[key] = stored
                while len(self._stored) > self._max_open_stored:
                    self._stored.popitem(last=False)
        return stored, identity
