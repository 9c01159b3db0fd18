"""Making a copy from the page: upload a replacement file, plan, then the copy job.

Thin on purpose: the copy job (inspection/copy_job) writes, checks and
renames; this module turns JSON into a CopyRequest, puts the copy into the
backup folder under a new file name, and afterwards asks the Supervisor to
reload its backups so Home Assistant lists the copy next to the original.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from backup_inspector.backup_format.copy_metadata import copy_name
from backup_inspector.inspection.archive_walk import ArchiveNotFoundError
from backup_inspector.inspection.backup_overview import BackupOverview
from backup_inspector.inspection.copy_job import CopyError, CopyRequest, FileEdit, make_copy
from backup_inspector.inspection.job_runner import JobContext, JobFailedError
from backup_inspector.supervisor_client import reload_backups
from backup_inspector.web.api_errors import ApiError, bad_request, optional_string, read_json_object
from backup_inspector.web.app_services import AppServices, services_of
from backup_inspector.web.backup_registry import KnownBackup
from backup_inspector.web.backup_routes import require_overview
from backup_inspector.web.engine_errors import DISK_FULL_ERRNOS, explained_os_errors
from backup_inspector.web.extract_destination import free_space_bytes, sanitise_folder_name
from backup_inspector.web.upload_store import UPLOAD_PIECE_BYTES, UploadStore

_LOGGER: logging.Logger = logging.getLogger(__name__)

routes = web.RouteTableDef()

UPLOADS: web.AppKey[UploadStore] = web.AppKey("uploads", UploadStore)
UPLOAD_ROUTE_NAME = "copy-upload"  # the one route that takes multipart, not JSON
MODES = ("keep", "decrypt", "new-password")
MAX_NAME_LENGTH = 200
MAX_EDITS = 100
MAX_PASSWORD_LENGTH = 1024


@dataclass(frozen=True)
class CopyPlan:
    """A validated copy request from the page, and the file it will be written to."""

    request: CopyRequest
    upload_ids: tuple[str, ...]
    file_name: str
    source_bytes: int


def _file_name_for(backup_dir: Path, name: str) -> str:
    """A new *.tar name in the backup folder, from the copy's name; never an existing file."""
    stem = sanitise_folder_name(name, "backup_copy")
    candidate = f"{stem}.tar"
    while (backup_dir / candidate).exists():
        candidate = f"{stem}_{secrets.token_hex(2)}.tar"
    return candidate


def _mode_options(body: dict[str, Any]) -> tuple[bool, str | None]:
    """(decrypt, new password) from {"mode": "keep"|"decrypt"|"new-password", "new_password"}."""
    mode = body.get("mode", "keep")
    if mode not in MODES:
        raise bad_request("'mode' must be 'keep', 'decrypt' or 'new-password'.")
    if mode != "new-password":
        return mode == "decrypt", None
    new_password = optional_string(body, "new_password", max_length=MAX_PASSWORD_LENGTH)
    if not new_password:
        raise bad_request("Enter the new password or emergency-kit key.", code="password-missing")
    return False, new_password


def _edits(
    uploads: UploadStore, body: dict[str, Any]
) -> tuple[tuple[FileEdit, ...], tuple[str, ...]]:
    """[{"archive", "path", "upload_id" | null}] as FileEdits; uploads must exist."""
    raw = body.get("edits") or []
    if not isinstance(raw, list) or len(raw) > MAX_EDITS:
        raise bad_request(f"'edits' must be a list of at most {MAX_EDITS} changes.")
    edits: list[FileEdit] = []
    upload_ids: list[str] = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("Each edit needs an 'archive' and a 'path'.")
        archive, path = item.get("archive"), item.get("path")
        if not isinstance(archive, str) or not isinstance(path, str) or not path.strip("/"):
            raise bad_request("Each edit needs an 'archive' and a 'path'.")
        if path.startswith("/") or ".." in path.split("/"):
            raise bad_request(f"'{path}' is not a path inside the archive.", code="bad-path")
        upload_id = item.get("upload_id")
        if upload_id is None:
            edits.append(FileEdit(archive, path, None))
            continue
        upload = uploads.get(upload_id) if isinstance(upload_id, str) else None
        if upload is None:
            raise bad_request("The uploaded file is gone; upload it again.", code="unknown-upload")
        edits.append(FileEdit(archive, path, upload.path))
        upload_ids.append(upload.upload_id)
    return tuple(edits), tuple(upload_ids)


def _drop(body: dict[str, Any], overview: BackupOverview) -> tuple[str, ...]:
    """Archive names to leave out; each must exist."""
    raw = body.get("drop") or []
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        raise bad_request("'drop' must be a list of archive names.")
    for name in raw:
        if overview.find_archive(name) is None:
            raise ApiError(404, "unknown-archive", f"This backup has no archive called {name!r}.")
    return tuple(raw)


def parse_copy_request(
    services: AppServices, uploads: UploadStore, known: KnownBackup, body: dict[str, Any]
) -> CopyPlan:
    """Validate the page's request; 4xx ApiError for anything that cannot work."""
    overview = require_overview(known)
    if overview.metadata is None:
        raise ApiError(409, "metadata-missing", "This backup has no usable backup.json to copy.")
    if overview.is_protected and not services.passwords.state(known.backup_id).is_set:
        raise ApiError(409, "password-required", "Enter the backup's password first.")
    decrypt, new_password = _mode_options(body)
    name = optional_string(body, "name", max_length=MAX_NAME_LENGTH)
    name = name.strip() if name and name.strip() else copy_name(overview.metadata.name)
    edits, upload_ids = _edits(uploads, body)
    backup_dir = services.settings.backup_dir
    file_name = _file_name_for(backup_dir, name)
    taken = frozenset(
        b.overview.metadata.slug
        for b in services.registry.backups()
        if b.overview is not None and b.overview.metadata is not None
    )
    request = CopyRequest(
        destination=backup_dir / file_name,
        name=name,
        decrypt=decrypt,
        new_password=new_password,
        drop=_drop(body, overview),
        edits=edits,
        taken_slugs=taken,
    )
    return CopyPlan(request, upload_ids, file_name, known.file_size)


