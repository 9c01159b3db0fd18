"""Where archive listings are kept between requests: a small interface, in memory for now.

A persistent index (the add-on's remember_index option) can replace the
memory implementation without touching the routes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from backup_inspector.web.archive_index import ArchiveIndex


@dataclass(frozen=True)
class ListingKey:
    """One archive of one version of a backup file: a changed file gets new keys."""

    backup_id: str
    file_size: int
    file_mtime_ns: int
    archive_name: str


class ListingCache(Protocol):
    """Get or create the index of an archive; drop those of a backup."""

    def get_or_create(self, key: ListingKey) -> tuple[ArchiveIndex, bool]:
        """The index for `key`, and whether it was just created (empty)."""

    def get(self, key: ListingKey) -> ArchiveIndex | None:
        """The index for `key`, if one exists."""

    def discard(self, key: ListingKey) -> None:
        """Forget one archive's index (a failed or cancelled listing)."""

    def discard_backup(self, backup_id: str) -> None:
        """Forget every index of a backup (the file changed or disappeared)."""

    def trim(self) -> None:
        """Drop old indexes beyond the memory budget (called every few seconds)."""


MAX_CACHED_ARCHIVES = 24
# About 400 bytes per entry in memory: half a million entries stay near 200 MB,
# which a Raspberry Pi running Home Assistant can spare.
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
            index = ArchiveIndex(key.archive_name)
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

    def discard(self, key: ListingKey) -> None:
        """Forget one archive's index."""
        with self._lock:
            self._indexes.pop(key, None)

    def discard_backup(self, backup_id: str) -> None:
        """Forget every index of a backup."""
        with self._lock:
            for key in [key for key in self._indexes if key.backup_id == backup_id]:
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
