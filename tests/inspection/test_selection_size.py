"""Extract plans: which selected paths count, and in time linear in the selection."""

from __future__ import annotations

import pytest

from backup_inspector.backup_format.tar_entry import EntryType, TarEntry
from backup_inspector.inspection.archive_index import ArchiveIndex, outermost_paths
from backup_inspector.inspection.extract_writer import prefixes_of_lengths


def file_entry(path: str, size: int) -> TarEntry:
    """A regular-file entry of `size` bytes."""
    return TarEntry(path, path, EntryType.FILE, size, 0.0, 0o644)


def test_outermost_paths_drop_contained_and_repeated_paths() -> None:
    """A path inside another selected path, or selected twice, counts once."""
    paths = ["a/b", "a", "a-c", "a/b/c", "a-c", "b/x", "b/xy"]
    assert outermost_paths(paths) == ["a", "a-c", "b/x", "b/xy"]


def test_root_contains_everything() -> None:
    """Selecting the archive root makes every other path redundant."""
    assert outermost_paths(["x/y", ".", "z"]) == ["."]
    assert outermost_paths(["x", ""]) == ["."]


def test_overlapping_selection_is_counted_once() -> None:
    """A folder and a file inside it are not counted twice."""
    index = ArchiveIndex("share")
    index.add(file_entry("d/one", 10))
    index.add(file_entry("d/two", 5))
    index.add(file_entry("e", 7))
    assert index.selection_size(["d", "d/one", "e"]) == (22, 3)
    assert index.selection_size([".", "d"]) == (22, 3)


@pytest.mark.timeout(60)
def test_plan_of_200000_paths_is_linear() -> None:
    """200 000 selected sibling files are summed in seconds (pairwise comparison takes hours)."""
    count = 200_000
    index = ArchiveIndex("share")
    paths = [f"folder/file{number:06d}" for number in range(count)]
    for path in paths:
        index.add(file_entry(path, 3))
    assert index.selection_size(paths) == (3 * count, count)


def test_only_ancestors_as_long_as_a_selected_path_are_looked_up() -> None:
    """The entry and its folders come out only when some selected path has their length."""
    assert list(prefixes_of_lengths("a/bc/d", {1, 4, 6})) == ["a", "a/bc", "a/bc/d"]
    assert list(prefixes_of_lengths("a/bc/d", {2, 3})) == []
    assert list(prefixes_of_lengths("abc", {3})) == ["abc"]
