"""One file to the browser: streamed downloads behind single-use tickets, and text previews."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from backup_inspector.demo.backup_writer import (
    ArchiveSpec,
    FileSpec,
    member_location,
    random_content,
    truncate_file,
    write_backup,
)

from .web_helpers import backup_id_named, get_json, list_archive, post_json

BIG_SIZE = 3 * 1024 * 1024 + 17


def write_test_backup(
    backup_dir: Path, name: str = "files.tar", *, compressed: bool = True
) -> Path:
    """A backup with a big random file, a non-ASCII name, HTML-looking text and a large text."""
    entries = [
        FileSpec("big.bin", size=BIG_SIZE, generator=random_content("big")),
        FileSpec("Küche «notes».txt", content="Grüße\n".encode()),
        FileSpec("page.txt", content=b"<script>alert(1)</script>\n&amp;\n"),
        FileSpec("huge.log", size=5 * 1024 * 1024, content=None),
        FileSpec("folder", type="dir"),
        FileSpec("folder/inside.txt", content=b"inside\n"),
    ]
    return write_backup(backup_dir / name, [ArchiveSpec("share", entries, compressed=compressed)])


async def backup_id_for_file(client: TestClient, file_name: str) -> str:
    """The id of the backup stored as `file_name`."""
    listing = await get_json(client, "/api/backups")
    return next(b["id"] for b in listing["backups"] if b["file_name"] == file_name)


async def ticket_for(
    client: TestClient, backup_id: str, path: str, *, status: int = 200
) -> dict[str, Any]:
    """Ask for a download ticket."""
    return await post_json(
        client,
        f"/api/backups/{backup_id}/download",
        {"archive": "share", "path": path},
        status=status,
    )


def expected_big_bytes() -> bytes:
    """What big.bin holds."""
    spec = FileSpec("big.bin", size=BIG_SIZE, generator=random_content("big"))
    with spec.open_content() as content:
        return content.read()


async def test_big_file_streams_and_ticket_is_single_use(
    client: TestClient, backup_dir: Path
) -> None:
    """A multi-MB file streams byte-identical; its ticket works once; the path is not in the URL."""
    write_test_backup(backup_dir)
    backup_id = await backup_id_for_file(client, "files.tar")
    ticket = await ticket_for(client, backup_id, "big.bin")
    assert "big" not in ticket["url"]
    response = await client.get("/" + ticket["url"])
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"big.bin\"; filename*=UTF-8''big.bin"
    )
    assert await response.read() == expected_big_bytes()
    again = await client.get("/" + ticket["url"])
    assert again.status == 404
    assert (await again.json())["error"]["code"] == "download-expired"


async def test_listed_file_has_a_content_length(client: TestClient, backup_dir: Path) -> None:
    """Once the archive is listed the size is known and sent, so the browser shows progress."""
    write_test_backup(backup_dir)
    backup_id = await backup_id_for_file(client, "files.tar")
    await list_archive(client, backup_id, "share")
    ticket = await ticket_for(client, backup_id, "big.bin")
    response = await client.get("/" + ticket["url"])
    assert response.headers["Content-Length"] == str(BIG_SIZE)
    assert len(await response.read()) == BIG_SIZE


async def test_non_ascii_file_name(client: TestClient, backup_dir: Path) -> None:
    """Non-ASCII names get an ASCII fallback plus the exact UTF-8 name."""
    write_test_backup(backup_dir)
    backup_id = await backup_id_for_file(client, "files.tar")
    ticket = await ticket_for(client, backup_id, "Küche «notes».txt")
    response = await client.get("/" + ticket["url"])
    disposition = response.headers["Content-Disposition"]
    assert "filename*=UTF-8''K%C3%BCche%20%C2%ABnotes%C2%BB.txt" in disposition
    assert disposition.encode("ascii")
    assert await response.read() == "Grüße\n".encode()


async def test_download_errors(client: TestClient, backup_dir: Path) -> None:
    """Folders cannot be downloaded, missing files are 404, unknown tickets are 404."""
    write_test_backup(backup_dir)
    backup_id = await backup_id_for_file(client, "files.tar")
    missing = await ticket_for(client, backup_id, "not/there.txt")
    response = await client.get("/" + missing["url"])
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "entry-not-found"
    await list_archive(client, backup_id, "share")
    folder = await ticket_for(client, backup_id, "folder", status=400)
    assert folder["error"]["code"] == "not-a-file"
    bogus = await client.get("/api/downloads/not-a-ticket")
    assert bogus.status == 404
    dot_dot = await ticket_for(client, backup_id, "../x", status=400)
    assert dot_dot["error"]["code"] == "bad-path"


async def test_download_cut_short_fails_visibly(client: TestClient, backup_dir: Path) -> None:
    """When the backup ends inside the file, the download breaks instead of looking complete."""
    path = write_test_backup(backup_dir, "cut.tar", compressed=False)
    offset, _size = member_location(path, "share.tar")
    truncate_file(path, offset + BIG_SIZE // 2)
    backup_id = await backup_id_for_file(client, "cut.tar")
    ticket = await ticket_for(client, backup_id, "big.bin")
    response = await client.get("/" + ticket["url"])
    assert response.status == 200
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()


async def test_preview_text_and_refusals(client: TestClient, backup_dir: Path) -> None:
    """Text comes back as is (the page escapes it); binary and huge files are refused."""
    write_test_backup(backup_dir)
    backup_id = await backup_id_for_file(client, "files.tar")
    preview = await post_json(
        client, f"/api/backups/{backup_id}/preview", {"archive": "share", "path": "page.txt"}
    )
    assert preview["text"] == "<script>alert(1)</script>\n&amp;\n"
    assert preview["line_count"] == 2
    binary = await post_json(
        client,
        f"/api/backups/{backup_id}/preview",
        {"archive": "share", "path": "big.bin"},
        status=415,
    )
    assert binary["error"]["code"] == "preview-binary"
    huge = await post_json(
        client,
        f"/api/backups/{backup_id}/preview",
        {"archive": "share", "path": "huge.log"},
        status=413,
    )
    assert "too large" in huge["error"]["message"]


async def test_preview_of_a_database_is_refused(client: TestClient) -> None:
    """A database is not shown as text."""
    backup_id = await backup_id_named(client, "Full backup 2026-11-20")
    answer = await post_json(
        client,
        f"/api/backups/{backup_id}/preview",
        {"archive": "homeassistant", "path": "data/home-assistant_v2.db"},
        status=415,
    )
    assert answer["error"]["code"] == "preview-binary"


async def test_browser_cancelling_a_download_stops_the_reading(
    client: TestClient, backup_dir: Path
) -> None:
    """When the browser drops a download, the worker thread that reads the backup stops."""
    huge = FileSpec("huge.bin", size=48 * 1024 * 1024, generator=random_content("huge"))
    write_backup(backup_dir / "huge.tar", [ArchiveSpec("share", [huge], compressed=False)])
    backup_id = await backup_id_for_file(client, "huge.tar")
    ticket = await ticket_for(client, backup_id, "huge.bin")
    response = await client.get("/" + ticket["url"])
    await response.content.read(64 * 1024)
    assert any(thread.name == "read-share" for thread in threading.enumerate())
    response.close()
    deadline = time.monotonic() + 10
    while any(thread.name == "read-share" for thread in threading.enumerate()):
        assert time.monotonic() < deadline, "the reader thread kept running"
        await asyncio.sleep(0.05)
