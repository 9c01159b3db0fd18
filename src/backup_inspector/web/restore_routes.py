"""The system a restore would run on: read from the Supervisor at start and on demand.

`GET /api/system` returns the facts the restore rules use (issue 10), read
with `supervisor_client` when the app starts; `?refresh=1` reads them again
(after a Supervisor or Core update, say). Outside Home Assistant there is no
token, and the answer says so: the check then predicts without a target.
The check jobs take the facts from here (`current_target`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web

from backup_inspector.inspection.target_facts import TargetFacts
from backup_inspector.supervisor_client import SupervisorClient

routes = web.RouteTableDef()


@dataclass
class SystemFacts:
    """The Supervisor client (None on a desktop) and the last facts it read."""

    client: SupervisorClient | None
    target: TargetFacts | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def refresh(self) -> TargetFacts | None:
        """Read the facts again; keep the previous ones if the Supervisor does not answer."""
        if self.client is None:
            return None
        async with self._lock:
            facts = await self.client.read_target_facts()
            if facts is not None:
                self.target = facts
        return self.target

    def to_json(self) -> dict[str, object]:
        """{"available": is there a Supervisor, "target": the facts or null}."""
        return {
            "available": self.client is not None,
            "target": self.target.to_json() if self.target is not None else None,
        }


SYSTEM_FACTS: web.AppKey[SystemFacts] = web.AppKey("system_facts", SystemFacts)


async def system_facts_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: a SystemFacts (unless one was given), read once in the background at start."""
    if SYSTEM_FACTS not in app:
        app[SYSTEM_FACTS] = SystemFacts(SupervisorClient.from_environment())
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


@routes.get("/api/system")
async def get_system(request: web.Request) -> web.Response:
    """The facts about this system; `?refresh=1` reads them from the Supervisor first."""
    holder = request.app[SYSTEM_FACTS]
    if request.query.get("refresh") == "1":
        await holder.refresh()
    return web.json_response(holder.to_json())
