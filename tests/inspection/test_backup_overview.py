"""open_backup: what a backup holds, from its headers and metadata, on real backup files."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from backup_inspector.backup_format.findings import FindingCode, Severity
from backup_inspector.demo.backup_writer import ArchiveSpec, WrittenBackup, truncate_file
from backup_inspector.inspection.backup_overview import open_backup


def test_preset_archives_and_encryption(
    preset: WrittenBackup, encryption_names: dict[str, str]
) -> None:
    """Every era preset lists exactly its inner archives, each with its encryption generation."""
    overview = open_backup(preset.path)
    found = {a.name: a for a in overview.archives}
    assert sorted(found) == sorted(w.component for w in preset.archives)
    for written in preset.archives:
        archive = found[written.component]
        assert archive.member_name == written.member_name
        assert archive.encryption.value == encryption_names[written.encryption]
        assert archive.is_complete


def test_preset_metadata_is_read_without_errors(preset: WrittenBackup) -> None:
    """Every era preset has metadata and no error-level finding at the header level."""
    overview = open_backup(preset.path)
    assert overview.metadata is not None
    assert [f for f in overview.findings if f.severity == Severity.ERROR] == []


def test_preset_listed_flags_follow_the_metadata(preset: WrittenBackup) -> None:
    """Archives the metadata lists are `is_listed`; supervisor counts as listed too."""
    overview = open_backup(preset.path)
    for archive in overview.archives:
        written = next(w for w in preset.archives if w.component == archive.name)
        assert archive.is_listed == (written.is_listed_in_metadata or archive.name == "supervisor")


def test_preset_protection_matches_password(preset: WrittenBackup) -> None:
    """A backup is protected exactly when its preset was written with a password."""
    assert open_backup(preset.path).is_protected == (preset.password is not None)


def test_unencrypted_archives_say_whether_they_are_gzip(preset: WrittenBackup) -> None:
    """Unencrypted archives report gzip or plain tar from their bytes; encrypted ones cannot yet."""
    overview = open_backup(preset.path)
    for written in preset.archives:
        archive = overview.find_archive(written.component)
        assert archive is not None
        if written.encryption == "none":
            assert archive.compressed is written.is_gzip
        else:
            assert archive.compressed is None


def test_find_archive_by_base_and_member_name(era_backups: dict[str, WrittenBackup]) -> None:
    """find_archive takes "share", "share.tar.gz" and "./share.tar.gz"; unknown gives None."""
    written = era_backups["supervisor_2019_gnu_snapshot"]  # members are named "./x.tar.gz"
    overview = open_backup(written.path)
    by_base = overview.find_archive("share")
    assert by_base is not None
    assert overview.find_archive("share.tar.gz") is by_base
    assert overview.find_archive("./share.tar.gz") is by_base
    assert overview.find_archive("core_mosquitto") is None


def test_supervisor_archive_kind(era_backups: dict[str, WrittenBackup]) -> None:
    """supervisor.tar.gz is recognised as the Supervisor settings archive and is not unlisted."""
    overview = open_backup(era_backups["supervisor_2026_v3"].path)
    supervisor = overview.find_archive("supervisor")
    assert supervisor is not None
    assert supervisor.kind == "supervisor"
    assert FindingCode.ARCHIVE_UNLISTED not in {f.code for f in overview.findings}


def test_addon_archive_kind_and_label(era_backups: dict[str, WrittenBackup]) -> None:
    """An add-on archive is of kind "addon" and is labelled with the name from the metadata."""
    written = era_backups["supervisor_2026_v3"]
    overview = open_backup(written.path)
    mosquitto = overview.find_archive("core_mosquitto")
    assert mosquitto is not None
    assert mosquitto.kind == "addon"
    assert overview.metadata is not None
    names = {addon.slug: addon.name for addon in overview.metadata.addons}
    assert mosquitto.label == names["core_mosquitto"]


def test_to_json_is_serialisable_and_complete(preset: WrittenBackup) -> None:
    """The overview's JSON names the file, the protection and every archive."""
    overview = open_backup(preset.path)
    data = json.loads(json.dumps(overview.to_json()))
    assert data["path"] == str(preset.path)
    assert data["protected"] == (preset.password is not None)
    assert [a["name"] for a in data["archives"]] == [a.name for a in overview.archives]
    for archive in data["archives"]:
        assert archive["encryption"] in {"none", "securetar-v1", "securetar-v2", "securetar-v3"}
        assert archive["size"] > 0


def test_missing_file_raises_oserror(tmp_path: Path) -> None:
    """A path that does not exist raises OSError (the only exception open_backup may raise)."""
    with pytest.raises(OSError):
        open_backup(tmp_path / "nope.tar")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(os.urandom(100), id="random-100"),
        pytest.param(os.urandom(5000), id="random-5000"),
        pytest.param(gzip.compress(b"not a tar" * 1000), id="gzip"),
        pytest.param(bytes(4096), id="zeros"),
    ],
)
def test_garbage_never_raises(tmp_path: Path, content: bytes) -> None:
    """Bytes that are no backup at all give findings with errors, never an exception."""
    path = tmp_path / "garbage.tar"
    path.write_bytes(content)
    overview = open_backup(path)
    assert overview.archives == []
    assert any(f.severity == Severity.ERROR for f in overview.findings)


def test_truncated_backup_keeps_complete_archives(
    three_archive_backup: Callable[..., Path],
) -> None:
    """A backup cut in its 2nd archive lists the 1st complete and the 2nd incomplete."""
    path = three_archive_backup("v2")
    overview = open_backup(path)
    share = overview.find_archive("share")
    assert share is not None
    truncate_file(path, share.member.data_offset + share.size // 2)
    cut = open_backup(path)
    homeassistant = cut.find_archive("homeassistant")
    cut_share = cut.find_archive("share")
    assert homeassistant is not None and homeassistant.is_complete
    assert cut_share is not None and not cut_share.is_complete
    assert cut.find_archive("ssl") is None
    assert cut.metadata is None


def test_metadata_first_survives_truncation(build_backup: Callable[..., Path]) -> None:
    """With backup.json first (Core style), a cut at the end still leaves the metadata readable."""
    archives = [
        ArchiveSpec("homeassistant", {"data/a.txt": b"a" * 5000}),
        ArchiveSpec("share", {"b.txt": os.urandom(20_000)}),
    ]
    path = build_backup("first.tar", archives, metadata_position="first")
    share = open_backup(path).find_archive("share")
    assert share is not None
    truncate_file(path, share.member.data_offset + 100)
    overview = open_backup(path)
    assert overview.metadata is not None
    codes = {f.code for f in overview.findings}
    assert FindingCode.TRUNCATED in codes
    assert FindingCode.METADATA_MISSING not in codes
