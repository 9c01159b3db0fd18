"""quick_check and full_check on real backup files: every era, and every kind of damage."""

from __future__ import annotations

import gzip
import io
import os
import re
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from backup_inspector.backup_format.findings import FindingCode, Severity
from backup_inspector.backup_format.tar_entry import TarEntry
from backup_inspector.demo.backup_writer import (
    ArchiveSpec,
    FileSpec,
    WrittenBackup,
    append_bytes,
    find_crc_breaking_offset,
    flip_byte,
    make_metadata,
    member_location,
    patterned_content,
    random_content,
    truncate_file,
)
from backup_inspector.inspection.backup_overview import InnerArchive, open_backup
from backup_inspector.inspection.check_job import CheckReport, full_check, quick_check
from backup_inspector.inspection.progress import CancelToken, JobCancelledError, Progress

from .independent_crypto import decrypt_v1_by_hand

#: Bytes before the encrypted payload of an inner archive (format-spec §2.3-§2.5).
ENVELOPE_HEADER_SIZE = {"v1-legacy": 16, "v1-fixed": 16, "v2": 48, "v3": 136}


def codes(report: CheckReport) -> list[FindingCode]:
    """Every finding code of a report, backup-level first, info notes (issue 10) left out."""
    return [p.code for p in report.problems if p.severity != Severity.INFO]


def archive_check(report: CheckReport, name: str):
    """The ArchiveCheck of the archive called `name`."""
    return next(c for c in report.archives if c.archive.name == name)


def member(compressed: bool, name: str = "share") -> str:
    """The outer member name the writer gives an archive."""
    return f"{name}.tar.gz" if compressed else f"{name}.tar"


