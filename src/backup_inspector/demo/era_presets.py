"""Era presets: one realistic backup per writer generation (format-spec §3.1, §4.1).

Each preset names a Supervisor, Core or securetar release and writes the
backup it would have written, with content, metadata schema, outer tar
layout and encryption of that era. The presets differ only in those facts,
so each one states them and hands the writing to `_write_preset`.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from backup_inspector.demo.entry_specs import (
    ArchiveSpec,
    Encryption,
    PlainGzipStyle,
    TarDialect,
    archive_specs,
)
from backup_inspector.demo.inner_archives import SUPERVISOR_STREAM_BUFSIZE
from backup_inspector.demo.metadata_builder import (
    DEFAULT_SUPERVISOR_VERSION,
    MetadataProducer,
    make_metadata,
    serialize_metadata,
)
from backup_inspector.demo.outer_tar import write_backup
from backup_inspector.demo.sample_content import (
    addon_archive_entries,
    addons_local_folder_entries,
    homeassistant_archive_entries,
    media_folder_entries,
    mosquitto_addon_entries,
    share_folder_entries,
    ssl_folder_entries,
    supervisor_archive_entries,
)


@dataclass(frozen=True)
class WrittenArchive:
    """What a preset wrote for one component."""

    component: str
    member_name: str
    encryption: Encryption
    is_gzip: bool
    is_listed_in_metadata: bool


@dataclass(frozen=True)
class WrittenBackup:
    """A preset's result: where it wrote, how to open it, what to expect inside."""

    preset_name: str
    description: str
    path: Path
    password: str | None
    metadata_name: str
    outer_format: TarDialect
    archives: tuple[WrittenArchive, ...] = field(default_factory=tuple)

    @property
    def archive_member_names(self) -> tuple[str, ...]:
        """Outer member names of the inner archives, in write order."""
        return tuple(archive.member_name for archive in self.archives)


PresetWriter = Callable[[Path], WrittenBackup]

#: Outer tar of the writers that built a backup in a temporary directory and
#: tarred it with `tar.add(tmpdir, arcname=".")`: a "." entry, "./" member
#: names, every member sorted by name.
_TEMP_DIR_LAYOUT: Mapping[str, Any] = {
    "inner_dot_slash": True,
    "outer_dot_entry": True,
    "metadata_position": "sorted",
}
#: Outer tar of Core >= 2025.1's own backups: Core's file name, ./backup.json first.
_CORE_LAYOUT: Mapping[str, Any] = {"is_core_file_name": True, "metadata_position": "first"}


def _timestamp(date: str) -> float:
    """POSIX time of an ISO date string."""
    return datetime.fromisoformat(date).timestamp()


def core_style_file_name(name: str, date: str) -> str:
    """Core's file name: "<name>_<YYYY-MM-DD_HH.MM_SSffffff>.tar", whitespace as "_"."""
    moment = datetime.fromisoformat(date)
    return re.sub(r"\s+", "_", f"{name} {moment:%Y-%m-%d %H.%M %S%f}") + ".tar"


def _automatic_backup_extra(date: str) -> dict[str, Any]:
    """The `extra` block Core sends Supervisor for an automatic backup (format-spec §3.3)."""
    return {
        "instance_id": "5b8c1e0f7a6d4e2c9b3a1f0e8d7c6b5a",
        "with_automatic_settings": True,
        "supervisor.backup_request_date": date,
    }


