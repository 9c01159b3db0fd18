"""Tests for backup_metadata: metadata member choice, Supervisor schema rules, slugs."""

from __future__ import annotations

import json

import pytest

from backup_inspector.backup_format.backup_metadata import (
    MAX_JSON_DEPTH,
    MAX_METADATA_BYTES,
    METADATA_NAMES,
    AddonInfo,
    BackupMetadata,
    choose_metadata_member,
    compute_slug,
    describe_backup_date,
    parse_backup_metadata,
)
from backup_inspector.backup_format.findings import FindingCode, Severity
from backup_inspector.backup_format.metadata_schema import MAX_ADDONS, MAX_FOLDERS, MAX_REPOSITORIES

# --- real-shaped metadata, one per era (format-spec §3.3, §4.1) -------------

# Supervisor 2018 (0.9x): snapshot.json, digit-string `protected`, `crypto`,
# a full `homeassistant` settings dict with the encrypted API password, and
# "homeassistant" listed as a folder.
SNAPSHOT_2018 = b"""{
  "slug": "7c3e1a90",
  "type": "full",
  "name": "Full snapshot 2018-03-04",
  "date": "2018-03-04T03:00:12.345678+00:00",
  "protected": "5",
  "crypto": "aes128",
  "homeassistant": {
    "version": "0.64.3",
    "image": "homeassistant/raspberrypi3-homeassistant",
    "last_version": "0.64.3",
    "boot": true,
    "ssl": false,
    "port": 8123,
    "password": "kX9vQm2ENCRYPTEDpw3Lq==",
    "watchdog": true,
    "wait_boot": 600
  },
  "folders": ["homeassistant", "ssl", "share"],
  "addons": [
    {"slug": "core_ssh", "name": "SSH server", "version": "3.1", "size": 0.02},
    {"slug": "core_mosquitto", "name": "Mosquitto broker", "version": "2.0", "size": 0.01}
  ],
  "repositories": ["https://github.com/hassio-addons/repository"]
}"""

# Supervisor 2021 (format 1, backup.json since 2021.08.0): refresh token and
# registry password encrypted in the metadata, `media` and `addons/local`.
BACKUP_2021_FORMAT_1 = b"""{
  "slug": "c12782f7",
  "type": "partial",
  "name": "W\xc3\xb6chentlich",
  "date": "2021-05-02T02:00:00.000000+00:00",
  "protected": "7",
  "crypto": "aes128",
  "homeassistant": {
    "version": "2021.4.6",
    "image": "homeassistant/qemux86-64-homeassistant",
    "boot": true,
    "ssl": false,
    "port": 8123,
    "refresh_token": "Zm9vENCRYPTEDtokenYmFy==",
    "watchdog": true,
    "wait_boot": 600,
    "audio_input": null,
    "audio_output": null
  },
  "folders": ["homeassistant", "media", "addons/local"],
  "addons": [
    {"slug": "a0d7b954_vscode", "name": "Visual Studio Code", "version": "3.2.2", "size": 215.3}
  ],
  "repositories": ["core", "local", "https://github.com/hassio-addons/repository"],
  "docker": {"registries": {"ghcr.io": {"username": "me", "password": "cmVnENCRYPTEDregistry=="}}}
}"""

# Supervisor 2022.05 (format 2, before supervisor_version existed).
BACKUP_2022_FORMAT_2 = b"""{
  "slug": "5f0e2b7d",
  "version": 2,
  "name": "Before update",
  "date": "2022-05-14T09:30:00.123456+00:00",
  "type": "partial",
  "compressed": false,
  "protected": false,
  "crypto": null,
  "homeassistant": {"version": "2022.5.4", "size": 12.5},
  "folders": ["media"],
  "addons": [{"slug": "core_configurator", "name": "File editor", "version": "5.3.3", "size": 0.1}],
  "repositories": ["core", "local"],
  "docker": {"registries": {}}
}"""

