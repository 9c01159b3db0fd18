"""The recorder database step of a full check: capture during the walk, check after it.

The full check already streams every byte of homeassistant.tar.gz through
the tar walker; the database members (`home-assistant_v2.db` and its
`-wal`) are teed from that same stream into a private folder, so the
backup is read once. SQLite opens the copy only after the walk ended with
the archive's stream verified (gzip CRC32 and ISIZE, v3 authentication
tags): a database from a damaged stream would be judged on bytes a restore
never sees. The folder is removed when the check ends, however it ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..backup_format.backup_metadata import BackupMetadata
from ..backup_format.findings import Finding, FindingCode
from ..backup_format.tar_entry import DataSink, EntryType, TarEntry
from .backup_overview import BackupOverview, InnerArchive
from .private_folder import PrivateFolder, folder_parent, remove_abandoned_private_folders
from .progress import CancelToken
from .recorder_database import DatabaseCheckTimeout, RecorderFacts, inspect_recorder_database

DATABASE_FILE_NAME = "home-assistant_v2.db"
WAL_SUFFIX = "-wal"
# Supervisor layout (format v2) keeps /config under data/; format v1 and older at the root.
LAYOUT_PREFIXES = ("data/", "")
# Room left free beyond the database itself: SQLite's -shm and the system's own needs.
SPACE_MARGIN_BYTES = 64 * 1024 * 1024


def is_external_database_app(slug: str) -> bool:
    """Whether an app slug is a MariaDB or PostgreSQL server Core may record into."""
    return slug == "core_mariadb" or slug.endswith("_mariadb") or "postgres" in slug


@dataclass
class DatabaseReport:
    """What the check found out about the recorder database of one backup."""

    archive: str
    path: str
    size: int
    wal_size: int | None = None
    schema_version: int | None = None
    first_time: datetime | None = None
    last_time: datetime | None = None
    ok: bool | None = None  # None: not checked (the message says why)
    message: str = ""

    def to_json(self) -> dict[str, object]:
        """The `"database"` object of `check --json` and of the web check result."""
        return {
            "archive": self.archive,
            "path": self.path,
            "size": self.size,
            "wal_size": self.wal_size,
            "schema_version": self.schema_version,
            "first_time": _iso_utc(self.first_time),
            "last_time": _iso_utc(self.last_time),
            "ok": self.ok,
            "message": self.message,
        }


def _iso_utc(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


class _CaptureSink(DataSink):
    """Writes one member into the private folder; an unfinished copy is deleted.

    A write error (the disk filled up after all) ends the copy, not the
    check: the rest of the member is skipped and `on_failed` says why.
    """

    def __init__(
        self, target: Path, on_done: Callable[[], None], on_failed: Callable[[str], None]
    ) -> None:
        self._target = target
        self._on_done = on_done
        self._on_failed = on_failed
        target.unlink(missing_ok=True)  # the same member twice in a tar: the last one counts
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(fd, "wb")
        self._has_failed = False

    def write(self, data: bytes | memoryview) -> None:
        """Append the next piece of member data."""
        if self._has_failed:
            return
        try:
            self._file.write(data)
        except OSError as err:
            self._has_failed = True
            self.abort()
            self._on_failed(f"not checked: copying the database failed ({err.strerror or err})")

    def close(self) -> None:
        """The member is complete."""
        if self._has_failed:
            return
        try:
            self._file.close()
        except OSError as err:
            self.abort()
            self._on_failed(f"not checked: copying the database failed ({err.strerror or err})")
            return
        self._on_done()

    def abort(self) -> None:
        """The stream broke or the job stopped: the partial copy goes at once."""
        with contextlib.suppress(OSError):
            self._file.close()
        self._target.unlink(missing_ok=True)


class RecorderDatabaseCheck:
    """Captures the database during one full check and checks it after the walk.

    Use as a context manager around the walk: leaving it removes the private
    folder (and any abandoned ones it finds on entering).
    """

    def __init__(self, parent_dir: Path | None, cancel: CancelToken | None = None) -> None:
        self._parent = folder_parent(parent_dir)
        self._is_cancelled: Callable[[], bool] = (
            (lambda: cancel.is_cancelled) if cancel is not None else (lambda: False)
        )
        self._folder: PrivateFolder | None = None
        self._seen: dict[str, TarEntry] = {}  # member path → entry
        self._captured: set[str] = set()
        self._copy_problem: str | None = None
        self.report: DatabaseReport | None = None

    def __enter__(self) -> RecorderDatabaseCheck:
        remove_abandoned_private_folders(self._parent)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._folder is not None:
            self._folder.remove()
            self._folder = None

    @property
    def saw_database(self) -> bool:
        """Whether the Home Assistant archive held a recorder database file."""
        return self._database_member() is not None

    # -- during the walk -----------------------------------------------------
    def sink_for(self, archive: InnerArchive, entry: TarEntry) -> DataSink | None:
        """A sink that copies `entry` if it is the recorder database or its WAL."""
        if archive.kind != "homeassistant" or entry.type != EntryType.FILE:
            return None
        if _layout_of(entry.path) is None:
            return None
        self._seen[entry.path] = entry
        if self._copy_problem is not None:
            return None
        try:
            if self._folder is None:
                self._parent.mkdir(parents=True, exist_ok=True)
                self._folder = PrivateFolder(self._parent)
            free = shutil.disk_usage(self._folder.path).free
        except OSError as err:
            self._copy_problem = f"not checked: no private folder in {self._parent} ({err})"
            return None
        if free < entry.size + SPACE_MARGIN_BYTES:
            self._copy_problem = (
                f"not checked: not enough free space in {self._parent} to copy {entry.path} "
                f"({entry.size:,} bytes, plus {SPACE_MARGIN_BYTES // (1024 * 1024)} MiB to spare; "
                f"{free:,} bytes are free)"
            )
            return None
        target = self._folder.path / _local_name(entry.path)
        target.parent.mkdir(mode=0o700, exist_ok=True)
        self._captured.discard(entry.path)
        return _CaptureSink(target, lambda: self._captured.add(entry.path), self._copy_failed)

    def _copy_failed(self, message: str) -> None:
        self._copy_problem = self._copy_problem or message

    # -- after the walk --------------------------------------------------------
    def archive_read(self, archive: InnerArchive, stream_verified: bool) -> list[Finding]:
        """Check the copied database once its archive's walk ended; returns its problem, if any."""
        if archive.kind != "homeassistant":
            return []
        database_path = self._database_member()
        if database_path is None:
            return []
        entry = self._seen[database_path]
        wal_path = database_path + WAL_SUFFIX
        wal_entry = self._seen.get(wal_path)
        self.report = DatabaseReport(
            archive=archive.file_name,
            path=database_path,
            size=entry.size,
            wal_size=wal_entry.size if wal_entry is not None else None,
        )
        if not stream_verified:
            self.report.message = (
                f"not checked: {archive.file_name} could not be read and verified to its end"
            )
        elif self._copy_problem is not None:
            self.report.message = self._copy_problem
        elif database_path not in self._captured or (
            wal_entry is not None and wal_path not in self._captured
        ):
            self.report.message = "not checked: the database could not be copied"
        else:
            return self._run_sqlite(archive, database_path, has_wal=wal_entry is not None)
        self._discard_copies()
        return []

    def _database_member(self) -> str | None:
        """The database's member path, Supervisor layout first (as the restore prefers data/)."""
        for prefix in LAYOUT_PREFIXES:
            if prefix + DATABASE_FILE_NAME in self._seen:
                return prefix + DATABASE_FILE_NAME
        return None

    def _run_sqlite(
        self, archive: InnerArchive, database_path: str, has_wal: bool
    ) -> list[Finding]:
        assert self._folder is not None and self.report is not None
        local = self._folder.path / _local_name(database_path)
        try:
            facts = inspect_recorder_database(
                local, has_wal=has_wal, is_cancelled=self._is_cancelled
            )
        except DatabaseCheckTimeout as err:
            self.report.message = f"not checked to the end: {err}"
            return []
        finally:
            self._discard_copies()
        return self._record_facts(archive, facts)

    def _record_facts(self, archive: InnerArchive, facts: RecorderFacts) -> list[Finding]:
        assert self.report is not None
        report = self.report
        report.schema_version = facts.schema_version
        report.first_time = facts.first_time
        report.last_time = facts.last_time
        report.ok = facts.is_intact
        if facts.is_intact:
            report.message = "SQLite's quick_check found no problems: the history will be kept."
            return []
        detail = "; ".join(facts.errors[:3])
        report.message = f"SQLite's quick_check fails: {detail}"
        return [
            Finding(
                FindingCode.DATABASE_CORRUPT,
                f"The recorder database {report.path} in {archive.file_name} fails SQLite's check "
                f"({detail}). After a restore Core will move the database aside and start without "
                "history.",
                archive.name,
            )
        ]

    def _discard_copies(self) -> None:
        """Delete the copies as soon as SQLite is done with them (the folder goes at exit)."""
        if self._folder is None:
            return
        for child in self._folder.path.iterdir():
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)


