"""Refuses untrusted peers when the connection is accepted, and times out slow headers.

The peer allow-list middleware answers 403 only once a whole request has
arrived, so an untrusted peer could hold 1 100 half-sent requests open for as
long as it liked (slowloris). Here every accepted connection is checked at
once: a peer that is not the ingress proxy or loopback gets a short 403 and
the connection is closed before a single byte of its request is read. A
trusted peer must then send the headers of its first request within a few
seconds, or the connection is dropped.

The guard is a thin asyncio protocol in front of aiohttp's own: it decides,
then hands every call on unchanged, so aiohttp itself is not patched.
Later requests on a kept-alive connection come from the trusted proxy only
and fall under aiohttp's keep-alive timeout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web

from backup_inspector.web.middlewares import IpNetwork, RefusedPeers, is_trusted_peer

_LOGGER: logging.Logger = logging.getLogger(__name__)

DEFAULT_HEADER_TIMEOUT_S = 5.0
HEADER_END = b"\r\n\r\n"
_REFUSAL_BODY = b"Backup Inspector only answers Home Assistant's ingress proxy.\n"
REFUSAL = (
    b"HTTP/1.1 403 Forbidden\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    + f"Content-Length: {len(_REFUSAL_BODY)}\r\n".encode()
    + b"Connection: close\r\n\r\n"
    + _REFUSAL_BODY
)


def _peer_address(transport: asyncio.BaseTransport) -> str | None:
    """The IP address of the socket peer."""
    peer = transport.get_extra_info("peername")
    if isinstance(peer, (tuple, list)) and peer:
        return str(peer[0])
    return None


class GuardedProtocol(asyncio.Protocol):
    """Checks the peer on accept, watches the first header block, then delegates everything."""

    def __init__(
        self,
        make_handler: Callable[[], asyncio.Protocol],
        trusted: tuple[IpNetwork, ...],
        header_timeout_s: float,
        refused_peers: RefusedPeers,
    ) -> None:
        self._make_handler = make_handler
        self._trusted = trusted
        self._header_timeout_s = header_timeout_s
        self._refused_peers = refused_peers
        self._handler: asyncio.Protocol | None = None
        self._transport: asyncio.Transport | None = None
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Refuse an untrusted peer at once; otherwise start aiohttp and the header clock."""
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        address = _peer_address(transport)
        if not is_trusted_peer(address, self._trusted):
            self._refused_peers.note(address)
            transport.pause_reading()
            transport.write(REFUSAL)
            transport.close()
            return
        self._handler = self._make_handler()
        self._header_timer = asyncio.get_running_loop().call_later(
            self._header_timeout_s, self._headers_too_slow
        )
        self._handler.connection_made(transport)

    def _headers_too_slow(self) -> None:
        """The first request's headers did not arrive in time: drop the connection."""
        self._header_timer = None
        if self._transport is not None and not self._transport.is_closing():
            _LOGGER.debug("Closed a connection whose request headers were too slow")
            self._transport.abort()

    def _stop_header_clock(self) -> None:
        """Headers arrived (or the connection ended): no more deadline."""
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        self._header_tail = b""

    def data_received(self, data: bytes) -> None:
        """Watch for the end of the first header block, then pass the bytes on."""
        if self._handler is None:
            return  # a refused peer: nothing it sends is read
        if self._header_timer is not None:
            window = self._header_tail + data
            if HEADER_END in window:
                self._stop_header_clock()
            else:
                self._header_tail = window[-(len(HEADER_END) - 1) :]
        self._handler.data_received(data)

    def eof_received(self) -> bool | None:
        """Pass on; a refused peer's connection just closes."""
        if self._handler is None:
            return None
        return self._handler.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock and tell aiohttp."""
        self._stop_header_clock()
        if self._handler is not None:
            self._handler.connection_lost(exc)

    def pause_writing(self) -> None:
        """Back-pressure from the transport goes to aiohttp."""
        if self._handler is not None:
            self._handler.pause_writing()

    def resume_writing(self) -> None:
        """Back-pressure from the transport goes to aiohttp."""
        if self._handler is not None:
            self._handler.resume_writing()


class GuardedTCPSite(web.BaseSite):
    """A TCP site whose connections pass through GuardedProtocol first."""

    __slots__ = ("_header_timeout_s", "_host", "_port", "_refused_peers", "_trusted")

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        trusted: tuple[IpNetwork, ...],
        header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S,
    ) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port
        self._trusted = trusted
        self._header_timeout_s = header_timeout_s
        self._refused_peers = RefusedPeers()

    @property
    def name(self) -> str:
        """The URL the site listens on."""
        return f"http://{self._host}:{self.port}"

    @property
    def port(self) -> int:
        """The bound port (useful when 0 was asked for)."""
        if self._server is not None and self._server.sockets:
            return int(self._server.sockets[0].getsockname()[1])
        return self._port

    def _protocol(self) -> GuardedProtocol:
        """One guard per accepted connection, in front of aiohttp's handler."""
        server = self._runner.server
        assert server is not None
        return GuardedProtocol(server, self._trusted, self._header_timeout_s, self._refused_peers)

    async def start(self) -> None:
        """Listen; every connection is checked before aiohttp sees it."""
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, self._host, self._port, backlog=self._backlog, reuse_address=True
        )
