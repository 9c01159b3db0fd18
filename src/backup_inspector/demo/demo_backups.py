"""Fill a folder with a few small, realistic demo backups.

A person trying Backup Inspector without a Home Assistant install (or a
screenshot test of the UI) needs backups that show each interesting state:
a healthy plain backup, a current encrypted one, a damaged one and an old
legacy-encrypted one. They are written by `backup_writer`, with
deterministic content, and only when absent so that repeated starts neither
rewrite files nor change their modification times.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from backup_inspector.demo.backup_writer import (
    ArchiveSpec,
    FileSpec,
    compute_slug,
    core_style_file_name,
    find_crc_breaking_offset,
    flip_byte,
    homeassistant_archive_entries,
    make_metadata,
    mosquitto_addon_entries,
    serialize_metadata,
    share_folder_entries,
    ssl_folder_entries,
    supervisor_archive_entries,
    write_backup,
)
from backup_inspector.demo.entry_specs import archive_specs

#: Password of every encrypted demo backup; shown in the demo's documentation.
DEMO_PASSWORD = "demo-password"

DEMO_HOMEASSISTANT_VERSION = "2026.11.2"
DEMO_SUPERVISOR_VERSION = "2026.11.0"
DEMO_INSTANCE_ID = "9c4f2b7e1a3d4c5b8e6f0a1b2c3d4e5f"

# (name, date) of each demo backup; the date is also the source of the slug.
FULL_BACKUP = ("Full backup 2026-11-20", "2026-11-20T03:00:04.183512+00:00")
ENCRYPTED_BACKUP = ("Automatic backup 2026.11.2", "2026-11-21T04:45:12.004711+00:00")
DAMAGED_BACKUP = ("Partial backup 2026-11-18", "2026-11-18T22:10:33.250019+00:00")
LEGACY_BACKUP = ("Full Backup 2021-10-03", "2021-10-03T01:30:11.004512+00:00")

# Current Supervisor stores the file name Core supplies; Supervisor 2021 used
# "<slug>.tar" (format-spec §3.6).
FULL_BACKUP_FILE_NAME = core_style_file_name(*FULL_BACKUP)
ENCRYPTED_BACKUP_FILE_NAME = core_style_file_name(*ENCRYPTED_BACKUP)
DAMAGED_BACKUP_FILE_NAME = core_style_file_name(*DAMAGED_BACKUP)
LEGACY_BACKUP_FILE_NAME = f"{compute_slug(*LEGACY_BACKUP)}.tar"


def _timestamp(date: str) -> float:
    """POSIX time of an ISO-8601 date string."""
    return datetime.fromisoformat(date).timestamp()


def _current_extra(date: str, *, is_automatic: bool = False) -> dict[str, object]:
    """The `extra` block Core passes to Supervisor for its backups (format-spec §3.3)."""
    return {
        "instance_id": DEMO_INSTANCE_ID,
        "with_automatic_settings": is_automatic,
        "supervisor.backup_request_date": date,
    }


def _full_backup_components(mtime: float) -> dict[str, list[FileSpec]]:
    """Entries of a full demo backup's components: Home Assistant, Mosquitto, share, ssl."""
    return {
        "homeassistant": homeassistant_archive_entries(DEMO_HOMEASSISTANT_VERSION, mtime=mtime),
        "core_mosquitto": mosquitto_addon_entries(mtime),
        "share": share_folder_entries(mtime),
        "ssl": ssl_folder_entries(mtime),
    }


def _write_current(
    path: Path,
    backup: tuple[str, str],
    archives: list[ArchiveSpec],
    *,
    password: str | None = None,
    is_automatic: bool = False,
) -> None:
    """Write `backup` (name, date) as Supervisor 2026.11 does, with Core's `extra` block."""
    name, date = backup
    metadata = make_metadata(
        archives,
        name=name,
        date=date,
        password=password,
        homeassistant_version=DEMO_HOMEASSISTANT_VERSION,
        supervisor_version=DEMO_SUPERVISOR_VERSION,
        extra=_current_extra(date, is_automatic=is_automatic),
    )
    write_backup(path, archives, password=password, metadata=metadata, outer_mtime=_timestamp(date))


