"""backup.json for a copy: new name and slug, the original's date, lists that match its archives.

The Supervisor keys backups by slug, and a slug is the SHA-1 of
"<date> - <name>" (supervisor/backups/utils.py, format-spec §3.6), so a copy
named "<original> (copy)" with the original's date gets a new slug the
Supervisor way. Should that slug already be taken (a second copy of the same
name), a random 8-hex-digit slug is used: the Supervisor never recomputes a
slug from the name, it only needs it unique.

Every other key of the original metadata is kept as it was (the Supervisor
allows and ignores extra keys), except `protected`/`crypto`, which must say
whether the copy's archives are encrypted, and `homeassistant`, `folders`,
`addons` and `type`, which must match the archives the copy holds. The
result is validated against the mirrored Supervisor schema before it is
written.
"""

from __future__ import annotations

import copy
import json
import secrets
from typing import Any

import voluptuous as vol

from .backup_metadata import HOMEASSISTANT_ARCHIVE, compute_slug, folder_archive_name
from .metadata_schema import HOMEASSISTANT_FOLDER, SCHEMA_BACKUP_METADATA

COPY_NAME_SUFFIX = " (copy)"
COPY_METADATA_MEMBER = "./backup.json"  # the name the Supervisor writes and reads first
CRYPTO_AES128 = "aes128"  # the Supervisor's `crypto` value for protected backups (format-spec §3.3)
SLUG_LENGTH = 8


class CopyMetadataError(ValueError):
    """The original metadata cannot be turned into valid metadata for the copy."""


def copy_name(original_name: str) -> str:
    """The default name of a copy: "<original> (copy)"."""
    return f"{original_name}{COPY_NAME_SUFFIX}"


def new_copy_slug(date: str, name: str, taken: set[str]) -> str:
    """The Supervisor's slug for (date, name); a random one if that is already taken."""
    slug = compute_slug(date, name)
    while slug in taken:
        slug = secrets.token_hex(SLUG_LENGTH // 2)
    return slug


def metadata_for_copy(
    original: dict[str, Any],
    *,
    name: str,
    slug: str,
    is_protected: bool,
    archive_names: set[str],
) -> dict[str, Any]:
    """The copy's metadata; raises CopyMetadataError if it would not pass the Supervisor's schema.

    `archive_names` are the base names ("homeassistant", "share", "core_ssh")
    of the inner archives the copy holds.
    """
    metadata = copy.deepcopy(original)
    metadata["name"] = name
    metadata["slug"] = slug
    metadata["protected"] = is_protected
    if is_protected:
        metadata["crypto"] = CRYPTO_AES128
    else:
        metadata.pop("crypto", None)
    lost_something = _keep_only_present(metadata, archive_names)
    if lost_something and metadata.get("type") == "full":
        metadata["type"] = "partial"  # it no longer holds everything a full restore expects
    try:
        SCHEMA_BACKUP_METADATA(copy.deepcopy(metadata))
    except vol.Invalid as err:
        raise CopyMetadataError(f"the copy's backup.json would be invalid: {err}") from err
    return metadata


def _keep_only_present(metadata: dict[str, Any], archive_names: set[str]) -> bool:
    """Drop list entries whose archive the copy does not hold; True if any was dropped."""
    lost = False
    has_homeassistant = HOMEASSISTANT_ARCHIVE in archive_names
    if metadata.get("homeassistant") and not has_homeassistant:
        metadata["homeassistant"] = None
        lost = True
    folders = metadata.get("folders")
    if isinstance(folders, list):
        kept = [
            folder
            for folder in folders
            if (has_homeassistant if folder == HOMEASSISTANT_FOLDER else False)
            or (isinstance(folder, str) and folder_archive_name(folder) in archive_names)
        ]
        lost = lost or len(kept) != len(folders)
        metadata["folders"] = kept
    addons = metadata.get("addons")
    if isinstance(addons, list):
        kept_addons = [
            addon
            for addon in addons
            if isinstance(addon, dict) and addon.get("slug") in archive_names
        ]
        lost = lost or len(kept_addons) != len(addons)
        metadata["addons"] = kept_addons
    return lost


def serialize_copy_metadata(metadata: dict[str, Any]) -> bytes:
    """UTF-8 JSON, as the Supervisor writes it (non-ASCII kept as is)."""
    return json.dumps(metadata, ensure_ascii=False, indent=2).encode("utf-8")
