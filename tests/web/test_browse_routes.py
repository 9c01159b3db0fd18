"""Browsing: listings fill while the archive streams, pages stay small at 100 000 entries."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from backup_inspector.backup_format.tar_entry import EntryType, TarEntry
from backup_inspector.demo.backup_writer import ArchiveSpec, write_backup
from backup_inspector.inspection.archive_index import ArchiveIndex
from backup_inspector.inspection.check_job import ArchiveCheck
from backup_inspector.web import browse_routes
from backup_inspector.web.app_services import SERVICES

from .web_helpers import backup_id_named, get_json, list_archive, post_json, wait_for_job

PLAIN_NAME = "Full backup 2026-11-20"
MTIME = 1_790_000_000.0


def file_entry(path: str, size: int = 10) -> TarEntry:
    """A regular-file entry."""
    return TarEntry(path, path, EntryType.FILE, size, MTIME, 0o644)


def dir_entry(path: str) -> TarEntry:
    """A directory entry."""
    return TarEntry(path, path, EntryType.DIR, 0, MTIME, 0o755)


async def browse(client: TestClient, backup_id: str, **body: Any) -> dict[str, Any]:
    """POST browse and return the page."""
    return await post_json(client, f"/api/backups/{backup_id}/browse", body)


class SteppedListing:
    """A stand-in for list_entries that reads the first half, then waits to be released."""

    def __init__(self, entries: list[TarEntry]) -> None:
        self.entries = entries
        self.half_read = threading.Event()
        self.release = threading.Event()

    def __call__(
        self, overview: Any, archive_name: str, password: Any, on_entry: Any, **kwargs: Any
    ) -> ArchiveCheck:
        half = len(self.entries) // 2
        for entry in self.entries[:half]:
            on_entry(entry)
        self.half_read.set()
        assert self.release.wait(10)
        for entry in self.entries[half:]:
            on_entry(entry)
        archive = overview.find_archive(archive_name)
        return ArchiveCheck(archive=archive, entries=len(self.entries), bytes=0)


async def test_entries_show_while_the_archive_streams(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries read so far can be browsed before the listing is complete."""
    entries = [dir_entry("data")] + [file_entry(f"data/file{n:03}.yaml") for n in range(99)]
    stepped = SteppedListing(entries)
    monkeypatch.setattr(browse_routes, "list_entries", stepped)
    backup_id = await backup_id_named(client, PLAIN_NAME)
    started = await post_json(
        client, f"/api/backups/{backup_id}/listing", {"archive": "homeassistant"}
    )
    assert started["listing"]["is_complete"] is False
    deadline = time.monotonic() + 10
    while not stepped.half_read.is_set():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    partial = await browse(client, backup_id, archive="homeassistant", folder="data")
    assert partial["listing"]["is_complete"] is False
    assert partial["total"] == 49
    stepped.release.set()
    await wait_for_job(client, started["job"]["id"])
    complete = await browse(client, backup_id, archive="homeassistant", folder="data")
    assert complete["listing"]["is_complete"] is True
    assert complete["total"] == 99


