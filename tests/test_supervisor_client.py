"""The Supervisor client against a fake Supervisor: token, envelope, failures that never raise."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from backup_inspector.supervisor_client import SupervisorClient
from web.fake_supervisor import FITTING_INFO, TOKEN

INFO = FITTING_INFO

ServerFactory = Callable[..., Awaitable[TestServer]]


def fake_supervisor(host_status: int = 200, info_delay_s: float = 0.0) -> web.Application:
    """/info and /host/info in the Supervisor's envelope; 401 without the right token."""

    async def answer(request: web.Request, data: dict[str, Any], status: int) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"result": "error", "message": "Unauthorized"}, status=401)
        return web.json_response({"result": "ok", "data": data}, status=status)

    async def info(request: web.Request) -> web.Response:
        await asyncio.sleep(info_delay_s)
        return await answer(request, INFO, 200)

    async def host_info(request: web.Request) -> web.Response:
        return await answer(request, {"disk_free": 23.4, "hostname": "ha"}, host_status)

    app = web.Application()
    app.router.add_get("/info", info)
    app.router.add_get("/host/info", host_info)
    return app


@pytest.fixture
async def start_supervisor() -> Any:
    """Start a fake Supervisor; stopped after the test."""
    servers: list[TestServer] = []

    async def start(app: web.Application) -> str:
        server = TestServer(app)
        await server.start_server()
        servers.append(server)
        return str(server.make_url("/"))

    yield start
    for server in servers:
        await server.close()


async def test_reads_info_and_disk_free(start_supervisor: Any) -> None:
    """/info gives versions, arch and machine; /host/info gives disk_free."""
    url = await start_supervisor(fake_supervisor())
    facts = await SupervisorClient(TOKEN, base_url=url).read_target_facts()
    assert facts is not None
    assert facts.supervisor == "2026.11.0" and facts.machine == "generic-x86-64"
    assert facts.supported_arch == ("amd64", "i386") and facts.disk_free_gb == 23.4


async def test_host_info_failure_only_loses_disk_free(start_supervisor: Any) -> None:
    """A failing /host/info leaves disk_free unknown; the rest is still read."""
    url = await start_supervisor(fake_supervisor(host_status=500))
    facts = await SupervisorClient(TOKEN, base_url=url).read_target_facts()
    assert facts is not None and facts.disk_free_gb is None and facts.arch == "amd64"


async def test_wrong_token_returns_none_and_logs_once(
    start_supervisor: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A refused token gives None, never an exception, and one log line however often it is tried."""
    url = await start_supervisor(fake_supervisor())
    client = SupervisorClient("wrong", base_url=url)
    with caplog.at_level(logging.WARNING):
        assert await client.read_target_facts() is None
        assert await client.get_data("/info") is None
    assert len([r for r in caplog.records if "Could not read" in r.message]) == 1


async def test_timeout_returns_none(start_supervisor: Any) -> None:
    """A Supervisor that does not answer in time gives None within the timeout."""
    url = await start_supervisor(fake_supervisor(info_delay_s=5))
    client = SupervisorClient(TOKEN, base_url=url, timeout_s=0.3)
    assert await asyncio.wait_for(client.read_target_facts(), timeout=3) is None


async def test_unreachable_supervisor_returns_none() -> None:
    """Nothing listening: None."""
    client = SupervisorClient(TOKEN, base_url="http://127.0.0.1:9", timeout_s=2)
    assert await client.read_target_facts() is None


def test_no_token_means_no_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside Home Assistant (no SUPERVISOR_TOKEN) there is no client."""
    monkeypatch.delenv("SUPERVISOR_TOKEN", raising=False)
    assert SupervisorClient.from_environment() is None
    monkeypatch.setenv("SUPERVISOR_TOKEN", TOKEN)
    assert SupervisorClient.from_environment() is not None
