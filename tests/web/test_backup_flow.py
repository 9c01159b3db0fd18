"""The whole journey: list → unlock → full check → browse → extract → download → preview."""

from __future__ import annotations

import tarfile
from pathlib import Path

from aiohttp.test_utils import TestClient

from backup_inspector.demo.backup_writer import ArchiveSpec, write_backup
from backup_inspector.demo.demo_backups import DEMO_PASSWORD

from .web_helpers import (
    ResponseRecorder,
    backup_id_named,
    get_json,
    list_archive,
    post_json,
    wait_for_job,
)

ENCRYPTED_NAME = "Automatic backup 2026.11.2"
CONFIG_PATH = "data/configuration.yaml"


def homeassistant_member_bytes(backup_file: Path, member_path: str) -> bytes:
    """The bytes of a file inside homeassistant.tar.gz of an UNENCRYPTED demo backup (reference)."""
    with tarfile.open(backup_file) as outer:
        inner_file = outer.extractfile("homeassistant.tar.gz")
        assert inner_file is not None
        with tarfile.open(fileobj=inner_file, mode="r:gz") as inner:
            for member in inner.getmembers():
                if member.name.lstrip("./") == member_path:
                    extracted = inner.extractfile(member)
                    assert extracted is not None
                    return extracted.read()
    raise AssertionError(f"{member_path} not in the reference backup")


async def test_list_unlock_check_browse_extract_download_preview(
    client: TestClient, backup_dir: Path, share_dir: Path
) -> None:
    """An encrypted backup goes through every step, and the extracted file is byte-identical."""
    recorder = ResponseRecorder()
    listing = await get_json(client, "/api/backups", recorder=recorder)
    names = [backup["name"] for backup in listing["backups"]]
    assert names[0] == ENCRYPTED_NAME  # newest first
    backup_id = await backup_id_named(client, ENCRYPTED_NAME)

    detail = await get_json(client, f"/api/backups/{backup_id}", recorder=recorder)
    assert detail["is_protected"] is True
    assert detail["password"] == {"is_set": False, "is_verified": False, "forgotten_in_s": None}
    assert {archive["encryption"] for archive in detail["archives"]} == {"securetar-v3"}

    unlocked = await post_json(
        client, f"/api/backups/{backup_id}/password", {"password": DEMO_PASSWORD}, recorder=recorder
    )
    assert unlocked["password"]["is_set"] is True
    assert unlocked["password"]["is_verified"] is True
    assert unlocked["check"]["verdict"]["level"] == "partial"

    started = await post_json(
        client, f"/api/backups/{backup_id}/checks", {"kind": "full"}, status=202, recorder=recorder
    )
    job = await wait_for_job(client, started["job"]["id"], recorder=recorder)
    assert job["state"] == "succeeded", job
    assert job["result"]["verdict"]["level"] == "ok"
    assert job["result"]["report"]["ok"] is True
    assert job["progress"]["percent"] == 100.0

    await list_archive(client, backup_id, "homeassistant", recorder=recorder)
    page = await post_json(
        client,
        f"/api/backups/{backup_id}/browse",
        {"archive": "homeassistant", "folder": "data"},
        recorder=recorder,
    )
    rows = {row["path"]: row for row in page["entries"]}
    assert CONFIG_PATH in rows
    assert rows[CONFIG_PATH]["type"] == "file"
    assert [crumb["name"] for crumb in page["breadcrumbs"]] == ["homeassistant.tar.gz", "data"]

    extract = await post_json(
        client,
        f"/api/backups/{backup_id}/extract",
        {"selections": [{"archive": "homeassistant", "paths": [CONFIG_PATH]}]},
        status=202,
        recorder=recorder,
    )
    assert extract["plan"]["needed_bytes"] == rows[CONFIG_PATH]["size"]
    extract_job = await wait_for_job(client, extract["job"]["id"], recorder=recorder)
    assert extract_job["state"] == "succeeded", extract_job
    destination = share_dir / "backup_inspector" / ENCRYPTED_NAME
    assert extract_job["result"]["destination"] == f"backup_inspector/{ENCRYPTED_NAME}"
    extracted = (destination / CONFIG_PATH).read_bytes()
    plain_backup = next(backup_dir.glob("Full_backup_2026-11-20*.tar"))
    assert extracted == homeassistant_member_bytes(plain_backup, CONFIG_PATH)

    ticket = await post_json(
        client,
        f"/api/backups/{backup_id}/download",
        {"archive": "homeassistant", "path": CONFIG_PATH},
        recorder=recorder,
    )
    assert not ticket["url"].startswith("/")
    download = await client.get("/" + ticket["url"])
    assert download.status == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "configuration.yaml" in download.headers["Content-Disposition"]
    assert await download.read() == extracted

    preview = await post_json(
        client,
        f"/api/backups/{backup_id}/preview",
        {"archive": "homeassistant", "path": CONFIG_PATH},
        recorder=recorder,
    )
    assert preview["text"].encode() == extracted
    assert preview["line_count"] == extracted.decode().count("\n")

    assert not recorder.contains(DEMO_PASSWORD)


