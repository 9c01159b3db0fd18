"""The job runner: bounded heavy jobs, a visible queue, progress events, cancel, failures."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from backup_inspector.inspection.job_runner import (
    JobContext,
    JobFailedError,
    JobQueueFullError,
    JobRunner,
    JobState,
)
from backup_inspector.inspection.progress import Progress


def wait_until_finished(runner: JobRunner, job_id: str, timeout_s: float = 10.0) -> dict[str, Any]:
    """Block until a job finishes; return its snapshot."""
    deadline = time.monotonic() + timeout_s
    while True:
        snapshot = runner.snapshot(job_id)
        assert snapshot is not None
        if JobState(snapshot["state"]).is_finished:
            return snapshot
        assert time.monotonic() < deadline, snapshot
        time.sleep(0.01)


@pytest.fixture
def runner() -> Iterator[JobRunner]:
    """A runner with one heavy slot, shut down after the test."""
    job_runner = JobRunner(max_heavy_jobs=1)
    yield job_runner
    job_runner.shutdown()


def test_heavy_jobs_wait_their_turn(runner: JobRunner) -> None:
    """The second heavy job waits with queue position 1 and starts when the first ends."""
    release = threading.Event()
    first = runner.submit("check", "first", lambda _context: release.wait(5))
    second = runner.submit("check", "second", lambda _context: "done")
    assert runner.snapshot(first.job_id)["state"] == "running"
    assert runner.snapshot(second.job_id)["state"] == "queued"
    assert runner.snapshot(second.job_id)["queue_position"] == 1
    release.set()
    assert wait_until_finished(runner, second.job_id)["result"] == "done"


def test_light_jobs_do_not_queue(runner: JobRunner) -> None:
    """A light job runs at once even while the heavy slot is taken."""
    release = threading.Event()
    runner.submit("check", "heavy", lambda _context: release.wait(5))
    light = runner.submit("quick", "light", lambda _context: 42, is_heavy=False)
    assert wait_until_finished(runner, light.job_id)["result"] == 42
    release.set()


def test_light_jobs_are_bounded_and_queue_in_order() -> None:
    """Light jobs beyond max_light_jobs wait in their own FIFO; no extra thread starts."""
    light_runner = JobRunner(max_heavy_jobs=1, max_light_jobs=2)
    release = threading.Event()
    try:
        jobs = [
            light_runner.submit("quick", f"q{n}", lambda _c: release.wait(5), is_heavy=False)
            for n in range(5)
        ]
        assert light_runner.running_counts() == (0, 2)
        states = [light_runner.snapshot(job.job_id) for job in jobs]
        assert [s["state"] for s in states] == ["running"] * 2 + ["queued"] * 3
        assert [s["queue_position"] for s in states[2:]] == [1, 2, 3]
        job_threads = [t for t in threading.enumerate() if t.name.startswith("job-quick")]
        assert len(job_threads) == 2
        release.set()
        for job in jobs:
            assert wait_until_finished(light_runner, job.job_id)["state"] == "succeeded"
    finally:
        release.set()
        light_runner.shutdown()


def test_a_full_queue_refuses_with_busy() -> None:
    """Past max_queued_jobs waiting, submit raises a 'busy' JobFailedError and keeps nothing."""
    small_runner = JobRunner(max_heavy_jobs=1, max_queued_jobs=2)
    release = threading.Event()
    try:
        for n in range(3):  # one runs, two wait
            small_runner.submit("check", f"c{n}", lambda _c: release.wait(5))
        with pytest.raises(JobQueueFullError) as refused:
            small_runner.submit("check", "one too many", lambda _c: None)
        assert refused.value.code == "busy"
        assert len(small_runner.snapshots()) == 3
        light = small_runner.submit("quick", "light", lambda _c: 1, is_heavy=False)
        assert wait_until_finished(small_runner, light.job_id)["result"] == 1
    finally:
        release.set()
        small_runner.shutdown()


def test_progress_and_events(runner: JobRunner) -> None:
    """Listeners hear state changes and throttled progress with percent and per-archive parts."""
    events: list[dict[str, Any]] = []
    runner.add_listener(events.append)

    def work(context: JobContext) -> str:
        for done in range(0, 101, 10):
            context.report_progress(Progress("share", done, 100, done, 200))
        time.sleep(0.3)
        context.report_progress(Progress("ssl", 50, 100, 150, 200))
        return "ok"

    job = runner.submit("check", "progress", work)
    final = wait_until_finished(runner, job.job_id)
    states = [event["state"] for event in events]
    assert states[0] == "queued" and states[-1] == "succeeded"
    assert final["progress"]["archives"]["share"]["percent"] == 100.0
    assert final["progress"]["archives"]["ssl"]["percent"] == 50.0
    running_events = [event for event in events if event["state"] == "running"]
    assert len(running_events) < 8  # eleven progress calls, throttled


def test_cancel_running_and_queued(runner: JobRunner) -> None:
    """A running job stops at its next cancel check; a queued one never starts."""
    started = threading.Event()

    def long_work(context: JobContext) -> None:
        started.set()
        while True:
            context.cancel.raise_if_cancelled()
            time.sleep(0.01)

    running = runner.submit("check", "long", long_work)
    queued = runner.submit("check", "never", lambda _context: pytest.fail("must not run"))
    assert started.wait(5)
    assert runner.cancel(queued.job_id).state is JobState.CANCELLED
    runner.cancel(running.job_id)
    assert wait_until_finished(runner, running.job_id)["state"] == "cancelled"


def test_failures_are_reported_without_internals(runner: JobRunner) -> None:
    """JobFailedError keeps its message; other exceptions become a generic message."""
    known = runner.submit(
        "x", "known", lambda _context: (_ for _ in ()).throw(JobFailedError("disk-full", "Full."))
    )
    assert wait_until_finished(runner, known.job_id)["error"] == {
        "code": "disk-full",
        "message": "Full.",
    }
    unknown = runner.submit(
        "x", "unknown", lambda _context: (_ for _ in ()).throw(RuntimeError("secret /path"))
    )
    error = wait_until_finished(runner, unknown.job_id)["error"]
    assert error["code"] == "internal-error"
    assert "secret" not in error["message"]


def test_shutdown_cancels_everything() -> None:
    """Shutting down cancels running jobs and refuses new ones."""
    job_runner = JobRunner(max_heavy_jobs=2)

    def long_work(context: JobContext) -> None:
        while True:
            context.cancel.raise_if_cancelled()
            time.sleep(0.01)

    job = job_runner.submit("check", "long", long_work)
    job_runner.shutdown()
    assert job_runner.snapshot(job.job_id)["state"] == "cancelled"
    with pytest.raises(RuntimeError):
        job_runner.submit("check", "late", lambda _context: None)
