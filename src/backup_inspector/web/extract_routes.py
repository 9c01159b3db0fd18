"""Taking files out: plan (space needed vs free) and the extraction job.

The destination is a folder relative to the share folder; it is resolved and
checked here and again in the worker right before writing. The engine does
the safe writing (temporary names, no overwrite unless asked, nothing outside
the destination) and reports what it wrote, skipped and refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aiohttp import web

from backup_inspector.inspection.backup_overview import BackupOverview
from backup_inspector.inspection.extract_files import format_size
from backup_inspector.inspection.extract_job import ConflictPolicy, extract
from backup_inspector.inspection.extract_writer import LOW_SPACE_FLOOR_BYTES, ExtractReport
from backup_inspector.inspection.job_runner import JobContext
from backup_inspector.inspection.sensitive_archives import sensitive_archives, sensitive_warning
from backup_inspector.web.api_errors import ApiError, bad_request, optional_string, read_json_object
from backup_inspector.web.app_services import AppServices, services_of
from backup_inspector.web.backup_registry import KnownBackup
from backup_inspector.web.backup_routes import require_overview
from backup_inspector.web.browse_routes import require_archive, require_password_if_encrypted
from backup_inspector.web.engine_errors import explained_os_errors
from backup_inspector.web.extract_destination import (
    default_destination,
    free_space_bytes,
    resolve_destination,
)

_LOGGER: logging.Logger = logging.getLogger(__name__)

routes = web.RouteTableDef()

MAX_SELECTED_PATHS = 10_000
# Job results travel in WebSocket messages; Home Assistant's hop allows about
# 4 MiB per message (addon-platform.md §8.9), so long lists are cut, with counts.
MAX_REPORTED_ITEMS = 1000
REPORT_LISTS = ("written", "skipped", "refused", "renamed")
MAX_PATH_LENGTH = 4096


@dataclass(frozen=True)
class ExtractRequest:
    """A validated extraction request."""

    selections: list[tuple[str, list[str]]]
    destination_relative: str
    destination: Path


def _selected_paths(raw_paths: Any) -> list[str]:
    """The selected paths of one archive; '..' and absolute paths are refused."""
    if raw_paths is None:
        return []
    if not isinstance(raw_paths, list) or not all(isinstance(p, str) for p in raw_paths):
        raise bad_request("'paths' must be a list of entry paths.")
    paths: list[str] = []
    for raw in raw_paths:
        if not raw or len(raw) > MAX_PATH_LENGTH or "\x00" in raw:
            raise bad_request("An entry path is empty or too long.", code="bad-path")
        stripped = raw.strip("/")
        if raw.startswith("/") or ".." in stripped.split("/"):
            raise bad_request(
                f"'{raw}' is not a path inside the archive ('..' and absolute paths are refused).",
                code="bad-path",
            )
        if stripped in ("", "."):
            return []  # the archive root: everything
        paths.append(stripped)
    return paths


def parse_selections(body: dict[str, Any], overview: BackupOverview) -> list[tuple[str, list[str]]]:
    """[(archive name, [paths])] from {"selections": [{"archive", "paths"}]}."""
    raw = body.get("selections")
    if not isinstance(raw, list) or not raw:
        raise bad_request("Select at least one file, folder or archive.", code="nothing-selected")
    merged: dict[str, list[str] | None] = {}
    total_paths = 0
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("archive"), str):
            raise bad_request("Each selection needs an 'archive' name.")
        archive = require_archive(overview, item["archive"])
        paths = _selected_paths(item.get("paths"))
        total_paths += len(paths)
        if total_paths > MAX_SELECTED_PATHS:
            raise bad_request(f"Select at most {MAX_SELECTED_PATHS} entries at a time.")
        previous = merged.setdefault(archive.name, [])
        if not paths:
            merged[archive.name] = None  # the whole archive
        elif previous is not None:
            previous.extend(paths)  # in place: many items of one archive stay linear
    return [(name, paths or []) for name, paths in merged.items()]


def parse_extract_request(
    services: AppServices, known: KnownBackup, body: dict[str, Any]
) -> ExtractRequest:
    """Validate selections and destination (under the share folder)."""
    overview = require_overview(known)
    selections = parse_selections(body, overview)
    relative = optional_string(body, "destination", max_length=1024)
    if relative is None or not relative.strip():
        relative = default_destination(
            services.settings.share_folder_name, known.display_name, known.path.stem
        )
    destination = resolve_destination(services.settings.share_dir, relative)
    return ExtractRequest(selections, relative.strip().strip("/"), destination)


def space_needed(
    services: AppServices, known: KnownBackup, selections: list[tuple[str, list[str]]]
) -> tuple[int | None, int]:
    """(bytes needed or None when some archive is not listed yet, file count known)."""
    needed = 0
    file_count = 0
    for archive_name, paths in selections:
        index = services.listings.get(services.listing_key(known, archive_name))
        if index is None or not index.is_complete:
            return None, file_count
        size, count = index.selection_size(paths or ["."])
        needed += size
        file_count += count
    return needed, file_count


def plan_json(services: AppServices, known: KnownBackup, request: ExtractRequest) -> dict[str, Any]:
    """Where files go, how much space they need, how much is free and how much is kept free.

    `has_enough_space` says whether the files fit at all (down to the hard
    floor); `needs_confirmation` whether they would cut into the reserve
    Home Assistant needs (the Supervisor refuses backups and updates below
    2 GB free). Either is None while the size is unknown (archive not
    listed yet), except that a disk already below the reserve always needs
    confirmation.
    """
    needed, file_count = space_needed(services, known, request.selections)
    free = free_space_bytes(request.destination)
    reserve = services.settings.disk_reserve_bytes
    if needed is None:
        has_enough_space = None
        needs_confirmation = True if free < reserve else None
    else:
        has_enough_space = needed + min(reserve, LOW_SPACE_FLOOR_BYTES) <= free
        needs_confirmation = needed + reserve > free
    return {
        "destination": request.destination_relative,
        "destination_exists": request.destination.exists(),
        "needed_bytes": needed,
        "file_count": file_count if needed is not None else None,
        "free_bytes": free,
        "reserve_bytes": reserve,
        "has_enough_space": has_enough_space,
        "needs_confirmation": needs_confirmation,
    }


def low_space_message(plan: dict[str, Any]) -> str:
    """The question the page asks before cutting into the reserve, with the numbers."""
    free = plan["free_bytes"]
    reserve = format_size(plan["reserve_bytes"])
    consequence = (
        f"less than the {reserve} Home Assistant needs free to make backups, restore and update"
    )
    if plan["needed_bytes"] is None:
        return f"Only {format_size(free)} are free on this disk, {consequence}. Extract anyway?"
    left = max(free - plan["needed_bytes"], 0)
    return (
        f"These files need {format_size(plan['needed_bytes'])} and {format_size(free)} are free, "
        f"so only {format_size(left)} would be left: {consequence}. Extract anyway?"
    )


@routes.post("/api/backups/{backup_id}/extract/plan")
async def plan_extraction(request: web.Request) -> web.Response:
    """Check a destination and compare the space needed with the space free."""
    services = services_of(request)
    body = await read_json_object(request)
    known = await services.find_backup(request.match_info["backup_id"])
    extract_request = parse_extract_request(services, known, body)
    plan = await services.run_blocking(plan_json, services, known, extract_request)
    return web.json_response({"plan": plan})


def _conflict_policy(body: dict[str, Any]) -> ConflictPolicy:
    """The engine's ConflictPolicy for "skip", "overwrite" or "keep-both"."""
    name = body.get("conflict", ConflictPolicy.SKIP.value)
    try:
        return ConflictPolicy(name)
    except ValueError:
        raise bad_request("'conflict' must be 'skip', 'overwrite' or 'keep-both'.") from None