def _layout_of(member_path: str) -> str | None:
    """The layout prefix of a database or WAL member path, or None for any other file."""
    for prefix in LAYOUT_PREFIXES:
        if member_path in (prefix + DATABASE_FILE_NAME, prefix + DATABASE_FILE_NAME + WAL_SUFFIX):
            return prefix
    return None


def _local_name(member_path: str) -> Path:
    """Where a member goes in the private folder: one subfolder per layout, so a .db
    and its -wal sit side by side under the names SQLite expects."""
    prefix = _layout_of(member_path) or ""
    return Path("data" if prefix else "root") / member_path.removeprefix(prefix)


def database_notes(
    overview: BackupOverview, homeassistant_read: bool, database_seen: bool
) -> list[Finding]:
    """Info notes: the database was left out of the backup, or lives in a database app."""
    metadata: BackupMetadata | None = overview.metadata
    notes: list[Finding] = []
    if metadata is not None and metadata.includes_homeassistant and metadata.exclude_database:
        notes.append(
            Finding(
                FindingCode.DATABASE_EXCLUDED,
                "This backup was made without the recorder database (exclude_database): it holds "
                "no history. A restore keeps the database the system has now.",
                "homeassistant",
            )
        )
        return notes
    if not homeassistant_read or database_seen:
        return notes
    slugs = {addon.slug for addon in metadata.addons} if metadata is not None else set()
    slugs |= {archive.name for archive in overview.archives if archive.kind == "addon"}
    external = sorted(slug for slug in slugs if is_external_database_app(slug))
    if external:
        notes.append(
            Finding(
                FindingCode.DATABASE_EXTERNAL,
                f"Home Assistant records its history in the app {', '.join(external)}, not in an "
                "SQLite file: the history is restored with that app's archive.",
                "homeassistant",
            )
        )
    return notes
