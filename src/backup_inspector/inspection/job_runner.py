"""Runs long engine jobs in worker threads, with progress events and cancellation.

Checks, listings and extractions can take minutes to hours on a multi-GB
backup, and they are CPU- and disk-bound. Running more than one or two of them
at once only makes each slower, so "heavy" jobs are bounded: the rest wait in a
visible first-in-first-out queue. "Light" jobs (a quick check) have a lane of
their own with a few more slots, so they never wait behind heavy work, but
they are bounded too: 300 quick checks at once used to start 300 threads.
Each lane's queue is bounded as well; past it, submit() refuses with a
"busy" JobFailedError instead of remembering jobs without end.

A job's result is capped (inspection/result_caps.py) so that it always fits
in one WebSocket message. The runner knows nothing about HTTP: front ends subscribe a listener and get a
JSON-ready snapshot of a job whenever its state changes, and at most a few
times a second while its progress moves.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from backup_inspector.inspection.failure_log import log_failure
from backup_inspector.inspection.progress import CancelToken, JobCancelledError, Progress
from backup_inspector.inspection.result_caps import cap_result

_LOGGER: logging.Logger = logging.getLogger(__name__)

PROGRESS_EVENT_INTERVAL_S = 0.25  # at most four progress events per job and second
FINISHED_JOBS_KEPT = 100  # so a page that reconnects late still finds its job's result
SHUTDOWN_JOIN_TIMEOUT_S = 5.0
DEFAULT_MAX_LIGHT_JOBS = 4  # quick checks read headers and one block per archive
MAX_QUEUED_JOBS = 100  # per lane; a page queues a handful, a script hammering the API more


class JobState(StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_finished(self) -> bool:
        """Whether the job will not change any more."""
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


class JobFailedError(Exception):
    """Raised by job work for a failure the user should read, with a stable code.

    Any other exception is reported as an internal error with a generic message
    (its text may contain things the page should not show); it is logged.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class JobQueueFullError(JobFailedError):
    """submit() refused a job: its lane already has MAX_QUEUED_JOBS waiting."""

    def __init__(self) -> None:
        super().__init__(
            "busy",
            "Backup Inspector is busy: too many jobs are waiting. "
            "Try again when some have finished.",
        )


@dataclass
class _Lane:
    """Heavy or light jobs: how many may run at once, and the FIFO of those waiting."""

    limit: int
    queue: deque[Job] = field(default_factory=deque)
    running: int = 0

    def take_startable(self) -> list[Job]:
        """Move waiting jobs out of the queue while there is a free slot."""
        startable = []
        while self.queue and self.running < self.limit:
            startable.append(self.queue.popleft())
            self.running += 1
        return startable

    def renumber(self) -> None:
        """Give each waiting job its 1-based place in the queue."""
        for position, job in enumerate(self.queue, start=1):
            job.queue_position = position


@dataclass
class ArchiveProgress:
    """Bytes of one inner archive consumed so far."""

    done_bytes: int
    total_bytes: int


@dataclass
class Job:
    """One unit of long work and everything a page needs to show about it.

    `subject` ties the job to what it works on (a backup id, say) so a page can
    find the jobs of the backup it shows. `result` is JSON-ready once the job
    succeeded; `error_code`/`error_message` are set when it failed.
    """

    job_id: str
    kind: str
    title: str
    subject: str | None
    is_heavy: bool
    work: Callable[[JobContext], Any] = field(repr=False)
    cancel_token: CancelToken = field(default_factory=CancelToken, repr=False)
    state: JobState = JobState.QUEUED
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    progress: Progress | None = None
    archive_progress: dict[str, ArchiveProgress] = field(default_factory=dict)
    result: Any = None
    error_code: str | None = None
    error_message: str | None = None
    queue_position: int | None = None
    last_progress_event_at: float = 0.0

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready picture of the job at this moment."""
        return {
            "id": self.job_id,
            "kind": self.kind,
            "title": self.title,
            "subject": self.subject,
            "state": self.state.value,
            "is_heavy": self.is_heavy,
            "queue_position": self.queue_position,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "progress": self._progress_json(),
            "result": self.result if self.state is JobState.SUCCEEDED else None,
            "error": (
                {"code": self.error_code, "message": self.error_message}
                if self.error_code is not None
                else None
            ),
        }

    def _progress_json(self) -> dict[str, Any] | None:
        """Overall and per-archive progress with percent, speed and time left."""
        if self.progress is None:
            return None
        progress = self.progress
        now = self.finished_at or time.time()
        elapsed_s = max(0.0, now - (self.started_at or now))
        rate_bytes_per_s = progress.done_bytes / elapsed_s if elapsed_s > 0.5 else None
        remaining_s = None
        if rate_bytes_per_s and progress.total_bytes > progress.done_bytes:
            remaining_s = (progress.total_bytes - progress.done_bytes) / rate_bytes_per_s
        percent = _percent(progress.done_bytes, progress.total_bytes)
        if self.state is JobState.SUCCEEDED:
            # Readers skip end padding they need not verify; a finished job is 100 %.
            percent, remaining_s = 100.0, 0.0
        return {
            "archive": progress.archive,
            "message": progress.message,
            "done_bytes": progress.done_bytes,
            "total_bytes": progress.total_bytes,
            "percent": percent,
            "elapsed_s": round(elapsed_s, 1),
            "bytes_per_s": round(rate_bytes_per_s) if rate_bytes_per_s else None,
            "remaining_s": round(remaining_s, 1) if remaining_s is not None else None,
            "archives": {
                name: {
                    "done_bytes": part.done_bytes,
                    "total_bytes": part.total_bytes,
                    "percent": _percent(part.done_bytes, part.total_bytes),
                }
                for name, part in self.archive_progress.items()
            },
        }


def _percent(done: int, total: int) -> float | None:
    """Percent done with one decimal, or None when the total is unknown."""
    if total <= 0:
        return None
    return round(min(100.0, 100.0 * done / total), 1)


class JobContext:
    """What a job's work function gets: a progress callback and a cancel token."""

    def __init__(self, runner: JobRunner, job: Job) -> None:
        self._runner = runner
        self.job = job

    @property
    def cancel(self) -> CancelToken:
        """The token the engine polls; set by JobRunner.cancel()."""
        return self.job.cancel_token

    def report_progress(self, progress: Progress) -> None:
        """Record progress; listeners hear of it at most every PROGRESS_EVENT_INTERVAL_S."""
        self._runner.record_progress(self.job, progress)


