"""Parse one 512-byte tar header block: ustar, GNU and PAX dialects.

Our own parser instead of `tarfile`, because `tarfile` treats a damaged header
after offset 0 as the end of the archive and says nothing (format-spec §5);
a validator has to see and name that damage. It also lets the inner-archive
walker work on decompressed buffers without a file object.
"""

from __future__ import annotations

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


def parse_number(field: bytes) -> int:
    """Parse a numeric field: octal ASCII, or GNU base-256 (high bit set).

    Base-256 is how tar stores sizes of 8 GiB and more (format-spec §5).
    """
    if field and field[0] & 0x80:
        value = int.from_bytes(field[1:], "big")
        if field[0] == 0xFF:  # negative base-256
            value -= 1 << (8 * (len(field) - 1))
        return value
    end = field.find(0)
    text = field if end == -1 else field[:end]
    try:
        return int(text, 8)  # int() itself ignores surrounding spaces
    except ValueError as err:
        if not text.strip():
            return 0
        raise TarHeaderError(f"invalid number field {field!r}") from err


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
    return RawTarHeader(
        name,
        parse_number(block[100:108]),
        parse_number(block[124:136]),
        float(parse_number(block[136:148])),
        block[156:157],
        _decode_name(block[157:257]) if block[157] else "",
    )


def padded_size(size: int) -> int:
    """Bytes a member's data occupies, rounded up to whole blocks."""
    return (size + BLOCK_SIZE - 1) // BLOCK_SIZE * BLOCK_SIZE


def parse_pax_records(data: bytes) -> dict[str, str]:
    """Parse PAX extended header records ("<len> <key>=<value>\\n" each).

    Raises TarHeaderError on a malformed record: a bad PAX header is exactly
    the damage that made readers land mid-data in supervisor#7034.
    """
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        if data[pos] == 0:  # NUL padding after the last record
            break
        space = data.find(b" ", pos)
        if space == -1:
            raise TarHeaderError("malformed PAX record")
        try:
            length = int(data[pos:space])
        except ValueError as err:
            raise TarHeaderError("malformed PAX record length") from err
        end = pos + length
        if length <= 0 or end > len(data) or data[end - 1 : end] != b"\n":
            raise TarHeaderError("malformed PAX record")
        key, sep, value = data[space + 1 : end - 1].partition(b"=")
        if not sep:
            raise TarHeaderError("malformed PAX record")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos = end
    return records


class PendingOverrides:
    """PAX and GNU long-name records that apply to the next real member.

    Both the outer and the inner tar walkers keep one of these and feed it the
    data of meta members ('x', 'g', 'L', 'K') before applying it to the header
    that follows.
    """

    def __init__(self) -> None:
        self.pax: dict[str, str] = {}
        self.global_pax: dict[str, str] = {}
        self.long_name: str | None = None
        self.long_link: str | None = None

    def absorb(self, type_flag: bytes, data: bytes) -> None:
        """Record the content of a meta member."""
        if type_flag == PAX_HEADER_TYPE:
            self.pax.update(parse_pax_records(data))
        elif type_flag == PAX_GLOBAL_TYPE:
            self.global_pax.update(parse_pax_records(data))
        elif type_flag == GNU_LONGNAME_TYPE:
            self.long_name = _decode_name(data)
        elif type_flag == GNU_LONGLINK_TYPE:
            self.long_link = _decode_name(data)

    def apply(self, header: RawTarHeader) -> tuple[RawTarHeader, dict[str, str]]:
        """Return the header with overrides applied, and the PAX records used; then reset."""
        if not (
            self.pax or self.global_pax or self.long_name is not None or self.long_link is not None
        ):
            return header, {}
        records = {**self.global_pax, **self.pax}
        name = records.get("path", self.long_name or header.name)
        link = records.get("linkpath", self.long_link or header.link_name)
        size = header.size
        if "size" in records:
            try:
                size = int(records["size"])
            except ValueError as err:
                raise TarHeaderError("malformed PAX size") from err
        mtime = header.mtime
        if "mtime" in records:
            try:
                mtime = float(records["mtime"])
            except ValueError:
                mtime = header.mtime
        self.pax = {}
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
