"""A fake Home Assistant ingress proxy for tests: serves the app under /api/hassio_ingress/<token>/.

It behaves like the two real hops (Core, then the Supervisor) where the app
can tell the difference (addon-platform.md §8):

* the app sees the path without the prefix and gets `X-Ingress-Path`,
  `X-Hass-Source`, `X-Forwarded-For/Host/Proto`; `Accept-Encoding` is dropped;
* URLs whose decoded path or query match Home Assistant's request filters are
  answered with 400 before they reach the app (so a test catches a path or a
  search term sent in a query string);
* redirects are passed through unfollowed; responses and WebSocket messages
  (pings and pongs included) are relayed as they come;
* `/panel` serves a page that embeds the app in a same-origin iframe, like the
  Home Assistant sidebar panel.

The app is reached over loopback, so its peer allow-list lets the proxy in.
`BackgroundServers` runs the app and the proxy in a thread with their own
event loop, for synchronous browser tests.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from typing import Any
from urllib.parse import unquote

import aiohttp
from aiohttp import web

from backup_inspector.web.connection_guard import GuardedTCPSite
from backup_inspector.web.middlewares import parse_trusted_proxies

DEFAULT_TOKEN = "Q5xB6P0ZvtdRlyO2K7kwE3sfHmLu9iNc1TJaXYeg8rW"
INGRESS_PREFIX = "/api/hassio_ingress"

# Hop-by-hop and proxy-owned headers that are never forwarded as they are.
_REQUEST_HEADERS_DROPPED = frozenset(
    {
        "host",
        "accept-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "transfer-encoding",
        "content-length",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
    }
)
_RESPONSE_HEADERS_DROPPED = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}
)

# Home Assistant's request filters, as described in addon-platform.md §8.5.
_FILTERS = (
    re.compile(r"\.\./"),
    re.compile(r"<.*script.*>", re.IGNORECASE),
    re.compile(r"union.*select.*\(", re.IGNORECASE),
    re.compile(r"union.*all.*select", re.IGNORECASE),
    re.compile(r"concat.*\(", re.IGNORECASE),
    re.compile(r"[A-Za-z0-9_]=/[^/]/"),
    re.compile(r"[\t\r\n]"),
)

PANEL_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Home Assistant</title>
<link rel="icon" href="data:,">
<style>html,body{{margin:0;height:100%}}iframe{{border:0;width:100%;height:100%}}</style>
</head><body><iframe id="ingress-frame" title="Backup Inspector" src="{src}"></iframe></body></html>
"""


def is_blocked_by_request_filters(raw_path_and_query: str) -> bool:
    """Whether Home Assistant would answer 400 for this URL (decoded path or query)."""
    decoded = unquote(raw_path_and_query)
    return any(pattern.search(decoded) for pattern in _FILTERS)


def _forwarded_headers(request: web.Request, token: str) -> dict[str, str]:
    """The headers the app receives through ingress."""
    headers = {
        name: value
        for name, value in request.headers.items()
        if name.lower() not in _REQUEST_HEADERS_DROPPED
    }
    headers["X-Ingress-Path"] = f"{INGRESS_PREFIX}/{token}"
    headers["X-Hass-Source"] = "core.ingress"
    peer = request.remote or "127.0.0.1"
    headers["X-Forwarded-For"] = f"{peer}, 172.30.32.1"
    headers["X-Forwarded-Host"] = request.host
    headers["X-Forwarded-Proto"] = request.scheme
    return headers


async def _relay_websocket(
    request: web.Request, session: aiohttp.ClientSession, target_url: str, headers: dict[str, str]
) -> web.WebSocketResponse:
    """Relay a WebSocket message by message, pings and pongs included (autoping off)."""
    protocols = [
        protocol.strip()
        for protocol in request.headers.get("Sec-WebSocket-Protocol", "").split(",")
        if protocol.strip()
    ]
    headers = {k: v for k, v in headers.items() if k.lower() != "sec-websocket-protocol"}
    async with session.ws_connect(
        target_url, headers=headers, protocols=protocols, autoping=False, autoclose=False
    ) as upstream:
        downstream = web.WebSocketResponse(protocols=protocols, autoping=False, autoclose=False)
        await downstream.prepare(request)

        async def pump(
            source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
            sink: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
        ) -> None:
            """Copy messages one way until either side closes."""
            async for message in source:
                if message.type is aiohttp.WSMsgType.TEXT:
                    await sink.send_str(message.data)
                elif message.type is aiohttp.WSMsgType.BINARY:
                    await sink.send_bytes(message.data)
                elif message.type is aiohttp.WSMsgType.PING:
                    await sink.ping(message.data)
                elif message.type is aiohttp.WSMsgType.PONG:
                    await sink.pong(message.data)
                elif message.type is aiohttp.WSMsgType.CLOSE:
                    await sink.close(code=message.data or 1000)
                    return
                else:
                    return

        tasks = [
            asyncio.create_task(pump(downstream, upstream)),
            asyncio.create_task(pump(upstream, downstream)),
        ]
        _done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in pending:
            with suppress(asyncio.CancelledError, ConnectionError):
                await task
        if not downstream.closed:
            await downstream.close()
        return downstream


