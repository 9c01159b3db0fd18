"""The file list of one archive of one backup for history and comparison: saved, or read now.

Finding a file in every backup must not read thirty backups each time: it
uses the saved indexes (index_store). An archive with no saved index is read
once, hashed as it streams, and saved, so the next search is instant. An
encrypted archive is read only with its password; its index is saved (sealed)
only where the store remembers encrypted backups (`remember_index`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from ..backup_format.findings import FindingCode
from ..backup_format.securetar_header import Encryption
from .archive_index import ArchiveIndex
from .backup_overview import BackupOverview, InnerArchive
from .index_store import BackupIdentity, IndexStore
from .listing_job import list_entries
from .progress import CancelToken

LOCKED_NO_PASSWORD = FindingCode.PASSWORD_REQUIRED.value
LOCKED_WRONG_PASSWORD = FindingCode.WRONG_PASSWORD.value
UNREADABLE = "unreadable"
_PASSWORD_CODES = {
    FindingCode.PASSWORD_REQUIRED: LOCKED_NO_PASSWORD,
    FindingCode.WRONG_PASSWORD: LOCKED_WRONG_PASSWORD,
}


class FileRows(Protocol):
    """What history and comparison read from a listing, saved or in memory."""

    def file_rows(
        self, name_glob: str | None = None, path_filter: Callable[[str], bool] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Page rows of regular files (name GLOB and path filter applied where it can)."""


@dataclass(frozen=True)
class ArchiveListing:
    """An archive's file list, or why there is none (`locked`: a password code, or unreadable)."""

    archive: InnerArchive
    rows: FileRows | None
    locked: str | None = None


def is_encrypted(archive: InnerArchive) -> bool:
    """Whether reading the archive needs a password."""
    return archive.encryption != Encryption.NONE


def archive_listing(
    overview: BackupOverview,
    archive: InnerArchive,
    store: IndexStore | None,
    password: str | None,
    identity: BackupIdentity | None,
    *,
    read_missing: bool = True,
    cancel: CancelToken | None = None,
) -> ArchiveListing:
    """The saved listing of `archive`, or (with `read_missing`) one read and saved now.

    As the page does, a backup with any encrypted archive keeps all its names
    private (sealed indexes, listings in memory), so both share saved indexes.
    """
    protected = overview.is_protected
    if store is not None and identity is not None:
        stored = store.open_index(identity, archive.name, is_protected=protected, password=password)
        if stored is not None:
            return ArchiveListing(archive, stored)
    if is_encrypted(archive) and password is None:
        return ArchiveListing(archive, None, LOCKED_NO_PASSWORD)
    if not read_missing:
        return ArchiveListing(archive, None, UNREADABLE)
    index = ArchiveIndex(archive.name, names_are_private=protected)
    check = list_entries(overview, archive.name, password, on_entry=index.add, cancel=cancel)
    for problem in check.problems:
        if problem.code in _PASSWORD_CODES:
            return ArchiveListing(archive, None, _PASSWORD_CODES[problem.code])
    if check.entries is None:
        return ArchiveListing(archive, None, UNREADABLE)
    index.finish({**check.to_json(), "read_to_end": check.read_to_end})
    if store is not None and identity is not None and check.read_to_end:
        store.save(identity, index, is_protected=protected, password=password)
    return ArchiveListing(archive, index)