def plan_json(services: AppServices, plan: CopyPlan) -> dict[str, Any]:
    """The summary the page shows before writing."""
    request = plan.request
    free = free_space_bytes(services.settings.backup_dir)
    return {
        "name": request.name,
        "file": plan.file_name,
        "encryption": "none"
        if request.decrypt
        else ("securetar-v3" if request.new_password else "unchanged"),
        "drop": list(request.drop),
        "edits": [
            {
                "archive": e.archive,
                "path": e.path,
                "action": "delete" if e.local_file is None else "replace",
            }
            for e in request.edits
        ],
        "source_bytes": plan.source_bytes,
        "free_bytes": free,
        # A copy is about as large as its source (less what is dropped).
        "has_enough_space": plan.source_bytes <= free,
    }


@routes.post("/api/backups/{backup_id}/copy/plan")
async def plan_copy(request: web.Request) -> web.Response:
    """What the copy will be, and whether the backup folder has room for it."""
    services = services_of(request)
    body = await read_json_object(request)
    known = await services.find_backup(request.match_info["backup_id"])
    plan = parse_copy_request(services, request.app[UPLOADS], known, body)
    return web.json_response({"plan": await services.run_blocking(plan_json, services, plan)})


@contextlib.contextmanager
def _disk_full_explained() -> Iterator[None]:
    """A full disk here is the backup folder's (engine_errors would blame the share folder)."""
    try:
        yield
    except OSError as error:
        if error.errno not in DISK_FULL_ERRNOS:
            raise
        raise JobFailedError(
            "disk-full",
            "The backup folder ran out of space while the copy was written. The partial copy "
            "was removed; free some space, or leave archives out of the copy.",
        ) from error


def _copy_work(services: AppServices, uploads: UploadStore, known: KnownBackup, plan: CopyPlan):
    """The job body of one copy."""

    def run_copy(context: JobContext) -> dict[str, Any]:
        """Write and check the copy, then tell the Supervisor; uploads are removed either way."""
        overview = require_overview(known)
        password = services.passwords.get(known.backup_id)
        try:
            with explained_os_errors(known.path), _disk_full_explained():
                report = make_copy(
                    overview,
                    password,
                    plan.request,
                    progress=context.report_progress,
                    cancel=context.cancel,
                    database_dir=services.settings.database_check_dir,
                )
        except CopyError as err:
            raise JobFailedError("copy-failed", err.message) from err
        except (ArchiveNotFoundError, ValueError, FileExistsError) as err:
            raise JobFailedError("copy-refused", str(err)) from err
        finally:
            for upload_id in plan.upload_ids:
                uploads.discard(upload_id)
        reload = reload_backups()
        result = report.to_json()
        result["check"] = {"ok": report.check.ok, "problems": result["check"]["problems"]}
        return {"copy": result, "file": plan.file_name, "reload": reload.to_json()}

    return run_copy


@routes.post("/api/backups/{backup_id}/copy")
async def start_copy(request: web.Request) -> web.Response:
    """Start a copy job (heavy: queued behind other heavy jobs)."""
    services = services_of(request)
    uploads = request.app[UPLOADS]
    body = await read_json_object(request)
    known = await services.find_backup(request.match_info["backup_id"])
    plan = parse_copy_request(services, uploads, known, body)
    summary = await services.run_blocking(plan_json, services, plan)
    if not summary["has_enough_space"]:
        raise ApiError(507, "not-enough-space", "The backup folder has not enough free space.")
    job = services.jobs.submit(
        "copy",
        f"Copying {known.display_name} to {plan.file_name}",
        _copy_work(services, uploads, known, plan),
        subject=known.backup_id,
        is_heavy=True,
    )
    return web.json_response(
        {"job": services.jobs.snapshot(job.job_id), "plan": summary}, status=202
    )


@routes.post("/api/uploads", name=UPLOAD_ROUTE_NAME)
async def upload_file(request: web.Request) -> web.Response:
    """Stream one multipart file part to disk; answer its id, name and size."""
    uploads = request.app[UPLOADS]
    services = services_of(request)
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError) as err:
        raise bad_request("Send the file as multipart/form-data.") from err
    part = await reader.next()
    if part is None or getattr(part, "name", None) != "file":
        raise bad_request("The upload needs one part called 'file'.")
    upload_id, path = uploads.new_file()
    size = 0
    try:
        handle = await services.run_blocking(_open_private, path)
        try:
            while chunk := await part.read_chunk(UPLOAD_PIECE_BYTES):  # type: ignore[union-attr]
                await services.run_blocking(handle.write, chunk)
                size += len(chunk)
        finally:
            await services.run_blocking(handle.close)
    except OSError as err:
        uploads.discard(upload_id)
        raise ApiError(
            507, "upload-failed", f"The upload could not be stored: {err.strerror}."
        ) from err
    except BaseException:
        uploads.discard(upload_id)
        raise
    upload = uploads.add(upload_id, getattr(part, "filename", None) or "upload", size)
    return web.json_response({"upload": upload.to_json()}, status=201)


def _open_private(path: Path):
    """A new file only this process can read."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
