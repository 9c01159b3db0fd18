"""The Supervisor's refusal rules for a restore, as plain predicates over versions and names.

Each function answers one rule exactly as the Supervisor's code applies it
(home-assistant/supervisor, August 2026), so the rehearsal can say in
advance what the restore will refuse. Versions are compared with
AwesomeVersion, Home Assistant's own library, as the Supervisor does. A
comparison AwesomeVersion cannot make returns None ("cannot judge").
"""

from __future__ import annotations

from collections.abc import Sequence

from awesomeversion import AwesomeVersion
from awesomeversion.exceptions import AwesomeVersionException

# supervisor/backups/validate.py SCHEMA_BACKUP: the default of `supervisor_version`.
SUPERVISOR_VERSION_ASSUMED_WHEN_MISSING = "2022.08.3"
# supervisor/resolution/const.py: job condition FREE_SPACE refuses below this many GB.
MINIMUM_FREE_SPACE_THRESHOLD_GB = 2
BYTES_PER_GB = 1024**3  # the Supervisor's disk_free is bytes / 1024**3 (hardware/disk.py)


def is_newer_version(version: str, than: str) -> bool | None:
    """`AwesomeVersion(version) > AwesomeVersion(than)`; None when the two cannot be compared."""
    try:
        return bool(AwesomeVersion(version) > AwesomeVersion(than))
    except (AwesomeVersionException, TypeError):
        return None


def backup_needs_newer_supervisor(
    backup_supervisor_version: str | None, target_supervisor_version: str
) -> bool | None:
    """`do_restore_full`/`do_restore_partial` (backups/manager.py): refused if the backup's is newer.

    A backup.json without `supervisor_version` gets the schema default 2022.08.3.
    """
    return is_newer_version(
        backup_supervisor_version or SUPERVISOR_VERSION_ASSUMED_WHEN_MISSING,
        target_supervisor_version,
    )


def arch_is_supported(app_arches: Sequence[str], supported_arches: Sequence[str]) -> bool:
    """`_validate_availability` (apps/model.py) via `CpuArch.is_supported`: any arch in common."""
    return not set(supported_arches).isdisjoint(app_arches)


def machine_is_refused(app_machines: Sequence[str] | None, machine: str) -> bool:
    """`_validate_availability`'s machine rule, exactly as written.

    Refused when the list is non-empty and holds `!<machine>`, or does not
    hold `<machine>`. So a list of negations alone (["!raspberrypi"]) refuses
    every machine, including the ones it does not name: the quirk is the
    Supervisor's, reproduced on purpose.
    """
    if not app_machines:
        return False
    return f"!{machine}" in app_machines or machine not in app_machines


def core_is_too_old(minimum_core_version: str | None, core_version: str) -> bool:
    """`_validate_availability`'s Home Assistant rule: refused when Core < the app's minimum.

    The Supervisor suppresses AwesomeVersionException and TypeError around
    this rule, so a version it cannot compare lets the app through.
    """
    if not minimum_core_version:
        return False
    try:
        return bool(AwesomeVersion(core_version) < AwesomeVersion(minimum_core_version))
    except (AwesomeVersionException, TypeError):
        return False


def restore_space_needed_gb(backup_size_bytes: int) -> float:
    """Free GB the data disk needs: the FREE_SPACE threshold plus the outer tar unpacked beside it.

    `Backup.open` extracts the outer tar into a temporary folder next to the
    backup file (restore-rules.md §2.1), which takes about the backup's size.
    """
    return MINIMUM_FREE_SPACE_THRESHOLD_GB + backup_size_bytes / BYTES_PER_GB
