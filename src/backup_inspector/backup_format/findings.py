"""What is wrong with a backup, where, and what it means for a restore.

Codes are stable: the CLI's JSON output and the web page use them as keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How much a finding matters."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"  # a note on what will happen; never changes `ok` or the exit code


class FindingCode(StrEnum):
    """Stable problem codes (issue 2's contract)."""

    # errors
    NOT_A_TAR = "not-a-tar"
    OUTER_TAR_DAMAGED = "outer-tar-damaged"
    TRUNCATED = "truncated"
    METADATA_MISSING = "metadata-missing"
    METADATA_INVALID = "metadata-invalid"
    PASSWORD_REQUIRED = "password-required"  # noqa: S105 - a finding code, not a password
    WRONG_PASSWORD = "wrong-password"  # noqa: S105 - a finding code, not a password
    UNSUPPORTED_ENCRYPTION = "unsupported-encryption"
    ARCHIVE_CORRUPT = "archive-corrupt"
    ARCHIVE_MISSING = "archive-missing"
    DATABASE_CORRUPT = "database-corrupt"
    # warnings
    ARCHIVE_UNLISTED = "archive-unlisted"
    UNSAFE_ENTRY = "unsafe-entry"
    METADATA_NAME_NONSTANDARD = "metadata-name-nonstandard"
    TRAILING_DATA = "trailing-data"
    # restore rehearsal (issue 10): errors
    SUPERVISOR_TOO_OLD = "supervisor-too-old"
    ADDON_METADATA_INVALID = "addon-metadata-invalid"
    ADDON_ARCH_UNSUPPORTED = "addon-arch-unsupported"
    ADDON_MACHINE_UNSUPPORTED = "addon-machine-unsupported"
    ADDON_NEEDS_NEWER_CORE = "addon-needs-newer-core"
    ENTRY_BREAKS_RESTORE = "entry-breaks-restore"
    # restore rehearsal: warning
    NOT_ENOUGH_SPACE = "not-enough-space"
    # restore rehearsal: notes (info)
    CORE_VERSION_CHANGE = "core-version-change"
    PARTIAL_BACKUP = "partial-backup"
    SENSITIVE_ARCHIVE = "sensitive-archive"
    # recorder database: notes (info)
    DATABASE_EXCLUDED = "database-excluded"
    DATABASE_EXTERNAL = "database-external"


ERROR_CODES = frozenset(
    {
        FindingCode.NOT_A_TAR,
        FindingCode.OUTER_TAR_DAMAGED,
        FindingCode.TRUNCATED,
        FindingCode.METADATA_MISSING,
        FindingCode.METADATA_INVALID,
        FindingCode.PASSWORD_REQUIRED,
        FindingCode.WRONG_PASSWORD,
        FindingCode.UNSUPPORTED_ENCRYPTION,
        FindingCode.ARCHIVE_CORRUPT,
        FindingCode.ARCHIVE_MISSING,
        FindingCode.SUPERVISOR_TOO_OLD,
        FindingCode.ADDON_METADATA_INVALID,
        FindingCode.ADDON_ARCH_UNSUPPORTED,
        FindingCode.ADDON_MACHINE_UNSUPPORTED,
        FindingCode.ADDON_NEEDS_NEWER_CORE,
        FindingCode.ENTRY_BREAKS_RESTORE,
        FindingCode.DATABASE_CORRUPT,
    }
)

# Notes on what a restore will do: shown, but never a problem (issue 10).
INFO_CODES = frozenset(
    {
        FindingCode.CORE_VERSION_CHANGE,
        FindingCode.PARTIAL_BACKUP,
        FindingCode.SENSITIVE_ARCHIVE,
        FindingCode.DATABASE_EXCLUDED,
        FindingCode.DATABASE_EXTERNAL,
    }
)


@dataclass(frozen=True)
class Finding:
    """One problem: a stable code, its severity, the inner archive (or None), a message.

    The message is plain language and says what the problem means for a restore.
    """

    code: FindingCode
    message: str
    archive: str | None = None

    @property
    def severity(self) -> Severity:
        """Errors make a backup fail its check; warnings and info notes do not."""
        if self.code in ERROR_CODES:
            return Severity.ERROR
        if self.code in INFO_CODES:
            return Severity.INFO
        return Severity.WARNING

    def to_json(self) -> dict[str, str | None]:
        """The JSON shape of issue 2's `problems` list."""
        return {
            "code": self.code.value,
            "severity": self.severity.value,
            "archive": self.archive,
            "message": self.message,
        }


class BackupFormatError(Exception):
    """Raised by format-layer readers when bytes are not what the format allows.

    Carries the Finding that describes the problem, so callers never have to
    turn an exception text into a user message.
    """

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding
