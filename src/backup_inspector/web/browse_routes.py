"""Browsing one archive: start its listing, then page through folders or a name filter.

The listing runs as a heavy job that fills an ArchiveIndex entry by entry, so
the page can show the first folders while the archive still streams; the page
re-asks for the folder it shows whenever the listing job reports progress.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from aiohttp import web

from backup_inspector.backup_format.tar_entry import normalise_member_path
from backup_inspector.inspection.archive_index import (
    ROOT,
    ArchiveIndex,
    BrowsableIndex,
    ListingPage,
)
from backup_inspector.inspection.backup_overview import BackupOverview, InnerArchive
from backup_inspector.inspection.job_runner import JobContext, JobFailedError
from backup_inspector.inspection.listing_job import list_entries
from backup_inspector.inspection.progress import JobCancelledError
from backup_inspector.web.api_errors import (
    ApiError,
    bad_request,
    optional_int,
    optional_string,
    read_json_object,
    require_string,
)
from backup_inspector.web.app_services import AppServices, services_of
from backup_inspector.web.backup_registry import KnownBackup
from backup_inspector.web.backup_routes import require_overview
from backup_inspector.web.engine_errors import explained_os_errors
from backup_inspector.web.listing_cache import ListingKey

_LOGGER: logging.Logger = logging.getLogger(__name__)

routes = web.RouteTableDef()

DEFAULT_PAGE_SIZE = 200
MAX_PAGE_SIZE = 1000
MAX_PATH_LENGTH = 4096


def require_archive(overview: BackupOverview, archive_name: str) -> InnerArchive:
    """The inner archive called `archive_name`, or a 404 ApiError."""
    archive = overview.find_archive(archive_name)
    if archive is None:
        raise ApiError(
            404, "unknown-archive", f"This backup has no archive called '{archive_name}'."
        )
    return archive


def member_path_from_body(body: dict[str, Any], key: str) -> str:
    """An entry path from the request, normalised; '..' components are refused."""
    raw = require_string(body, key, max_length=MAX_PATH_LENGTH)
    path = normalise_member_path(raw)
    if ".." in path.split("/"):
        raise bad_request("Paths with '..' are not allowed.", code="bad-path")
    return path


def folder_from_body(body: dict[str, Any]) -> str:
    """The folder to show ('' = the archive root)."""
    if body.get("folder") in (None, "", "."):
        return ROOT
    folder = member_path_from_body(body, "folder")
    return ROOT if folder == "." else folder


def require_password_if_encrypted(
    services: AppServices, known: KnownBackup, archive: InnerArchive
) -> None:
    """409 when an encrypted archive is asked for before a password is set."""
    is_encrypted = archive.encryption.value.startswith("securetar")
    if is_encrypted and not services.passwords.state(known.backup_id).is_set:
        raise ApiError(
            409,
            "password-required",
            f"{archive.file_name} is encrypted: enter the backup's password first.",
        )


def _listing_work(
    services: AppServices,
    known: KnownBackup,
    overview: BackupOverview,
    archive: InnerArchive,
    index: ArchiveIndex,
    key: ListingKey,
    started: threading.Event,
):
    """The job body of one listing: fill the index as entries are read.

    It waits for `started`: the index learns its job id only after the job
    was submitted, and a small archive listed before that would be left
    marked as still running under a job that already ended.
    """

    def run_listing(context: JobContext) -> dict[str, Any]:
        """List the archive into the index; record how the listing ended."""
        started.wait()
        password = services.passwords.get(known.backup_id)
        try:
            with explained_os_errors(known.path):
                check = list_entries(
                    overview,
                    archive.name,
                    password,
                    on_entry=index.add,
                    progress=context.report_progress,
                    cancel=context.cancel,
                )
        except JobCancelledError:
            index.fail(
                "cancelled", "The listing was cancelled; open the archive again to restart it."
            )
            raise
        except JobFailedError as failure:
            index.fail(failure.code, failure.message)
            raise
        except Exception:
            index.fail("internal-error", "Listing this archive failed unexpectedly.")
            raise
        # The page words a damaged archive differently when every entry was read.
        result = {**check.to_json(), "read_to_end": check.read_to_end}
        if not check.entries and not check.ok:
            # Nothing could be read (wrong password, unsupported): let the next try start afresh.
            index.fail("not-readable", _first_problem_message(result))
            services.listings.discard(key)
        else:
            index.finish(result)
            services.listings.completed(key, index, password)
        return {"archive": archive.name, "listing": index.status_json()}

    return run_listing


def _first_problem_message(result: dict[str, Any]) -> str:
    """The message of the first problem in an ArchiveCheck JSON."""
    problems = result.get("problems") or []
    if problems:
        return str(problems[0].get("message"))
    return "This archive could not be read."


def ensure_listing(
    services: AppServices, known: KnownBackup, overview: BackupOverview, archive: InnerArchive
) -> BrowsableIndex:
    """The archive's index; starts a listing job unless one ran, runs, or was saved earlier."""
    key = services.listing_key(known, archive.name)
    index, is_new = services.listings.get_or_create(key)
    status = index.status_json()
    needs_restart = not is_new and not status["is_complete"] and status["job_id"] is None
    if needs_restart:
        services.listings.discard(key)
        index, is_new = services.listings.get_or_create(key)
    if is_new:
        assert isinstance(index, ArchiveIndex)  # only a memory index is ever new
        started = threading.Event()
        try:
            job = services.jobs.submit(
                "listing",
                f"Listing {archive.file_name} of {known.display_name}",
                _listing_work(services, known, overview, archive, index, key, started),
                subject=known.backup_id,
                is_heavy=True,
            )
            index.start(job.job_id)
        finally:
            started.set()
    return index


