"""/api/backups and the backup view stay small whatever a backup's metadata holds (issue 9, finding 5)."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp.test_utils import TestClient

from backup_inspector.backup_format.backup_metadata import MAX_METADATA_BYTES
from backup_inspector.backup_format.findings import Finding, FindingCode
from backup_inspector.demo.backup_writer import ArchiveSpec, write_backup
from backup_inspector.web.backup_json import (
    MAX_LISTED_ITEMS,
    MAX_SENTENCE_CHARS,
    MAX_TEXT_CHARS,
    problems_json,
)
from backup_inspector.web.web_settings import WebSettings

from .conftest import ClientFactory
from .web_helpers import get_json

HOSTILE_NAME = "Hostile " + "N" * 5000
ADDON_COUNT = 900


def _hostile_metadata() -> bytes:
    """Valid metadata just under 1 MiB: 900 add-ons with 1 000-character names and versions."""
    metadata = {
        "slug": "1a2b3c4d",
        "version": 2,
        "name": HOSTILE_NAME,
        "date": "2026-01-02T03:04:05+00:00",
        "type": "partial",
        "homeassistant": None,
        "folders": ["share", "ssl", "media", "addons/local"],
        "addons": [
            {"slug": f"addon_{index}", "name": "A" * 500 + str(index), "version": "9" * 300}
            for index in range(ADDON_COUNT)
        ],
    }
    raw = json.dumps(metadata).encode()
    assert len(raw) < MAX_METADATA_BYTES
    return raw


async def test_a_hostile_backup_adds_a_bounded_share_to_the_list(
    make_client: ClientFactory, settings: WebSettings, tmp_path: Path
) -> None:
    """900 add-ons with long names: the row holds 100 of them, cut texts, and the counts left out."""
    hostile_dir = tmp_path / "hostile"
    write_backup(
        hostile_dir / "hostile.tar",
        [ArchiveSpec("share", {"a.txt": b"a"})],
        metadata=_hostile_metadata(),
    )
    client: TestClient = await make_client(
        WebSettings(
            backup_dir=hostile_dir, share_dir=settings.share_dir, data_dir=settings.data_dir
        )
    )
    response = await client.get("/api/backups")
    body = await response.read()
    assert response.status == 200
    assert len(body) < 200_000, len(body)
    (row,) = json.loads(body)["backups"]
    assert len(row["name"]) == MAX_TEXT_CHARS
    assert row["name"].endswith("…")
    assert len(row["description"]) <= MAX_SENTENCE_CHARS
    contents = row["contents"]
    assert len(contents["addons"]) == MAX_LISTED_ITEMS
    assert contents["addons_left_out"] == ADDON_COUNT - MAX_LISTED_ITEMS
    assert contents["addons"][0]["slug"] == "addon_0"
    assert all(len(addon["name"]) <= MAX_TEXT_CHARS for addon in contents["addons"])
    assert all(len(addon["version"]) <= MAX_TEXT_CHARS for addon in contents["addons"])
    assert contents["folders"] == ["share", "ssl", "media", "addons/local"]
    assert contents["folders_left_out"] == 0
    # Every add-on's archive is missing: 900 problems, of which 100 are sent.
    assert len(row["problems"]) == MAX_LISTED_ITEMS
    assert row["problems_left_out"] == ADDON_COUNT + 3 - MAX_LISTED_ITEMS
    assert all(len(problem["message"]) <= MAX_SENTENCE_CHARS for problem in row["problems"])

    detail_response = await client.get(f"/api/backups/{row['id']}")
    detail_body = await detail_response.read()
    assert detail_response.status == 200
    assert len(detail_body) < 250_000, len(detail_body)
    detail = json.loads(detail_body)
    assert detail["metadata"]["name"] == row["name"]
    assert len(detail["metadata"]["expected_archives"]) == MAX_LISTED_ITEMS
    assert detail["metadata"]["expected_archives_left_out"] == ADDON_COUNT + 4 - MAX_LISTED_ITEMS
    assert [archive["name"] for archive in detail["archives"]] == ["share"]
    assert detail["archives_left_out"] == 0


async def test_ordinary_backups_are_sent_whole(client: TestClient) -> None:
    """The demo backups lose nothing: every left-out count is 0 and names are whole."""
    listing = await get_json(client, "/api/backups")
    for row in listing["backups"]:
        assert row["problems_left_out"] == 0
        assert row["contents"]["addons_left_out"] == 0
        assert row["contents"]["folders_left_out"] == 0
        assert not row["name"].endswith("…")
        detail = await get_json(client, f"/api/backups/{row['id']}")
        assert detail["archives_left_out"] == 0
        assert len(detail["archives"]) == row["archive_count"]


def test_errors_are_never_pushed_out_by_warnings() -> None:
    """150 warnings before one error: the error is in the 100 problems sent."""
    warnings = [
        Finding(FindingCode.ARCHIVE_UNLISTED, f"warning {index}", f"a{index}")
        for index in range(150)
    ]
    error = Finding(FindingCode.ARCHIVE_CORRUPT, "the error", "share")
    problems, left_out = problems_json([*warnings, error])
    assert problems[0]["message"] == "the error"
    assert [p["message"] for p in problems[1:3]] == ["warning 0", "warning 1"]
    assert len(problems) == MAX_LISTED_ITEMS
    assert left_out == 51
