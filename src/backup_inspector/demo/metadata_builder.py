"""Build and serialise backup metadata (`backup.json` / `snapshot.json`) of every era.

The schema follows the producer (Supervisor or Core) and its version, so one
`make_metadata` covers 2018 to today (format-spec §3.3, §3.6, §4.1).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from backup_inspector.demo.entry_specs import ArchiveSpec
from backup_inspector.demo.legacy_crypto import (
    encrypt_legacy_metadata_value,
    legacy_protected_digit,
)

#: Folder components and their metadata spelling (format-spec §3.3, §3.4).
FOLDER_METADATA_NAMES: Mapping[str, str] = {
    "share": "share",
    "ssl": "ssl",
    "media": "media",
    "addons_local": "addons/local",
    "homeassistant": "homeassistant",  # only a folder in format v1 (§3.5)
}

#: Display names and versions of well-known add-ons, for realistic metadata.
KNOWN_ADDONS: Mapping[str, tuple[str, str]] = {
    "core_mosquitto": ("Mosquitto broker", "6.5.2"),
    "core_ssh": ("Terminal & SSH", "9.16.0"),
    "core_configurator": ("File editor", "5.8.0"),
    "a0d7b954_vscode": ("Studio Code Server", "5.19.3"),
    "core_samba": ("Samba share", "12.5.1"),
}

DEFAULT_BACKUP_NAME = "Full backup 2026-11-20"
DEFAULT_BACKUP_DATE = "2026-11-20T03:00:04.183512+00:00"
DEFAULT_HOMEASSISTANT_VERSION = "2026.11.2"
DEFAULT_SUPERVISOR_VERSION = "2026.11.0"

MetadataProducer = Literal["supervisor", "core"]


def compute_slug(name: str, date: str) -> str:
    """Slug = first 8 hex chars of SHA-1 over lower("<date> - <name>") (format-spec §3.6)."""
    text = f"{date} - {name}".lower().encode()
    return hashlib.sha1(text, usedforsecurity=False).hexdigest()[:8]


def _version_key(version: str) -> tuple[int, ...]:
    """Comparable key for HA/Supervisor versions, including pre-2020 integers.

    Supervisor versions were plain integers ("192", "228") before calendar
    versioning, so "192" must sort before "2020.10.0"; a ".devNNNN" suffix
    is ignored.
    """
    numbers = [int(part) for part in re.findall(r"\d+", version.split(".dev", 1)[0])]
    if len(numbers) == 1 or (numbers and numbers[0] < 2000):
        return (0, *numbers)
    return tuple(numbers)


def _is_at_least(version: str, minimum: str) -> bool:
    """Whether `version` >= `minimum` under `_version_key`."""
    return _version_key(version) >= _version_key(minimum)


def _addon_entry(
    slug: str, addon_versions: Mapping[str, tuple[str, str]], size_mb: float
) -> dict[str, Any]:
    """Metadata `addons` item for one add-on slug."""
    display_name, version = addon_versions.get(
        slug, KNOWN_ADDONS.get(slug, (slug.replace("_", " ").title(), "1.0.0"))
    )
    return {"slug": slug, "name": display_name, "version": version, "size": size_mb}


def _legacy_homeassistant_settings(
    homeassistant_version: str, supervisor_version: str, password: str | None
) -> dict[str, Any]:
    """Format-v1 `homeassistant` dict: HA settings kept in the metadata (2018 … 2022-01)."""
    settings: dict[str, Any] = {
        "version": homeassistant_version,
        "image": "homeassistant/qemux86-64-homeassistant",
        "last_version": homeassistant_version,
        "boot": True,
        "ssl": False,
        "port": 8123,
        "watchdog": True,
        "wait_boot": 600,
    }
    if _is_at_least(supervisor_version, "200"):  # audio settings since 2020-02
        settings["audio_input"] = None
        settings["audio_output"] = None
    refresh_token = "d9b1c4f0" * 16  # fake, 128 hex chars like HA's refresh tokens
    settings["refresh_token"] = (
        encrypt_legacy_metadata_value(password, refresh_token)
        if password is not None
        else refresh_token
    )
    return settings


def make_metadata(
    archives: Sequence[ArchiveSpec] = (),
    *,
    producer: MetadataProducer = "supervisor",
    name: str | None = None,
    date: str = DEFAULT_BACKUP_DATE,
    password: str | None = None,
    protected: bool | None = None,
    compressed: bool | None = None,
    backup_type: Literal["full", "partial"] | None = None,
    homeassistant_version: str = DEFAULT_HOMEASSISTANT_VERSION,
    supervisor_version: str = DEFAULT_SUPERVISOR_VERSION,
    exclude_database: bool = False,
    addon_versions: Mapping[str, tuple[str, str]] | None = None,
    repositories: Sequence[str] | None = None,
    extra: Mapping[str, Any] | None = None,
    slug: str | None = None,
) -> dict[str, Any]:
    """Build the metadata dict a given producer and version would have written.

    The schema follows the producer's version, so one function covers every
    era (format-spec §3.3 history, §4.1):

    * Supervisor < 2022.02.0 (format v1): `protected` is the check digit
      string and `crypto` is "aes128" (both only when protected); the HA
      config is the "homeassistant" *folder*; `homeassistant` holds HA
      settings with an encrypted refresh token.
    * Supervisor >= 2022.02.0: `version: 2`, `compressed`, boolean
      `protected`, `homeassistant: {version, size}`; then
      `supervisor_version` (2022.08.4), `exclude_database` (2023.10.1),
      `extra` (2024.12.0); `docker` until 2026.02.3, `crypto` until 2026.03.3.
    * Core < 2025.1: `{slug, name: "Core <ver>", date, type: partial,
      folders: [homeassistant], homeassistant: {version}, compressed}` —
      no `version`, no `protected`.
    * Core >= 2025.1: the "new backup system" shape with `version: 2`.

    `protected` defaults to "any archive is encrypted", `compressed` to "all
    listed archives are compressed", `backup_type` to "full" when a
    Supervisor backup includes Home Assistant. Components not listed in the
    metadata (see `ArchiveSpec.is_listed_in_metadata`) are skipped.
    """
    listed = [archive for archive in archives if archive.is_listed_in_metadata]
    if protected is None:
        protected = any(archive.is_encrypted for archive in archives)
    if compressed is None:
        compressed = all(archive.compressed for archive in listed) if listed else True
    addon_versions = addon_versions or {}
    if producer == "core":
        return _make_core_metadata(
            name=name,
            date=date,
            protected=protected,
            homeassistant_version=homeassistant_version,
            exclude_database=exclude_database,
            extra=extra,
            slug=slug,
        )

    name = name if name is not None else DEFAULT_BACKUP_NAME
    has_homeassistant = any(archive.name == "homeassistant" for archive in listed)
    is_format_v2 = _is_at_least(supervisor_version, "2022.02.0")
    is_streamed = _is_at_least(supervisor_version, "2024.02.0")
    size_mb = 0.0 if is_streamed else 0.04
    metadata: dict[str, Any] = {
        "slug": slug or compute_slug(name, date),
        "name": name,
        "date": date,
        "type": backup_type or ("full" if has_homeassistant else "partial"),
    }
    folders: list[str] = []
    addons: list[dict[str, Any]] = []
    homeassistant: dict[str, Any] | None = None
    for archive in listed:
        if archive.name == "homeassistant" and is_format_v2:
            homeassistant = {"version": homeassistant_version, "size": size_mb}
            if _is_at_least(supervisor_version, "2023.10.1"):
                homeassistant["exclude_database"] = exclude_database
        elif archive.name in FOLDER_METADATA_NAMES:
            folders.append(FOLDER_METADATA_NAMES[archive.name])
        else:
            addons.append(_addon_entry(archive.name, addon_versions, size_mb))

    if not is_format_v2:
        if has_homeassistant:
            homeassistant = _legacy_homeassistant_settings(
                homeassistant_version, supervisor_version, password if protected else None
            )
        if protected:
            if password is None:
                raise ValueError(
                    "a format-v1 protected backup needs the password for its check digit"
                )
            metadata["protected"] = legacy_protected_digit(password)
            metadata["crypto"] = "aes128"
        if _is_at_least(supervisor_version, "248"):  # registries since 2020-10
            metadata["docker"] = {"registries": {}}
    else:
        metadata["version"] = 2
        if _is_at_least(supervisor_version, "2022.08.4"):
            metadata["supervisor_version"] = supervisor_version
        if _is_at_least(supervisor_version, "2024.12.0"):
            metadata["extra"] = dict(extra) if extra is not None else {}
        metadata["compressed"] = compressed
        metadata["protected"] = protected
        if not _is_at_least(supervisor_version, "2026.03.3"):
            metadata["crypto"] = "aes128" if protected else None
        if not _is_at_least(supervisor_version, "2026.02.3"):
            metadata["docker"] = {"registries": {}}
    if repositories is None:
        # Older Supervisors rejected the built-in names "local"/"core" (§3.3).
        repositories = ["https://github.com/hassio-addons/repository"]
        if is_format_v2:
            repositories = [*repositories, "local", "core"]
    metadata["homeassistant"] = homeassistant
    metadata["folders"] = folders
    metadata["addons"] = addons
    metadata["repositories"] = list(repositories)
    return metadata


def _make_core_metadata(
    *,
    name: str | None,
    date: str,
    protected: bool,
    homeassistant_version: str,
    exclude_database: bool,
    extra: Mapping[str, Any] | None,
    slug: str | None,
) -> dict[str, Any]:
    """Metadata of a Core-written backup (non-Supervisor install, format-spec §4.1)."""
    if not _is_at_least(homeassistant_version, "2025.1.0"):
        name = name if name is not None else f"Core {homeassistant_version}"
        return {
            "slug": slug or compute_slug(name, date),
            "name": name,
            "date": date,
            "type": "partial",
            "folders": ["homeassistant"],
            "homeassistant": {"version": homeassistant_version},
            "compressed": True,
        }
    name = name if name is not None else f"Automatic backup {homeassistant_version}"
    return {
        "compressed": True,
        "date": date,
        "extra": dict(extra)
        if extra is not None
        else {"instance_id": "0f3a5c2e9d8b4a71b6e4c1d2a3f4e5d6", "with_automatic_settings": True},
        "homeassistant": {"exclude_database": exclude_database, "version": homeassistant_version},
        "name": name,
        "protected": protected,
        "slug": slug or compute_slug(name, date),
        "type": "partial",
        "version": 2,
    }


def serialize_metadata(metadata: Mapping[str, Any], *, indent: int | None = None) -> bytes:
    """Encode metadata as Supervisor/Core did: compact (orjson era) or indented (older)."""
    if indent is None:
        return json.dumps(metadata, separators=(",", ":"), ensure_ascii=False).encode()
    return json.dumps(metadata, indent=indent, ensure_ascii=False).encode()
