"""The watch end to end with a fake Core API: notifications, entities, restarts, no secrets sent."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from backup_inspector.demo.demo_backups import (
    DAMAGED_BACKUP_FILE_NAME,
    DEMO_PASSWORD,
    ENCRYPTED_BACKUP_FILE_NAME,
    FULL_BACKUP_FILE_NAME,
)
from backup_inspector.web import core_api_client
from backup_inspector.web.backup_registry import backup_id_for
from backup_inspector.web.home_assistant_reporter import (
    LAST_VERIFIED_ENTITY,
    PROBLEM_ENTITY,
    notification_id,
)
from backup_inspector.web.web_settings import WebSettings

from .conftest import ClientFactory
from .fake_core_api import FakeCore, start_fake_core, wait_for

pytestmark = pytest.mark.timeout(90)

TOKEN = "test-supervisor-token"
WATCHED_NAME = "watched.tar"


@pytest.fixture
async def core(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeCore]:
    """A fake Core API; the client retries after 50 ms instead of seconds."""
    monkeypatch.setattr(core_api_client, "DEFAULT_FIRST_PAUSE_S", 0.05)
    fake = await start_fake_core()
    yield fake
    assert fake.server is not None
    await fake.server.close()


@pytest.fixture
def empty_backup_dir(tmp_path: Path) -> Path:
    """A backup folder that starts empty: backups are dropped in by the tests."""
    folder = tmp_path / "watched-backups"
    folder.mkdir()
    return folder


@pytest.fixture
def watch_settings(settings: WebSettings, empty_backup_dir: Path, core: FakeCore) -> WebSettings:
    """The add-on's watch and Core reporting, with short waits."""
    return replace(
        settings,
        backup_dir=empty_backup_dir,
        verify_new_backups=True,
        backup_password=DEMO_PASSWORD,
        watch_stable_s=0.2,
        folder_poll_interval_s=0.1,
        core_api_url=core.api_url,
        core_api_token=TOKEN,
        core_poll_s=0.3,
        page_link="/hassio/ingress/local_backup_inspector",
    )


@dataclass
class Watched:
    """The watched folder, the fake Core, and how to start the app and drop backups in."""

    core: FakeCore
    folder: Path
    settings: WebSettings
    demo_files: list[Path]
    make_client: ClientFactory

    async def start(self, **overrides: object) -> TestClient:
        """Start the app with the watch settings (and overrides)."""
        return await self.make_client(replace(self.settings, **overrides))

    def drop(self, source_name: str, name: str) -> str:
        """Copy one demo backup into the watched folder under `name`; returns its backup id."""
        source = next(path for path in self.demo_files if path.name == source_name)
        shutil.copyfile(source, self.folder / name)
        return backup_id_for(name)


@pytest.fixture
def watched(
    make_client: ClientFactory,
    watch_settings: WebSettings,
    core: FakeCore,
    empty_backup_dir: Path,
    demo_backup_files: list[Path],
) -> Watched:
    """Everything a reporting test needs."""
    return Watched(core, empty_backup_dir, watch_settings, demo_backup_files, make_client)


def problem_is(core: FakeCore, state: str) -> bool:
    return core.states.get(PROBLEM_ENTITY, {}).get("state") == state


async def test_a_damaged_backup_raises_a_notification_and_a_clean_one_clears_it(
    watched: Watched,
) -> None:
    """Dropped damaged: notification + sensor on; rewritten clean: dismissed + sensor off."""
    core = watched.core
    client = await watched.start()
    await wait_for(lambda: problem_is(core, "off"))
    backup_id = watched.drop(DAMAGED_BACKUP_FILE_NAME, WATCHED_NAME)
    await wait_for(lambda: problem_is(core, "on"))
    await wait_for(lambda: notification_id(backup_id) in core.notifications)
    notification = core.notifications[notification_id(backup_id)]
    assert "Partial backup 2026-11-18" in notification["message"]
    assert "archive inside it is damaged" in notification["message"]
    assert "(/hassio/ingress/local_backup_inspector)" in notification["message"]
    failing = core.states[PROBLEM_ENTITY]["attributes"]["failing_backups"]
    assert failing == [{"name": "Partial backup 2026-11-18", "codes": ["archive-corrupt"]}]
    assert core.states[PROBLEM_ENTITY]["attributes"]["device_class"] == "problem"
    sensor = core.states[LAST_VERIFIED_ENTITY]
    assert sensor["attributes"]["device_class"] == "timestamp"
    assert sensor["attributes"]["verdict"] == "failing"
    assert sensor["attributes"]["failing"] == 1
    assert sensor["state"].endswith("+00:00")

    watched.drop(FULL_BACKUP_FILE_NAME, WATCHED_NAME)
    await wait_for(
        lambda: core.states[LAST_VERIFIED_ENTITY]["attributes"]["verdict"] == "ok"
        or notification_id(backup_id) not in core.notifications
    )
    # The notification stays until the new version checked clean, then goes.
    assert core.states[LAST_VERIFIED_ENTITY]["attributes"]["verdict"] == "ok"
    await wait_for(lambda: notification_id(backup_id) not in core.notifications)
    assert {"notification_id": notification_id(backup_id)} in core.service_calls("dismiss")
    assert problem_is(core, "off")
    health = await (await client.get("/api/health")).json()
    assert health["counts"]["ok"] == 1 and health["counts"]["failing"] == 0


async def test_deleting_a_failing_backup_dismisses_its_notification(watched: Watched) -> None:
    """A deleted backup no longer fails: its notification goes and the sensor turns off."""
    core = watched.core
    await watched.start()
    backup_id = watched.drop(DAMAGED_BACKUP_FILE_NAME, WATCHED_NAME)
    await wait_for(lambda: notification_id(backup_id) in core.notifications)
    (watched.folder / WATCHED_NAME).unlink()
    await wait_for(lambda: notification_id(backup_id) not in core.notifications)
    await wait_for(lambda: problem_is(core, "off"))


async def test_every_call_is_authorised_and_never_carries_the_password(
    watched: Watched, caplog: pytest.LogCaptureFixture
) -> None:
    """Bearer token on every request; the backup password in none (path, headers or body)."""
    caplog.set_level(logging.DEBUG)
    core = watched.core
    client = await watched.start()
    watched.drop(ENCRYPTED_BACKUP_FILE_NAME, "encrypted.tar")
    watched.drop(DAMAGED_BACKUP_FILE_NAME, WATCHED_NAME)
    await wait_for(
        lambda: core.states.get(LAST_VERIFIED_ENTITY, {}).get("attributes", {}).get("ok") == 1
    )
    await wait_for(lambda: problem_is(core, "on"))
    assert core.calls
    for call in core.calls:
        assert call.authorization == f"Bearer {TOKEN}"
        assert DEMO_PASSWORD not in call.path + call.raw_headers + call.body
    health = await (await client.get("/api/health")).json()
    assert DEMO_PASSWORD not in str(health)
    verdicts = (watched.settings.data_dir / "verdicts.json").read_text()  # type: ignore[operator]
    assert DEMO_PASSWORD not in verdicts
    assert "Automatic backup" not in verdicts and "encrypted.tar" not in verdicts
    assert DEMO_PASSWORD not in caplog.text


async def test_a_core_restart_gets_the_states_and_notifications_posted_again(
    watched: Watched,
) -> None:
    """Core forgets API-posted states on restart; the reporter notices and re-posts them."""
    core = watched.core
    await watched.start()
    backup_id = watched.drop(DAMAGED_BACKUP_FILE_NAME, WATCHED_NAME)
    await wait_for(lambda: problem_is(core, "on"))
    await wait_for(lambda: notification_id(backup_id) in core.notifications)
    core.is_down = True
    core.restart()
    await wait_for(lambda: any(call.path == "/api/" for call in core.calls[-3:]))
    core.is_down = False
    await wait_for(lambda: problem_is(core, "on"))
    await wait_for(lambda: notification_id(backup_id) in core.notifications)
    assert LAST_VERIFIED_ENTITY in core.states
    core.restart()  # a restart quicker than the poll: Core answers, but forgot our states
    await wait_for(lambda: problem_is(core, "on"))
    await wait_for(lambda: notification_id(backup_id) in core.notifications)


async def test_core_being_down_never_stops_checks_and_is_logged_once(
    watched: Watched, caplog: pytest.LogCaptureFixture
) -> None:
    """Checks go on while Core answers 503; one warning; all is posted once Core is back."""
    core = watched.core
    caplog.set_level(logging.INFO, logger="backup_inspector.web.core_api_client")
    core.is_down = True
    client = await watched.start()
    watched.drop(DAMAGED_BACKUP_FILE_NAME, WATCHED_NAME)

    async def failing_count() -> int:
        return (await (await client.get("/api/health")).json())["counts"]["failing"]

    for _ in range(600):
        if await failing_count() == 1:
            break
        await asyncio.sleep(0.05)
    assert await failing_count() == 1
    assert core.states == {}
    warnings = [r for r in caplog.records if "does not answer" in r.getMessage()]
    assert len(warnings) == 1
    assert TOKEN not in caplog.text
    core.is_down = False
    await wait_for(lambda: problem_is(core, "on"))
    assert any("answers again" in r.getMessage() for r in caplog.records)


async def test_an_encrypted_backup_without_a_key_is_unverified_never_ok(watched: Watched) -> None:
    """No backup_password: the checks that need none run; the backup is unverified, not failing."""
    core = watched.core
    client: TestClient = await watched.start(backup_password=None)
    backup_id = watched.drop(ENCRYPTED_BACKUP_FILE_NAME, "e.tar")
    await wait_for(
        lambda: core.states.get(LAST_VERIFIED_ENTITY, {}).get("attributes", {}).get("verdict")
        == "unverified"
    )
    health = await (await client.get("/api/health")).json()
    row = next(backup for backup in health["backups"] if backup["id"] == backup_id)
    assert row["verdict"] == "unverified" and row["codes"] == ["password-required"]
    assert health["counts"] == {"ok": 0, "failing": 0, "unverified": 1, "unchecked": 0}
    assert problem_is(core, "off")
    listed = await (await client.get("/api/backups")).json()
    assert listed["backups"][0]["last_check"]["level"] == "error"  # never shown as ok