JobListener = Callable[[dict[str, Any]], None]


class JobRunner:
    """Starts jobs in threads, bounds the heavy ones, and tells listeners what happens.

    Listeners are called from worker threads (and from the caller's thread for
    submit and cancel); they must be quick and thread-safe, e.g. hand the
    snapshot to an event loop with call_soon_threadsafe.
    """

    def __init__(
        self,
        max_heavy_jobs: int = 1,
        max_light_jobs: int = DEFAULT_MAX_LIGHT_JOBS,
        max_queued_jobs: int = MAX_QUEUED_JOBS,
    ) -> None:
        if max_heavy_jobs < 1 or max_light_jobs < 1:
            raise ValueError("max_heavy_jobs and max_light_jobs must be at least 1")
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._heavy = _Lane(max_heavy_jobs)
        self._light = _Lane(max_light_jobs)
        self._max_queued_jobs = max_queued_jobs
        self._threads: dict[str, threading.Thread] = {}
        self._listeners: list[JobListener] = []
        self._counter = itertools.count(1)
        self._is_shut_down = False

    # -- listeners -----------------------------------------------------------

    def add_listener(self, listener: JobListener) -> Callable[[], None]:
        """Call `listener(snapshot)` on every job event; returns a function that removes it."""
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def _notify(self, job: Job) -> None:
        """Send a snapshot of `job` to every listener; a failing listener is logged, not fatal."""
        with self._lock:
            listeners = list(self._listeners)
            snapshot = job.snapshot()
        for listener in listeners:
            try:
                listener(snapshot)
            except Exception:
                _LOGGER.exception("A job listener failed")

    # -- submitting and cancelling -------------------------------------------

    def submit(
        self,
        kind: str,
        title: str,
        work: Callable[[JobContext], Any],
        *,
        subject: str | None = None,
        is_heavy: bool = True,
    ) -> Job:
        """Start `work` in its lane (heavy or light) or queue it there; returns the Job.

        JobQueueFullError when the lane's queue is full.
        """
        job_id = f"{next(self._counter)}-{secrets.token_hex(4)}"
        job = Job(
            job_id=job_id, kind=kind, title=title, subject=subject, is_heavy=is_heavy, work=work
        )
        with self._lock:
            if self._is_shut_down:
                raise RuntimeError("the job runner is shut down")
            lane = self._lane_of(job)
            if len(lane.queue) >= self._max_queued_jobs:
                raise JobQueueFullError()
            self._jobs[job_id] = job
            lane.queue.append(job)
            to_start = lane.take_startable()
            lane.renumber()
            self._forget_old_jobs_locked()
        self._notify(job)
        for startable in to_start:
            self._start_thread(startable)
        return job

    def cancel(self, job_id: str) -> Job | None:
        """Stop a job: a queued one is dropped, a running one stops at its next chunk."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.state.is_finished:
                return job
            job.cancel_token.cancel()
            was_queued = job.state is JobState.QUEUED
            if was_queued:
                lane = self._lane_of(job)
                lane.queue.remove(job)
                job.state = JobState.CANCELLED
                job.finished_at = time.time()
                job.queue_position = None
                job.error_code = "cancelled"
                job.error_message = "Cancelled before it started."
                lane.renumber()
        self._notify(job)
        if was_queued:
            self._notify_queue(job.is_heavy)
        return job

    def cancel_all(self) -> None:
        """Cancel every job that is queued or running."""
        with self._lock:
            job_ids = [job.job_id for job in self._jobs.values() if not job.state.is_finished]
        for job_id in job_ids:
            self.cancel(job_id)

    # -- reading -------------------------------------------------------------

    def get(self, job_id: str) -> Job | None:
        """The job with this id, if the runner still remembers it."""
        with self._lock:
            return self._jobs.get(job_id)

    def snapshot(self, job_id: str) -> dict[str, Any] | None:
        """A consistent snapshot of one job, or None."""
        with self._lock:
            job = self._jobs.get(job_id)
            return job.snapshot() if job is not None else None

    def snapshots(self, subject: str | None = None) -> list[dict[str, Any]]:
        """Snapshots of all remembered jobs (of one subject if given), oldest first."""
        with self._lock:
            return [
                job.snapshot()
                for job in self._jobs.values()
                if subject is None or job.subject == subject
            ]

    # -- progress ------------------------------------------------------------

    def record_progress(self, job: Job, progress: Progress) -> None:
        """Store the latest progress; notify listeners when enough time has passed."""
        now = time.monotonic()
        with self._lock:
            job.progress = progress
            if progress.archive is not None:
                job.archive_progress[progress.archive] = ArchiveProgress(
                    progress.archive_done_bytes, progress.archive_total_bytes
                )
            is_due = now - job.last_progress_event_at >= PROGRESS_EVENT_INTERVAL_S
            if is_due:
                job.last_progress_event_at = now
        if is_due:
            self._notify(job)

    # -- running -------------------------------------------------------------

    def _lane_of(self, job: Job) -> _Lane:
        """The lane a job runs in."""
        return self._heavy if job.is_heavy else self._light

    def running_counts(self) -> tuple[int, int]:
        """(heavy, light) jobs running now."""
        with self._lock:
            return self._heavy.running, self._light.running

    def _notify_queue(self, is_heavy: bool) -> None:
        """Tell listeners about every waiting job of a lane, whose positions may have moved."""
        with self._lock:
            waiting = list((self._heavy if is_heavy else self._light).queue)
        for job in waiting:
            self._notify(job)

    def _start_thread(self, job: Job) -> None:
        """Run one job in its own daemon thread."""
        with self._lock:
            job.state = JobState.RUNNING
            job.started_at = time.time()
            job.queue_position = None
            thread = threading.Thread(
                target=self._run_job, args=(job,), name=f"job-{job.kind}-{job.job_id}", daemon=True
            )
            self._threads[job.job_id] = thread
            # Started under the lock: shutdown() never sees a thread it cannot join yet.
            thread.start()
        self._notify(job)

    def _run_job(self, job: Job) -> None:
        """Thread body: run the work, record the outcome, start what waits."""
        context = JobContext(self, job)
        outcome: tuple[JobState, Any, str | None, str | None]
        try:
            job.cancel_token.raise_if_cancelled()
            result = job.work(context)
            outcome = (JobState.SUCCEEDED, result, None, None)
        except JobCancelledError:
            outcome = (JobState.CANCELLED, None, "cancelled", "Cancelled.")
        except JobFailedError as failure:
            outcome = (JobState.FAILED, None, failure.code, failure.message)
        except Exception as error:
            log_failure(
                _LOGGER, "Job %s (%s) failed unexpectedly", job.job_id, job.kind, error=error
            )
            outcome = (
                JobState.FAILED,
                None,
                "internal-error",
                "Something went wrong inside Backup Inspector; the log has the details.",
            )
        self._finish(job, *outcome)

    def _finish(
        self,
        job: Job,
        state: JobState,
        result: Any,
        error_code: str | None,
        error_message: str | None,
    ) -> None:
        """Record how a job ended and start what waits in its lane."""
        if state is JobState.SUCCEEDED:
            # Bounded here, once, so every snapshot (WebSocket, polling) stays small.
            result = cap_result(result)
        with self._lock:
            job.state = state
            job.result = result
            job.error_code = error_code
            job.error_message = error_message
            job.finished_at = time.time()
            self._threads.pop(job.job_id, None)
            to_start: list[Job] = []
            lane = self._lane_of(job)
            lane.running -= 1
            if not self._is_shut_down:
                to_start = lane.take_startable()
                lane.renumber()
        self._notify(job)
        for startable in to_start:
            self._start_thread(startable)
        if to_start:
            self._notify_queue(job.is_heavy)

    def _forget_old_jobs_locked(self) -> None:
        """Drop the oldest finished jobs beyond FINISHED_JOBS_KEPT."""
        finished = [job_id for job_id, job in self._jobs.items() if job.state.is_finished]
        for job_id in finished[: max(0, len(finished) - FINISHED_JOBS_KEPT)]:
            del self._jobs[job_id]

    # -- shutting down -------------------------------------------------------

    def shutdown(self, timeout_s: float = SHUTDOWN_JOIN_TIMEOUT_S) -> None:
        """Cancel everything and wait a little for running threads to stop."""
        with self._lock:
            self._is_shut_down = True
        self.cancel_all()
        deadline = time.monotonic() + timeout_s
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        still_running = [thread.name for thread in threads if thread.is_alive()]
        if still_running:
            _LOGGER.warning("Jobs still running at shutdown: %s", ", ".join(still_running))
