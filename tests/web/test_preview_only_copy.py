"""Preview and download stop at a file a complete listing knows as the only copy, also after a restart."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from backup_inspector.demo.backup_writer import (
    ArchiveSpec,
    FileSpec,
    random_content,
    write_backup,
)
from backup_inspector.demo.demo_backups import DEMO_PASSWORD
from backup_inspector.inspection import extract_job
from backup_inspector.web import download_routes
from backup_inspector.web.web_settings import WebSettings

from .conftest import ClientFactory
from .test_download_routes import backup_id_for_file, ticket_for
from .web_helpers import list_archive, post_json

BIG_BYTES = 16 * 1024 * 1024  # incompressible, so the archive is at least this large
# What one walk may read past the member it stops at: 1 MiB raw chunks, and the
# read-ahead thread a few pieces ahead (measured: 2 to 4 MiB).
READ_AHEAD_BYTES = 5 * 1024 * 1024
CONFIGURATION = b"homeassistant:\n  name: Home\n"
LAST_NOTE = b"last copy\n"


@pytest.fixture(scope="module")
def large_backups(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Encryption -> a backup whose "share" starts with small files, then 16 MiB (written once)."""
    folder = tmp_path_factory.mktemp("large-backups")
    entries = [
        FileSpec("configuration.yaml", content=CONFIGURATION),
        FileSpec("notes/a.txt", content=b"first copy of the note, longer than the last\n"),
        FileSpec("notes/a.txt", content=LAST_NOTE),
        FileSpec("big.bin", size=BIG_BYTES, generator=random_content("big")),
    ]
    return {
        encryption: write_backup(
            folder / f"large-{encryption}.tar",
            [ArchiveSpec("share", entries, encryption=encryption)],
            password=None if encryption == "none" else DEMO_PASSWORD,
        )
        for encryption in ("none", "v3")
    }


def put_in_folder(backup_dir: Path, large_backups: dict[str, Path], encryption: str) -> str:
    """Copy one large backup into the backup folder; return its file name."""
    source = large_backups[encryption]
    shutil.copy2(source, backup_dir / source.name)
    return source.name


class ReadMeter:
    """Counts the bytes of the backup file read_entry reads (its walks' progress totals).

    A download's body is complete before its reader thread has ended (the
    Content-Length is reached first), so `readers_done` waits for those threads.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bytes_read = 0
        self._readers: list[threading.Thread] = []
        real_walk = extract_job.walk_archive
        real_start_reader = download_routes.start_reader_thread

        def metered_walk(*args: Any, **kwargs: Any) -> Any:
            outcome = real_walk(*args, **kwargs)
            self.bytes_read = args[4].done  # the ProgressTotals, shared by one read's walks
            return outcome

        def kept_reader(*args: Any, **kwargs: Any) -> threading.Thread:
            thread = real_start_reader(*args, **kwargs)
            self._readers.append(thread)
            return thread

        monkeypatch.setattr(extract_job, "walk_archive", metered_walk)
        monkeypatch.setattr(download_routes, "start_reader_thread", kept_reader)

    async def readers_done(self) -> None:
        """Wait (at most 10 s each) until every download's reader thread has ended."""
        for thread in self._readers:
            await asyncio.to_thread(thread.join, 10)
            assert not thread.is_alive()


@pytest.fixture
def meter(monkeypatch: pytest.MonkeyPatch) -> ReadMeter:
    """Count what previews and downloads read from now on."""
    return ReadMeter(monkeypatch)


async def preview(client: TestClient, backup_id: str, path: str) -> bytes:
    """The previewed text of a file of "share", as bytes."""
    answer = await post_json(
        client, f"/api/backups/{backup_id}/preview", {"archive": "share", "path": path}
    )
    return str(answer["text"]).encode()


async def download(client: TestClient, backup_id: str, path: str) -> bytes:
    """A file of "share" downloaded; its Content-Length must match what was sent."""
    ticket = await ticket_for(client, backup_id, path)
    response = await client.get("/" + ticket["url"])
    body = await response.read()
    assert response.status == 200
    assert response.headers["Content-Length"] == str(len(body))
    return body


