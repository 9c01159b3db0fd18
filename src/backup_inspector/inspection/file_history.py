"""Find a file in every backup of a folder, and read its versions as a history.

People restoring "the good automations.yaml" do not know which backup holds
it. This searches every backup's saved file list (backup_listings) by name or
glob and answers with one row per version, oldest first. Versions of the same
file are grouped by content (SHA-256), so the answer reads "changed in
'Nightly 2026-10-03', unchanged in the 5 backups after it". A version whose
bytes were never hashed is its own group: equal size is not equal content.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .backup_listings import UNREADABLE, archive_listing
from .backup_overview import BackupOverview, open_backup
from .index_store import IndexStore
from .name_pattern import NamePattern, logical_path
from .progress import CancelToken

BACKUP_SUFFIX = ".tar"


@dataclass(frozen=True)
class FileVersion:
    """One version of a file: in which backup, archive and path, and what it holds."""

    backup: str  # the backup's file name in the folder
    slug: str
    name: str
    date: str
    archive: str
    path: str
    size: int
    mtime: float
    sha256: str | None  # None: listed from headers only ("not hashed")

    def to_json(self) -> dict[str, Any]:
        """The `find --json` shape (issue 13's contract): exactly these fields."""
        return asdict(self)


@dataclass(frozen=True)
class LockedBackup:
    """A backup (or some of its archives) that could not be searched, and why."""

    backup: str
    slug: str
    name: str
    date: str
    archives: tuple[str, ...]
    reason: str  # password-required, wrong-password or unreadable

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for the page and the CLI's notes."""
        return asdict(self) | {"archives": list(self.archives)}


@dataclass
class ContentGroup:
    """Consecutive versions (oldest first) with the same content."""

    sha256: str | None
    versions: list[FileVersion]

    @property
    def first(self) -> FileVersion:
        """The backup where this content first appears."""
        return self.versions[0]

    def to_json(self) -> dict[str, Any]:
        """The group with its sentence: 'changed in X, unchanged in the N backups after it'."""
        later = len(self.versions) - 1
        return {
            "sha256": self.sha256,
            "size": self.first.size,
            "first": self.first.to_json(),
            "unchanged_after": later,
            "versions": [version.to_json() for version in self.versions],
        }


@dataclass
class FileHistory:
    """Every version of one file (one archive, one path across eras), grouped by content."""

    archive: str
    path: str  # the logical path: without the homeassistant archive's data/ prefix
    groups: list[ContentGroup] = field(default_factory=list)  # oldest first

    def to_json(self) -> dict[str, Any]:
        """Newest content first, as the page shows it."""
        return {
            "archive": self.archive,
            "path": self.path,
            "version_count": sum(len(group.versions) for group in self.groups),
            "groups": [group.to_json() for group in reversed(self.groups)],
        }


@dataclass
class FindResult:
    """All versions found (oldest first) and the backups that could not be searched."""

    pattern: str
    versions: list[FileVersion]
    locked: list[LockedBackup]
    backups_searched: int

    def histories(self) -> list[FileHistory]:
        """The versions grouped per file, then by content in date order."""
        return group_histories(self.versions)

    def to_json(self) -> dict[str, Any]:
        """The page's answer: histories plus what was locked."""
        return {
            "pattern": self.pattern,
            "backups_searched": self.backups_searched,
            "version_count": len(self.versions),
            "histories": [history.to_json() for history in self.histories()],
            "locked": [backup.to_json() for backup in self.locked],
        }


def group_histories(versions: Iterable[FileVersion]) -> list[FileHistory]:
    """Group versions per (archive, logical path); runs of equal hashes form one group."""
    histories: dict[tuple[str, str], FileHistory] = {}
    for version in sorted(versions, key=version_order):
        key = (version.archive, logical_path(version.archive, version.path))
        history = histories.setdefault(key, FileHistory(*key))
        last = history.groups[-1] if history.groups else None
        if last is not None and version.sha256 is not None and last.sha256 == version.sha256:
            last.versions.append(version)
        else:
            history.groups.append(ContentGroup(version.sha256, [version]))
    return sorted(histories.values(), key=lambda history: (history.path, history.archive))


def backup_time(date: str, fallback: float = 0.0) -> float:
    """A metadata date as seconds, for ordering (the file's time when the date is unreadable)."""
    try:
        return datetime.fromisoformat(date.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return fallback


def version_order(version: FileVersion) -> tuple[float, str, str]:
    """Oldest backup first; ties by backup file then path."""
    return (backup_time(version.date), version.backup, version.path)


def backup_files(backup_dir: Path) -> list[Path]:
    """The backup files of a folder (not its subfolders), by name."""
    try:
        found = [path for path in backup_dir.iterdir() if path.suffix == BACKUP_SUFFIX]
    except OSError:
        return []
    return sorted(path for path in found if path.is_file())


def describe(overview: BackupOverview) -> tuple[str, str, str]:
    """Slug, name and date of a backup ("" where the metadata does not say)."""
    metadata = overview.metadata
    if metadata is None:
        return "", overview.display_name, ""
    return metadata.slug, overview.display_name, metadata.date


def find_across_backups(
    backup_dir: Path,
    pattern: str,
    *,
    store: IndexStore | None,
    password: str | None = None,
    password_for: Callable[[Path], str | None] | None = None,
    read_missing: bool = True,
    cancel: CancelToken | None = None,
    on_backup: Callable[[Path], None] | None = None,
) -> FindResult:
    """Every version of files matching `pattern` in the folder's backups, oldest first.

    Saved indexes answer at once; unencrypted archives without one are read
    once and saved (with `read_missing`). `password` is tried on every
    encrypted backup (Home Assistant uses one key per installation); without
    it, or when it does not fit, the backup is listed as locked. The page
    has one password per unlocked backup instead: `password_for` gives it.
    Raises ValueError for an empty pattern.
    """
    matcher = NamePattern(pattern)
    versions: list[FileVersion] = []
    locked: list[LockedBackup] = []
    paths = backup_files(backup_dir)
    for backup_path in paths:
        if cancel is not None:
            cancel.raise_if_cancelled()
        if on_backup is not None:
            on_backup(backup_path)
        key = password_for(backup_path) if password_for is not None else password
        found, problem = _find_in_backup(backup_path, matcher, store, key, read_missing, cancel)
        versions.extend(found)
        if problem is not None:
            locked.append(problem)
    versions.sort(key=version_order)
    return FindResult(pattern, versions, locked, len(paths))


def _find_in_backup(
    backup_path: Path,
    matcher: NamePattern,
    store: IndexStore | None,
    password: str | None,
    read_missing: bool,
    cancel: CancelToken | None,
) -> tuple[list[FileVersion], LockedBackup | None]:
    """The matching versions in one backup, and what of it was locked."""
    try:
        overview = open_backup(backup_path)
    except OSError:
        return [], LockedBackup(backup_path.name, "", backup_path.name, "", (), UNREADABLE)
    slug, name, date = describe(overview)
    identity = store.identify(backup_path) if store is not None else None
    found: list[FileVersion] = []
    locked_archives: list[str] = []
    reason = ""
    for archive in overview.archives:
        listing = archive_listing(
            overview, archive, store, password, identity, read_missing=read_missing, cancel=cancel
        )
        if listing.rows is None:
            locked_archives.append(archive.name)
            reason = reason or listing.locked or UNREADABLE
            continue

        def wanted(path: str, archive_name: str = archive.name) -> bool:
            return matcher.matches(archive_name, path)

        for row in listing.rows.file_rows(matcher.sql_name_glob, wanted):
            if wanted(row["path"]):
                found.append(_version(backup_path, slug, name, date, archive.name, row))
        with contextlib.suppress(AttributeError):
            listing.rows.close()  # type: ignore[attr-defined]  # saved indexes hold a connection
    problem = None
    if locked_archives:
        problem = LockedBackup(backup_path.name, slug, name, date, tuple(locked_archives), reason)
    return found, problem


def _version(
    backup_path: Path, slug: str, name: str, date: str, archive: str, row: dict[str, Any]
) -> FileVersion:
    """One FileVersion from a listing's page row."""
    return FileVersion(
        backup=backup_path.name,
        slug=slug,
        name=name,
        date=date,
        archive=archive,
        path=row["path"],
        size=int(row["size"]),
        mtime=float(row["mtime"]),
        sha256=row.get("sha256"),
    )
