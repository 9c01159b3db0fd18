"""Will it restore here? The Supervisor's restore of one backup, rehearsed on paper.

Input: the backup's metadata, what the check saw in each archive (the first
entry tarfile's "tar" filter refuses, the app's `addon.json`), and the
target system's facts (or None). Output: the findings the rules produce and
a prediction per part. The rules and their order follow the Supervisor's
code (home-assistant/supervisor, August 2026; restore-rules.md §1–§3):

1. Before anything is touched (`backups/manager.py`): a backup written by a
   newer Supervisor is refused (`supervisor-too-old`); a partial backup can
   only be restored partially (`partial-backup`, a note); the FREE_SPACE job
   condition and the outer tar unpacked beside the backup file need free
   space (`not-enough-space`, a warning).
2. Folders, each on its own (`restore_folders`): the folder is emptied, then
   extracted; a refused entry fails that folder, the restore goes on.
3. Home Assistant (`restore_homeassistant`): extracted into a temporary folder,
   then copied over /config; Core is then switched to the backup's version
   (`core-version-change`, a note). A failure here raises out of
   `_do_restore`: the restore stops, so the apps and the Supervisor settings
   after it are not restored. (restore-rules.md does not say this; the code does.)
4. Apps, each on its own (`App.restore`): the archive is extracted FIRST, then
   `addon.json` is validated with SCHEMA_APP_BACKUP (`addon-metadata-invalid`),
   then `_validate_availability` runs: arch, machine, minimum Core, in that
   order, the first refusal only. (restore-rules.md lists validation before
   extraction; the code extracts first, so a refused entry wins.) The Core
   version compared is the one running when the app is restored: the switch to
   the backup's Core version is a task awaited only at the end of the restore,
   so it is the target's current Core.
5. Supervisor settings (`restore_supervisor_config`): `mounts.json` and
   `docker.json` are read by name from `supervisor.tar.gz`, never extracted, so
   the "tar" filter does not apply; the archive holds credentials
   (`sensitive-archive`, a note).

Outcome of a part, first rule that applies:

* "skipped" — the Supervisor refuses the whole backup before touching
  anything (`supervisor-too-old`, or metadata Home Assistant cannot use:
  `metadata-missing`, `metadata-invalid`, `metadata-name-nonstandard`,
  `not-a-tar`), or an earlier part that stops the restore failed
  (Home Assistant, for the apps and the Supervisor settings);
* "fails" — the part has an error code: one of the rules above, or its archive
  is missing, damaged or cut short, or opens only with another password;
* "unknown" — a rule the part depends on could not be judged: a target fact
  is missing (or there is no target), or its archive was not read to the end
  (quick check, no password, unsupported encryption, a read that broke off);
* "restored" — otherwise.

Verdict: "fails" if any part is "fails" or "skipped" or the backup is refused;
else "unknown" if any part is "unknown" or the Supervisor version could not be
compared; else "restores-with-warnings" if a warning code applies
(`not-enough-space`); else "restores". Info codes never change an outcome or
the verdict. Rules that only add a warning or a note and could not be judged
(free space, Core switch) are listed in `not_judged` and leave the verdict alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..backup_format.app_backup_schema import MAX_ADDON_JSON_BYTES, validate_addon_json
from ..backup_format.backup_metadata import BackupMetadata, folder_archive_name
from ..backup_format.findings import Finding, FindingCode, Severity
from ..backup_format.restore_filter import FilterRefusal, TarFilterRehearsal
from ..backup_format.restore_rules import (
    SUPERVISOR_VERSION_ASSUMED_WHEN_MISSING,
    arch_is_supported,
    backup_needs_newer_supervisor,
    core_is_too_old,
    is_newer_version,
    machine_is_refused,
    restore_space_needed_gb,
)
from ..backup_format.tar_entry import DataSink, EntryType, TarEntry
from .backup_overview import BackupOverview, InnerArchive
from .target_facts import TargetFacts

ADDON_METADATA_MEMBER = "addon.json"  # read from the extracted app archive's root (apps/app.py)

# Backup-level findings after which the Supervisor does not list or restore the backup.
_BACKUP_REFUSED_BY = frozenset(
    {
        FindingCode.NOT_A_TAR,
        FindingCode.METADATA_MISSING,
        FindingCode.METADATA_INVALID,
        FindingCode.METADATA_NAME_NONSTANDARD,
        FindingCode.SUPERVISOR_TOO_OLD,
    }
)
# Archive findings that say nothing about the restore, only about what we could read.
_NOT_ABOUT_THE_RESTORE = frozenset(
    {FindingCode.PASSWORD_REQUIRED, FindingCode.UNSUPPORTED_ENCRYPTION, FindingCode.UNSAFE_ENTRY}
)


class _AddonJsonSink(DataSink):
    """Keeps the bytes of `addon.json`, up to MAX_ADDON_JSON_BYTES."""

    def __init__(self, watch: RestoreEntryWatch) -> None:
        self._watch = watch
        self._buffer = bytearray()
        self._too_large = False

    def write(self, data: bytes | memoryview) -> None:
        """Collect, or drop everything once the file is over the bound."""
        if self._too_large:
            return
        self._buffer += data
        if len(self._buffer) > MAX_ADDON_JSON_BYTES:
            self._too_large = True
            self._buffer = bytearray()

    def close(self) -> None:
        """The last `addon.json` of the archive wins, as on disk after extraction."""
        self._watch.addon_json = None if self._too_large else bytes(self._buffer)
        self._watch.addon_json_too_large = self._too_large


@dataclass
class RestoreEntryWatch:
    """What the full check's walk over one archive tells the rehearsal.

    `on_entry` is called for every entry (from the reading thread); it returns
    a sink for the app's `addon.json`, so capturing it costs no second read.
    """

    capture_addon_json: bool
    tar_filter: TarFilterRehearsal = field(default_factory=TarFilterRehearsal)
    addon_json: bytes | None = None
    addon_json_too_large: bool = False

    @property
    def refusal(self) -> FilterRefusal | None:
        """The entry at which the "tar" filter stops this archive's extraction."""
        return self.tar_filter.refusal

    def on_entry(self, entry: TarEntry) -> DataSink | None:
        """Judge the entry; hand back a sink when it is the app's `addon.json`."""
        self.tar_filter.feed(entry)
        if (
            self.capture_addon_json
            and entry.type is EntryType.FILE
            and entry.path == ADDON_METADATA_MEMBER
        ):
            return _AddonJsonSink(self)
        return None


