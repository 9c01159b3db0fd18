"""Walk the outer (uncompressed) tar of a backup: headers only, data is seeked over.

Records every member with the offset of its data, so inner archives can later
be read in place (no extraction of the outer tar to disk, no temporary copy).
Damage is flagged, not hidden: a bad header mid-archive, a member cut off by
the end of the file, a missing end marker, and trailing data (format-spec §6.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

from .findings import Finding, FindingCode
from .tar_entry import normalise_member_path
from .tar_header import (
    BLOCK_SIZE,
    DIRECTORY_TYPE,
    MAX_META_RECORD_SIZE,
    META_TYPES,
    REGULAR_TYPES,
    PendingOverrides,
    TarHeaderError,
    is_zero_block,
    padded_size,
    parse_header_block,
)

# Home Assistant's own streamers pad downloads with tens of KB of NULs after
# the end marker (format-spec §4.3): benign. Beyond this, say so.
BENIGN_TRAILING_ZEROS = 1024 * 1024
_TRAILING_SAMPLE = 1024 * 1024
# A Home Assistant backup's outer tar holds backup.json and a few dozen
# archives, each with one PAX header of about 200 bytes. The scan runs for
# every file in the backup folder when the app starts, so a file that holds
# far more headers is refused early instead of filling memory with members.
MAX_OUTER_HEADERS = 10_000
MAX_OUTER_EXTENDED_BYTES = 16 * 1024 * 1024
_SECURETAR_PREFIX = "_securetar."


@dataclass(frozen=True)
class OuterMember:
    """One member of the outer tar and where its data lies in the file."""

    name: str
    path: str  # normalised: no "./"
    is_file: bool
    is_dir: bool
    header_offset: int
    data_offset: int
    size: int
    available_size: int  # bytes of data actually present in the file
    pax_records: dict[str, str] = field(default_factory=dict)

    @property
    def is_complete(self) -> bool:
        """Whether all of the member's data is inside the file."""
        return self.available_size == self.size


@dataclass
class OuterScan:
    """Everything the outer tar's headers say, plus what is wrong with them."""

    members: list[OuterMember]
    findings: list[Finding]
    file_size: int
    end_marker_offset: int | None
    damaged_at: int | None = None  # offset where reading had to stop

    def member(self, path: str) -> OuterMember | None:
        """The last member whose normalised path is `path` (tar semantics: last wins)."""
        found = None
        for member in self.members:
            if member.path == path:
                found = member
        return found


def _read_exact_at(f: BinaryIO, offset: int, size: int) -> bytes:
    f.seek(offset)
    return f.read(size)


def scan_outer_tar(f: BinaryIO, file_size: int) -> OuterScan:
    """Scan the outer tar from a seekable binary file of `file_size` bytes."""
    scan = OuterScan(members=[], findings=[], file_size=file_size, end_marker_offset=None)
    overrides = PendingOverrides()
    offset = 0
    if file_size < BLOCK_SIZE:
        what = "empty" if file_size == 0 else f"only {file_size:,} bytes long"
        scan.findings.append(
            Finding(
                FindingCode.NOT_A_TAR,
                f"The file is {what}: too small to be a Home Assistant backup.",
            )
        )
        return scan
    headers_seen = 0
    extended_bytes = 0
    while True:
        if offset + BLOCK_SIZE > file_size:
            _report_missing_end(scan, offset)
            return scan
        block = _read_exact_at(f, offset, BLOCK_SIZE)
        if is_zero_block(block):
            if offset == 0:
                scan.findings.append(
                    Finding(
                        FindingCode.NOT_A_TAR,
                        "The file starts with empty blocks: it holds no backup at all.",
                    )
                )
                return scan
            scan.end_marker_offset = offset
            _check_trailing_data(f, scan, offset + BLOCK_SIZE)
            return scan
        headers_seen += 1
        try:
            if headers_seen > MAX_OUTER_HEADERS:
                raise TarHeaderError(f"more than {MAX_OUTER_HEADERS:,} headers")
            header = parse_header_block(block)
            if header.type_flag in META_TYPES:
                if header.size > MAX_META_RECORD_SIZE:
                    raise TarHeaderError(f"an extended header of {header.size:,} bytes")
                extended_bytes += header.size
                if extended_bytes > MAX_OUTER_EXTENDED_BYTES:
                    raise TarHeaderError(
                        f"more than {MAX_OUTER_EXTENDED_BYTES:,} bytes of extended headers"
                    )
                meta = _read_exact_at(f, offset + BLOCK_SIZE, header.size)
                if len(meta) < header.size:
                    _report_cut_member(scan, "an extended header", offset)
                    return scan
                overrides.absorb(header.type_flag, meta)
                offset += BLOCK_SIZE + padded_size(header.size)
                continue
            header, records = overrides.apply(header)
        except TarHeaderError as err:
            _report_damaged_header(scan, offset, str(err))
            return scan
        data_offset = offset + BLOCK_SIZE
        is_file = header.type_flag in REGULAR_TYPES
        size = header.size if is_file or header.size > 0 else 0
        available = max(0, min(size, file_size - data_offset))
        scan.members.append(
            OuterMember(
                name=header.name,
                path=normalise_member_path(header.name),
                is_file=is_file,
                is_dir=header.type_flag == DIRECTORY_TYPE,
                header_offset=offset,
                data_offset=data_offset,
                size=size,
                available_size=available,
                pax_records=_securetar_records(records),
            )
        )
        if available < size:
            _report_cut_member(scan, normalise_member_path(header.name), offset, size - available)
            return scan
        offset = data_offset + padded_size(size)  # sizes are never negative: always forward


