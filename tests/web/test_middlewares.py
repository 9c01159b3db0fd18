"""Ingress rules: who may connect, what mutating requests must look like, which headers go out."""

from __future__ import annotations

from unittest import mock

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request

from backup_inspector.web import middlewares
from backup_inspector.web.app_services import SERVICES
from backup_inspector.web.middlewares import (
    is_trusted_peer,
    parse_trusted_proxies,
    peer_allow_list_middleware,
    socket_peer_address,
)

from .web_helpers import backup_id_named

ADDON_PROXIES = parse_trusted_proxies(["172.30.32.2"])


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("172.30.32.2", True),
        ("127.0.0.1", True),
        ("127.0.0.53", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("::ffff:172.30.32.2", True),
        ("172.30.32.1", False),
        ("172.30.33.2", False),
        ("192.168.1.10", False),
        ("fe80::1", False),
        ("", False),
        (None, False),
        ("not-an-address", False),
    ],
)
def test_trusted_peers(address: str | None, expected: bool) -> None:
    """Only the Supervisor's ingress address and loopback are trusted."""
    assert is_trusted_peer(address, ADDON_PROXIES) is expected


def test_trusted_proxy_networks() -> None:
    """--trusted-proxy accepts networks as well as single addresses."""
    trusted = parse_trusted_proxies(["10.1.0.0/16"])
    assert is_trusted_peer("10.1.200.3", trusted)
    assert not is_trusted_peer("10.2.0.1", trusted)
    assert not is_trusted_peer("172.30.32.2", trusted)


def test_peer_address_comes_from_the_socket() -> None:
    """The peer is the transport's peername, not any header."""
    transport = mock.Mock()
    transport.get_extra_info.return_value = ("10.0.0.5", 41000)
    request = make_mocked_request(
        "GET", "/", headers={"X-Forwarded-For": "172.30.32.2"}, transport=transport
    )
    assert socket_peer_address(request) == "10.0.0.5"


async def test_untrusted_peer_gets_403_from_the_middleware() -> None:
    """The allow-list answers 403 without calling the handler."""
    transport = mock.Mock()
    transport.get_extra_info.return_value = ("10.0.0.5", 41000)
    request = make_mocked_request("GET", "/api/backups", transport=transport)
    handler = mock.AsyncMock(return_value=web.Response(text="secret"))
    response = await peer_allow_list_middleware(ADDON_PROXIES)(request, handler)
    assert response.status == 403
    handler.assert_not_awaited()


async def test_untrusted_peer_is_refused_everywhere(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the whole app, an untrusted socket peer gets 403 even if it claims to be a proxy."""
    monkeypatch.setattr(middlewares, "socket_peer_address", lambda _request: "192.168.1.50")
    for path in ("/", "/static/app.js", "/api/backups", "/healthz"):
        response = await client.get(path, headers={"X-Forwarded-For": "172.30.32.2"})
        assert response.status == 403, path
        body = await response.json()
        assert body["error"]["code"] == "untrusted-peer"
    response = await client.post("/api/backups/x/checks", json={"kind": "full"})
    assert response.status == 403


async def test_form_posts_are_refused(client: TestClient) -> None:
    """A mutating request without a JSON body type gets 415 and changes nothing."""
    backup_id = await backup_id_named(client, "Full backup 2026")
    response = await client.post(
        f"/api/backups/{backup_id}/checks",
        data="kind=full",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 415
    assert (await response.json())["error"]["code"] == "json-required"
    response = await client.post(f"/api/backups/{backup_id}/checks", data=b"kind=full")
    assert response.status == 415
    jobs = await (await client.get("/api/jobs")).json()
    assert jobs["jobs"] == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ],
)
async def test_cross_site_requests_are_refused(client: TestClient, headers: dict[str, str]) -> None:
    """A JSON post from another site is refused, even with the right content type."""
    backup_id = await backup_id_named(client, "Full backup 2026")
    response = await client.post(
        f"/api/backups/{backup_id}/checks", json={"kind": "full"}, headers=headers
    )
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "cross-site"


async def test_same_origin_requests_pass(client: TestClient) -> None:
    """The page's own requests (same-origin) are served."""
    backup_id = await backup_id_named(client, "Full backup 2026")
    host = f"{client.host}:{client.port}"
    response = await client.post(
        f"/api/backups/{backup_id}/checks",
        json={"kind": "quick"},
        headers={"Sec-Fetch-Site": "same-origin", "Origin": f"http://{host}"},
    )
    assert response.status == 202
    response = await client.post(
        f"/api/backups/{backup_id}/checks",
        json={"kind": "quick"},
        headers={"Origin": f"http://{host}"},
    )
    assert response.status == 202


async def test_headers_allow_the_same_origin_iframe(client: TestClient) -> None:
    """No header forbids the ingress iframe; the CSP allows only same-origin framing."""
    for path in ("/", "/api/backups", "/static/app.css"):
        response = await client.get(path)
        assert response.status == 200
        assert "X-Frame-Options" not in response.headers
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'self'" in policy
        assert "'none'" not in policy.split("frame-ancestors", 1)[1].split(";", 1)[0]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    api = await client.get("/api/backups")
    assert api.headers["Cache-Control"] == "no-store"


async def test_errors_are_json_without_traceback(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unknown routes, bad JSON and crashes all answer {"error": {"code", "message"}}."""
    response = await client.get("/api/nothing-here")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not-found"

    backup_id = await backup_id_named(client, "Full backup 2026")
    response = await client.post(
        f"/api/backups/{backup_id}/checks",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "bad-request"

    def explode() -> set[str]:
        raise RuntimeError("secret internal detail /etc/passwd")

    monkeypatch.setattr(client.app[SERVICES].registry, "refresh", explode)
    response = await client.get("/api/backups")
    assert response.status == 500
    text = await response.text()
    assert "Traceback" not in text and "secret internal detail" not in text
    assert (await response.json())["error"]["code"] == "internal-error"
