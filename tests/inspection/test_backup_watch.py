"""The background watch: waits for complete files, one check at a time, user first, low priority."""

from __future__ import annotations

import gc
import os
import shutil
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from backup_inspector.demo.demo_backups import (
    DAMAGED_BACKUP_FILE_NAME,
    FULL_BACKUP_FILE_NAME,
    create_demo_folder,
)
from backup_inspector.inspection import backup_watch, thread_priority
from backup_inspector.inspection.backup_watch import BackupWatcher, WatchedFile, stat_version
from backup_inspector.inspection.check_job import CheckReport
from backup_inspector.inspection.progress import Progress
from backup_inspector.inspection.target_facts import TargetFacts
from backup_inspector.inspection.thread_priority import (
    IOPRIO_CLASS_IDLE,
    LOWEST_NICE,
    io_priority_class,
)

pytestmark = pytest.mark.timeout(60)

HOUR_NS = 3600 * 10**9


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo backups by file name, written once for this module."""
    return {path.name: path for path in create_demo_folder(tmp_path_factory.mktemp("demo"))}


def copy_backup(source: Path, folder: Path, name: str, age_s: float = 7200.0) -> Path:
    """Copy a backup into `folder` and date it `age_s` seconds back."""
    target = folder / name
    shutil.copyfile(source, target)
    moment = time.time() - age_s
    os.utime(target, (moment, moment))
    return target


def write_first_half(source: Path, target: Path) -> bytes:
    """Write the first half of a backup (whole blocks, no end marker); returns the whole."""
    whole = source.read_bytes()
    target.write_bytes(whole[: len(whole) // 2 // 512 * 512])
    return whole


def folder_files(folder: Path) -> list[WatchedFile]:
    """What a folder scan would tell the watcher."""
    versions = (stat_version(path) for path in sorted(folder.glob("*.tar")))
    return [version for version in versions if version is not None]


class Recorder:
    """Collects (file, report) pairs from the worker thread and lets a test wait for them."""

    def __init__(self) -> None:
        self.reports: list[tuple[WatchedFile, CheckReport]] = []
        self.event = threading.Event()

    def __call__(self, file: WatchedFile, report: CheckReport) -> None:
        self.reports.append((file, report))
        self.event.set()

    def wait_for(self, count: int, timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.reports) < count:
            assert time.monotonic() < deadline, f"only {len(self.reports)} of {count} reports"
            time.sleep(0.02)


def start_watcher(recorder: Callable[..., None], **kwargs: Any) -> BackupWatcher:
    """A started watcher with short waits."""
    options: dict[str, Any] = {"is_verified": lambda _file: False, "stable_s": 0.3}
    options.update(kwargs)
    watcher = BackupWatcher(on_report=recorder, **options)
    watcher.start()
    return watcher


def test_a_new_backup_is_checked_only_after_it_stayed_unchanged(
    tmp_path: Path, demo_files: dict[str, Path]
) -> None:
    """A just-written file waits for the stable time, then gets one full check."""
    recorder = Recorder()
    activity: list[Path | None] = []
    watcher = start_watcher(
        recorder, stable_s=1.0, on_activity=lambda: activity.append(watcher.current_path())
    )
    try:
        path = copy_backup(demo_files[FULL_BACKUP_FILE_NAME], tmp_path, "new.tar", age_s=0)
        watcher.observe(folder_files(tmp_path))
        time.sleep(0.5)
        assert recorder.reports == []
        assert watcher.queued_paths() == [path]
        recorder.wait_for(1)
        file, report = recorder.reports[0]
        assert file.path == path and report.level == "full" and report.ok
        wait_until(lambda: len(activity) == 2)
        assert activity == [path, None]  # told when the check started and when it ended
    finally:
        watcher.stop()


def test_a_file_without_its_end_marker_waits_until_it_is_complete(
    tmp_path: Path, demo_files: dict[str, Path]
) -> None:
    """An unchanging but unfinished file (no end marker yet) is not checked until it is whole."""
    path = tmp_path / "growing.tar"
    source = write_first_half(demo_files[FULL_BACKUP_FILE_NAME], path)
    os.utime(path, (time.time() - 7200, time.time() - 7200))
    recorder = Recorder()
    watcher = start_watcher(recorder, stable_s=0.2)
    try:
        watcher.observe(folder_files(tmp_path))
        time.sleep(1.0)
        assert recorder.reports == []
        path.write_bytes(source)
        watcher.observe(folder_files(tmp_path))
        recorder.wait_for(1)
        assert recorder.reports[0][1].ok
        assert recorder.reports[0][0].size == len(source)
    finally:
        watcher.stop()


def test_a_file_that_stays_cut_short_is_checked_after_the_grace_time(
    tmp_path: Path, demo_files: dict[str, Path]
) -> None:
    """A backup cut short for good is reported as such, not ignored forever."""
    write_first_half(demo_files[FULL_BACKUP_FILE_NAME], tmp_path / "cut.tar")
    recorder = Recorder()
    watcher = start_watcher(recorder, stable_s=0.1, incomplete_grace_s=0.5)
    try:
        watcher.observe(folder_files(tmp_path))
        recorder.wait_for(1)
        report = recorder.reports[0][1]
        assert not report.ok
        assert "truncated" in {problem.code for problem in report.problems}
    finally:
        watcher.stop()


def test_existing_backups_are_checked_newest_first_and_verified_ones_skipped(
    tmp_path: Path, demo_files: dict[str, Path]
) -> None:
    """On start every old backup is queued at once; the newest is checked first."""
    source = demo_files[FULL_BACKUP_FILE_NAME]
    oldest = copy_backup(source, tmp_path, "a.tar", age_s=30000)
    newest = copy_backup(source, tmp_path, "b.tar", age_s=10000)
    middle = copy_backup(source, tmp_path, "c.tar", age_s=20000)
    done = copy_backup(source, tmp_path, "d.tar", age_s=5000)
    recorder = Recorder()
    watcher = start_watcher(recorder, is_verified=lambda file: file.path == done)
    try:
        watcher.observe(folder_files(tmp_path))
        recorder.wait_for(3)
        time.sleep(0.3)
        assert [file.path for file, _ in recorder.reports] == [newest, middle, oldest]
    finally:
        watcher.stop()


def slow_fake_check(seen: list[dict[str, Any]], rounds: int = 400) -> Callable[..., CheckReport]:
    """A stand-in for full_check that reads for a while, polling progress and cancel."""

    def fake_full_check(overview, password, progress=None, cancel=None, **options):
        seen.append({"password": password, "thread": threading.get_native_id()})
        for step in range(rounds):
            cancel.raise_if_cancelled()
            progress(Progress("share", step, rounds, step, rounds))
            time.sleep(0.01)
        return CheckReport(overview=overview, level="full", archives=[], backup_problems=[])

    return fake_full_check


@pytest.fixture
def fast_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let running watch checks look at their file every 20 ms instead of every second."""
    monkeypatch.setattr(backup_watch, "GUARD_INTERVAL_S", 0.02)


