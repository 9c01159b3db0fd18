"""create_app(settings): the aiohttp application with its routes, middlewares and services."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from backup_inspector.inspection.index_store import IndexStore
from backup_inspector.inspection.job_runner import JobRunner
from backup_inspector.inspection.private_folder import remove_abandoned_private_folders
from backup_inspector.web import (
    backup_routes,
    browse_routes,
    copy_routes,
    download_routes,
    extract_routes,
    health_routes,
    history_routes,
    job_routes,
    restore_routes,
)
from backup_inspector.web.app_services import SERVICES, AppServices
from backup_inspector.web.backup_registry import BackupRegistry
from backup_inspector.web.check_history import CheckHistory
from backup_inspector.web.download_routes import DOWNLOAD_TICKETS, DownloadTickets
from backup_inspector.web.event_hub import EventHub
from backup_inspector.web.extract_destination import remove_stale_partials_in_share
from backup_inspector.web.job_routes import OPEN_WEBSOCKETS
from backup_inspector.web.listing_cache import (
    ListingCache,
    MemoryListingCache,
    PersistentListingCache,
)
from backup_inspector.web.middlewares import (
    add_security_headers,
    json_errors_middleware,
    mutation_guard_middleware,
    parse_trusted_proxies,
    peer_allow_list_middleware,
)
from backup_inspector.web.password_store import PasswordStore
from backup_inspector.web.upload_store import UploadStore
from backup_inspector.web.watch_service import watch_context
from backup_inspector.web.web_settings import WebSettings

_LOGGER: logging.Logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
MAX_REQUEST_BODY_BYTES = 1024 * 1024  # JSON only; an emergency kit is a few KB


async def health(_request: web.Request) -> web.Response:
    """GET /healthz: the container's health check."""
    return web.json_response({"status": "ok"})


async def index_page(_request: web.Request) -> web.FileResponse:
    """GET /: the single page; every URL in it is relative."""
    return web.FileResponse(STATIC_DIR / "index.html")


def _forward_job_events(services: AppServices) -> None:
    """Every job event goes to every open page."""
    services.jobs.add_listener(
        lambda snapshot: services.events.publish({"type": "job", "job": snapshot})
    )


async def _watch_backup_folder(services: AppServices) -> None:
    """Rescan the backup folder every few seconds; forget idle passwords."""
    while True:
        await asyncio.sleep(services.settings.folder_poll_interval_s)
        try:
            await services.refresh_backups()
        except Exception:
            _LOGGER.exception("Scanning the backup folder failed")
        for job in services.jobs.snapshots():
            if job["subject"] and job["state"] in ("queued", "running"):
                services.passwords.get(job["subject"])  # a job using it keeps it alive
        services.listings.trim()
        for backup_id in services.passwords.forget_idle():
            services.listings.discard_backup(backup_id)
            services.events.publish({"type": "password-forgotten", "backup_id": backup_id})


def index_store_for(settings: WebSettings) -> IndexStore | None:
    """The store of completed listings in `<data_dir>/index`; None without a data folder."""
    if settings.data_dir is None:
        return None
    return IndexStore(settings.data_dir / "index", remember_protected=settings.remember_index)


def listing_cache_for(store: IndexStore | None, passwords: PasswordStore) -> ListingCache:
    """Listings in memory, plus saved on disk when there is a store.

    Encrypted backups' listings reach the disk only with the remember_index
    option (sealed with their password); without it they stay in memory.
    """
    memory = MemoryListingCache()
    if store is None:
        return memory
    return PersistentListingCache(memory, store, passwords.get)


def _forget_sealed_indexes(store: IndexStore) -> None:
    """remember_index is off: remove sealed listings saved while it was on."""
    removed = store.remove_sealed_indexes()
    if removed:
        _LOGGER.info(
            "Removed %d saved file lists of encrypted backups (remember_index is off)", removed
        )


async def _services_context(app: web.Application) -> AsyncIterator[None]:
    """Create the services on startup; stop jobs, sockets and threads on cleanup."""
    settings = app[SETTINGS]
    passwords = PasswordStore(settings.password_idle_s)
    store = index_store_for(settings)
    services = AppServices(
        settings=settings,
        registry=BackupRegistry(settings.backup_dir),
        passwords=passwords,
        jobs=JobRunner(
            max_heavy_jobs=settings.max_heavy_jobs, max_light_jobs=settings.max_light_jobs
        ),
        listings=listing_cache_for(store, passwords),
        check_history=CheckHistory(settings.data_dir),
        events=EventHub(asyncio.get_running_loop()),
    )
    app[SERVICES] = services
    _forward_job_events(services)
    if store is not None and not settings.remember_index:
        await services.run_blocking(_forget_sealed_indexes, store)
    # A database decrypted by a check the app was killed in must not outlive it.
    await services.run_blocking(remove_abandoned_private_folders, settings.database_check_dir)
    await services.refresh_backups()
    # Partial files of an extraction killed with the app (SIGKILL, power loss).
    await services.run_blocking(
        remove_stale_partials_in_share, settings.share_dir, settings.share_folder_name
    )
    watcher = asyncio.create_task(_watch_backup_folder(services))
    try:
        yield
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        services.passwords.forget_all()
        await asyncio.get_running_loop().run_in_executor(None, services.jobs.shutdown)
        services.shutdown_pools()


async def _uploads_context(app: web.Application) -> AsyncIterator[None]:
    """Files uploaded for copies: in <data>/uploads, none kept past the app's life."""
    data_dir = app[SETTINGS].data_dir
    store = UploadStore(data_dir / "uploads" if data_dir is not None else None)
    app[copy_routes.UPLOADS] = store
    try:
        yield
    finally:
        store.discard_all()


async def _close_websockets(app: web.Application) -> None:
    """on_shutdown: end every event stream so the server can stop promptly."""
    app[SERVICES].events.close_all()
    for websocket in list(app[OPEN_WEBSOCKETS]):
        await websocket.close(code=1001, message=b"server shutting down")


SETTINGS: web.AppKey[WebSettings] = web.AppKey("settings", WebSettings)


def create_app(settings: WebSettings) -> web.Application:
    """The Backup Inspector web application for `settings`."""
    app = web.Application(
        middlewares=[
            json_errors_middleware,
            peer_allow_list_middleware(parse_trusted_proxies(settings.trusted_proxies)),
            mutation_guard_middleware,
        ],
        client_max_size=MAX_REQUEST_BODY_BYTES,
    )
    app[SETTINGS] = settings
    app[DOWNLOAD_TICKETS] = DownloadTickets()
    app[OPEN_WEBSOCKETS] = set()
    app.on_response_prepare.append(add_security_headers)
    app.cleanup_ctx.append(_services_context)
    app.cleanup_ctx.append(restore_routes.system_facts_context)
    app.cleanup_ctx.append(watch_context)  # after the services it uses
    app.cleanup_ctx.append(_uploads_context)
    app.on_shutdown.append(_close_websockets)
    app.router.add_get("/healthz", health)
    app.router.add_get("/", index_page)
    for module in (
        backup_routes,
        browse_routes,
        extract_routes,
        download_routes,
        job_routes,
        restore_routes,
        health_routes,
        copy_routes,
        history_routes,
    ):
        app.router.add_routes(module.routes)
    app.router.add_static("/static/", STATIC_DIR, follow_symlinks=False)
    return app
