"""Parse one 512-byte tar header block: ustar, GNU and PAX dialects.

Our own parser instead of `tarfile`, because `tarfile` treats a damaged header
after offset 0 as the end of the archive and says nothing (format-spec §5);
a validator has to see and name that damage. It also lets the inner-archive
walker work on decompressed buffers without a file object.
"""

from __future__ import annotations

import math
import re
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass

BLOCK_SIZE = 512
RECORD_SIZE = 10240  # Python's tarfile pads archives to this (format-spec §3.1)

# Type flags (POSIX + GNU).
REGULAR_TYPES = frozenset({b"0", b"\x00", b"7"})
HARDLINK_TYPE = b"1"
SYMLINK_TYPE = b"2"
CHAR_DEVICE_TYPE = b"3"
BLOCK_DEVICE_TYPE = b"4"
DIRECTORY_TYPE = b"5"
FIFO_TYPE = b"6"
PAX_HEADER_TYPE = b"x"
PAX_GLOBAL_TYPE = b"g"
GNU_LONGNAME_TYPE = b"L"
GNU_LONGLINK_TYPE = b"K"
GNU_SPARSE_TYPE = b"S"
META_TYPES = frozenset({PAX_HEADER_TYPE, PAX_GLOBAL_TYPE, GNU_LONGNAME_TYPE, GNU_LONGLINK_TYPE})

# A hostile archive could announce a huge PAX or long-name record; these are
# buffered in memory, so cap them (real ones are a few hundred bytes).
MAX_META_RECORD_SIZE = 1024 * 1024
# PAX records apply to every following member (global 'g') or to the next one
# ('x', possibly several in a row). Real writers use a handful of keys
# (path, size, mtime, securetar's own); tens of thousands are an attack on
# whoever merges them per member, so the keys and bytes still pending are
# capped too (issue 9, finding 11).
MAX_PAX_KEYS = 1000
MAX_PENDING_PAX_BYTES = MAX_META_RECORD_SIZE
# The largest member size we believe: a signed 64-bit file offset, what any
# file system can hold. GNU base-256 fields can announce far more, and a
# negative size would make a walker step back onto the same header forever.
MAX_MEMBER_SIZE = (1 << 63) - 1
# mtimes are clamped into what every consumer can show and store: JSON has
# no NaN or Infinity, and datetime stops at year 9999 (Windows also refuses
# times before 1970), so 1970-01-01 .. 9999-12-31 23:59:59 UTC.
MIN_MTIME = 0.0
MAX_MTIME = 253402300799.0

_POSIX_MAGIC = b"ustar\x0000"


class TarHeaderError(ValueError):
    """The block is not a valid tar header (bad checksum or number field)."""


@dataclass(slots=True)
class RawTarHeader:
    """The fields of one header block, before PAX/GNU overrides are applied.

    Not frozen: one is made per member on the hot path, and a frozen
    dataclass's __init__ costs several times more.
    """

    name: str
    mode: int
    size: int
    mtime: float
    type_flag: bytes
    link_name: str


ZERO_BLOCK = bytes(BLOCK_SIZE)


def is_zero_block(block: bytes) -> bool:
    """Whether a 512-byte block is all NUL (an end-of-archive marker block)."""
    return block == ZERO_BLOCK


def _decode_name(raw: bytes) -> str:
    """Decode a name field: UTF-8, with undecodable bytes kept as surrogates.

    Python's tarfile writes UTF-8; a non-UTF-8 byte must survive so that the
    path a user sees maps back to the member (`surrogateescape`).
    """
    end = raw.find(b"\x00")
    if end != -1:
        raw = raw[:end]
    return raw.decode("utf-8", "surrogateescape")


