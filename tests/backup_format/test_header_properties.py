"""Property-based tests of the tar header parsers: any bytes end in entries or a named problem.

Hypothesis builds headers the way a hostile or broken file would: numbers in
every dialect (octal with signs, GNU base-256 of any sign and width, PAX
decimal), PAX records with odd keys and values, meta members in any order, and
random damage on top of valid tars. Every walk must move forward (counted, so
a loop fails the example instead of hanging) under a memory ceiling.
"""

from __future__ import annotations

import io
import json
import math
import tarfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backup_inspector.backup_format.findings import FindingCode
from backup_inspector.backup_format.inner_tar import InnerTarError, InnerTarWalker
from backup_inspector.backup_format.outer_tar import scan_outer_tar
from backup_inspector.backup_format.tar_entry import TarEntry
from backup_inspector.backup_format.tar_header import (
    MAX_MEMBER_SIZE,
    MAX_MTIME,
    MIN_MTIME,
    TarHeaderError,
    parse_header_block,
    parse_number,
)
from backup_inspector.demo.hostile_tar import (
    END_OF_ARCHIVE,
    base256_field,
    file_member,
    header_block,
    octal_field,
    padded,
    pax_data,
)

from .property_limits import (
    PROPERTY_SETTINGS,
    BoundedReader,
    HeaderCounter,
    memory_ceiling,
)

OUTER_CODES = {
    FindingCode.NOT_A_TAR,
    FindingCode.OUTER_TAR_DAMAGED,
    FindingCode.TRUNCATED,
    FindingCode.TRAILING_DATA,
}

# ------------------------------------------------------------------ strategies
small_ints = st.integers(min_value=-(1 << 90), max_value=1 << 90)


@st.composite
def number_fields(draw: st.DrawFn, width: int = 12) -> bytes:
    """A numeric header field in any dialect, honest or not."""
    kind = draw(st.sampled_from(["octal", "signed-text", "base256", "raw"]))
    if kind == "octal":
        value = draw(st.integers(min_value=0, max_value=8 ** (width - 1) - 1))
        return octal_field(value, width)
    if kind == "signed-text":
        text = draw(st.from_regex(rb"\A[ +\-]?(0o)?[0-9_ ]{0,9}\Z", fullmatch=True))
        return text[:width].ljust(width, b"\0")
    if kind == "base256":
        limit = 1 << (8 * width - 9)
        near_zero = st.integers(min_value=-4096, max_value=4096)
        value = draw(near_zero | st.integers(min_value=-limit, max_value=limit))
        return base256_field(value, width)
    return draw(st.binary(min_size=width, max_size=width))


pax_keys = st.sampled_from(
    ["size", "path", "linkpath", "mtime", "_securetar.version", "comment"]
) | st.text(
    alphabet=st.characters(blacklist_characters="=\n\0", blacklist_categories=["Cs"]),
    min_size=1,
    max_size=8,
)
pax_values = st.sampled_from(
    [
        "-1536",
        "-1",
        "0",
        "512",
        "nan",
        "inf",
        "-inf",
        "1e400",
        "9" * 30,
        "0x10",
        " 12",
        "a/../b",
        "",
    ]
) | st.text(
    alphabet=st.characters(blacklist_characters="\n", blacklist_categories=["Cs"]), max_size=30
)
pax_records = st.lists(st.tuples(pax_keys, pax_values), max_size=6)
member_names = st.sampled_from(["a", "./b/c", "/abs", "../up", "dir/", ""]) | st.text(
    alphabet=st.characters(blacklist_characters="\0", blacklist_categories=["Cs"]), max_size=40
)
# Regular files most often: theirs is the size a walker must step over.
type_flags = st.sampled_from(
    [b"0", b"0", b"0", b"\0", b"1", b"2", b"5", b"x", b"g", b"L", b"K", b"S"]
) | st.binary(min_size=1, max_size=1)
honest_times = st.integers(min_value=0, max_value=8**11 - 1).map(
    lambda value: octal_field(value, 12)
)


@st.composite
def members(draw: st.DrawFn) -> bytes:
    """One member: a header with any number fields and type, and maybe some data."""
    type_flag = draw(type_flags)
    data = b""
    if type_flag in (b"x", b"g"):
        data = pax_data(draw(pax_records))
    elif type_flag in (b"L", b"K"):
        data = draw(member_names).encode("utf-8", "surrogateescape") + b"\0"
    elif draw(st.booleans()):
        data = draw(st.binary(max_size=1200))
    negative = st.integers(min_value=-(1 << 20), max_value=-1).map(base256_field)
    size = draw(st.one_of(st.just(len(data)), negative, number_fields()))
    mtime = draw(honest_times | number_fields())
    header = header_block(draw(member_names), size=size, type_flag=type_flag, mtime=mtime)
    return header + padded(data)


tar_streams = st.lists(members(), max_size=8).map(lambda parts: b"".join(parts) + END_OF_ARCHIVE)


