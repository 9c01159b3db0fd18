"""Realistic, deterministic content of each backup component.

A small /config directory, add-on archives, the share, ssl, media and
addons/local folders and supervisor.tar.gz — enough for the inspector to list,
extract and show, and with incompressible parts where damage tests need them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any, Literal

from backup_inspector.demo.entry_specs import (
    DEFAULT_ENTRY_MTIME,
    FileSpec,
    files_to_specs,
    random_content,
)
from backup_inspector.demo.metadata_builder import DEFAULT_HOMEASSISTANT_VERSION, KNOWN_ADDONS
from backup_inspector.demo.recorder_database import recorder_database_bytes


def _json_bytes(value: Any) -> bytes:
    """Indented JSON, the way HA writes its .storage files."""
    return json.dumps(value, indent=2).encode()


def fake_sqlite_database(size_bytes: int, seed: str = "recorder") -> bytes:
    """A small `home-assistant_v2.db`: a real SQLite recorder database of about `size_bytes`.

    Real, not random pages, because the full check opens it with SQLite and
    would (rightly) call random pages a corrupt database. `seed` is kept for
    callers; the rows are deterministic either way.
    """
    del seed
    return recorder_database_bytes(rows=0, min_size_bytes=size_bytes)


def homeassistant_config_files(
    homeassistant_version: str = DEFAULT_HOMEASSISTANT_VERSION,
    *,
    database_size_bytes: int = 96 * 1024,
    include_database: bool = True,
) -> dict[str, bytes]:
    """The content of a small but realistic /config directory, deterministic."""
    files: dict[str, bytes] = {
        ".HA_VERSION": homeassistant_version.encode(),
        "configuration.yaml": (
            b"# Loads default set of integrations. Do not remove.\n"
            b"default_config:\n\n"
            b"homeassistant:\n  name: Home\n  unit_system: metric\n"
            b"  time_zone: Europe/Amsterdam\n\n"
            b"frontend:\n  themes: !include_dir_merge_named themes\n\n"
            b"automation: !include automations.yaml\n"
            b"script: !include scripts.yaml\n"
            b"scene: !include scenes.yaml\n"
        ),
        "automations.yaml": (
            b"- id: '1700000000001'\n"
            b"  alias: Hallway light on motion\n"
            b"  triggers:\n"
            b"  - trigger: state\n"
            b"    entity_id: binary_sensor.hallway_motion\n"
            b"    to: 'on'\n"
            b"  actions:\n"
            b"  - action: light.turn_on\n"
            b"    target:\n"
            b"      entity_id: light.hallway\n"
            b"  mode: single\n"
        ),
        "scripts.yaml": (
            b"good_night:\n  alias: Good night\n  sequence:\n"
            b"  - action: light.turn_off\n    target:\n      entity_id: all\n"
        ),
        "scenes.yaml": b"[]\n",
        "secrets.yaml": b"# Fake secrets for the demo\nwifi_password: correct-horse-battery\n",
        "themes/.gitkeep": b"",
        ".storage/core.config_entries": _json_bytes(
            {
                "version": 1,
                "minor_version": 5,
                "key": "core.config_entries",
                "data": {
                    "entries": [
                        {
                            "entry_id": "01JD2Y7Q8M5V4R3T2S1P0N9K8J",
                            "domain": "mqtt",
                            "title": "Mosquitto Mqtt Broker",
                            "data": {"broker": "core-mosquitto", "port": 1883},
                            "source": "hassio",
                        },
                        {
                            "entry_id": "01JD2Y7Q8M5V4R3T2S1P0N9K8K",
                            "domain": "met",
                            "title": "Home",
                            "data": {"track_home": True},
                            "source": "onboarding",
                        },
                    ]
                },
            }
        ),
        ".storage/core.entity_registry": _json_bytes(
            {
                "version": 1,
                "minor_version": 15,
                "key": "core.entity_registry",
                "data": {
                    "entities": [
                        {
                            "entity_id": "light.hallway",
                            "platform": "mqtt",
                            "unique_id": "hallway-light",
                        },
                        {
                            "entity_id": "binary_sensor.hallway_motion",
                            "platform": "mqtt",
                            "unique_id": "hallway-pir",
                        },
                    ]
                },
            }
        ),
        ".storage/auth": _json_bytes(
            {
                "version": 1,
                "minor_version": 1,
                "key": "auth",
                "data": {
                    "users": [
                        {"id": "7f1c0c3b2a194d8e9f6a5b4c3d2e1f00", "name": "Demo", "is_owner": True}
                    ],
                    "refresh_tokens": [
                        {
                            "id": "rt-demo",
                            "token": "0123456789abcdef" * 8,
                            "user_id": "7f1c0c3b2a194d8e9f6a5b4c3d2e1f00",
                        }
                    ],
                },
            }
        ),
    }
    if include_database:
        files["home-assistant_v2.db"] = fake_sqlite_database(database_size_bytes)
    return files


def homeassistant_archive_entries(
    homeassistant_version: str = DEFAULT_HOMEASSISTANT_VERSION,
    *,
    layout: Literal["data", "folder"] = "data",
    with_supervisor_settings: bool = True,
    mtime: float = DEFAULT_ENTRY_MTIME,
    database_size_bytes: int = 96 * 1024,
) -> list[FileSpec]:
    """Entries of homeassistant.tar[.gz] (the root "." comes from ArchiveSpec).

    "data" is format v2 (Supervisor >= 2022.02, Core): `./homeassistant.json`
    with a "./" prefix, then `data` and `data/...` without one — the mixed
    naming real archives have (format-spec §3.5). Core-written archives
    have no `homeassistant.json` (`with_supervisor_settings=False`). "folder"
    is format v1: the /config files at the archive root.
    """
    config = homeassistant_config_files(
        homeassistant_version, database_size_bytes=database_size_bytes
    )
    if layout == "folder":
        return files_to_specs(config, mtime=mtime)
    settings = {
        "uuid": "4e2f8a7c1b9d4c3e8f5a6b7c8d9e0f1a",
        "version": homeassistant_version,
        "image": "ghcr.io/home-assistant/qemux86-64-homeassistant",
        "access_token": "fake-access-token-" + "a1" * 24,
        "boot": True,
        "port": 8123,
        "refresh_token": "fake-refresh-token-" + "b2" * 56,
        "ssl": False,
        "watchdog": True,
        "audio_output": None,
        "audio_input": None,
        "backups_exclude_database": False,
        "duplicate_log_file": False,
        "override_image": False,
    }
    data_files = {f"data/{relative}": content for relative, content in config.items()}
    data_specs = files_to_specs(data_files, mtime=mtime)
    if not with_supervisor_settings:
        return data_specs
    return [
        FileSpec("./homeassistant.json", content=_json_bytes(settings), mtime=mtime),
        *data_specs,
    ]


def addon_archive_entries(
    slug: str,
    *,
    version: str | None = None,
    options: Mapping[str, Any] | None = None,
    data_files: Mapping[str, bytes] | None = None,
    state: str = "started",
    mtime: float = DEFAULT_ENTRY_MTIME,
) -> list[FileSpec]:
    """Entries of an add-on archive: `./addon.json`, `./apparmor.txt`, `data/...`."""
    display_name, default_version = KNOWN_ADDONS.get(slug, (slug.title(), "1.0.0"))
    version = version or default_version
    options = dict(options) if options is not None else {"logins": [], "require_certificate": False}
    # The keys SCHEMA_APP_BACKUP requires (supervisor/apps/validate.py), as the Supervisor writes them.
    repository = slug.split("_", 1)[0] if "_" in slug else "local"
    addon_json = {
        "user": {"version": version, "options": options, "boot": "auto", "watchdog": True},
        "system": {
            "name": display_name,
            "slug": slug.split("_", 1)[-1],
            "version": version,
            "description": f"{display_name} app",
            "arch": ["aarch64", "amd64"],
            "repository": repository,
        },
        "version": version,
        "state": state,
    }
    data = (
        dict(data_files) if data_files is not None else {"data/options.json": _json_bytes(options)}
    )
    return [
        FileSpec("./addon.json", content=_json_bytes(addon_json), mtime=mtime),
        FileSpec(
            "./apparmor.txt",
            content=f"#include <tunables/global>\nprofile {slug} {{\n}}\n".encode(),
            mtime=mtime,
        ),
        *files_to_specs(data, mtime=mtime),
    ]


def mosquitto_addon_entries(mtime: float = DEFAULT_ENTRY_MTIME) -> list[FileSpec]:
    """The Mosquitto broker add-on with its options and persistence file."""
    options = {
        "logins": [],
        "require_certificate": False,
        "certfile": "fullchain.pem",
        "keyfile": "privkey.pem",
    }
    return addon_archive_entries(
        "core_mosquitto",
        options=options,
        data_files={
            "data/options.json": _json_bytes(options),
            "data/mosquitto.db": random_content("mosquitto.db")(0, 3072),
            "data/system_user.json": _json_bytes(
                {"homeassistant": {"username": "homeassistant", "password": "fake"}}
            ),
        },
        mtime=mtime,
    )


def share_folder_entries(
    mtime: float = DEFAULT_ENTRY_MTIME, *, snapshot_size_bytes: int = 48 * 1024
) -> list[FileSpec]:
    """The share folder: notes, an incompressible camera snapshot, an empty dir.

    The JPEG-like snapshot is random bytes, so gzip stores it uncompressed;
    that gives `find_crc_breaking_offset` a place to damage.
    """
    snapshot = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + random_content("snapshot")(
        0, snapshot_size_bytes
    )
    return [
        *files_to_specs(
            {
                "notes.txt": b"Shopping list: milk, coffee, batteries for the hallway sensor.\n",
                "camera/front_door_2026-11-19.jpg": snapshot,
            },
            mtime=mtime,
        ),
        FileSpec("music", type="dir", mtime=mtime),
    ]


def ssl_folder_entries(mtime: float = DEFAULT_ENTRY_MTIME) -> list[FileSpec]:
    """The ssl folder with a fake certificate pair."""
    body = base64.encodebytes(random_content("certificate")(0, 900))
    return files_to_specs(
        {
            "fullchain.pem": b"-----BEGIN CERTIFICATE-----\n"
            + body
            + b"-----END CERTIFICATE-----\n",
            "privkey.pem": b"-----BEGIN PRIVATE KEY-----\n"
            + body[:400]
            + b"\n-----END PRIVATE KEY-----\n",
        },
        mtime=mtime,
    )


def media_folder_entries(mtime: float = DEFAULT_ENTRY_MTIME) -> list[FileSpec]:
    """The media folder with one short recording."""
    return files_to_specs(
        {"recordings/doorbell.mp4": random_content("doorbell")(0, 8192)}, mtime=mtime
    )


def addons_local_folder_entries(mtime: float = DEFAULT_ENTRY_MTIME) -> list[FileSpec]:
    """The addons/local folder with one locally built add-on's sources."""
    return files_to_specs(
        {
            "hello_world/Dockerfile": (
                b'ARG BUILD_FROM\nFROM $BUILD_FROM\nCOPY run.sh /\nCMD ["/run.sh"]\n'
            ),
            "hello_world/run.sh": (
                b"#!/usr/bin/with-contenv bashio\nbashio::log.info 'Hello world'\n"
            ),
            "hello_world/DOCS.md": b"# Hello world\n\nA local demo add-on.\n",
        },
        mtime=mtime,
    )


def supervisor_archive_entries(mtime: float = DEFAULT_ENTRY_MTIME) -> list[FileSpec]:
    """supervisor.tar.gz content (2026.03.3+): mounts and registries (format-spec §3.5)."""
    mounts = {
        "default_backup_mount": "nas_backups",
        "mounts": [
            {
                "name": "nas_backups",
                "usage": "backup",
                "type": "cifs",
                "server": "nas.local",
                "share": "backups",
                "username": "ha",
                "password": "fake-nas-password",
            }
        ],
    }
    registries = {
        "registries": {"ghcr.io": {"username": "demo", "password": "fake-registry-token"}}
    }
    return [
        FileSpec("mounts.json", content=_json_bytes(mounts), mtime=mtime),
        FileSpec("docker.json", content=_json_bytes(registries), mtime=mtime),
    ]
