"""The listing index knows which paths occur more than once, in memory and saved across a restart."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from backup_inspector.backup_format.tar_entry import EntryType, TarEntry
from backup_inspector.demo.backup_writer import ArchiveSpec, FileSpec, write_backup
from backup_inspector.inspection import archive_index
from backup_inspector.inspection.archive_index import FLUSH_ENTRIES, ArchiveIndex
from backup_inspector.inspection.backup_overview import open_backup
from backup_inspector.inspection.index_codec import KdfLimits
from backup_inspector.inspection.index_store import (
    BackupIdentity,
    IndexStore,
    identify_backup,
)
from backup_inspector.inspection.listing_job import list_entries

PASSWORD = "Düplicate pässword 9"
FAST_KDF = KdfLimits(opslimit=1, memlimit_bytes=8 * 1024 * 1024)  # keeps the tests quick
# Every kind of path the answer depends on; "implied" has no entry of its own.
PROBED_PATHS = ["notes", "notes/a.txt", "notes/link", "notes/z.txt", "implied", "missing.txt"]


def file_entry(path: str, size: int = 1) -> TarEntry:
    """A regular file entry."""
    return TarEntry(path, path, EntryType.FILE, size, 1.7e9, 0o644)


def dir_entry(path: str) -> TarEntry:
    """A directory entry, stored with a trailing slash as tar writes it."""
    return TarEntry(path, path + "/", EntryType.DIR, 0, 1.6e9, 0o700)


def finished(index: ArchiveIndex) -> ArchiveIndex:
    """The index with its listing marked complete."""
    index.finish({"ok": True})
    return index


def test_nothing_is_known_once_until_the_listing_is_complete() -> None:
    """A running listing may still meet a later copy: it answers None for every path."""
    index = ArchiveIndex("share")
    index.add(file_entry("a.txt"))
    index.add(dir_entry("d"))
    index.status_json()  # writes the batch
    assert index.occurs_once("a.txt") is None and index.occurs_once("d") is None
    assert not index.knows_duplicates
    finished(index)
    assert index.knows_duplicates
    assert index.occurs_once("a.txt") is True and index.occurs_once("d") is True


@pytest.mark.parametrize("flush_between", [False, True], ids=["same-batch", "later-batch"])
def test_a_second_copy_makes_a_path_duplicated(flush_between: bool) -> None:
    """A file or folder met twice is duplicated whether both copies share a batch or not."""
    index = ArchiveIndex("share")
    for path in ("twice.txt", "once.txt", "twice-dir"):
        index.add(dir_entry(path) if path.endswith("dir") else file_entry(path, 10))
    if flush_between:
        index.status_json()
    index.add(file_entry("twice.txt", 3))
    index.add(dir_entry("twice-dir"))
    finished(index)
    assert index.occurs_once("twice.txt") is False
    assert index.occurs_once("twice-dir") is False
    assert index.occurs_once("once.txt") is True
    assert list(index.duplicated_paths()) == ["twice-dir", "twice.txt"]


def test_copies_many_batches_apart_are_found() -> None:
    """Copies separated by more than a batch of other entries are still seen as duplicates."""
    index = ArchiveIndex("share")
    index.add(file_entry("early.txt"))
    for number in range(FLUSH_ENTRIES * 2 + 7):
        index.add(file_entry(f"filler/{number}.bin"))
    index.add(file_entry("early.txt"))
    finished(index)
    assert index.occurs_once("early.txt") is False
    assert index.occurs_once("filler/5.bin") is True
    assert list(index.duplicated_paths()) == ["early.txt"]


def test_an_implied_folder_that_gets_its_own_entry_occurs_once() -> None:
    """A folder first implied by its content, then met as an entry, is one member, not two."""
    index = finished_index_of([file_entry("p/q.txt"), dir_entry("p")])
    assert index.occurs_once("p") is True
    assert list(index.duplicated_paths()) == []


def test_paths_without_their_own_entry_are_unknown() -> None:
    """Implied folders and absent paths get None: no member to stop at."""
    index = finished_index_of([file_entry("p/q.txt")])
    assert index.occurs_once("p") is None
    assert index.occurs_once("nowhere") is None


def test_an_index_that_left_entries_out_claims_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A left-out entry may be another copy of an indexed path, so every answer is None."""
    monkeypatch.setattr(archive_index, "MAX_FOLDER_BYTES", 300)
    entries = [file_entry("kept.txt"), *(file_entry(f"f{n}/x/y/z.txt") for n in range(5))]
    index = finished_index_of(entries)
    assert index.status_json()["left_out_entries"] > 0
    assert not index.knows_duplicates
    assert index.occurs_once("kept.txt") is None


def finished_index_of(entries: list[TarEntry]) -> ArchiveIndex:
    """A complete index of the given entries."""
    index = ArchiveIndex("share")
    for entry in entries:
        index.add(entry)
    return finished(index)


# -- saved indexes -------------------------------------------------------------


@pytest.fixture
def specs(duplicate_entries: list[FileSpec]) -> list[FileSpec]:
    """Entries with "notes/a.txt" twice and a hard link between, and a folder with no entry."""
    return [*duplicate_entries, FileSpec("implied/inside.txt", content=b"x")]


