"""A fake Supervisor for the web and e2e tests: `/info` and `/host/info` on 127.0.0.1.

It answers as the Supervisor does (the `{"result": "ok", "data": …}`
envelope, 401 without the right token), counts the requests it gets and the
tokens they carried, and can be told to fail, so tests can see the app call
it, send the token, or leave it alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "fake-supervisor-token"  # a test token, not a secret
#: A system the demo backups fit: same Supervisor and Core, amd64.
FITTING_INFO: dict[str, Any] = {
    "supervisor": "2026.11.0",
    "homeassistant": "2026.11.2",
    "arch": "amd64",
    "supported_arch": ["amd64", "i386"],
    "machine": "generic-x86-64",
    "state": "running",
}
FITTING_DISK_FREE_GB = 23.4


@dataclass
class FakeSupervisor:
    """What the fake answers with, and what it was asked."""

    info: dict[str, Any] = field(default_factory=lambda: dict(FITTING_INFO))
    disk_free_gb: float = FITTING_DISK_FREE_GB
    is_down: bool = False  # answer 502 to everything, as while the Supervisor restarts
    requests: list[str] = field(default_factory=list)
    tokens: list[str | None] = field(default_factory=list)

    def app(self) -> web.Application:
        """The aiohttp application to serve."""
        app = web.Application()
        app.router.add_get("/info", self._info)
        app.router.add_get("/host/info", self._host_info)
        return app

    async def _answer(self, request: web.Request, data: dict[str, Any]) -> web.Response:
        self.requests.append(request.path)
        authorization = request.headers.get("Authorization")
        self.tokens.append(authorization)
        if self.is_down:
            return web.json_response({"result": "error", "message": "Bad gateway"}, status=502)
        if authorization != f"Bearer {TOKEN}":
            return web.json_response({"result": "error", "message": "Unauthorized"}, status=401)
        return web.json_response({"result": "ok", "data": data})

    async def _info(self, request: web.Request) -> web.Response:
        return await self._answer(request, self.info)

    async def _host_info(self, request: web.Request) -> web.Response:
        return await self._answer(request, {"disk_free": self.disk_free_gb, "hostname": "ha"})
