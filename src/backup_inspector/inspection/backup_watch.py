"""Verify every new or changed backup on its own, one at a time, in the background.

Home Assistant never reads a backup back after writing it (issue 11), so the
watch does: when a backup file appears or changes, it waits until the file is
complete — size and mtime unchanged for `stable_s` and the outer tar readable
to its end marker — then runs a full check in its own worker thread at the
lowest CPU and I/O priority. What it must never do:

* check a file Home Assistant is still writing: the file is stat'ed again
  while it is read, and a change ends the check (it is queued again);
* get in the user's way: while a check the user started waits or runs, the
  watch does not start one, and a running one is stopped and queued again;
* grow with the folder: the queue holds a path and four numbers per file,
  and a report goes to `on_report` and is not kept.

Deleting a backup while it is checked ends that check quietly. Files that
never get their end marker (cut short for good) are checked anyway after
`incomplete_grace_s`, so they are reported as cut short rather than ignored.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..backup_format.outer_tar import scan_outer_tar
from .backup_overview import open_backup
from .check_job import CheckReport, full_check
from .progress import CancelToken, JobCancelledError, Progress
from .thread_priority import lower_current_thread_priority

_LOGGER: logging.Logger = logging.getLogger(__name__)

DEFAULT_STABLE_S = 30.0
DEFAULT_INCOMPLETE_GRACE_S = 600.0
GUARD_INTERVAL_S = 1.0  # how often a running check re-stats its file and asks about the user
IDLE_WAIT_S = 0.5
STOP_JOIN_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class WatchedFile:
    """One version of one backup file: where, how big, when last written."""

    path: Path
    size: int
    mtime_ns: int


@dataclass
class _Pending:
    """A file waiting for its check: its version, and when it may be looked at next."""

    size: int
    mtime_ns: int
    first_seen: float
    not_before: float


class _StopReason(StrEnum):
    """Why a running watch check was ended early."""

    GONE = "gone"
    CHANGED = "changed"
    USER_FIRST = "user-first"
    STOPPING = "stopping"


def stat_version(path: Path) -> WatchedFile | None:
    """The file's current version, or None when it is gone."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return WatchedFile(path, stat.st_size, stat.st_mtime_ns)


def outer_tar_is_complete(path: Path) -> bool:
    """Whether the outer tar can be read to its end marker (a file being written cannot)."""
    try:
        with path.open("rb") as handle:
            scan = scan_outer_tar(handle, os.fstat(handle.fileno()).st_size)
    except OSError:
        return False
    return scan.end_marker_offset is not None


ReportCallback = Callable[[WatchedFile, CheckReport], None]


