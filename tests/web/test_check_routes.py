"""Checks: verdicts in plain words, damaged archives named, queue, cancel, vanished files."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from backup_inspector.inspection.progress import CancelToken, Progress
from backup_inspector.web import backup_routes

from .web_helpers import backup_id_named, get_json, post_json, wait_for_job

DAMAGED_NAME = "Partial backup 2026-11-18"
PLAIN_NAME = "Full backup 2026-11-20"


async def run_check(client: TestClient, backup_id: str, kind: str) -> dict[str, Any]:
    """Start a check and return its finished job."""
    started = await post_json(
        client, f"/api/backups/{backup_id}/checks", {"kind": kind}, status=202
    )
    return await wait_for_job(client, started["job"]["id"])


async def test_damaged_backup_names_the_broken_archive(client: TestClient) -> None:
    """A full check of the damaged demo backup says share.tar.gz is damaged, in words."""
    backup_id = await backup_id_named(client, DAMAGED_NAME)
    job = await run_check(client, backup_id, "full")
    assert job["state"] == "succeeded"
    verdict = job["result"]["verdict"]
    assert verdict["level"] == "error"
    assert "share.tar.gz" in verdict["title"]
    broken = [problem for problem in verdict["problems"] if problem["severity"] == "error"]
    assert [problem["archive"] for problem in broken] == ["share"]
    assert broken[0]["code"] == "archive-corrupt"
    assert "share.tar.gz" in broken[0]["message"]
    archives = {archive["name"]: archive for archive in job["result"]["report"]["archives"]}
    assert archives["share"]["ok"] is False
    assert archives["ssl"]["ok"] is True


async def test_last_check_shows_in_the_list(client: TestClient) -> None:
    """The backup list shows the result of each backup's last check."""
    damaged_id = await backup_id_named(client, DAMAGED_NAME)
    plain_id = await backup_id_named(client, PLAIN_NAME)
    await run_check(client, damaged_id, "full")
    await run_check(client, plain_id, "full")
    listing = await get_json(client, "/api/backups")
    by_id = {backup["id"]: backup for backup in listing["backups"]}
    assert by_id[damaged_id]["last_check"]["level"] == "error"
    assert "archive-corrupt" in by_id[damaged_id]["last_check"]["problem_codes"]
    assert by_id[plain_id]["last_check"]["level"] == "ok"
    assert by_id[plain_id]["last_check"]["kind"] == "full"


async def test_quick_check_is_never_green(client: TestClient) -> None:
    """A quick check that finds nothing wrong still says a full check is needed."""
    backup_id = await backup_id_named(client, PLAIN_NAME)
    job = await run_check(client, backup_id, "quick")
    assert job["result"]["verdict"]["level"] == "partial"
    assert "full check" in job["result"]["verdict"]["title"].lower()


async def test_protected_backup_without_password_says_so(client: TestClient) -> None:
    """A check of an encrypted backup without a password asks for one."""
    backup_id = await backup_id_named(client, "Automatic backup")
    job = await run_check(client, backup_id, "full")
    verdict = job["result"]["verdict"]
    assert verdict["level"] == "error"
    errors = [p for p in verdict["problems"] if p["severity"] != "info"]  # info notes: issue 10
    assert {problem["code"] for problem in errors} == {"password-required"}


async def test_backup_list_fields_and_order(client: TestClient) -> None:
    """Each row has name, date, type, version, size, protection and contents; newest first."""
    listing = await get_json(client, "/api/backups")
    dates = [backup["sort_date"] for backup in listing["backups"]]
    assert dates == sorted(dates, reverse=True)
    plain = next(b for b in listing["backups"] if b["name"] == PLAIN_NAME)
    assert plain["type"] == "full"
    assert plain["homeassistant_version"] == "2026.11.2"
    assert plain["is_protected"] is False
    assert plain["size"] > 0
    assert plain["contents"]["homeassistant"] is True
    assert [addon["name"] for addon in plain["contents"]["addons"]] == ["Mosquitto broker"]
    assert plain["contents"]["folders"] == ["share", "ssl"]
    assert plain["description"].startswith("Full backup made by Home Assistant 2026.11.2")