@st.composite
def damaged_real_tars(draw: st.DrawFn) -> bytes:
    """A tar written by tarfile (PAX or GNU), then overwritten with random bytes somewhere."""
    fmt = draw(st.sampled_from([tarfile.PAX_FORMAT, tarfile.GNU_FORMAT]))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for number in range(draw(st.integers(min_value=1, max_value=3))):
            info = tarfile.TarInfo(f"dir/{'n' * draw(st.integers(0, 120))}{number}")
            content = draw(st.binary(max_size=700))
            info.size = len(content)
            info.mtime = draw(st.floats(min_value=0, max_value=4e9))
            tar.addfile(info, io.BytesIO(content))
    data = bytearray(buffer.getvalue())
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        start = draw(st.integers(min_value=0, max_value=len(data) - 1))
        patch = draw(st.binary(min_size=1, max_size=16))
        data[start : start + len(patch)] = patch
    return bytes(data[: len(data) - draw(st.integers(min_value=0, max_value=len(data) // 2))])


any_tar_bytes = st.one_of(tar_streams, damaged_real_tars())


# ------------------------------------------------------------------ helpers
def walk_inner(data: bytes, piece: int) -> list[TarEntry]:
    """Walk `data` in pieces with a header budget; entries seen (InnerTarError propagates)."""
    entries: list[TarEntry] = []
    walker = InnerTarWalker(
        lambda entry: entries.append(entry), check_stop=HeaderCounter(len(data))
    )
    with memory_ceiling():
        for start in range(0, len(data), piece):
            walker.feed(data[start : start + piece])
        walker.finish()
    return entries


def assert_sane_entry(entry: TarEntry) -> None:
    """What every consumer may rely on: a size that can exist and a time JSON can hold."""
    assert 0 <= entry.size <= MAX_MEMBER_SIZE
    assert math.isfinite(entry.mtime) and MIN_MTIME <= entry.mtime <= MAX_MTIME
    json.dumps(entry.to_json(), allow_nan=False)


# ------------------------------------------------------------------ properties
@pytest.mark.timeout(120)
@PROPERTY_SETTINGS
@given(field=st.one_of(number_fields(8), number_fields(12)))
def test_number_fields_parse_or_are_refused(field: bytes) -> None:
    """A number field is an int or a TarHeaderError; octal text is never negative."""
    try:
        value = parse_number(field)
    except TarHeaderError:
        return
    if not field[0] & 0x80:
        assert value >= 0


@pytest.mark.timeout(120)
@PROPERTY_SETTINGS
@given(block=st.binary(min_size=512, max_size=512) | members().map(lambda m: m[:512]))
def test_a_parsed_header_has_a_size_and_time_that_can_exist(block: bytes) -> None:
    """Whatever block parses has 0 <= size <= 2**63-1 and a finite, clamped mtime."""
    try:
        header = parse_header_block(block)
    except TarHeaderError:
        return
    assert 0 <= header.size <= MAX_MEMBER_SIZE
    assert MIN_MTIME <= header.mtime <= MAX_MTIME


@pytest.mark.timeout(180)
@PROPERTY_SETTINGS
@given(data=any_tar_bytes, piece=st.sampled_from([1, 100, 512, 4096, 1 << 20]))
def test_inner_walk_moves_forward_and_ends_in_entries_or_a_problem(data: bytes, piece: int) -> None:
    """Any bytes: the inner walker ends (entries, or InnerTarError) within one header per block."""
    try:
        entries = walk_inner(data, piece)
    except InnerTarError:
        return
    for entry in entries:
        assert_sane_entry(entry)


@pytest.mark.timeout(180)
@PROPERTY_SETTINGS
@given(data=any_tar_bytes, prefix=st.booleans())
def test_outer_scan_moves_forward_and_ends_with_members_or_findings(
    data: bytes, prefix: bool
) -> None:
    """Any bytes: the outer scan ends with forward-only members and only outer finding codes."""
    if prefix:
        data = file_member("./backup.json", b"{}") + data
    reader = BoundedReader(data)
    with memory_ceiling():
        scan = scan_outer_tar(reader, len(data))
    assert {finding.code for finding in scan.findings} <= OUTER_CODES
    offsets = [member.header_offset for member in scan.members]
    assert offsets == sorted(set(offsets))
    for member in scan.members:
        assert member.header_offset < member.data_offset <= len(data)
        assert 0 <= member.available_size <= member.size <= MAX_MEMBER_SIZE
    if scan.damaged_at is not None:
        assert 0 <= scan.damaged_at <= len(data)


@pytest.mark.timeout(120)
@PROPERTY_SETTINGS
@given(data=any_tar_bytes)
def test_inner_walk_does_not_depend_on_piece_boundaries(data: bytes) -> None:
    """Fed whole or a byte at a time, the walker sees the same entries and the same verdict."""

    def outcome(piece: int) -> tuple[list[TarEntry], str | None]:
        entries: list[TarEntry] = []
        walker = InnerTarWalker(entries.append, check_stop=HeaderCounter(len(data)))
        try:
            for start in range(0, len(data), piece):
                walker.feed(data[start : start + piece])
            walker.finish()
        except InnerTarError:
            return entries, "damaged"
        return entries, None

    with memory_ceiling():
        whole, by_byte = outcome(max(1, len(data))), outcome(7)
    assert whole == by_byte
