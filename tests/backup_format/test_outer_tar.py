"""The outer tar scanner: members in place, and damage flagged instead of hidden."""

from __future__ import annotations

import io
import tarfile

from backup_inspector.backup_format.findings import FindingCode
from backup_inspector.backup_format.outer_tar import scan_outer_tar


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
