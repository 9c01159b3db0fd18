"""Everything the handlers share, created once per app and reachable through one AppKey."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

from backup_inspector.inspection.job_runner import JobRunner
from backup_inspector.web.api_errors import ApiError
from backup_inspector.web.backup_registry import BackupRegistry, KnownBackup
from backup_inspector.web.blocking_pools import (
    BlockingPool,
    ConcurrencyLimit,
    archive_read_pool,
    catalog_pool,
    download_limit,
    folder_scan_pool,
)
from backup_inspector.web.check_history import CheckHistory
from backup_inspector.web.event_hub import EventHub
from backup_inspector.web.listing_cache import ListingCache, ListingKey
from backup_inspector.web.password_store import PasswordStore
from backup_inspector.web.web_settings import WebSettings

_LOGGER: logging.Logger = logging.getLogger(__name__)

ResultT = TypeVar("ResultT")


@dataclass
class AppServices:
    """The app's state: settings, folder view, passwords, jobs, caches, events."""

    settings: WebSettings
    registry: BackupRegistry
    passwords: PasswordStore
    jobs: JobRunner
    listings: ListingCache
    check_history: CheckHistory
    events: EventHub
    catalog: BlockingPool = field(default_factory=catalog_pool)
    archive_reads: BlockingPool = field(default_factory=archive_read_pool)
    folder_scans: BlockingPool = field(default_factory=folder_scan_pool)
    downloads: ConcurrencyLimit = field(default_factory=download_limit)

    async def run_blocking(self, function: Callable[..., ResultT], *args: Any) -> ResultT:
        """Run a quick blocking call (saved file list, search, plan) off the event loop."""
        return await self.catalog.run(function, *args)

    async def run_archive_read(self, function: Callable[..., ResultT], *args: Any) -> ResultT:
        """Run a call that reads inside an archive, in its own bounded pool.

        Kept apart from run_blocking so that a slow read (a huge file, a
        damaged archive) never delays the backup list; a 503 when too many wait.
        """
        return await self.archive_reads.run(function, *args)

    def shutdown_pools(self) -> None:
        """Stop the thread pools (at app cleanup)."""
        for pool in (self.catalog, self.archive_reads, self.folder_scans):
            pool.shutdown()

    async def refresh_backups(self) -> set[str]:
        """Rescan the backup folder; forget listings of changed or vanished backups."""
        changed = await self.folder_scans.run(self.registry.refresh)
        for backup_id in changed:
            current = self.registry.get(backup_id)
            # Listings of the file as it is now stay: one may have started
            # after this scan read the folder (another scan got there first).
            keep = (current.file_size, current.mtime_ns) if current is not None else None
            self.listings.discard_backup(backup_id, keep)
        if changed:
            self.events.publish({"type": "backups-changed", "version": self.registry.version})
        return changed

    async def find_backup(self, backup_id: str) -> KnownBackup:
        """The current state of one backup, or a 404 ApiError."""
        await self.refresh_backups()
        known = self.registry.get(backup_id)
        if known is None:
            raise ApiError(
                404,
                "unknown-backup",
                "There is no such backup in the backup folder (it may have been deleted or moved).",
            )
        return known

    def listing_key(self, known: KnownBackup, archive_name: str) -> ListingKey:
        """The cache key of one archive of this version of the backup.

        A backup that could not be opened counts as protected: when in doubt,
        entry names are treated as private.
        """
        is_protected = known.overview.is_protected if known.overview is not None else True
        return ListingKey(
            known.backup_id,
            known.file_size,
            known.mtime_ns,
            archive_name,
            backup_path=known.path,
            is_protected=is_protected,
        )

    def last_check(self, known: KnownBackup) -> dict[str, Any] | None:
        """The last check of this version of the backup."""
        return self.check_history.last_check(known.backup_id, known.file_size, known.mtime_ns)


SERVICES: web.AppKey[AppServices] = web.AppKey("services", AppServices)


def services_of(request: web.Request) -> AppServices:
    """The AppServices of the app serving `request`."""
    return request.app[SERVICES]
