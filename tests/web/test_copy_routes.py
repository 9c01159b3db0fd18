"""Copies from the page: into the backup folder, checked, the Supervisor told; uploads streamed."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from backup_inspector.demo.demo_backups import DEMO_PASSWORD
from backup_inspector.inspection import copy_job
from backup_inspector.supervisor_client import SUPERVISOR_URL_ENV, TOKEN_ENVIRONMENT_VARIABLE
from inspection.copy_readback import file_sha256, read_back

from .web_helpers import backup_id_named, get_json, post_json, wait_for_job

ENCRYPTED_NAME = "Automatic backup 2026.11.2"
DAMAGED_NAME = "Partial backup 2026-11-18"
PLAIN_NAME = "Full backup 2026-11-20"


async def _copy(client: TestClient, backup_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Start a copy job and wait for it."""
    answer = await post_json(client, f"/api/backups/{backup_id}/copy", payload, status=202)
    return await wait_for_job(client, answer["job"]["id"])


async def _upload(client: TestClient, content: bytes, name: str = "configuration.yaml") -> dict:
    """POST a multipart upload; return the stored upload's JSON."""
    form = aiohttp.FormData()
    form.add_field("file", content, filename=name, content_type="application/octet-stream")
    response = await client.post("/api/uploads", data=form)
    assert response.status == 201, await response.text()
    return (await response.json())["upload"]


def _hashes(folder: Path) -> dict[str, str]:
    return {path.name: file_sha256(path) for path in folder.glob("*.tar")}


async def test_decrypted_copy_lands_in_backup_folder(client, backup_dir: Path):
    """Decrypt from the page: a new *.tar in /backup that tarfile reads, listed; originals untouched."""
    before = _hashes(backup_dir)
    backup_id = await backup_id_named(client, ENCRYPTED_NAME)
    await post_json(client, f"/api/backups/{backup_id}/password", {"password": DEMO_PASSWORD})
    job = await _copy(client, backup_id, {"mode": "decrypt"})
    assert job["state"] == "succeeded", job
    result = job["result"]
    assert result["copy"]["check"]["ok"] is True
    assert result["reload"]["state"] == "not-in-addon"
    copy_path = backup_dir / result["file"]
    back = read_back(copy_path, None)
    assert back.metadata["name"] == f"{ENCRYPTED_NAME} (copy)"
    assert set(back.securetar_versions.values()) == {None}
    assert {name: h for name, h in _hashes(backup_dir).items() if name in before} == before
    listing = await get_json(client, "/api/backups")
    assert any(b["name"] == f"{ENCRYPTED_NAME} (copy)" for b in listing["backups"])
    assert [p.name for p in backup_dir.iterdir() if p.name.endswith(".partial")] == []


async def test_replace_with_an_upload(client, backup_dir: Path):
    """Upload a file (multipart, streamed) and replace it in a copy; the upload is removed after."""
    backup_id = await backup_id_named(client, PLAIN_NAME)
    new_config = b"homeassistant:\n  name: Edited\n"
    upload = await _upload(client, new_config)
    assert upload["size"] == len(new_config)
    job = await _copy(
        client,
        backup_id,
        {
            "name": "Edited config",
            "edits": [
                {
                    "archive": "homeassistant",
                    "path": "data/configuration.yaml",
                    "upload_id": upload["id"],
                }
            ],
        },
    )
    assert job["state"] == "succeeded", job
    back = read_back(backup_dir / job["result"]["file"], None)
    assert back.files("homeassistant")["data/configuration.yaml"] == new_config
    assert back.metadata["name"] == "Edited config"
    answer = await post_json(
        client,
        f"/api/backups/{backup_id}/copy",
        {"edits": [{"archive": "homeassistant", "path": "x", "upload_id": upload["id"]}]},
        status=400,
    )
    assert answer["error"]["code"] == "unknown-upload"


async def test_damaged_archive_fails_unless_dropped(client, backup_dir: Path):
    """The damaged share fails the copy (nothing left); dropping it gives a copy without share."""
    backup_id = await backup_id_named(client, DAMAGED_NAME)
    files_before = sorted(p.name for p in backup_dir.iterdir())
    job = await _copy(client, backup_id, {"mode": "keep"})
    assert job["state"] == "failed" and job["error"]["code"] == "copy-failed"
    assert sorted(p.name for p in backup_dir.iterdir()) == files_before
    job = await _copy(client, backup_id, {"mode": "keep", "drop": ["share"]})
    assert job["state"] == "succeeded", job
    assert job["result"]["copy"]["dropped"][0]["name"] == "share"
    assert "share" not in read_back(backup_dir / job["result"]["file"], None).entries