async def listed_backup(client: TestClient, backup_dir: Path, large: dict[str, Path]) -> str:
    """The plain large backup in the folder, its "share" listed completely; returns its id."""
    backup_id = await backup_id_for_file(client, put_in_folder(backup_dir, large, "none"))
    await list_archive(client, backup_id, "share")
    return backup_id


async def test_preview_and_download_of_the_only_copy_read_only_up_to_it(
    client: TestClient, backup_dir: Path, large_backups: dict[str, Path], meter: ReadMeter
) -> None:
    """Listed: configuration.yaml at the start is previewed and downloaded without the 16 MiB after it."""
    backup_id = await listed_backup(client, backup_dir, large_backups)
    assert await preview(client, backup_id, "configuration.yaml") == CONFIGURATION
    assert 0 < meter.bytes_read <= READ_AHEAD_BYTES < BIG_BYTES
    meter.bytes_read = 0
    assert await download(client, backup_id, "configuration.yaml") == CONFIGURATION
    await meter.readers_done()
    assert 0 < meter.bytes_read <= READ_AHEAD_BYTES


async def test_without_a_listing_the_preview_reads_to_the_end(
    client: TestClient, backup_dir: Path, large_backups: dict[str, Path], meter: ReadMeter
) -> None:
    """Not listed: nothing says no later copy follows, so the archive is read to its end."""
    name = put_in_folder(backup_dir, large_backups, "none")
    backup_id = await backup_id_for_file(client, name)
    assert await preview(client, backup_id, "configuration.yaml") == CONFIGURATION
    assert meter.bytes_read >= BIG_BYTES


async def test_a_duplicated_path_sends_the_last_copy_with_its_length(
    client: TestClient, backup_dir: Path, large_backups: dict[str, Path], meter: ReadMeter
) -> None:
    """Listed, the note occurs twice: preview and download read to the end and send the last copy."""
    backup_id = await listed_backup(client, backup_dir, large_backups)
    assert await preview(client, backup_id, "notes/a.txt") == LAST_NOTE
    assert meter.bytes_read >= BIG_BYTES
    assert await download(client, backup_id, "notes/a.txt") == LAST_NOTE
    await meter.readers_done()


@pytest.mark.parametrize("encryption", ["none", "v3"], ids=["plain", "sealed"])
async def test_a_restarted_app_still_knows_the_duplicates(
    make_client: ClientFactory,
    settings: WebSettings,
    backup_dir: Path,
    large_backups: dict[str, Path],
    meter: ReadMeter,
    encryption: str,
) -> None:
    """After a restart the saved listing (plain or sealed) still tells the only copy from the duplicate."""
    remembering = dataclasses.replace(settings, remember_index=True)
    name = put_in_folder(backup_dir, large_backups, encryption)
    first = await make_client(remembering)
    backup_id = await backup_id_for_file(first, name)
    await unlock_if_encrypted(first, backup_id, encryption)
    await list_archive(first, backup_id, "share")
    await first.close()

    second = await make_client(remembering)
    await unlock_if_encrypted(second, backup_id, encryption)
    opened = await post_json(second, f"/api/backups/{backup_id}/listing", {"archive": "share"})
    assert opened["job"] is None  # the saved listing answers
    assert await preview(second, backup_id, "configuration.yaml") == CONFIGURATION
    assert 0 < meter.bytes_read <= READ_AHEAD_BYTES
    assert await preview(second, backup_id, "notes/a.txt") == LAST_NOTE
    assert meter.bytes_read >= BIG_BYTES


async def unlock_if_encrypted(client: TestClient, backup_id: str, encryption: str) -> None:
    """Give the app the password of an encrypted large backup."""
    if encryption != "none":
        await post_json(client, f"/api/backups/{backup_id}/password", {"password": DEMO_PASSWORD})
