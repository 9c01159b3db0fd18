"""A file's history across backups on the page: find, compare two versions, compare two backups.

Thin handlers over inspection.file_history, file_compare, live_config and
backup_diff. Searches read saved file lists; archives without one are read
once (in the archive-read pool, so the backup list stays quick) and saved.
Each backup is opened with the password it was unlocked with on the page;
locked backups are named in the answer. Today's config folder is only read.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from backup_inspector.inspection.archive_walk import EntryNotFoundError
from backup_inspector.inspection.backup_diff import ArchiveLockedError, diff_backups
from backup_inspector.inspection.extract_job import ReadEntryError
from backup_inspector.inspection.file_compare import (
    FileSide,
    TooLargeToCompareError,
    compare_sides,
    read_version,
)
from backup_inspector.inspection.file_history import find_across_backups
from backup_inspector.inspection.index_store import IndexStore
from backup_inspector.inspection.live_config import LiveFileError, read_live_file
from backup_inspector.web.api_errors import ApiError, bad_request, read_json_object, require_string
from backup_inspector.web.app_services import AppServices, services_of
from backup_inspector.web.backup_registry import KnownBackup, backup_id_for
from backup_inspector.web.backup_routes import require_overview
from backup_inspector.web.browse_routes import member_path_from_body

routes = web.RouteTableDef()

MAX_PATTERN_LENGTH = 255


def _store(services: AppServices) -> IndexStore | None:
    """The saved file lists (the same folder and rules as browsing uses)."""
    settings = services.settings
    if settings.data_dir is None:
        return None
    return IndexStore(settings.data_dir / "index", remember_protected=settings.remember_index)


def _find(services: AppServices, pattern: str) -> dict[str, Any]:
    """The history answer, each version with the backup id the page links to."""
    result = find_across_backups(
        services.settings.backup_dir,
        pattern,
        store=_store(services),
        password_for=lambda path: services.passwords.get(backup_id_for(path.name)),
    )
    shown = result.to_json()
    for history in shown["histories"]:
        for group in history["groups"]:
            for version in [group["first"], *group["versions"]]:
                version["backup_id"] = backup_id_for(version["backup"])
    for locked in shown["locked"]:
        locked["backup_id"] = backup_id_for(locked["backup"])
    return shown


@routes.post("/api/history/find")
async def find_file(request: web.Request) -> web.Response:
    """Every version of the files matching a name or glob, grouped by content."""
    services = services_of(request)
    body = await read_json_object(request)
    pattern = require_string(body, "pattern", max_length=MAX_PATTERN_LENGTH)
    if not pattern.strip().strip("/"):
        raise bad_request("Type a file name or a pattern such as *.yaml.", code="empty-pattern")
    await services.refresh_backups()
    return web.json_response(await services.run_archive_read(_find, services, pattern))


async def _side(services: AppServices, side: Any, key: str) -> tuple[KnownBackup, str, str]:
    """The backup, archive and path a compare request names for one side."""
    if not isinstance(side, dict):
        raise bad_request(f"'{key}' must name a backup, an archive and a path.")
    known = await services.find_backup(require_string(side, "backup_id", max_length=64))
    require_overview(known)
    archive = require_string(side, "archive", max_length=255)
    return known, archive, member_path_from_body(side, "path")


def _read_side(services: AppServices, known: KnownBackup, archive: str, path: str) -> FileSide:
    """One version's bytes, labelled like `diff` labels them."""
    overview = require_overview(known)
    found, data = read_version(overview, archive, path, services.passwords.get(known.backup_id))
    return FileSide(f"{known.display_name}: {archive}/{found}", data)


def _compare(
    services: AppServices,
    old: tuple[KnownBackup, str, str],
    new: tuple[KnownBackup, str, str] | None,
) -> dict[str, Any]:
    """Compare a version with another one, or (new None) with today's config."""
    try:
        old_side = _read_side(services, *old)
        if new is None:
            location, data = read_live_file(services.settings.config_dir, old[1], old[2])
            relative = location.relative_to(services.settings.config_dir.resolve())
            new_side = FileSide(f"today's config: {relative.as_posix()}", data)
        else:
            new_side = _read_side(services, *new)
    except TooLargeToCompareError as error:
        raise ApiError(413, "too-large-to-compare", str(error)) from error
    except (EntryNotFoundError, LiveFileError) as error:
        raise ApiError(404, "no-such-file", str(error)) from error
    except ReadEntryError as error:
        raise ApiError(422, "unreadable", str(error)) from error
    return compare_sides(old_side, new_side).to_json()


@routes.post("/api/history/compare")
async def compare_versions(request: web.Request) -> web.Response:
    """Two versions of a file, or one version and today's config (`"new": "config"`)."""
    services = services_of(request)
    body = await read_json_object(request)
    old = await _side(services, body.get("old"), "old")
    new = None if body.get("new") == "config" else await _side(services, body.get("new"), "new")
    return web.json_response(await services.run_archive_read(_compare, services, old, new))


def _diff_backups(services: AppServices, old: KnownBackup, new: KnownBackup) -> dict[str, Any]:
    """Per archive added/removed/changed, plus metadata differences."""
    result = diff_backups(
        require_overview(old),
        require_overview(new),
        store=_store(services),
        password=services.passwords.get(old.backup_id),
        new_password=services.passwords.get(new.backup_id),
    )
    return result.to_json() | {"has_differences": result.has_differences}


@routes.post("/api/history/backup-diff")
async def compare_backups(request: web.Request) -> web.Response:
    """'Compare with…': what changed from one backup to another."""
    services = services_of(request)
    body = await read_json_object(request)
    old = await services.find_backup(require_string(body, "old_backup_id", max_length=64))
    new = await services.find_backup(require_string(body, "new_backup_id", max_length=64))
    try:
        shown = await services.run_archive_read(_diff_backups, services, old, new)
    except ArchiveLockedError as error:  # diff_backups names locked archives; this is a guard
        raise ApiError(409, "locked", str(error)) from error
    return web.json_response(shown)
