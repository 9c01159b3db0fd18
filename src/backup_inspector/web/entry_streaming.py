"""Streams one archive member from a worker thread to an HTTP response or a buffer.

The engine pushes member data into a DataSink from a worker thread. For a
download the sink hands pieces to the event loop through a queue and waits
when a few pieces are in flight, so a slow browser slows the reading instead
of filling memory. When the browser goes away the reading is cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backup_inspector.backup_format.tar_entry import DataSink, TarEntry
from backup_inspector.inspection.archive_walk import EntryNotFoundError
from backup_inspector.inspection.backup_overview import BackupOverview
from backup_inspector.inspection.extract_job import ReadEntryError, read_entry
from backup_inspector.inspection.progress import CancelToken, JobCancelledError
from backup_inspector.web.api_errors import ApiError
from backup_inspector.web.engine_errors import api_error_for, job_failure_for

_LOGGER: logging.Logger = logging.getLogger(__name__)

PIECES_IN_FLIGHT = 4
SLOT_WAIT_S = 0.25


def api_error_for_read_failure(error: BaseException, backup_path: Path) -> ApiError:
    """The API error that explains why one member could not be read."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, EntryNotFoundError):
        return ApiError(
            404, "entry-not-found", "That file is not in the archive (or is not a file)."
        )
    if isinstance(error, ReadEntryError):
        return ApiError(422, "archive-unreadable", str(error))
    if isinstance(error, OSError):
        return api_error_for(job_failure_for(error, backup_path))
    _LOGGER.error("Reading a file from %s failed", backup_path.name, exc_info=error)
    return ApiError(500, "internal-error", "Reading this file failed unexpectedly.")


class QueueSink(DataSink):
    """A DataSink that forwards pieces to an asyncio queue with back-pressure."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[tuple[str, Any]],
        cancel: CancelToken,
    ) -> None:
        self._loop = loop
        self._queue = queue
        self._cancel = cancel
        self._slots = threading.Semaphore(PIECES_IN_FLIGHT)

    def put(self, kind: str, value: Any = None) -> None:
        """Queue an event for the event loop (from the worker thread)."""
        self._loop.call_soon_threadsafe(self._queue.put_nowait, (kind, value))

    def write(self, data: bytes | memoryview) -> None:
        """Wait for a free slot (or a cancel), then hand the piece over."""
        piece = bytes(data)
        while not self._slots.acquire(timeout=SLOT_WAIT_S):
            self._cancel.raise_if_cancelled()
        self._cancel.raise_if_cancelled()
        self.put("data", piece)

    def close(self) -> None:
        """All member data was written."""
        self.put("end")

    def abort(self) -> None:
        """The member will not be completed."""
        self.put("abort")

    def piece_sent(self) -> None:
        """The event loop wrote one piece: free its slot."""
        self._slots.release()


def start_reader_thread(
    overview: BackupOverview,
    archive_name: str,
    path: str,
    password: str | None,
    sink: QueueSink,
    cancel: CancelToken,
    occurs_once: bool | None = None,
) -> threading.Thread:
    """Run read_entry in a daemon thread; its outcome arrives as a "done" or "error" event.

    Before any "data" event comes one "entry" event with the header of the
    member that will be sent (the last copy of its name), so the response
    can announce exactly the length it then sends. `occurs_once` is the
    listing's word on the path (see read_entry).
    """

    def read() -> None:
        """Thread body: stream the member; report its end or failure as one last event."""
        try:
            entry = read_entry(
                overview,
                archive_name,
                path,
                password,
                sink,
                cancel=cancel,
                on_located=lambda located: sink.put("entry", located),
                occurs_once=occurs_once,
            )
        except JobCancelledError:
            sink.put("cancelled")
        except BaseException as error:  # every failure must reach the waiting handler
            sink.put("error", api_error_for_read_failure(error, overview.path))
        else:
            sink.put("done", entry)

    thread = threading.Thread(target=read, name=f"read-{archive_name}", daemon=True)
    thread.start()
    return thread


class PreviewTooLargeError(Exception):
    """The member has more bytes than a preview shows."""


class BufferSink(DataSink):
    """Collects a member's bytes in memory, up to a limit."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._pieces: list[bytes] = []
        self._size = 0

    def write(self, data: bytes | memoryview) -> None:
        """Keep the piece; stop the read when the limit is passed."""
        self._size += len(data)
        if self._size > self._max_bytes:
            raise PreviewTooLargeError
        self._pieces.append(bytes(data))

    def abort(self) -> None:
        """Drop what was collected."""
        self._pieces.clear()

    def content(self) -> bytes:
        """Everything collected."""
        return b"".join(self._pieces)


@dataclass(frozen=True)
class PreviewResult:
    """A member's bytes for a preview, or why there are none."""

    entry: TarEntry | None
    content: bytes
    is_too_large: bool


def read_for_preview(
    overview: BackupOverview,
    archive_name: str,
    path: str,
    password: str | None,
    max_bytes: int,
    cancel: CancelToken,
    occurs_once: bool | None = None,
) -> PreviewResult:
    """Read a member into memory unless it is bigger than `max_bytes` (blocking).

    `occurs_once` is the listing's word on the path (see read_entry).
    """
    sink = BufferSink(max_bytes)
    try:
        entry = read_entry(
            overview, archive_name, path, password, sink, cancel=cancel, occurs_once=occurs_once
        )
    except PreviewTooLargeError:
        return PreviewResult(entry=None, content=b"", is_too_large=True)
    return PreviewResult(entry=entry, content=sink.content(), is_too_large=False)
