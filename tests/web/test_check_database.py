"""The web check result carries the database facts; the copy lives under /data and never stays."""

from __future__ import annotations

from pathlib import Path

import pytest

from backup_inspector.inspection import database_check
from backup_inspector.inspection.private_folder import LOCK_FILE_NAME, PRIVATE_FOLDER_PREFIX
from backup_inspector.web.check_verdict import verdict_for
from backup_inspector.web.web_settings import WebSettings

from .conftest import ClientFactory
from .test_check_routes import PLAIN_NAME, run_check
from .web_helpers import backup_id_named


async def test_full_check_result_has_the_database_object(
    make_client: ClientFactory, settings: WebSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full check's report holds "database"; SQLite read the copy under <data>/database-check."""
    opened: list[Path] = []
    real_inspect = database_check.inspect_recorder_database

    def recording_inspect(path: Path, **options: object):
        opened.append(path)
        return real_inspect(path, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(database_check, "inspect_recorder_database", recording_inspect)
    client = await make_client(settings)
    job = await run_check(client, await backup_id_named(client, PLAIN_NAME), "full")
    assert job["state"] == "succeeded"
    database = job["result"]["report"]["database"]
    assert database["ok"] is True
    assert database["path"] == "data/home-assistant_v2.db"
    assert database["schema_version"] is not None
    assert job["result"]["verdict"]["level"] == "ok"
    assert settings.database_check_dir is not None
    assert len(opened) == 1 and opened[0].is_relative_to(settings.database_check_dir)
    assert list(settings.database_check_dir.rglob("*")) == []


async def test_abandoned_database_folder_is_removed_at_start(
    make_client: ClientFactory, settings: WebSettings
) -> None:
    """A folder left by a check the app was killed in is removed when the app starts."""
    assert settings.database_check_dir is not None
    abandoned = settings.database_check_dir / f"{PRIVATE_FOLDER_PREFIX}killed"
    abandoned.mkdir(parents=True)
    (abandoned / LOCK_FILE_NAME).touch()
    (abandoned / "home-assistant_v2.db").write_bytes(b"decrypted history")
    await make_client(settings)
    assert not abandoned.exists()


def test_info_notes_keep_the_verdict_green() -> None:
    """A full check with only an info note is "ok", not "warning"."""
    report = {
        "level": "full",
        "ok": True,
        "archives": [{"name": "homeassistant", "archive": "homeassistant.tar.gz", "ok": True}],
        "problems": [
            {
                "code": "database-excluded",
                "severity": "info",
                "archive": "homeassistant",
                "message": "made without the database",
            }
        ],
    }
    verdict = verdict_for(report)
    assert verdict["level"] == "ok"
    assert [p["code"] for p in verdict["problems"]] == ["database-excluded"]