def _securetar_records(records: Mapping[str, str]) -> dict[str, str]:
    """The `_securetar.*` PAX records of a member: all the inner-archive reader needs."""
    return {k: v for k, v in records.items() if k.startswith(_SECURETAR_PREFIX)} if records else {}


def _report_damaged_header(scan: OuterScan, offset: int, reason: str) -> None:
    scan.damaged_at = offset
    if offset == 0:
        scan.findings.append(
            Finding(
                FindingCode.NOT_A_TAR,
                "This file is not a tar archive, so it is not a Home Assistant backup "
                f"(its first block is not a tar header: {reason}).",
            )
        )
        return
    lost = scan.file_size - offset
    scan.findings.append(
        Finding(
            FindingCode.OUTER_TAR_DAMAGED,
            f"The backup's container is damaged at byte {offset:,} ({reason}). The {lost:,} bytes after "
            "that point cannot be read: Home Assistant stops there too and will not find what follows "
            "(often backup.json, which makes the whole backup unusable for a restore). "
            "Archives before the damage can still be checked and extracted.",
        )
    )


def _report_cut_member(scan: OuterScan, name: str, offset: int, missing: int = 0) -> None:
    scan.damaged_at = offset
    extra = f", {missing:,} bytes of it are missing" if missing else ""
    scan.findings.append(
        Finding(
            FindingCode.TRUNCATED,
            f"The backup file ends in the middle of {name}{extra}: it was cut short, typically by an "
            "interrupted download or copy, or a full disk. Home Assistant cannot restore it; complete "
            "archives before the cut can still be checked and extracted.",
        )
    )


def _report_missing_end(scan: OuterScan, offset: int) -> None:
    scan.damaged_at = offset
    scan.findings.append(
        Finding(
            FindingCode.TRUNCATED,
            "The backup file ends without the tar end-of-archive marker: it was cut short after "
            f"{offset:,} bytes. Anything written after that point (often backup.json) is lost.",
        )
    )


def _check_trailing_data(f: BinaryIO, scan: OuterScan, start: int) -> None:
    trailing = scan.file_size - start
    if trailing <= 0:
        return
    head = _read_exact_at(f, start, min(trailing, _TRAILING_SAMPLE))
    tail_start = max(start, scan.file_size - _TRAILING_SAMPLE)
    tail = (
        _read_exact_at(f, tail_start, scan.file_size - tail_start)
        if tail_start > start + len(head)
        else b""
    )
    if any(head) or any(tail):
        scan.findings.append(
            Finding(
                FindingCode.TRAILING_DATA,
                f"{trailing:,} bytes of unexpected data follow the end of the backup. Home Assistant "
                "ignores them, but they may be a sign that two files were joined or a copy went wrong.",
            )
        )
    elif trailing > BENIGN_TRAILING_ZEROS:
        scan.findings.append(
            Finding(
                FindingCode.TRAILING_DATA,
                f"{trailing:,} bytes of zeros follow the end of the backup; that is far more padding "
                "than Home Assistant adds. The backup itself is not affected.",
            )
        )
