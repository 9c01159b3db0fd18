"""A fake Home Assistant Core API on 127.0.0.1 that records every call, can go down and restart."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class RecordedCall:
    """One request as Core received it."""

    method: str
    path: str
    authorization: str | None
    body: str
    raw_headers: str

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class FakeCore:
    """Core's state machine and notifications, as far as the reporter uses them."""

    calls: list[RecordedCall] = field(default_factory=list)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    notifications: dict[str, dict[str, Any]] = field(default_factory=dict)
    is_down: bool = False
    server: TestServer | None = None

    @property
    def api_url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/api"))

    def restart(self) -> None:
        """Core restarted: states posted through the API and notifications are gone."""
        self.states.clear()
        self.notifications.clear()

    def service_calls(self, service: str) -> list[dict[str, Any]]:
        """The data of every persistent_notification/<service> call, in order."""
        return [
            call.json
            for call in self.calls
            if call.path == f"/api/services/persistent_notification/{service}"
        ]

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        self.calls.append(
            RecordedCall(
                request.method,
                request.path,
                request.headers.get("Authorization"),
                body,
                "\n".join(f"{key}: {value}" for key, value in request.headers.items()),
            )
        )
        if self.is_down:
            return web.json_response({"message": "down"}, status=503)
        if request.headers.get("Authorization") is None:
            return web.json_response({"message": "unauthorized"}, status=401)
        return self._answer(request.method, request.path, json.loads(body) if body else None)

    def _answer(self, method: str, path: str, data: Any) -> web.Response:
        if path == "/api/" and method == "GET":
            return web.json_response({"message": "API running."})
        if path.startswith("/api/states/"):
            entity_id = path.removeprefix("/api/states/")
            if method == "POST":
                self.states[entity_id] = data
                return web.json_response(data, status=201)
            if entity_id in self.states:
                return web.json_response(self.states[entity_id])
            return web.json_response({"message": "Entity not found."}, status=404)
        if path == "/api/services/persistent_notification/create":
            self.notifications[data["notification_id"]] = data
            return web.json_response([])
        if path == "/api/services/persistent_notification/dismiss":
            self.notifications.pop(data["notification_id"], None)
            return web.json_response([])
        return web.json_response({"message": "not found"}, status=404)


async def start_fake_core() -> FakeCore:
    """A running fake Core API; stop it with `await core.server.close()`."""
    core = FakeCore()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", core._handle)
    core.server = TestServer(app, host="127.0.0.1")
    await core.server.start_server()
    return core


async def wait_for(condition, timeout_s: float = 30.0) -> None:
    """Poll `condition()` until true; fail (not hang) after `timeout_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)