async def test_password_needed_first(client):
    """An encrypted backup without its password: 409 before any job starts."""
    backup_id = await backup_id_named(client, ENCRYPTED_NAME)
    answer = await post_json(
        client, f"/api/backups/{backup_id}/copy", {"mode": "decrypt"}, status=409
    )
    assert answer["error"]["code"] == "password-required"


async def test_plan_summarises_before_writing(client, backup_dir: Path):
    """The plan names the copy, its encryption and what is dropped, and writes nothing."""
    backup_id = await backup_id_named(client, DAMAGED_NAME)
    before = sorted(p.name for p in backup_dir.iterdir())
    answer = await post_json(
        client,
        f"/api/backups/{backup_id}/copy/plan",
        {"mode": "new-password", "new_password": "secret two", "drop": ["share"]},
    )
    plan = answer["plan"]
    assert plan["name"] == f"{DAMAGED_NAME} (copy)"
    assert plan["encryption"] == "securetar-v3" and plan["drop"] == ["share"]
    assert plan["file"].endswith(".tar") and plan["has_enough_space"] is True
    assert sorted(p.name for p in backup_dir.iterdir()) == before


async def test_multipart_only_on_the_upload_route(client):
    """Other routes still refuse non-JSON bodies (415)."""
    backup_id = await backup_id_named(client, PLAIN_NAME)
    form = aiohttp.FormData()
    form.add_field("file", b"x", filename="x")
    response = await client.post(f"/api/backups/{backup_id}/copy", data=form)
    assert response.status == 415


@pytest.fixture
async def fake_supervisor(aiohttp_server, monkeypatch) -> list[dict[str, str]]:
    """A Supervisor that records POST /backups/reload and its Authorization header."""
    calls: list[dict[str, str]] = []

    async def reload(request: web.Request) -> web.Response:
        calls.append({"auth": request.headers.get("Authorization", "")})
        return web.json_response({"result": "ok", "data": {}})

    app = web.Application()
    app.router.add_post("/backups/reload", reload)
    server: TestServer = await aiohttp_server(app)
    monkeypatch.setenv(SUPERVISOR_URL_ENV, str(server.make_url("")))
    monkeypatch.setenv(TOKEN_ENVIRONMENT_VARIABLE, "token-123")
    return calls


async def test_supervisor_is_asked_to_reload(client, fake_supervisor):
    """After a copy, POST /backups/reload with the add-on's token."""
    backup_id = await backup_id_named(client, PLAIN_NAME)
    job = await _copy(client, backup_id, {"drop": ["share"]})
    assert job["state"] == "succeeded", job
    assert job["result"]["reload"]["state"] == "reloaded"
    assert fake_supervisor == [{"auth": "Bearer token-123"}]


async def test_disk_full_blames_the_backup_folder(client, backup_dir: Path, monkeypatch):
    """ENOSPC while writing: the job fails with "disk-full" naming the backup folder; no partial file."""

    def full_disk(destination: Path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(copy_job, "_open_partial", full_disk)
    backup_id = await backup_id_named(client, PLAIN_NAME)
    files_before = sorted(p.name for p in backup_dir.iterdir())
    job = await _copy(client, backup_id, {"drop": ["share"]})
    assert job["state"] == "failed" and job["error"]["code"] == "disk-full"
    assert "backup folder" in job["error"]["message"]
    assert sorted(p.name for p in backup_dir.iterdir()) == files_before


async def test_unreachable_supervisor_does_not_fail_the_copy(client, monkeypatch):
    """No answer from the Supervisor: the copy still succeeds, and the result says HA lists it later."""
    monkeypatch.setenv(SUPERVISOR_URL_ENV, "http://127.0.0.1:9")  # discard port: refused
    monkeypatch.setenv(TOKEN_ENVIRONMENT_VARIABLE, "token-123")
    backup_id = await backup_id_named(client, PLAIN_NAME)
    job = await _copy(client, backup_id, {"drop": ["ssl"]})
    assert job["state"] == "succeeded", job
    assert job["result"]["reload"]["state"] == "failed"
    assert "next reload" in job["result"]["reload"]["message"]