# Home Assistant Core 2022.5 on a Core install: no `version`, no `protected`.
CORE_2022_BACKUP = b"""{
  "slug": "0a1b2c3d",
  "name": "Core 2022.5.0",
  "date": "2022-05-10T21:15:03.123456+02:00",
  "type": "partial",
  "folders": ["homeassistant"],
  "homeassistant": {"version": "2022.5.0"},
  "compressed": true
}"""

# Home Assistant Core 2025.1 (new backup system), database excluded.
CORE_2025_1_BACKUP = b"""{
  "compressed": true,
  "date": "2025-01-08T21:13:34.447019+01:00",
  "extra": {"instance_id": "f3a9c0de5b6e4b0c9d1e2f3a4b5c6d7e", "with_automatic_settings": true},
  "homeassistant": {"exclude_database": true, "version": "2025.1.0"},
  "name": "Automatic backup 2025.1.0",
  "protected": true,
  "slug": "9e8d7c6b",
  "type": "partial",
  "version": 2
}"""

# Supervisor 2026.10 (SecureTar v3 era): no crypto, no docker, a future key.
BACKUP_2026 = b"""{
  "slug": "c086e8c8",
  "version": 2,
  "name": "Automatic backup 2026.11.0",
  "date": "2026-11-20T03:00:04.812345+00:00",
  "type": "full",
  "supervisor_version": "2026.10.2",
  "extra": {
    "instance_id": "f3a9c0de5b6e4b0c9d1e2f3a4b5c6d7e",
    "with_automatic_settings": true,
    "supervisor.backup_request_date": "2026-11-20T04:00:00.000000+01:00"
  },
  "folders": ["share", "addons/local", "ssl", "media"],
  "compressed": true,
  "homeassistant": {"version": "2026.11.0", "exclude_database": false, "size": 0.0},
  "protected": true,
  "repositories": ["core", "local", "https://github.com/example/ha-addons#main"],
  "addons": [
    {"slug": "core_ssh", "name": "Terminal & SSH", "version": "9.16.0", "size": 0.0},
    {"slug": "a0d7b954_vscode", "name": "Studio Code Server", "version": "5.19.3", "size": 0.0}
  ],
  "future_feature": {"enabled": true}
}"""

SECRET_MARKERS = ("ENCRYPTED", "password", "refresh_token")

# Marks a key that _metadata_dict should remove.
_REMOVE = object()


def _metadata_dict(**changes: object) -> dict[str, object]:
    """A minimal valid format-2 metadata dict with some keys replaced or removed."""
    data: dict[str, object] = {
        "slug": "1a2b3c4d",
        "version": 2,
        "name": "Test",
        "date": "2026-01-02T03:04:05.000000+00:00",
        "type": "partial",
        "folders": ["share"],
        "addons": [],
        "homeassistant": None,
    }
    for key, value in changes.items():
        if value is _REMOVE:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def _parse(data: dict[str, object]) -> tuple[BackupMetadata | None, list]:
    """Parse a dict through its JSON bytes, as stored in ./backup.json."""
    return parse_backup_metadata(json.dumps(data).encode("utf-8"), "./backup.json")


def _parse_valid(raw: bytes, member_name: str = "./backup.json") -> BackupMetadata:
    """Parse bytes that must be valid; fail the test with the finding otherwise."""
    metadata, findings = parse_backup_metadata(raw, member_name)
    assert findings == [], [finding.message for finding in findings]
    assert metadata is not None
    assert metadata.is_valid
    return metadata


def _single_invalid(data: dict[str, object]) -> tuple[BackupMetadata | None, str]:
    """Parse a dict that must give exactly one METADATA_INVALID finding; return its message."""
    metadata, findings = _parse(data)
    assert [finding.code for finding in findings] == [FindingCode.METADATA_INVALID]
    assert findings[0].severity is Severity.ERROR
    return metadata, findings[0].message


# --- choose_metadata_member ------------------------------------------------


def test_metadata_names_follow_supervisor_lookup_order() -> None:
    """METADATA_NAMES is the Supervisor's exact lookup: ./snapshot.json, then ./backup.json."""
    assert METADATA_NAMES == ("./snapshot.json", "./backup.json")


