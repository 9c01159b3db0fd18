"""The restore rehearsal on backups built here: each code, its absence, and honest unknowns.

Messages are checked against restore-rules.md: what the Supervisor does, and to which archive.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from backup_inspector.backup_format.findings import Finding, FindingCode, Severity
from backup_inspector.demo.backup_writer import ArchiveSpec, FileSpec, make_metadata
from backup_inspector.demo.metadata_builder import (
    DEFAULT_HOMEASSISTANT_VERSION,
    DEFAULT_SUPERVISOR_VERSION,
)
from backup_inspector.inspection.backup_overview import open_backup
from backup_inspector.inspection.check_job import CheckReport, full_check, quick_check
from backup_inspector.inspection.target_facts import TargetFacts

FITTING_TARGET = TargetFacts(
    supervisor=DEFAULT_SUPERVISOR_VERSION,
    homeassistant=DEFAULT_HOMEASSISTANT_VERSION,
    arch="aarch64",
    supported_arch=("aarch64", "armv7"),
    machine="raspberrypi4-64",
    disk_free_gb=100.0,
)
TARGET_DEPENDENT = {
    FindingCode.SUPERVISOR_TOO_OLD,
    FindingCode.ADDON_ARCH_UNSUPPORTED,
    FindingCode.ADDON_MACHINE_UNSUPPORTED,
    FindingCode.ADDON_NEEDS_NEWER_CORE,
    FindingCode.NOT_ENOUGH_SPACE,
    FindingCode.CORE_VERSION_CHANGE,
}


def addon_json(slug: str = "mosquitto", **system: Any) -> bytes:
    """The addon.json the Supervisor writes, with `system` keys overridden."""
    data = {
        "user": {"version": "2.0.1", "options": {}, "boot": "auto"},
        "system": {
            "name": "Mosquitto broker",
            "version": "2.0.1",
            "slug": slug,
            "description": "An open-source MQTT broker",
            "arch": ["aarch64", "amd64"],
            "repository": "core",
            **system,
        },
        "version": "2.0.1",
        "state": "started",
    }
    return json.dumps(data).encode()


def app_archive(metadata: bytes | None = None, extra: Sequence[FileSpec] = ()) -> ArchiveSpec:
    """core_mosquitto with `metadata` as its addon.json (None: none at all) and `extra` entries."""
    entries = [FileSpec("addon.json", content=metadata)] if metadata is not None else []
    entries += [FileSpec("data", type="dir"), FileSpec("data/options.json", content=b"{}"), *extra]
    return ArchiveSpec("core_mosquitto", entries)


def standard_archives(**overrides: ArchiveSpec) -> list[ArchiveSpec]:
    """Home Assistant, one app and the share folder; any of them replaced by name."""
    archives = {
        "homeassistant": ArchiveSpec("homeassistant", {"data/configuration.yaml": b"x: 1\n"}),
        "core_mosquitto": app_archive(addon_json()),
        "share": ArchiveSpec("share", {"notes.txt": b"notes\n"}),
    }
    archives.update(overrides)
    return list(archives.values())


Build = Callable[..., Path]


def check(
    build_backup: Build,
    archives: Sequence[ArchiveSpec] | None = None,
    target: TargetFacts | None = FITTING_TARGET,
    quick: bool = False,
    **metadata: Any,
) -> CheckReport:
    """Write the backup (metadata from make_metadata with `metadata`) and check it against `target`."""
    archives = list(archives) if archives is not None else standard_archives()
    written = build_backup("b.tar", archives, metadata=make_metadata(archives, **metadata))
    overview = open_backup(written)
    if quick:
        return quick_check(overview, None, target=target)
    return full_check(overview, None, target=target)


def restore_codes(report: CheckReport) -> list[FindingCode]:
    """The codes the rehearsal added."""
    assert report.restore is not None
    return [finding.code for finding in report.restore.findings]


def only(report: CheckReport, code: FindingCode) -> Finding:
    """The one finding of that code."""
    found = [p for p in report.problems if p.code == code]
    assert len(found) == 1, [p.code for p in report.problems]
    return found[0]


def outcomes(report: CheckReport) -> dict[str, str]:
    """Part -> outcome."""
    assert report.restore is not None
    return {part.part: part.outcome for part in report.restore.parts}


def test_fitting_target_restores(build_backup: Build) -> None:
    """On a system that fits, every part is restored and no restore code appears."""
    report = check(build_backup)
    assert restore_codes(report) == []
    assert outcomes(report) == {
        "folder:share": "restored",
        "homeassistant": "restored",
        "addon:core_mosquitto": "restored",
    }
    assert report.restore is not None and report.restore.verdict == "restores"
    assert report.ok
    assert report.to_json()["restore"]["target"]["machine"] == "raspberrypi4-64"


def test_no_target_gives_no_target_dependent_code(build_backup: Build) -> None:
    """Without a target, a backup that would break every target rule gets none of those codes."""
    archives = standard_archives(
        core_mosquitto=app_archive(
            addon_json(arch=["i386"], machine=["!yellow"], homeassistant="2099.1.0")
        )
    )
    report = check(build_backup, archives, target=None, supervisor_version="2099.1.0")
    assert set(restore_codes(report)).isdisjoint(TARGET_DEPENDENT)
    assert report.restore is not None
    assert report.restore.verdict == "unknown"
    assert outcomes(report)["addon:core_mosquitto"] == "unknown"
    assert any("supported_arch" in sentence for sentence in report.restore.not_judged)
    assert report.to_json()["restore"]["target"] is None
    assert report.ok


def test_supervisor_too_old_refuses_everything(build_backup: Build) -> None:
    """A backup from a newer Supervisor is refused before anything is touched."""
    report = check(build_backup, supervisor_version="2026.12.1")
    finding = only(report, FindingCode.SUPERVISOR_TOO_OLD)
    assert "2026.12.1" in finding.message and DEFAULT_SUPERVISOR_VERSION in finding.message
    assert "refuses" in finding.message and "update the Supervisor" in finding.message
    assert set(outcomes(report).values()) == {"skipped"}
    assert report.restore is not None and report.restore.verdict == "fails"
    assert not report.ok


def test_missing_supervisor_version_counts_as_2022_08_3(build_backup: Build) -> None:
    """backup.json without supervisor_version is judged as 2022.08.3, and says it was assumed."""
    archives = standard_archives()
    metadata = make_metadata(archives)
    del metadata["supervisor_version"]
    overview = open_backup(build_backup("old.tar", archives, metadata=metadata))
    older = replace(FITTING_TARGET, supervisor="2022.08.2")
    finding = only(full_check(overview, None, target=older), FindingCode.SUPERVISOR_TOO_OLD)
    assert "2022.08.3" in finding.message and "assumed" in finding.message
    same = replace(FITTING_TARGET, supervisor="2022.08.3")
    assert FindingCode.SUPERVISOR_TOO_OLD not in restore_codes(
        full_check(overview, None, target=same)
    )


def test_addon_arch_unsupported(build_backup: Build) -> None:
    """An app built only for amd64 is skipped on an aarch64 host; the finding names its archive."""
    archives = standard_archives(core_mosquitto=app_archive(addon_json(arch=["amd64"])))
    report = check(build_backup, archives)
    finding = only(report, FindingCode.ADDON_ARCH_UNSUPPORTED)
    assert finding.archive == "core_mosquitto" and "core_mosquitto.tar.gz" in finding.message
    assert outcomes(report)["addon:core_mosquitto"] == "fails"
    assert outcomes(report)["homeassistant"] == "restored"
    assert not report.ok


def test_machine_list_of_negations_refuses_every_machine(build_backup: Build) -> None:
    """["!raspberrypi"] refuses a generic-x86-64 too: the Supervisor's rule as written."""
    archives = standard_archives(core_mosquitto=app_archive(addon_json(machine=["!raspberrypi"])))
    x86 = replace(FITTING_TARGET, machine="generic-x86-64")
    finding = only(check(build_backup, archives, target=x86), FindingCode.ADDON_MACHINE_UNSUPPORTED)
    assert "generic-x86-64" in finding.message and "refuses every machine" in finding.message


