"""Listings saved in the data folder: a restarted app browses without reading the archive again."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from backup_inspector.demo.demo_backups import DEMO_PASSWORD
from backup_inspector.web.web_settings import WebSettings

from .conftest import ClientFactory
from .web_helpers import backup_id_named, get_json, list_archive, post_json

PLAIN_NAME = "Full backup 2026-11-20"
ENCRYPTED_NAME = "Automatic backup 2026.11.2"


async def browse(client: TestClient, backup_id: str, **body: Any) -> dict[str, Any]:
    """POST browse and return the page."""
    return await post_json(client, f"/api/backups/{backup_id}/browse", body)


async def pages_of(client: TestClient, backup_id: str, archive: str) -> list[dict[str, Any]]:
    """The root page, every first-level folder's page and a search, without the job fields."""
    root = await browse(client, backup_id, archive=archive)
    pages = [root]
    for row in root["entries"]:
        if row["type"] == "dir":
            pages.append(await browse(client, backup_id, archive=archive, folder=row["path"]))
    pages.append(await browse(client, backup_id, archive=archive, filter="a", limit=50))
    for page in pages:
        page["listing"].pop("job_id")
    return pages


async def listing_jobs(client: TestClient, backup_id: str) -> list[dict[str, Any]]:
    """The listing jobs this app ran for a backup."""
    answer = await get_json(client, f"/api/jobs?backup={backup_id}")
    return [job for job in answer["jobs"] if job["kind"] == "listing"]


async def unlock(client: TestClient, backup_id: str) -> None:
    """Give the app the demo password."""
    await post_json(client, f"/api/backups/{backup_id}/password", {"password": DEMO_PASSWORD})


def index_files(settings: WebSettings) -> list[Path]:
    """The saved listings in the data folder."""
    assert settings.data_dir is not None
    folder = settings.data_dir / "index"
    return sorted(folder.glob("*.index")) if folder.is_dir() else []


async def test_restarted_app_browses_a_plain_backup_without_a_listing_job(
    make_client: ClientFactory, settings: WebSettings
) -> None:
    """After a restart, an archive read before opens complete and pages exactly as before."""
    first = await make_client(settings)
    backup_id = await backup_id_named(first, PLAIN_NAME)
    await list_archive(first, backup_id, "homeassistant")
    before = await pages_of(first, backup_id, "homeassistant")
    await first.close()
    assert len(index_files(settings)) == 1

    second = await make_client(settings)
    opened = await post_json(
        second, f"/api/backups/{backup_id}/listing", {"archive": "homeassistant"}
    )
    assert opened["job"] is None
    assert opened["listing"]["is_complete"] is True
    assert await pages_of(second, backup_id, "homeassistant") == before
    assert await listing_jobs(second, backup_id) == []


async def test_restarted_app_browses_before_opening_the_archive(
    make_client: ClientFactory, settings: WebSettings
) -> None:
    """A page left open across a restart may browse straight away: the saved listing answers."""
    first = await make_client(settings)
    backup_id = await backup_id_named(first, PLAIN_NAME)
    await list_archive(first, backup_id, "ssl")
    before = await browse(first, backup_id, archive="ssl")
    await first.close()

    second = await make_client(settings)
    after = await browse(second, backup_id, archive="ssl")
    before["listing"].pop("job_id")
    after["listing"].pop("job_id")
    assert after == before
    assert await listing_jobs(second, backup_id) == []