def _write_preset(
    directory: Path,
    preset: PresetWriter,
    archives: Sequence[ArchiveSpec],
    *,
    date: str,
    homeassistant_version: str,
    producer: MetadataProducer = "supervisor",
    supervisor_version: str = DEFAULT_SUPERVISOR_VERSION,
    name: str | None = None,
    password: str | None = None,
    compressed: bool | None = None,
    extra: Mapping[str, Any] | None = None,
    is_metadata_indented: bool = False,
    is_core_file_name: bool = False,
    metadata_name: str = "./backup.json",
    outer_format: TarDialect = "pax",
    inner_dot_slash: bool = False,
    **write_options: Any,
) -> WrittenBackup:
    """Write `preset`'s backup into `directory` and describe it.

    The metadata is what `make_metadata` gives for this producer and these
    versions; older Supervisors wrote it indented. The file is "<slug>.tar" unless it
    takes Core's file name. `write_options` go to `write_backup`, whose
    `outer_mtime` defaults here to the backup date.
    """
    metadata = make_metadata(
        archives,
        producer=producer,
        name=name,
        date=date,
        password=password,
        compressed=compressed,
        homeassistant_version=homeassistant_version,
        supervisor_version=supervisor_version,
        extra=extra,
    )
    if is_core_file_name:
        file_name = core_style_file_name(metadata["name"], date)
    else:
        file_name = f"{metadata['slug']}.tar"
    write_options.setdefault("outer_mtime", _timestamp(date))
    path = write_backup(
        Path(directory) / file_name,
        archives,
        password=password,
        metadata=serialize_metadata(metadata, indent=2) if is_metadata_indented else metadata,
        metadata_name=metadata_name,
        outer_format=outer_format,
        inner_dot_slash=inner_dot_slash,
        **write_options,
    )
    written = tuple(
        WrittenArchive(
            component=archive.name,
            member_name=archive.outer_member_name(dot_slash=inner_dot_slash),
            encryption=archive.encryption,
            is_gzip=archive.compressed,
            is_listed_in_metadata=archive.is_listed_in_metadata,
        )
        for archive in archives
    )
    return WrittenBackup(
        preset_name=preset.__name__,
        description=preset.__doc__ or "",
        path=path,
        password=password,
        metadata_name=metadata_name,
        outer_format=outer_format,
        archives=written,
    )


def _core_preset(
    directory: Path,
    preset: PresetWriter,
    *,
    homeassistant_version: str,
    date: str,
    encryption: Encryption = "none",
    mtime_offset: float = 60.5,
    plain_gzip_style: PlainGzipStyle = "file",
    **preset_options: Any,
) -> WrittenBackup:
    """A backup Core wrote itself: one homeassistant archive, no homeassistant.json."""
    mtime = _timestamp(date) - mtime_offset
    entries = homeassistant_archive_entries(
        homeassistant_version, with_supervisor_settings=False, mtime=mtime
    )
    archive = ArchiveSpec(
        "homeassistant",
        entries,
        encryption=encryption,
        plain_gzip_style=plain_gzip_style,
        root_mtime=mtime,
    )
    return _write_preset(
        directory,
        preset,
        [archive],
        producer="core",
        date=date,
        homeassistant_version=homeassistant_version,
        **preset_options,
    )


def supervisor_2019_gnu_snapshot(directory: Path) -> WrittenBackup:
    """Supervisor 192 (2019-09, Python 3.7): GNU tar, ./snapshot.json, v1-legacy, "./" names."""
    date = "2019-09-14T02:00:03.512233+00:00"
    mtime = _timestamp(date) - 3600.25
    components = {
        "homeassistant": homeassistant_archive_entries("0.99.3", layout="folder", mtime=mtime),
        "core_ssh": addon_archive_entries("core_ssh", version="6.4", mtime=mtime),
        "share": share_folder_entries(mtime),
        "ssl": ssl_folder_entries(mtime),
    }
    return _write_preset(
        directory,
        supervisor_2019_gnu_snapshot,
        archive_specs(
            components,
            encryption="v1-legacy",
            entry_dot_slash=True,
            inner_format="gnu",
            root_mtime=mtime,
        ),
        name="Weekly 2019-09-14",
        date=date,
        password="hassio-2019",
        homeassistant_version="0.99.3",
        supervisor_version="192",
        is_metadata_indented=True,
        metadata_name="./snapshot.json",
        outer_format="gnu",
        outer_mtime=float(int(_timestamp(date))),
        outer_float_mtime=False,
        **_TEMP_DIR_LAYOUT,
    )


def supervisor_2021_pax_backup_json(directory: Path) -> WrittenBackup:
    """Supervisor 2021.09 (temp dir, PAX): ./backup.json, format-v1 metadata, v1-legacy."""
    date = "2021-10-03T01:30:11.004512+00:00"
    mtime = _timestamp(date) - 120.5
    components = {
        "homeassistant": homeassistant_archive_entries("2021.9.7", layout="folder", mtime=mtime),
        "core_mosquitto": mosquitto_addon_entries(mtime),
        "share": share_folder_entries(mtime),
        "media": media_folder_entries(mtime),
    }
    return _write_preset(
        directory,
        supervisor_2021_pax_backup_json,
        archive_specs(components, encryption="v1-legacy", root_mtime=mtime),
        name="Full Backup 2021-10-03",
        date=date,
        password="pässwörd-2021",
        homeassistant_version="2021.9.7",
        supervisor_version="2021.09.0",
        is_metadata_indented=True,
        **_TEMP_DIR_LAYOUT,
    )


def supervisor_2022_uncompressed(directory: Path) -> WrittenBackup:
    """Supervisor 2022.11 `compressed: false`: legacy v1 over plain .tar archives (no padding)."""
    date = "2022-11-27T04:12:45.771203+00:00"
    mtime = _timestamp(date) - 30.75
    components = {
        "homeassistant": homeassistant_archive_entries("2022.11.5", mtime=mtime),
        "core_mosquitto": mosquitto_addon_entries(mtime),
        "ssl": ssl_folder_entries(mtime),
        "share": share_folder_entries(mtime),
    }
    return _write_preset(
        directory,
        supervisor_2022_uncompressed,
        archive_specs(components, encryption="v1-legacy", compressed=False, root_mtime=mtime),
        name="Before upgrade",
        date=date,
        password="uncompressed-2022",
        homeassistant_version="2022.11.5",
        supervisor_version="2022.11.2",
        is_metadata_indented=True,
        **_TEMP_DIR_LAYOUT,
    )


def supervisor_2022_name_mismatch(directory: Path) -> WrittenBackup:
    """Supervisor 2022.05 bug: `compressed: false`, yet homeassistant.tar.gz is gzip (§3.5)."""
    date = "2022-05-08T02:45:00.125000+00:00"
    mtime = _timestamp(date) - 45.5
    homeassistant = ArchiveSpec(
        "homeassistant",
        homeassistant_archive_entries("2022.5.2", mtime=mtime),
        encryption="v1-legacy",
        compressed=True,
        root_mtime=mtime,
    )
    components = {
        "core_ssh": addon_archive_entries("core_ssh", version="10.0.2", mtime=mtime),
        "share": share_folder_entries(mtime),
    }
    plain = archive_specs(components, encryption="v1-legacy", compressed=False, root_mtime=mtime)
    return _write_preset(
        directory,
        supervisor_2022_name_mismatch,
        [homeassistant, *plain],
        name="Nightly 2022-05-08",
        date=date,
        password="mismatch-2022",
        compressed=False,
        homeassistant_version="2022.5.2",
        supervisor_version="2022.05.3",
        is_metadata_indented=True,
        **_TEMP_DIR_LAYOUT,
    )


def supervisor_2023_plain_partial(directory: Path) -> WrittenBackup:
    """Supervisor 2023.06 partial backup, unencrypted, stream-mode gzip (securetar 2023.3.0)."""
    date = "2023-06-18T10:05:59.902311+00:00"
    mtime = _timestamp(date) - 10.5
    components = {
        "core_ssh": addon_archive_entries("core_ssh", version="15.0.1", mtime=mtime),
        "ssl": ssl_folder_entries(mtime),
        "share": share_folder_entries(mtime),
    }
    return _write_preset(
        directory,
        supervisor_2023_plain_partial,
        archive_specs(components, plain_gzip_style="stream", root_mtime=mtime),
        name="Before SSH update",
        date=date,
        homeassistant_version="2023.6.2",
        supervisor_version="2023.06.4",
        is_metadata_indented=True,
        **_TEMP_DIR_LAYOUT,
    )


