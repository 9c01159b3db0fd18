"""The system a restore would run on: read from the Supervisor at start and on demand.

`GET /api/system` returns the facts the restore rules use (issue 10), read
with `supervisor_client` when the app starts; `?refresh=1` reads them again
(after a Supervisor or Core update, say), and a full check reads them again
first when they are older than `STALE_AFTER_S`: a full check takes minutes,
and its prediction should not be about the system as it was an hour ago.
Outside Home Assistant there is no token, and the answer says so: the check
then predicts without a target. The check jobs take the facts from here
(`current_target`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web

from backup_inspector.inspection.target_facts import TargetFacts
from backup_inspector.supervisor_client import SUPERVISOR_URL, SupervisorClient

routes = web.RouteTableDef()

STALE_AFTER_S = 300.0  # a Supervisor or Core update takes minutes; so does a full check


@dataclass
class SystemFacts:
    """The Supervisor client (None on a desktop) and the last facts it read."""

    client: SupervisorClient | None
    target: TargetFacts | None = None
    read_at: float | None = None  # time.time() of the last answer
    _read_monotonic: float | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def refresh(self) -> TargetFacts | None:
        """Read the facts again; keep the previous ones if the Supervisor does not answer."""
        if self.client is None:
            return None
        async with self._lock:
            facts = await self.client.read_target_facts()
            if facts is not None:
                self.target = facts
                self.read_at = time.time()
                self._read_monotonic = time.monotonic()
        return self.target

    async def refresh_if_stale(self, max_age_s: float = STALE_AFTER_S) -> TargetFacts | None:
        """The facts, read again first if they are older than `max_age_s` (or never read)."""
        age = None if self._read_monotonic is None else time.monotonic() - self._read_monotonic
        if age is None or age > max_age_s:
            return await self.refresh()
        return self.target

    def to_json(self) -> dict[str, object]:
        """{"available": is there a Supervisor, "target": the facts or null, "read_at"}."""
        return {
            "available": self.client is not None,
            "target": self.target.to_json() if self.target is not None else None,
            "read_at": self.read_at,
        }


SYSTEM_FACTS: web.AppKey[SystemFacts] = web.AppKey("system_facts", SystemFacts)
#: Where the Supervisor answers; tests set a fake one on 127.0.0.1.
SUPERVISOR_BASE_URL: web.AppKey[str] = web.AppKey("supervisor_base_url", str)


async def system_facts_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: a SystemFacts (unless one was given), read once in the background at start."""
    if SYSTEM_FACTS not in app:
        base_url = app.get(SUPERVISOR_BASE_URL, SUPERVISOR_URL)
        app[SYSTEM_FACTS] = SystemFacts(SupervisorClient.from_environment(base_url))
    first_read = asyncio.create_task(app[SYSTEM_FACTS].refresh())
    try:
        yield
    finally:
        first_read.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await first_read


def current_target(app: web.Application) -> TargetFacts | None:
    """The facts a check started now should predict against (None: not known)."""
    holder = app.get(SYSTEM_FACTS)
    return holder.target if holder is not None else None


async def fresh_target(app: web.Application) -> TargetFacts | None:
    """The facts for a full check: read again first when they are older than STALE_AFTER_S."""
    holder = app.get(SYSTEM_FACTS)
    return await holder.refresh_if_stale() if holder is not None else None


@routes.get("/api/system")
async def get_system(request: web.Request) -> web.Response:
    """The facts about this system; `?refresh=1` reads them from the Supervisor first."""
    holder = request.app[SYSTEM_FACTS]
    if request.query.get("refresh") == "1":
        await holder.refresh()
    return web.json_response(holder.to_json())