def test_choose_exact_backup_json() -> None:
    """A streamed backup's ./backup.json (after inner archives without ./) is chosen silently."""
    name, findings = choose_metadata_member(
        ["homeassistant.tar.gz", "core_ssh.tar.gz", "./backup.json"]
    )
    assert (name, findings) == ("./backup.json", [])


def test_choose_prefers_snapshot_json_like_supervisor() -> None:
    """When both exact names exist, ./snapshot.json wins, as in Backup.load."""
    name, findings = choose_metadata_member([".", "./backup.json", "./snapshot.json"])
    assert (name, findings) == ("./snapshot.json", [])


def test_choose_exact_name_beats_nonstandard_one() -> None:
    """An exact ./backup.json is preferred over a re-packed snapshot.json without ./."""
    name, findings = choose_metadata_member(["snapshot.json", "./backup.json"])
    assert (name, findings) == ("./backup.json", [])


@pytest.mark.parametrize(
    "member_name",
    ["backup.json", "/backup.json", "snapshot.json", "././backup.json", "/./backup.json"],
)
def test_choose_nonstandard_name_warns(member_name: str) -> None:
    """A top-level name differing only by its ./ or / prefix is used, with a warning."""
    name, findings = choose_metadata_member(["homeassistant.tar.gz", member_name])
    assert name == member_name
    assert [finding.code for finding in findings] == [FindingCode.METADATA_NAME_NONSTANDARD]
    assert findings[0].severity is Severity.WARNING
    assert "'./backup.json' exactly" in findings[0].message
    assert "would not list or restore" in findings[0].message
    assert member_name in findings[0].message


def test_choose_nonstandard_prefers_snapshot_json() -> None:
    """Among non-standard names the Supervisor's preference (snapshot first) still holds."""
    name, _ = choose_metadata_member(["backup.json", "snapshot.json"])
    assert name == "snapshot.json"


@pytest.mark.parametrize(
    "member_names",
    [[], ["homeassistant.tar.gz"], ["sub/backup.json"], ["./Backup.json"], ["backup.json.bak"]],
)
def test_choose_returns_none_without_metadata(member_names: list[str]) -> None:
    """No top-level metadata name: None and no finding (the caller reports metadata-missing)."""
    assert choose_metadata_member(member_names) == (None, [])


# --- parse_backup_metadata: one test per era -------------------------------


def test_parse_2018_snapshot_normalises_legacy_values() -> None:
    """2018 snapshot.json: digit-string protected is True, HA folder entry noted and removed."""
    metadata = _parse_valid(SNAPSHOT_2018, "./snapshot.json")
    assert metadata.protected is True
    assert metadata.format_version == 1
    assert metadata.type == "full"
    assert metadata.homeassistant_version == "0.64.3"
    assert metadata.exclude_database is False
    assert metadata.compressed is True
    assert metadata.folders == ("ssl", "share")
    assert metadata.has_homeassistant_folder_archive is True
    assert metadata.addons == (
        AddonInfo("core_ssh", "SSH server", "3.1"),
        AddonInfo("core_mosquitto", "Mosquitto broker", "2.0"),
    )
    assert metadata.supervisor_version is None
    assert metadata.member_name == "./snapshot.json"
    assert metadata.expected_archive_names() == [
        "homeassistant",
        "core_ssh",
        "core_mosquitto",
        "ssl",
        "share",
    ]


def test_to_json_never_contains_legacy_secrets() -> None:
    """Encrypted passwords, refresh tokens and registry credentials never reach to_json."""
    for raw in (SNAPSHOT_2018, BACKUP_2021_FORMAT_1):
        metadata = _parse_valid(raw)
        serialised = json.dumps(metadata.to_json())
        for marker in SECRET_MARKERS:
            assert marker not in serialised
        assert "docker" not in metadata.to_json()


