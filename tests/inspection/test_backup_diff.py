"""Comparing versions, archives and whole backups, and a backed-up file with today's config."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from backup_inspector.demo.history_folder import (
    AUTOMATIONS_NEW,
    CONFIG_A,
    CONFIG_B,
    PASSWORD,
)
from backup_inspector.inspection.backup_diff import diff_archive, diff_backups
from backup_inspector.inspection.backup_overview import open_backup
from backup_inspector.inspection.file_compare import (
    FileSide,
    TooLargeToCompareError,
    compare_sides,
    read_version,
)
from backup_inspector.inspection.live_config import LiveFileError, read_live_file

from .conftest import new_store


def test_text_versions_from_two_eras_give_a_unified_diff(history_backups: Path) -> None:
    """The data/ path of a current backup also finds the old backup's root-level file."""
    found_old, old = read_version(
        open_backup(history_backups / "old2021.tar"),
        "homeassistant",
        "data/configuration.yaml",
        None,
    )
    found_new, new = read_version(
        open_backup(history_backups / "new2026.tar"),
        "homeassistant",
        "data/configuration.yaml",
        None,
    )
    assert (found_old, old, found_new, new) == (
        "configuration.yaml",
        CONFIG_A,
        "data/configuration.yaml",
        CONFIG_B,
    )
    comparison = compare_sides(FileSide("old", old), FileSide("new", new))
    assert not comparison.equal and comparison.is_text
    assert comparison.diff[:2] == ["--- old", "+++ new"]
    assert "+  unit_system: metric" in comparison.diff
    assert comparison.unified_text().endswith("+  unit_system: metric\n")


def test_equal_versions_have_no_diff() -> None:
    """Equal bytes: equal, no lines, an empty unified text."""
    comparison = compare_sides(FileSide("a", CONFIG_A), FileSide("b", CONFIG_A))
    assert comparison.equal and comparison.diff == [] and comparison.unified_text() == ""


def test_binary_versions_differ_with_sizes_and_hashes() -> None:
    """Bytes with NULs or invalid UTF-8 are binary: 'differs', sizes and hashes, no diff lines."""
    comparison = compare_sides(
        FileSide("a.db", b"SQLite\0\x01"), FileSide("b.db", b"\xff\xfe\x00x")
    )
    shown = comparison.to_json()
    assert (shown["equal"], shown["kind"], shown["diff"]) == (False, "binary", [])
    assert (shown["old"]["size"], shown["new"]["size"]) == (8, 4)
    assert shown["old"]["sha256"] != shown["new"]["sha256"]
    assert comparison.unified_text().startswith("Binary files a.db and b.db differ (8 bytes")


def test_a_file_beyond_the_limit_is_refused_with_the_limit_named(history_backups: Path) -> None:
    """Too large to compare: a clear refusal, before reading its bytes."""
    with pytest.raises(TooLargeToCompareError, match="up to 10 bytes"):
        read_version(
            open_backup(history_backups / "new2026.tar"),
            "homeassistant",
            "data/configuration.yaml",
            None,
            limit=10,
        )


def test_archive_diff_lists_added_and_changed_with_sizes(
    history_backups: Path, tmp_path: Path
) -> None:
    """mid2024 → new2026: both config files changed, the database added."""
    diff = diff_archive(
        open_backup(history_backups / "mid2024.tar"),
        open_backup(history_backups / "new2026.tar"),
        "homeassistant",
        store=new_store(tmp_path),
        password=None,
    )
    assert diff.to_json() == {
        "added": [{"path": "data/blobs/zigbee.db", "size": 2048}],
        "removed": [],
        "changed": [
            {"path": "data/automations.yaml", "old_size": 33, "new_size": len(AUTOMATIONS_NEW)},
            {
                "path": "data/configuration.yaml",
                "old_size": len(CONFIG_A),
                "new_size": len(CONFIG_B),
            },
        ],
    }


def test_the_data_prefix_alone_is_no_difference(history_backups: Path, tmp_path: Path) -> None:
    """An old root-level archive and a current data/ one with the same files do not differ."""
    diff = diff_archive(
        open_backup(history_backups / "old2021.tar"),
        open_backup(history_backups / "mid2024.tar"),
        "homeassistant",
        store=new_store(tmp_path),
        password=None,
    )
    assert not diff.has_differences


def test_whole_backups_compare_per_archive_and_name_locked_ones(
    history_backups: Path, tmp_path: Path
) -> None:
    """Without the password the encrypted side's archives are locked; with it they compare."""
    old, new = (
        open_backup(history_backups / "enc2025.tar"),
        open_backup(history_backups / "new2026.tar"),
    )
    locked = diff_backups(old, new, store=new_store(tmp_path), password=None)
    assert set(locked.locked) == {"homeassistant", "share"} and locked.archives == {}
    opened = diff_backups(old, new, store=new_store(tmp_path), password=PASSWORD)
    assert opened.locked == {}
    assert opened.archives["homeassistant"].to_json()["added"] == [
        {"path": "data/blobs/zigbee.db", "size": 2048}
    ]
    assert opened.archives["homeassistant"].changed == []
    assert [c["path"] for c in opened.archives["share"].changed] == ["notes/readme.txt"]
    assert {d["field"] for d in opened.metadata} == {"protected"}
    assert opened.has_differences


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path below `folder` with its size and modification time."""
    return {
        str(path.relative_to(folder)): (path.lstat().st_size, path.lstat().st_mtime_ns)
        for path in folder.rglob("*")
    }


def test_live_config_comparison_reads_data_and_root_paths_and_writes_nothing(
    history_backups: Path, tmp_path: Path
) -> None:
    """Both era paths name the live file; traversal and links out are refused; nothing changes."""
    config = tmp_path / "homeassistant"
    config.mkdir()
    (config / "configuration.yaml").write_bytes(CONFIG_B)
    (tmp_path / "secret.txt").write_text("outside")
    os.symlink(tmp_path / "secret.txt", config / "escape.yaml")
    before = snapshot(config)
    for path in ("data/configuration.yaml", "configuration.yaml"):
        location, data = read_live_file(config, "homeassistant", path)
        assert (location, data) == ((config / "configuration.yaml").resolve(), CONFIG_B)
    _found, old = read_version(
        open_backup(history_backups / "old2021.tar"), "homeassistant", "configuration.yaml", None
    )
    assert (
        "+  unit_system: metric"
        in compare_sides(FileSide("backup", old), FileSide("today", data)).diff
    )
    for bad in ("data/../secret.txt", "data/escape.yaml", "data/missing.yaml"):
        with pytest.raises(LiveFileError):
            read_live_file(config, "homeassistant", bad)
    with pytest.raises(LiveFileError):
        read_live_file(config, "share", "notes/readme.txt")
    with pytest.raises(TooLargeToCompareError):
        read_live_file(config, "homeassistant", "configuration.yaml", limit=4)
    assert snapshot(config) == before
