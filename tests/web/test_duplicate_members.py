"""Duplicate member names on the page: download, preview and extract all use the last copy."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from backup_inspector.demo.backup_writer import ArchiveSpec, FileSpec, write_backup

from .test_download_routes import backup_id_for_file, ticket_for
from .web_helpers import list_archive, post_json, wait_for_job


def last_copy(entries: list[FileSpec], path: str) -> bytes:
    """The content of the last member called `path`."""
    return [spec.content or b"" for spec in entries if spec.path == path][-1]


@pytest.fixture
def duplicates_file(backup_dir: Path, duplicate_entries: list[FileSpec]) -> str:
    """Write the duplicate-name backup into the backup folder; return its file name."""
    write_backup(backup_dir / "dups.tar", [ArchiveSpec("share", duplicate_entries)])
    return "dups.tar"


@pytest.mark.parametrize("is_listed", [False, True])
async def test_download_sends_the_last_copy_with_its_length(
    client: TestClient, duplicates_file: str, duplicate_entries: list[FileSpec], is_listed: bool
) -> None:
    """Bytes and Content-Length both come from the last copy, listed or not."""
    backup_id = await backup_id_for_file(client, duplicates_file)
    if is_listed:
        await list_archive(client, backup_id, "share")
    ticket = await ticket_for(client, backup_id, "notes/a.txt")
    response = await client.get("/" + ticket["url"])
    body = await response.read()
    assert body == last_copy(duplicate_entries, "notes/a.txt")
    assert response.headers["Content-Length"] == str(len(body))


async def test_preview_shows_the_last_copy(
    client: TestClient, duplicates_file: str, duplicate_entries: list[FileSpec]
) -> None:
    """The preview shows the last copy's text."""
    backup_id = await backup_id_for_file(client, duplicates_file)
    preview = await post_json(
        client, f"/api/backups/{backup_id}/preview", {"archive": "share", "path": "notes/a.txt"}
    )
    assert preview["text"].encode() == last_copy(duplicate_entries, "notes/a.txt")


async def test_extract_writes_the_last_copy(
    client: TestClient, duplicates_file: str, duplicate_entries: list[FileSpec], share_dir: Path
) -> None:
    """The extraction job writes the last copy and skips nothing."""
    backup_id = await backup_id_for_file(client, duplicates_file)
    answer = await post_json(
        client,
        f"/api/backups/{backup_id}/extract",
        {"selections": [{"archive": "share", "paths": ["notes/a.txt"]}], "destination": "dups"},
        status=202,
    )
    job = await wait_for_job(client, answer["job"]["id"])
    report = job["result"]["report"]
    assert report["skipped"] == [] and report["written"] == ["notes/a.txt"]
    assert (share_dir / "dups/notes/a.txt").read_bytes() == last_copy(
        duplicate_entries, "notes/a.txt"
    )


async def test_preview_of_a_link_loop_is_a_clear_refusal(
    client: TestClient, backup_dir: Path
) -> None:
    """Two hard links naming each other give a 422 with a message, not a 500."""
    entries = [
        FileSpec("a", type="hardlink", link_target="b"),
        FileSpec("b", type="hardlink", link_target="a"),
    ]
    write_backup(backup_dir / "loop.tar", [ArchiveSpec("share", entries)])
    backup_id = await backup_id_for_file(client, "loop.tar")
    answer = await post_json(
        client,
        f"/api/backups/{backup_id}/preview",
        {"archive": "share", "path": "b"},
        status=422,
    )
    assert "loop of links" in answer["error"]["message"]