def test_machine_listed_is_fine(build_backup: Build) -> None:
    """An app that lists the target's machine is restored."""
    archives = standard_archives(
        core_mosquitto=app_archive(addon_json(machine=["raspberrypi4-64"]))
    )
    assert restore_codes(check(build_backup, archives)) == []


def test_addon_needs_newer_core(build_backup: Build) -> None:
    """An app whose minimum Core is newer than the target's running Core is skipped."""
    archives = standard_archives(core_mosquitto=app_archive(addon_json(homeassistant="2099.1.0")))
    finding = only(check(build_backup, archives), FindingCode.ADDON_NEEDS_NEWER_CORE)
    assert "2099.1.0" in finding.message and DEFAULT_HOMEASSISTANT_VERSION in finding.message


def test_first_availability_refusal_only(build_backup: Build) -> None:
    """Arch is checked before machine and Core; only the first refusal is raised."""
    metadata = addon_json(arch=["i386"], machine=["yellow"], homeassistant="2099.1.0")
    report = check(build_backup, standard_archives(core_mosquitto=app_archive(metadata)))
    assert restore_codes(report) == [FindingCode.ADDON_ARCH_UNSUPPORTED]


def test_addon_metadata_invalid_needs_no_target(build_backup: Build) -> None:
    """addon.json without description fails SCHEMA_APP_BACKUP on any system, target or not."""
    broken = json.loads(addon_json())
    del broken["system"]["description"]
    archives = standard_archives(core_mosquitto=app_archive(json.dumps(broken).encode()))
    report = check(build_backup, archives, target=None)
    finding = only(report, FindingCode.ADDON_METADATA_INVALID)
    assert "system.description" in finding.message and finding.archive == "core_mosquitto"
    assert outcomes(report)["addon:core_mosquitto"] == "fails"
    assert report.restore is not None and report.restore.verdict == "fails"


