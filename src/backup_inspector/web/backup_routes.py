"""Backups: the list, one backup, its password, and its checks."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from backup_inspector.backup_format.findings import FindingCode
from backup_inspector.inspection.backup_overview import BackupOverview
from backup_inspector.inspection.check_job import CheckReport, full_check, quick_check
from backup_inspector.inspection.job_runner import JobContext
from backup_inspector.inspection.passwords import find_emergency_kit_keys, password_from_text
from backup_inspector.inspection.target_facts import TargetFacts
from backup_inspector.web.api_errors import (
    ApiError,
    bad_request,
    optional_string,
    read_json_object,
    require_string,
)
from backup_inspector.web.app_services import AppServices, services_of
from backup_inspector.web.backup_json import detail_json, summary_json
from backup_inspector.web.backup_registry import KnownBackup
from backup_inspector.web.check_listings import CheckListingRecorder
from backup_inspector.web.check_verdict import history_summary, verdict_for
from backup_inspector.web.engine_errors import explained_os_errors
from backup_inspector.web.restore_card import restore_card
from backup_inspector.web.restore_routes import current_target, fresh_target

_LOGGER: logging.Logger = logging.getLogger(__name__)

routes = web.RouteTableDef()

MAX_PASSWORD_LENGTH = 1024
MAX_KIT_TEXT_LENGTH = 64 * 1024
CHECK_KINDS = ("quick", "full")


def require_overview(known: KnownBackup) -> BackupOverview:
    """The overview of a backup that could be opened, or a 409 ApiError."""
    if known.overview is None:
        raise ApiError(409, "backup-unreadable", known.open_error or "The file cannot be opened.")
    return known.overview


@routes.get("/api/backups")
async def list_backups(request: web.Request) -> web.Response:
    """Every backup in the folder, newest first."""
    services = services_of(request)
    await services.refresh_backups()
    backups = [
        summary_json(known, services.passwords.state(known.backup_id), services.last_check(known))
        for known in services.registry.backups()
    ]
    return web.json_response(
        {
            "backups": backups,
            "version": services.registry.version,
            "folder": str(services.settings.backup_dir),
        }
    )


@routes.get("/api/backups/{backup_id}")
async def show_backup(request: web.Request) -> web.Response:
    """One backup: metadata, archives, password state, last check, running jobs."""
    services = services_of(request)
    known = await services.find_backup(request.match_info["backup_id"])
    data = detail_json(
        known,
        services.passwords.state(known.backup_id),
        services.last_check(known),
        services.settings.share_folder_name,
    )
    data["jobs"] = services.jobs.snapshots(subject=known.backup_id)
    return web.json_response(data)


def _password_from_body(body: dict[str, Any]) -> str:
    """The password to try: typed text, or the key of an uploaded emergency kit."""
    kit_text = optional_string(body, "kit_text", max_length=MAX_KIT_TEXT_LENGTH)
    if kit_text is not None:
        keys = find_emergency_kit_keys(kit_text)
        if not keys:
            raise bad_request(
                "No backup encryption key found in that file. An emergency kit contains a key "
                "of 7 groups of 4 letters or digits, like XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX.",
                code="no-key-in-kit",
            )
        if len(keys) > 1:
            raise bad_request(
                f"That file contains {len(keys)} different encryption keys; paste the right one.",
                code="several-keys-in-kit",
            )
        return keys[0]
    typed = require_string(body, "password", max_length=MAX_PASSWORD_LENGTH)
    return password_from_text(typed)


def _is_wrong_everywhere(report: CheckReport) -> bool:
    """Whether the password opened none of the encrypted archives."""
    return any(
        problem.code is FindingCode.WRONG_PASSWORD and problem.archive is None
        for problem in report.problems
    )


def _record_check(
    services: AppServices, known: KnownBackup, report_json: dict[str, Any]
) -> dict[str, Any]:
    """Remember the check for the backup list and tell open pages; the page's result of it.

    The remembered restore card of an encrypted backup keeps no sentences
    (they can name entries inside it); the answer to the page has them.
    """
    is_protected = known.overview is None or known.overview.is_protected
    summary = history_summary(report_json)
    summary["restore"] = restore_card(report_json, with_messages=not is_protected)
    services.check_history.record(known.backup_id, known.file_size, known.mtime_ns, summary)
    services.events.publish({"type": "check-recorded", "backup_id": known.backup_id})
    return {
        "report": report_json,
        "verdict": verdict_for(report_json),
        "restore": restore_card(report_json),
    }


@routes.post("/api/backups/{backup_id}/password")
async def set_password(request: web.Request) -> web.Response:
    """Try a password (or an emergency kit) with a quick check; keep it only if it fits."""
    services = services_of(request)
    body = await read_json_object(request)
    known = await services.find_backup(request.match_info["backup_id"])
    overview = require_overview(known)
    password = _password_from_body(body)
    if not overview.is_protected:
        raise bad_request("This backup is not encrypted: no password is needed.", "not-protected")
    with explained_os_errors(known.path):
        report = await services.run_archive_read(
            quick_check, overview, password, None, current_target(request.app)
        )
    report_json = report.to_json()
    if _is_wrong_everywhere(report):
        # A mistyped password says nothing about the backup: its last check stays.
        raise ApiError(
            400,
            "wrong-password",
            "That password does not open this backup. Check for typos; an emergency-kit key "
            "is 7 groups of 4 characters and the hyphens belong to it.",
        )
    is_verified = not any(p.code is FindingCode.WRONG_PASSWORD for p in report.problems)
    services.passwords.set(known.backup_id, password, is_verified=is_verified)
    check = _record_check(services, known, report_json)
    return web.json_response(
        {"password": services.passwords.state(known.backup_id).to_json(), "check": check}
    )


@routes.post("/api/backups/{backup_id}/password/forget")
async def forget_password(request: web.Request) -> web.Response:
    """Forget the password now, and the listings it decrypted."""
    services = services_of(request)
    await read_json_object(request)
    backup_id = request.match_info["backup_id"]
    known = await services.find_backup(backup_id)
    services.passwords.forget(known.backup_id)
    services.listings.discard_backup(known.backup_id)
    return web.json_response({"password": services.passwords.state(known.backup_id).to_json()})


def _check_work(
    services: AppServices,
    known: KnownBackup,
    overview: BackupOverview,
    kind: str,
    target: TargetFacts | None = None,
):
    """The job body of a quick or full check; the restore is predicted against `target`."""

    def run_check(context: JobContext) -> dict[str, Any]:
        """Check with the password as it is when the job starts; record the verdict."""
        password = services.passwords.get(known.backup_id)
        with explained_os_errors(known.path):
            if kind == "quick":
                report = quick_check(overview, password, target=target)
            else:
                listings = CheckListingRecorder(services, known, context.job.job_id)
                try:
                    report = full_check(
                        overview,
                        password,
                        progress=context.report_progress,
                        cancel=context.cancel,
                        on_archive_entries=listings.observer_for,
                        database_dir=services.settings.database_check_dir,
                        target=target,
                    )
                except BaseException:
                    listings.abandon()
                    raise
                listings.finish(report, password)
        report_json = report.to_json()
        if password is not None and overview.is_protected and report.ok:
            services.passwords.mark_verified(known.backup_id, password)
        return _record_check(services, known, report_json)

    return run_check


@routes.post("/api/backups/{backup_id}/checks")
async def start_check(request: web.Request) -> web.Response:
    """Start a quick (light, immediate) or full (heavy, queued) check job."""
    services = services_of(request)
    body = await read_json_object(request)
    kind = require_string(body, "kind", max_length=10)
    if kind not in CHECK_KINDS:
        raise bad_request("'kind' must be 'quick' or 'full'.")
    known = await services.find_backup(request.match_info["backup_id"])
    overview = require_overview(known)
    title = f"{'Quick' if kind == 'quick' else 'Full'} check of {known.display_name}"
    target = current_target(request.app) if kind == "quick" else await fresh_target(request.app)
    job = services.jobs.submit(
        f"{kind}-check",
        title,
        _check_work(services, known, overview, kind, target),
        subject=known.backup_id,
        is_heavy=kind == "full",
    )
    return web.json_response({"job": services.jobs.snapshot(job.job_id)}, status=202)
