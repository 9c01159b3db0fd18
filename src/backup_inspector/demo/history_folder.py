"""A folder of backups of mixed eras and encryptions holding versions of the same files.

The history tests, the e2e journey and the demo of issue 13 search it: the same
config files with and without the data/ prefix, equal and changed, one backup encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from backup_inspector.demo.backup_writer import ArchiveSpec, make_metadata, write_backup

PASSWORD = "one key per install"
CONFIG_A = b"homeassistant:\n  name: Home\n"
CONFIG_B = b"homeassistant:\n  name: Home\n  unit_system: metric\n"
AUTOMATIONS_OLD = b"- alias: porch\n  trigger: sunset\n"
AUTOMATIONS_NEW = b"- alias: porch\n  trigger: sunset\n- alias: garage\n"


@dataclass(frozen=True)
class HistoryBackup:
    """One backup of the folder: file name, slug, date, encryption and config files."""

    slug: str
    date: str
    encryption: str
    data_prefix: bool  # current backups keep the config under data/, old ones at the root
    files: dict[str, bytes]


HISTORY = [
    HistoryBackup(
        "old2021", "2021-03-01T03:00:00+00:00", "none", False,
        {"configuration.yaml": CONFIG_A, "automations.yaml": AUTOMATIONS_OLD},
    ),
    HistoryBackup(
        "mid2024", "2024-06-01T03:00:00+00:00", "none", True,
        {"configuration.yaml": CONFIG_A, "automations.yaml": AUTOMATIONS_OLD},
    ),
    HistoryBackup(
        "enc2025", "2025-06-01T03:00:00+00:00", "v3", True,
        {"configuration.yaml": CONFIG_B, "automations.yaml": AUTOMATIONS_NEW},
    ),
    HistoryBackup(
        "new2026", "2026-10-03T03:00:00+00:00", "none", True,
        {"configuration.yaml": CONFIG_B, "automations.yaml": AUTOMATIONS_NEW,
         "blobs/zigbee.db": bytes(range(256)) * 8},
    ),
]  # fmt: skip


def write_history_backup(folder: Path, spec: HistoryBackup) -> Path:
    """Write one backup with a homeassistant archive and a small share archive."""
    prefix = "data/" if spec.data_prefix else ""
    archives = [
        ArchiveSpec(
            "homeassistant",
            {prefix + path: data for path, data in spec.files.items()},
            encryption=spec.encryption,  # type: ignore[arg-type]
        ),
        ArchiveSpec("share", {"notes/readme.txt": spec.slug.encode()}, encryption=spec.encryption),  # type: ignore[arg-type]
    ]
    password = PASSWORD if spec.encryption != "none" else None
    metadata = make_metadata(
        archives,
        name=f"Nightly {spec.date[:10]}",
        date=spec.date,
        password=password,
        slug=spec.slug,
    )
    return write_backup(folder / f"{spec.slug}.tar", archives, password=password, metadata=metadata)


def write_history_folder(folder: Path) -> Path:
    """Write every HISTORY backup into `folder`."""
    for spec in HISTORY:
        write_history_backup(folder, spec)
    return folder