def shortened_report(report: ExtractReport) -> dict[str, Any]:
    """The report's JSON with each list cut to MAX_REPORTED_ITEMS and its full length as `<list>_count`.

    Cut before converting: converting whole, 50 000 refused entries became
    100 000 dicts (problems included) and the server peaked at 185 MB, only
    for the result cap to drop nearly all of them (issue 9, finding 9).
    """
    full_lengths = {key: len(getattr(report, key)) for key in (*REPORT_LISTS, "problems")}
    cut = replace(
        report,
        **{key: getattr(report, key)[:MAX_REPORTED_ITEMS] for key in full_lengths},
    )
    shortened = cut.to_json()
    for key, length in full_lengths.items():
        shortened[f"{key}_count"] = length
    return shortened


def require_sensitive_confirmation(
    overview: BackupOverview, body: dict[str, Any], archive_names: list[str]
) -> None:
    """A 409 ApiError when a sensitive archive is selected without `"confirm_sensitive": true`.

    The page shows the message in a confirmation dialog and sends the
    request again with the flag when the person says yes.
    """
    selected = sensitive_archives(require_archive(overview, name) for name in archive_names)
    if selected and body.get("confirm_sensitive") is not True:
        who_can_read = "In the share folder, every app that maps /share can read them."
        raise ApiError(
            409, "sensitive-archive-needs-confirmation", sensitive_warning(selected, who_can_read)
        )


