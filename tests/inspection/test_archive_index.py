"""The listing index: entries written to its database in batches add up as if kept in memory."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from backup_inspector.backup_format.tar_entry import EntryType, TarEntry
from backup_inspector.inspection import archive_index
from backup_inspector.inspection.archive_index import FLUSH_ENTRIES, ROOT, ArchiveIndex


def file_entry(path: str, size: int) -> TarEntry:
    """A regular file entry."""
    return TarEntry(path, path, EntryType.FILE, size, 1.7e9, 0o644)


def dir_entry(path: str) -> TarEntry:
    """A directory entry, stored with a trailing slash as tar writes it."""
    return TarEntry(path, path + "/", EntryType.DIR, 0, 1.6e9, 0o700)


def row_of(index: ArchiveIndex, folder: str, name: str) -> dict[str, object]:
    """The page row of `name` in `folder`."""
    rows = index.folder_page(folder, 0, 1000).rows
    return next(row for row in rows if row["name"] == name)


def test_a_file_replaced_in_a_later_batch_counts_once_with_its_last_size() -> None:
    """Tar's last copy wins: the earlier copy's size leaves every folder total above it."""
    index = ArchiveIndex("share")
    index.add(file_entry("a/b/x.bin", 10))
    assert index.status_json()["total_size"] == 10  # reading writes the batch
    index.add(file_entry("a/b/x.bin", 3))
    status = index.status_json()
    assert (status["entry_count"], status["file_count"], status["total_size"]) == (1, 1, 3)
    assert row_of(index, ROOT, "a")["size"] == 3
    assert row_of(index, "a", "b") | {"mtime": None} == {
        "path": "a/b",
        "type": "dir",
        "size": 3,
        "mtime": None,
        "mode": None,
        "link": "",
        "name": "b",
        "file_count": 1,
        "child_count": 1,
    }


def test_a_folder_entry_after_its_content_keeps_totals_and_gains_its_own_fields() -> None:
    """An implied folder that later gets its own entry keeps its totals and child count."""
    index = ArchiveIndex("share")
    index.add(file_entry("p/q/f.txt", 5))
    assert index.has_folder("p/q")
    index.add(dir_entry("p"))
    row = row_of(index, ROOT, "p")
    assert (row["mode"], row["size"], row["child_count"], row["file_count"]) == (0o700, 5, 1, 1)
    assert index.entry("p") == dir_entry("p")
    assert index.entry("p/q") is None  # implied only
    assert index.status_json()["entry_count"] == 2
    assert index.folder_page(ROOT, 0, 10).total == 1


def test_a_file_that_gains_children_is_listed_as_a_folder_first() -> None:
    """A path with children is a folder (sorted first) even if its own entry is a file."""
    index = ArchiveIndex("share")
    index.add(file_entry("zz", 1))
    index.add(file_entry("aa", 1))
    assert [row["name"] for row in index.folder_page(ROOT, 0, 10).rows] == ["aa", "zz"]
    index.add(file_entry("zz/inner", 2))
    assert [row["name"] for row in index.folder_page(ROOT, 0, 10).rows] == ["zz", "aa"]
    assert index.has_folder("zz") and not index.has_folder("aa")


def test_many_batches_page_search_and_export_like_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries over several batches: pages, search and export agree; no temp file stays."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    index = ArchiveIndex("share")
    count = FLUSH_ENTRIES * 3 + 7
    for number in reversed(range(count)):
        index.add(file_entry(f"big/F{number:05d}.dat", number))
    index.finish({"ok": True})
    assert list(tmp_path.iterdir()) == []  # the database file is unlinked while open
    page = index.folder_page("big", count - 3, 10)
    assert page.total == count
    assert [row["name"] for row in page.rows] == [f"F{n:05d}.dat" for n in range(count - 3, count)]
    assert index.search("f0000", 0, 100).total == 10
    assert index.selection_size(["big", "big/F00002.dat"]) == (sum(range(count)), count)
    exported = list(index.export_paths())
    assert [item.rank for item in exported if item.parent == "big"] == list(range(count))
    assert [item.path for item in exported][:2] == ["big", "big/F00000.dat"]


def test_sizes_and_times_past_64_bits_are_listed_not_fatal() -> None:
    """A damaged header's impossible size or time is listed as a float, and totals still add."""
    index = ArchiveIndex("share")
    index.add(TarEntry("huge.bin", "huge.bin", EntryType.FILE, 2**70, 10**400, 0o644))
    index.add(file_entry("small.txt", 5))
    (row,) = [row for row in index.folder_page(ROOT, 0, 10).rows if row["name"] == "huge.bin"]
    assert (row["size"], row["mtime"]) == (float(2**70), float("inf"))
    assert index.status_json()["total_size"] == float(2**70) + 5


def test_names_of_an_encrypted_archive_never_go_to_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A private index spills nowhere: no file is created in the temp folder, even past a flush."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    private = ArchiveIndex("homeassistant", names_are_private=True)
    opened = []
    monkeypatch.setattr(archive_index, "_open_spill_database", lambda: opened.append(1))
    for number in range(archive_index.FLUSH_ENTRIES * 2 + 1):
        path = f"data/secret-{number}.yaml"
        private.add(TarEntry(path, path, EntryType.FILE, 1, 0.0, 0o644))
    assert private.status_json()["entry_count"] == archive_index.FLUSH_ENTRIES * 2 + 1
    assert private.search("secret-4000.yaml", 0, 10).total == 1
    assert opened == []
    assert list(tmp_path.iterdir()) == []