class BackupWatcher:
    """The queue of backups to verify, and the one low-priority thread that verifies them.

    `observe` is told the folder's current files (from any thread, as often as
    the folder is scanned). `is_verified(file)` says whether this version
    already has a verdict (then it is not checked again, also after a
    restart). `user_busy()` says whether a check the user started waits or
    runs. `on_report` gets every finished check, from the worker thread;
    `on_activity()` is called from there whenever a check starts or ends
    (the page shows which backup is being checked).
    """

    def __init__(
        self,
        *,
        on_report: ReportCallback,
        is_verified: Callable[[WatchedFile], bool],
        user_busy: Callable[[], bool] = lambda: False,
        on_activity: Callable[[], None] = lambda: None,
        password: str | None = None,
        check_options: Callable[[], dict[str, Any]] = dict,
        stable_s: float = DEFAULT_STABLE_S,
        incomplete_grace_s: float = DEFAULT_INCOMPLETE_GRACE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._on_report = on_report
        self._is_verified = is_verified
        self._user_busy = user_busy
        self._on_activity = on_activity
        self._password = password
        # Asked before each check: full_check's other keywords (the restore target, the
        # database folder), as they are at that moment.
        self._check_options = check_options
        self._stable_s = stable_s
        self._incomplete_grace_s = incomplete_grace_s
        self._clock = clock
        self._condition = threading.Condition()
        self._pending: dict[Path, _Pending] = {}
        self._given_up: set[WatchedFile] = set()
        self._current: WatchedFile | None = None
        self._current_token: CancelToken | None = None
        self._stop_reason: _StopReason | None = None
        self._is_stopping = False
        self._thread: threading.Thread | None = None
        self.checks_done = 0

    def __repr__(self) -> str:
        """Never show the password."""
        return f"BackupWatcher(pending={len(self._pending)}, checking={self._current is not None})"

    # -- the folder ------------------------------------------------------------

    def observe(self, files: Iterable[WatchedFile]) -> None:
        """The folder as it is now: queue new and changed files, drop vanished ones."""
        now = self._clock()
        wall_now_ns = time.time_ns()
        with self._condition:
            seen: set[Path] = set()
            for file in files:
                seen.add(file.path)
                self._observe_one_locked(file, now, wall_now_ns)
            for path in [path for path in self._pending if path not in seen]:
                del self._pending[path]
            self._given_up = {file for file in self._given_up if file.path in seen}
            current = self._current
            if current is not None and current.path not in seen:
                self._stop_current_locked(_StopReason.GONE)
            self._condition.notify_all()

    def _observe_one_locked(self, file: WatchedFile, now: float, wall_now_ns: int) -> None:
        """Queue one file unless it is being checked, was verified, or is already queued as is."""
        current = self._current
        if current is not None and current.path == file.path:
            if current != file:
                self._stop_current_locked(_StopReason.CHANGED)
                self._queue_locked(file, now, now + self._stable_s)
            return
        pending = self._pending.get(file.path)
        if pending is not None and (pending.size, pending.mtime_ns) == (file.size, file.mtime_ns):
            return
        if file in self._given_up or self._is_verified(file):
            self._pending.pop(file.path, None)
            return
        # A file last written longer ago than the stable time is stable already (a restart).
        quiet_for_s = (wall_now_ns - file.mtime_ns) / 1e9
        wait_s = 0.0 if pending is None and quiet_for_s >= self._stable_s else self._stable_s
        self._queue_locked(file, now, now + wait_s)

    def _queue_locked(self, file: WatchedFile, first_seen: float, not_before: float) -> None:
        self._pending[file.path] = _Pending(file.size, file.mtime_ns, first_seen, not_before)

    # -- status ----------------------------------------------------------------

    def queued_paths(self) -> list[Path]:
        """The files waiting for a check (not the one being checked)."""
        with self._condition:
            return list(self._pending)

    def current_path(self) -> Path | None:
        """The file being checked now, if any."""
        with self._condition:
            return self._current.path if self._current is not None else None

    # -- the user goes first ---------------------------------------------------

    def yield_to_user(self) -> None:
        """A user check waits or runs: stop the running watch check; it is queued again."""
        with self._condition:
            if self._current is not None:
                self._stop_current_locked(_StopReason.USER_FIRST)
            self._condition.notify_all()

    def _stop_current_locked(self, reason: _StopReason) -> None:
        if self._current_token is not None and not self._current_token.is_cancelled:
            self._stop_reason = reason
            self._current_token.cancel()

    # -- the worker --------------------------------------------------------------

    def start(self) -> None:
        """Start the worker thread (once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="backup-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = STOP_JOIN_TIMEOUT_S) -> None:
        """End the running check and the worker thread."""
        with self._condition:
            self._is_stopping = True
            self._stop_current_locked(_StopReason.STOPPING)
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        """Thread body: lower this thread's priority, then verify one ready file after another."""
        lower_current_thread_priority()
        while True:
            with self._condition:
                if self._is_stopping:
                    return
            file = self._next_file()
            if file is None:
                with self._condition:
                    if not self._is_stopping:
                        self._condition.wait(IDLE_WAIT_S)
                continue
            self._on_activity()
            try:
                self._verify(file)
            except Exception:
                _LOGGER.exception("The background check of a backup failed unexpectedly")
                with self._condition:
                    self._given_up.add(file)
            finally:
                with self._condition:
                    self._current = None
                    self._current_token = None
                    self._stop_reason = None
                self._on_activity()

    def _next_file(self) -> WatchedFile | None:
        """The newest file that is ready and complete, now marked as being checked."""
        if self._user_busy():
            return None
        now = self._clock()
        with self._condition:
            ready = [
                (pending.mtime_ns, path)
                for path, pending in self._pending.items()
                if pending.not_before <= now
            ]
        for _mtime_ns, path in sorted(ready, reverse=True):
            file = self._claim_if_complete(path, now)
            if file is not None:
                return file
        return None

    def _claim_if_complete(self, path: Path, now: float) -> WatchedFile | None:
        """Re-stat a ready file; claim it if unchanged and complete, else make it wait again."""
        version = stat_version(path)
        is_complete = version is not None and outer_tar_is_complete(path)
        with self._condition:
            pending = self._pending.get(path)
            if pending is None or self._is_stopping:
                return None
            if version is None:
                del self._pending[path]
                return None
            if (version.size, version.mtime_ns) != (pending.size, pending.mtime_ns):
                self._queue_locked(version, now, now + self._stable_s)
                return None
            gave_grace = now - pending.first_seen >= self._incomplete_grace_s
            if not is_complete and not gave_grace:
                pending.not_before = now + self._stable_s
                return None
            del self._pending[path]
            self._current = version
            self._current_token = CancelToken()
            self._stop_reason = None
            return version

    def _verify(self, file: WatchedFile) -> None:
        """Full check of one file version; hand the report on unless the check was stopped."""
        with self._condition:
            token = self._current_token
        assert token is not None
        guard = _CheckGuard(self, file, token, self._clock)
        try:
            overview = open_backup(file.path)
            report = full_check(
                overview,
                self._password,
                progress=guard.on_progress,
                cancel=token,
                **self._check_options(),
            )
        except JobCancelledError:
            self._after_stop(file)
            return
        except OSError as error:
            if stat_version(file.path) is None:
                _LOGGER.debug("A backup was deleted while it was checked")
                return
            _LOGGER.warning("Cannot check %s: %s", file.path.name, error.strerror or error)
            with self._condition:
                self._given_up.add(file)
            return
        if token.is_cancelled or stat_version(file.path) != file:
            self._after_stop(file)
            return
        self.checks_done += 1
        self._on_report(file, report)

    def _after_stop(self, file: WatchedFile) -> None:
        """A stopped check: forget a deleted file, queue a changed or pre-empted one again."""
        now = self._clock()
        version = stat_version(file.path)
        with self._condition:
            reason = self._stop_reason
            if version is None or reason is _StopReason.STOPPING:
                return
            if version != file:
                self._queue_locked(version, now, now + self._stable_s)
            else:
                self._queue_locked(file, now, now)  # pre-empted: first in line again
        _LOGGER.debug("A background check stopped early (%s)", reason)

    def observe_change_of(self, file: WatchedFile) -> None:
        """The file being checked was deleted or rewritten: end its check now."""
        with self._condition:
            if self._current == file:
                gone = stat_version(file.path) is None
                self._stop_current_locked(_StopReason.GONE if gone else _StopReason.CHANGED)

    def should_yield(self) -> bool:
        """Whether a user check waits or runs (asked by a running watch check)."""
        return self._user_busy()


class _CheckGuard:
    """The progress callback of a watch check: at most once a second, is it still wanted?"""

    def __init__(
        self,
        watcher: BackupWatcher,
        file: WatchedFile,
        token: CancelToken,
        clock: Callable[[], float],
    ) -> None:
        self._watcher = watcher
        self._file = file
        self._token = token
        self._clock = clock
        self._next_look = clock() + GUARD_INTERVAL_S
        self._lock = threading.Lock()

    def on_progress(self, _progress: Progress) -> None:
        """Stop the check when the file went away or changed, or when the user wants the disk."""
        now = self._clock()
        with self._lock:
            if now < self._next_look or self._token.is_cancelled:
                return
            self._next_look = now + GUARD_INTERVAL_S
        if stat_version(self._file.path) != self._file:
            self._watcher.observe_change_of(self._file)
        elif self._watcher.should_yield():
            self._watcher.yield_to_user()
