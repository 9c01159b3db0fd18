"""Which backups are in the backup folder, under stable opaque ids.

Ids, not file names, travel in URLs: Home Assistant's request filters reject
some file names in a path (addon-platform.md §8.5), and an id cannot point
outside the folder. Headers and metadata are read once per file version
(size and mtime); a rescan only costs one stat per file, so every request
that touches a backup rescans and so notices files that appeared, changed or
disappeared.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from backup_inspector.inspection.backup_overview import BackupOverview, open_backup

_LOGGER: logging.Logger = logging.getLogger(__name__)

BACKUP_SUFFIX = ".tar"  # the Supervisor globs *.tar (format-spec §3.1)


def backup_id_for(file_name: str) -> str:
    """The opaque id of a backup file: a short hash of its name."""
    digest = hashlib.sha256(file_name.encode("utf-8", "surrogateescape")).hexdigest()
    return digest[:16]


@dataclass(frozen=True)
class KnownBackup:
    """One backup file as last seen: where it is, its version, and its overview.

    `overview` is None only when the file could not be opened at all
    (`open_error` then says why, in plain words).
    """

    backup_id: str
    path: Path
    file_size: int
    mtime_ns: int
    overview: BackupOverview | None
    open_error: str | None

    @property
    def file_name(self) -> str:
        """The file's name in the backup folder."""
        return self.path.name

    @property
    def display_name(self) -> str:
        """The name people gave the backup, else its file name."""
        if self.overview is not None:
            return self.overview.display_name
        return self.path.name

    @property
    def sort_moment(self) -> datetime:
        """When the backup was made (metadata date), else the file's modification time."""
        metadata = self.overview.metadata if self.overview is not None else None
        if metadata is not None and metadata.date:
            try:
                moment = datetime.fromisoformat(metadata.date)
            except ValueError:
                moment = None
            if moment is not None:
                return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return datetime.fromtimestamp(self.mtime_ns / 1e9, tz=UTC)


class BackupRegistry:
    """Thread-safe view of the backup folder; `refresh` runs in a worker thread."""

    def __init__(
        self,
        backup_dir: Path,
        open_backup_file: Callable[[Path], BackupOverview] = open_backup,
    ) -> None:
        self._backup_dir = backup_dir
        self._open_backup_file = open_backup_file
        self._lock = threading.Lock()
        self._backups: dict[str, KnownBackup] = {}
        self._version = 0
        self._has_scanned = False

    @property
    def backup_dir(self) -> Path:
        """The folder that is watched."""
        return self._backup_dir

    @property
    def version(self) -> int:
        """Goes up by one whenever a backup appears, changes or disappears."""
        with self._lock:
            return self._version

    def refresh(self) -> set[str]:
        """Rescan the folder; returns the ids of backups that appeared, changed or went away."""
        with self._lock:
            current = self._scan_folder()
            changed: set[str] = set()
            for backup_id in list(self._backups):
                if backup_id not in current:
                    del self._backups[backup_id]
                    changed.add(backup_id)
            for backup_id, (path, size, mtime_ns) in current.items():
                known = self._backups.get(backup_id)
                if known is not None and (known.file_size, known.mtime_ns) == (size, mtime_ns):
                    continue
                self._backups[backup_id] = self._read_backup(backup_id, path, size, mtime_ns)
                changed.add(backup_id)
            if changed or not self._has_scanned:
                self._version += 1
            self._has_scanned = True
            return changed

    def backups(self) -> list[KnownBackup]:
        """Every known backup, newest first."""
        with self._lock:
            known = list(self._backups.values())
        return sorted(
            known, key=lambda backup: (backup.sort_moment, backup.file_name), reverse=True
        )

    def get(self, backup_id: str) -> KnownBackup | None:
        """The backup with this id as of the last refresh."""
        with self._lock:
            return self._backups.get(backup_id)

    def _scan_folder(self) -> dict[str, tuple[Path, int, int]]:
        """id → (path, size, mtime_ns) of every *.tar regular file in the folder."""
        found: dict[str, tuple[Path, int, int]] = {}
        try:
            with os.scandir(self._backup_dir) as entries:
                for entry in entries:
                    if not entry.name.endswith(BACKUP_SUFFIX) or entry.name.startswith("."):
                        continue
                    try:
                        # Regular files only: a symlink (zz.tar -> /etc/passwd)
                        # or a FIFO in the folder is not a backup.
                        if not entry.is_file(follow_symlinks=False):
                            continue
                        stat = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue  # vanished between listing and stat
                    found[backup_id_for(entry.name)] = (
                        Path(entry.path),
                        stat.st_size,
                        stat.st_mtime_ns,
                    )
        except FileNotFoundError:
            _LOGGER.warning("The backup folder %s does not exist", self._backup_dir)
        except OSError as error:
            _LOGGER.warning("Cannot read the backup folder %s: %s", self._backup_dir, error)
        return found

    def _read_backup(self, backup_id: str, path: Path, size: int, mtime_ns: int) -> KnownBackup:
        """Open one backup's headers; a file that cannot be opened is kept with the reason."""
        try:
            overview = self._open_backup_file(path)
            open_error = None
        except OSError as error:
            _LOGGER.warning("Cannot open %s: %s", path.name, error.strerror or error)
            overview = None
            open_error = f"The file cannot be opened: {error.strerror or error}."
        return KnownBackup(backup_id, path, size, mtime_ns, overview, open_error)
