"""A backup larger than 4 GiB: sizes and offsets past 2**32 stay exact (issue 14, 32-bit ARM).

On armv7 a C `long` and `size_t` are 32 bits, so an offset or size that
slips through one (a seek, a struct field, a length) wraps at 4 GiB, or
fails at 2 GiB where it is signed. The backup here is a sparse file: an
outer tar holding an uncompressed, unencrypted inner tar whose middle member
is a hole of more than 4 GiB, with a small member after it and backup.json
after that, so every position past the hole is above 2**32. Writing it costs
a few kilobytes of real data; reading it walks the whole hole. The same test
runs on the host and under scripts/test-arm's armhf emulation.
"""

from __future__ import annotations

import io
import struct
import tarfile
import zlib
from pathlib import Path
from typing import BinaryIO

import pytest

from backup_inspector.backup_format.findings import Severity
from backup_inspector.backup_format.tar_entry import DataSink, TarEntry
from backup_inspector.demo.backup_writer import ArchiveSpec, make_metadata, serialize_metadata
from backup_inspector.inspection.backup_overview import BackupOverview, open_backup
from backup_inspector.inspection.check_job import full_check
from backup_inspector.inspection.extract_job import read_entry
from backup_inspector.inspection.listing_job import list_entries

BLOCK = 512
#: Above 4 GiB by an odd amount, so the member's padding is not zero either.
HUGE_SIZE = 4 * 1024**3 + 1024**2 + 123
BEFORE = b"before the hole\n"
AFTER = b"after the hole: every byte of this lies past 2**32 in the backup file\n"
MTIME = 1_700_000_000


def _header(name: str, size: int, *, directory: bool = False) -> bytes:
    """One ustar header block (sizes up to 8 GiB fit its octal field)."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = MTIME
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.mode = 0o755 if directory else 0o644
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def _padding(size: int) -> int:
    """Bytes of zeros that fill a member's data to a whole block."""
    return -size % BLOCK


class SparseWriter:
    """Writes tar pieces at increasing offsets; holes are seeked over, not written."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f

    def member(self, name: str, data: bytes) -> None:
        """A member whose data is written."""
        self.f.write(_header(name, len(data)) + data + bytes(_padding(len(data))))

    def hole(self, name: str, size: int) -> None:
        """A member of `size` zero bytes that takes no disk space."""
        self.f.write(_header(name, size))
        self.f.seek(size + _padding(size), io.SEEK_CUR)


def inner_tar_size() -> int:
    """Size of the inner tar SparseWriter lays down in write_huge_backup."""
    members = [len(BEFORE), HUGE_SIZE, len(AFTER)]
    directories = 1
    return (
        BLOCK * (directories + len(members))
        + sum(size + _padding(size) for size in members)
        + 2 * BLOCK
    )


def metadata_bytes(*, compressed: bool = False) -> bytes:
    """backup.json of an unencrypted backup with the one archive "share"."""
    metadata = make_metadata(
        [ArchiveSpec("share", {"share/before.txt": BEFORE}, compressed=compressed)],
        name="Larger than 4 GiB",
        compressed=compressed,
    )
    return serialize_metadata(metadata)


def write_huge_backup(path: Path) -> None:
    """An unencrypted, uncompressed backup whose one archive is a > 4 GiB sparse inner tar."""
    with path.open("wb") as f:
        outer = SparseWriter(f)
        f.write(_header("./share.tar", inner_tar_size()))
        inner = SparseWriter(f)
        f.write(_header("share", 0, directory=True))
        inner.member("share/before.txt", BEFORE)
        inner.hole("share/huge.bin", HUGE_SIZE)
        inner.member("share/after.txt", AFTER)
        f.write(bytes(2 * BLOCK))  # the inner tar's end marker
        outer.member("./backup.json", metadata_bytes())
        f.write(bytes(2 * BLOCK))


@pytest.fixture(scope="module")
def huge_backup(tmp_path_factory: pytest.TempPathFactory) -> BackupOverview:
    """The > 4 GiB backup, written once for this module."""
    path = tmp_path_factory.mktemp("huge") / "huge.tar"
    write_huge_backup(path)
    return open_backup(path)


def test_the_backup_really_is_larger_than_4_gib(huge_backup: BackupOverview) -> None:
    """The file's size and the outer members' offsets are past 2**32, as computed."""
    metadata_size = len(metadata_bytes())
    expected = (
        BLOCK + inner_tar_size() + BLOCK + metadata_size + _padding(metadata_size) + 2 * BLOCK
    )
    assert huge_backup.path.stat().st_size == expected > 2**32
    archive = huge_backup.find_archive("share")
    assert archive is not None
    assert archive.member.data_offset == BLOCK
    assert archive.member.size == archive.member.available_size == inner_tar_size()
    metadata_member = huge_backup.scan.member("backup.json")
    assert metadata_member is not None
    assert metadata_member.header_offset == BLOCK + inner_tar_size()
    assert metadata_member.header_offset > 2**32
    assert huge_backup.metadata is not None
    assert huge_backup.metadata.name == "Larger than 4 GiB"


@pytest.mark.timeout(1800)
def test_full_check_reads_past_4_gib(huge_backup: BackupOverview) -> None:
    """The full check reads every byte and counts the content exactly, with no finding."""
    report = full_check(huge_backup, None, check_database=False)
    # Notes (info: a partial backup) are what a restore will do, not problems with the bytes.
    assert [p.to_json() for p in report.problems if p.severity != Severity.INFO] == []
    assert report.ok
    (check,) = report.archives
    assert check.read_to_end
    assert check.entries == 4
    assert check.bytes == len(BEFORE) + HUGE_SIZE + len(AFTER)


@pytest.mark.timeout(1800)
def test_listing_gives_the_huge_size_exactly(huge_backup: BackupOverview) -> None:
    """The listing reports the > 4 GiB member's size to the byte, and the member after it."""
    entries: list[TarEntry] = []
    check = list_entries(huge_backup, "share", None, entries.append)
    assert check.ok, [p.to_json() for p in check.problems]
    sizes = {entry.path: entry.size for entry in entries}
    assert sizes == {
        "share": 0,
        "share/before.txt": len(BEFORE),
        "share/huge.bin": HUGE_SIZE,
        "share/after.txt": len(AFTER),
    }


