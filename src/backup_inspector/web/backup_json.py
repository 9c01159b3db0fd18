"""The JSON the page gets for a backup: list rows and the detail view.

Only normalised fields go out (BackupMetadata.to_json never carries the raw
metadata, which may hold legacy encrypted secrets), and never a password.
"""

from __future__ import annotations

from typing import Any

from backup_inspector.web.backup_registry import KnownBackup
from backup_inspector.web.extract_destination import default_destination
from backup_inspector.web.password_store import PasswordState

ENCRYPTION_LABELS = {
    "none": "not encrypted",
    "securetar-v1": "SecureTar v1 (AES-128, before 2025)",
    "securetar-v2": "SecureTar v2 (AES-128, 2025)",
    "securetar-v3": "SecureTar v3 (Argon2id + XChaCha20, 2026)",
}


def contents_json(known: KnownBackup) -> dict[str, Any]:
    """What the backup holds: Home Assistant, add-ons by name, folders."""
    overview = known.overview
    metadata = overview.metadata if overview is not None else None
    if metadata is None:
        archives = overview.archives if overview is not None else []
        return {
            "homeassistant": any(archive.kind == "homeassistant" for archive in archives),
            "exclude_database": False,
            "addons": [
                {"slug": archive.name, "name": archive.label, "version": ""}
                for archive in archives
                if archive.kind == "addon"
            ],
            "folders": [archive.name for archive in archives if archive.kind == "folder"],
        }
    return {
        "homeassistant": metadata.includes_homeassistant,
        "exclude_database": metadata.exclude_database,
        "addons": [addon.to_json() for addon in metadata.addons],
        "folders": list(metadata.folders),
    }


def has_encrypted_archive(known: KnownBackup) -> bool:
    """Whether any inner archive is encrypted (a password box is needed)."""
    overview = known.overview
    if overview is None:
        return False
    return overview.is_protected


def summary_json(
    known: KnownBackup, password: PasswordState, last_check: dict[str, Any] | None
) -> dict[str, Any]:
    """One row of the backup list."""
    overview = known.overview
    metadata = overview.metadata if overview is not None else None
    findings = overview.findings if overview is not None else []
    return {
        "id": known.backup_id,
        "file_name": known.file_name,
        "name": known.display_name,
        "date": metadata.date if metadata is not None else None,
        "sort_date": known.sort_moment.isoformat(),
        "description": metadata.describe() if metadata is not None else None,
        "type": metadata.type if metadata is not None else None,
        "homeassistant_version": metadata.homeassistant_version if metadata is not None else None,
        "supervisor_version": metadata.supervisor_version if metadata is not None else None,
        "size": known.file_size,
        "mtime": known.mtime_ns / 1e9,
        "is_protected": has_encrypted_archive(known),
        "is_readable": overview is not None,
        "open_error": known.open_error,
        "contents": contents_json(known),
        "archive_count": len(overview.archives) if overview is not None else 0,
        "problems": [finding.to_json() for finding in findings],
        "last_check": last_check,
        "password": password.to_json(),
    }


def archive_json(archive: Any) -> dict[str, Any]:
    """One inner archive with a readable encryption label."""
    data = archive.to_json()
    data["encryption_label"] = ENCRYPTION_LABELS.get(str(data.get("encryption")), "unknown format")
    data["restore_consequence"] = archive.restore_consequence
    return data


def detail_json(
    known: KnownBackup,
    password: PasswordState,
    last_check: dict[str, Any] | None,
    share_folder_name: str,
) -> dict[str, Any]:
    """Everything the backup view shows."""
    overview = known.overview
    data = summary_json(known, password, last_check)
    metadata = overview.metadata if overview is not None else None
    data["metadata"] = (
        {
            key: value
            for key, value in metadata.to_json().items()
            if key not in ("extra", "repositories")
        }
        if metadata is not None
        else None
    )
    data["archives"] = [archive_json(archive) for archive in overview.archives] if overview else []
    data["default_destination"] = default_destination(
        share_folder_name, known.display_name, known.path.stem
    )
    return data
