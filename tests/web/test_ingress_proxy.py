"""The app behind a fake ingress proxy, under /api/hassio_ingress/<token>/, as in Home Assistant."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from backup_inspector.demo.demo_backups import DEMO_PASSWORD
from backup_inspector.web.app_factory import create_app
from backup_inspector.web.web_settings import WebSettings

from .ingress_proxy import (
    DEFAULT_TOKEN,
    INGRESS_PREFIX,
    create_ingress_proxy,
    is_blocked_by_request_filters,
)
from .test_static_page import scan_index

PREFIX = f"{INGRESS_PREFIX}/{DEFAULT_TOKEN}/"


@pytest.fixture
async def ingress_client(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    aiohttp_client: Callable[..., Awaitable[TestClient]],
    settings: WebSettings,
) -> TestClient:
    """A client talking to the app only through the fake ingress proxy."""
    app_server = await aiohttp_server(create_app(settings))
    proxy_server = await aiohttp_server(create_ingress_proxy(str(app_server.make_url("/"))))
    return await aiohttp_client(proxy_server)


async def proxied_json(
    client: TestClient, method: str, path: str, payload: dict[str, Any] | None = None
) -> tuple[int, Any]:
    """Call the app through the proxy; returns (status, JSON)."""
    response = await client.request(method, PREFIX + path, json=payload)
    return response.status, await response.json()


async def test_page_and_relative_assets_load_under_the_prefix(ingress_client: TestClient) -> None:
    """The page and every asset it names load relative to the ingress URL."""
    page = await ingress_client.get(PREFIX)
    assert page.status == 200
    for url in scan_index().urls:
        if url.startswith("data:"):
            continue
        asset = await ingress_client.get(PREFIX + url)
        assert asset.status == 200, url
    outside = await ingress_client.get("/static/app.js")
    assert outside.status == 404


async def test_api_flow_through_the_proxy(ingress_client: TestClient) -> None:
    """List, unlock, check, browse and download work through ingress."""
    status, listing = await proxied_json(ingress_client, "GET", "api/backups")
    assert status == 200
    backup = next(b for b in listing["backups"] if b["name"] == "Automatic backup 2026.11.2")
    base = f"api/backups/{backup['id']}"
    status, unlocked = await proxied_json(
        ingress_client, "POST", f"{base}/password", {"password": DEMO_PASSWORD}
    )
    assert status == 200, unlocked
    status, listing_answer = await proxied_json(
        ingress_client, "POST", f"{base}/listing", {"archive": "share"}
    )
    assert status == 200
    job_id = listing_answer["job"]["id"]
    for _attempt in range(200):
        status, polled = await proxied_json(ingress_client, "GET", f"api/jobs/{job_id}")
        if polled["job"]["state"] == "succeeded":
            break
        await asyncio.sleep(0.05)
    status, page = await proxied_json(
        ingress_client, "POST", f"{base}/browse", {"archive": "share"}
    )
    assert status == 200
    file_row = next(row for row in page["entries"] if row["type"] == "file")
    status, ticket = await proxied_json(
        ingress_client, "POST", f"{base}/download", {"archive": "share", "path": file_row["path"]}
    )
    download = await ingress_client.get(PREFIX + ticket["url"])
    assert download.status == 200
    assert len(await download.read()) == file_row["size"]


async def test_websocket_events_through_the_proxy(ingress_client: TestClient) -> None:
    """The page's WebSocket (a relative "ws" URL) gets hello and job events through ingress."""
    status, listing = await proxied_json(ingress_client, "GET", "api/backups")
    backup_id = next(b["id"] for b in listing["backups"] if b["name"] == "Full backup 2026-11-20")
    async with ingress_client.ws_connect(PREFIX + "ws") as websocket:
        hello = await websocket.receive_json(timeout=5)
        assert hello["type"] == "hello"
        status, started = await proxied_json(
            ingress_client, "POST", f"api/backups/{backup_id}/checks", {"kind": "full"}
        )
        assert status == 202
        states = []
        while "succeeded" not in states:
            event = await websocket.receive_json(timeout=10)
            if event["type"] == "job" and event["job"]["id"] == started["job"]["id"]:
                states.append(event["job"]["state"])
        assert states[0] in ("queued", "running")


async def test_cross_site_websocket_is_refused(ingress_client: TestClient) -> None:
    """A WebSocket opened from another site's page is refused."""
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await ingress_client.ws_connect(
            PREFIX + "ws",
            headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        )


def test_request_filters_explain_post_bodies() -> None:
    """Home Assistant rejects paths and some free text in URLs, so they travel in bodies."""
    assert is_blocked_by_request_filters("/api/x?path=/a/b")
    assert is_blocked_by_request_filters("/api/x?q=Union%20of%20selected%20(items)")
    assert is_blocked_by_request_filters("/api/x/../y")
    assert not is_blocked_by_request_filters("/api/backups/0123456789abcdef/browse")
    assert not is_blocked_by_request_filters("/api/jobs?backup=0123456789abcdef")


async def test_panel_embeds_the_app_in_a_same_origin_iframe(ingress_client: TestClient) -> None:
    """The fake sidebar panel frames the ingress URL, as Home Assistant does."""
    panel = await ingress_client.get("/panel")
    assert PREFIX in await panel.text()
    framed = await ingress_client.get(PREFIX)
    assert "X-Frame-Options" not in framed.headers


async def test_wrong_token_is_refused(ingress_client: TestClient) -> None:
    """Only the add-on's token reaches it."""
    response = await ingress_client.get(f"{INGRESS_PREFIX}/other-token/")
    assert response.status == 401