def test_parse_2021_format_1_backup() -> None:
    """2021 format 1: UTF-8 name, addons/local folder becomes the addons_local archive."""
    metadata = _parse_valid(BACKUP_2021_FORMAT_1)
    assert metadata.name == "Wöchentlich"
    assert metadata.protected is True
    assert metadata.type == "partial"
    assert metadata.folders == ("media", "addons/local")
    assert metadata.repositories == ("core", "local", "https://github.com/hassio-addons/repository")
    assert metadata.expected_archive_names() == [
        "homeassistant",
        "a0d7b954_vscode",
        "media",
        "addons_local",
    ]


def test_parse_2022_format_2_uncompressed() -> None:
    """Format 2 from 2022: compressed false and protected false are kept, crypto null accepted."""
    metadata = _parse_valid(BACKUP_2022_FORMAT_2)
    assert metadata.format_version == 2
    assert metadata.compressed is False
    assert metadata.protected is False
    assert metadata.has_homeassistant_folder_archive is False
    assert metadata.homeassistant_version == "2022.5.4"
    assert metadata.expected_archive_names() == ["homeassistant", "core_configurator", "media"]


def test_parse_core_2022_backup_defaults() -> None:
    """Core 2022 metadata without version/protected: format 1, unprotected, HA archive expected."""
    metadata = _parse_valid(CORE_2022_BACKUP)
    assert metadata.format_version == 1
    assert metadata.protected is False
    assert metadata.folders == ()
    assert metadata.has_homeassistant_folder_archive is True
    assert metadata.homeassistant_version == "2022.5.0"
    assert metadata.extra == {}
    assert metadata.expected_archive_names() == ["homeassistant"]


def test_parse_core_2025_1_backup() -> None:
    """Core 2025.1: exclude_database and extra are read; only the HA archive is expected."""
    metadata = _parse_valid(CORE_2025_1_BACKUP)
    assert metadata.format_version == 2
    assert metadata.protected is True
    assert metadata.exclude_database is True
    assert metadata.extra["with_automatic_settings"] is True
    assert metadata.addons == ()
    assert metadata.expected_archive_names() == ["homeassistant"]
    assert "without its database" in metadata.describe()


def test_parse_2026_backup_allows_extra_keys() -> None:
    """2026 metadata without crypto/docker and with an unknown key is valid."""
    metadata = _parse_valid(BACKUP_2026)
    assert metadata.supervisor_version == "2026.10.2"
    assert metadata.homeassistant_version == "2026.11.0"
    assert metadata.type == "full"
    assert metadata.folders == ("share", "addons/local", "ssl", "media")
    assert [addon.slug for addon in metadata.addons] == ["core_ssh", "a0d7b954_vscode"]
    assert metadata.extra["supervisor.backup_request_date"].startswith("2026-11-20T04")
    assert "future_feature" not in metadata.to_json()


def test_describe_full_backup() -> None:
    """describe() gives the sentence for a full backup in plain words."""
    metadata = _parse_valid(BACKUP_2026)
    assert metadata.describe() == (
        "Full backup made by Home Assistant 2026.11.0 on 20 November 2026 at 03:00 UTC"
    )


def test_describe_partial_backup_lists_contents() -> None:
    """describe() of a partial backup names Home Assistant, add-ons and folders."""
    metadata = _parse_valid(BACKUP_2021_FORMAT_1)
    assert metadata.describe() == (
        "Partial backup made by Home Assistant 2021.4.6 on 2 May 2021 at 02:00 UTC: it holds "
        "Home Assistant, the add-on Visual Studio Code and the folders media and addons/local"
    )


def test_describe_partial_without_homeassistant_uses_supervisor_version() -> None:
    """Without Home Assistant in the backup, the Supervisor version says who made it."""
    metadata, findings = _parse(
        _metadata_dict(supervisor_version="2025.02.0.dev0303", folders=["ssl"])
    )
    assert findings == []
    assert metadata is not None
    assert metadata.describe() == (
        "Partial backup made by Supervisor 2025.02.0.dev0303 on 2 January 2026 at 03:04 UTC: "
        "it holds the folder ssl"
    )