def middle_damage_offset(
    path: Path, name: str, encryption: str, compressed: bool, password: str
) -> int:
    """A file offset in the middle of an inner archive where a flipped byte must be detected.

    gzip and v3 protect every byte (CRC32, authentication tags), so the middle
    of the member will do. An uncompressed v1 stream has no checksum over file
    data at all; the only detectable place is a tar header, so the header
    nearest to the middle is hit (its AES block decrypts to garbage).
    """
    data_offset, size = member_location(path, member(compressed, name))
    if compressed or encryption == "v3":
        return data_offset + size // 2
    with path.open("rb") as handle:
        handle.seek(data_offset)
        raw = handle.read(size)
    salt = ENVELOPE_HEADER_SIZE.get(encryption, 0)
    plain = raw if encryption == "none" else decrypt_v1_by_hand(raw, password)
    with tarfile.open(fileobj=io.BytesIO(plain), mode="r:") as tar:
        header_offsets = [info.offset for info in tar.getmembers()]
    nearest = min(header_offsets, key=lambda offset: abs(offset - len(plain) // 2))
    return data_offset + salt + nearest + 20  # inside the name field


# --------------------------------------------------------------------------
# Every era preset
# --------------------------------------------------------------------------


def test_full_check_passes_every_preset(preset: WrittenBackup) -> None:
    """Each era preset passes the full check with its password, every archive read with entries."""
    report = full_check(open_backup(preset.path), preset.password)
    assert report.ok, [p.message for p in report.problems]
    assert report.level == "full"
    assert len(report.archives) == len(preset.archives)
    for check in report.archives:
        assert check.ok
        assert check.entries is not None and check.entries > 0
        assert check.bytes is not None and check.bytes > 0


def test_full_check_finds_real_compression(preset: WrittenBackup) -> None:
    """After the full check each archive says whether it really was gzip, whatever its name says."""
    report = full_check(open_backup(preset.path), preset.password)
    for written in preset.archives:
        assert archive_check(report, written.component).compressed is written.is_gzip


def test_quick_check_passes_every_preset(preset: WrittenBackup) -> None:
    """Each era preset passes the quick check with its password, without reading entries."""
    report = quick_check(open_backup(preset.path), preset.password)
    assert report.ok, [p.message for p in report.problems]
    assert report.level == "quick"
    assert all(check.entries is None for check in report.archives)


@pytest.mark.parametrize("check", [quick_check, full_check], ids=["quick", "full"])
def test_wrong_password_is_only_wrong_password(preset: WrittenBackup, check: Callable) -> None:
    """A wrong password is exactly one wrong-password problem, never archive-corrupt."""
    report = check(open_backup(preset.path), "definitely not " + (preset.password or "it"))
    if preset.password is None:
        assert report.ok
        return
    assert codes(report) == [FindingCode.WRONG_PASSWORD]
    assert not report.ok


# Regression for a bug found by this test (it was a strict xfail): quick_check sets each
# ArchiveCheck.ok from its own problems only, and a wrong password is a backup-level finding, so
# with a wrong password every encrypted archive is 'ok' in the quick report (check --quick prints
# 'ok' rows; full_check marks them not ok)
def test_quick_check_with_wrong_password_marks_encrypted_archives_not_ok(
    era_backups: dict[str, WrittenBackup],
) -> None:
    """With a wrong password no encrypted archive is "ok" in the quick report."""
    written = era_backups["supervisor_2025_v2"]
    report = quick_check(open_backup(written.path), written.password + "x")
    assert [c.ok for c in report.archives] == [False] * len(written.archives)


@pytest.mark.parametrize("check", [quick_check, full_check], ids=["quick", "full"])
def test_missing_password_is_password_required(preset: WrittenBackup, check: Callable) -> None:
    """Without a password a protected backup is password-required; a plain one passes."""
    report = check(open_backup(preset.path), None)
    if preset.password is None:
        assert report.ok
        return
    assert codes(report) == [FindingCode.PASSWORD_REQUIRED]
    assert not report.ok


def test_legacy_uncompressed_v1_preset_passes(era_backups: dict[str, WrittenBackup]) -> None:
    """The 2022 `compressed: false` legacy v1 backup (securetar 2026.x fails on it) passes."""
    written = era_backups["supervisor_2022_uncompressed"]
    report = full_check(open_backup(written.path), written.password)
    assert report.ok
    for check in report.archives:
        assert check.archive.encryption.value == "securetar-v1"
        assert check.compressed is False
        assert check.entries is not None and check.entries > 1


def test_v1_fixed_padding_preset_passes(era_backups: dict[str, WrittenBackup]) -> None:
    """The securetar 2025.1.x v1 backup (correct padding, gzip and tar) passes the full check."""
    written = era_backups["securetar_2025_1_fixed_padding"]
    report = full_check(open_backup(written.path), written.password)
    assert report.ok
    assert {c.archive.name: c.compressed for c in report.archives} == {
        w.component: w.is_gzip for w in written.archives
    }


def test_report_json_shape(era_backups: dict[str, WrittenBackup]) -> None:
    """to_json has issue 2's keys: path, ok, metadata, archives[...] and problems[...]."""
    written = era_backups["supervisor_2026_v3"]
    data = full_check(open_backup(written.path), written.password).to_json()
    assert {"path", "ok", "metadata", "archives", "problems"} <= set(data)
    assert data["ok"] is True
    assert data["path"] == str(written.path)
    for archive in data["archives"]:
        assert set(archive) == {
            "name",
            "archive",
            "encryption",
            "compressed",
            "ok",
            "entries",
            "bytes",
            "problems",
        }
        assert archive["encryption"] == "securetar-v3"


# Regression for an engine bug found with this test: ProgressTotals counted member.available_size,
# but the SecureTar header bytes (48 per v2 archive, 136 per v3) never went through on_raw, so the
# progress of encrypted backups stopped short of 100 %.
@pytest.mark.parametrize("name", ["supervisor_2023_plain_partial", "supervisor_2025_v2"])
def test_progress_reaches_the_total(era_backups: dict[str, WrittenBackup], name: str) -> None:
    """The full check reports progress per archive, ending with every byte of every archive done."""
    written = era_backups[name]
    seen: list[Progress] = []
    full_check(open_backup(written.path), written.password, progress=seen.append)
    assert {p.archive for p in seen} == {w.component for w in written.archives}
    assert max(p.done_bytes for p in seen) == seen[0].total_bytes


def test_cancel_stops_the_full_check(era_backups: dict[str, WrittenBackup]) -> None:
    """A cancelled token ends the full check with JobCancelledError."""
    written = era_backups["supervisor_2024_streamed"]
    token = CancelToken()
    token.cancel()
    with pytest.raises(JobCancelledError):
        full_check(open_backup(written.path), written.password, cancel=token)


# --------------------------------------------------------------------------
# Corruption matrix: one backup of three archives per encryption
# --------------------------------------------------------------------------


def test_flipped_byte_names_only_that_archive(
    encryption_case: tuple[str, bool], three_archive_backup: Callable[..., Path], password: str
) -> None:
    """A flipped byte mid-archive is archive-corrupt for that archive alone; the others stay ok."""
    encryption, compressed = encryption_case
    path = three_archive_backup(encryption, compressed)
    flip_byte(path, middle_damage_offset(path, "share", encryption, compressed, password))
    report = full_check(open_backup(path), password)
    assert not report.ok
    assert FindingCode.WRONG_PASSWORD not in codes(report)
    share = archive_check(report, "share")
    assert not share.ok
    assert [p.code for p in share.problems] == [FindingCode.ARCHIVE_CORRUPT]
    assert {p.archive for p in report.problems} == {"share"}
    for name in ("homeassistant", "ssl"):
        other = archive_check(report, name)
        assert other.ok and other.problems == []
        assert other.entries is not None and other.entries > 0


def test_flipped_byte_passes_the_quick_check(
    encryption_case: tuple[str, bool], three_archive_backup: Callable[..., Path], password: str
) -> None:
    """The quick check reads no archive content: mid-archive damage only shows in the full check."""
    encryption, compressed = encryption_case
    path = three_archive_backup(encryption, compressed)
    flip_byte(path, middle_damage_offset(path, "share", encryption, compressed, password))
    overview = open_backup(path)
    assert quick_check(overview, password).ok
    assert not full_check(overview, password).ok


def test_wrong_password_on_damaged_backup_is_wrong_password(
    encrypted_case: tuple[str, bool], three_archive_backup: Callable[..., Path], password: str
) -> None:
    """With a wrong password a damaged backup reports the password, not the damage it cannot see."""
    encryption, compressed = encrypted_case
    path = three_archive_backup(encryption, compressed)
    flip_byte(path, middle_damage_offset(path, "share", encryption, compressed, password))
    report = full_check(open_backup(path), password + "x")
    assert codes(report) == [FindingCode.WRONG_PASSWORD]


def test_damaged_first_block_is_corrupt_not_wrong_password(
    encrypted_case: tuple[str, bool], three_archive_backup: Callable[..., Path], password: str
) -> None:
    """Damage right after one archive's envelope header is archive-corrupt, never wrong-password."""
    encryption, compressed = encrypted_case
    path = three_archive_backup(encryption, compressed)
    data_offset, _ = member_location(path, member(compressed))
    flip_byte(path, data_offset + ENVELOPE_HEADER_SIZE[encryption] + 3)
    report = full_check(open_backup(path), password)
    assert FindingCode.WRONG_PASSWORD not in codes(report)
    assert [p.code for p in archive_check(report, "share").problems] == [
        FindingCode.ARCHIVE_CORRUPT
    ]
    assert archive_check(report, "homeassistant").ok


def test_truncation_in_second_archive(
    encryption_case: tuple[str, bool],
    three_archive_backup: Callable[..., Path],
    password: str,
    three_archive_files: dict[str, dict[str, bytes]],
) -> None:
    """A cut in the 2nd archive: truncated, metadata-missing; the 1st archive still fully checks."""
    encryption, compressed = encryption_case
    path = three_archive_backup(encryption, compressed)
    data_offset, size = member_location(path, member(compressed))
    truncate_file(path, data_offset + size // 2)
    report = full_check(open_backup(path), password)
    assert not report.ok
    assert FindingCode.TRUNCATED in codes(report)
    assert FindingCode.METADATA_MISSING in codes(report)
    assert FindingCode.WRONG_PASSWORD not in codes(report)
    share = archive_check(report, "share")
    assert not share.ok
    assert [p.code for p in share.problems] == [FindingCode.TRUNCATED]
    first = archive_check(report, "homeassistant")
    assert first.ok and first.problems == []
    files = three_archive_files["homeassistant"]
    folders = {
        path.rsplit("/", depth)[0] for path in files for depth in range(1, path.count("/") + 1)
    }
    assert first.entries == 1 + len(folders) + len(files)  # "." first
    assert first.bytes == sum(len(c) for c in three_archive_files["homeassistant"].values())
    assert [c.archive.name for c in report.archives] == ["homeassistant", "share"]


def test_damaged_outer_header_mid_backup(
    encryption_case: tuple[str, bool], three_archive_backup: Callable[..., Path], password: str
) -> None:
    """A broken outer header before the 2nd archive is outer-tar-damaged; the 1st still checks."""
    encryption, compressed = encryption_case
    path = three_archive_backup(encryption, compressed)
    data_offset, _ = member_location(path, member(compressed))
    flip_byte(path, data_offset - 512)  # first byte of the member's name in its ustar header
    report = full_check(open_backup(path), password)
    assert not report.ok
    assert FindingCode.OUTER_TAR_DAMAGED in codes(report)
    assert FindingCode.METADATA_MISSING in codes(report)
    assert FindingCode.WRONG_PASSWORD not in codes(report)
    assert archive_check(report, "homeassistant").ok
    assert "share" not in {c.archive.name for c in report.archives}


@pytest.mark.parametrize("gzip_style", ["file", "stream"])
def test_crc_only_damage_mentions_the_checksum(
    build_backup: Callable[..., Path], gzip_style: str
) -> None:
    """A flip that only breaks the CRC32 is archive-corrupt, and the message says checksum."""
    picture = random_content("picture")(0, 60_000)  # incompressible: gzip stores it as is
    archives = [
        ArchiveSpec("homeassistant", {"data/a.yaml": b"a: 1\n" * 100}),
        ArchiveSpec("share", {"camera.jpg": picture}, plain_gzip_style=gzip_style),
    ]
    path = build_backup("crc.tar", archives)
    flip_byte(path, find_crc_breaking_offset(path, "share.tar.gz"))
    report = full_check(open_backup(path), None)
    share = archive_check(report, "share")
    assert [p.code for p in share.problems] == [FindingCode.ARCHIVE_CORRUPT]
    assert "checksum" in share.problems[0].message
    assert archive_check(report, "homeassistant").ok


def test_mixed_v3_passwords_name_the_odd_archive(
    build_backup: Callable[..., Path], password: str
) -> None:
    """A v3 archive encrypted with another password is wrong-password for that archive only."""
    other = "another password"
    archives = [
        ArchiveSpec("homeassistant", {"data/a.yaml": b"a: 1\n"}, encryption="v3"),
        ArchiveSpec("share", {"b.txt": b"b"}, encryption="v3", password=other),
        ArchiveSpec("ssl", {"c.pem": b"c"}, encryption="v3"),
    ]
    report = full_check(open_backup(build_backup("mixed.tar", archives)), password)
    assert [(p.code, p.archive) for p in report.problems] == [(FindingCode.WRONG_PASSWORD, "share")]
    assert archive_check(report, "homeassistant").ok
    assert archive_check(report, "ssl").ok


def test_mixed_v2_passwords_fail_only_the_odd_archive(
    build_backup: Callable[..., Path], password: str
) -> None:
    """A v2 archive with another password fails alone (v2 cannot tell that from a damaged start)."""
    other = "another password"
    archives = [
        ArchiveSpec("homeassistant", {"data/a.yaml": b"a: 1\n"}, encryption="v2"),
        ArchiveSpec("share", {"b.txt": b"b"}, encryption="v2", password=other),
    ]
    report = full_check(open_backup(build_backup("mixed2.tar", archives)), password)
    assert not report.ok
    assert {p.archive for p in report.problems} == {"share"}
    assert archive_check(report, "homeassistant").ok


# --------------------------------------------------------------------------
# Files that are not backups, metadata problems, archive list problems
# --------------------------------------------------------------------------


# Regression for an engine bug found with this test: scan_outer_tar reported a file shorter than
# one 512-byte block (empty, a few random bytes, a small gzip file) as truncated +
# metadata-missing instead of not-a-tar.
@pytest.mark.parametrize(
    "content",
    [
        pytest.param(os.urandom(5000), id="random-bytes"),
        pytest.param(gzip.compress(random_content("gz")(0, 4000)), id="gzip-file"),
        pytest.param(bytes(2048), id="zeros"),
        pytest.param(b"", id="empty"),
        pytest.param(os.urandom(100), id="random-100-bytes"),
        pytest.param(gzip.compress(b"tiny"), id="small-gzip-file"),
    ],
)
def test_not_a_tar(tmp_path: Path, content: bytes) -> None:
    """A file that is not a tar is not-a-tar, with no archives, whatever its size."""
    path = tmp_path / "not-a-backup.tar"
    path.write_bytes(content)
    report = full_check(open_backup(path), None)
    assert not report.ok
    assert codes(report) == [FindingCode.NOT_A_TAR]
    assert report.archives == []


def test_missing_metadata(build_backup: Callable[..., Path]) -> None:
    """A backup without backup.json is metadata-missing; its archives are still checked and ok."""
    archives = [
        ArchiveSpec("homeassistant", {"data/a.yaml": b"a"}),
        ArchiveSpec("share", {"b": b"b"}),
    ]
    report = full_check(open_backup(build_backup("nometa.tar", archives, metadata=None)), None)
    assert codes(report) == [FindingCode.METADATA_MISSING]
    assert all(c.ok and c.entries for c in report.archives)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"{not json", id="broken-json"),
        pytest.param(b"[1, 2, 3]", id="not-an-object"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
    ],
)
def test_invalid_metadata(build_backup: Callable[..., Path], raw: bytes) -> None:
    """Metadata that is not a JSON object is metadata-invalid, and the check fails."""
    archives = [ArchiveSpec("homeassistant", {"data/a.yaml": b"a"})]
    report = full_check(open_backup(build_backup("badmeta.tar", archives, metadata=raw)), None)
    assert FindingCode.METADATA_INVALID in codes(report)
    assert not report.ok


def test_listed_addon_without_archive_is_archive_missing(build_backup: Callable[..., Path]) -> None:
    """Metadata listing an add-on whose archive is absent gives archive-missing naming it."""
    archives = [
        ArchiveSpec("homeassistant", {"data/a.yaml": b"a"}),
        ArchiveSpec("share", {"b": b"b"}),
    ]
    metadata = make_metadata(archives)
    metadata["addons"].append(
        {"slug": "core_ssh", "name": "Terminal & SSH", "version": "9.16.0", "size": 0.0}
    )
    report = full_check(open_backup(build_backup("missing.tar", archives, metadata=metadata)), None)
    assert [(p.code, p.archive) for p in report.problems] == [
        (FindingCode.ARCHIVE_MISSING, "core_ssh")
    ]
    assert not report.ok


def test_unlisted_archive_is_a_warning(build_backup: Callable[..., Path]) -> None:
    """An archive the metadata does not list is archive-unlisted, a warning: the report stays ok."""
    archives = [
        ArchiveSpec("homeassistant", {"data/a.yaml": b"a"}),
        ArchiveSpec("core_ssh", {"data/options.json": b"{}"}, listed_in_metadata=False),
    ]
    report = full_check(open_backup(build_backup("unlisted.tar", archives)), None)
    assert [(p.code, p.archive) for p in report.problems] == [
        (FindingCode.ARCHIVE_UNLISTED, "core_ssh")
    ]
    assert report.problems[0].severity == Severity.WARNING
    assert report.ok
    assert archive_check(report, "core_ssh").entries


@pytest.mark.parametrize("encryption", ["none", "v3"])
def test_supervisor_archive_is_never_unlisted(
    build_backup: Callable[..., Path], encryption: str, password: str
) -> None:
    """supervisor.tar.gz, which no metadata lists, is checked and never flagged as unlisted."""
    archives = [
        ArchiveSpec("homeassistant", {"data/a.yaml": b"a"}, encryption=encryption),
        ArchiveSpec(
            "supervisor", {"mounts.json": b"{}"}, encryption=encryption, include_root_entry=False
        ),
    ]
    report = full_check(open_backup(build_backup("sup.tar", archives)), password)
    assert codes(report) == []
    assert archive_check(report, "supervisor").entries == 1


def test_metadata_without_dot_slash_is_nonstandard(build_backup: Callable[..., Path]) -> None:
    """Metadata stored as "backup.json" is read, with a metadata-name-nonstandard warning."""
    archives = [ArchiveSpec("homeassistant", {"data/a.yaml": b"a"})]
    overview = open_backup(build_backup("plainname.tar", archives, metadata_name="backup.json"))
    report = full_check(overview, None)
    assert codes(report) == [FindingCode.METADATA_NAME_NONSTANDARD]
    assert report.ok
    assert overview.metadata is not None and overview.metadata.includes_homeassistant


def test_trailing_garbage_is_trailing_data(build_backup: Callable[..., Path]) -> None:
    """Non-zero bytes after the tar end marker are a trailing-data warning; the backup is ok."""
    path = build_backup("trailing.tar", [ArchiveSpec("homeassistant", {"data/a.yaml": b"a"})])
    append_bytes(path, b"appended by a broken copy\n" * 40)
    report = full_check(open_backup(path), None)
    assert codes(report) == [FindingCode.TRAILING_DATA]
    assert report.ok


def test_nul_padding_is_no_finding(build_backup: Callable[..., Path]) -> None:
    """Tens of KB of NUL bytes after the end marker (as HA downloads have) give no finding."""
    path = build_backup(
        "padded.tar",
        [ArchiveSpec("homeassistant", {"data/a.yaml": b"a"})],
        trailing_nul_bytes=30 * 1024,
    )
    report = full_check(open_backup(path), None)
    assert report.problems == []
    assert report.ok


def _set_securetar_version(path: Path, name: str, version: int) -> None:
    """Overwrite the version byte of a SecureTar header (format-spec §2.4: byte 9)."""
    data_offset, _ = member_location(path, name)
    with path.open("r+b") as handle:
        handle.seek(data_offset)
        assert handle.read(9) == b"SecureTar"
        handle.write(bytes([version]))


@pytest.mark.parametrize("given", ["right", "wrong", "none"])
def test_unknown_securetar_version_is_unsupported(
    build_backup: Callable[..., Path], password: str, given: str
) -> None:
    """SecureTar version 4 is unsupported-encryption, never wrong-password, whatever is typed."""
    path = build_backup("v4.tar", [ArchiveSpec("share", {"b.txt": b"b" * 100}, encryption="v2")])
    _set_securetar_version(path, "share.tar.gz", 4)
    typed = {"right": password, "wrong": password + "x", "none": None}[given]
    for check in (quick_check, full_check):
        report = check(open_backup(path), typed)
        assert [(p.code, p.archive) for p in report.problems if p.severity != Severity.INFO] == [
            (FindingCode.UNSUPPORTED_ENCRYPTION, "share")
        ]


def test_unknown_version_next_to_readable_archives(
    build_backup: Callable[..., Path], password: str
) -> None:
    """Only the version-4 archive is unsupported; the v2 archive beside it checks ok."""
    archives = [
        ArchiveSpec("homeassistant", {"data/a.yaml": b"a" * 100}, encryption="v2"),
        ArchiveSpec("share", {"b.txt": b"b" * 100}, encryption="v2"),
    ]
    path = build_backup("v4mixed.tar", archives)
    _set_securetar_version(path, "share.tar.gz", 4)
    report = full_check(open_backup(path), password)
    assert [(p.code, p.archive) for p in report.problems] == [
        (FindingCode.UNSUPPORTED_ENCRYPTION, "share")
    ]
    assert archive_check(report, "homeassistant").ok


@pytest.mark.parametrize("encryption", ["none", "v1-legacy", "v3"])
def test_unsafe_entries_are_warned_about(
    build_backup: Callable[..., Path], password: str, encryption: str
) -> None:
    """Traversal, absolute paths and links out are one unsafe-entry warning for that archive.

    The "../" entry also stops Home Assistant's restore of that archive (issue 10).
    """
    entries = [
        FileSpec("../escape.txt", content=b"x"),
        FileSpec("/etc/cron.d/evil", content=b"x"),
        FileSpec("config", type="symlink", link_target="/config"),
        FileSpec("up", type="symlink", link_target="../../outside"),
        FileSpec("fine.txt", content=b"fine"),
    ]
    archives = [
        ArchiveSpec("homeassistant", {"data/a.yaml": b"a"}, encryption=encryption),
        ArchiveSpec("core_crowdsec", entries, encryption=encryption),
    ]
    report = full_check(open_backup(build_backup("unsafe.tar", archives)), password)
    problems = archive_check(report, "core_crowdsec").problems
    assert [p.code for p in problems] == [FindingCode.UNSAFE_ENTRY]
    assert problems[0].severity == Severity.WARNING
    assert "4 entries" in problems[0].message
    assert codes(report) == [FindingCode.UNSAFE_ENTRY, FindingCode.ENTRY_BREAKS_RESTORE]
    assert not report.ok
    assert archive_check(report, "homeassistant").problems == []


# --------------------------------------------------------------------------
# Regressions for engine bugs found while writing these tests
# --------------------------------------------------------------------------


def _two_archive_backup(build_backup: Callable[..., Path], encryption: str, file_name: str) -> Path:
    """homeassistant + share of 3 KB incompressible data each, in one encryption."""
    archives = [
        ArchiveSpec(
            "homeassistant", {"a.txt": random_content("a")(0, 3000)}, encryption=encryption
        ),
        ArchiveSpec("share", {"b.txt": random_content("b")(0, 3000)}, encryption=encryption),
    ]
    return build_backup(file_name, archives)


# Regression for a bug found by this test (it was a strict xfail): a backup cut within the first 16
# bytes of a v1 archive (or the first 9 of a v2 one, sniffed as v1) makes quick_check/full_check
# raise struct.error from archive_keys.ArchiveKeyRing.key_material -> SecureTarHeader.from_bytes (<
# 16 bytes)
@pytest.mark.parametrize(("encryption", "cut"), [("v1-legacy", 8), ("v2", 5)])
def test_cut_in_first_bytes_of_encrypted_archive_is_reported(
    build_backup: Callable[..., Path], password: str, encryption: str, cut: int
) -> None:
    """A backup cut a few bytes into an encrypted archive is truncated, without an exception."""
    path = _two_archive_backup(build_backup, encryption, "cut-early.tar")
    data_offset, _ = member_location(path, "share.tar.gz")
    truncate_file(path, data_offset + cut)
    report = full_check(open_backup(path), password)
    assert FindingCode.TRUNCATED in codes(report)
    assert archive_check(report, "homeassistant").ok


# Regression for a bug found by this test (it was a strict xfail): when the only encrypted archive
# is cut inside its first AES block, check_job._password_findings counts the failed first-block
# check as a rejected password and reports wrong-password for the right password
# (inner_archive.check_password does not tell 'too few bytes to decide' from 'not gzip/tar')
@pytest.mark.parametrize(("encryption", "cut"), [("v1-legacy", 20), ("v2", 52)])
def test_cut_in_first_block_is_not_wrong_password(
    build_backup: Callable[..., Path], password: str, encryption: str, cut: int
) -> None:
    """A backup cut inside the first encrypted block never blames the (right) password."""
    archives = [
        ArchiveSpec("homeassistant", {"a.txt": random_content("a")(0, 3000)}, encryption=encryption)
    ]
    path = build_backup("cut-block.tar", archives, metadata_position="first")
    data_offset, _ = member_location(path, "homeassistant.tar.gz")
    truncate_file(path, data_offset + cut)
    report = full_check(open_backup(path), password)
    assert FindingCode.TRUNCATED in codes(report)
    assert FindingCode.WRONG_PASSWORD not in codes(report)


# Regression for a bug found by this test (it was a strict xfail): an archive cut inside its first
# bytes / SecureTar header gets an archive-corrupt finding ('the SecureTar header is cut short',
# 'neither gzip, tar nor SecureTar') instead of truncated: securetar_header.sniff_inner_archive
# judges member.size, and inner_archive._raise_if_unreadable maps every sniff problem to CORRUPT
@pytest.mark.parametrize(("encryption", "cut"), [("none", 0), ("v2", 30), ("v3", 60)])
def test_cut_in_archive_header_is_truncated(
    build_backup: Callable[..., Path], password: str, encryption: str, cut: int
) -> None:
    """An archive cut inside its first bytes is reported as truncated, not as damaged content."""
    path = _two_archive_backup(build_backup, encryption, "cut-header.tar")
    data_offset, _ = member_location(path, "share.tar.gz")
    truncate_file(path, data_offset + cut)
    report = full_check(open_backup(path), password)
    assert [p.code for p in archive_check(report, "share").problems] == [FindingCode.TRUNCATED]


# Regression for a bug found by this test (it was a strict xfail):
# inner_archive.walk_inner_archive's fraction() is the start of the 1 MiB raw piece being read, so
# damage at 75 % of any archive under 1 MiB is reported 'damaged at 0 %'
def test_damage_position_in_message_is_not_misleading(build_backup: Callable[..., Path]) -> None:
    """When the message says where the damage is, the per-cent figure is near where it really is."""
    files = {f"f{index:02d}.txt": patterned_content(str(index))(0, 30_000) for index in range(20)}
    path = build_backup("position.tar", [ArchiveSpec("share", files)])
    data_offset, size = member_location(path, "share.tar.gz")
    flip_byte(path, data_offset + size * 3 // 4)
    report = full_check(open_backup(path), None)
    message = archive_check(report, "share").problems[0].message
    position = re.search(r"at (\d+) %", message)
    assert position is not None, message
    assert int(position.group(1)) >= 50, message


def test_full_check_shows_every_entry_to_the_observer(
    era_backups: dict[str, WrittenBackup],
) -> None:
    """One pass checks and indexes: the observer of each archive sees exactly its entries."""
    written = era_backups["supervisor_2026_v3"]
    overview = open_backup(written.path)
    seen: dict[str, list[str]] = {}

    def observer_for(archive: InnerArchive) -> Callable[[TarEntry], None]:
        paths = seen.setdefault(archive.name, [])
        return lambda entry: paths.append(entry.path)

    report = full_check(overview, written.password, on_archive_entries=observer_for)
    assert report.ok
    for check in report.archives:
        assert len(seen[check.archive.name]) == check.entries