async def test_hundred_thousand_entries_are_paged(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """100 000 entries in one folder come a page at a time, quickly, with the right total."""
    entries = [dir_entry("big")] + [file_entry(f"big/f{n:06}.log", 3) for n in range(100_000)]
    stepped = SteppedListing(entries)
    stepped.release.set()
    monkeypatch.setattr(browse_routes, "list_entries", stepped)
    backup_id = await backup_id_named(client, PLAIN_NAME)
    started = await post_json(
        client, f"/api/backups/{backup_id}/listing", {"archive": "homeassistant"}
    )
    await wait_for_job(client, started["job"]["id"])
    first = await browse(client, backup_id, archive="homeassistant", folder="big")
    assert first["total"] == 100_000
    assert len(first["entries"]) == 200
    began = time.monotonic()
    last = await browse(
        client, backup_id, archive="homeassistant", folder="big", offset=99_900, limit=1000
    )
    assert time.monotonic() - began < 2.0
    assert [row["name"] for row in last["entries"]][-1] == "f099999.log"
    assert len(last["entries"]) == 100
    root = await browse(client, backup_id, archive="homeassistant")
    assert root["entries"][0]["path"] == "big"
    assert root["entries"][0]["file_count"] == 100_000
    assert root["entries"][0]["size"] == 300_000
    found = await browse(client, backup_id, archive="homeassistant", filter="f05000")
    assert found["total"] == 10
    too_big = await post_json(
        client,
        f"/api/backups/{backup_id}/browse",
        {"archive": "homeassistant", "limit": 100_000},
        status=400,
    )
    assert "limit" in too_big["error"]["message"]


async def test_real_listing_folders_sizes_and_filter(client: TestClient) -> None:
    """A real archive lists with folders first, sizes, breadcrumbs and a name filter."""
    backup_id = await backup_id_named(client, PLAIN_NAME)
    await list_archive(client, backup_id, "homeassistant")
    root = await browse(client, backup_id, archive="homeassistant")
    assert root["breadcrumbs"] == [{"name": "homeassistant.tar.gz", "folder": ""}]
    types = [row["type"] for row in root["entries"]]
    assert types == sorted(types, key=lambda kind: kind != "dir")
    data = await browse(client, backup_id, archive="homeassistant", folder="data")
    storage = next(row for row in data["entries"] if row["name"] == ".storage")
    assert storage["type"] == "dir"
    assert storage["size"] > 0
    found = await browse(client, backup_id, archive="homeassistant", filter="CONFIGURATION")
    assert [row["path"] for row in found["entries"]] == ["data/configuration.yaml"]
    missing = await post_json(
        client,
        f"/api/backups/{backup_id}/browse",
        {"archive": "homeassistant", "folder": "nowhere"},
        status=404,
    )
    assert missing["error"]["code"] == "unknown-folder"


async def test_browse_errors(client: TestClient) -> None:
    """Unknown archives are 404, an archive not yet opened is 409, '..' is 400."""
    backup_id = await backup_id_named(client, PLAIN_NAME)
    unknown = await post_json(
        client, f"/api/backups/{backup_id}/listing", {"archive": "nothing"}, status=404
    )
    assert unknown["error"]["code"] == "unknown-archive"
    not_listed = await post_json(
        client, f"/api/backups/{backup_id}/browse", {"archive": "ssl"}, status=409
    )
    assert not_listed["error"]["code"] == "not-listed"
    escape = await post_json(
        client,
        f"/api/backups/{backup_id}/browse",
        {"archive": "ssl", "folder": "../.."},
        status=400,
    )
    assert escape["error"]["code"] == "bad-path"


async def test_damaged_archive_lists_what_is_intact(client: TestClient) -> None:
    """The damaged demo archive lists its entries and reports the damage."""
    backup_id = await backup_id_named(client, "Partial backup 2026-11-18")
    await list_archive(client, backup_id, "share")
    page = await browse(client, backup_id, archive="share")
    assert page["total"] > 0
    problems = page["listing"]["result"]["problems"]
    assert [problem["code"] for problem in problems] == ["archive-corrupt"]


async def test_listing_is_cached_for_the_session(client: TestClient) -> None:
    """Opening an archive again reuses its listing instead of reading it again."""
    backup_id = await backup_id_named(client, PLAIN_NAME)
    await list_archive(client, backup_id, "ssl")
    again = await post_json(client, f"/api/backups/{backup_id}/listing", {"archive": "ssl"})
    assert again["job"] is None
    assert again["listing"]["is_complete"] is True
    jobs = await get_json(client, f"/api/jobs?backup={backup_id}")
    assert [job["kind"] for job in jobs["jobs"]] == ["listing"]


async def test_listing_that_ends_before_its_submit_returns_is_not_left_running(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listing finished before the route recorded its job id still ends complete, no job."""
    jobs = client.app[SERVICES].jobs
    submit = jobs.submit

    def slow_submit(*args: Any, **kwargs: Any) -> Any:
        job = submit(*args, **kwargs)
        deadline = time.monotonic() + 1.0  # a loaded machine: the worker runs first
        while time.monotonic() < deadline:
            if (jobs.snapshot(job.job_id) or {}).get("state") not in ("queued", "running"):
                break
            time.sleep(0.01)
        return job

    monkeypatch.setattr(jobs, "submit", slow_submit)
    backup_id = await backup_id_named(client, PLAIN_NAME)
    await list_archive(client, backup_id, "ssl")
    again = await post_json(client, f"/api/backups/{backup_id}/listing", {"archive": "ssl"})
    assert again["job"] is None
    assert again["listing"]["is_complete"] is True


async def test_folder_scan_racing_a_listing_keeps_it(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan that reports a backup as new or changed drops only listings of older versions.

    The folder watch and a request can both rescan; the one that first sees a
    backup reports it as changed, possibly while the other already lists the
    current version. That listing must survive and be saved (this flaked under load).
    """
    backup_id = await backup_id_named(client, PLAIN_NAME)
    release = threading.Event()
    real_list_entries = browse_routes.list_entries

    def held_list_entries(*args: Any, **kwargs: Any) -> ArchiveCheck:
        assert release.wait(timeout=10)
        return real_list_entries(*args, **kwargs)

    monkeypatch.setattr(browse_routes, "list_entries", held_list_entries)
    started = await post_json(client, f"/api/backups/{backup_id}/listing", {"archive": "ssl"})
    services = client.app[SERVICES]
    monkeypatch.setattr(services.registry, "refresh", lambda: {backup_id})
    await services.refresh_backups()
    release.set()
    job = await wait_for_job(client, started["job"]["id"])
    assert job["state"] == "succeeded"
    again = await post_json(client, f"/api/backups/{backup_id}/listing", {"archive": "ssl"})
    assert again["job"] is None
    assert again["listing"]["is_complete"] is True


async def test_replaced_backup_is_listed_afresh(client: TestClient, backup_dir: Path) -> None:
    """When a backup file changes, its old listing is not shown any more."""
    target = backup_dir / "changing.tar"
    write_backup(target, [ArchiveSpec("share", {"old.txt": b"old"})])
    listing = await get_json(client, "/api/backups")
    backup_id = next(b["id"] for b in listing["backups"] if b["file_name"] == "changing.tar")
    await list_archive(client, backup_id, "share")
    old_page = await browse(client, backup_id, archive="share")
    assert [row["name"] for row in old_page["entries"]] == ["old.txt"]
    write_backup(target, [ArchiveSpec("share", {"new.txt": b"new", "more.txt": b"x"})])
    os_stat_bump(target)
    await list_archive(client, backup_id, "share")
    names = [row["name"] for row in (await browse(client, backup_id, archive="share"))["entries"]]
    assert names == ["more.txt", "new.txt"]


def os_stat_bump(path: Path) -> None:
    """Make sure the file's mtime differs from before (coarse file-system clocks)."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_index_paging_and_totals() -> None:
    """The index keeps implied folders, sorts folders first and adds sizes up."""
    index = ArchiveIndex("share")
    index.add(file_entry("b/deep/x.bin", 5))
    index.add(file_entry("a.txt", 7))
    index.add(dir_entry("b"))
    index.add(file_entry("b/y.txt", 1))
    index.add(file_entry("a.txt", 9))  # stored twice: the last one wins
    page = index.folder_page("", 0, 10)
    assert [row["path"] for row in page.rows] == ["b", "a.txt"]
    assert page.rows[0]["size"] == 6
    assert page.rows[1]["size"] == 9
    assert index.selection_size(["b", "b/deep"]) == (6, 2)
    assert index.selection_size(["."]) == (15, 3)
    assert index.folder_page("b/deep", 0, 10).rows[0]["path"] == "b/deep/x.bin"


async def test_full_check_leaves_the_listings_behind(client: TestClient) -> None:
    """After a full check, every archive browses at once: no listing job reads it again."""
    backup_id = await backup_id_named(client, PLAIN_NAME)
    started = await post_json(
        client, f"/api/backups/{backup_id}/checks", {"kind": "full"}, status=202
    )
    check = await wait_for_job(client, started["job"]["id"])
    assert check["state"] == "succeeded"
    detail = await get_json(client, f"/api/backups/{backup_id}")
    for archive in detail["archives"]:
        name = archive["name"]
        listing = await post_json(client, f"/api/backups/{backup_id}/listing", {"archive": name})
        assert listing["job"] is None, f"{name} was listed again"
        assert listing["listing"]["is_complete"] is True
        assert listing["listing"]["result"]["read_to_end"] is True
        page = await post_json(client, f"/api/backups/{backup_id}/browse", {"archive": name})
        assert page["total"] > 0
    jobs = await get_json(client, f"/api/jobs?backup={backup_id}")
    assert [job["kind"] for job in jobs["jobs"]] == ["full-check"]
