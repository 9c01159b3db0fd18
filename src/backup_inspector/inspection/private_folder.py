"""A private temporary folder that no check leaves behind, even after a crash.

The recorder database of an encrypted backup is decrypted into such a folder
to let SQLite read it; it must never outlive the check. The folder is mode
0700 (tempfile.mkdtemp) and holds an exclusive lock (flock) on a file inside
for as long as its check runs. try/finally removes it in every normal case;
a killed process leaves it behind, and the next check (or the app's start)
removes every folder whose lock nobody holds any more.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; stale folders are then recognised by age
    fcntl = None  # type: ignore[assignment]

_LOGGER = logging.getLogger(__name__)

PRIVATE_FOLDER_PREFIX = "backup-inspector-db-"
LOCK_FILE_NAME = ".in-use"
# A folder without a lock file this old was left by a process that died while
# creating it (or by a platform without flock).
UNLOCKED_STALE_AFTER_S = 3600.0


class PrivateFolder:
    """A mode-0700 folder under `parent`, locked while open, removed on close."""

    def __init__(self, parent: Path) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=PRIVATE_FOLDER_PREFIX, dir=parent))
        self._lock_fd: int | None = None
        try:
            self._lock_fd = os.open(self.path / LOCK_FILE_NAME, os.O_CREAT | os.O_RDWR, 0o600)
            if fcntl is not None:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BaseException:
            self.remove()
            raise

    def remove(self) -> None:
        """Delete the folder and everything in it, then release the lock."""
        shutil.rmtree(self.path, ignore_errors=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _is_abandoned(folder: Path) -> bool:
    """Whether no running check holds this folder's lock."""
    lock_file = folder / LOCK_FILE_NAME
    try:
        fd = os.open(lock_file, os.O_RDWR)
    except FileNotFoundError:
        try:
            return time.time() - folder.stat().st_mtime > UNLOCKED_STALE_AFTER_S
        except OSError:
            return False
    except OSError:
        return False
    try:
        if fcntl is None:
            return time.time() - folder.stat().st_mtime > UNLOCKED_STALE_AFTER_S
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a running check holds it
        return True
    finally:
        os.close(fd)


def folder_parent(parent: Path | None) -> Path:
    """Where private folders go: `parent`, or the system's temporary folder (a desktop)."""
    return Path(parent) if parent is not None else Path(tempfile.gettempdir())


def remove_abandoned_private_folders(parent: Path | None) -> int:
    """Remove private folders of checks that died; returns how many were removed."""
    parent = folder_parent(parent)
    removed = 0
    try:
        candidates = [
            child
            for child in parent.iterdir()
            if child.name.startswith(PRIVATE_FOLDER_PREFIX) and child.is_dir()
        ]
    except OSError:
        return 0  # no such folder yet: nothing was left behind
    for folder in candidates:
        if _is_abandoned(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
            _LOGGER.info("Removed %s, left behind by a check that stopped", folder)
    return removed