def listed(
    tmp_path: Path, specs: list[FileSpec], encryption: str
) -> tuple[BackupIdentity, ArchiveIndex, str | None]:
    """A real backup of `specs`, listed by the engine: (identity, index, password)."""
    password = PASSWORD if encryption != "none" else None
    archive = ArchiveSpec("share", specs, encryption=encryption)  # type: ignore[arg-type]
    backup_path = write_backup(tmp_path / f"{encryption}.tar", [archive], password=password)
    identity = identify_backup(backup_path)
    index = ArchiveIndex("share", names_are_private=password is not None)
    check = list_entries(open_backup(backup_path), "share", password, on_entry=index.add)
    assert check.ok, check.to_json()
    index.finish(check.to_json())
    return identity, index, password


def store_in(tmp_path: Path) -> IndexStore:
    """A store in this test's data folder (a new object each time: a restarted app)."""
    return IndexStore(tmp_path / "data" / "index", remember_protected=True, kdf_limits=FAST_KDF)


@pytest.mark.parametrize("encryption", ["none", "v3"], ids=["plain", "sealed"])
def test_saved_index_keeps_the_duplicates_across_a_restart(
    tmp_path: Path, specs: list[FileSpec], encryption: str
) -> None:
    """Reopened by a new store, plain or sealed, the index answers occurs_once as before."""
    identity, index, password = listed(tmp_path, specs, encryption)
    is_protected = password is not None
    assert index.occurs_once("notes/a.txt") is False
    assert index.occurs_once("notes/z.txt") is True
    assert store_in(tmp_path).save(identity, index, is_protected=is_protected, password=password)
    stored = store_in(tmp_path).open_index(
        identity, "share", is_protected=is_protected, password=password
    )
    assert stored is not None
    for path in PROBED_PATHS:
        assert stored.occurs_once(path) == index.occurs_once(path), path


def test_sealed_duplicates_hold_no_name(tmp_path: Path, specs: list[FileSpec]) -> None:
    """The sealed index keeps the duplicated path as a keyed hash, never as its name."""
    identity, index, password = listed(tmp_path, specs, "v3")
    store = store_in(tmp_path)
    assert store.save(identity, index, is_protected=True, password=password)
    (saved,) = store.index_dir.iterdir()
    with sqlite3.connect(saved) as connection:
        keys = [bytes(key) for (key,) in connection.execute("SELECT * FROM duplicated_paths")]
    assert len(keys) == 1 and b"a.txt" not in keys[0]
    assert b"a.txt" not in saved.read_bytes()


def test_an_index_that_left_entries_out_is_saved_without_duplicates(
    tmp_path: Path, specs: list[FileSpec], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A saved index of a listing that left entries out answers None too."""
    monkeypatch.setattr(archive_index, "MAX_FOLDER_BYTES", 110)
    identity, index, _password = listed(tmp_path, specs, "none")
    assert index.status_json().get("left_out_entries")
    store = store_in(tmp_path)
    assert store.save(identity, index, is_protected=False, password=None)
    stored = store.open_index(identity, "share", is_protected=False, password=None)
    assert stored is not None
    assert [stored.occurs_once(path) for path in PROBED_PATHS] == [None] * len(PROBED_PATHS)


def saved_plain_index(
    tmp_path: Path, specs: list[FileSpec]
) -> tuple[IndexStore, BackupIdentity, Path]:
    """A saved index of the plain duplicate backup: (store, identity, its file)."""
    identity, index, _password = listed(tmp_path, specs, "none")
    store = store_in(tmp_path)
    assert store.save(identity, index, is_protected=False, password=None)
    return store, identity, store.path_for(identity, "share")


def test_an_index_saved_before_duplicates_were_kept_still_opens(
    tmp_path: Path, specs: list[FileSpec]
) -> None:
    """A file without the table (written by an older version) opens; it only cannot tell."""
    store, identity, saved = saved_plain_index(tmp_path, specs)
    with sqlite3.connect(saved) as connection:
        summary = json.loads(
            connection.execute("SELECT value FROM meta WHERE key = 'summary'").fetchone()[0]
        )
        del summary["duplicated_paths"]
        connection.execute(
            "UPDATE meta SET value = ? WHERE key = 'summary'", (json.dumps(summary).encode(),)
        )
        connection.execute("DROP TABLE duplicated_paths")
    stored = store.open_index(identity, "share", is_protected=False, password=None)
    assert stored is not None
    assert stored.entry("notes/z.txt") is not None
    assert [stored.occurs_once(path) for path in PROBED_PATHS] == [None] * len(PROBED_PATHS)


def test_an_index_that_lost_a_duplicate_is_not_used(tmp_path: Path, specs: list[FileSpec]) -> None:
    """A deleted duplicate row would let a read stop at a first copy: the file counts as damaged."""
    store, identity, saved = saved_plain_index(tmp_path, specs)
    with sqlite3.connect(saved) as connection:
        connection.execute("DELETE FROM duplicated_paths")
    assert store.open_index(identity, "share", is_protected=False, password=None) is None