async def test_password_never_sent_back(client: TestClient) -> None:
    """No response body ever contains the password, whatever endpoint is asked."""
    recorder = ResponseRecorder()
    backup_id = await backup_id_named(client, ENCRYPTED_NAME)
    await post_json(
        client, f"/api/backups/{backup_id}/password", {"password": DEMO_PASSWORD}, recorder=recorder
    )
    await get_json(client, "/api/backups", recorder=recorder)
    await get_json(client, f"/api/backups/{backup_id}", recorder=recorder)
    started = await post_json(
        client, f"/api/backups/{backup_id}/checks", {"kind": "quick"}, status=202, recorder=recorder
    )
    await wait_for_job(client, started["job"]["id"], recorder=recorder)
    await get_json(client, "/api/jobs", recorder=recorder)
    await get_json(client, "/api/info", recorder=recorder)
    await list_archive(client, backup_id, "share", recorder=recorder)
    await post_json(
        client, f"/api/backups/{backup_id}/browse", {"archive": "share"}, recorder=recorder
    )
    assert recorder.bodies
    assert not recorder.contains(DEMO_PASSWORD)


async def test_wrong_password_is_refused_and_not_kept(client: TestClient) -> None:
    """A wrong password gets a plain 400 and nothing is stored."""
    backup_id = await backup_id_named(client, ENCRYPTED_NAME)
    answer = await post_json(
        client, f"/api/backups/{backup_id}/password", {"password": "not-it"}, status=400
    )
    assert answer["error"]["code"] == "wrong-password"
    assert "does not open" in answer["error"]["message"]
    detail = await get_json(client, f"/api/backups/{backup_id}")
    assert detail["password"]["is_set"] is False
    refused = await post_json(
        client, f"/api/backups/{backup_id}/listing", {"archive": "share"}, status=409
    )
    assert refused["error"]["code"] == "password-required"


async def test_emergency_kit_text_unlocks(client: TestClient, backup_dir: Path) -> None:
    """An uploaded emergency kit is parsed in memory and its key used as the password."""
    key = "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ01"
    write_backup(
        backup_dir / "kit-protected.tar",
        [ArchiveSpec("share", {"note.txt": b"hello"}, encryption="v2")],
        password=key,
    )
    listing = await get_json(client, "/api/backups")
    backup_id = next(b["id"] for b in listing["backups"] if b["file_name"] == "kit-protected.tar")
    kit = (
        "Home Assistant backup emergency kit\n\nKeep this safe.\n\n"
        f"Encryption key:\n{key}\n\nGenerated 2026-11-20\n"
    )
    answer = await post_json(client, f"/api/backups/{backup_id}/password", {"kit_text": kit})
    assert answer["password"]["is_verified"] is True
    empty = await post_json(
        client, f"/api/backups/{backup_id}/password", {"kit_text": "no key here"}, status=400
    )
    assert empty["error"]["code"] == "no-key-in-kit"
    forgotten = await post_json(client, f"/api/backups/{backup_id}/password/forget", {})
    assert forgotten["password"]["is_set"] is False
