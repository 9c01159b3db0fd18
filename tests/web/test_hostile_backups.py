"""Hostile backups in the folder: the app still starts, lists and browses (issue 9)."""

from __future__ import annotations

import asyncio
import json
import math
import time
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from backup_inspector.demo.hostile_tar import (
    IMPOSSIBLE_TIME_NAMES,
    base256_field,
    header_block,
    impossible_times_tar,
    pax_member,
    repeated_members_gzip,
    write_backup_with_inner_archive,
    write_backup_with_inner_tar,
    write_backup_with_outer_tail,
)
from backup_inspector.web.web_settings import WebSettings

from .conftest import ClientFactory
from .serve_process import free_port, get_json_url, start_serve, wait_until_healthy
from .web_helpers import backup_id_named, get_json, list_archive, post_json

TIMES_NAME = "Backup with impossible times"
BUSY_NAME = "Backup of 600 000 headers"


@pytest.mark.timeout(90)
def test_serve_starts_with_negative_sizes_in_the_folder(tmp_path: Path) -> None:
    """3 KB files with negative outer sizes do not keep `serve` from listening (finding 1)."""
    folder = tmp_path / "backup"
    folder.mkdir()
    write_backup_with_outer_tail(
        folder / "base256.tar", header_block("a.tar", size=base256_field(-512))
    )
    write_backup_with_outer_tail(
        folder / "pax.tar", pax_member([("size", "-1536")]) + header_block("a.tar")
    )
    port = free_port()
    process = start_serve(
        "--backup-dir", str(folder),
        "--share-dir", str(tmp_path / "share"),
        "--data-dir", str(tmp_path / "data"),
        "--port", str(port),
    )  # fmt: skip
    try:
        wait_until_healthy(process, port)
        listing = get_json_url(f"http://127.0.0.1:{port}/api/backups")
        assert isinstance(listing, dict)
        assert len(listing["backups"]) == 2
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


async def test_browse_route_serves_impossible_times_as_json(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    """A folder with NaN, Infinity and 2**80 mtimes browses as strict JSON (finding 12)."""
    folder = tmp_path / "backup"
    folder.mkdir()
    write_backup_with_inner_tar(folder / "times.tar", impossible_times_tar(), name=TIMES_NAME)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    client: TestClient = await make_client(
        WebSettings(backup_dir=folder, share_dir=tmp_path, data_dir=data_dir)
    )
    backup_id = await backup_id_named(client, TIMES_NAME)
    await list_archive(client, backup_id, "share")
    response = await client.post(
        f"/api/backups/{backup_id}/browse", json={"archive": "share", "folder": ""}
    )
    assert response.status == 200
    page = json.loads(await response.text(), parse_constant=lambda name: pytest.fail(name))
    times = {row["name"]: row["mtime"] for row in page["entries"]}
    assert set(times) == set(IMPOSSIBLE_TIME_NAMES)
    assert all(math.isfinite(value) for value in times.values())
    search = await post_json(
        client, f"/api/backups/{backup_id}/browse", {"archive": "share", "filter": "txt"}
    )
    assert search["total"] == len(IMPOSSIBLE_TIME_NAMES)


async def app_for_folder(make_client: ClientFactory, tmp_path: Path) -> tuple[TestClient, Path]:
    """The app over an empty backup folder of this test's own; (client, folder)."""
    folder = tmp_path / "backup"
    folder.mkdir()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    settings = WebSettings(backup_dir=folder, share_dir=tmp_path, data_dir=data_dir)
    return await make_client(settings), folder


@pytest.mark.timeout(120)
async def test_cancel_ends_a_listing_job_busy_in_the_parser(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    """Cancelling a listing of 600 000 headers (a few reads of the file) ends it within ~1 s (finding 2)."""
    client, folder = await app_for_folder(make_client, tmp_path)
    write_backup_with_inner_archive(
        folder / "busy.tar", repeated_members_gzip(600_000), compressed=True, name=BUSY_NAME
    )
    backup_id = await backup_id_named(client, BUSY_NAME)
    started = await post_json(client, f"/api/backups/{backup_id}/listing", {"archive": "share"})
    job_id = started["job"]["id"]
    deadline = time.monotonic() + 30
    while (await get_json(client, f"/api/jobs/{job_id}"))["job"]["state"] != "running":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)  # well inside the walk: it takes seconds
    asked = time.monotonic()
    await post_json(client, f"/api/jobs/{job_id}/cancel")
    while (job := (await get_json(client, f"/api/jobs/{job_id}"))["job"])["state"] == "running":
        assert time.monotonic() - asked < 5, "the listing did not stop"
        await asyncio.sleep(0.02)
    assert job["state"] == "cancelled", job
    assert time.monotonic() - asked < 1.5
