"""The outer tar scanner: members in place, and damage flagged instead of hidden."""

from __future__ import annotations

import io
import tarfile

import pytest

from backup_inspector.backup_format.findings import FindingCode
from backup_inspector.backup_format.outer_tar import (
    MAX_OUTER_EXTENDED_BYTES,
    MAX_OUTER_HEADERS,
    scan_outer_tar,
)
from backup_inspector.backup_format.tar_header import MAX_META_RECORD_SIZE
from backup_inspector.demo.hostile_tar import (
    END_OF_ARCHIVE,
    base256_field,
    file_member,
    header_block,
    pax_member,
)


def outer(
    members: list[tuple[str, bytes]],
    fmt: int = tarfile.PAX_FORMAT,
    pax: dict[str, str] | None = None,
) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            if pax:
                info.pax_headers = dict(pax)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def scan(data: bytes):
    return scan_outer_tar(io.BytesIO(data), len(data))


def codes(result) -> list[FindingCode]:
    return [f.code for f in result.findings]


def test_members_and_data_offsets() -> None:
    """Each member is found with the offset where its data starts."""
    data = outer([("./backup.json", b"{}"), ("homeassistant.tar.gz", b"\x1f\x8b" + bytes(700))])
    result = scan(data)
    assert [m.path for m in result.members] == ["backup.json", "homeassistant.tar.gz"]
    second = result.members[1]
    assert data[second.data_offset : second.data_offset + 2] == b"\x1f\x8b"
    assert result.findings == []


def test_gnu_dialect_long_names() -> None:
    """GNU long names (pre-2020 backups) are resolved."""
    long_name = "./" + "x" * 150 + ".tar.gz"
    result = scan(outer([(long_name, b"abc")], fmt=tarfile.GNU_FORMAT))
    assert result.members[0].name == long_name


def test_securetar_pax_records_are_kept() -> None:
    """The v1-fixed `_securetar.*` PAX records on the outer member are recorded."""
    result = scan(
        outer(
            [("a.tar", b"x" * 32)],
            pax={"_securetar.version": "2.0", "_securetar.plaintext_size": "10"},
        )
    )
    assert result.members[0].pax_records["_securetar.version"] == "2.0"


def test_damaged_header_mid_archive() -> None:
    """A damaged header after the first member is outer-tar-damaged, and earlier members stay."""
    data = bytearray(outer([("a.tar.gz", b"1" * 100), ("./backup.json", b"{}")]))
    data[1024 + 5] ^= 0xFF
    result = scan(bytes(data))
    assert codes(result) == [FindingCode.OUTER_TAR_DAMAGED]
    assert [m.path for m in result.members] == ["a.tar.gz"]


def test_not_a_tar() -> None:
    """A file whose first block is no tar header is not-a-tar."""
    assert codes(scan(b"\x1f\x8b\x08" + bytes(2000))) == [FindingCode.NOT_A_TAR]


def test_cut_inside_member() -> None:
    """A file cut inside a member's data is truncated; the member is marked incomplete."""
    data = outer([("a.tar.gz", b"1" * 100), ("b.tar.gz", b"2" * 5000)])
    result = scan(data[: 1024 + 512 + 1000])
    assert codes(result) == [FindingCode.TRUNCATED]
    assert result.members[-1].path == "b.tar.gz"
    assert not result.members[-1].is_complete
    assert result.members[0].is_complete


def test_no_end_marker() -> None:
    """A file that stops after a complete member, without the end marker, is truncated."""
    data = outer([("a.tar.gz", b"1" * 100)])
    assert codes(scan(data[:1024])) == [FindingCode.TRUNCATED]


def test_nul_padding_after_end_is_benign() -> None:
    """Tens of KB of NULs after the end marker (HA downloads) are not reported."""
    assert scan(outer([("a.tar", b"x")]) + bytes(40960)).findings == []


def test_trailing_garbage_is_reported() -> None:
    """Non-zero bytes after the end marker are trailing-data."""
    assert codes(scan(outer([("a.tar", b"x")]) + b"garbage" * 100)) == [FindingCode.TRAILING_DATA]


HOSTILE_OUTER_TAILS = {
    "base256-size-minus-512": header_block("x.tar", size=base256_field(-512)),
    "pax-size-minus-1536": pax_member([("size", "-1536")]) + header_block("x.tar"),
    "octal-size-minus-1": header_block("x.tar", size=b"-0000000001\0"),
    "pax-size-not-a-number": pax_member([("size", "12abc")]) + header_block("x.tar"),
    "base256-size-beyond-64-bits": header_block("x.tar", size=base256_field(1 << 80)),
    "negative-extended-header": header_block(
        "@PaxHeader", size=base256_field(-1536), type_flag=b"x"
    ),
}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("tail", HOSTILE_OUTER_TAILS.values(), ids=HOSTILE_OUTER_TAILS.keys())
def test_impossible_sizes_are_outer_tar_damaged(tail: bytes) -> None:
    """Negative, overflowing or non-numeric sizes stop the scan with outer-tar-damaged (finding 1)."""
    data = file_member("./backup.json", b"{}") + tail + END_OF_ARCHIVE
    result = scan(data)
    assert codes(result) == [FindingCode.OUTER_TAR_DAMAGED]
    assert 1024 <= (result.damaged_at or 0) < len(data) - len(END_OF_ARCHIVE)
    assert [m.path for m in result.members] == ["backup.json"]


@pytest.mark.timeout(10)
def test_a_file_of_countless_headers_is_refused_early() -> None:
    """Past MAX_OUTER_HEADERS headers the outer tar is damaged: memory stays bounded."""
    data = b"".join(file_member(f"m{n}") for n in range(MAX_OUTER_HEADERS + 5)) + END_OF_ARCHIVE
    result = scan(data)
    assert codes(result) == [FindingCode.OUTER_TAR_DAMAGED]
    assert len(result.members) == MAX_OUTER_HEADERS


@pytest.mark.timeout(10)
def test_extended_headers_are_capped_in_total() -> None:
    """Megabytes of extended headers in a row are damage, not something to parse for minutes."""
    record = pax_member([("comment", "x" * (MAX_META_RECORD_SIZE - 100))])
    count = MAX_OUTER_EXTENDED_BYTES // MAX_META_RECORD_SIZE + 1
    data = record * count + file_member("a.tar") + END_OF_ARCHIVE
    assert codes(scan(data)) == [FindingCode.OUTER_TAR_DAMAGED]


def test_global_pax_records_reach_every_member() -> None:
    """A global PAX header applies to each following member; member records take precedence."""
    data = (
        pax_member([("_securetar.version", "2.0"), ("mtime", "5")], is_global=True)
        + file_member("a.tar", b"x")
        + pax_member([("_securetar.version", "3.0")])
        + file_member("b.tar", b"y")
        + END_OF_ARCHIVE
    )
    result = scan(data)
    assert [m.pax_records for m in result.members] == [
        {"_securetar.version": "2.0"},
        {"_securetar.version": "3.0"},
    ]
