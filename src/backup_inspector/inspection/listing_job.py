"""List the entries of one inner archive as they are read."""

from __future__ import annotations

from collections.abc import Callable

from ..backup_format.tar_entry import DataSink, TarEntry, normalise_member_path
from .archive_walk import (
    ProgressTotals,
    require_archive,
    unsafe_entry_collector,
    walk_archive,
)
from .backup_overview import BackupOverview
from .check_job import ArchiveCheck, archive_read_gate, keyring_for
from .progress import CancelToken, ProgressCallback


def is_at_or_under(path: str, folder: str | None) -> bool:
    """Whether an entry path is `folder` itself or inside it (None or "." = everything)."""
    if folder is None or folder == ".":
        return True
    return path == folder or path.startswith(folder + "/")


def list_entries(
    overview: BackupOverview,
    archive_name: str,
    password: str | None,
    on_entry: Callable[[TarEntry], DataSink | None],
    under: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ArchiveCheck:
    """Call `on_entry` for each entry of the archive (at or under `under`) as it is read.

    The password is checked first (against every encrypted archive, so a
    wrong password is told apart from a damaged archive); if it fails nothing
    is read and the returned ArchiveCheck carries the problem. A damaged or
    truncated archive lists every entry before the damage, then reports it.
    Entries that could never be extracted (a path outside the archive, or
    too long or too deep) are reported as `unsafe-entry`, as the check does.
    A sink `on_entry` returns for a regular file gets its bytes (ArchiveIndex
    hashes them so).
    Raises ArchiveNotFoundError for an unknown archive name.
    """
    archive = require_archive(overview, archive_name)
    folder = normalise_member_path(under) if under else None
    keyring = keyring_for(password)
    check = archive_read_gate(overview, archive, password, keyring)
    if not check.ok:
        return check

    collect_unsafe, unsafe_finding = unsafe_entry_collector(archive)

    def forward(entry: TarEntry) -> DataSink | None:
        collect_unsafe(entry)
        return on_entry(entry) if is_at_or_under(entry.path, folder) else None

    totals = ProgressTotals(archive.member.available_size, progress, cancel)
    check.record_walk(walk_archive(overview, archive, keyring, forward, totals))
    check.add_problem(unsafe_finding())
    return check