SESSION: web.AppKey[aiohttp.ClientSession] = web.AppKey("session", aiohttp.ClientSession)


def create_ingress_proxy(target_base_url: str, token: str = DEFAULT_TOKEN) -> web.Application:
    """An app that proxies /api/hassio_ingress/<token>/<path> to `target_base_url`/<path>."""
    target_base_url = target_base_url.rstrip("/")

    async def session_context(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(auto_decompress=False) as session:
            app[SESSION] = session
            yield

    async def panel(_request: web.Request) -> web.Response:
        """The sidebar panel: the app in a same-origin iframe."""
        return web.Response(
            text=PANEL_PAGE.format(src=f"{INGRESS_PREFIX}/{token}/"), content_type="text/html"
        )

    async def proxy(request: web.Request) -> web.StreamResponse:
        """Forward one request to the app, as ingress does."""
        if request.match_info["token"] != token:
            return web.Response(status=401, text="401: Unauthorized")
        if is_blocked_by_request_filters(request.raw_path):
            return web.Response(status=400, text="400: Bad Request (filtered)")
        tail = request.match_info["tail"]
        query = f"?{request.query_string}" if request.query_string else ""
        target_url = f"{target_base_url}/{tail}{query}"
        headers = _forwarded_headers(request, token)
        session = request.app[SESSION]
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await _relay_websocket(request, session, target_url, headers)
        body = await request.read() if request.can_read_body else None
        async with session.request(
            request.method, target_url, headers=headers, data=body, allow_redirects=False
        ) as upstream:
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for name, value in upstream.headers.items():
                if name.lower() not in _RESPONSE_HEADERS_DROPPED:
                    response.headers.add(name, value)
            if upstream.content_length is not None:
                response.content_length = upstream.content_length
            await response.prepare(request)
            async for chunk in upstream.content.iter_chunked(64 * 1024):
                await response.write(chunk)
            await response.write_eof()
            return response

    app = web.Application()
    app.cleanup_ctx.append(session_context)
    app.router.add_get("/panel", panel)
    app.router.add_route("*", INGRESS_PREFIX + "/{token}/{tail:.*}", proxy)
    return app


async def start_site(
    app: web.Application, host: str = "127.0.0.1", *, guarded: bool = False
) -> tuple[web.AppRunner, str]:
    """Start `app` on a free port; returns its runner and base URL (with a trailing slash).

    `guarded`: behind the connection guard the add-on's server uses (loopback trusted).
    """
    runner = web.AppRunner(app)
    await runner.setup()
    site: web.BaseSite
    if guarded:
        site = GuardedTCPSite(runner, host, 0, parse_trusted_proxies([]))
    else:
        site = web.TCPSite(runner, host, 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]
    return runner, f"http://{host}:{port}/"


class BackgroundServers:
    """Runs the app and the ingress proxy in a thread with their own loop (for sync tests).

    `ingress_url` is the page's URL as the browser sees it in Home Assistant;
    `panel_url` embeds it in an iframe; `app_url` is the app without a prefix.
    """

    def __init__(self, app_factory: Callable[[], web.Application], token: str = DEFAULT_TOKEN):
        self._app_factory = app_factory
        self._token = token
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runners: list[web.AppRunner] = []
        self.app_url = ""
        self.proxy_url = ""
        self.ingress_url = ""
        self.panel_url = ""

    def __enter__(self) -> BackgroundServers:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=60)
        return self

    def __exit__(self, *_exc_info: Any) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        app_runner, self.app_url = await start_site(self._app_factory(), guarded=True)
        proxy_runner, self.proxy_url = await start_site(
            create_ingress_proxy(self.app_url, self._token)
        )
        self._runners = [proxy_runner, app_runner]
        self.ingress_url = f"{self.proxy_url}{INGRESS_PREFIX.lstrip('/')}/{self._token}/"
        self.panel_url = f"{self.proxy_url}panel"

    async def _stop(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