def supervisor_2024_streamed(directory: Path) -> WrittenBackup:
    """Supervisor 2024.06 streamed: no ".", names without "./", ./backup.json last, v1-legacy."""
    date = "2024-06-30T03:00:00.481516+00:00"
    mtime = _timestamp(date) - 600.125
    components = {
        "homeassistant": homeassistant_archive_entries("2024.6.4", mtime=mtime),
        "core_mosquitto": mosquitto_addon_entries(mtime),
        "a0d7b954_vscode": addon_archive_entries("a0d7b954_vscode", mtime=mtime),
        "share": share_folder_entries(mtime),
        "addons_local": addons_local_folder_entries(mtime),
    }
    return _write_preset(
        directory,
        supervisor_2024_streamed,
        archive_specs(components, encryption="v1-legacy", root_mtime=mtime),
        name="Automatic backup 2024.6.4",
        date=date,
        password="streamed-2024",
        homeassistant_version="2024.6.4",
        supervisor_version="2024.06.2",
        metadata_position="last",
        legacy_bufsize=SUPERVISOR_STREAM_BUFSIZE,
    )


def supervisor_2025_v2(directory: Path) -> WrittenBackup:
    """Supervisor 2025.03 streamed with SecureTar v2 (emergency-kit style key)."""
    date = "2025-03-16T04:45:10.662093+00:00"
    mtime = _timestamp(date) - 300.5
    components = {
        "homeassistant": homeassistant_archive_entries("2025.3.3", mtime=mtime),
        "core_mosquitto": mosquitto_addon_entries(mtime),
        "share": share_folder_entries(mtime),
        "ssl": ssl_folder_entries(mtime),
    }
    return _write_preset(
        directory,
        supervisor_2025_v2,
        archive_specs(components, encryption="v2", root_mtime=mtime),
        name="Automatic backup 2025.3.3",
        date=date,
        password="K3T9-Q8ZL-0M2D-7XWA-P5RU-1YHB-C6EN",
        homeassistant_version="2025.3.3",
        supervisor_version="2025.03.4",
        extra=_automatic_backup_extra(date),
        is_core_file_name=True,
        metadata_position="last",
    )


def supervisor_2026_v3(directory: Path) -> WrittenBackup:
    """Supervisor 2026.04 with SecureTar v3 and an unlisted supervisor.tar.gz."""
    date = "2026-04-19T04:46:02.118204+00:00"
    mtime = _timestamp(date) - 240.5
    components = {
        "homeassistant": homeassistant_archive_entries("2026.4.2", mtime=mtime),
        "core_mosquitto": mosquitto_addon_entries(mtime),
        "core_ssh": addon_archive_entries("core_ssh", mtime=mtime),
        "share": share_folder_entries(mtime),
        "media": media_folder_entries(mtime),
    }
    supervisor = ArchiveSpec(
        "supervisor",
        supervisor_archive_entries(mtime),
        include_root_entry=False,
        encryption="v3",
        root_mtime=mtime,
    )
    return _write_preset(
        directory,
        supervisor_2026_v3,
        [*archive_specs(components, encryption="v3", root_mtime=mtime), supervisor],
        name="Automatic backup 2026.4.2",
        date=date,
        password="R7WQ-2MXD-H4LK-9PZA-0VBN-T6YC-S1EJ",
        homeassistant_version="2026.4.2",
        supervisor_version="2026.04.0",
        extra=_automatic_backup_extra(date),
        is_core_file_name=True,
        metadata_position="last",
    )