def _write_full_unencrypted(path: Path) -> None:
    """(a) A plain full backup as Supervisor 2026.11 writes it."""
    mtime = _timestamp(FULL_BACKUP[1]) - 1800.5
    archives = archive_specs(_full_backup_components(mtime), root_mtime=mtime)
    _write_current(path, FULL_BACKUP, archives)


def _write_encrypted_v3(path: Path) -> None:
    """(b) An automatic backup encrypted with SecureTar v3, including supervisor.tar.gz."""
    mtime = _timestamp(ENCRYPTED_BACKUP[1]) - 900.25
    supervisor = ArchiveSpec(
        "supervisor",
        supervisor_archive_entries(mtime),
        encryption="v3",
        include_root_entry=False,
    )
    components = _full_backup_components(mtime)
    archives = [*archive_specs(components, encryption="v3", root_mtime=mtime), supervisor]
    _write_current(path, ENCRYPTED_BACKUP, archives, password=DEMO_PASSWORD, is_automatic=True)


def _write_damaged(path: Path) -> None:
    """(c) A partial plain backup whose share.tar.gz fails its gzip CRC check.

    The flipped byte sits inside a stored deflate block (the incompressible
    camera snapshot), so the archive still inflates and lists completely;
    only the CRC32 in the gzip trailer disagrees — the subtle kind of damage
    a checker must find and HA itself never notices (format-spec §5).
    """
    mtime = _timestamp(DAMAGED_BACKUP[1]) - 3600.5
    components = {"share": share_folder_entries(mtime), "ssl": ssl_folder_entries(mtime)}
    _write_current(path, DAMAGED_BACKUP, archive_specs(components, root_mtime=mtime))
    flip_byte(path, find_crc_breaking_offset(path, "share.tar.gz"))


def _write_legacy_2021(path: Path) -> None:
    """(d) A 2021 Supervisor backup: temp-dir PAX outer, format-v1 metadata, legacy v1."""
    name, date = LEGACY_BACKUP
    mtime = _timestamp(date) - 120.5
    components = {
        "homeassistant": homeassistant_archive_entries("2021.9.7", layout="folder", mtime=mtime),
        "core_mosquitto": mosquitto_addon_entries(mtime),
        "share": share_folder_entries(mtime),
    }
    archives = archive_specs(components, encryption="v1-legacy", root_mtime=mtime)
    metadata = make_metadata(
        archives,
        name=name,
        date=date,
        password=DEMO_PASSWORD,
        homeassistant_version="2021.9.7",
        supervisor_version="2021.09.0",
    )
    write_backup(
        path,
        archives,
        password=DEMO_PASSWORD,
        metadata=serialize_metadata(metadata, indent=2),
        inner_dot_slash=True,
        outer_dot_entry=True,
        metadata_position="sorted",
        outer_mtime=_timestamp(date),
    )


#: Demo backups by file name, in the order they are listed.
DEMO_BACKUP_WRITERS: dict[str, Callable[[Path], None]] = {
    FULL_BACKUP_FILE_NAME: _write_full_unencrypted,
    ENCRYPTED_BACKUP_FILE_NAME: _write_encrypted_v3,
    DAMAGED_BACKUP_FILE_NAME: _write_damaged,
    LEGACY_BACKUP_FILE_NAME: _write_legacy_2021,
}


def create_demo_folder(backup_dir: Path) -> list[Path]:
    """Write the demo backups that are missing from `backup_dir`; return all their paths.

    Each file is written under a temporary ".partial" name and renamed into
    place, so an interrupted run never leaves a half-written ".tar" that
    would later be shown (and skipped) as a damaged backup.
    """
    backup_dir = Path(backup_dir)
    backup_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for file_name, writer in DEMO_BACKUP_WRITERS.items():
        final_path = backup_dir / file_name
        if not final_path.exists():
            partial_path = backup_dir / f"{file_name}.partial"
            try:
                writer(partial_path)
                os.replace(partial_path, final_path)
            finally:
                partial_path.unlink(missing_ok=True)
        paths.append(final_path)
    return paths
