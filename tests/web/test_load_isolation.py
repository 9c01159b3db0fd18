"""The API keeps answering while slow work runs, and blocking work uses a bounded number of threads.

The slow work is a test double: the engine call a route makes is replaced by
one that blocks until the test releases it, standing in for a preview of a
hard-link loop or a quick check of a slow disk.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from backup_inspector.inspection.job_runner import DEFAULT_MAX_LIGHT_JOBS
from backup_inspector.web import backup_routes, download_routes
from backup_inspector.web.app_services import SERVICES
from backup_inspector.web.blocking_pools import (
    ARCHIVE_READ_MAX_WAITING,
    ARCHIVE_READ_WORKERS,
    CATALOG_WORKERS,
    MAX_CONCURRENT_DOWNLOADS,
)

from .web_helpers import backup_id_named, wait_for_job

PLAIN_NAME = "Full backup 2026-11-20"
ANSWER_WITHIN_S = 2.0


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at the end of the test so every blocked worker returns."""
    event = threading.Event()
    yield event
    event.set()


def blocking_double(release: threading.Event, started: list[int]) -> Any:
    """An engine call that blocks until `release` is set (at most 30 s), counting its calls."""

    def blocked(*_args: Any, **_kwargs: Any) -> Any:
        started.append(1)
        release.wait(30)
        raise OSError(5, "released by the test")

    return blocked


async def _wait_until_started(started: list[int], count: int) -> None:
    """Wait (up to 10 s) until `count` blocked calls run, and check no more do."""
    deadline = time.monotonic() + 10
    while len(started) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)  # time for one too many to show up
    assert len(started) == count


async def _timed_get(client: TestClient, path: str) -> float:
    """Seconds until GET `path` answered 200."""
    began = time.monotonic()
    response = await asyncio.wait_for(client.get(path), timeout=10)
    assert response.status == 200, await response.text()
    await response.read()
    return time.monotonic() - began


@pytest.mark.timeout(60)
async def test_backup_list_answers_while_previews_are_stuck(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, release: threading.Event
) -> None:
    """Ten stuck previews and a stuck full check: GET /api/backups still answers at once."""
    started: list[int] = []
    monkeypatch.setattr(download_routes, "read_for_preview", blocking_double(release, started))
    monkeypatch.setattr(backup_routes, "full_check", blocking_double(release, started))
    backup_id = await backup_id_named(client, PLAIN_NAME)
    check = await client.post(f"/api/backups/{backup_id}/checks", json={"kind": "full"})
    assert check.status == 202
    preview_body = {"archive": "share", "path": "page.txt"}
    previews = [
        asyncio.create_task(client.post(f"/api/backups/{backup_id}/preview", json=preview_body))
        for _ in range(10)
    ]
    await _wait_until_started(started, ARCHIVE_READ_WORKERS + 1)  # every archive reader stuck
    for path in ("/api/backups", f"/api/backups/{backup_id}", "/api/jobs", "/healthz"):
        assert await _timed_get(client, path) < ANSWER_WITHIN_S, path
    busy = [task for task in previews if task.done()]
    assert len(busy) == 10 - ARCHIVE_READ_WORKERS - ARCHIVE_READ_MAX_WAITING
    for task in busy:
        answer = task.result()
        assert answer.status == 503
        assert (await answer.json())["error"]["code"] == "busy"
    release.set()
    for answer in await asyncio.gather(*previews):
        await answer.read()


@pytest.mark.timeout(60)
async def test_many_quick_checks_use_a_bounded_number_of_threads(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, release: threading.Event
) -> None:
    """300 quick checks at once: at most DEFAULT_MAX_LIGHT_JOBS job threads; the rest queue or get 503."""
    started: list[int] = []
    monkeypatch.setattr(backup_routes, "quick_check", blocking_double(release, started))
    backup_id = await backup_id_named(client, PLAIN_NAME)
    threads_before = threading.active_count()
    statuses: list[int] = []
    accepted: list[str] = []
    for _ in range(300):
        response = await client.post(f"/api/backups/{backup_id}/checks", json={"kind": "quick"})
        body = await response.json()
        statuses.append(response.status)
        if response.status == 202:
            accepted.append(body["job"]["id"])
        else:
            assert body["error"]["code"] == "busy", body
    job_threads = [t for t in threading.enumerate() if t.name.startswith("job-quick-check")]
    assert len(job_threads) <= DEFAULT_MAX_LIGHT_JOBS
    assert threading.active_count() - threads_before <= DEFAULT_MAX_LIGHT_JOBS + 2
    assert set(statuses) == {202, 503}
    assert await _timed_get(client, "/api/backups") < ANSWER_WITHIN_S
    release.set()
    finished = await wait_for_job(client, accepted[-1])
    assert finished["state"] == "failed"  # the double raises once released


@pytest.mark.timeout(60)
async def test_backup_list_answers_while_catalog_work_is_stuck(
    client: TestClient, release: threading.Event
) -> None:
    """Every catalog worker stuck (slow searches of a huge saved list): the folder list still answers."""
    services = client.app[SERVICES]
    started: list[int] = []
    stuck = [
        asyncio.create_task(services.run_blocking(blocking_double(release, started)))
        for _ in range(CATALOG_WORKERS + 4)
    ]
    await _wait_until_started(started, CATALOG_WORKERS)
    assert await _timed_get(client, "/api/backups") < ANSWER_WITHIN_S
    release.set()
    outcomes = await asyncio.gather(*stuck, return_exceptions=True)
    assert all(isinstance(outcome, OSError) for outcome in outcomes)


@pytest.mark.timeout(60)
async def test_downloads_beyond_the_bound_get_busy(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, release: threading.Event
) -> None:
    """With MAX_CONCURRENT_DOWNLOADS downloads streaming, one more gets 503 busy, not a thread."""

    def slow_reader(*args: Any) -> threading.Thread:
        sink = args[4]
        thread = threading.Thread(target=lambda: (release.wait(30), sink.put("done", None)))
        thread.start()
        return thread

    monkeypatch.setattr(download_routes, "start_reader_thread", slow_reader)
    backup_id = await backup_id_named(client, PLAIN_NAME)
    file_body = {"archive": "share", "path": "page.txt"}

    async def ticket_url() -> str:
        answer = await client.post(f"/api/backups/{backup_id}/download", json=file_body)
        assert answer.status == 200
        return "/" + (await answer.json())["url"]

    downloads = [
        asyncio.create_task(client.get(await ticket_url())) for _ in range(MAX_CONCURRENT_DOWNLOADS)
    ]
    services = client.app[SERVICES]
    deadline = time.monotonic() + 10
    while services.downloads.held < MAX_CONCURRENT_DOWNLOADS and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    one_more = await client.get(await ticket_url())
    assert one_more.status == 503
    assert (await one_more.json())["error"]["code"] == "busy"
    assert await _timed_get(client, "/api/backups") < ANSWER_WITHIN_S
    release.set()
    for answer in await asyncio.gather(*downloads):
        assert answer.status == 200
        await answer.read()
    assert services.downloads.held == 0
