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

REFUSED_WHOLE = (
    "Skipped: the Supervisor refuses the whole backup before it touches anything (see above)."
)
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


def _without_archive(reason: dict[str, Any]) -> dict[str, Any]:
    """A reason as the card shows it: code, severity, message."""
    return {key: reason.get(key) for key in ("code", "severity", "message")}


def _part_reasons(
    part: dict[str, Any], problems: list[dict[str, Any]], refusals: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The problems behind a part's codes; for a skipped part, also what stopped the restore.

    A refusal of the whole backup is told once, beside the verdict; a part
    names its code and points there, so the sentence is not repeated per part.
    """
    archive = archive_of_part(str(part.get("part")))
    codes = set(part.get("codes") or [])
    reasons = [
        problem
        for problem in problems
        if problem.get("archive") == archive and problem.get("code") in codes
    ]
    if part.get("outcome") == "skipped" and not any(r["severity"] == "error" for r in reasons):
        stopped = [
            {"code": refusal.get("code"), "severity": "error", "message": REFUSED_WHOLE}
            for refusal in refusals
        ]
        reasons = [
            *(stopped or [{"code": None, "severity": "error", "message": STOPPED_EARLIER}]),
            *reasons,
        ]
    return reasons


def restore_card(report: dict[str, Any], *, with_messages: bool = True) -> dict[str, Any] | None:
    """The card's content for a report in CheckReport.to_json() shape; None without a prediction.

    {"kind", "target", "verdict", "refusals", "parts": [{"part", "label", "outcome", "codes",
    "reasons": [{"code", "severity", "message"}]}], "notes", "not_judged", "database"}.
    `refusals` are the backup's own errors (no archive), after which the
    Supervisor restores nothing, such as `supervisor-too-old`; `notes` are its
    own info findings, such as `partial-backup`.
    """
    restore = report.get("restore")
    if not isinstance(restore, dict):
        return None
    problems = [
        _reason(problem, with_messages) | {"archive": problem.get("archive")}
        for problem in report.get("problems") or []
        if isinstance(problem, dict)
    ]
    refusals = [p for p in problems if p["archive"] is None and p["severity"] == "error"]
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
            "reasons": [_without_archive(r) for r in _part_reasons(part, problems, refusals)],
        }
        for part in restore.get("parts") or []
    ]
    notes = [p for p in problems if p["archive"] is None and p["severity"] == "info"]
    return {
        "kind": report.get("level"),
        "target": restore.get("target"),
        "verdict": restore.get("verdict"),
        "refusals": [_without_archive(r) for r in refusals],
        "parts": parts,
        "notes": [_without_archive(n) for n in notes],
        "not_judged": list(restore.get("not_judged") or []),
        "database": report.get("database"),
    }
