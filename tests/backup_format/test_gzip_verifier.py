"""The gzip verifier: inflation to the end, CRC32/ISIZE in the standard and legacy v1 shapes."""

from __future__ import annotations

import gzip
import io
import os
import struct
import zlib

import pytest

from backup_inspector.backup_format.gzip_verifier import (
    MAX_OUTPUT_PIECE,
    GzipError,
    GzipVerifier,
    parse_gzip_header,
)

PAYLOAD = os.urandom(3000) + b"homeassistant:\n" * 5000


def stream_gzip(data: bytes) -> bytes:
    """A gzip stream as Python's tarfile stream mode writes it (FNAME set, empty name)."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def legacy_tail(gz_bytes: bytes) -> bytes:
    """Rewrite a gzip stream's end as the legacy v1 writer left it after decryption (format-spec §2.3)."""
    body, crc, isize = gz_bytes[:-8], gz_bytes[-8:-4], gz_bytes[-4:]
    pad = (16 - len(body) % 16) % 16
    padded_body = body + bytes([pad]) * pad
    return padded_body + crc + b"\x0c" * 12 + isize + b"\x0c" * 12


def run(data: bytes, *, legacy: bool = False, padding: bool = False, piece: int = 7000) -> bytes:
    verifier = GzipVerifier(allow_legacy_trailer=legacy, allow_padding=padding)
    out = bytearray()
    for start in range(0, len(data), piece):
        for chunk in verifier.feed(data[start : start + piece]):
            out += chunk
    verifier.finish()
    return bytes(out)


def test_standard_stream_inflates_and_verifies() -> None:
    """A plain gzip stream inflates to the original bytes and passes."""
    assert run(stream_gzip(PAYLOAD)) == PAYLOAD


def test_whole_stream_in_one_piece() -> None:
    """The first piece may be megabytes long (the engine reads 1 MiB at a time)."""
    payload = os.urandom(3 * 1024 * 1024)
    assert run(stream_gzip(payload), piece=2 * 1024 * 1024) == payload


def test_header_with_every_optional_field() -> None:
    """FEXTRA, FNAME, FCOMMENT and FHCRC are all skipped correctly."""
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    deflate = raw.compress(PAYLOAD) + raw.flush()
    header = b"\x1f\x8b\x08" + bytes([4 | 8 | 16 | 2]) + bytes(6)
    header += struct.pack("<H", 3) + b"abc" + b"name\x00" + b"comment\x00" + b"\x00\x00"
    trailer = struct.pack("<II", zlib.crc32(PAYLOAD), len(PAYLOAD))
    assert parse_gzip_header(header) == len(header)
    assert run(header + deflate + trailer, piece=5) == PAYLOAD


def test_crc_mismatch_is_reported() -> None:
    """A wrong CRC32 in the trailer is damage, even though the deflate data is fine."""
    data = bytearray(stream_gzip(PAYLOAD))
    data[-8] ^= 1
    with pytest.raises(GzipError, match="checksum mismatch"):
        run(bytes(data))


def test_isize_mismatch_is_reported() -> None:
    """A wrong ISIZE is reported as a length mismatch."""
    data = bytearray(stream_gzip(PAYLOAD))
    data[-1] ^= 1
    with pytest.raises(GzipError, match="length mismatch"):
        run(bytes(data))


def test_flipped_deflate_byte_is_caught() -> None:
    """A flipped byte inside the deflate data fails somewhere: bad data or checksum."""
    data = bytearray(stream_gzip(PAYLOAD))
    data[len(data) // 2] ^= 0x10
    with pytest.raises(GzipError):
        run(bytes(data))


def test_truncated_stream_is_cut_short() -> None:
    """A stream that ends before the deflate end-of-stream says it was cut short."""
    data = stream_gzip(PAYLOAD)
    with pytest.raises(GzipError, match="cut short"):
        run(data[: len(data) // 2])


def test_missing_trailer_is_cut_short() -> None:
    """Deflate complete but no trailer: cut short."""
    data = stream_gzip(PAYLOAD)
    with pytest.raises(GzipError, match="trailer"):
        run(data[:-8])


@pytest.mark.parametrize("size", [100, 1000, 5000, 12345, 40960])
def test_legacy_split_trailer_verifies(size: int) -> None:
    """The legacy v1 split trailer (pad, CRC, 0x0C×12, ISIZE, 0x0C×12) is read and verified."""
    payload = os.urandom(size)
    assert run(legacy_tail(stream_gzip(payload)), legacy=True) == payload


def test_legacy_trailer_with_wrong_crc_fails() -> None:
    """In the legacy shape too, a wrong CRC32 is reported."""
    data = bytearray(legacy_tail(stream_gzip(PAYLOAD)))
    crc_offset = len(data) - 32
    data[crc_offset] ^= 1
    with pytest.raises(GzipError, match="checksum mismatch"):
        run(bytes(data), legacy=True)


def test_legacy_trailer_refused_when_not_v1() -> None:
    """The split trailer is only allowed for v1 archives; elsewhere it is damage."""
    with pytest.raises(GzipError):
        run(legacy_tail(stream_gzip(PAYLOAD)), legacy=False)


@pytest.mark.parametrize("pad", [1, 8, 16])
def test_standard_trailer_with_pkcs7_padding(pad: int) -> None:
    """v1 written by securetar 2025.1.x: standard trailer plus one PKCS#7 block of padding."""
    data = stream_gzip(PAYLOAD) + bytes([pad]) * pad
    assert run(data, legacy=True, padding=True) == PAYLOAD
    with pytest.raises(GzipError):
        run(data)


def test_zip_bomb_output_is_bounded() -> None:
    """Highly compressible data comes out in pieces no larger than the cap."""
    bomb = stream_gzip(bytes(64 * 1024 * 1024))
    verifier = GzipVerifier(allow_legacy_trailer=False, allow_padding=False)
    largest = 0
    total = 0
    for chunk in verifier.feed(bomb):
        largest = max(largest, len(chunk))
        total += len(chunk)
    verifier.finish()
    assert total == 64 * 1024 * 1024
    assert largest <= MAX_OUTPUT_PIECE


def test_not_gzip_is_refused() -> None:
    """Bytes without the gzip magic are refused at once."""
    with pytest.raises(GzipError, match="gzip header"):
        run(b"PK\x03\x04" + bytes(100))