def watch_for(archive: InnerArchive) -> RestoreEntryWatch:
    """A fresh watch for one archive of a full check."""
    return RestoreEntryWatch(capture_addon_json=archive.kind == "addon")


@dataclass
class ArchiveFacts:
    """One archive as the check left it: its own error codes, whether it was read, its watch."""

    archive: InnerArchive | None  # None: listed in the metadata but absent
    error_codes: list[FindingCode]
    read_to_end: bool
    watch: RestoreEntryWatch | None


@dataclass
class RestorePart:
    """One part of the restore and its predicted outcome."""

    part: str
    outcome: str = "restored"
    codes: list[str] = field(default_factory=list)
    is_judged: bool = True

    def to_json(self) -> dict[str, Any]:
        """`{"part", "outcome", "codes"}` (issue 10)."""
        return {"part": self.part, "outcome": self.outcome, "codes": list(self.codes)}


@dataclass
class RestorePrediction:
    """The rehearsal's result: findings to report, and the prediction per part."""

    target: TargetFacts | None
    verdict: str
    parts: list[RestorePart]
    findings: list[Finding]
    not_judged: list[str]

    def to_json(self) -> dict[str, Any]:
        """The `"restore"` object of `check --json` (issue 10), plus `not_judged`."""
        return {
            "target": self.target.to_json() if self.target is not None else None,
            "verdict": self.verdict,
            "parts": [part.to_json() for part in self.parts],
            "not_judged": list(self.not_judged),
        }


class _Rehearsal:
    """Collects findings and parts while the rules run in the Supervisor's order."""

    def __init__(self, target: TargetFacts | None) -> None:
        self.target = target
        self.findings: list[Finding] = []
        self.parts: list[RestorePart] = []
        self.not_judged: list[str] = []

    def add(self, part: RestorePart | None, code: FindingCode, message: str, archive: str | None):
        self.findings.append(Finding(code, message, archive))
        if part is not None:
            part.codes.append(code.value)

    def cannot_judge(self, part: RestorePart | None, sentence: str) -> None:
        if sentence not in self.not_judged:
            self.not_judged.append(sentence)
        if part is not None:
            part.is_judged = False


