"""A check report in plain words: the headline and colour the page shows.

Green only when a full check read everything to the last byte with no error.
A quick check that finds nothing wrong is "so far so good", never green:
it has not read the data.
"""

from __future__ import annotations

from typing import Any

OK = "ok"
PARTIAL = "partial"  # nothing wrong found, but not everything was read
WARNING = "warning"
ERROR = "error"
PASSWORD_CODES = ("password-required", "wrong-password")  # not damage: the archive is fine


def _problem_lines(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The problems, errors first, each with its archive file name when it has one."""
    archive_files = {
        archive.get("name"): archive.get("archive") for archive in report.get("archives", [])
    }
    problems = sorted(
        report.get("problems", []), key=lambda problem: problem.get("severity") != "error"
    )
    return [
        {**problem, "archive_file": archive_files.get(problem.get("archive"))}
        for problem in problems
    ]


def verdict_for(report: dict[str, Any]) -> dict[str, Any]:
    """{"level", "title", "problems"} for a report in CheckReport.to_json() shape."""
    problems = _problem_lines(report)
    errors = [problem for problem in problems if problem.get("severity") == "error"]
    is_full = report.get("level") == "full"
    if report.get("cancelled"):
        return {"level": WARNING, "title": "The check was cancelled.", "problems": problems}
    if errors:
        codes = {problem.get("code") for problem in errors}
        if codes <= {"password-required"}:
            title = "A password is needed to check what is inside this backup."
        elif codes <= {"wrong-password"}:
            title = "The password is wrong."
        else:
            damaged = sorted(
                {problem["archive_file"] for problem in errors if problem.get("archive_file")}
            )
            title = "This backup has problems: restoring it will not fully work."
            if damaged:
                title = f"This backup has problems in {', '.join(damaged)}."
        return {"level": ERROR, "title": title, "problems": problems}
    all_read = is_full and all(archive.get("ok") for archive in report.get("archives", []))
    if all_read:
        title = "Everything was read to the last byte and verified: this backup will restore."
        # Info notes (what a restore will do) never turn green into a warning.
        warned = any(problem.get("severity") != "info" for problem in problems)
        return {"level": WARNING if warned else OK, "title": title, "problems": problems}
    if is_full:
        title = "Some archives could not be read, so this backup cannot be called good."
        return {"level": ERROR, "title": title, "problems": problems}
    title = (
        "Quick check passed: the description, the archive list and the password are fine. "
        "Run a full check to read every byte."
    )
    return {"level": PARTIAL, "title": title, "problems": problems}


def history_summary(report: dict[str, Any]) -> dict[str, Any]:
    """What the backup list remembers about a check: kind, verdict, problem codes."""
    verdict = verdict_for(report)
    return {
        "kind": report.get("level"),
        "ok": bool(report.get("ok")),
        "level": verdict["level"],
        "title": verdict["title"],
        "problem_codes": sorted({str(problem.get("code")) for problem in verdict["problems"]}),
        # Archives the check found damaged: "Make a copy…" offers to leave them out.
        "damaged_archives": sorted(
            {
                str(problem["archive"])
                for problem in verdict["problems"]
                if problem.get("severity") == "error"
                and problem.get("archive")
                and problem.get("code") not in PASSWORD_CODES
            }
        ),
    }
