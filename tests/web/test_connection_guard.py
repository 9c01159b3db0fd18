"""Untrusted peers are refused when the connection is accepted; slow headers are cut off.

A real server on 127.0.0.1 with raw TCP connections. An untrusted peer is
modelled by a trusted set that leaves loopback out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from backup_inspector.web.app_factory import create_app
from backup_inspector.web.connection_guard import GuardedTCPSite
from backup_inspector.web.middlewares import parse_trusted_proxies
from backup_inspector.web.web_settings import WebSettings

HEADER_TIMEOUT_S = 0.5
CLOSED_WITHIN_S = 3.0
HALF_REQUEST = b"GET /api/backups HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
HEALTH_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"


@pytest.fixture
async def start_server(settings: WebSettings) -> AsyncIterator[Callable[..., Awaitable[int]]]:
    """Start the app behind a GuardedTCPSite; returns its port. Cleaned up after the test."""
    runners: list[web.AppRunner] = []

    async def start(*, loopback_trusted: bool) -> int:
        runner = web.AppRunner(create_app(settings), access_log=None)
        await runner.setup()
        runners.append(runner)
        trusted = parse_trusted_proxies([], include_loopback=loopback_trusted)
        site = GuardedTCPSite(runner, "127.0.0.1", 0, trusted, HEADER_TIMEOUT_S)
        await site.start()
        return site.port

    yield start
    for runner in runners:
        await runner.cleanup()


async def _read_until_closed(reader: asyncio.StreamReader) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    began = time.monotonic()
    received = b""
    try:
        while chunk := await asyncio.wait_for(reader.read(65536), CLOSED_WITHIN_S + 2):
            received += chunk
    except ConnectionResetError:
        pass
    return received, time.monotonic() - began


@pytest.mark.timeout(60)
async def test_untrusted_peer_is_refused_before_its_headers(
    start_server: Callable[..., Awaitable[int]],
) -> None:
    """200 half-sent requests from an untrusted peer: each gets a 403 and is closed at once."""
    port = await start_server(loopback_trusted=False)
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(200)]
    for _reader, writer in connections:
        writer.write(HALF_REQUEST)
    results = await asyncio.gather(*(_read_until_closed(reader) for reader, _ in connections))
    for received, elapsed in results:
        assert received.startswith(b"HTTP/1.1 403 Forbidden\r\n")
        assert b"ingress proxy" in received
        assert elapsed < 1.0
    for _reader, writer in connections:
        writer.close()


@pytest.mark.timeout(60)
async def test_trusted_half_sent_request_is_closed_after_the_header_timeout(
    start_server: Callable[..., Awaitable[int]],
) -> None:
    """A trusted peer that never finishes its headers is dropped after the timeout, with no answer."""
    port = await start_server(loopback_trusted=True)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HALF_REQUEST)
    received, elapsed = await _read_until_closed(reader)
    writer.close()
    assert received == b""
    assert HEADER_TIMEOUT_S * 0.8 <= elapsed < CLOSED_WITHIN_S


@pytest.mark.timeout(60)
async def test_trusted_requests_pass_even_split_and_kept_alive(
    start_server: Callable[..., Awaitable[int]],
) -> None:
    """Headers split across packets (even inside CRLFCRLF) pass; a kept-alive connection serves more."""
    port = await start_server(loopback_trusted=True)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEALTH_REQUEST[:-3])
    await writer.drain()
    await asyncio.sleep(0.1)
    writer.write(HEALTH_REQUEST[-3:])
    status = await asyncio.wait_for(reader.readline(), 5)
    assert status.startswith(b"HTTP/1.1 200")
    await asyncio.wait_for(reader.readuntil(b'{"status": "ok"}'), 5)
    await asyncio.sleep(HEADER_TIMEOUT_S * 2)  # idle past the first request's deadline
    writer.write(HEALTH_REQUEST)
    status = await asyncio.wait_for(reader.readline(), 5)
    assert status.startswith(b"HTTP/1.1 200")
    writer.close()
