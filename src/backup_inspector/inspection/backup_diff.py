"""What changed between two backups: per archive, paths added, removed and changed; and metadata.

Both sides come from the archives' file lists (saved indexes, else read once
and saved, see backup_listings), so two backups of a million files compare
without extracting anything. Files are matched by their path across eras
(the homeassistant archive's `data/` prefix is folded). A file changed when
both hashes are known and differ; where a side was not hashed, a different
size or time counts as changed, and `content` says the bytes were not compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .backup_listings import ArchiveListing, FileRows, archive_listing
from .backup_overview import BackupOverview
from .index_store import IndexStore
from .name_pattern import logical_path
from .progress import CancelToken


@dataclass(frozen=True)
class _Seen:
    """What a file list says about one file."""

    path: str
    size: int
    mtime: float
    sha256: str | None


@dataclass
class ArchiveDiff:
    """Files added, removed and changed in one archive between two backups."""

    archive: str
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def has_differences(self) -> bool:
        """Whether anything was added, removed or changed."""
        return bool(self.added or self.removed or self.changed)

    def to_json(self) -> dict[str, Any]:
        """`diff --json`'s shape per archive (issue 13's contract)."""
        return {"added": self.added, "removed": self.removed, "changed": self.changed}


@dataclass
class BackupDiff:
    """Two whole backups: archive by archive, plus what their metadata says differently."""

    archives: dict[str, ArchiveDiff]
    metadata: list[dict[str, Any]]  # {field, old, new}
    archives_added: list[str]
    archives_removed: list[str]
    locked: dict[str, str]  # archive -> why it could not be compared

    @property
    def has_differences(self) -> bool:
        """Whether anything differs (metadata, archive set, or files)."""
        return bool(
            self.metadata
            or self.archives_added
            or self.archives_removed
            or any(diff.has_differences for diff in self.archives.values())
        )

    def to_json(self) -> dict[str, Any]:
        """Per archive the added/removed/changed lists, then the backup-level differences."""
        return {
            "archives": {name: diff.to_json() for name, diff in self.archives.items()},
            "archives_added": self.archives_added,
            "archives_removed": self.archives_removed,
            "metadata": self.metadata,
            "locked": self.locked,
        }


class ArchiveLockedError(ValueError):
    """One side of an archive comparison cannot be listed (password, damage)."""


def _files_by_logical_path(archive: str, rows: FileRows) -> dict[str, _Seen]:
    """The regular files of a listing, keyed by their path across eras."""
    return {
        logical_path(archive, row["path"]): _Seen(
            row["path"], int(row["size"]), float(row["mtime"]), row.get("sha256")
        )
        for row in rows.file_rows()
    }


def _is_changed(old: _Seen, new: _Seen) -> bool:
    """Different content where both are hashed; else a different size or time."""
    if old.sha256 is not None and new.sha256 is not None:
        return old.sha256 != new.sha256
    return old.size != new.size or old.mtime != new.mtime


def diff_file_lists(archive: str, old_rows: FileRows, new_rows: FileRows) -> ArchiveDiff:
    """Compare two file lists of the same archive."""
    old_files = _files_by_logical_path(archive, old_rows)
    new_files = _files_by_logical_path(archive, new_rows)
    diff = ArchiveDiff(archive)
    for key in sorted(new_files.keys() - old_files.keys()):
        diff.added.append({"path": new_files[key].path, "size": new_files[key].size})
    for key in sorted(old_files.keys() - new_files.keys()):
        diff.removed.append({"path": old_files[key].path, "size": old_files[key].size})
    for key in sorted(old_files.keys() & new_files.keys()):
        old, new = old_files[key], new_files[key]
        if _is_changed(old, new):
            change: dict[str, Any] = {"path": new.path, "old_size": old.size, "new_size": new.size}
            if old.sha256 is None or new.sha256 is None:
                change["content"] = "not hashed"
            diff.changed.append(change)
    return diff


def _listing_or_raise(listing: ArchiveListing, overview: BackupOverview) -> FileRows:
    """The listing's rows, or ArchiveLockedError naming why there are none."""
    if listing.rows is None:
        raise ArchiveLockedError(
            f"{listing.archive.name} of {overview.path.name} cannot be listed ({listing.locked})"
        )
    return listing.rows


def diff_archive(
    old: BackupOverview,
    new: BackupOverview,
    archive_name: str,
    *,
    store: IndexStore | None,
    password: str | None,
    new_password: str | None = None,
    cancel: CancelToken | None = None,
) -> ArchiveDiff:
    """One archive in two backups (ArchiveLockedError if a side cannot be listed).

    `new_password` opens the newer backup when it has its own (default: `password`).
    Raises LookupError when either backup lacks the archive.
    """
    sides = []
    passwords = (password, new_password if new_password is not None else password)
    for overview, side_password in zip((old, new), passwords, strict=True):
        archive = overview.find_archive(archive_name)
        if archive is None:
            raise LookupError(f"{overview.path.name} has no archive called {archive_name!r}")
        identity = store.identify(overview.path) if store is not None else None
        listing = archive_listing(overview, archive, store, side_password, identity, cancel=cancel)
        sides.append(_listing_or_raise(listing, overview))
    return diff_file_lists(archive_name, sides[0], sides[1])


def metadata_differences(old: BackupOverview, new: BackupOverview) -> list[dict[str, Any]]:
    """Core version, apps and their versions, folders and the backup's own facts that differ."""
    old_meta, new_meta = old.metadata, new.metadata
    if old_meta is None or new_meta is None:
        return (
            []
            if old_meta is new_meta
            else [{"field": "metadata", "old": bool(old_meta), "new": bool(new_meta)}]
        )
    found: list[dict[str, Any]] = []
    for name in ("homeassistant_version", "supervisor_version", "type", "protected", "compressed"):
        before, after = getattr(old_meta, name), getattr(new_meta, name)
        if before != after:
            found.append({"field": name, "old": before, "new": after})
    if sorted(old_meta.folders) != sorted(new_meta.folders):
        found.append(
            {"field": "folders", "old": sorted(old_meta.folders), "new": sorted(new_meta.folders)}
        )
    old_apps = {addon.slug: addon.version for addon in old_meta.addons}
    new_apps = {addon.slug: addon.version for addon in new_meta.addons}
    for slug in sorted(old_apps.keys() | new_apps.keys()):
        if old_apps.get(slug) != new_apps.get(slug):
            found.append(
                {"field": f"app:{slug}", "old": old_apps.get(slug), "new": new_apps.get(slug)}
            )
    return found


def diff_backups(
    old: BackupOverview,
    new: BackupOverview,
    *,
    store: IndexStore | None,
    password: str | None,
    new_password: str | None = None,
    cancel: CancelToken | None = None,
) -> BackupDiff:
    """Two whole backups: every archive both hold, the archive sets, and the metadata."""
    old_names = [archive.name for archive in old.archives]
    new_names = [archive.name for archive in new.archives]
    result = BackupDiff(
        archives={},
        metadata=metadata_differences(old, new),
        archives_added=[name for name in new_names if name not in old_names],
        archives_removed=[name for name in old_names if name not in new_names],
        locked={},
    )
    for name in old_names:
        if name not in new_names:
            continue
        try:
            result.archives[name] = diff_archive(
                old,
                new,
                name,
                store=store,
                password=password,
                new_password=new_password,
                cancel=cancel,
            )
        except ArchiveLockedError as error:
            result.locked[name] = str(error)
    return result