def test_to_json_has_normalised_fields() -> None:
    """to_json() emits the normalised values a client needs."""
    document = _parse_valid(BACKUP_2026).to_json()
    assert document["slug"] == "c086e8c8"
    assert document["type"] == "full"
    assert document["format_version"] == 2
    assert document["protected"] is True
    assert document["folders"] == ["share", "addons/local", "ssl", "media"]
    assert document["addons"][0] == {
        "slug": "core_ssh",
        "name": "Terminal & SSH",
        "version": "9.16.0",
    }
    assert document["is_valid"] is True
    assert document["member_name"] == "./backup.json"
    json.dumps(document)  # must be serialisable as is


# --- parse_backup_metadata: individual rules -------------------------------


@pytest.mark.parametrize("stored", ["1", 1, 0, "0", None])
def test_non_bool_protected_means_protected(stored: object) -> None:
    """Any non-bool protected value (legacy digit string or int) is True, as in the Supervisor."""
    metadata, findings = _parse(_metadata_dict(protected=stored))
    assert findings == []
    assert metadata is not None
    assert metadata.protected is True


def test_bool_protected_is_kept() -> None:
    """A bool protected value is taken as it is."""
    metadata, _ = _parse(_metadata_dict(protected=False))
    assert metadata is not None
    assert metadata.protected is False


def test_format_version_string_is_coerced() -> None:
    """version "2" is coerced to 2 like vol.Coerce(int)."""
    metadata, findings = _parse(_metadata_dict(version="2"))
    assert findings == []
    assert metadata is not None
    assert metadata.format_version == 2


def test_format_version_3_is_invalid() -> None:
    """Only backup format versions 1 and 2 exist."""
    _, message = _single_invalid(_metadata_dict(version=3))
    assert "'version' must be 1 or 2, not 3" in message


@pytest.mark.parametrize("homeassistant", [None, {}, {"size": 0.0}, {"version": None}])
def test_homeassistant_without_version_means_not_included(homeassistant: object) -> None:
    """homeassistant null, empty or without version ⇒ no Home Assistant in the backup."""
    metadata, findings = _parse(_metadata_dict(homeassistant=homeassistant))
    assert findings == []
    assert metadata is not None
    assert metadata.homeassistant_version is None
    assert "homeassistant" not in metadata.expected_archive_names()


def test_homeassistant_folder_is_removed_in_format_2_too() -> None:
    """A "homeassistant" folder entry is removed whatever the format version."""
    metadata, findings = _parse(_metadata_dict(folders=["homeassistant", "share"]))
    assert findings == []
    assert metadata is not None
    assert metadata.folders == ("share",)
    assert metadata.has_homeassistant_folder_archive is True
    assert metadata.expected_archive_names() == ["homeassistant", "share"]


def test_crypto_aes128_and_null_accepted_other_values_not() -> None:
    """crypto may be null or "aes128"; anything else is invalid."""
    for accepted in (None, "aes128"):
        assert _parse(_metadata_dict(crypto=accepted))[1] == []
    _, message = _single_invalid(_metadata_dict(crypto="aes256"))
    assert "'crypto'" in message


def test_compressed_and_exclude_database_accept_boolean_strings() -> None:
    """compressed and exclude_database are read with vol.Boolean, as the Supervisor does."""
    metadata, findings = _parse(
        _metadata_dict(
            compressed="false", homeassistant={"version": "2024.1.0", "exclude_database": "yes"}
        )
    )
    assert findings == []
    assert metadata is not None
    assert metadata.compressed is False
    assert metadata.exclude_database is True


def test_missing_slug_is_invalid_but_still_shown() -> None:
    """A missing slug is reported, and the name and date are still available."""
    metadata, message = _single_invalid(_metadata_dict(slug=_REMOVE))
    assert "'slug' is missing" in message
    assert "would not list or restore" in message
    assert metadata is not None
    assert metadata.is_valid is False
    assert metadata.slug == ""
    assert metadata.name == "Test"
    assert metadata.date == "2026-01-02T03:04:05.000000+00:00"