_OCTAL_DIGITS = re.compile(rb"[0-7]*")
_DECIMAL_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_number(field: bytes) -> int:
    """Parse a numeric field: octal ASCII, or GNU base-256 (first byte 0x80 or 0xFF).

    Base-256 is how tar stores sizes of 8 GiB and more (format-spec §5).
    Octal is read strictly: Python's int() would also take a sign, "0o" or
    "_", and "-1" in a size field is exactly what sends a reader backwards.
    """
    if field and field[0] & 0x80:
        if field[0] not in (0x80, 0xFF):
            raise TarHeaderError(f"invalid base-256 number field {field!r}")
        value = int.from_bytes(field[1:], "big")
        if field[0] == 0xFF:  # negative base-256
            value -= 1 << (8 * (len(field) - 1))
        return value
    end = field.find(0)
    text = (field if end == -1 else field[:end]).strip()
    if not _OCTAL_DIGITS.fullmatch(text):
        raise TarHeaderError(f"invalid number field {field!r}")
    return int(text, 8) if text else 0


def checked_member_size(size: int) -> int:
    """Return `size` if a member can have it; raise TarHeaderError if not.

    Every walker advances by the member's padded size: a negative one would
    step back onto a header already read (issue 9, finding 1).
    """
    if size < 0:
        raise TarHeaderError(f"negative member size {size:,}")
    if size > MAX_MEMBER_SIZE:
        raise TarHeaderError("member size beyond any file system's limit")
    return size


def sane_mtime(value: float) -> float:
    """Clamp a modification time into MIN_MTIME..MAX_MTIME; NaN becomes MIN_MTIME.

    Done where the header is parsed, so that the JSON, the CLI, the index and
    the extractor all get a value they can print or store (finding 12).
    """
    if math.isnan(value):
        return MIN_MTIME
    return min(MAX_MTIME, max(MIN_MTIME, value))


def _checksum_matches(block: bytes) -> bool:
    """Check the header checksum; tar writers used both signed and unsigned sums."""
    stored_field = block[148:156]
    try:
        stored = parse_number(stored_field)
    except TarHeaderError:
        return False
    unsigned = sum(block) - sum(stored_field) + 8 * 32  # the field counts as spaces
    if stored == unsigned:
        return True
    high_bytes = sum(1 for b in block[:148] if b > 127) + sum(1 for b in block[156:] if b > 127)
    return stored == unsigned - 256 * high_bytes


def parse_header_block(block: bytes) -> RawTarHeader:
    """Parse a non-zero 512-byte header block; raise TarHeaderError if it is invalid."""
    if len(block) != BLOCK_SIZE:
        raise TarHeaderError("short header block")
    if not _checksum_matches(block):
        raise TarHeaderError("header checksum mismatch")
    name = _decode_name(block[0:100])
    if block[345] and block[257:265] == _POSIX_MAGIC:
        name = f"{_decode_name(block[345:500])}/{name}"
    mtime = parse_number(block[136:148])
    return RawTarHeader(
        name,
        parse_number(block[100:108]),
        checked_member_size(parse_number(block[124:136])),
        sane_mtime(float(min(mtime, MAX_MTIME))),
        block[156:157],
        _decode_name(block[157:257]) if block[157] else "",
    )


def padded_size(size: int) -> int:
    """Bytes a member's data occupies, rounded up to whole blocks."""
    return (size + BLOCK_SIZE - 1) // BLOCK_SIZE * BLOCK_SIZE


def parse_pax_records(data: bytes) -> dict[str, str]:
    """Parse PAX extended header records ("<len> <key>=<value>\\n" each).

    Raises TarHeaderError on a malformed record: a bad PAX header is exactly
    the damage that made readers land mid-data in supervisor#7034. More than
    MAX_PAX_KEYS distinct keys is refused as soon as it is seen.
    """
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        if data[pos] == 0:  # NUL padding after the last record
            break
        space = data.find(b" ", pos, pos + 20)
        if space == -1:
            raise TarHeaderError("malformed PAX record")
        length_text = data[pos:space]
        if not length_text.isdigit():
            raise TarHeaderError("malformed PAX record length")
        length = int(length_text)
        end = pos + length
        if end <= space or end > len(data) or data[end - 1 : end] != b"\n":
            raise TarHeaderError("malformed PAX record")
        key, sep, value = data[space + 1 : end - 1].partition(b"=")
        if not sep:
            raise TarHeaderError("malformed PAX record")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        if len(records) > MAX_PAX_KEYS:
            raise TarHeaderError(f"extended header with more than {MAX_PAX_KEYS:,} keys")
        pos = end
    return records