def _extract_work(
    services: AppServices,
    known: KnownBackup,
    overview: BackupOverview,
    extract_request: ExtractRequest,
    conflict: ConflictPolicy,
    allow_low_space: bool,
):
    """The job body of one extraction."""

    def run_extraction(context: JobContext) -> dict[str, Any]:
        """Check the destination again, create it, and extract into it."""
        password = services.passwords.get(known.backup_id)
        destination = resolve_destination(
            services.settings.share_dir, extract_request.destination_relative
        )
        with explained_os_errors(known.path):
            destination.mkdir(parents=True, exist_ok=True)
            report = extract(
                overview,
                extract_request.selections,
                password,
                destination,
                conflict=conflict,
                progress=context.report_progress,
                cancel=context.cancel,
                disk_reserve_bytes=services.settings.disk_reserve_bytes,
                allow_low_space=allow_low_space,
            )
        return {
            "destination": extract_request.destination_relative,
            "report": shortened_report(report),
        }

    return run_extraction


@routes.post("/api/backups/{backup_id}/extract")
async def start_extraction(request: web.Request) -> web.Response:
    """Start an extraction job (heavy: queued behind other heavy jobs)."""
    services = services_of(request)
    body = await read_json_object(request)
    known = await services.find_backup(request.match_info["backup_id"])
    overview = require_overview(known)
    conflict = _conflict_policy(body)
    extract_request = parse_extract_request(services, known, body)
    for archive_name, _paths in extract_request.selections:
        require_password_if_encrypted(services, known, require_archive(overview, archive_name))
    require_sensitive_confirmation(
        overview, body, [name for name, _paths in extract_request.selections]
    )
    allow_low_space = body.get("allow_low_space") is True
    plan = await services.run_blocking(plan_json, services, known, extract_request)
    if plan["has_enough_space"] is False:
        raise ApiError(
            507,
            "not-enough-space",
            f"There is not enough free space in the share folder for these files: they need "
            f"{format_size(plan['needed_bytes'])}, {format_size(plan['free_bytes'])} are free.",
        )
    if plan["needs_confirmation"] and not allow_low_space:
        # The page shows this question and sends the request again with allow_low_space.
        raise ApiError(409, "low-space-confirmation", low_space_message(plan))
    job = services.jobs.submit(
        "extract",
        f"Extracting from {known.display_name} to {extract_request.destination_relative}",
        _extract_work(services, known, overview, extract_request, conflict, allow_low_space),
        subject=known.backup_id,
        is_heavy=True,
    )
    return web.json_response({"job": services.jobs.snapshot(job.job_id), "plan": plan}, status=202)
