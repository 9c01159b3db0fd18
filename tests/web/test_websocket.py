"""Live events: hello, job progress, folder changes and keep-alives over the WebSocket."""

from __future__ import annotations

import dataclasses
import shutil
import time
import urllib.request
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from backup_inspector.web.app_factory import create_app
from backup_inspector.web.web_settings import WebSettings

from .conftest import ClientFactory
from .ingress_proxy import BackgroundServers
from .web_helpers import backup_id_named, post_json, wait_for_job


async def receive_until(websocket: Any, wanted_type: str, timeout_s: float = 10) -> dict[str, Any]:
    """The next event of a type, skipping others."""
    deadline = time.monotonic() + timeout_s
    while True:
        event = await websocket.receive_json(timeout=max(0.1, deadline - time.monotonic()))
        if event["type"] == wanted_type:
            return event


async def test_keepalive_is_sent_when_idle(
    make_client: ClientFactory, settings: WebSettings
) -> None:
    """An idle connection gets keep-alive messages so proxies do not drop it."""
    client = await make_client(dataclasses.replace(settings, websocket_keepalive_s=0.2))
    async with client.ws_connect("/ws") as websocket:
        assert (await websocket.receive_json(timeout=5))["type"] == "hello"
        assert (await receive_until(websocket, "keepalive", 5))["type"] == "keepalive"
        await websocket.send_str('{"type":"ping"}')
        assert (await receive_until(websocket, "pong", 5))["type"] == "pong"


async def test_new_backup_file_is_announced(
    client: TestClient, backup_dir: Path, tmp_path: Path
) -> None:
    """Copying a backup into the folder makes the server announce a change."""
    source = next(backup_dir.glob("Full_backup_2026-11-20*.tar"))
    async with client.ws_connect("/ws") as websocket:
        await receive_until(websocket, "hello")
        shutil.copy2(source, backup_dir / "copied.tar")
        event = await receive_until(websocket, "backups-changed")
        assert event["version"] >= 2


async def test_check_events_reach_the_page(client: TestClient) -> None:
    """A check's progress and result arrive as job events, then the list is told to refresh."""
    backup_id = await backup_id_named(client, "Full backup 2026-11-20")
    async with client.ws_connect("/ws") as websocket:
        await receive_until(websocket, "hello")
        started = await post_json(
            client, f"/api/backups/{backup_id}/checks", {"kind": "full"}, status=202
        )
        recorded = await receive_until(websocket, "check-recorded")
        assert recorded["backup_id"] == backup_id
    final = await wait_for_job(client, started["job"]["id"])
    assert final["state"] == "succeeded"


def test_background_servers_serve_the_ingress_url(settings: WebSettings) -> None:
    """The helper the browser tests use runs app and proxy in a thread."""

    def factory() -> web.Application:
        return create_app(settings)

    with BackgroundServers(factory) as servers:
        assert b"static/app.js" in fetch_local(servers.ingress_url)
        assert b"Automatic backup" in fetch_local(servers.ingress_url + "api/backups")
        assert b"<iframe" in fetch_local(servers.panel_url)


def fetch_local(url: str) -> bytes:
    """GET a loopback http:// URL."""
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - checked just above
        return answer.read()
