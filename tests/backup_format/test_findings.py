"""Finding severities: errors, warnings, and info notes that never count as problems."""

from __future__ import annotations

from backup_inspector.backup_format.findings import (
    ERROR_CODES,
    INFO_CODES,
    Finding,
    FindingCode,
    Severity,
)


def test_database_codes_have_their_severities() -> None:
    """database-corrupt is an error; database-excluded and database-external are info."""
    assert Finding(FindingCode.DATABASE_CORRUPT, "m").severity == Severity.ERROR
    assert Finding(FindingCode.DATABASE_EXCLUDED, "m").severity == Severity.INFO
    assert Finding(FindingCode.DATABASE_EXTERNAL, "m").severity == Severity.INFO
    assert Finding(FindingCode.DATABASE_EXTERNAL, "m").to_json()["severity"] == "info"


def test_info_and_error_codes_do_not_overlap() -> None:
    """A code is an error or a note, never both; codes in neither stay warnings."""
    assert not INFO_CODES & ERROR_CODES
    assert Finding(FindingCode.UNSAFE_ENTRY, "m").severity == Severity.WARNING
