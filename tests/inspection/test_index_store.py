"""The index store: saved listings reopen identical, only for the same file, never leak names."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from backup_inspector.backup_format.tar_entry import EntryType, TarEntry
from backup_inspector.demo.backup_writer import ArchiveSpec, FileSpec, files_to_specs, write_backup
from backup_inspector.inspection import index_store
from backup_inspector.inspection.archive_index import ROOT, ArchiveIndex, BrowsableIndex
from backup_inspector.inspection.backup_overview import open_backup
from backup_inspector.inspection.index_codec import KdfLimits, UnreadableRowError
from backup_inspector.inspection.index_store import (
    INDEX_SUFFIX,
    BackupIdentity,
    IndexStore,
    StoredArchiveIndex,
    identify_backup,
)
from backup_inspector.inspection.listing_job import list_entries

PASSWORD = "Ïndex pässword 7"
FAST_KDF = KdfLimits(opslimit=1, memlimit_bytes=8 * 1024 * 1024)  # keeps the tests quick

#: Names chosen to be unmistakable in a byte dump of the database.
ARCHIVE_FILES: dict[str, bytes] = {
    "Zebra-notes/alpha-secret.txt": b"a" * 10,
    "Zebra-notes/Beta-secret.txt": b"b" * 20,
    "Zebra-notes/deeper/gamma-hidden.yaml": b"g" * 30,
    "apple-orchard/delta-private.db": b"d" * 40,
    "apple-orchard/Ünïcode-näme.json": b"u" * 5,
    "top-level-epsilon.conf": b"e" * 7,
    "mixed/Case-Zeta.txt": b"z",
    "mixed/case-eta.txt": b"y",
    "mixed/CASE-theta/iota-leaf.bin": b"i" * 3,
}
SYMLINK = FileSpec("apple-orchard/kappa-link", type="symlink", link_target="delta-private.db")
IMPLIED_FOLDER_FILE = FileSpec("implied-lambda/omega-implied.txt", content=b"o" * 11)


@dataclass
class ListedArchive:
    """A real backup, the identity it had before listing, and its finished ArchiveIndex."""

    backup_path: Path
    identity: BackupIdentity
    index: ArchiveIndex


def list_into_index(backup_path: Path, password: str | None) -> ListedArchive:
    """List the 'share' archive with the real engine into a finished ArchiveIndex."""
    identity = identify_backup(backup_path)
    index = ArchiveIndex("share")
    check = list_entries(open_backup(backup_path), "share", password, on_entry=index.add)
    assert check.ok, check.to_json()
    index.finish(check.to_json())
    return ListedArchive(backup_path, identity, index)


def write_share_backup(path: Path, encryption: str, *, dot_slash: bool = False) -> Path:
    """A backup with one 'share' archive: ARCHIVE_FILES, a symlink, a folder without own entry."""
    specs = [*files_to_specs(ARCHIVE_FILES), SYMLINK, IMPLIED_FOLDER_FILE]
    archive = ArchiveSpec(
        "share",
        specs,
        encryption=encryption,  # type: ignore[arg-type]
        entry_dot_slash=dot_slash,
    )
    password = PASSWORD if encryption != "none" else None
    return write_backup(path, [archive], password=password)


@pytest.fixture
def plain_listing(tmp_path: Path) -> ListedArchive:
    """An unencrypted backup, listed."""
    return list_into_index(write_share_backup(tmp_path / "plain.tar", "none"), None)


@pytest.fixture
def sealed_listing(tmp_path: Path) -> ListedArchive:
    """A SecureTar v3 backup, listed with its password."""
    return list_into_index(write_share_backup(tmp_path / "sealed.tar", "v3"), PASSWORD)


def make_store(tmp_path: Path, *, remember_protected: bool = True, **kwargs: object) -> IndexStore:
    """A store in this test's data folder."""
    return IndexStore(
        tmp_path / "data" / "index",
        remember_protected=remember_protected,
        kdf_limits=FAST_KDF,
        **kwargs,  # type: ignore[arg-type]
    )


def every_folder(index: ArchiveIndex) -> list[str]:
    """The root and every folder of a listing."""
    folders = [ROOT]
    pending = [ROOT]
    while pending:
        page = index.folder_page(pending.pop(), 0, 10_000)
        for row in page.rows:
            if row["type"] == "dir":
                folders.append(row["path"])
                pending.append(row["path"])
    return folders


def every_path(index: ArchiveIndex) -> list[str]:
    """Every path of a listing."""
    return [item.path for item in index.export_paths()]


