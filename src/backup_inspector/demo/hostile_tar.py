"""Hand-made tar headers no honest writer produces: negative sizes, NaN times, huge PAX headers.

Python's tarfile refuses to write most of these, yet a file dropped into the
backup folder can hold any bytes. Tests and the hardening benchmark build
hostile backups from these pieces so each case is visible in code (issue 9).
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zlib
from collections.abc import Iterable
from pathlib import Path

from backup_inspector.demo.entry_specs import ArchiveSpec
from backup_inspector.demo.metadata_builder import make_metadata, serialize_metadata

BLOCK_SIZE = 512
END_OF_ARCHIVE = bytes(2 * BLOCK_SIZE)


def octal_field(value: int, width: int) -> bytes:
    """A NUL-terminated octal number field, as ustar writes it."""
    return f"{value:0{width - 1}o}".encode() + b"\0"


def base256_field(value: int, width: int = 12) -> bytes:
    """A GNU base-256 number field (first byte 0x80, or 0xFF when negative)."""
    if value < 0:
        return b"\xff" + (value + (1 << (8 * (width - 1)))).to_bytes(width - 1, "big")
    return b"\x80" + value.to_bytes(width - 1, "big")


def header_block(
    name: str | bytes,
    *,
    size: int | bytes = 0,
    type_flag: bytes = b"0",
    mtime: int | bytes = 1_700_000_000,
    link_name: str | bytes = b"",
) -> bytes:
    """One ustar header block with a correct checksum; number fields may be raw bytes."""
    raw_name = name.encode("utf-8", "surrogateescape") if isinstance(name, str) else name
    raw_link = (
        link_name.encode("utf-8", "surrogateescape") if isinstance(link_name, str) else link_name
    )
    block = bytearray(BLOCK_SIZE)
    block[0:100] = raw_name[:100].ljust(100, b"\0")
    block[100:108] = octal_field(0o644, 8)
    block[108:116] = octal_field(0, 8)
    block[116:124] = octal_field(0, 8)
    block[124:136] = size if isinstance(size, bytes) else octal_field(size, 12)
    block[136:148] = mtime if isinstance(mtime, bytes) else octal_field(mtime, 12)
    block[148:156] = b" " * 8
    block[156:157] = type_flag
    block[157:257] = raw_link[:100].ljust(100, b"\0")
    block[257:265] = b"ustar\x0000"
    checksum = sum(block)
    block[148:156] = f"{checksum:06o}".encode() + b"\0 "
    return bytes(block)


def padded(data: bytes) -> bytes:
    """`data` followed by NULs up to a whole number of blocks."""
    return data + bytes(-len(data) % BLOCK_SIZE)


def pax_data(records: Iterable[tuple[str, str]]) -> bytes:
    """PAX records ("<len> <key>=<value>\\n"), each length counting itself."""
    out = bytearray()
    for key, value in records:
        body = f" {key}={value}\n".encode("utf-8", "surrogateescape")
        length = len(body) + 1
        while len(str(length)) + len(body) != length:
            length += 1
        out += str(length).encode() + body
    return bytes(out)


def pax_member(records: Iterable[tuple[str, str]], *, is_global: bool = False) -> bytes:
    """A PAX extended header member ('x', or 'g' for global) with its data."""
    data = pax_data(records)
    type_flag = b"g" if is_global else b"x"
    return header_block("././@PaxHeader", size=len(data), type_flag=type_flag) + padded(data)


def file_member(name: str, data: bytes = b"", **header: object) -> bytes:
    """A regular-file member: header and padded data."""
    return header_block(name, size=len(data), **header) + padded(data)  # type: ignore[arg-type]


IMPOSSIBLE_TIME_NAMES = ("nan.txt", "minus-inf.txt", "inf.txt", "huge.txt")


def impossible_times_tar() -> bytes:
    """An inner tar whose files have PAX mtimes NaN, -inf and inf, and a 2**80 base-256 mtime."""
    parts = [
        pax_member([("mtime", value)]) + file_member(name, b"x")
        for name, value in zip(IMPOSSIBLE_TIME_NAMES, ("nan", "-inf", "inf"), strict=False)
    ]
    parts.append(file_member(IMPOSSIBLE_TIME_NAMES[3], b"x", mtime=base256_field(1 << 80)))
    return b"".join(parts) + END_OF_ARCHIVE


def repeated_members_gzip(count: int, *, per_chunk: int = 1000) -> bytes:
    """A gzip tar of `count` identical empty files, compressed about 150:1 in well under a second.

    It makes the parser work hard: one raw read of the backup then holds
    hundreds of thousands of headers.
    """
    chunk = file_member("same-name.txt") * per_chunk
    squeezer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [squeezer.compress(chunk) for _ in range(count // per_chunk)]
    parts += [squeezer.compress(END_OF_ARCHIVE), squeezer.flush()]
    return b"".join(parts)


def write_backup_with_inner_tar(
    path: Path | str,
    inner_tar: bytes,
    *,
    compressed: bool = True,
    component: str = "share",
    name: str | None = None,
) -> Path:
    """A backup (called `name`) whose one unencrypted inner archive holds exactly `inner_tar`."""
    payload = gzip.compress(inner_tar, compresslevel=6, mtime=0) if compressed else inner_tar
    return write_backup_with_inner_archive(
        path, payload, compressed=compressed, component=component, name=name
    )


def write_backup_with_inner_archive(
    path: Path | str,
    payload: bytes,
    *,
    compressed: bool,
    component: str = "share",
    name: str | None = None,
) -> Path:
    """A backup whose one unencrypted inner archive is `payload` (tar, or gzip of a tar)."""
    path = Path(path)
    spec = ArchiveSpec(component, compressed=compressed)
    metadata = serialize_metadata(make_metadata([spec], name=name))
    with tarfile.open(path, mode="w", format=tarfile.PAX_FORMAT) as outer:
        for member_name, data in (
            (spec.outer_member_name(dot_slash=False), payload),
            ("./backup.json", metadata),
        ):
            info = tarfile.TarInfo(member_name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            outer.addfile(info, io.BytesIO(data))
    return path


def write_backup_with_outer_tail(path: Path | str, tail: bytes) -> Path:
    """A backup.json member, then `tail` (hand-made headers) and the end marker."""
    path = Path(path)
    metadata = serialize_metadata(make_metadata([]))
    path.write_bytes(file_member("./backup.json", metadata) + tail + END_OF_ARCHIVE)
    return path
