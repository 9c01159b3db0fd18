"""Bounded thread pools for the blocking work that requests do, kept apart by weight.

Listing the backup folder must answer while files are read: four previews of
a backup with a hard-link loop once took every thread of the one shared pool,
and `GET /api/backups` stopped answering. So work that reads inside an archive
(a preview, a password's quick check) runs in its own small pool, the
catalog work (saved file lists, search, extract plans) in another, and the
folder scan that every request starts with in a third, so that
`GET /api/backups` never waits behind any of them. Each pool also bounds how many calls may wait for it: past that, a
request gets a 503 "busy" at once instead of piling up behind the others.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from backup_inspector.web.api_errors import ApiError

ResultT = TypeVar("ResultT")

CATALOG_WORKERS = 4  # folder scans, saved file lists, search, extract plans
CATALOG_MAX_WAITING = 64
ARCHIVE_READ_WORKERS = 2  # previews and password checks: each reads inside an archive
ARCHIVE_READ_MAX_WAITING = 6
FOLDER_SCAN_MAX_WAITING = 64  # one worker: scans take the registry's lock one at a time anyway
MAX_CONCURRENT_DOWNLOADS = 8  # each streams from a reader thread of its own


class BlockingPool:
    """A fixed number of worker threads, and a bound on the calls that wait for one.

    Used from the event loop only, so the count of calls in flight needs no lock.
    """

    def __init__(self, name: str, workers: int, max_waiting: int, busy_message: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._max_in_flight = workers + max_waiting
        self._in_flight = 0
        self._busy_message = busy_message

    @property
    def in_flight(self) -> int:
        """Calls running or waiting now."""
        return self._in_flight

    async def run(self, function: Callable[..., ResultT], *args: Any) -> ResultT:
        """Run `function(*args)` in a worker thread; a 503 ApiError when the pool is full."""
        if self._in_flight >= self._max_in_flight:
            raise ApiError(503, "busy", self._busy_message)
        self._in_flight += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, functools.partial(function, *args))
        finally:
            self._in_flight -= 1

    def shutdown(self) -> None:
        """Stop taking work; calls not yet started are dropped."""
        self._executor.shutdown(wait=False, cancel_futures=True)


class ConcurrencyLimit:
    """At most `limit` holders at once; one more gets a 503 "busy" at once.

    For work that brings its own thread (a download streams from a reader
    thread of its own) and must not wait in a queue: the browser would time out.
    """

    def __init__(self, limit: int, busy_message: str) -> None:
        self._limit = limit
        self._held = 0
        self._busy_message = busy_message

    @property
    def held(self) -> int:
        """How many hold a slot now."""
        return self._held

    def take(self) -> Callable[[], None]:
        """Take a slot (event loop only); returns the function that gives it back once."""
        if self._held >= self._limit:
            raise ApiError(503, "busy", self._busy_message)
        self._held += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._held -= 1

        return release


def folder_scan_pool() -> BlockingPool:
    """The pool for the folder scan, so the backup list never waits behind other work."""
    return BlockingPool(
        "web-folder-scan",
        1,
        FOLDER_SCAN_MAX_WAITING,
        "Backup Inspector is busy reading the backup folder; try again in a moment.",
    )


def download_limit() -> ConcurrencyLimit:
    """The bound on downloads streaming at once."""
    return ConcurrencyLimit(
        MAX_CONCURRENT_DOWNLOADS,
        f"{MAX_CONCURRENT_DOWNLOADS} downloads are already running; "
        "try again when one has finished.",
    )


def catalog_pool() -> BlockingPool:
    """The pool for catalog work: saved file lists, search, extract plans."""
    return BlockingPool(
        "web-catalog",
        CATALOG_WORKERS,
        CATALOG_MAX_WAITING,
        "Backup Inspector is busy answering other requests; try again in a moment.",
    )


def archive_read_pool() -> BlockingPool:
    """The pool for requests that read inside an archive: previews and password checks."""
    return BlockingPool(
        "web-archive-read",
        ARCHIVE_READ_WORKERS,
        ARCHIVE_READ_MAX_WAITING,
        "Backup Inspector is busy reading other files; try again in a moment.",
    )
