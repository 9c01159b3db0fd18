"""Property tests of metadata validation (issue 9): any bytes, any JSON, only documented findings.

`parse_backup_metadata` reads a file an attacker may have written, in the
add-on's own process. Whatever it is given — deep, wide, odd types, numbers
that overflow, NaN — it must return (metadata or None, findings) whose only
code is metadata-invalid, in bounded time (Hypothesis' per-example
deadline) and bounded memory (an address-space limit while the properties
run, so a blow-up is a MemoryError that fails the test instead of the
machine).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backup_inspector.backup_format.backup_metadata import (
    MAX_METADATA_BYTES,
    BackupMetadata,
    parse_backup_metadata,
)
from backup_inspector.backup_format.findings import Finding, FindingCode
from backup_inspector.backup_format.metadata_schema import (
    MAX_ADDONS,
    MAX_FOLDERS,
    MAX_REPOSITORIES,
)

from .property_limits import PROPERTY_SETTINGS, memory_ceiling

MEMBER_NAME = "./backup.json"
MAX_MESSAGE_CHARS = 2000  # five named problems and a count, each value quoted short
HEADROOM_BYTES = 1024**3  # address space the properties may add to what the process holds


# --- strategies ---------------------------------------------------------------

# Numbers at the edges: infinities and NaN (not JSON unless spelled 1e999),
# integers beyond the float range, the largest float, negative zero.
ODD_NUMBERS = st.sampled_from(
    [float("inf"), float("-inf"), float("nan"), 10**400, -(10**400), 2**1024, 1e308, -0.0]
)
_NUMBERS = st.one_of(
    ODD_NUMBERS,
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 2, 3, -1, 1.0, 2.0]),
)
# How an infinite float is spelled: "Infinity" is not JSON (refused), but
# "1e999" is, and decodes to infinity, which int() cannot convert.
INFINITY_SPELLINGS = st.sampled_from(["Infinity", "1e999"])
_TEXTS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["full", "partial", "share", "ssl", "media", "addons/local", "homeassistant", "core"]
    ),
    st.sampled_from(["aes128", "1", "0", "true", "2026.1.0", "https://example.com/r#b", ""]),
)
_LEAVES = st.one_of(st.none(), st.booleans(), _NUMBERS, _TEXTS)
JSON_VALUES = st.recursive(
    _LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=6),
        st.dictionaries(
            st.one_of(_TEXTS, st.sampled_from(["slug", "name", "version"])), children, max_size=6
        ),
    ),
    max_leaves=40,
)
_ADDONS = st.lists(
    st.one_of(
        JSON_VALUES,
        st.fixed_dictionaries(
            {},
            optional={
                "slug": st.one_of(_TEXTS, JSON_VALUES),
                "name": st.one_of(_TEXTS, JSON_VALUES),
                "version": st.one_of(_TEXTS, _NUMBERS, JSON_VALUES),
                "size": st.one_of(_NUMBERS, JSON_VALUES),
            },
        ),
    ),
    max_size=8,
)
# Every key the schema knows, each with a plausible or an arbitrary value.
METADATA_OBJECTS = st.fixed_dictionaries(
    {},
    optional={
        "slug": st.one_of(_TEXTS, JSON_VALUES),
        "name": st.one_of(_TEXTS, JSON_VALUES),
        "date": st.one_of(
            st.sampled_from(["2026-01-02T03:04:05+00:00", "2026-13-99"]), JSON_VALUES
        ),
        "type": st.one_of(_TEXTS, JSON_VALUES),
        "version": st.one_of(_NUMBERS, _TEXTS, JSON_VALUES),
        "supervisor_version": st.one_of(_TEXTS, _NUMBERS, JSON_VALUES),
        "compressed": JSON_VALUES,
        "protected": JSON_VALUES,
        "crypto": st.one_of(_TEXTS, JSON_VALUES),
        "homeassistant": st.one_of(
            JSON_VALUES,
            st.fixed_dictionaries(
                {},
                optional={
                    "version": st.one_of(_TEXTS, _NUMBERS, JSON_VALUES),
                    "exclude_database": JSON_VALUES,
                    "size": st.one_of(_NUMBERS, JSON_VALUES),
                },
            ),
        ),
        "folders": st.one_of(st.lists(st.one_of(_TEXTS, JSON_VALUES), max_size=8), JSON_VALUES),
        "addons": st.one_of(_ADDONS, JSON_VALUES),
        "repositories": st.one_of(
            st.lists(st.one_of(_TEXTS, JSON_VALUES), max_size=6), JSON_VALUES
        ),
        "extra": JSON_VALUES,
        "docker": JSON_VALUES,
    },
)


# --- the contract -------------------------------------------------------------


def assert_documented_result(
    result: tuple[BackupMetadata | None, list[Finding]],
) -> None:
    """What parse_backup_metadata promises for any input."""
    metadata, findings = result
    assert all(isinstance(finding, Finding) for finding in findings)
    assert [finding.code for finding in findings] in ([], [FindingCode.METADATA_INVALID])
    assert all(len(finding.message) < MAX_MESSAGE_CHARS for finding in findings)
    if metadata is None:
        assert findings, "no metadata must come with a finding that says why"
        return
    assert metadata.is_valid == (not findings)
    assert len(metadata.addons) <= MAX_ADDONS
    assert len(metadata.folders) <= MAX_FOLDERS
    assert len(metadata.repositories) <= MAX_REPOSITORIES
    assert metadata.type in ("full", "partial") or not metadata.is_valid
    # What the CLI and the page do with it must work too.
    json.dumps(metadata.to_json())
    metadata.describe()


def _encode(value: Any, infinity: str = "Infinity") -> bytes:
    """JSON bytes as a writer would produce them; NaN is a bare word, infinity as `infinity`."""
    text = json.dumps(value, allow_nan=True)
    return text.replace("Infinity", infinity).encode("utf-8", "surrogatepass")


# --- properties ---------------------------------------------------------------


@PROPERTY_SETTINGS
@given(METADATA_OBJECTS, INFINITY_SPELLINGS)
def _check_metadata_objects(data: dict[str, Any], infinity: str) -> None:
    """Every schema key with a plausible or an arbitrary value."""
    assert_documented_result(parse_backup_metadata(_encode(data, infinity), MEMBER_NAME))


@PROPERTY_SETTINGS
@given(JSON_VALUES, INFINITY_SPELLINGS)
def _check_any_json_value(value: Any, infinity: str) -> None:
    """Any JSON value at the top, objects or not."""
    assert_documented_result(parse_backup_metadata(_encode(value, infinity), MEMBER_NAME))


# Where the schema expects a number or a version: each gets an odd number.
_NUMERIC_FIELDS = {
    "version": lambda data, number: data.update(version=number),
    "supervisor_version": lambda data, number: data.update(supervisor_version=number),
    "homeassistant.version": lambda data, number: data.update(homeassistant={"version": number}),
    "homeassistant.size": lambda data, number: data.update(
        homeassistant={"version": "2026.1.0", "size": number}
    ),
    "addons.size": lambda data, number: data.update(
        addons=[{"slug": "a", "name": "A", "version": "1", "size": number}]
    ),
    "addons.version": lambda data, number: data.update(
        addons=[{"slug": "a", "name": "A", "version": number}]
    ),
}


@PROPERTY_SETTINGS
@given(
    field=st.sampled_from(sorted(_NUMERIC_FIELDS)),
    number=ODD_NUMBERS,
    infinity=INFINITY_SPELLINGS,
)
def _check_odd_numbers(field: str, number: float, infinity: str) -> None:
    """An edge number where the schema expects a number or a version."""
    data: dict[str, Any] = {"slug": "a", "type": "full", "name": "n", "date": "d"}
    _NUMERIC_FIELDS[field](data, number)
    assert_documented_result(parse_backup_metadata(_encode(data, infinity), MEMBER_NAME))


@PROPERTY_SETTINGS
@given(st.binary(max_size=2000))
def _check_any_bytes(raw: bytes) -> None:
    """Bytes that are mostly not UTF-8 or not JSON."""
    assert_documented_result(parse_backup_metadata(raw, MEMBER_NAME))


@PROPERTY_SETTINGS
@given(
    key=st.sampled_from(["addons", "folders", "repositories", "extra", "name", "version"]),
    item=_LEAVES,
    count=st.integers(min_value=0, max_value=60_000),
    distinct=st.booleans(),
)
def _check_wide_values(key: str, item: Any, count: int, distinct: bool) -> None:
    """A list of up to 60 000 items (equal or distinct) under one key: linear, capped."""
    items = [f"{item}{index}" for index in range(count)] if distinct else [item] * count
    data = {"slug": "a", "type": "partial", "name": "n", "date": "d", key: items}
    raw = _encode(data)
    result = parse_backup_metadata(raw, MEMBER_NAME)
    assert_documented_result(result)
    if len(raw) > MAX_METADATA_BYTES:
        assert result[0] is None


@PROPERTY_SETTINGS
@given(
    depth=st.integers(min_value=1, max_value=200_000),
    opener=st.sampled_from(['{"a":', "[", '{"extra":', '{"addons":[']),
)
def _check_deep_nesting(depth: int, opener: str) -> None:
    """Nesting up to 200 000 deep, at the top or inside a key."""
    closer = {'{"a":': "}", "[": "]", '{"extra":': "}", '{"addons":[': "]}"}[opener]
    raw = (opener * depth + "1" + closer * depth).encode()
    assert_documented_result(parse_backup_metadata(raw, MEMBER_NAME))


PROPERTIES = {
    "metadata-objects": _check_metadata_objects,
    "any-json-value": _check_any_json_value,
    "odd-numbers": _check_odd_numbers,
    "any-bytes": _check_any_bytes,
    "wide-values": _check_wide_values,
    "deep-nesting": _check_deep_nesting,
}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", PROPERTIES)
def test_metadata_validation_property(name: str) -> None:
    """Any input gives metadata-invalid at most, within the deadline and the memory limit."""
    with memory_ceiling(HEADROOM_BYTES):
        PROPERTIES[name]()
