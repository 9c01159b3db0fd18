"""list_entries on real backup files: paths, types, sizes, links, filtering, damaged archives."""

from __future__ import annotations

import io
import shutil
import struct
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from backup_inspector.backup_format.findings import FindingCode
from backup_inspector.backup_format.tar_entry import TarEntry
from backup_inspector.demo.backup_writer import (
    ArchiveSpec,
    FileSpec,
    WrittenBackup,
    flip_byte,
    member_location,
    random_content,
    truncate_file,
)
from backup_inspector.inspection.archive_walk import ArchiveNotFoundError
from backup_inspector.inspection.backup_overview import BackupOverview, open_backup
from backup_inspector.inspection.check_job import ArchiveCheck
from backup_inspector.inspection.listing_job import list_entries

from .independent_crypto import decrypt_v1_by_hand

EXPECTED_TYPE = {"file": "file", "dir": "dir", "symlink": "symlink", "hardlink": "hardlink"}


def listed(
    overview: BackupOverview, archive: str, password: str | None, under: str | None = None
) -> tuple[list[TarEntry], ArchiveCheck]:
    """Every entry list_entries hands over, and the check it returns."""
    entries: list[TarEntry] = []
    check = list_entries(overview, archive, password, entries.append, under=under)
    return entries, check


def normalised(name: str) -> str:
    """A stored tar name as users see it: no "./" prefix, no trailing "/", "." for the root."""
    while name.startswith("./"):
        name = name[2:]
    return name.strip("/") or "."


# --------------------------------------------------------------------------
# An independent v1 reader (format-spec §2.2, §2.3), to compare listings with
# --------------------------------------------------------------------------


def _inflate_gzip_ignoring_trailer(data: bytes) -> bytes:
    """Inflate a gzip stream without judging its trailer (legacy v1 splits it, §2.3)."""
    flags, position = data[3], 10
    if flags & 0x04:
        position += 2 + struct.unpack_from("<H", data, position)[0]
    for flag in (0x08, 0x10):
        if flags & flag:
            position = data.index(b"\0", position) + 1
    if flags & 0x02:
        position += 2
    return zlib.decompressobj(-zlib.MAX_WBITS).decompress(data[position:])


def independent_names(path: Path, member_name: str, password: str | None) -> list[str]:
    """Entry names of a plain or v1 inner archive, read with the stdlib and cryptography only."""
    data_offset, size = member_location(path, member_name)
    with path.open("rb") as handle:
        handle.seek(data_offset)
        raw = handle.read(size)
    plain = raw if password is None or raw[:2] == b"\x1f\x8b" else decrypt_v1_by_hand(raw, password)
    if plain[:2] == b"\x1f\x8b":
        plain = _inflate_gzip_ignoring_trailer(plain)
    with tarfile.open(fileobj=io.BytesIO(plain), mode="r:") as tar:
        return [normalised(info.name) for info in tar.getmembers()]


# --------------------------------------------------------------------------
# Era presets
# --------------------------------------------------------------------------


def test_preset_paths_are_normalised(preset: WrittenBackup) -> None:
    """Every preset entry is listed without "./", a leading "/" or a trailing "/"."""
    overview = open_backup(preset.path)
    for archive in overview.archives:
        entries, check = listed(overview, archive.name, preset.password)
        assert check.ok
        assert len(entries) == check.entries
        for entry in entries:
            assert not entry.path.startswith(("./", "/"))
            assert entry.path == "." or not entry.path.endswith("/")


@pytest.mark.parametrize(
    "name",
    [
        "supervisor_2019_gnu_snapshot",
        "supervisor_2021_pax_backup_json",
        "supervisor_2022_name_mismatch",
        "supervisor_2022_uncompressed",
        "supervisor_2023_plain_partial",
        "core_2023_unencrypted",
        "supervisor_2024_streamed",
        "core_2025_1_legacy",
        "securetar_2025_1_fixed_padding",
    ],
)
def test_v1_and_plain_presets_list_what_an_independent_reader_sees(
    era_backups: dict[str, WrittenBackup], name: str
) -> None:
    """Plain and v1 presets (legacy uncompressed too) list exactly what the stdlib reads."""
    written = era_backups[name]
    overview = open_backup(written.path)
    for archive in written.archives:
        entries, check = listed(overview, archive.component, written.password)
        assert check.ok
        expected = independent_names(written.path, archive.member_name, written.password)
        assert [e.path for e in entries] == expected


