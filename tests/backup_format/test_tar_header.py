"""The tar header parser: strict numbers, sizes that always move a walk forward, sane times, bounded PAX."""

from __future__ import annotations

import json
import math

import pytest

from backup_inspector.backup_format.tar_header import (
    MAX_MEMBER_SIZE,
    MAX_MTIME,
    MAX_PAX_KEYS,
    MAX_PENDING_PAX_BYTES,
    MIN_MTIME,
    PAX_GLOBAL_TYPE,
    PAX_HEADER_TYPE,
    PendingOverrides,
    TarHeaderError,
    parse_header_block,
    parse_number,
    parse_pax_records,
)
from backup_inspector.demo.hostile_tar import base256_field, header_block, pax_data


@pytest.mark.parametrize(
    "field",
    [
        b"-0000001\0",
        b"+0000001\0",
        b"0o17\0",
        b"1_000\0",
        b"0000009\0",
        b"12 34\0",
        b"\x81" + bytes(11),
    ],
)
def test_number_fields_are_read_strictly(field: bytes) -> None:
    """A sign, a prefix, "_", a non-octal digit or an unknown base-256 marker is invalid, not a number."""
    with pytest.raises(TarHeaderError):
        parse_number(field)


def test_ordinary_number_fields_still_parse() -> None:
    """Octal with NUL or spaces, blank fields and GNU base-256 read as before."""
    assert parse_number(b"0000644\0") == 0o644
    assert parse_number(b"   644 \0") == 0o644
    assert parse_number(b"\0" * 8) == 0
    assert parse_number(base256_field(8 << 30)) == 8 << 30
    assert parse_number(base256_field(-512)) == -512


@pytest.mark.parametrize(
    "size",
    [base256_field(-512), base256_field(1 << 80), b"-0000001536\0"],
    ids=["base256-negative", "base256-overflow", "octal-negative"],
)
def test_impossible_sizes_are_header_errors(size: bytes) -> None:
    """A negative or beyond-64-bit size is refused where the header is parsed (finding 1)."""
    with pytest.raises(TarHeaderError):
        parse_header_block(header_block("f", size=size))


def test_largest_believable_size_is_accepted() -> None:
    """Base-256 sizes up to a signed 64-bit offset are real (8 GiB and larger databases)."""
    assert parse_header_block(header_block("f", size=base256_field(MAX_MEMBER_SIZE))).size == (
        MAX_MEMBER_SIZE
    )


@pytest.mark.parametrize("value", ["-1536", "1e3", " 12", "1_0", "٣", "0x10", "", "9" * 40])
def test_pax_size_must_be_plain_decimal(value: str) -> None:
    """A PAX size that is negative, not decimal ASCII or beyond 64 bits is refused (findings 1, 2)."""
    overrides = PendingOverrides()
    overrides.absorb(PAX_HEADER_TYPE, pax_data([("size", value)]))
    with pytest.raises(TarHeaderError):
        overrides.apply(parse_header_block(header_block("f")))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("nan", MIN_MTIME),
        ("inf", MAX_MTIME),
        ("-inf", MIN_MTIME),
        ("1e400", MAX_MTIME),
        ("-5", MIN_MTIME),
        ("1700000000.5", 1_700_000_000.5),
        ("garbage", 1_700_000_000.0),
    ],
)
def test_pax_mtime_is_clamped_to_a_showable_time(value: str, expected: float) -> None:
    """NaN, infinities and far-off PAX times become times JSON and datetime can hold (finding 12)."""
    overrides = PendingOverrides()
    overrides.absorb(PAX_HEADER_TYPE, pax_data([("mtime", value)]))
    header, _records = overrides.apply(parse_header_block(header_block("f", mtime=1_700_000_000)))
    assert header.mtime == expected
    json.dumps(header.mtime, allow_nan=False)


def test_base256_mtime_is_clamped() -> None:
    """A 2**80 or negative base-256 mtime is clamped where it is parsed (finding 12)."""
    huge = parse_header_block(header_block("f", mtime=base256_field(1 << 80)))
    early = parse_header_block(header_block("f", mtime=base256_field(-(1 << 80))))
    assert (huge.mtime, early.mtime) == (MAX_MTIME, MIN_MTIME)
    assert not math.isinf(huge.mtime)


def test_pax_header_with_too_many_keys_is_refused() -> None:
    """One extended header with more than MAX_PAX_KEYS keys is damage, not data (finding 11)."""
    data = pax_data((f"k{n}", "v") for n in range(MAX_PAX_KEYS + 1))
    with pytest.raises(TarHeaderError, match="keys"):
        parse_pax_records(data)


def test_global_headers_cannot_add_up_past_the_caps() -> None:
    """Several global headers together are capped in keys and in bytes."""
    overrides = PendingOverrides()
    half = MAX_PAX_KEYS // 2 + 1
    overrides.absorb(PAX_GLOBAL_TYPE, pax_data((f"a{n}", "v") for n in range(half)))
    with pytest.raises(TarHeaderError, match="keys"):
        overrides.absorb(PAX_GLOBAL_TYPE, pax_data((f"b{n}", "v") for n in range(half)))
    big = "x" * (MAX_PENDING_PAX_BYTES // 2)
    overrides = PendingOverrides()
    overrides.absorb(PAX_HEADER_TYPE, pax_data([("comment", big)]))
    with pytest.raises(TarHeaderError, match="bytes"):
        overrides.absorb(PAX_HEADER_TYPE, pax_data([("other", big)]))


def test_global_records_are_shared_by_members_not_copied() -> None:
    """Every member sees the global records, through one shared dict rather than a copy each."""
    overrides = PendingOverrides()
    overrides.absorb(PAX_GLOBAL_TYPE, pax_data([("mtime", "1234"), ("_securetar.x", "1")]))
    seen = []
    for name in ("a", "b"):
        overrides.absorb(PAX_HEADER_TYPE, pax_data([("path", f"long/{name}")]))
        header, records = overrides.apply(parse_header_block(header_block(name)))
        seen.append((header.name, header.mtime, records["_securetar.x"], records["path"]))
        assert any(part is overrides.global_pax for part in getattr(records, "maps", ()))
    assert seen == [("long/a", 1234.0, "1", "long/a"), ("long/b", 1234.0, "1", "long/b")]


@pytest.mark.parametrize("data", [b"x 1=2\n", b"3 a=b\n", b"99 a=b\n", b"-5 a=b\n", b"5 ab\n"])
def test_malformed_pax_records_are_refused(data: bytes) -> None:
    """A record whose length is not a positive decimal that fits, or has no "=", is damage."""
    with pytest.raises(TarHeaderError):
        parse_pax_records(data)
