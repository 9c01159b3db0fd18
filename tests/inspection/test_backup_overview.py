"""open_backup: what a backup holds, from its headers and metadata, on real backup files."""

from __future__ import annotations

import gzip
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from backup_inspector.backup_format.findings import FindingCode, Severity
from backup_inspector.demo.backup_writer import (
    ArchiveSpec,
    WrittenBackup,
    truncate_file,
    write_backup,
)
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


# --------------------------------------------------------------------------
# Huge metadata: linear work, bounded result (issue 9, finding 5)
# --------------------------------------------------------------------------


def _many_addons_backup(path: Path, addon_count: int) -> Path:
    """A backup whose metadata lists `addon_count` add-ons, none of which has an archive."""
    metadata = {
        "slug": "1a2b3c4d",
        "version": 2,
        "name": "Many add-ons",
        "date": "2026-01-02T03:04:05+00:00",
        "type": "partial",
        "homeassistant": None,
        "folders": [],
        "addons": [
            {"slug": f"addon_{index}", "name": f"Add-on {index}", "version": "1.0"}
            for index in range(addon_count)
        ],
    }
    return write_backup(path, [], metadata=json.dumps(metadata).encode())


def _python_lines_run(action: Callable[[], object]) -> int:
    """How many Python lines `action` executes: a measure of work that ignores machine load."""
    lines = 0

    def trace_lines(frame: object, event: str, arg: object) -> object:
        nonlocal lines
        if event == "line":
            lines += 1
        return trace_lines

    sys.settrace(trace_lines)
    try:
        action()
    finally:
        sys.settrace(None)
    return lines


@pytest.mark.timeout(60)
def test_open_backup_work_grows_linearly_with_the_addon_count(tmp_path: Path) -> None:
    """Four times the add-ons cost about four times the work, not sixteen (it was quadratic)."""
    small = _many_addons_backup(tmp_path / "small.tar", 250)
    large = _many_addons_backup(tmp_path / "large.tar", 1000)
    small_lines = _python_lines_run(lambda: open_backup(small))
    large_lines = _python_lines_run(lambda: open_backup(large))
    assert large_lines < 5 * small_lines, (small_lines, large_lines)
    overview = open_backup(large)
    assert overview.metadata is not None and overview.metadata.is_valid
    missing = [f for f in overview.findings if f.code == FindingCode.ARCHIVE_MISSING]
    assert len(missing) == 1000
    assert "the add-on Add-on 999" in missing[-1].message


@pytest.mark.timeout(60)
def test_metadata_with_40000_addons_is_invalid_and_bounded(tmp_path: Path) -> None:
    """40 000 add-ons (2.7 MB): metadata-invalid for its size, read without decoding it."""
    path = _many_addons_backup(tmp_path / "huge.tar", 40_000)
    overview = open_backup(path)
    assert overview.metadata is None
    assert [f.code for f in overview.findings] == [FindingCode.METADATA_INVALID]
    assert "at most 1 MiB" in overview.findings[0].message


@pytest.mark.timeout(60)
def test_metadata_with_too_many_addons_keeps_a_bounded_list(tmp_path: Path) -> None:
    """5 000 add-ons under 1 MiB: metadata-invalid, and only the first 1 000 are expected."""
    overview = open_backup(_many_addons_backup(tmp_path / "many.tar", 5000))
    assert overview.metadata is not None
    assert not overview.metadata.is_valid
    assert len(overview.metadata.addons) == 1000
    codes = [f.code for f in overview.findings]
    assert codes.count(FindingCode.METADATA_INVALID) == 1
    assert codes.count(FindingCode.ARCHIVE_MISSING) == 1000
    assert "lists 5,000 add-ons" in overview.findings[0].message
