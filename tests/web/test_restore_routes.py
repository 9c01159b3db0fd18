"""GET /api/system, and check jobs that predict the restore against those facts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from backup_inspector.demo.demo_backups import DEMO_PASSWORD
from backup_inspector.inspection.target_facts import TargetFacts
from backup_inspector.web.app_factory import create_app
from backup_inspector.web.restore_routes import (
    STALE_AFTER_S,
    SUPERVISOR_BASE_URL,
    SYSTEM_FACTS,
    SystemFacts,
)
from backup_inspector.web.web_settings import WebSettings

from .fake_supervisor import TOKEN, FakeSupervisor
from .web_helpers import backup_id_named, get_json, post_json, wait_for_job


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
    assert await response.json() == {"available": False, "target": None, "read_at": None}


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


# -- against a fake Supervisor on 127.0.0.1 ----------------------------------


@dataclass
class Supervised:
    """The fake Supervisor, and the app's test client and facts."""

    fake: FakeSupervisor
    client: TestClient
    facts: SystemFacts


@pytest.fixture
async def supervised(
    aiohttp_client: Any, settings: WebSettings, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """Start a fake Supervisor and the app pointed at it: start(token=True, down=False)."""
    servers: list[TestServer] = []

    async def start(*, token: bool = True, down: bool = False) -> Supervised:
        fake = FakeSupervisor(is_down=down)
        server = TestServer(fake.app())
        await server.start_server()
        servers.append(server)
        if token:
            monkeypatch.setenv("SUPERVISOR_TOKEN", TOKEN)
        else:
            monkeypatch.delenv("SUPERVISOR_TOKEN", raising=False)
        app = create_app(settings)
        app[SUPERVISOR_BASE_URL] = str(server.make_url("/"))
        test_client = await aiohttp_client(app)
        facts = app[SYSTEM_FACTS]
        for _ in range(200):  # the first read, in the background at start
            if facts.client is None or facts.read_at is not None or fake.requests:
                break
            await asyncio.sleep(0.02)
        return Supervised(fake, test_client, facts)

    yield start
    for server in servers:
        await server.close()


async def test_facts_come_from_the_supervisor_with_its_token(supervised: Any) -> None:
    """With SUPERVISOR_TOKEN the app reads /info and /host/info at start, sending the token."""
    started = await supervised()
    fake, test_client = started.fake, started.client
    data = await get_json(test_client, "/api/system")
    assert data["available"] is True and data["read_at"] is not None
    assert data["target"] == {
        "supervisor": "2026.11.0",
        "homeassistant": "2026.11.2",
        "arch": "amd64",
        "supported_arch": ["amd64", "i386"],
        "machine": "generic-x86-64",
        "disk_free": 23.4,
    }
    assert sorted(fake.requests) == ["/host/info", "/info"]
    assert set(fake.tokens) == {f"Bearer {TOKEN}"}


async def test_refresh_reads_the_supervisor_again(supervised: Any) -> None:
    """?refresh=1 asks the Supervisor again and shows an updated Core."""
    started = await supervised()
    fake, test_client = started.fake, started.client
    fake.info = {**fake.info, "homeassistant": "2026.12.0"}
    data = await get_json(test_client, "/api/system?refresh=1")
    assert data["target"]["homeassistant"] == "2026.12.0"
    assert fake.requests.count("/info") == 2


async def test_supervisor_down_means_an_unknown_system(supervised: Any) -> None:
    """A Supervisor that answers 502 leaves the facts null, and a check predicts 'unknown'."""
    started = await supervised(down=True)
    fake, test_client = started.fake, started.client
    data = await get_json(test_client, "/api/system?refresh=1")
    assert data == {"available": True, "target": None, "read_at": None}
    assert "/info" in fake.requests
    job = await checked(test_client, "Full backup", "quick")
    assert job["result"]["restore"]["target"] is None
    assert job["result"]["restore"]["verdict"] == "unknown"


async def test_no_token_means_no_call(supervised: Any) -> None:
    """Outside Home Assistant (no SUPERVISOR_TOKEN) the app never calls the Supervisor."""
    started = await supervised(token=False)
    fake, test_client = started.fake, started.client
    data = await get_json(test_client, "/api/system?refresh=1")
    assert data == {"available": False, "target": None, "read_at": None}
    await checked(test_client, "Full backup", "full")
    assert fake.requests == []


async def test_full_check_reads_stale_facts_again(supervised: Any) -> None:
    """A full check reads the facts again when they are old, and predicts against the new ones."""
    started = await supervised()
    fake, test_client, holder = started.fake, started.client, started.facts
    reads = fake.requests.count("/info")
    await checked(test_client, "Full backup", "full")
    assert fake.requests.count("/info") == reads  # fresh facts: no second read
    holder._read_monotonic -= STALE_AFTER_S + 1
    fake.info = {**fake.info, "supervisor": "2026.1.0"}  # downgraded since
    job = await checked(test_client, "Full backup", "full")
    assert fake.requests.count("/info") == reads + 1
    restore = job["result"]["restore"]
    assert restore["target"]["supervisor"] == "2026.1.0" and restore["verdict"] == "fails"


async def test_card_of_a_fitting_and_a_refusing_system(supervised: Any) -> None:
    """The job result carries the card: rows per part with reasons, database facts, notes."""
    started = await supervised()
    fake, test_client = started.fake, started.client
    card = (await checked(test_client, "Full backup", "full"))["result"]["restore"]
    assert card["verdict"] == "restores" and card["kind"] == "full"
    labels = {part["part"]: part["label"] for part in card["parts"]}
    assert labels["addon:core_mosquitto"] == "App Mosquitto broker"
    assert labels["homeassistant"] == "Home Assistant" and labels["folder:share"] == "Folder share"
    assert {part["outcome"] for part in card["parts"]} == {"restored"}
    assert card["database"]["ok"] is True and card["database"]["schema_version"] == 48

    fake.info = {**fake.info, "supervisor": "2026.1.0"}
    await get_json(test_client, "/api/system?refresh=1")
    card = (await checked(test_client, "Full backup", "full"))["result"]["restore"]
    assert card["verdict"] == "fails"
    [refusal] = card["refusals"]
    assert refusal["code"] == "supervisor-too-old" and "2026.1.0" in refusal["message"]
    for part in card["parts"]:
        assert part["outcome"] == "skipped"
        assert part["reasons"][0]["code"] == "supervisor-too-old"
        assert "refuses the whole backup" in part["reasons"][0]["message"]


async def test_remembered_card_of_an_encrypted_backup_keeps_no_sentences(supervised: Any) -> None:
    """After unlocking, the page gets the card with sentences; the list remembers only codes."""
    test_client = (await supervised()).client
    backup_id = await backup_id_named(test_client, "Automatic backup")
    answer = await post_json(
        test_client, f"/api/backups/{backup_id}/password", {"password": DEMO_PASSWORD}
    )
    card = answer["check"]["restore"]
    assert card["target"]["machine"] == "generic-x86-64" and card["kind"] == "quick"
    config = next(part for part in card["parts"] if part["part"] == "supervisor-config")
    assert [r["code"] for r in config["reasons"]] == ["sensitive-archive"]
    assert "registry logins" in config["reasons"][0]["message"]
    listed = await get_json(test_client, "/api/backups")
    row = next(backup for backup in listed["backups"] if backup["id"] == backup_id)
    assert row["last_check"]["level"] and "restore" not in row["last_check"]
    detail = await get_json(test_client, f"/api/backups/{backup_id}")
    remembered = detail["last_check"]["restore"]
    assert remembered["verdict"] == card["verdict"]
    reasons = [r for part in remembered["parts"] for r in part["reasons"]]
    assert reasons and all(reason["message"] is None for reason in reasons)


async def checked(test_client: TestClient, name: str, kind: str) -> dict[str, Any]:
    """Run a quick or full check of the backup named `name` and return the finished job."""
    backup_id = await backup_id_named(test_client, name)
    started = await post_json(
        test_client, f"/api/backups/{backup_id}/checks", {"kind": kind}, status=202
    )
    job = await wait_for_job(test_client, started["job"]["id"])
    assert job["state"] == "succeeded", job
    return job