def assert_same_answers(memory: ArchiveIndex, stored: BrowsableIndex) -> None:
    """The stored index answers every read exactly like the memory index."""
    assert stored.status_json() == memory.status_json()
    assert stored.entry_count == memory.entry_count
    assert stored.is_complete and stored.job_id is None
    for folder in [*every_folder(memory), "no/such/folder", "top-level-epsilon.conf"]:
        assert stored.has_folder(folder) == memory.has_folder(folder), folder
        for offset, limit in ((0, 1000), (0, 2), (1, 2), (3, 100), (50, 10)):
            assert stored.folder_page(folder, offset, limit) == memory.folder_page(
                folder, offset, limit
            ), (folder, offset, limit)
    for path in [*every_path(memory), "missing.txt"]:
        assert stored.entry(path) == memory.entry(path), path
        assert stored.selection_size([path]) == memory.selection_size([path]), path
    for text in ("SECRET", "e", "ünï", "nothing-like-this"):
        assert stored.search(text, 0, 100) == memory.search(text, 0, 100), text
        assert stored.search(text, 1, 2) == memory.search(text, 1, 2), text
    for selection in (["."], ["Zebra-notes", "Zebra-notes/deeper"], ["mixed", "apple-orchard"]):
        assert stored.selection_size(selection) == memory.selection_size(selection)


def test_plain_round_trip_answers_like_the_memory_index(
    tmp_path: Path, plain_listing: ListedArchive
) -> None:
    """An unencrypted listing saved and reopened gives the same pages, entries and sizes."""
    store = make_store(tmp_path)
    assert store.save(
        plain_listing.identity, plain_listing.index, is_protected=False, password=None
    )
    stored = store.open_index(plain_listing.identity, "share", is_protected=False, password=None)
    assert isinstance(stored, StoredArchiveIndex)
    assert_same_answers(plain_listing.index, stored)


@pytest.mark.parametrize("encryption", ["none", "v2"])
def test_round_trip_keeps_stored_names_with_dot_slash(tmp_path: Path, encryption: str) -> None:
    """Entries stored as "./path" (as Home Assistant writes them) come back with that raw name."""
    password = PASSWORD if encryption != "none" else None
    backup = write_share_backup(tmp_path / "dots.tar", encryption, dot_slash=True)
    listed = list_into_index(backup, password)
    assert listed.index.entry("top-level-epsilon.conf").raw_name == "./top-level-epsilon.conf"
    store = make_store(tmp_path)
    is_protected = password is not None
    assert store.save(listed.identity, listed.index, is_protected=is_protected, password=password)
    stored = store.open_index(
        listed.identity, "share", is_protected=is_protected, password=password
    )
    assert stored is not None
    assert_same_answers(listed.index, stored)


def test_sealed_round_trip_answers_like_the_memory_index(
    tmp_path: Path, sealed_listing: ListedArchive
) -> None:
    """An encrypted backup's listing, sealed with its password, reopens identical."""
    store = make_store(tmp_path)
    listed = sealed_listing
    assert store.save(listed.identity, listed.index, is_protected=True, password=PASSWORD)
    stored = store.open_index(listed.identity, "share", is_protected=True, password=PASSWORD)
    assert stored is not None
    assert_same_answers(listed.index, stored)


def test_sealed_database_holds_no_entry_name_and_no_password(
    tmp_path: Path, sealed_listing: ListedArchive
) -> None:
    """The raw bytes of a sealed index contain no name of any entry, nor the password."""
    store = make_store(tmp_path)
    listed = sealed_listing
    assert store.save(listed.identity, listed.index, is_protected=True, password=PASSWORD)
    files = list(store.index_dir.iterdir())
    assert len(files) == 1
    raw = files[0].read_bytes()
    names = {part for path in every_path(listed.index) for part in path.split("/")}
    assert "alpha-secret.txt" in names
    for name in names | {PASSWORD, "delta-private.db", "share"}:
        for encoding in ("utf-8", "utf-16-le"):
            assert name.encode(encoding) not in raw, name
        assert name.encode("ascii", "backslashreplace") not in raw, name
    # The file name reveals nothing either: a hash.
    assert all(character in "0123456789abcdef" for character in files[0].stem)


def test_plain_database_is_readable_by_path(tmp_path: Path, plain_listing: ListedArchive) -> None:
    """An unencrypted backup's index keeps paths as keys, ranked in page order."""
    store = make_store(tmp_path)
    assert store.save(
        plain_listing.identity, plain_listing.index, is_protected=False, password=None
    )
    (database,) = store.index_dir.iterdir()
    with contextlib.closing(sqlite3.connect(database)) as connection:
        children = connection.execute(
            "SELECT path_key, rank, is_folder FROM rows WHERE parent_key = ? ORDER BY rank",
            (b"mixed",),
        ).fetchall()
    assert children == [
        (b"mixed/CASE-theta", 0, 1),
        (b"mixed/case-eta.txt", 1, 0),
        (b"mixed/Case-Zeta.txt", 2, 0),
    ]


