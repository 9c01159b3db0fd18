"""The backup folder view lists regular *.tar files only and never reads through a symlink."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from backup_inspector.inspection.archive_walk import ProgressTotals, walk_archive
from backup_inspector.inspection.backup_overview import open_backup, open_backup_file
from backup_inspector.web.backup_registry import BackupRegistry


@pytest.fixture
def outside_backup(tmp_path: Path, demo_backup_files: list[Path]) -> Path:
    """A valid backup outside the backup folder, the target of planted symlinks."""
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "secret.tar"
    shutil.copy2(demo_backup_files[0], target)
    return target


def test_symlink_and_fifo_in_the_folder_are_not_listed(
    tmp_path: Path, outside_backup: Path, demo_backup_files: list[Path]
) -> None:
    """zz.tar -> a file outside, and a FIFO named .tar, are skipped; the real file is listed."""
    folder = tmp_path / "backup"
    folder.mkdir()
    shutil.copy2(demo_backup_files[1], folder / "real.tar")
    (folder / "zz.tar").symlink_to(outside_backup)
    (folder / "passwd.tar").symlink_to("/etc/passwd")
    os.mkfifo(folder / "pipe.tar")
    registry = BackupRegistry(folder)
    registry.refresh()
    assert [known.file_name for known in registry.backups()] == ["real.tar"]


def test_symlink_swapped_in_after_listing_is_refused(
    tmp_path: Path, outside_backup: Path, demo_backup_files: list[Path]
) -> None:
    """A listed backup replaced by a symlink afterwards cannot be opened or read any more."""
    folder = tmp_path / "backup"
    folder.mkdir()
    listed = folder / "a.tar"
    shutil.copy2(demo_backup_files[0], listed)
    registry = BackupRegistry(folder)
    registry.refresh()
    (known,) = registry.backups()
    assert known.overview is not None
    listed.unlink()
    listed.symlink_to(outside_backup)
    with pytest.raises(OSError):
        open_backup_file(listed)
    with pytest.raises(OSError):
        open_backup(listed)
    archive = known.overview.archives[0]
    with pytest.raises(OSError):
        walk_archive(known.overview, archive, None, None, ProgressTotals(1, None, None))


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    """Opening a FIFO as a backup fails at once instead of waiting for a writer."""
    pipe = tmp_path / "pipe.tar"
    os.mkfifo(pipe)
    with pytest.raises(OSError, match="not a regular file"):
        open_backup_file(pipe)