def rehearse_restore(
    overview: BackupOverview,
    backup_findings: list[Finding],
    archives: dict[str, ArchiveFacts],
    target: TargetFacts | None,
) -> RestorePrediction:
    """Apply the Supervisor's restore rules; see the module docstring for outcomes and verdict."""
    rehearsal = _Rehearsal(target)
    metadata = overview.metadata
    refused = any(f.code in _BACKUP_REFUSED_BY for f in backup_findings) or metadata is None
    stops = False
    if metadata is not None:
        _backup_rules(rehearsal, overview, metadata)
        refused = refused or any(
            f.code == FindingCode.SUPERVISOR_TOO_OLD for f in rehearsal.findings
        )
        _folder_parts(rehearsal, metadata, archives)
        stops = _homeassistant_part(rehearsal, metadata, archives)
        _addon_parts(rehearsal, metadata, archives, after_stop=stops)
    _supervisor_config_part(rehearsal, archives, after_stop=stops)
    for part in rehearsal.parts:
        if refused:
            part.outcome = "skipped"
        elif part.outcome != "skipped":
            part.outcome = _outcome(part)
    return RestorePrediction(
        target=target,
        verdict=_verdict(rehearsal, refused),
        parts=rehearsal.parts,
        findings=rehearsal.findings,
        not_judged=rehearsal.not_judged,
    )


def _outcome(part: RestorePart) -> str:
    if any(_is_error(code) for code in part.codes):
        return "fails"
    return "restored" if part.is_judged else "unknown"


def _is_error(code: str) -> bool:
    return Finding(FindingCode(code), "").severity == Severity.ERROR


def _verdict(rehearsal: _Rehearsal, refused: bool) -> str:
    outcomes = {part.outcome for part in rehearsal.parts}
    if refused or outcomes & {"fails", "skipped"}:
        return "fails"
    if "unknown" in outcomes or rehearsal.target is None or rehearsal.target.supervisor is None:
        return "unknown"
    if any(f.severity == Severity.WARNING for f in rehearsal.findings):
        return "restores-with-warnings"
    return "restores"


# --- 1. before anything is touched ----------------------------------------


def _backup_rules(rehearsal: _Rehearsal, overview: BackupOverview, metadata: BackupMetadata):
    target = rehearsal.target
    if metadata.type == "partial":
        rehearsal.add(
            None,
            FindingCode.PARTIAL_BACKUP,
            "This is a partial backup: Home Assistant restores it only with a partial restore, "
            "where you choose what to restore; a full restore refuses it. A partial restore leaves "
            "apps that are not in the backup installed.",
            None,
        )
    backup_version = metadata.supervisor_version or SUPERVISOR_VERSION_ASSUMED_WHEN_MISSING
    if target is None or target.supervisor is None:
        rehearsal.cannot_judge(
            None, "the Supervisor version check (the target's Supervisor version is not known)"
        )
    else:
        too_old = backup_needs_newer_supervisor(metadata.supervisor_version, target.supervisor)
        assumed = "" if metadata.supervisor_version else " (assumed: backup.json does not say)"
        if too_old is None:
            rehearsal.cannot_judge(
                None,
                f"the Supervisor version check ({backup_version} and {target.supervisor} "
                "cannot be compared)",
            )
        elif too_old:
            rehearsal.add(
                None,
                FindingCode.SUPERVISOR_TOO_OLD,
                f"This backup was made by Supervisor {backup_version}{assumed}; the target runs "
                f"{target.supervisor}. The Supervisor refuses to restore a backup made by a newer "
                "Supervisor, before anything is touched: update the Supervisor first.",
                None,
            )
    if target is None or target.disk_free_gb is None:
        rehearsal.cannot_judge(None, "free space (the target's disk_free is not known)")
        return
    needed = restore_space_needed_gb(overview.file_size)
    if target.disk_free_gb < needed:
        rehearsal.add(
            None,
            FindingCode.NOT_ENOUGH_SPACE,
            f"The target has {target.disk_free_gb:.1f} GB free; a restore of this backup needs "
            f"about {needed:.1f} GB: the Supervisor refuses to start below 2 GB, and unpacks the "
            "backup file into a temporary folder beside it first. Free some space before restoring.",
            None,
        )


# --- 2.–5. the parts, in restore order --------------------------------------


