"""ok / failing / unverified from a check report: only a full, error-free read is ok."""

from __future__ import annotations

from typing import Any

import pytest

from backup_inspector.inspection.verification_verdict import Verification, verification_of


def report(level: str = "full", ok: bool = True, *codes: tuple[str, str]) -> dict[str, Any]:
    """A report in CheckReport.to_json() shape with the given (code, severity) problems."""
    return {
        "level": level,
        "ok": ok,
        "cancelled": False,
        "problems": [{"code": code, "severity": severity} for code, severity in codes],
    }


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (report(), Verification.OK),
        (report("full", True, ("unsafe-entry", "warning"), ("x", "info")), Verification.OK),
        (report("quick"), Verification.UNVERIFIED),
        (report("full", False, ("password-required", "error")), Verification.UNVERIFIED),
        (report("full", False, ("wrong-password", "error")), Verification.UNVERIFIED),
        (report("full", False, ("archive-corrupt", "error")), Verification.FAILING),
        (
            report("full", False, ("password-required", "error"), ("truncated", "error")),
            Verification.FAILING,
        ),
    ],
)
def test_verification_of_a_report(data: dict[str, Any], expected: Verification) -> None:
    """Each report shape gets the word the watch and Home Assistant show."""
    assert verification_of(data) is expected


def test_a_cancelled_check_has_no_verdict() -> None:
    """A check that was stopped says nothing about the backup."""
    assert verification_of({**report(), "cancelled": True}) is None