def test_wrong_password_means_no_index(tmp_path: Path, sealed_listing: ListedArchive) -> None:
    """A sealed index asked for with another password (or none) is absent, not an error."""
    store = make_store(tmp_path)
    listed = sealed_listing
    assert store.save(listed.identity, listed.index, is_protected=True, password=PASSWORD)
    for password in ("not the password", "", None):
        assert (
            store.open_index(listed.identity, "share", is_protected=True, password=password) is None
        )
    # And the right password still opens it afterwards.
    assert store.open_index(listed.identity, "share", is_protected=True, password=PASSWORD)


def test_changed_backup_file_means_no_index(tmp_path: Path, plain_listing: ListedArchive) -> None:
    """A new mtime, or new bytes at either end under the same size and mtime, hide the index."""
    store = make_store(tmp_path)
    listed = plain_listing
    assert store.save(listed.identity, listed.index, is_protected=False, password=None)
    path = listed.backup_path
    stat = path.stat()

    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    touched = identify_backup(path)
    assert touched != listed.identity
    assert store.open_index(touched, "share", is_protected=False, password=None) is None

    with path.open("r+b") as backup_file:  # same size, same mtime, one byte differs at the end
        backup_file.seek(stat.st_size - 1)
        last = backup_file.read(1)
        backup_file.seek(stat.st_size - 1)
        backup_file.write(bytes([last[0] ^ 0xFF]))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    altered = identify_backup(path)
    assert (altered.size, altered.mtime_ns) == (listed.identity.size, listed.identity.mtime_ns)
    assert altered != listed.identity
    assert store.open_index(altered, "share", is_protected=False, password=None) is None


