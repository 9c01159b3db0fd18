"""GET /api/health: the page's health summary of the backup folder."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from backup_inspector.web.app_services import services_of
from backup_inspector.web.backup_health import BackupHealth, newest_json, verdict_counts
from backup_inspector.web.backup_registry import backup_id_for
from backup_inspector.web.watch_service import WATCH, WatchService

routes = web.RouteTableDef()


def size_points(watch: WatchService, healths: list[BackupHealth]) -> list[dict[str, Any]]:
    """Backup sizes over time, oldest first: the folder's backups and deleted ones remembered."""
    points = {
        health.backup_id: {
            "id": health.backup_id,
            "label": health.name,
            "date": health.date.isoformat(),
            "size": health.size,
            "present": True,
        }
        for health in healths
    }
    for row in watch.verdicts.sizes():
        points.setdefault(row["id"], {**row, "present": False})
    return sorted(points.values(), key=lambda point: point["date"])


def watch_json(watch: WatchService) -> dict[str, Any]:
    """Whether the watch runs, how many backups wait, and which one is being checked."""
    watcher = watch.watcher
    if watcher is None:
        return {"enabled": False, "queued": 0, "checking": None}
    current = watcher.current_path()
    return {
        "enabled": True,
        "queued": len(watcher.queued_paths()),
        "checking": backup_id_for(current.name) if current is not None else None,
    }


@routes.get("/api/health")
async def show_health(request: web.Request) -> web.Response:
    """Newest backup and its age, each backup's verdict, counts, sizes over time."""
    services = services_of(request)
    watch = request.app[WATCH]
    await services.refresh_backups()
    healths = watch.health()
    return web.json_response(
        {
            "newest": newest_json(healths),
            "backups": [health.to_json() for health in healths],
            "counts": verdict_counts(healths),
            "sizes": size_points(watch, healths),
            "watch": watch_json(watch),
            "home_assistant": {
                "enabled": watch.client is not None,
                "connected": watch.client is not None and not watch.client.is_failing,
            },
        }
    )
