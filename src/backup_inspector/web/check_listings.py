"""A full check fills the archive listings as it reads: one pass checks and indexes."""

from __future__ import annotations

from collections.abc import Callable

from backup_inspector.backup_format.tar_entry import DataSink, TarEntry
from backup_inspector.inspection.archive_index import ArchiveIndex
from backup_inspector.inspection.backup_overview import InnerArchive
from backup_inspector.inspection.check_job import CheckReport
from backup_inspector.web.app_services import AppServices
from backup_inspector.web.backup_registry import KnownBackup
from backup_inspector.web.listing_cache import ListingKey


class CheckListingRecorder:
    """Lets a full check fill the archive listings as it reads, so browsing needs no second read.

    Only archives with no listing yet are filled; one being listed, or already
    listed (in memory or saved), is left alone. After the check, complete
    walks are finished and saved like a listing job's; a cancelled or failed
    check forgets what it started.
    """

    def __init__(self, services: AppServices, known: KnownBackup, job_id: str) -> None:
        self._services = services
        self._known = known
        self._job_id = job_id
        self._started: dict[str, tuple[ListingKey, ArchiveIndex]] = {}

    def observer_for(self, archive: InnerArchive) -> Callable[[TarEntry], DataSink | None] | None:
        """The entry callback for one archive, or None when it already has a listing."""
        key = self._services.listing_key(self._known, archive.name)
        index, is_new = self._services.listings.get_or_create(key)
        if not is_new or not isinstance(index, ArchiveIndex):
            return None
        index.start(self._job_id)
        self._started[archive.name] = (key, index)
        return index.add

    def finish(self, report: CheckReport, password: str | None) -> None:
        """Keep the listings of archives the check read; drop those it could not."""
        by_name = {check.archive.name: check for check in report.archives}
        for name, (key, index) in self._started.items():
            check = by_name.get(name)
            if check is None or check.entries is None or (not check.entries and not check.ok):
                self._forget(key, index, "not-readable", "This archive could not be read.")
                continue
            index.finish({**check.to_json(), "read_to_end": check.read_to_end})
            self._services.listings.completed(key, index, password)

    def abandon(self) -> None:
        """The check stopped (cancelled, file gone): forget every listing it started."""
        for key, index in self._started.values():
            self._forget(
                key, index, "cancelled", "The check stopped; open the archive again to list it."
            )

    def _forget(self, key: ListingKey, index: ArchiveIndex, code: str, message: str) -> None:
        index.fail(code, message)
        self._services.listings.discard(key)