def test_file_changed_during_the_listing_is_not_saved(
    tmp_path: Path, plain_listing: ListedArchive
) -> None:
    """If the file's identity moved on since the listing started, nothing is written."""
    store = make_store(tmp_path)
    stat = plain_listing.backup_path.stat()
    os.utime(plain_listing.backup_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert not store.save(
        plain_listing.identity, plain_listing.index, is_protected=False, password=None
    )
    assert not store.index_dir.exists() or not any(store.index_dir.iterdir())


def test_encrypted_backup_without_remember_index_writes_nothing(
    tmp_path: Path, sealed_listing: ListedArchive
) -> None:
    """remember_index off: an encrypted backup's listing stays in memory only."""
    store = make_store(tmp_path, remember_protected=False)
    listed = sealed_listing
    assert not store.save(listed.identity, listed.index, is_protected=True, password=PASSWORD)
    assert not (tmp_path / "data").exists()
    assert store.open_index(listed.identity, "share", is_protected=True, password=PASSWORD) is None


def test_encrypted_backup_without_password_writes_nothing(
    tmp_path: Path, sealed_listing: ListedArchive
) -> None:
    """Even with remember_index on, no password means nothing to seal with: nothing is written."""
    store = make_store(tmp_path)
    assert not store.save(
        sealed_listing.identity, sealed_listing.index, is_protected=True, password=None
    )
    assert not (tmp_path / "data").exists()


def test_index_of_the_other_mode_is_not_used(tmp_path: Path, plain_listing: ListedArchive) -> None:
    """A plain index is never served for a backup that counts as protected."""
    store = make_store(tmp_path)
    listed = plain_listing
    assert store.save(listed.identity, listed.index, is_protected=False, password=None)
    assert store.open_index(listed.identity, "share", is_protected=True, password=PASSWORD) is None


def test_save_is_atomic_and_leaves_no_temp_files(
    tmp_path: Path, plain_listing: ListedArchive, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save renames a finished temp file; a failing save keeps the old file and leaves no temp."""
    store = make_store(tmp_path)
    listed = plain_listing
    assert store.save(listed.identity, listed.index, is_protected=False, password=None)
    assert [path.suffix for path in store.index_dir.iterdir()] == [INDEX_SUFFIX]
    (database,) = store.index_dir.iterdir()
    before = database.read_bytes()

    def fail_half_way(*args: object) -> None:
        temp_path = args[0]
        assert isinstance(temp_path, Path) and temp_path.parent == store.index_dir
        temp_path.write_bytes(b"half a database")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "_write_database", fail_half_way)
    assert not store.save(listed.identity, listed.index, is_protected=False, password=None)
    assert list(store.index_dir.iterdir()) == [database]
    assert database.read_bytes() == before


def test_unwritable_data_folder_is_logged_without_names(
    tmp_path: Path, sealed_listing: ListedArchive, caplog: pytest.LogCaptureFixture
) -> None:
    """When the index folder cannot be created, saving fails quietly and logs no private text."""
    blocker = tmp_path / "data"
    blocker.write_bytes(b"a file where the data folder should be")
    store = make_store(tmp_path)
    listed = sealed_listing
    with caplog.at_level(logging.DEBUG):
        assert not store.save(listed.identity, listed.index, is_protected=True, password=PASSWORD)
    assert caplog.records
    for name in [*every_path(listed.index), PASSWORD, listed.backup_path.name]:
        assert name not in caplog.text


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda raw: b"not a database at all" * 100, id="garbage"),
        pytest.param(lambda raw: raw[: len(raw) // 3], id="truncated"),
        pytest.param(lambda raw: raw[:4096] + bytes(len(raw) - 4096), id="zeroed"),
        pytest.param(lambda raw: b"", id="empty"),
    ],
)
def test_damaged_database_counts_as_absent(
    tmp_path: Path, plain_listing: ListedArchive, damage, caplog: pytest.LogCaptureFixture
) -> None:
    """A damaged index file is no index: the archive is read again, no error reaches the page."""
    store = make_store(tmp_path)
    listed = plain_listing
    assert store.save(listed.identity, listed.index, is_protected=False, password=None)
    (database,) = store.index_dir.iterdir()
    database.write_bytes(damage(database.read_bytes()))
    with caplog.at_level(logging.WARNING):
        assert store.open_index(listed.identity, "share", is_protected=False, password=None) is None
    # Saving again replaces the damaged file.
    assert store.save(listed.identity, listed.index, is_protected=False, password=None)
    assert store.open_index(listed.identity, "share", is_protected=False, password=None)


def test_tampered_sealed_row_is_refused(tmp_path: Path, sealed_listing: ListedArchive) -> None:
    """Rows of a sealed index are authenticated: a swapped row does not decrypt."""
    store = make_store(tmp_path)
    listed = sealed_listing
    assert store.save(listed.identity, listed.index, is_protected=True, password=PASSWORD)
    (database,) = store.index_dir.iterdir()
    with contextlib.closing(sqlite3.connect(database)) as connection, connection:
        (first, second) = connection.execute(
            "SELECT path_key, row FROM rows ORDER BY path_key LIMIT 2"
        ).fetchall()
        connection.execute("UPDATE rows SET row = ? WHERE path_key = ?", (second[1], first[0]))
    stored = store.open_index(listed.identity, "share", is_protected=True, password=PASSWORD)
    assert stored is not None
    with pytest.raises(UnreadableRowError):
        stored.search("", 0, 1000)


def saved_size(tmp_path: Path, listed: ListedArchive, password: str | None) -> int:
    """The file size of this listing's saved index (saved into a scratch store)."""
    store = make_store(tmp_path / "probe" / str(password))
    assert store.save(listed.identity, listed.index, is_protected=bool(password), password=password)
    return store.path_for(listed.identity, "share").stat().st_size


def test_size_cap_drops_the_least_recently_used(
    tmp_path: Path, plain_listing: ListedArchive, sealed_listing: ListedArchive
) -> None:
    """Over the size cap, older indexes go first; the one just saved always stays."""
    sizes = [
        saved_size(tmp_path, plain_listing, None),
        saved_size(tmp_path, sealed_listing, PASSWORD),
    ]
    store = make_store(tmp_path, max_total_bytes=max(sizes) + min(sizes) // 2)  # room for one
    assert store.save(
        plain_listing.identity, plain_listing.index, is_protected=False, password=None
    )
    first = store.path_for(plain_listing.identity, "share")
    os.utime(first, (1_000_000, 1_000_000))  # long unused
    assert store.save(
        sealed_listing.identity, sealed_listing.index, is_protected=True, password=PASSWORD
    )
    assert not first.exists()
    assert store.path_for(sealed_listing.identity, "share").exists()


def test_listing_larger_than_the_cap_is_not_saved_and_says_so(
    tmp_path: Path, plain_listing: ListedArchive, caplog: pytest.LogCaptureFixture
) -> None:
    """A listing whose file alone passes the cap is not written; the log tells why."""
    size = saved_size(tmp_path, plain_listing, None)
    store = make_store(tmp_path, max_total_bytes=size - 1)
    with caplog.at_level(logging.WARNING):
        assert not store.save(
            plain_listing.identity, plain_listing.index, is_protected=False, password=None
        )
    assert list(store.index_dir.iterdir()) == []  # no index, no temp file
    assert "16 entries" in caplog.text and "not saved" in caplog.text
    assert (
        store.open_index(plain_listing.identity, "share", is_protected=False, password=None) is None
    )


def test_stored_index_serves_several_threads(tmp_path: Path, plain_listing: ListedArchive) -> None:
    """Concurrent readers on one stored index all get correct pages."""
    store = make_store(tmp_path)
    listed = plain_listing
    assert store.save(listed.identity, listed.index, is_protected=False, password=None)
    stored = store.open_index(listed.identity, "share", is_protected=False, password=None)
    assert stored is not None
    expected = {
        folder: listed.index.folder_page(folder, 0, 100) for folder in every_folder(listed.index)
    }
    failures: list[str] = []

    def read_many() -> None:
        for _round in range(50):
            for folder, page in expected.items():
                if stored.folder_page(folder, 0, 100) != page:
                    failures.append(folder)

    threads = [threading.Thread(target=read_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_export_ranks_follow_folder_page_order(plain_listing: ListedArchive) -> None:
    """export_paths gives each path once, ranked as folder_page orders its siblings."""
    index = plain_listing.index
    exported = list(index.export_paths())
    assert len({item.path for item in exported}) == len(exported)
    for folder in every_folder(index):
        page = index.folder_page(folder, 0, 1000)
        siblings = sorted(
            (item for item in exported if item.parent == folder), key=lambda i: i.rank
        )
        assert [item.row for item in siblings] == page.rows


def test_large_folder_pages_match_at_every_boundary(
    tmp_path: Path, plain_listing: ListedArchive
) -> None:
    """In a folder of 3 000 children, stored pages equal memory pages at any offset."""
    index = ArchiveIndex("share")
    for number in range(3000):
        kind = EntryType.DIR if number % 7 == 0 else EntryType.FILE
        path = f"big/Item-{(number * 7919) % 3000:04d}"
        index.add(TarEntry(path, "./" + path, kind, number, 1_700_000_000.5, 0o644))
    index.finish({"ok": True})
    store = make_store(tmp_path)
    identity = plain_listing.identity  # any identity of a real file will do
    assert store.save(identity, index, is_protected=False, password=None)
    stored = store.open_index(identity, "share", is_protected=False, password=None)
    assert stored is not None
    for offset, limit in ((0, 200), (199, 2), (428, 1000), (2999, 5), (3000, 10), (9000, 1)):
        assert stored.folder_page("big", offset, limit) == index.folder_page("big", offset, limit)


def test_sealed_indexes_are_removed_when_remember_index_is_off(
    tmp_path: Path, plain_listing: ListedArchive, sealed_listing: ListedArchive
) -> None:
    """remember_index off: sealed and unreadable listings are removed, plain ones stay."""
    remembering = make_store(tmp_path)
    assert remembering.save(
        plain_listing.identity, plain_listing.index, is_protected=False, password=None
    )
    assert remembering.save(
        sealed_listing.identity, sealed_listing.index, is_protected=True, password=PASSWORD
    )
    (remembering.index_dir / ("0" * 64 + INDEX_SUFFIX)).write_bytes(b"junk" * 1000)
    forgetting = make_store(tmp_path, remember_protected=False)
    assert forgetting.remove_sealed_indexes() == 2
    assert list(forgetting.index_dir.iterdir()) == [
        forgetting.path_for(plain_listing.identity, "share")
    ]
    assert forgetting.open_index(plain_listing.identity, "share", is_protected=False, password=None)


def test_sealed_search_pages_a_window_of_matches_and_counts_them_all(
    tmp_path: Path, sealed_listing: ListedArchive, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sealed search keeps only the first matches by path; later pages are empty, not wrong."""
    monkeypatch.setattr(index_store, "SEALED_SEARCH_WINDOW", 3)
    listed = sealed_listing
    store = make_store(tmp_path)
    assert store.save(listed.identity, listed.index, is_protected=True, password=PASSWORD)
    stored = store.open_index(listed.identity, "share", is_protected=True, password=PASSWORD)
    assert stored is not None
    everything = listed.index.search("e", 0, 100)
    assert everything.total > 4 and everything.pageable is None
    first = stored.search("e", 0, 2)
    assert (first.rows, first.total, first.pageable) == (everything.rows[:2], everything.total, 3)
    assert stored.search("e", 2, 2).rows == everything.rows[2:3]  # the window ends at 3
    assert stored.search("e", 4, 2).rows == []
    assert stored.search("e", 4, 2).total == everything.total