@routes.post("/api/backups/{backup_id}/listing")
async def start_listing(request: web.Request) -> web.Response:
    """Start (or join) the listing of one archive; returns how far it is."""
    services = services_of(request)
    body = await read_json_object(request)
    archive_name = require_string(body, "archive", max_length=255)
    known = await services.find_backup(request.match_info["backup_id"])
    overview = require_overview(known)
    archive = require_archive(overview, archive_name)
    require_password_if_encrypted(services, known, archive)
    # A saved index is opened off the event loop (file hash, SQLite, key derivation).
    await services.run_blocking(services.listings.get, services.listing_key(known, archive.name))
    index = ensure_listing(services, known, overview, archive)
    status = index.status_json()
    job = services.jobs.snapshot(status["job_id"]) if status["job_id"] else None
    return web.json_response({"listing": status, "job": job})


def breadcrumbs(archive: InnerArchive, folder: str) -> list[dict[str, str]]:
    """[{name, folder}] from the archive root down to `folder`."""
    crumbs = [{"name": archive.file_name, "folder": ROOT}]
    if folder == ROOT:
        return crumbs
    parts = folder.split("/")
    for depth, part in enumerate(parts, start=1):
        crumbs.append({"name": part, "folder": "/".join(parts[:depth])})
    return crumbs


def _read_page(
    index: BrowsableIndex, folder: str, name_filter: str, offset: int, limit: int
) -> tuple[ListingPage, dict[str, Any]]:
    """One page of a search or of a folder, and the listing's status after it.

    404 for a folder that a complete listing does not have.
    """
    if name_filter:
        page = index.search(name_filter, offset, limit)
    else:
        if folder != ROOT and not index.has_folder(folder) and index.is_complete:
            raise ApiError(404, "unknown-folder", f"There is no folder '{folder}' in this archive.")
        page = index.folder_page(folder, offset, limit)
    return page, index.status_json()


@routes.post("/api/backups/{backup_id}/browse")
async def browse_folder(request: web.Request) -> web.Response:
    """One page of a folder (or of a name filter across the archive)."""
    services = services_of(request)
    body = await read_json_object(request)
    archive_name = require_string(body, "archive", max_length=255)
    folder = folder_from_body(body)
    name_filter = (optional_string(body, "filter", max_length=255) or "").strip()
    offset = optional_int(body, "offset", 0, minimum=0, maximum=10_000_000)
    limit = optional_int(body, "limit", DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
    known = await services.find_backup(request.match_info["backup_id"])
    overview = require_overview(known)
    archive = require_archive(overview, archive_name)
    # Off the event loop: a saved index may be opened here (SQLite, key derivation).
    index = await services.run_blocking(
        services.listings.get, services.listing_key(known, archive.name)
    )
    if index is None:
        raise ApiError(409, "not-listed", "Open the archive first: its listing has not started.")
    # Every index reads SQLite (a listing's own database, or a saved one) and a
    # search reads every name, a chunk at a time: off the event loop.
    page, status = await services.run_blocking(
        _read_page, index, folder, name_filter, offset, limit
    )
    return web.json_response(
        {
            "archive": archive.name,
            "folder": folder,
            "filter": name_filter,
            "breadcrumbs": breadcrumbs(archive, folder),
            "entries": page.rows,
            "total": page.total,
            # Fewer than `total` when only the first matches can be paged (an encrypted
            # backup's saved list); absent means all of them.
            **({"pageable": page.pageable} if page.pageable is not None else {}),
            "offset": page.offset,
            "limit": limit,
            "listing": status,
        }
    )