def test_supervisor_archive_lists_without_root_entry(era_backups: dict[str, WrittenBackup]) -> None:
    """supervisor.tar.gz (written without ".") lists just its two settings files."""
    written = era_backups["supervisor_2026_v3"]
    entries, check = listed(open_backup(written.path), "supervisor", written.password)
    assert check.ok
    assert sorted(e.path for e in entries) == ["docker.json", "mounts.json"]


# --------------------------------------------------------------------------
# Entry details in every encryption
# --------------------------------------------------------------------------


def test_entries_have_types_sizes_and_links(
    encryption_case: tuple[str, bool],
    build_backup: Callable[..., Path],
    linked_entries: list[FileSpec],
    password: str,
) -> None:
    """Each entry comes with its type, size, mode, mtime and link target, in archive order."""
    encryption, compressed = encryption_case
    archive = ArchiveSpec("share", linked_entries, encryption=encryption, compressed=compressed)
    overview = open_backup(build_backup("links.tar", [archive]))
    entries, check = listed(overview, "share", password)
    assert check.ok
    assert entries[0].path == "."
    assert [e.path for e in entries[1:]] == [s.path for s in linked_entries]
    for entry, spec in zip(entries[1:], linked_entries, strict=True):
        assert entry.type.value == EXPECTED_TYPE[spec.type]
        assert entry.size == spec.content_size
        assert entry.link == spec.link_target
        assert entry.mtime == pytest.approx(spec.mtime, abs=1e-3)


def test_entry_modes_follow_the_archive(build_backup: Callable[..., Path]) -> None:
    """Listed modes are the permission bits stored in the archive."""
    specs = [
        FileSpec("run.sh", content=b"#!/bin/sh\n", mode=0o755),
        FileSpec("secret.txt", content=b"s", mode=0o600),
        FileSpec("folder", type="dir", mode=0o700),
    ]
    overview = open_backup(build_backup("modes.tar", [ArchiveSpec("share", specs)]))
    entries, _ = listed(overview, "share", None)
    assert {e.path: e.mode for e in entries if e.path != "."} == {s.path: s.mode for s in specs}


@pytest.mark.parametrize(
    ("under", "expected"),
    [
        ("data", ["data", "data/target.bin", "data/link_a", "data/link_b", "data/current"]),
        ("./data/", ["data", "data/target.bin", "data/link_a", "data/link_b", "data/current"]),
        ("data/target.bin", ["data/target.bin"]),
        ("naïve café", ["naïve café", "naïve café/日本語.txt"]),
        ("dat", []),
        ("missing", []),
    ],
)
def test_under_filters_to_a_folder_or_file(
    build_backup: Callable[..., Path],
    linked_entries: list[FileSpec],
    password: str,
    under: str,
    expected: list[str],
) -> None:
    """`under` keeps the folder itself and what is inside it (a name prefix is not a folder)."""
    overview = open_backup(
        build_backup("under.tar", [ArchiveSpec("share", linked_entries, encryption="v2")])
    )
    entries, check = listed(overview, "share", password, under=under)
    assert check.ok
    assert [e.path for e in entries] == expected
    assert check.entries == len(linked_entries) + 1  # the whole archive was still read


def test_dot_slash_names_are_listed_without_prefix(build_backup: Callable[..., Path]) -> None:
    """Entries stored as "./data/x" (Supervisor before 228) are listed and filtered as "data/x"."""
    archive = ArchiveSpec(
        "homeassistant", {"data/x.yaml": b"x: 1\n"}, entry_dot_slash=True, inner_format="gnu"
    )
    overview = open_backup(build_backup("dotslash.tar", [archive]))
    entries, _ = listed(overview, "homeassistant", None, under="data")
    assert [e.path for e in entries] == ["data", "data/x.yaml"]
    assert all(e.raw_name.startswith("./") for e in entries)


def test_unknown_archive_raises(era_backups: dict[str, WrittenBackup]) -> None:
    """Listing an archive the backup does not have raises ArchiveNotFoundError."""
    written = era_backups["core_2025_v2"]
    with pytest.raises(ArchiveNotFoundError):
        listed(open_backup(written.path), "core_ssh", written.password)


@pytest.mark.parametrize("typed", ["wrong", None])
def test_password_problem_lists_nothing(
    era_backups: dict[str, WrittenBackup], typed: str | None
) -> None:
    """A wrong or missing password names the problem and hands over no entry."""
    written = era_backups["supervisor_2026_v3"]
    entries, check = listed(open_backup(written.path), "share", typed)
    assert entries == []
    assert not check.ok
    expected = FindingCode.WRONG_PASSWORD if typed else FindingCode.PASSWORD_REQUIRED
    assert [p.code for p in check.problems] == [expected]


# --------------------------------------------------------------------------
# Damaged and truncated backups
# --------------------------------------------------------------------------