def _archive_part(
    rehearsal: _Rehearsal, part: RestorePart, facts: ArchiveFacts | None, what: str
) -> bool:
    """The archive's own errors, then the "tar" filter; True when the part already fails."""
    if facts is None:
        rehearsal.cannot_judge(part, f"{what} (its archive was not checked)")
        return False
    errors = [code for code in facts.error_codes if code not in _NOT_ABOUT_THE_RESTORE]
    part.codes.extend(code.value for code in errors)
    if errors:
        return True
    refusal = facts.watch.refusal if facts.watch is not None else None
    if refusal is not None and facts.archive is not None:
        rehearsal.add(
            part,
            FindingCode.ENTRY_BREAKS_RESTORE,
            _entry_breaks_message(facts.archive, refusal),
            facts.archive.name,
        )
        return True
    if not facts.read_to_end or facts.watch is None:
        rehearsal.cannot_judge(part, f"the entries of {what} (its archive was not read to the end)")
    return False


def _entry_breaks_message(archive: InnerArchive, refusal: FilterRefusal) -> str:
    if archive.kind == "homeassistant":
        consequence = (
            "restoring Home Assistant fails (your current configuration stays) and the restore "
            "stops there: the apps and Supervisor settings after it are not restored"
        )
    elif archive.kind == "addon":
        consequence = f"the app {archive.label} is not restored"
    else:
        consequence = (
            f"restoring {archive.label} fails after the folder was emptied, with only the "
            "entries before this one back in place"
        )
    return (
        f"{archive.file_name}: Home Assistant's restore of this archive stops at the entry "
        f'{refusal.raw_name!r}: {refusal.reason}. The Supervisor extracts with tarfile\'s "tar" '
        f"filter, which refuses such an entry and ends the extraction, so {consequence}."
    )


def _folder_parts(
    rehearsal: _Rehearsal, metadata: BackupMetadata, archives: dict[str, ArchiveFacts]
):
    for folder in metadata.folders:
        part = RestorePart(f"folder:{folder}")
        rehearsal.parts.append(part)
        _archive_part(
            rehearsal, part, archives.get(folder_archive_name(folder)), f"folder {folder}"
        )


def _homeassistant_part(
    rehearsal: _Rehearsal, metadata: BackupMetadata, archives: dict[str, ArchiveFacts]
) -> bool:
    """Home Assistant's part; True when it fails, which stops the rest of the restore."""
    if not metadata.includes_homeassistant:
        return False
    part = RestorePart("homeassistant")
    rehearsal.parts.append(part)
    fails = _archive_part(rehearsal, part, archives.get("homeassistant"), "Home Assistant")
    target = rehearsal.target
    backup_core = metadata.homeassistant_version
    if target is None or target.homeassistant is None or backup_core is None:
        rehearsal.cannot_judge(None, "the switch of Home Assistant Core to the backup's version")
    elif not fails and backup_core != target.homeassistant:
        # `_core_update` skips the switch when the versions are equal as AwesomeVersions.
        newer = is_newer_version(backup_core, target.homeassistant)
        older = is_newer_version(target.homeassistant, backup_core)
        if newer is False and older is False:
            return fails
        direction = {True: "an upgrade", False: "a downgrade", None: "a change"}[newer]
        rehearsal.add(
            part,
            FindingCode.CORE_VERSION_CHANGE,
            f"Restoring Home Assistant switches Core from {target.homeassistant} to the backup's "
            f"{backup_core} ({direction}), at the end of the restore.",
            "homeassistant",
        )
    return fails


def _addon_parts(
    rehearsal: _Rehearsal,
    metadata: BackupMetadata,
    archives: dict[str, ArchiveFacts],
    after_stop: bool,
):
    for addon in metadata.addons:
        part = RestorePart(f"addon:{addon.slug}")
        rehearsal.parts.append(part)
        facts = archives.get(addon.slug)
        what = f"the app {addon.name or addon.slug}"
        if not _archive_part(rehearsal, part, facts, what) and facts is not None:
            _addon_metadata_rules(rehearsal, part, facts, what)
        if after_stop:
            part.outcome = "skipped"