class _Collect(DataSink):
    """Keeps the bytes of one member."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.closed = False

    def write(self, data: bytes | memoryview) -> None:
        self.data += data

    def close(self) -> None:
        self.closed = True


@pytest.mark.timeout(1800)
def test_member_after_the_hole_reads_back_exactly(huge_backup: BackupOverview) -> None:
    """The file stored after 4 GiB of data is found at the right offset: its bytes match."""
    sink = _Collect()
    entry = read_entry(huge_backup, "share", "share/after.txt", None, sink)
    assert entry.size == len(AFTER)
    assert sink.closed
    assert bytes(sink.data) == AFTER


# --------------------------------------------------------------------------
# The same inner tar, gzip-compressed: ISIZE holds the size modulo 2**32
# --------------------------------------------------------------------------

ZERO_CHUNK = 16 * 1024**2


def _inner_tar_around_the_hole() -> tuple[bytes, int, bytes]:
    """The inner tar as (bytes before the zero run, length of the zero run, bytes after)."""
    before, after = io.BytesIO(), io.BytesIO()
    before.write(_header("share", 0, directory=True))
    SparseWriter(before).member("share/before.txt", BEFORE)
    before.write(_header("share/huge.bin", HUGE_SIZE))
    SparseWriter(after).member("share/after.txt", AFTER)
    after.write(bytes(2 * BLOCK))
    return before.getvalue(), HUGE_SIZE + _padding(HUGE_SIZE), after.getvalue()


def write_huge_gzip_backup(path: Path) -> None:
    """A backup whose share.tar.gz inflates to more than 4 GiB, written in a few MB.

    After a full flush, deflate forgets everything before it, so one 16 MiB
    run of zeros compresses to the same bytes every time: they are written
    once per chunk instead of compressing 4 GiB. CRC-32 is computed over the
    real plaintext; ISIZE is its length modulo 2**32, as RFC 1952 says.
    """
    head, zeros, tail = _inner_tar_around_the_hole()
    chunks, rest = divmod(zeros, ZERO_CHUNK)
    deflate = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)
    zero_chunk = bytes(ZERO_CHUNK)
    start = deflate.compress(head) + deflate.flush(zlib.Z_FULL_FLUSH)
    repeated = deflate.compress(zero_chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    assert deflate.compress(zero_chunk) + deflate.flush(zlib.Z_FULL_FLUSH) == repeated
    end = deflate.compress(bytes(rest) + tail) + deflate.flush()
    crc = zlib.crc32(head)
    for _ in range(chunks):
        crc = zlib.crc32(zero_chunk, crc)
    crc = zlib.crc32(bytes(rest) + tail, crc)
    size = len(head) + zeros + len(tail)
    header = b"\x1f\x8b\x08\x00" + struct.pack("<I", MTIME) + b"\x00\xff"
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    gzip_size = len(header) + len(start) + chunks * len(repeated) + len(end) + len(trailer)
    with path.open("wb") as f:
        f.write(_header("./share.tar.gz", gzip_size))
        f.write(header + start)
        for _ in range(chunks):
            f.write(repeated)
        f.write(end + trailer + bytes(_padding(gzip_size)))
        SparseWriter(f).member("./backup.json", metadata_bytes(compressed=True))
        f.write(bytes(2 * BLOCK))


@pytest.mark.timeout(1800)
def test_full_check_of_a_gzip_archive_over_4_gib(tmp_path: Path) -> None:
    """CRC-32 and ISIZE (size mod 2**32) of a > 4 GiB gzip stream verify; the count is exact."""
    path = tmp_path / "huge-gzip.tar"
    write_huge_gzip_backup(path)
    report = full_check(open_backup(path), None, check_database=False)
    # Notes (info: a partial backup) are what a restore will do, not problems with the bytes.
    assert [p.to_json() for p in report.problems if p.severity != Severity.INFO] == []
    (check,) = report.archives
    assert check.compressed
    assert check.entries == 4
    assert check.bytes == len(BEFORE) + HUGE_SIZE + len(AFTER)
