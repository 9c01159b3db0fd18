"""The watch and the Home Assistant reporting, wired into the running app.

Feeds the background watcher the folder as the registry sees it, turns each
full check — the watch's and the user's — into a stored verdict, and keeps
Home Assistant told. Everything here is additive: without the options the
watcher does not run and nothing is reported, but the verdict history and
the page's health summary still work from the user's own full checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from backup_inspector.inspection.backup_watch import BackupWatcher, WatchedFile
from backup_inspector.inspection.check_job import CheckReport
from backup_inspector.inspection.target_facts import TargetFacts
from backup_inspector.inspection.verification_verdict import (
    Verification,
    error_codes,
    verification_of,
)
from backup_inspector.web.app_services import SERVICES, AppServices
from backup_inspector.web.backup_health import BackupHealth, folder_health
from backup_inspector.web.backup_registry import KnownBackup, backup_id_for
from backup_inspector.web.check_verdict import history_summary
from backup_inspector.web.core_api_client import CoreApiClient
from backup_inspector.web.home_assistant_reporter import HomeAssistantReporter
from backup_inspector.web.restore_routes import current_target
from backup_inspector.web.verdict_history import VerdictHistory

_LOGGER: logging.Logger = logging.getLogger(__name__)

BUSY_STATES = ("queued", "running")


class WatchService:
    """The app's watcher (if on), verdict history and reporter (if a Core API is set)."""

    def __init__(
        self,
        services: AppServices,
        target: Callable[[], TargetFacts | None] = lambda: None,
    ) -> None:
        """`target`: the system facts a check started now predicts a restore against."""
        settings = services.settings
        self._services = services
        self._loop = asyncio.get_running_loop()
        self._health_changed = asyncio.Event()
        self._health_changed.set()  # tell Home Assistant once at start
        self.verdicts = VerdictHistory(settings.data_dir)
        self.watcher: BackupWatcher | None = None
        if settings.verify_new_backups:
            self.watcher = BackupWatcher(
                on_report=self._on_watch_report,
                is_verified=self._is_verified,
                user_busy=self._user_busy,
                on_activity=self._on_watch_activity,
                password=settings.backup_password,
                check_options=lambda: {
                    "database_dir": settings.database_check_dir,
                    "target": target(),
                },
                stable_s=settings.watch_stable_s,
            )
        self.client: CoreApiClient | None = None
        self.reporter: HomeAssistantReporter | None = None
        if settings.core_api_url:
            self.client = CoreApiClient(settings.core_api_url, settings.core_api_token)
            self.reporter = HomeAssistantReporter(self.client, self.verdicts, settings.page_link)

    # -- what the watcher asks -------------------------------------------------

    def _is_verified(self, file: WatchedFile) -> bool:
        """Whether this version has a verdict (one that lacked a key is redone once a key is set)."""
        latest = self.verdicts.latest(backup_id_for(file.path.name), file.size, file.mtime_ns)
        if latest is None:
            return False
        lacked_key = latest.verdict == Verification.UNVERIFIED and "password-required" in set(
            latest.codes
        )
        return not (lacked_key and self._services.settings.backup_password is not None)

    def _user_busy(self) -> bool:
        """Whether a job the user started (check, listing, extraction) waits or runs."""
        return any(
            job["is_heavy"] and job["state"] in BUSY_STATES
            for job in self._services.jobs.snapshots()
        )

    def _on_watch_activity(self) -> None:
        """A watch check started or ended: open pages update their summary."""
        self._services.events.publish({"type": "health-changed"})

    # -- verdicts ----------------------------------------------------------------

    def _on_watch_report(self, file: WatchedFile, report: CheckReport) -> None:
        """From the watch thread: record the verdict of the version that was checked."""
        known = self._services.registry.get(backup_id_for(file.path.name))
        if known is None or (known.file_size, known.mtime_ns) != (file.size, file.mtime_ns):
            return  # the folder moved on; the new version is queued
        self.record(known, report.to_json(), "watch")

    def on_job(self, snapshot: dict[str, Any]) -> None:
        """Job listener: the user goes first, and a user's full check is a verdict too."""
        if snapshot["is_heavy"] and snapshot["state"] in BUSY_STATES and self.watcher is not None:
            self.watcher.yield_to_user()
        if snapshot["kind"] != "full-check" or snapshot["state"] != "succeeded":
            return
        known = self._services.registry.get(snapshot["subject"] or "")
        result = snapshot.get("result") or {}
        if known is not None and isinstance(result.get("report"), dict):
            self.record(known, result["report"], "user")

    def record(self, known: KnownBackup, report: dict[str, Any], source: str) -> None:
        """Store a full check's verdict and tell the page and Home Assistant (any thread)."""
        verdict = verification_of(report)
        if verdict is None:
            return
        self.verdicts.record(known, verdict, error_codes(report), source)
        if source == "watch":
            self._services.check_history.record(
                known.backup_id, known.file_size, known.mtime_ns, history_summary(report)
            )
            self._services.events.publish({"type": "check-recorded", "backup_id": known.backup_id})
        self._services.events.publish({"type": "health-changed"})
        with contextlib.suppress(RuntimeError):  # the loop is closing
            self._loop.call_soon_threadsafe(self._health_changed.set)

    def health(self) -> list[BackupHealth]:
        """The folder's health now."""
        return folder_health(self._services.registry, self.verdicts)

    # -- loops -------------------------------------------------------------------

    async def feed_watcher(self) -> None:
        """Tell the watcher what the folder holds, at the folder's poll interval."""
        assert self.watcher is not None
        while True:
            files = [
                WatchedFile(known.path, known.file_size, known.mtime_ns)
                for known in self._services.registry.backups()
            ]
            self.watcher.observe(files)
            await asyncio.sleep(self._services.settings.folder_poll_interval_s)

    async def report(self) -> None:
        """Keep Home Assistant current; re-post everything when Core comes back."""
        assert self.reporter is not None and self.client is not None
        settings = self._services.settings
        registry_version = -1
        next_core_look = 0.0
        needs_everything = True
        while True:
            if registry_version != self._services.registry.version:
                registry_version = self._services.registry.version
                self._health_changed.set()
            now = time.monotonic()
            if now >= next_core_look:
                next_core_look = now + settings.core_poll_s
                if not await self.client.is_up():
                    needs_everything = True
                elif needs_everything or await self.reporter.core_forgot_us():
                    needs_everything = not await self.reporter.publish(self.health(), force=True)
                    self._health_changed.clear()
            if self._health_changed.is_set() and not needs_everything:
                self._health_changed.clear()
                needs_everything = not await self.reporter.publish(self.health())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._health_changed.wait(), timeout=settings.folder_poll_interval_s
                )


WATCH: web.AppKey[WatchService] = web.AppKey("watch", WatchService)


async def _stop_task(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def watch_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx (after the services): start the watcher and the reporter; stop them at the end."""
    services = app[SERVICES]
    watch = WatchService(services, target=lambda: current_target(app))
    app[WATCH] = watch
    remove_listener = services.jobs.add_listener(watch.on_job)
    tasks: list[asyncio.Task[Any]] = []
    if watch.watcher is not None:
        watch.watcher.start()
        tasks.append(asyncio.create_task(watch.feed_watcher()))
    if watch.reporter is not None:
        tasks.append(asyncio.create_task(watch.report()))
    try:
        yield
    finally:
        remove_listener()
        for task in tasks:
            await _stop_task(task)
        if watch.watcher is not None:
            await asyncio.get_running_loop().run_in_executor(None, watch.watcher.stop)
        if watch.client is not None:
            await watch.client.close()