def _big_share(encryption: str, compressed: bool) -> ArchiveSpec:
    """Six incompressible 300 KB pictures: more than one 1 MiB v3 message."""
    files = {
        f"camera/pic_{index}.jpg": random_content(f"pic-{index}")(0, 300_000) for index in range(6)
    }
    return ArchiveSpec("share", files, encryption=encryption, compressed=compressed)


def test_truncated_archive_lists_what_precedes_the_cut(
    encryption_case: tuple[str, bool], build_backup: Callable[..., Path], password: str
) -> None:
    """An archive cut at 75 % lists its first entries in order, then reports truncated."""
    encryption, compressed = encryption_case
    share = _big_share(encryption, compressed)
    path = build_backup("big.tar", [ArchiveSpec("homeassistant", {"data/a": b"a"}), share])
    intact, _ = listed(open_backup(path), "share", password)
    member_name = "share.tar.gz" if compressed else "share.tar"
    data_offset, size = member_location(path, member_name)
    truncate_file(path, data_offset + size * 3 // 4)

    entries, check = listed(open_backup(path), "share", password)
    assert not check.ok
    assert [p.code for p in check.problems] == [FindingCode.TRUNCATED]
    assert [e.path for e in entries] == [e.path for e in intact[: len(entries)]]
    # Everything that ends before the first half of the content must be there.
    total = sum(e.size for e in intact)
    running, must_have = 0, []
    for entry in intact:
        running += entry.size
        if running <= total // 2:
            must_have.append(entry.path)
    assert must_have
    assert set(must_have) <= {e.path for e in entries}


def test_truncated_backup_still_lists_the_first_archive(
    encryption_case: tuple[str, bool],
    three_archive_backup: Callable[..., Path],
    password: str,
    three_archive_files: dict[str, dict[str, bytes]],
) -> None:
    """A backup cut inside its 2nd archive lists the 1st archive completely."""
    encryption, compressed = encryption_case
    path = three_archive_backup(encryption, compressed)
    data_offset, size = member_location(path, "share.tar.gz" if compressed else "share.tar")
    truncate_file(path, data_offset + size // 2)
    entries, check = listed(open_backup(path), "homeassistant", password)
    assert check.ok
    files = {e.path for e in entries if e.type.value == "file"}
    assert files == set(three_archive_files["homeassistant"])


def _deflate_error_offset(gzip_member: bytes, start: int) -> tuple[int, int]:
    """The first offset from `start` whose flip breaks inflation, and the output before it."""
    data = bytearray(gzip_member)
    header = 10 + (data.index(b"\0", 10) + 1 - 10 if data[3] & 0x08 else 0)
    for offset in range(start, len(data) - 8):
        data[offset] ^= 0xFF
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        produced = 0
        try:
            for piece in range(header, len(data) - 8, 256):
                produced += len(inflater.decompress(bytes(data[piece : piece + 256])))
        except zlib.error:
            return offset, produced
        finally:
            data[offset] ^= 0xFF
    raise AssertionError("no offset breaks inflation")


# Regression for a bug found by this test (it was a strict xfail): GzipVerifier.feed
# (gzip_verifier.py) inflates each raw piece (1 MiB) in one decompress() call; when it raises, the
# output inflated before the error in that piece is dropped, so a deflate error lists (and
# extracts) none of the entries before it
def test_deflate_error_lists_the_entries_before_it(
    build_backup: Callable[..., Path], tmp_path: Path
) -> None:
    """Damage that breaks inflation at 75 % still lists the entries whose bytes came before it."""
    files = {f"f{index:02d}.bin": random_content(f"f{index}")(0, 30_000) for index in range(12)}
    path = build_backup("deflate.tar", [ArchiveSpec("share", files)])
    intact, _ = listed(open_backup(path), "share", None)
    data_offset, size = member_location(path, "share.tar.gz")
    with path.open("rb") as handle:
        handle.seek(data_offset)
        member_bytes = handle.read(size)
    offset, produced = _deflate_error_offset(member_bytes, size * 3 // 4)
    damaged = tmp_path / "damaged.tar"
    shutil.copyfile(path, damaged)
    flip_byte(damaged, data_offset + offset)

    entries, check = listed(open_backup(damaged), "share", None)
    assert [p.code for p in check.problems] == [FindingCode.ARCHIVE_CORRUPT]
    # Each file takes a PAX header, a tar header and its data: 2 KiB of overhead is generous.
    running, before = 0, []
    for entry in intact:
        running += 2048 + entry.size
        if running < produced:
            before.append(entry.path)
    assert before
    assert set(before) <= {e.path for e in entries}
