"""Jobs: status for polling, cancel, and live events over a WebSocket.

The WebSocket is the main channel (it survives both ingress hops, and small
messages are safe, addon-platform.md §8.9). It sends a keep-alive message and
a ping frame every few seconds so idle proxies do not cut it. The polling
endpoints are the fallback when it is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from aiohttp import WSMsgType, web

from backup_inspector import __version__
from backup_inspector.inspection.job_runner import JobState
from backup_inspector.web.api_errors import ApiError, read_json_object
from backup_inspector.web.app_services import AppServices, services_of
from backup_inspector.web.middlewares import is_cross_site

_LOGGER: logging.Logger = logging.getLogger(__name__)

routes = web.RouteTableDef()

# Home Assistant's ingress hop refuses messages above about 4 MiB; job results
# are capped to a quarter of this (inspection/result_caps.py), so only a bug
# can reach it, and then the event is cut rather than the socket.
MAX_WEBSOCKET_MESSAGE_BYTES = 1024 * 1024

OPEN_WEBSOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("open_websockets", set)


def require_job(services: AppServices, job_id: str) -> dict[str, Any]:
    """A job's snapshot, or a 404 ApiError."""
    snapshot = services.jobs.snapshot(job_id)
    if snapshot is None:
        raise ApiError(404, "unknown-job", "There is no such job (it may have finished long ago).")
    return snapshot


@routes.get("/api/jobs")
async def list_jobs(request: web.Request) -> web.Response:
    """Every remembered job, optionally of one backup (?backup=<id>)."""
    services = services_of(request)
    backup_id = request.query.get("backup")
    return web.json_response({"jobs": services.jobs.snapshots(subject=backup_id)})


@routes.get("/api/jobs/{job_id}")
async def show_job(request: web.Request) -> web.Response:
    """One job's state, progress and result (the polling fallback)."""
    services = services_of(request)
    return web.json_response({"job": require_job(services, request.match_info["job_id"])})


@routes.post("/api/jobs/{job_id}/cancel")
async def cancel_job(request: web.Request) -> web.Response:
    """Cancel a queued or running job."""
    services = services_of(request)
    await read_json_object(request)
    job_id = request.match_info["job_id"]
    require_job(services, job_id)
    services.jobs.cancel(job_id)
    return web.json_response({"job": require_job(services, job_id)})


@routes.get("/api/info")
async def show_info(request: web.Request) -> web.Response:
    """Version and settings the page shows (folder names, idle time)."""
    services = services_of(request)
    settings = services.settings
    return web.json_response(
        {
            "version": __version__,
            "share_folder_name": settings.share_folder_name,
            "password_idle_s": settings.password_idle_s,
            "max_heavy_jobs": settings.max_heavy_jobs,
        }
    )


def _bounded_message(event: dict[str, Any]) -> str:
    """`event` as JSON text under MAX_WEBSOCKET_MESSAGE_BYTES.

    A job event that is too large loses its result (the page can still poll
    the job); anything else too large is replaced by a notice.
    """
    text = json.dumps(event)
    if len(text.encode()) <= MAX_WEBSOCKET_MESSAGE_BYTES:
        return text
    _LOGGER.warning("A %s event was too large for the WebSocket and was cut", event.get("type"))
    if event.get("type") == "job":
        job = dict(event["job"], result=None, result_omitted=True)
        return json.dumps({"type": "job", "job": job})
    return json.dumps({"type": "event-omitted", "original_type": event.get("type")})


async def _send_event(websocket: web.WebSocketResponse, event: dict[str, Any]) -> None:
    """Send one event as a message of bounded size."""
    await websocket.send_str(_bounded_message(event))


async def _send_hello(websocket: web.WebSocketResponse, services: AppServices) -> None:
    """The greeting with the jobs still going, then each finished job as its own event.

    Finished jobs carry results of up to a few hundred KB each, and up to
    FINISHED_JOBS_KEPT are remembered: sent in one hello they could add up
    to many MB, so each goes in a message of its own.
    """
    snapshots = services.jobs.snapshots()
    finished = [job for job in snapshots if JobState(job["state"]).is_finished]
    going = [job for job in snapshots if not JobState(job["state"]).is_finished]
    await _send_event(
        websocket,
        {"type": "hello", "backups_version": services.registry.version, "jobs": going},
    )
    for job in finished:
        await _send_event(websocket, {"type": "job", "job": job})


async def _forward_events(
    websocket: web.WebSocketResponse,
    queue: asyncio.Queue[dict[str, Any] | None],
    keepalive_s: float,
) -> None:
    """Send queued events; a keep-alive message and a ping when nothing happens."""
    while not websocket.closed:
        try:
            event = await asyncio.wait_for(queue.get(), timeout=keepalive_s)
        except TimeoutError:
            await websocket.send_json({"type": "keepalive"})
            await websocket.ping()
            continue
        if event is None:
            return
        await _send_event(websocket, event)


async def _read_client_messages(websocket: web.WebSocketResponse) -> None:
    """Answer the page's own pings; return when the page goes away."""
    async for message in websocket:
        if message.type is WSMsgType.TEXT and message.data == '{"type":"ping"}':
            await websocket.send_json({"type": "pong"})
        elif message.type is WSMsgType.ERROR:
            return


@routes.get("/ws")
async def event_socket(request: web.Request) -> web.WebSocketResponse:
    """Live job and folder events for the page."""
    if is_cross_site(request):
        raise ApiError(403, "cross-site", "Requests from other sites are refused.")
    services = services_of(request)
    websocket = web.WebSocketResponse(max_msg_size=64 * 1024)
    await websocket.prepare(request)
    open_websockets = request.app[OPEN_WEBSOCKETS]
    open_websockets.add(websocket)
    queue = services.events.subscribe()
    try:
        await _send_hello(websocket, services)
        sender = asyncio.create_task(
            _forward_events(websocket, queue, services.settings.websocket_keepalive_s)
        )
        reader = asyncio.create_task(_read_client_messages(websocket))
        done, pending = await asyncio.wait({sender, reader}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await task
        for task in done:
            with contextlib.suppress(ConnectionError):
                task.result()
    finally:
        services.events.unsubscribe(queue)
        open_websockets.discard(websocket)
        if not websocket.closed:
            await websocket.close()
    return websocket
