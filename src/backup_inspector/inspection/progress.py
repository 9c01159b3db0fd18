"""Progress reports and cancellation shared by every long job."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """Where a job is: bytes of the backup file consumed, per archive and overall."""

    archive: str | None
    archive_done_bytes: int
    archive_total_bytes: int
    done_bytes: int
    total_bytes: int
    message: str = ""


ProgressCallback = Callable[[Progress], None]


class JobCancelledError(Exception):
    """Raised inside a job when its CancelToken was cancelled."""


class CancelToken:
    """Thread-safe flag a caller sets to stop a running job at the next chunk."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop."""
        self._event.set()

    @property
    def is_cancelled(self) -> bool:
        """Whether cancel() was called."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise JobCancelledError if cancel() was called."""
        if self._event.is_set():
            raise JobCancelledError("cancelled")