def test_unknown_type_is_invalid() -> None:
    """type must be "full" or "partial"; the stored text is kept for display."""
    metadata, message = _single_invalid(_metadata_dict(type="weird"))
    assert "'type' must be 'full' or 'partial', not 'weird'" in message
    assert metadata is not None
    assert metadata.type == "weird"
    assert metadata.describe().startswith("Backup on 2 January 2026")


def test_duplicate_folders_are_invalid() -> None:
    """Each folder may be listed once only."""
    metadata, message = _single_invalid(_metadata_dict(folders=["share", "ssl", "share"]))
    assert "'folders' lists the folder 'share' more than once" in message
    assert metadata is not None
    assert metadata.folders == ("share", "ssl")


def test_unknown_folder_is_invalid() -> None:
    """Folders outside share, addons/local, ssl, media are invalid; the UI still sees them."""
    metadata, message = _single_invalid(_metadata_dict(folders=["share", "config"]))
    assert "'folders[1]'" in message
    assert "'config'" in message
    assert metadata is not None
    assert metadata.folders == ("share", "config")


def test_duplicate_addon_slugs_are_invalid() -> None:
    """The Supervisor rejects an add-on list with a slug twice."""
    addon = {"slug": "core_ssh", "name": "Terminal & SSH", "version": "9.16.0"}
    metadata, message = _single_invalid(_metadata_dict(addons=[addon, addon]))
    assert "'addons' lists the add-on slug 'core_ssh' more than once" in message
    assert metadata is not None
    assert metadata.addons == (AddonInfo("core_ssh", "Terminal & SSH", "9.16.0"),)


def test_addon_without_version_reports_field_path() -> None:
    """A missing add-on field is reported with its path."""
    _, message = _single_invalid(_metadata_dict(addons=[{"slug": "core_ssh", "name": "SSH"}]))
    assert "'addons[0].version' is missing" in message


def test_invalid_repository_is_reported() -> None:
    """Repositories must be built-in names or URLs."""
    _, message = _single_invalid(_metadata_dict(repositories=["core", "not a url"]))
    assert "'repositories[1]'" in message


def test_extra_must_be_an_object() -> None:
    """extra is a dict when present."""
    _, message = _single_invalid(_metadata_dict(extra=["instance_id"]))
    assert "'extra' must be an object" in message


def test_several_problems_are_reported_together() -> None:
    """All broken fields are named in one finding."""
    _, message = _single_invalid(_metadata_dict(slug=_REMOVE, type="weird"))
    assert "'slug' is missing" in message
    assert "'type' must be" in message


def test_bad_json_gives_no_metadata() -> None:
    """Text that is not JSON yields METADATA_INVALID and no metadata."""
    metadata, findings = parse_backup_metadata(b'{"slug": "1a2b3c4d",', "./backup.json")
    assert metadata is None
    assert [finding.code for finding in findings] == [FindingCode.METADATA_INVALID]
    assert "not valid JSON" in findings[0].message


def test_non_utf8_gives_no_metadata() -> None:
    """Latin-1 bytes are not UTF-8: METADATA_INVALID and no metadata."""
    raw = '{"slug": "1a2b3c4d", "name": "Sauvegarde complète"}'.encode("latin-1")
    metadata, findings = parse_backup_metadata(raw, "./backup.json")
    assert metadata is None
    assert [finding.code for finding in findings] == [FindingCode.METADATA_INVALID]
    assert "not UTF-8" in findings[0].message


def test_json_list_gives_no_metadata() -> None:
    """A JSON list is not a metadata object."""
    metadata, findings = parse_backup_metadata(b'[{"slug": "1a2b3c4d"}]', "./backup.json")
    assert metadata is None
    assert [finding.code for finding in findings] == [FindingCode.METADATA_INVALID]
    assert "JSON list instead of an object" in findings[0].message


def test_json_nan_is_rejected() -> None:
    """NaN is not JSON (the Supervisor's orjson refuses it)."""
    raw = json.dumps(_metadata_dict(homeassistant={"version": "1", "size": float("nan")}))
    metadata, findings = parse_backup_metadata(raw.encode(), "./backup.json")
    assert metadata is None
    assert findings[0].code is FindingCode.METADATA_INVALID


