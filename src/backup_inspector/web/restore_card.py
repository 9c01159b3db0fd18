"""What the page's "Will it restore here?" card shows, built from a check report.

The report's `restore` object names each part and the codes that decide its
outcome; the person reading the card needs the sentence behind each code
and, for a part that is skipped, what stops the restore before it. This
module joins the two once, in Python, so the page only lays it out and the
joining is tested without a browser.

The backup list remembers the card of the last check (`check_history`). For
an encrypted backup it keeps the codes but not the sentences: a sentence can
name an entry inside an encrypted archive, and entry names of encrypted
backups never reach the disk unless the person asked (remember_index).
"""

from __future__ import annotations

from typing import Any

SUPERVISOR_CONFIG_PART = "supervisor-config"
SUPERVISOR_CONFIG_ARCHIVE = "supervisor"

STOPPED_EARLIER = (
    "The restore stops before this part: restoring Home Assistant fails, "
    "so the Supervisor does not go on to the apps and its own settings."
)


def archive_of_part(part: str) -> str:
    """The inner archive's name of a part: `folder:share` -> `share`, `addon:x` -> `x`."""
    if part == SUPERVISOR_CONFIG_PART:
        return SUPERVISOR_CONFIG_ARCHIVE
    return part.removeprefix("folder:").removeprefix("addon:")


def _part_label(part: str, app_names: dict[str, str]) -> str:
    """A part as a person names it: "Home Assistant", "Folder share", "App Mosquitto broker"."""
    if part == "homeassistant":
        return "Home Assistant"
    if part == SUPERVISOR_CONFIG_PART:
        return "Supervisor settings"
    if part.startswith("folder:"):
        return f"Folder {part.removeprefix('folder:')}"
    if part.startswith("addon:"):
        slug = part.removeprefix("addon:")
        return f"App {app_names.get(slug) or slug}"
    return part


def _reason(problem: dict[str, Any], with_messages: bool) -> dict[str, Any]:
    """One reason of a part: code, severity and (unless kept back) its sentence."""
    return {
        "code": problem.get("code"),
        "severity": problem.get("severity"),
        "message": problem.get("message") if with_messages else None,
    }


def _part_reasons(
    part: dict[str, Any], problems: list[dict[str, Any]], with_messages: bool
) -> list[dict[str, Any]]:
    """The problems behind a part's codes; for a skipped part, also what stopped the restore."""
    archive = archive_of_part(str(part.get("part")))
    codes = set(part.get("codes") or [])
    reasons = [
        _reason(problem, with_messages)
        for problem in problems
        if problem.get("archive") == archive and problem.get("code") in codes
    ]
    if part.get("outcome") == "skipped" and not any(r["severity"] == "error" for r in reasons):
        refusals = [
            _reason(problem, with_messages)
            for problem in problems
            if problem.get("archive") is None and problem.get("severity") == "error"
        ]
        stopped = {"code": None, "severity": "error", "message": STOPPED_EARLIER}
        reasons = [*(refusals or [stopped]), *reasons]
    return reasons


def restore_card(report: dict[str, Any], *, with_messages: bool = True) -> dict[str, Any] | None:
    """The card's content for a report in CheckReport.to_json() shape; None without a prediction.

    {"kind", "target", "verdict", "parts": [{"part", "label", "outcome", "codes",
    "reasons": [{"code", "severity", "message"}]}], "notes", "not_judged", "database"}.
    `notes` are the backup's own info findings (no archive), such as `partial-backup`.
    """
    restore = report.get("restore")
    if not isinstance(restore, dict):
        return None
    problems = [p for p in report.get("problems") or [] if isinstance(p, dict)]
    metadata = report.get("metadata") or {}
    app_names = {
        str(addon.get("slug")): str(addon.get("name") or "")
        for addon in metadata.get("addons") or []
        if isinstance(addon, dict)
    }
    parts = [
        {
            "part": part.get("part"),
            "label": _part_label(str(part.get("part")), app_names),
            "outcome": part.get("outcome"),
            "codes": list(part.get("codes") or []),
            "reasons": _part_reasons(part, problems, with_messages),
        }
        for part in restore.get("parts") or []
    ]
    notes = [
        _reason(problem, with_messages)
        for problem in problems
        if problem.get("archive") is None and problem.get("severity") == "info"
    ]
    return {
        "kind": report.get("level"),
        "target": restore.get("target"),
        "verdict": restore.get("verdict"),
        "parts": parts,
        "notes": notes,
        "not_judged": list(restore.get("not_judged") or []),
        "database": report.get("database"),
    }
