"""The verdict history survives restarts and holds no password, file name or encrypted backup's name."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

import pytest

from backup_inspector.demo.demo_backups import (
    DAMAGED_BACKUP_FILE_NAME,
    ENCRYPTED_BACKUP_FILE_NAME,
    FULL_BACKUP_FILE_NAME,
)
from backup_inspector.inspection import backup_watch
from backup_inspector.inspection.progress import Progress
from backup_inspector.web.backup_registry import BackupRegistry, backup_id_for
from backup_inspector.web.verdict_history import HISTORY_FILE_NAME, VerdictHistory
from backup_inspector.web.watch_service import WATCH
from backup_inspector.web.web_settings import WebSettings

from .conftest import ClientFactory

pytestmark = pytest.mark.timeout(90)


def registry_of(folder: Path) -> BackupRegistry:
    """A scanned registry of a folder."""
    registry = BackupRegistry(folder)
    registry.refresh()
    return registry


def test_verdicts_survive_a_restart_and_name_encrypted_backups_by_slug(
    backup_dir: Path, tmp_path: Path
) -> None:
    """A new store on the same folder knows every verdict; the file has no names to hide."""
    registry = registry_of(backup_dir)
    data_dir = tmp_path / "data-store"
    history = VerdictHistory(data_dir)
    for known in registry.backups():
        history.record(known, "ok", [], "watch")
    encrypted = registry.get(backup_id_for(ENCRYPTED_BACKUP_FILE_NAME))
    assert encrypted is not None and encrypted.overview is not None
    history.record(encrypted, "failing", ["archive-corrupt"], "user")

    again = VerdictHistory(data_dir)
    latest = again.latest(encrypted.backup_id, encrypted.file_size, encrypted.mtime_ns)
    assert latest is not None and latest.verdict == "failing"
    assert latest.codes == ("archive-corrupt",) and latest.source == "user"
    assert again.latest(encrypted.backup_id, encrypted.file_size + 1, encrypted.mtime_ns) is None
    text = (data_dir / HISTORY_FILE_NAME).read_text()
    assert encrypted.overview.metadata is not None
    assert encrypted.overview.metadata.slug in text
    assert encrypted.display_name not in text
    for known in registry.backups():
        assert known.file_name not in text
    assert len(again.sizes()) == len(registry.backups())


def test_a_damaged_history_file_starts_empty(tmp_path: Path) -> None:
    """Garbage in the file is ignored (with a warning), not a crash."""
    (tmp_path / HISTORY_FILE_NAME).write_text("{not json")
    assert VerdictHistory(tmp_path).sizes() == []
    (tmp_path / HISTORY_FILE_NAME).write_text(json.dumps({"x": {"verdicts": "nope"}}))
    assert VerdictHistory(tmp_path).sizes() == []


async def test_after_a_restart_verified_backups_are_not_checked_again(
    make_client: ClientFactory, settings: WebSettings, tmp_path: Path, backup_dir: Path
) -> None:
    """The second start of the app finds every verdict and leaves the watch idle."""
    folder = tmp_path / "few"
    folder.mkdir()
    for name in (FULL_BACKUP_FILE_NAME, DAMAGED_BACKUP_FILE_NAME):
        shutil.copy2(backup_dir / name, folder / name)
    watch_settings = replace(
        settings, backup_dir=folder, verify_new_backups=True, watch_stable_s=0.1
    )
    first = await make_client(watch_settings)
    watch = first.app[WATCH]
    for _ in range(400):
        if watch.watcher is not None and watch.watcher.checks_done == 2:
            break
        await asyncio.sleep(0.05)
    assert watch.watcher is not None and watch.watcher.checks_done == 2
    before = await (await first.get("/api/health")).json()
    await first.close()

    second = await make_client(watch_settings)
    after = await (await second.get("/api/health")).json()
    assert (
        after["counts"]
        == before["counts"]
        == {
            "ok": 1,
            "failing": 1,
            "unverified": 0,
            "unchecked": 0,
        }
    )
    await asyncio.sleep(0.6)
    assert second.app[WATCH].watcher.checks_done == 0  # type: ignore[union-attr]
    assert second.app[WATCH].watcher.queued_paths() == []  # type: ignore[union-attr]


async def test_a_full_check_the_user_runs_is_a_verdict_too(
    make_client: ClientFactory, settings: WebSettings
) -> None:
    """Without the watch, the page's own full check fills the history and the summary."""
    client = await make_client(settings)
    backup_id = backup_id_for(DAMAGED_BACKUP_FILE_NAME)
    response = await client.post(f"/api/backups/{backup_id}/checks", json={"kind": "full"})
    assert response.status == 202
    for _ in range(400):
        health = await (await client.get("/api/health")).json()
        if health["counts"]["failing"] == 1:
            break
        await asyncio.sleep(0.05)
    row = next(backup for backup in health["backups"] if backup["id"] == backup_id)
    assert row["verdict"] == "failing" and row["verified_at"] is not None
    assert health["watch"] == {"enabled": False, "queued": 0, "checking": None}
    assert health["newest"]["name"] == "Automatic backup 2026.11.2"
    assert [point["date"] for point in health["sizes"]] == sorted(
        point["date"] for point in health["sizes"]
    )


async def test_a_check_the_user_starts_makes_the_running_watch_check_step_aside(
    make_client: ClientFactory,
    settings: WebSettings,
    tmp_path: Path,
    backup_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The watch's check stops when the user's full check is queued, and runs again after it."""
    started: list[float] = []

    def slow_full_check(overview, password, progress=None, cancel=None, **options):
        started.append(time.monotonic())
        for step in range(300):
            cancel.raise_if_cancelled()
            progress(Progress("share", step, 300, step, 300))
            time.sleep(0.01)
        return real_full_check(overview, password, **options)

    real_full_check = backup_watch.full_check
    monkeypatch.setattr(backup_watch, "full_check", slow_full_check)
    monkeypatch.setattr(backup_watch, "GUARD_INTERVAL_S", 0.02)
    folder = tmp_path / "one"
    folder.mkdir()
    shutil.copy2(backup_dir / FULL_BACKUP_FILE_NAME, folder / FULL_BACKUP_FILE_NAME)
    client = await make_client(
        replace(settings, backup_dir=folder, verify_new_backups=True, watch_stable_s=0.1)
    )
    watcher = client.app[WATCH].watcher
    assert watcher is not None
    while watcher.current_path() is None:
        await asyncio.sleep(0.02)
    backup_id = backup_id_for(FULL_BACKUP_FILE_NAME)
    response = await client.post(f"/api/backups/{backup_id}/checks", json={"kind": "full"})
    assert response.status == 202
    for _ in range(400):
        if watcher.checks_done == 1:
            break
        await asyncio.sleep(0.05)
    assert watcher.checks_done == 1
    assert len(started) == 2  # stepped aside once, then checked to the end
    sources = json.loads((settings.data_dir / "verdicts.json").read_text())  # type: ignore[operator]
    assert [v["source"] for v in sources[backup_id]["verdicts"]] == ["user", "watch"]