def _with_nested_extra(depth: int) -> bytes:
    """Valid metadata whose `extra` is `depth` objects, one inside the other."""
    nested = '{"a":' * depth + "1" + "}" * depth
    return (json.dumps(_metadata_dict())[:-1] + f', "extra": {nested}}}').encode()


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH, 30_000])
def test_json_nested_too_deep_is_refused(depth: int) -> None:
    """`extra` nested past MAX_JSON_DEPTH is refused on every Python (3.14 decoded it, then json.dumps crashed)."""
    raw = _with_nested_extra(depth)
    metadata, findings = parse_backup_metadata(raw, "./backup.json")
    assert metadata is None
    assert [finding.code for finding in findings] == [FindingCode.METADATA_INVALID]


def test_json_nested_to_the_limit_is_read() -> None:
    """`extra` nested just within MAX_JSON_DEPTH is kept, and encodes again."""
    depth = MAX_JSON_DEPTH - 1  # the metadata object itself is the first level
    raw = _with_nested_extra(depth)
    metadata, findings = parse_backup_metadata(raw, "./backup.json")
    assert findings == []
    assert metadata is not None
    assert json.loads(json.dumps(metadata.to_json()))["extra"] == json.loads(raw)["extra"]


def test_finding_names_the_member() -> None:
    """The message names the member the metadata came from."""
    _, findings = parse_backup_metadata(b"not json", "backup.json")
    assert "'backup.json'" in findings[0].message


# --- compute_slug ------------------------------------------------------------


def test_compute_slug_matches_spec_example() -> None:
    """The format-spec §3.3 example backup's slug follows from its date and name."""
    assert compute_slug("2025-02-03T18:48:28.273501+00:00", "Encrypt test") == "93b462f8"


def test_compute_slug_known_value() -> None:
    """A slug computed independently with sha1sum over the lower-cased key."""
    assert compute_slug("2026-11-20T03:00:04.812345+00:00", "Automatic backup 2026.11.0") == (
        "c086e8c8"
    )


def test_compute_slug_non_ascii_name() -> None:
    """Names are encoded as UTF-8 before hashing."""
    assert compute_slug("2021-05-02T02:00:00.000000+00:00", "Wöchentlich") == "c12782f7"


def test_compute_slug_is_case_insensitive() -> None:
    """Lower-casing means name and date case do not change the slug."""
    assert compute_slug("2026-01-01T00:00:00+00:00", "NAME") == compute_slug(
        "2026-01-01t00:00:00+00:00", "name"
    )


def test_describe_names_a_non_utc_offset() -> None:
    """A backup time written with an offset says which, so it cannot be mistaken for local time."""
    assert (
        describe_backup_date("2026-11-20T03:00:00+01:00") == "20 November 2026 at 03:00 (UTC+01:00)"
    )
    assert (
        describe_backup_date("2026-11-20T03:00:00-05:30") == "20 November 2026 at 03:00 (UTC-05:30)"
    )
    assert describe_backup_date("2026-11-20T03:00:00") == "20 November 2026 at 03:00"


# --- bounds: what is believable in one backup (issue 9, finding 5) ----------


def _addons(count: int) -> list[dict[str, object]]:
    """`count` distinct, valid add-on entries."""
    return [
        {"slug": f"addon_{index}", "name": f"Add-on {index}", "version": "1.0"}
        for index in range(count)
    ]


def test_addons_up_to_the_limit_are_valid() -> None:
    """MAX_ADDONS add-ons is still a valid backup (the limit is inclusive)."""
    metadata = _parse_valid(json.dumps(_metadata_dict(addons=_addons(MAX_ADDONS))).encode())
    assert len(metadata.addons) == MAX_ADDONS


def test_too_many_addons_is_invalid_and_the_rest_is_dropped() -> None:
    """2 000 add-ons: metadata-invalid that names the count and limit; 1 000 kept for the UI."""
    metadata, message = _single_invalid(_metadata_dict(addons=_addons(2_000)))
    assert "'addons' lists 2,000 add-ons" in message
    assert f"at most {MAX_ADDONS:,}" in message
    assert metadata is not None
    assert len(metadata.addons) == MAX_ADDONS
    assert metadata.addons[-1].slug == f"addon_{MAX_ADDONS - 1}"