def _records_size(records: Mapping[str, str]) -> int:
    return sum(len(key) + len(value) for key, value in records.items())


def _merged_records(pending: dict[str, str], new: dict[str, str]) -> dict[str, str]:
    """`pending` updated with `new`, as a new dict; TarHeaderError past the caps.

    A new dict rather than an update in place: members share the global
    records by reference (apply), so they must never change under them.
    """
    merged = {**pending, **new} if pending else new
    if len(merged) > MAX_PAX_KEYS:
        raise TarHeaderError(f"extended headers with more than {MAX_PAX_KEYS:,} keys")
    if _records_size(merged) > MAX_PENDING_PAX_BYTES:
        raise TarHeaderError(f"extended headers of more than {MAX_PENDING_PAX_BYTES:,} bytes")
    return merged


def parse_pax_size(value: str) -> int:
    """A PAX `size` record: decimal digits only, within MAX_MEMBER_SIZE.

    int() would also accept a sign, spaces, "_" and non-ASCII digits.
    """
    if not _DECIMAL_DIGITS.fullmatch(value):
        raise TarHeaderError(f"malformed PAX size {value[:40]!r}")
    return checked_member_size(int(value))


def parse_pax_mtime(value: str, fallback: float) -> float:
    """A PAX `mtime` record as a sane time; `fallback` if it is not a number."""
    try:
        return sane_mtime(float(value[:64]))
    except ValueError:
        return fallback


_NO_RECORDS: Mapping[str, str] = {}


class PendingOverrides:
    """PAX and GNU long-name records that apply to the next real member.

    Both the outer and the inner tar walkers keep one of these and feed it the
    data of meta members ('x', 'g', 'L', 'K') before applying it to the header
    that follows. The records a member sees are a view over the member's own
    and the global ones, never a copy: a global header applies to every later
    member, and copying it per member made a 60 000-key header take seconds.
    """

    def __init__(self) -> None:
        self.pax: dict[str, str] = {}
        self.global_pax: dict[str, str] = {}
        self.long_name: str | None = None
        self.long_link: str | None = None

    def absorb(self, type_flag: bytes, data: bytes) -> None:
        """Record the content of a meta member; TarHeaderError if it is malformed or too big."""
        if type_flag == PAX_HEADER_TYPE:
            self.pax = _merged_records(self.pax, parse_pax_records(data))
        elif type_flag == PAX_GLOBAL_TYPE:
            self.global_pax = _merged_records(self.global_pax, parse_pax_records(data))
        elif type_flag == GNU_LONGNAME_TYPE:
            self.long_name = _decode_name(data)
        elif type_flag == GNU_LONGLINK_TYPE:
            self.long_link = _decode_name(data)

    def apply(self, header: RawTarHeader) -> tuple[RawTarHeader, Mapping[str, str]]:
        """Return the header with overrides applied, and the PAX records used; then reset.

        The records are a read-only view (member records first, then global
        ones); callers that keep some copy what they keep.
        """
        if not (
            self.pax or self.global_pax or self.long_name is not None or self.long_link is not None
        ):
            return header, _NO_RECORDS
        pax, global_pax = self.pax, self.global_pax

        def record(key: str) -> str | None:
            value = pax.get(key)
            return global_pax.get(key) if value is None else value

        name = record("path") or self.long_name or header.name
        link = record("linkpath") or self.long_link or header.link_name
        size_text = record("size")
        size = header.size if size_text is None else parse_pax_size(size_text)
        mtime_text = record("mtime")
        mtime = header.mtime if mtime_text is None else parse_pax_mtime(mtime_text, header.mtime)
        records: Mapping[str, str] = ChainMap(pax, global_pax) if global_pax else pax
        self.pax = {}  # a new dict: `records` still refers to the old one
        self.long_name = None
        self.long_link = None
        merged = RawTarHeader(
            name=name,
            mode=header.mode,
            size=size,
            mtime=mtime,
            type_flag=header.type_flag,
            link_name=link,
        )
        return merged, records
