"""Property-based tests of the path rules: what may be extracted stays inside, whatever the name."""

from __future__ import annotations

import posixpath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backup_inspector.backup_format.safe_paths import (
    MAX_PATH_BYTES,
    MAX_PATH_DEPTH,
    Verdict,
    judge_entry,
    resolve_dot_components,
)
from backup_inspector.backup_format.tar_entry import EntryType, TarEntry, normalise_member_path

from .property_limits import PROPERTY_SETTINGS, memory_ceiling

components = st.sampled_from(["a", "b", "..", ".", "", "é", "C:", "\\x", "\udcff"]) | st.text(
    alphabet=st.characters(blacklist_characters="/\0", blacklist_categories=["Cs"]), max_size=12
)
short_paths = st.lists(components, max_size=40).map("/".join)
# A pattern repeated up to a few thousand levels: past MAX_PATH_DEPTH and
# MAX_PATH_BYTES on purpose, and cheap to generate.
deep_paths = st.builds(
    lambda part, levels, tail: f"{part}/" * levels + tail,
    st.sampled_from(["a", "..", ".", "", "dir", "é"]),
    st.integers(min_value=MAX_PATH_DEPTH - 2, max_value=3 * MAX_PATH_DEPTH),
    short_paths,
)
names = st.builds(
    lambda prefix, middle, suffix: prefix + middle + suffix,
    st.sampled_from(["", "/", "./", "../", "././"]),
    short_paths | deep_paths | st.builds("/".join, st.tuples(short_paths, deep_paths)),
    st.sampled_from(["", "/"]),
)
entry_types = st.sampled_from(
    [EntryType.FILE, EntryType.DIR, EntryType.SYMLINK, EntryType.HARDLINK]
)


def entry_for(raw_name: str, kind: EntryType, link: str) -> TarEntry:
    """An entry as the walker would make it from a stored name."""
    is_link = kind in (EntryType.SYMLINK, EntryType.HARDLINK)
    link = normalise_member_path(link) if kind is EntryType.HARDLINK else link
    return TarEntry(
        normalise_member_path(raw_name), raw_name, kind, 0, 0.0, 0o644, link if is_link else ""
    )


def assert_inside(parts: tuple[str, ...]) -> None:
    """Components that name a place inside the destination, within the path limits."""
    assert all(part not in ("", ".", "..") and "/" not in part for part in parts), parts[:5]
    assert len(parts) <= MAX_PATH_DEPTH
    assert len("/".join(parts).encode("utf-8", "surrogateescape")) <= MAX_PATH_BYTES


@pytest.mark.timeout(120)
@PROPERTY_SETTINGS
@given(name=names)
def test_normalising_is_idempotent_and_leaves_no_empty_or_dot_parts(name: str) -> None:
    """normalise_member_path(normalise_member_path(x)) == normalise_member_path(x), no "", "." parts."""
    with memory_ceiling():
        once = normalise_member_path(name)
        assert normalise_member_path(once) == once
    assert once == "." or all(part not in ("", ".") for part in once.split("/"))


@pytest.mark.timeout(120)
@PROPERTY_SETTINGS
@given(name=names, kind=entry_types, link=names)
def test_whatever_is_extracted_lands_inside_the_destination(
    name: str, kind: EntryType, link: str
) -> None:
    """An EXTRACT verdict always has parts (and link parts) inside the destination and the limits."""
    with memory_ceiling():
        decision = judge_entry(entry_for(name, kind, link))
    if decision.verdict is not Verdict.EXTRACT:
        assert decision.reason
        assert len(decision.reason) < 2 * MAX_PATH_BYTES + 200  # messages never quote a megabyte
        return
    assert_inside(decision.parts)
    if kind in (EntryType.SYMLINK, EntryType.HARDLINK):
        assert_inside(decision.link_parts)


@pytest.mark.timeout(120)
@PROPERTY_SETTINGS
@given(parts=st.lists(st.sampled_from(["a", "b", "..", ".", ""]), max_size=60))
def test_dot_resolution_matches_posix_normpath(parts: list[str]) -> None:
    """resolve_dot_components agrees with posixpath.normpath, and refuses what climbs above root."""
    resolved = resolve_dot_components(parts)
    depth, climbs_out = 0, False
    for part in parts:
        if part == "..":
            depth -= 1
            climbs_out = climbs_out or depth < 0
        elif part not in ("", "."):
            depth += 1
    if climbs_out:
        assert resolved is None
        return
    assert resolved is not None
    expected = posixpath.normpath("/" + "/".join(parts)).strip("/")
    assert "/".join(resolved) == expected