def watch_one_slowly(
    monkeypatch: pytest.MonkeyPatch, folder: Path, source: Path, rounds: int, **kwargs: Any
) -> tuple[list[dict[str, Any]], Path, Recorder, BackupWatcher]:
    """One old backup in `folder`, a slow stand-in check, and a started watcher."""
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(backup_watch, "full_check", slow_fake_check(seen, rounds=rounds))
    path = copy_backup(source, folder, "x.tar")
    recorder = Recorder()
    return seen, path, recorder, start_watcher(recorder, **kwargs)


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_deleting_a_backup_during_its_check_ends_the_check_quietly(
    tmp_path: Path,
    demo_files: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    fast_guard: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No report, no warning, nothing left queued when the file vanishes mid-check."""
    _seen, path, recorder, watcher = watch_one_slowly(
        monkeypatch, tmp_path, demo_files[FULL_BACKUP_FILE_NAME], rounds=400
    )
    try:
        watcher.observe(folder_files(tmp_path))
        wait_until(lambda: watcher.current_path() == path)
        path.unlink()
        wait_until(lambda: watcher.current_path() is None, timeout_s=2.0)
        watcher.observe(folder_files(tmp_path))
        time.sleep(0.3)
        assert recorder.reports == []
        assert watcher.queued_paths() == []
        assert not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]
    finally:
        watcher.stop()


def test_a_file_rewritten_during_its_check_is_checked_again_when_stable(
    tmp_path: Path, demo_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, fast_guard: None
) -> None:
    """Home Assistant writing the file stops the check; the new version gets its own."""
    seen, path, recorder, watcher = watch_one_slowly(
        monkeypatch, tmp_path, demo_files[FULL_BACKUP_FILE_NAME], rounds=60
    )
    try:
        watcher.observe(folder_files(tmp_path))
        wait_until(lambda: watcher.current_path() == path)
        shutil.copyfile(demo_files[DAMAGED_BACKUP_FILE_NAME], path)
        recorder.wait_for(1)
        assert len(seen) == 2
        assert recorder.reports[0][0] == stat_version(path)
    finally:
        watcher.stop()


def test_a_user_check_goes_first(
    tmp_path: Path, demo_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, fast_guard: None
) -> None:
    """While the user's check waits or runs the watch starts nothing and stops what it runs."""
    user_busy = threading.Event()
    user_busy.set()
    seen, _path, recorder, watcher = watch_one_slowly(
        monkeypatch, tmp_path, demo_files[FULL_BACKUP_FILE_NAME], 100, user_busy=user_busy.is_set
    )
    try:
        watcher.observe(folder_files(tmp_path))
        time.sleep(0.8)
        assert seen == [] and watcher.current_path() is None
        user_busy.clear()
        wait_until(lambda: watcher.current_path() is not None)
        user_busy.set()  # the user starts a check: the running watch check steps aside
        wait_until(lambda: watcher.current_path() is None, timeout_s=2.0)
        assert recorder.reports == []
        assert len(watcher.queued_paths()) == 1
        user_busy.clear()
        recorder.wait_for(1)
        assert len(seen) == 2
    finally:
        watcher.stop()


def test_watch_checks_run_at_the_lowest_priority_in_their_own_threads(
    tmp_path: Path, demo_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nice 19 and idle I/O for the watch thread and the reader threads it starts; not for the rest."""
    observed: dict[str, Any] = {}

    def priorities() -> tuple[int, int | None]:
        thread_id = threading.get_native_id()
        return os.getpriority(os.PRIO_PROCESS, thread_id), io_priority_class(thread_id)

    def fake_full_check(overview, password, progress=None, cancel=None, **options):
        observed["watch"] = priorities()
        with ThreadPoolExecutor(max_workers=1) as pool:
            observed["reader"] = pool.submit(priorities).result()
        return CheckReport(overview=overview, level="full", archives=[], backup_problems=[])

    monkeypatch.setattr(backup_watch, "full_check", fake_full_check)
    copy_backup(demo_files[FULL_BACKUP_FILE_NAME], tmp_path, "x.tar")
    before = priorities()
    recorder = Recorder()
    watcher = start_watcher(recorder)
    try:
        watcher.observe(folder_files(tmp_path))
        recorder.wait_for(1)
    finally:
        watcher.stop()
    assert observed["watch"][0] == LOWEST_NICE
    assert observed["reader"][0] == LOWEST_NICE
    if before[1] is not None:  # the kernel lets us read I/O priorities
        assert observed["watch"][1] == IOPRIO_CLASS_IDLE
        assert observed["reader"][1] == IOPRIO_CLASS_IDLE
    assert priorities() == before


def test_fifty_backups_dropped_at_once_queue_paths_and_keep_no_reports(
    tmp_path: Path, demo_files: dict[str, Path]
) -> None:
    """Fifty files queue as fifty paths; each report is gone once handed on."""
    for number in range(50):
        copy_backup(
            demo_files[DAMAGED_BACKUP_FILE_NAME], tmp_path, f"b{number:02}.tar", 9000 - number
        )
    alive: list[weakref.ref[CheckReport]] = []
    most_alive = 0
    gate = threading.Event()

    def on_report(_file: WatchedFile, report: CheckReport) -> None:
        nonlocal most_alive
        gate.wait(10)
        gc.collect()
        alive.append(weakref.ref(report))
        most_alive = max(most_alive, sum(ref() is not None for ref in alive))
        recorder.event.set()

    recorder = Recorder()
    watcher = start_watcher(on_report)
    try:
        watcher.observe(folder_files(tmp_path))
        queued = watcher.queued_paths()
        assert len(queued) + (watcher.current_path() is not None) == 50
        assert all(isinstance(path, Path) for path in queued)
        gate.set()
        wait_until(lambda: watcher.checks_done == 50, timeout_s=50)
    finally:
        watcher.stop()
    assert most_alive == 1
    assert watcher.queued_paths() == []


def test_lowering_the_priority_falls_back_silently_where_it_is_not_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Unknown machine (no ioprio syscall) and a refused setpriority: no error, just 'not lowered'."""
    monkeypatch.setattr(thread_priority.platform, "machine", lambda: "unknown-cpu")

    def refuse(*_args: object) -> None:
        raise PermissionError("not allowed")

    monkeypatch.setattr(thread_priority.os, "setpriority", refuse)
    outcome: list[thread_priority.PriorityOutcome] = []
    worker = threading.Thread(
        target=lambda: outcome.append(thread_priority.lower_current_thread_priority())
    )
    worker.start()
    worker.join(10)
    assert outcome == [thread_priority.PriorityOutcome(cpu_lowered=False, io_lowered=False)]


def test_a_watch_check_gets_the_database_folder_and_the_restore_target(
    tmp_path: Path, demo_files: dict[str, Path]
) -> None:
    """Each watch check asks for the current check options: the database copy lands in the
    app's private folder and the restore is rehearsed against the system known now."""
    folder = tmp_path / "backups"
    folder.mkdir()
    copy_backup(demo_files[FULL_BACKUP_FILE_NAME], folder, "full.tar")
    database_dir = tmp_path / "database-check"
    target = TargetFacts(
        supervisor="2099.1.0", homeassistant="2099.1.0", arch="amd64",
        supported_arch=("amd64",), machine="qemux86-64", disk_free_gb=100.0,
    )  # fmt: skip
    asked: list[int] = []

    def options() -> dict[str, Any]:
        asked.append(1)
        return {"database_dir": database_dir, "target": target}

    recorder = Recorder()
    watcher = start_watcher(recorder, check_options=options)
    try:
        watcher.observe(folder_files(folder))
        recorder.wait_for(1)
    finally:
        watcher.stop()
    _, report = recorder.reports[0]
    assert asked == [1]
    assert report.restore is not None and report.restore.target == target
    assert report.database is not None
    assert database_dir.is_dir() and list(database_dir.iterdir()) == []  # used, then emptied