def core_2023_unencrypted(directory: Path) -> WrittenBackup:
    """Core 2023.5 (2022.4 … 2024.10 style): temp dir, ".", "./" names, plain stream gzip."""
    return _core_preset(
        directory,
        core_2023_unencrypted,
        homeassistant_version="2023.5.4",
        date="2023-05-20T03:14:05.123456+02:00",
        mtime_offset=5.5,
        plain_gzip_style="stream",
        **_TEMP_DIR_LAYOUT,
    )


def core_2025_1_legacy(directory: Path) -> WrittenBackup:
    """Core 2025.1 (securetar 2024.11.0): ./backup.json first, homeassistant.tar.gz v1-legacy."""
    return _core_preset(
        directory,
        core_2025_1_legacy,
        homeassistant_version="2025.1.4",
        date="2025-01-12T04:40:12.337411+01:00",
        name="Automatic backup 2025.1.4",
        password="A1B2-C3D4-E5F6-G7H8-J9K0-LMNP-QRST",
        encryption="v1-legacy",
        **_CORE_LAYOUT,
    )


def core_2025_v2(directory: Path) -> WrittenBackup:
    """Core 2025.6 (securetar 2025.2.x): ./backup.json first, homeassistant.tar.gz v2."""
    return _core_preset(
        directory,
        core_2025_v2,
        homeassistant_version="2025.6.1",
        date="2025-06-08T04:40:55.000123+02:00",
        name="Automatic backup 2025.6.1",
        password="A1B2-C3D4-E5F6-G7H8-J9K0-LMNP-QRST",
        encryption="v2",
        **_CORE_LAYOUT,
    )


def core_2026_v3_downloaded(directory: Path) -> WrittenBackup:
    """Core 2026.11 v3 backup as downloaded: 30 KiB of NUL bytes after the tar end (§4.3)."""
    return _core_preset(
        directory,
        core_2026_v3_downloaded,
        homeassistant_version="2026.11.1",
        date="2026-11-18T04:41:37.654321+01:00",
        name="Automatic backup 2026.11.1",
        password="X9Y8-Z7W6-V5U4-T3S2-R1Q0-PONM-LKJH",
        encryption="v3",
        trailing_nul_bytes=3 * tarfile.RECORDSIZE,
        **_CORE_LAYOUT,
    )


def securetar_2025_1_fixed_padding(directory: Path) -> WrittenBackup:
    """securetar 2025.1.0-2025.1.2: v1 with correct padding and `_securetar.*` PAX records."""
    date = "2025-01-14T12:00:00.000001+00:00"
    mtime = _timestamp(date) - 1.5
    archives = [
        ArchiveSpec(
            "homeassistant",
            homeassistant_archive_entries("2025.1.2", mtime=mtime),
            encryption="v1-fixed",
            root_mtime=mtime,
        ),
        ArchiveSpec(
            "ssl",
            ssl_folder_entries(mtime),
            encryption="v1-fixed",
            compressed=False,
            root_mtime=mtime,
        ),
    ]
    return _write_preset(
        directory,
        securetar_2025_1_fixed_padding,
        archives,
        name="securetar 2025.1.1 test",
        date=date,
        password="fixed-padding-2025",
        homeassistant_version="2025.1.2",
        supervisor_version="2024.12.3",
        metadata_position="last",
    )


def era_presets() -> dict[str, PresetWriter]:
    """All era presets by name, oldest first; each writes one backup into a directory."""
    writers: Iterable[PresetWriter] = (
        supervisor_2019_gnu_snapshot,
        supervisor_2021_pax_backup_json,
        supervisor_2022_name_mismatch,
        supervisor_2022_uncompressed,
        supervisor_2023_plain_partial,
        core_2023_unencrypted,
        supervisor_2024_streamed,
        core_2025_1_legacy,
        securetar_2025_1_fixed_padding,
        supervisor_2025_v2,
        core_2025_v2,
        supervisor_2026_v3,
        core_2026_v3_downloaded,
    )
    return {writer.__name__: writer for writer in writers}