def _addon_metadata_rules(
    rehearsal: _Rehearsal, part: RestorePart, facts: ArchiveFacts, what: str
) -> None:
    watch, archive = facts.watch, facts.archive
    if watch is None or archive is None or not facts.read_to_end:
        rehearsal.cannot_judge(part, f"the addon.json of {what} (its archive was not read)")
        return
    if watch.addon_json_too_large:
        rehearsal.cannot_judge(part, f"the addon.json of {what} (it is too large to check)")
        return
    if watch.addon_json is None:
        reason = "it has no addon.json"
    else:
        system, reason = validate_addon_json(watch.addon_json)
        if system is not None:
            _availability_rules(rehearsal, part, archive, system["system"])
            return
    rehearsal.add(
        part,
        FindingCode.ADDON_METADATA_INVALID,
        f"{archive.file_name}: {reason}. The Supervisor checks an app's addon.json before "
        f"restoring it, so {what} is not restored, on any system.",
        archive.name,
    )


def _availability_rules(
    rehearsal: _Rehearsal, part: RestorePart, archive: InnerArchive, system: dict[str, Any]
) -> None:
    """`_validate_availability`: arch, machine, minimum Core; the first refusal only."""
    target = rehearsal.target or TargetFacts()
    label = f"the app {archive.label}"
    arches = list(system["arch"])
    if target.supported_arch is None:
        rehearsal.cannot_judge(part, f"whether {label} runs on the target's CPU (supported_arch)")
    elif not arch_is_supported(arches, target.supported_arch):
        rehearsal.add(
            part,
            FindingCode.ADDON_ARCH_UNSUPPORTED,
            f"{archive.file_name}: {label} runs on {', '.join(arches) or 'no architecture'}; the "
            f"target supports {', '.join(target.supported_arch)}. The Supervisor skips this app "
            "when restoring.",
            archive.name,
        )
        return
    machines = system.get("machine") or []
    if machines:
        if target.machine is None:
            rehearsal.cannot_judge(part, f"whether {label} allows the target's machine type")
        elif machine_is_refused(machines, target.machine):
            only_negations = all(m.startswith("!") for m in machines)
            quirk = (
                " Its list only excludes machines, and the Supervisor's rule then refuses every "
                "machine."
                if only_negations
                else ""
            )
            rehearsal.add(
                part,
                FindingCode.ADDON_MACHINE_UNSUPPORTED,
                f"{archive.file_name}: {label} lists the machines {', '.join(machines)}; the target "
                f"is a {target.machine}, which that list refuses.{quirk} The Supervisor skips this "
                "app when restoring.",
                archive.name,
            )
            return
    minimum = system.get("homeassistant")
    if minimum is not None:
        if target.homeassistant is None:
            rehearsal.cannot_judge(part, f"whether the target's Core is new enough for {label}")
        elif core_is_too_old(str(minimum), target.homeassistant):
            rehearsal.add(
                part,
                FindingCode.ADDON_NEEDS_NEWER_CORE,
                f"{archive.file_name}: {label} needs Home Assistant Core {minimum} or newer; the "
                f"target runs {target.homeassistant}. The Supervisor checks this against the Core "
                "running when the app is restored and skips the app.",
                archive.name,
            )


def _supervisor_config_part(
    rehearsal: _Rehearsal, archives: dict[str, ArchiveFacts], after_stop: bool
) -> None:
    facts = archives.get("supervisor")
    if facts is None or facts.archive is None:
        return
    part = RestorePart("supervisor-config")
    rehearsal.parts.append(part)
    part.codes.extend(
        code.value for code in facts.error_codes if code not in _NOT_ABOUT_THE_RESTORE
    )
    rehearsal.add(
        part,
        FindingCode.SENSITIVE_ARCHIVE,
        f"{facts.archive.file_name} holds the Supervisor's network-storage mounts and Docker "
        "registry logins, with their passwords. A restore puts them back; keep this file private "
        "and do not extract it where other apps can read it.",
        facts.archive.name,
    )
    if after_stop:
        part.outcome = "skipped"


def archive_facts(
    archive: InnerArchive,
    problems: list[Finding],
    read_to_end: bool | None,
    watch: RestoreEntryWatch | None,
) -> ArchiveFacts:
    """ArchiveFacts from one archive's check: its error codes, whether it was read, its watch."""
    codes = [p.code for p in problems if p.severity == Severity.ERROR]
    return ArchiveFacts(archive, codes, bool(read_to_end), watch)


def missing_archive_facts(overview: BackupOverview) -> dict[str, ArchiveFacts]:
    """ArchiveFacts for the archives the metadata lists but the backup lacks."""
    return {
        finding.archive: ArchiveFacts(None, [finding.code], False, None)
        for finding in overview.findings
        if finding.code == FindingCode.ARCHIVE_MISSING and finding.archive
    }
