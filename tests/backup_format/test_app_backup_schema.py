"""The mirrored SCHEMA_APP_BACKUP and the Supervisor's availability and version rules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backup_inspector.backup_format.app_backup_schema import validate_addon_json
from backup_inspector.backup_format.restore_rules import (
    arch_is_supported,
    backup_needs_newer_supervisor,
    core_is_too_old,
    machine_is_refused,
    restore_space_needed_gb,
)


def addon_json(**system: Any) -> dict[str, Any]:
    """An addon.json as the Supervisor writes it, with `system` keys overridden."""
    return {
        "user": {"version": "2.0.1", "options": {}, "boot": "auto"},
        "system": {
            "name": "Mosquitto broker",
            "version": "2.0.1",
            "slug": "mosquitto",
            "description": "An open-source MQTT broker",
            "arch": ["aarch64", "amd64"],
            "repository": "core",
            **system,
        },
        "version": "2.0.1",
        "state": "started",
    }


def raw(data: Any) -> bytes:
    """JSON bytes."""
    return json.dumps(data).encode()


def test_a_complete_addon_json_is_valid() -> None:
    """What the Supervisor writes passes, and the system section comes back."""
    validated, reason = validate_addon_json(raw(addon_json(machine=["raspberrypi4-64"])))
    assert reason == ""
    assert validated is not None and validated["system"]["machine"] == ["raspberrypi4-64"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d["system"].pop("description"), "system.description"),
        (lambda d: d["system"].pop("repository"), "system.repository"),
        (lambda d: d["user"].pop("version"), "user.version"),
        (lambda d: d.pop("state"), "state"),
        (lambda d: d["system"].update(arch=["sparc"]), "system.arch"),
        (lambda d: d["system"].update(machine=["toaster"]), "system.machine"),
        (lambda d: d["system"].update(slug="bad slug"), "system.slug"),
        (lambda d: d.update(state="sleeping"), "state"),
    ],
)
def test_broken_addon_json_names_the_field(change: Any, named: str) -> None:
    """A missing or wrong required value fails, and the reason names the field."""
    data = addon_json()
    change(data)
    validated, reason = validate_addon_json(raw(data))
    assert validated is None
    assert named in reason


def test_missing_name_fails_like_the_migration_step() -> None:
    """_migrate_app_config refuses a system section without a name."""
    validated, reason = validate_addon_json(raw(addon_json(name="")))
    assert validated is None and "Invalid app config" in reason


def test_not_json_is_invalid() -> None:
    """Bytes that are not JSON cannot be read by the Supervisor either."""
    assert validate_addon_json(b"{not json")[0] is None


def test_reason_never_shows_values() -> None:
    """A bad access token is named by its field, never printed (it is a secret)."""
    data = addon_json()
    data["user"]["access_token"] = "SECRET-NOT-HEX"
    validated, reason = validate_addon_json(raw(data))
    assert validated is None and "access_token" in reason and "SECRET" not in reason


def test_machine_rule_as_written() -> None:
    """Listed machine passes; "!m" refuses m; a list of negations alone refuses every machine."""
    assert not machine_is_refused(None, "yellow")
    assert not machine_is_refused([], "yellow")
    assert not machine_is_refused(["yellow", "green"], "yellow")
    assert machine_is_refused(["green"], "yellow")
    assert machine_is_refused(["!yellow", "yellow"], "yellow")
    assert machine_is_refused(["!raspberrypi"], "raspberrypi")
    assert machine_is_refused(["!raspberrypi"], "generic-x86-64")  # the quirk


def test_arch_rule() -> None:
    """One shared architecture is enough."""
    assert arch_is_supported(["armv7", "aarch64"], ["aarch64", "armv7", "armhf"])
    assert not arch_is_supported(["amd64"], ["aarch64", "armv7"])


def test_supervisor_version_default_is_2022_08_3() -> None:
    """A backup.json without supervisor_version counts as 2022.08.3."""
    assert backup_needs_newer_supervisor(None, "2022.08.2") is True
    assert backup_needs_newer_supervisor(None, "2022.08.3") is False


def test_supervisor_versions_compare_as_awesomeversion() -> None:
    """2026.10.0 is newer than 2026.9.1 (not a string comparison); junk cannot be compared."""
    assert backup_needs_newer_supervisor("2026.10.0", "2026.9.1") is True
    assert backup_needs_newer_supervisor("2026.9.1", "2026.10.0") is False
    assert backup_needs_newer_supervisor("2026.10.0", "not-a-version") is None


def test_core_rule() -> None:
    """Refused only when the running Core is older than the app's minimum."""
    assert core_is_too_old("2026.6.0", "2026.5.4")
    assert not core_is_too_old("2026.6.0", "2026.6.0")
    assert not core_is_too_old(None, "2026.5.4")


def test_space_needed_is_threshold_plus_the_backup() -> None:
    """2 GB threshold plus the unpacked outer tar beside the backup file."""
    assert restore_space_needed_gb(0) == 2
    assert restore_space_needed_gb(3 * 1024**3) == 5