@pytest.mark.parametrize(
    "path",
    [
        "/api/backups/0123456789abcdef",
        "/api/backups/../../etc",
        "/api/backups/%2e%2e%2fetc",
    ],
)
async def test_unknown_backup_is_404(client: TestClient, path: str) -> None:
    """An id that names no backup answers 404 with a plain message."""
    response = await client.get(path)
    assert response.status == 404
    body = await response.json()
    assert body["error"]["code"] in ("unknown-backup", "not-found")
    response = await client.post("/api/backups/0123456789abcdef/checks", json={"kind": "full"})
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "unknown-backup"


async def test_bad_check_kind_is_400(client: TestClient) -> None:
    """Only quick and full checks exist."""
    backup_id = await backup_id_named(client, PLAIN_NAME)
    answer = await post_json(
        client, f"/api/backups/{backup_id}/checks", {"kind": "deep"}, status=400
    )
    assert "quick" in answer["error"]["message"]


async def test_deleted_backup_gets_a_clear_message(client: TestClient, backup_dir: Path) -> None:
    """A backup removed from the folder disappears from the list and answers 404 in words."""
    backup_id = await backup_id_named(client, PLAIN_NAME)
    next(backup_dir.glob("Full_backup_2026-11-20*.tar")).unlink()
    answer = await get_json(client, f"/api/backups/{backup_id}", status=404)
    assert "deleted or moved" in answer["error"]["message"]
    listing = await get_json(client, "/api/backups")
    assert backup_id not in [backup["id"] for backup in listing["backups"]]


async def test_backup_deleted_while_being_read(
    client: TestClient, backup_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check whose file vanishes as reading starts fails with a clear message."""
    real_full_check = backup_routes.full_check

    def delete_then_check(overview: Any, *args: Any, **kwargs: Any) -> Any:
        overview.path.unlink()
        return real_full_check(overview, *args, **kwargs)

    monkeypatch.setattr(backup_routes, "full_check", delete_then_check)
    backup_id = await backup_id_named(client, PLAIN_NAME)
    job = await run_check(client, backup_id, "full")
    assert job["state"] == "failed"
    assert job["error"]["code"] == "backup-gone"
    assert "deleted or moved while it was being read" in job["error"]["message"]


class BlockingCheck:
    """A stand-in for full_check that reports progress, then waits until released or cancelled."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()

    def __call__(
        self,
        overview: Any,
        password: str | None,
        progress: Any = None,
        cancel: CancelToken | None = None,
        on_archive_entries: Any = None,
        database_dir: Any = None,
        target: Any = None,
    ) -> Any:
        self.started.set()
        progress(Progress("share", 50, 100, 50, 200))
        while not self.release.wait(0.02):
            assert cancel is not None
            cancel.raise_if_cancelled()
        return backup_routes.quick_check(overview, password, target=target)


async def test_heavy_jobs_queue_visibly_and_cancel(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One heavy job runs, the next waits with its place in the queue; both can be cancelled."""
    blocking = BlockingCheck()
    monkeypatch.setattr(backup_routes, "full_check", blocking)
    plain_id = await backup_id_named(client, PLAIN_NAME)
    damaged_id = await backup_id_named(client, DAMAGED_NAME)
    first = await post_json(client, f"/api/backups/{plain_id}/checks", {"kind": "full"}, status=202)
    second = await post_json(
        client, f"/api/backups/{damaged_id}/checks", {"kind": "full"}, status=202
    )
    assert second["job"]["state"] == "queued"
    assert second["job"]["queue_position"] == 1
    running = await get_json(client, f"/api/jobs/{first['job']['id']}")
    assert running["job"]["state"] == "running"

    quick = await post_json(
        client, f"/api/backups/{damaged_id}/checks", {"kind": "quick"}, status=202
    )
    quick_job = await wait_for_job(client, quick["job"]["id"])
    assert quick_job["state"] == "succeeded"  # light jobs do not wait behind heavy ones

    cancelled_queued = await post_json(client, f"/api/jobs/{second['job']['id']}/cancel", {})
    assert cancelled_queued["job"]["state"] == "cancelled"
    await post_json(client, f"/api/jobs/{first['job']['id']}/cancel", {})
    finished = await wait_for_job(client, first["job"]["id"])
    assert finished["state"] == "cancelled"
    assert finished["progress"]["archives"]["share"]["percent"] == 50.0


async def test_unknown_job_is_404(client: TestClient) -> None:
    """Polling a job that does not exist answers 404."""
    answer = await get_json(client, "/api/jobs/0-nothing", status=404)
    assert answer["error"]["code"] == "unknown-job"
