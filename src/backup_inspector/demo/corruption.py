"""Damage written backups on purpose: flip, cut or append bytes (format-spec §5).

Validator tests need backups broken in one precise way; these helpers find
where a member's bytes are and change exactly those.
"""

from __future__ import annotations

import struct
import tarfile
import zlib
from pathlib import Path


def member_location(path: Path | str, member_name: str) -> tuple[int, int]:
    """Return (data offset, size) of an outer member, so tests can damage its bytes."""
    with tarfile.open(path, mode="r:") as outer:
        info = outer.getmember(member_name)
        return info.offset_data, info.size


def flip_byte(path: Path | str, offset: int, xor_mask: int = 0xFF) -> int:
    """XOR one byte of a file in place and return its new value."""
    with open(path, "r+b") as handle:
        handle.seek(offset)
        original = handle.read(1)
        if len(original) != 1:
            raise ValueError(f"offset {offset} is past the end of {path}")
        new_value = original[0] ^ xor_mask
        handle.seek(offset)
        handle.write(bytes([new_value]))
    return new_value


def truncate_file(path: Path | str, new_size: int) -> None:
    """Cut a file to `new_size` bytes (an interrupted copy or upload)."""
    with open(path, "r+b") as handle:
        handle.truncate(new_size)


def append_bytes(path: Path | str, data: bytes) -> None:
    """Append bytes after the current end of a file (trailing zeros or garbage)."""
    with open(path, "ab") as handle:
        handle.write(data)


def _gzip_header_length(data: bytes) -> int:
    """Length of a gzip member header, honouring the FLG bits (RFC 1952)."""
    if data[:3] != b"\x1f\x8b\x08":
        raise ValueError("not a gzip stream")
    flags = data[3]
    position = 10
    if flags & 0x04:  # FEXTRA
        (extra_length,) = struct.unpack("<H", data[position : position + 2])
        position += 2 + extra_length
    for flag in (0x08, 0x10):  # FNAME, FCOMMENT: zero-terminated
        if flags & flag:
            position = data.index(b"\0", position) + 1
    if flags & 0x02:  # FHCRC
        position += 2
    return position


def _inflates_with_bad_crc(gzip_bytes: bytes, header_length: int) -> bool:
    """Whether a gzip stream inflates cleanly with the right ISIZE but a wrong CRC32."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        output = inflater.decompress(gzip_bytes[header_length:])
    except zlib.error:
        return False
    if not inflater.eof or len(inflater.unused_data) != 8:
        return False
    stored_crc, stored_size = struct.unpack("<II", inflater.unused_data)
    return stored_size == len(output) & 0xFFFFFFFF and stored_crc != zlib.crc32(output)


def find_crc_breaking_offset(
    path: Path | str, member_name: str, *, max_candidates: int = 4096
) -> int:
    """Find a file offset inside an unencrypted gzip member whose flip only breaks the CRC.

    A random flipped byte in deflate data usually makes inflation fail
    outright; a validator test that wants the "CRC mismatch" finding needs a
    byte inside a stored (incompressible) block instead. Candidates are tried
    outward from the middle of the deflate data; the returned offset is
    absolute in the backup file, ready for `flip_byte`.
    """
    data_offset, size = member_location(path, member_name)
    with open(path, "rb") as handle:
        handle.seek(data_offset)
        gzip_bytes = bytearray(handle.read(size))
    header_length = _gzip_header_length(bytes(gzip_bytes))
    deflate_end = len(gzip_bytes) - 8
    middle = (header_length + deflate_end) // 2
    for step in range(max_candidates):
        candidate = middle + (step // 2 + 1) * (1 if step % 2 else -1) if step else middle
        if not header_length <= candidate < deflate_end:
            continue
        gzip_bytes[candidate] ^= 0xFF
        is_crc_only = _inflates_with_bad_crc(bytes(gzip_bytes), header_length)
        gzip_bytes[candidate] ^= 0xFF
        if is_crc_only:
            return data_offset + candidate
    raise ValueError(f"no CRC-only corruption point found in {member_name}")
