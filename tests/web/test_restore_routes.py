"""GET /api/system, and check jobs that predict the restore against those facts."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient

from backup_inspector.inspection.target_facts import TargetFacts
from backup_inspector.web.app_factory import create_app
from backup_inspector.web.restore_routes import SYSTEM_FACTS, SystemFacts
from backup_inspector.web.web_settings import WebSettings

from .web_helpers import backup_id_named, post_json, wait_for_job


class FakeClient:
    """Stands in for SupervisorClient: counts reads, answers with the given facts."""

    def __init__(self, facts: TargetFacts | None) -> None:
        self.facts = facts
        self.reads = 0

    async def read_target_facts(self) -> TargetFacts | None:
        """The facts, as the Supervisor would give them."""
        self.reads += 1
        return self.facts


async def test_without_supervisor_there_are_no_facts(client: TestClient) -> None:
    """On a desktop (no token) the answer says no Supervisor and no target."""
    response = await client.get("/api/system")
    assert response.status == 200
    assert await response.json() == {"available": False, "target": None}


async def test_facts_read_at_start_and_on_demand(aiohttp_client, settings: WebSettings) -> None:
    """The facts are read once at start, and again with ?refresh=1."""
    fake = FakeClient(TargetFacts(supervisor="2026.11.0", machine="yellow"))
    app = create_app(settings)
    app[SYSTEM_FACTS] = SystemFacts(fake)  # type: ignore[arg-type]
    test_client = await aiohttp_client(app)
    for _ in range(50):
        if fake.reads:
            break
        await asyncio.sleep(0.02)
    data = await (await test_client.get("/api/system")).json()
    assert data["available"] is True and data["target"]["machine"] == "yellow"
    fake.facts = TargetFacts(supervisor="2026.12.0", machine="yellow")
    data = await (await test_client.get("/api/system?refresh=1")).json()
    assert data["target"]["supervisor"] == "2026.12.0" and fake.reads == 2


async def test_check_job_predicts_against_the_system(aiohttp_client, settings: WebSettings) -> None:
    """A quick check started from the page carries the restore object with the system's facts."""
    fake = FakeClient(TargetFacts(supervisor="2020.1.0"))
    app = create_app(settings)
    app[SYSTEM_FACTS] = SystemFacts(fake)  # type: ignore[arg-type]
    test_client = await aiohttp_client(app)
    await (await test_client.get("/api/system?refresh=1")).json()
    backup_id = await backup_id_named(test_client, "Full backup")
    started = await post_json(
        test_client, f"/api/backups/{backup_id}/checks", {"kind": "quick"}, status=202
    )
    job = await wait_for_job(test_client, started["job"]["id"])
    restore = job["result"]["report"]["restore"]
    assert restore["target"]["supervisor"] == "2020.1.0"
    assert restore["verdict"] == "fails"
    codes = [p["code"] for p in job["result"]["report"]["problems"]]
    assert "supervisor-too-old" in codes
