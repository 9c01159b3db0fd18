"""The history API: find across the folder, compare versions and with today's config, compare backups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from backup_inspector.demo.history_folder import CONFIG_B, PASSWORD, write_history_folder
from backup_inspector.web.backup_registry import backup_id_for
from backup_inspector.web.web_settings import WebSettings

from .conftest import ClientFactory
from .web_helpers import post_json


@pytest.fixture
async def history_client(make_client: ClientFactory, tmp_path: Path) -> tuple[TestClient, Path]:
    """The app over the mixed history folder, with a temporary folder as today's config."""
    backups = write_history_folder(tmp_path / "backups")
    config = tmp_path / "homeassistant"
    config.mkdir()
    (config / "configuration.yaml").write_bytes(CONFIG_B)
    (tmp_path / "data").mkdir()
    settings = WebSettings(
        backup_dir=backups,
        share_dir=tmp_path / "share",
        data_dir=tmp_path / "data",
        config_dir=config,
    )
    (tmp_path / "share").mkdir()
    return await make_client(settings), config


def side(slug: str, path: str, archive: str = "homeassistant") -> dict[str, Any]:
    """One side of a compare request."""
    return {"backup_id": backup_id_for(f"{slug}.tar"), "archive": archive, "path": path}


async def test_find_groups_by_content_and_names_locked_until_unlocked(
    history_client: tuple[TestClient, Path],
) -> None:
    """Locked first; after the password is given on the page, the encrypted version joins."""
    client, _config = history_client
    found = await post_json(client, "/api/history/find", {"pattern": "configuration.yaml"})
    assert [locked["backup"] for locked in found["locked"]] == ["enc2025.tar"]
    (history,) = found["histories"]
    assert [group["first"]["backup"] for group in history["groups"]] == [
        "new2026.tar",
        "old2021.tar",
    ]
    assert history["groups"][0]["first"]["backup_id"] == backup_id_for("new2026.tar")
    await post_json(
        client, f"/api/backups/{backup_id_for('enc2025.tar')}/password", {"password": PASSWORD}
    )
    found = await post_json(client, "/api/history/find", {"pattern": "configuration.yaml"})
    assert found["locked"] == []
    assert [g["first"]["backup"] for g in found["histories"][0]["groups"]] == [
        "enc2025.tar",
        "old2021.tar",
    ]


async def test_compare_two_versions_and_with_todays_config(
    history_client: tuple[TestClient, Path],
) -> None:
    """Old vs new: a text diff; old vs today's config (data/ or not): the same change; config untouched."""
    client, config = history_client
    before = sorted((p.name, p.stat().st_mtime_ns) for p in config.iterdir())
    versions = await post_json(
        client,
        "/api/history/compare",
        {
            "old": side("old2021", "configuration.yaml"),
            "new": side("new2026", "data/configuration.yaml"),
        },
    )
    assert versions["kind"] == "text" and "+  unit_system: metric" in versions["diff"]
    live = await post_json(
        client,
        "/api/history/compare",
        {"old": side("mid2024", "data/configuration.yaml"), "new": "config"},
    )
    assert live["new"]["label"] == "today's config: configuration.yaml"
    assert "+  unit_system: metric" in live["diff"]
    same = await post_json(
        client,
        "/api/history/compare",
        {"old": side("new2026", "data/configuration.yaml"), "new": "config"},
    )
    assert same["equal"] is True
    missing = await post_json(
        client,
        "/api/history/compare",
        {"old": side("new2026", "data/blobs/zigbee.db"), "new": "config"},
        status=404,
    )
    assert missing["error"]["code"] == "no-such-file"
    assert sorted((p.name, p.stat().st_mtime_ns) for p in config.iterdir()) == before


async def test_compare_with_backup(history_client: tuple[TestClient, Path]) -> None:
    """'Compare with…': per-archive changes and metadata between two backups."""
    client, _config = history_client
    shown = await post_json(
        client,
        "/api/history/backup-diff",
        {
            "old_backup_id": backup_id_for("mid2024.tar"),
            "new_backup_id": backup_id_for("new2026.tar"),
        },
    )
    assert shown["has_differences"] is True
    assert shown["archives"]["homeassistant"]["added"] == [
        {"path": "data/blobs/zigbee.db", "size": 2048}
    ]


async def test_empty_pattern_is_a_bad_request(history_client: tuple[TestClient, Path]) -> None:
    """An empty pattern is refused with a code the page can show."""
    client, _config = history_client
    shown = await post_json(client, "/api/history/find", {"pattern": " / "}, status=400)
    assert shown["error"]["code"] == "empty-pattern"
