"""Finding a file in every backup: versions from saved indexes, grouped by content, locks named."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from backup_inspector.demo.history_folder import CONFIG_A, CONFIG_B, PASSWORD
from backup_inspector.inspection.file_history import (
    FileVersion,
    find_across_backups,
    group_histories,
)
from backup_inspector.inspection.name_pattern import NamePattern

from .conftest import new_store


def test_find_without_password_lists_versions_oldest_first_and_the_locked_backup(
    history_backups: Path, tmp_path: Path
) -> None:
    """Both eras' paths are found, oldest first; the encrypted backup is named as locked."""
    result = find_across_backups(history_backups, "configuration.yaml", store=new_store(tmp_path))
    assert [(v.slug, v.path) for v in result.versions] == [
        ("old2021", "configuration.yaml"),
        ("mid2024", "data/configuration.yaml"),
        ("new2026", "data/configuration.yaml"),
    ]
    assert [v.sha256 for v in result.versions] == [
        hashlib.sha256(data).hexdigest() for data in (CONFIG_A, CONFIG_A, CONFIG_B)
    ]
    assert [(b.slug, b.reason) for b in result.locked] == [("enc2025", "password-required")]
    assert set(result.locked[0].archives) == {"homeassistant", "share"}
    first = result.versions[0].to_json()
    assert set(first) == {
        "backup",
        "slug",
        "name",
        "date",
        "archive",
        "path",
        "size",
        "mtime",
        "sha256",
    }
    assert (first["backup"], first["name"], first["size"]) == (
        "old2021.tar",
        "Nightly 2021-03-01",
        len(CONFIG_A),
    )


def test_versions_group_by_content_across_eras_into_one_history(
    history_backups: Path, tmp_path: Path
) -> None:
    """With the password: one history, newest content first, each group with its first backup."""
    result = find_across_backups(
        history_backups, "configuration.yaml", store=new_store(tmp_path), password=PASSWORD
    )
    assert result.locked == []
    (history,) = result.histories()
    shown = history.to_json()
    assert (shown["archive"], shown["path"], shown["version_count"]) == (
        "homeassistant",
        "configuration.yaml",
        4,
    )
    assert [(g["first"]["slug"], g["unchanged_after"]) for g in shown["groups"]] == [
        ("enc2025", 1),
        ("old2021", 1),
    ]


def test_a_wrong_password_is_named_as_such(history_backups: Path, tmp_path: Path) -> None:
    """A password that does not fit locks the encrypted backup as wrong-password."""
    result = find_across_backups(
        history_backups, "*.yaml", store=new_store(tmp_path), password="nope"
    )
    assert [(b.slug, b.reason) for b in result.locked] == [("enc2025", "wrong-password")]


def test_second_search_is_answered_from_saved_indexes(
    history_backups: Path, tmp_path: Path
) -> None:
    """After one search saved the indexes, a search that may not read archives finds the same."""
    store = new_store(tmp_path)
    first = find_across_backups(history_backups, "automations.yaml", store=store)
    again = find_across_backups(
        history_backups, "AUTOMATIONS.YAML", store=store, read_missing=False
    )
    assert again.versions == first.versions
    assert len(again.versions) == 3


def test_globs_on_names_and_paths(history_backups: Path, tmp_path: Path) -> None:
    """Name globs match names, path globs match with or without the data/ prefix."""
    store = new_store(tmp_path)
    names = find_across_backups(history_backups, "*.db", store=store)
    assert [(v.slug, v.path) for v in names.versions] == [("new2026", "data/blobs/zigbee.db")]
    paths = find_across_backups(history_backups, "blobs/*", store=store)
    assert [v.path for v in paths.versions] == ["data/blobs/zigbee.db"]
    readme = find_across_backups(history_backups, "notes/read?e.txt", store=store)
    assert [v.archive for v in readme.versions] == ["share"] * 3


def test_sealed_saved_indexes_answer_once_remembered(history_backups: Path, tmp_path: Path) -> None:
    """With remember_index, the encrypted backup's sealed index answers without reading it."""
    store = new_store(tmp_path, remember=True)
    find_across_backups(history_backups, "x", store=store, password=PASSWORD)
    again = find_across_backups(
        history_backups, "configuration.yaml", store=store, password=PASSWORD, read_missing=False
    )
    assert [v.slug for v in again.versions] == ["old2021", "mid2024", "enc2025", "new2026"]


def test_unhashed_versions_never_group_together() -> None:
    """Two 'not hashed' versions of equal size stay separate groups; equal hashes merge."""

    def version(slug: str, date: str, sha: str | None) -> FileVersion:
        return FileVersion(f"{slug}.tar", slug, slug, date, "share", "a.txt", 3, 0.0, sha)

    histories = group_histories(
        [
            version("b", "2024-01-02", None),
            version("a", "2024-01-01", None),
            version("c", "2024-01-03", "ab" * 32),
            version("d", "2024-01-04", "ab" * 32),
        ]
    )
    (history,) = histories
    assert [[v.slug for v in g.versions] for g in history.groups] == [["a"], ["b"], ["c", "d"]]


def test_empty_pattern_is_refused() -> None:
    """An empty pattern is a usage error, not 'everything'."""
    with pytest.raises(ValueError):
        NamePattern("  / ")