async def test_encrypted_listing_is_remembered_sealed_when_asked(
    make_client: ClientFactory, settings: WebSettings
) -> None:
    """With remember_index, an encrypted archive reopens after a restart, with its password only."""
    remembering = dataclasses.replace(settings, remember_index=True)
    first = await make_client(remembering)
    backup_id = await backup_id_named(first, ENCRYPTED_NAME)
    await unlock(first, backup_id)
    await list_archive(first, backup_id, "share")
    before = await pages_of(first, backup_id, "share")
    await first.close()
    (saved,) = index_files(remembering)
    raw = saved.read_bytes()
    names = {row["name"] for page in before for row in page["entries"]}
    assert names
    assert not [name for name in names if name.encode() in raw]
    assert DEMO_PASSWORD.encode() not in raw

    second = await make_client(remembering)
    locked = await post_json(
        second, f"/api/backups/{backup_id}/listing", {"archive": "share"}, status=409
    )
    assert locked["error"]["code"] == "password-required"
    not_listed = await post_json(
        second, f"/api/backups/{backup_id}/browse", {"archive": "share"}, status=409
    )
    assert not_listed["error"]["code"] == "not-listed"
    await unlock(second, backup_id)
    opened = await post_json(second, f"/api/backups/{backup_id}/listing", {"archive": "share"})
    assert opened["job"] is None
    assert await pages_of(second, backup_id, "share") == before
    assert await listing_jobs(second, backup_id) == []

    await post_json(second, f"/api/backups/{backup_id}/password/forget", {})
    forgotten = await post_json(
        second, f"/api/backups/{backup_id}/browse", {"archive": "share"}, status=409
    )
    assert forgotten["error"]["code"] == "not-listed"


async def test_encrypted_listing_stays_in_memory_by_default(
    make_client: ClientFactory, settings: WebSettings
) -> None:
    """Without remember_index nothing of an encrypted backup is written; a restart reads again."""
    first = await make_client(settings)
    backup_id = await backup_id_named(first, ENCRYPTED_NAME)
    await unlock(first, backup_id)
    await list_archive(first, backup_id, "share")
    await first.close()
    assert index_files(settings) == []

    second = await make_client(settings)
    await unlock(second, backup_id)
    opened = await post_json(second, f"/api/backups/{backup_id}/listing", {"archive": "share"})
    assert opened["job"] is not None


async def test_turning_remember_index_off_removes_sealed_listings(
    make_client: ClientFactory, settings: WebSettings
) -> None:
    """After remember_index is turned off, the next start deletes encrypted backups' lists."""
    remembering = dataclasses.replace(settings, remember_index=True)
    first = await make_client(remembering)
    plain_id = await backup_id_named(first, PLAIN_NAME)
    encrypted_id = await backup_id_named(first, ENCRYPTED_NAME)
    await list_archive(first, plain_id, "ssl")
    await unlock(first, encrypted_id)
    await list_archive(first, encrypted_id, "ssl")
    await first.close()
    assert len(index_files(settings)) == 2

    second = await make_client(settings)
    assert len(index_files(settings)) == 1
    opened = await post_json(second, f"/api/backups/{plain_id}/listing", {"archive": "ssl"})
    assert opened["job"] is None


async def test_without_data_folder_listings_live_in_memory(
    make_client: ClientFactory, settings: WebSettings
) -> None:
    """`serve` without a data folder keeps listings for the session only, as before."""
    memory_only = dataclasses.replace(settings, data_dir=None)
    first = await make_client(memory_only)
    backup_id = await backup_id_named(first, PLAIN_NAME)
    await list_archive(first, backup_id, "ssl")
    await first.close()
    assert index_files(settings) == []

    second = await make_client(memory_only)
    opened = await post_json(second, f"/api/backups/{backup_id}/listing", {"archive": "ssl"})
    assert opened["job"] is not None


async def test_damaged_saved_listing_is_read_again(
    make_client: ClientFactory, settings: WebSettings
) -> None:
    """A damaged file in the index folder only means the archive is listed again."""
    first = await make_client(settings)
    backup_id = await backup_id_named(first, PLAIN_NAME)
    await list_archive(first, backup_id, "ssl")
    await first.close()
    (saved,) = index_files(settings)
    saved.write_bytes(b"\0" * 5000)

    second = await make_client(settings)
    await list_archive(second, backup_id, "ssl")
    page = await browse(second, backup_id, archive="ssl")
    assert page["total"] > 0
    assert [job["state"] for job in await listing_jobs(second, backup_id)] == ["succeeded"]