def test_too_many_folders_is_invalid_and_the_rest_is_dropped() -> None:
    """1.2 million distinct folder names: metadata-invalid, at most MAX_FOLDERS kept."""
    folders = [f"folder{index}" for index in range(1_200_000)]
    raw = json.dumps(_metadata_dict(folders=folders)).encode()
    assert len(raw) > MAX_METADATA_BYTES  # refused by size before it is even decoded
    metadata, findings = parse_backup_metadata(raw, "./backup.json")
    assert metadata is None
    assert "bytes" in findings[0].message
    metadata, message = _single_invalid(_metadata_dict(folders=folders[: MAX_FOLDERS + 1]))
    assert f"'folders' lists {MAX_FOLDERS + 1:,} folders" in message
    assert metadata is not None
    assert len(metadata.folders) == MAX_FOLDERS


def test_too_many_repositories_is_invalid() -> None:
    """More than MAX_REPOSITORIES repositories is metadata-invalid."""
    repositories = [f"https://example.com/repo{index}" for index in range(MAX_REPOSITORIES + 1)]
    metadata, message = _single_invalid(_metadata_dict(repositories=repositories))
    assert "'repositories' lists" in message
    assert metadata is not None
    assert len(metadata.repositories) == MAX_REPOSITORIES


def test_metadata_over_the_byte_limit_is_not_decoded() -> None:
    """Bytes over MAX_METADATA_BYTES: no metadata, one finding that gives the size and limit."""
    raw = b'{"name": "' + b"x" * MAX_METADATA_BYTES + b'"}'
    metadata, findings = parse_backup_metadata(raw, "./backup.json")
    assert metadata is None
    assert [finding.code for finding in findings] == [FindingCode.METADATA_INVALID]
    assert f"{len(raw):,} bytes" in findings[0].message
    assert "at most 1 MiB" in findings[0].message


def test_many_broken_fields_name_five_and_count_the_rest() -> None:
    """Eight broken fields: the message names five and counts the other three."""
    data = _metadata_dict(
        slug=_REMOVE,
        name=_REMOVE,
        date=_REMOVE,
        type="weekly",
        version=3,
        compressed="maybe",
        crypto="rot13",
        folders=["attic"],
    )
    _, message = _single_invalid(data)
    reasons = message.split(" cannot be used: ", 1)[1].split("; ")
    assert len(reasons) == 6
    assert reasons[-1].startswith("and 3 more problems.")


def test_infinite_number_is_a_finding_not_an_error() -> None:
    """`"version": 1e999` decodes to infinity; int() of it overflows: metadata-invalid."""
    raw = json.dumps(_metadata_dict(version=12345)).encode().replace(b"12345", b"1e999")
    metadata, findings = parse_backup_metadata(raw, "./backup.json")
    assert [finding.code for finding in findings] == [FindingCode.METADATA_INVALID]
    assert "'version' must be 1 or 2, not inf" in findings[0].message
    assert metadata is not None
    assert metadata.format_version == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"addons": [{"slug": "a", "name": "A", "version": "1", "size": 10**400}]},
        {"homeassistant": {"version": "2026.1.0", "size": 10**400}},
        {"type": [[[["deep"]]]] * 1000},
    ],
    ids=["huge-addon-size", "huge-homeassistant-size", "wide-deep-type"],
)
def test_huge_and_odd_values_are_findings_not_errors(changes: dict[str, object]) -> None:
    """Numbers that overflow a float or int, and huge values, give metadata-invalid, not a crash."""
    raw = json.dumps(_metadata_dict(**changes)).encode()
    metadata, findings = parse_backup_metadata(raw, "./backup.json")
    assert [finding.code for finding in findings] == [FindingCode.METADATA_INVALID]
    assert metadata is not None
    assert len(findings[0].message) < 1000
