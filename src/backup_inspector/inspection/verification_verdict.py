"""One word for a check report: ok, failing or unverified — what the watch and Home Assistant show.

"ok" needs a full check that read every archive to its last byte with no
error. A backup whose only errors are about its key (no password given, or
the configured one does not open it) is "unverified": nothing says it is
damaged, but nothing proved it restores either. Every other error is
"failing". Warnings and `info` findings never change the word.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

KEY_PROBLEM_CODES = frozenset({"password-required", "wrong-password"})


class Verification(StrEnum):
    """The verdict of the last check of one backup version."""

    OK = "ok"
    FAILING = "failing"
    UNVERIFIED = "unverified"


def error_codes(report: Mapping[str, Any]) -> list[str]:
    """The codes of the report's errors, sorted, each once."""
    return sorted(
        {
            str(problem.get("code"))
            for problem in report.get("problems", [])
            if problem.get("severity") == "error"
        }
    )


def verification_of(report: Mapping[str, Any]) -> Verification | None:
    """The verdict of a report in CheckReport.to_json() shape; None for a cancelled one."""
    if report.get("cancelled"):
        return None
    codes = set(error_codes(report))
    if codes - KEY_PROBLEM_CODES:
        return Verification.FAILING
    if report.get("ok") and report.get("level") == "full" and not codes:
        return Verification.OK
    return Verification.UNVERIFIED
