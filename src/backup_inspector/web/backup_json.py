"""The JSON the page gets for a backup: list rows and the detail view.

Only normalised fields go out (BackupMetadata.to_json never carries the raw
metadata, which may hold legacy encrypted secrets), and never a password.

Every backup's share of a response is bounded, whatever its metadata holds:
lists keep their first items and say how many were left out (`*_left_out`),
and texts taken from the backup are cut with "…". One hostile backup.json
once made /api/backups 10 MB; the page shows tens of add-ons at most.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from backup_inspector.backup_format.backup_metadata import BackupMetadata
from backup_inspector.backup_format.findings import Finding, Severity
from backup_inspector.web.backup_registry import KnownBackup
from backup_inspector.web.extract_destination import default_destination
from backup_inspector.web.password_store import PasswordState

MAX_LISTED_ITEMS = 100  # add-ons, folders and problems per backup; a real one has tens
MAX_LISTED_ARCHIVES = 1000  # the archive list is what the page browses: keep more of it
MAX_TEXT_CHARS = 200  # a name, version, date or type
MAX_SENTENCE_CHARS = 1000  # a description or a problem's message

ENCRYPTION_LABELS = {
    "none": "not encrypted",
    "securetar-v1": "SecureTar v1 (AES-128, before 2025)",
    "securetar-v2": "SecureTar v2 (AES-128, 2025)",
    "securetar-v3": "SecureTar v3 (Argon2id + XChaCha20, 2026)",
}


def bounded_text(text: str | None, limit: int = MAX_TEXT_CHARS) -> str | None:
    """`text` if it has at most `limit` characters, else its start and "…"."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def bounded_list(items: Sequence[Any], limit: int = MAX_LISTED_ITEMS) -> tuple[list[Any], int]:
    """(the first `limit` items, how many were left out)."""
    return list(items[:limit]), max(0, len(items) - limit)


def _contents_lists(
    addons: Sequence[tuple[str, str, str]], folders: Sequence[str]
) -> dict[str, Any]:
    """Bounded add-on (slug, name, version) and folder lists, with what was left out."""
    shown_addons, addons_left_out = bounded_list(addons)
    shown_folders, folders_left_out = bounded_list(folders)
    return {
        "addons": [
            {
                "slug": bounded_text(slug),
                "name": bounded_text(name),
                "version": bounded_text(version),
            }
            for slug, name, version in shown_addons
        ],
        "addons_left_out": addons_left_out,
        "folders": [bounded_text(folder) for folder in shown_folders],
        "folders_left_out": folders_left_out,
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
            **_contents_lists(
                [(a.name, a.label, "") for a in archives if a.kind == "addon"],
                [a.name for a in archives if a.kind == "folder"],
            ),
        }
    return {
        "homeassistant": metadata.includes_homeassistant,
        "exclude_database": metadata.exclude_database,
        **_contents_lists(
            [(addon.slug, addon.name, addon.version) for addon in metadata.addons],
            metadata.folders,
        ),
    }


def problems_json(findings: Sequence[Finding]) -> tuple[list[dict[str, Any]], int]:
    """The first MAX_LISTED_ITEMS problems, errors first, messages bounded; and how many were left out.

    Errors go first (otherwise in their order) so that a flood of warnings
    can never push the error that fails the backup out of the list.
    """
    errors_first = sorted(findings, key=lambda finding: finding.severity != Severity.ERROR)
    shown, left_out = bounded_list(errors_first)
    problems = []
    for finding in shown:
        problem = finding.to_json()
        problem["message"] = bounded_text(problem["message"], MAX_SENTENCE_CHARS)
        problems.append(problem)
    return problems, left_out


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
    problems, problems_left_out = problems_json(overview.findings if overview is not None else [])
    return {
        "id": known.backup_id,
        "file_name": known.file_name,
        "name": bounded_text(known.display_name),
        "date": bounded_text(metadata.date) if metadata is not None else None,
        "sort_date": known.sort_moment.isoformat(),
        "description": (
            bounded_text(metadata.describe(), MAX_SENTENCE_CHARS) if metadata is not None else None
        ),
        "type": bounded_text(metadata.type) if metadata is not None else None,
        "homeassistant_version": (
            bounded_text(metadata.homeassistant_version) if metadata is not None else None
        ),
        "supervisor_version": (
            bounded_text(metadata.supervisor_version) if metadata is not None else None
        ),
        "size": known.file_size,
        "mtime": known.mtime_ns / 1e9,
        "is_protected": has_encrypted_archive(known),
        "is_readable": overview is not None,
        "open_error": bounded_text(known.open_error, MAX_SENTENCE_CHARS),
        "contents": contents_json(known),
        "archive_count": len(overview.archives) if overview is not None else 0,
        "problems": problems,
        "problems_left_out": problems_left_out,
        # The restore card is for the backup's own screen; the list stays small.
        "last_check": (
            {key: value for key, value in last_check.items() if key != "restore"}
            if last_check is not None
            else None
        ),
        "password": password.to_json(),
    }


def archive_json(archive: Any) -> dict[str, Any]:
    """One inner archive with a readable encryption label."""
    data = archive.to_json()
    data["label"] = bounded_text(data["label"])
    data["encryption_label"] = ENCRYPTION_LABELS.get(str(data.get("encryption")), "unknown format")
    data["restore_consequence"] = bounded_text(archive.restore_consequence, MAX_SENTENCE_CHARS)
    return data


def metadata_json(metadata: BackupMetadata) -> dict[str, Any]:
    """The metadata fields the backup view shows, with lists and texts bounded."""
    data = metadata.to_json()
    for key in ("extra", "repositories", "addons", "folders"):
        del data[key]  # extra/repositories are not shown; add-ons and folders are in `contents`
    for key in ("slug", "name", "date", "type", "supervisor_version", "homeassistant_version"):
        data[key] = bounded_text(data[key])
    data["member_name"] = bounded_text(data["member_name"], MAX_SENTENCE_CHARS)
    data["description"] = bounded_text(data["description"], MAX_SENTENCE_CHARS)
    expected, data["expected_archives_left_out"] = bounded_list(data["expected_archives"])
    data["expected_archives"] = [bounded_text(name) for name in expected]
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
    data["last_check"] = last_check
    metadata = overview.metadata if overview is not None else None
    data["metadata"] = metadata_json(metadata) if metadata is not None else None
    archives, data["archives_left_out"] = bounded_list(
        overview.archives if overview else [], MAX_LISTED_ARCHIVES
    )
    data["archives"] = [archive_json(archive) for archive in archives]
    data["default_destination"] = default_destination(
        share_folder_name, known.display_name, known.path.stem
    )
    return data