def test_app_archive_without_addon_json_is_invalid(build_backup: Build) -> None:
    """An app archive with no addon.json cannot be restored."""
    report = check(build_backup, standard_archives(core_mosquitto=app_archive(None)))
    assert "no addon.json" in only(report, FindingCode.ADDON_METADATA_INVALID).message


def test_dot_dot_entry_breaks_the_folder_restore(build_backup: Build) -> None:
    """A '../' entry in share.tar.gz stops that archive's restore: the part fails, others go on."""
    share = ArchiveSpec(
        "share", [FileSpec("a.txt", content=b"a"), FileSpec("../evil", content=b"x")]
    )
    report = check(build_backup, standard_archives(share=share), target=None)
    finding = only(report, FindingCode.ENTRY_BREAKS_RESTORE)
    assert finding.archive == "share" and finding.severity == Severity.ERROR
    assert "share.tar.gz" in finding.message and "stops" in finding.message
    assert "'../evil'" in finding.message
    assert outcomes(report)["folder:share"] == "fails"
    assert outcomes(report)["homeassistant"] == "restored"
    assert not report.ok


def test_homeassistant_failure_stops_the_rest(build_backup: Build) -> None:
    """A refused entry in homeassistant.tar.gz fails it; the apps after it are skipped."""
    ha = ArchiveSpec("homeassistant", [FileSpec("data/../../x", content=b"x")])
    report = check(build_backup, standard_archives(homeassistant=ha))
    message = only(report, FindingCode.ENTRY_BREAKS_RESTORE).message
    assert "homeassistant.tar.gz" in message and "restore stops there" in message
    assert outcomes(report) == {
        "folder:share": "restored",
        "homeassistant": "fails",
        "addon:core_mosquitto": "skipped",
    }


def test_entry_through_an_earlier_symlink_breaks_the_app(build_backup: Build) -> None:
    """data/homeassistant -> /config, then data/homeassistant/x: the app's restore stops."""
    extra = [
        FileSpec("data/homeassistant", type="symlink", link_target="/config"),
        FileSpec("data/homeassistant/x", content=b"x"),
    ]
    report = check(build_backup, standard_archives(core_mosquitto=app_archive(addon_json(), extra)))
    finding = only(report, FindingCode.ENTRY_BREAKS_RESTORE)
    assert finding.archive == "core_mosquitto" and "/config" in finding.message
    assert outcomes(report)["addon:core_mosquitto"] == "fails"


def test_absolute_symlink_is_no_restore_problem(build_backup: Build) -> None:
    """data/homeassistant -> /config is restored as it is: only our own unsafe-entry warning."""
    extra = [FileSpec("data/homeassistant", type="symlink", link_target="/config")]
    report = check(build_backup, standard_archives(core_mosquitto=app_archive(addon_json(), extra)))
    assert restore_codes(report) == []
    unsafe = only(report, FindingCode.UNSAFE_ENTRY)
    assert "refuses or skips" not in unsafe.message
    assert "restores links to absolute paths as they are" in unsafe.message
    assert report.ok and report.restore is not None and report.restore.verdict == "restores"


def test_not_enough_space_is_a_warning(build_backup: Build) -> None:
    """Below 2 GB plus the backup's size, a warning; ok stays true."""
    report = check(build_backup, target=replace(FITTING_TARGET, disk_free_gb=1.2))
    finding = only(report, FindingCode.NOT_ENOUGH_SPACE)
    assert finding.severity == Severity.WARNING and "1.2 GB" in finding.message
    assert report.restore is not None and report.restore.verdict == "restores-with-warnings"
    assert report.ok


def test_core_version_change_is_a_note(build_backup: Build) -> None:
    """A target on another Core gets the switch (here a downgrade) as info; ok stays true."""
    newer = replace(FITTING_TARGET, homeassistant="2099.1.0")
    finding = only(check(build_backup, target=newer), FindingCode.CORE_VERSION_CHANGE)
    assert finding.severity == Severity.INFO and "downgrade" in finding.message
    assert "2099.1.0" in finding.message and DEFAULT_HOMEASSISTANT_VERSION in finding.message


def test_partial_backup_and_supervisor_archive_are_notes(build_backup: Build) -> None:
    """partial-backup and sensitive-archive are info: they never change ok or the verdict."""
    archives = [
        ArchiveSpec("share", {"notes.txt": b"n"}),
        ArchiveSpec("supervisor", {"mounts.json": b"{}"}, include_root_entry=False),
    ]
    report = check(build_backup, archives, backup_type="partial")
    assert {only(report, code).severity for code in restore_codes(report)} == {Severity.INFO}
    assert set(restore_codes(report)) == {FindingCode.PARTIAL_BACKUP, FindingCode.SENSITIVE_ARCHIVE}
    assert only(report, FindingCode.SENSITIVE_ARCHIVE).archive == "supervisor"
    assert "passwords" in only(report, FindingCode.SENSITIVE_ARCHIVE).message
    assert outcomes(report) == {"folder:share": "restored", "supervisor-config": "restored"}
    assert report.ok and report.restore is not None and report.restore.verdict == "restores"


def test_quick_check_judges_metadata_rules_and_says_what_it_could_not(build_backup: Build) -> None:
    """--quick: the Supervisor version rule is judged; entries and addon.json are not."""
    report = check(build_backup, quick=True, supervisor_version="2026.12.1")
    assert restore_codes(report) == [FindingCode.SUPERVISOR_TOO_OLD]
    fitting = check(build_backup, quick=True)
    assert fitting.restore is not None and fitting.restore.verdict == "unknown"
    assert set(outcomes(fitting).values()) == {"unknown"}
    assert any("not read" in sentence for sentence in fitting.restore.not_judged)


def test_missing_target_key_is_not_guessed(build_backup: Build) -> None:
    """A target without supported_arch leaves the app unknown, and says which fact was missing."""
    report = check(build_backup, target=replace(FITTING_TARGET, supported_arch=None))
    assert outcomes(report)["addon:core_mosquitto"] == "unknown"
    assert report.restore is not None and report.restore.verdict == "unknown"
    assert any("supported_arch" in sentence for sentence in report.restore.not_judged)


def test_restore_json_shape(build_backup: Build) -> None:
    """check --json's "restore": target, verdict, and parts with outcome and codes."""
    data = check(build_backup).to_json()["restore"]
    assert set(data) >= {"target", "verdict", "parts"}
    assert all(set(part) == {"part", "outcome", "codes"} for part in data["parts"])
