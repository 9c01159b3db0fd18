"""SHA-256 per regular file: listings and full checks hash what they read, saved indexes keep it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from backup_inspector.backup_format.tar_entry import EntryType, TarEntry
from backup_inspector.demo.backup_writer import ArchiveSpec, files_to_specs, write_backup
from backup_inspector.inspection import archive_index
from backup_inspector.inspection.archive_index import ROOT, ArchiveIndex
from backup_inspector.inspection.backup_overview import open_backup
from backup_inspector.inspection.check_job import full_check
from backup_inspector.inspection.content_hash import HashingSink, joined_sink
from backup_inspector.inspection.index_codec import KdfLimits
from backup_inspector.inspection.index_store import IndexStore, identify_backup
from backup_inspector.inspection.listing_job import list_entries

PASSWORD = "hash pässword"
FAST_KDF = KdfLimits(opslimit=1, memlimit_bytes=8 * 1024 * 1024)
FILES = {
    "config/automations.yaml": b"- alias: porch light\n",
    "config/empty.txt": b"",
    "config/big.bin": bytes(range(256)) * 4000,
}


def sha(data: bytes) -> str:
    """The hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def file_entry(path: str, size: int) -> TarEntry:
    """A regular file entry."""
    return TarEntry(path, path, EntryType.FILE, size, 1.7e9, 0o644)


def feed(sink: object, data: bytes) -> None:
    """Write `data` to a sink in two pieces and close it."""
    assert isinstance(sink, HashingSink)
    sink.write(data[:3])
    sink.write(memoryview(data)[3:])
    sink.close()


def rows_by_path(index: ArchiveIndex, folder: str) -> dict[str, dict[str, object]]:
    """The page rows of one folder, by path."""
    return {row["path"]: row for row in index.folder_page(folder, 0, 100).rows}


def test_index_row_gets_the_digest_of_the_bytes_its_sink_saw() -> None:
    """A file's row carries the SHA-256 of the data fed to the sink add() returned."""
    index = ArchiveIndex("share")
    feed(index.add(file_entry("a/x.txt", 5)), b"hello")
    assert rows_by_path(index, "a")["a/x.txt"]["sha256"] == sha(b"hello")


def test_a_file_whose_bytes_were_not_read_is_not_hashed() -> None:
    """A header-only walk (sink dropped) or a broken-off file leaves sha256 None, never a guess."""
    index = ArchiveIndex("share")
    index.add(file_entry("a/header-only.txt", 5))
    sink = index.add(file_entry("a/broken.txt", 5))
    assert isinstance(sink, HashingSink)
    sink.write(b"he")
    sink.abort()
    rows = rows_by_path(index, "a")
    assert rows["a/header-only.txt"]["sha256"] is None
    assert rows["a/broken.txt"]["sha256"] is None


def test_a_path_stored_twice_keeps_the_hash_of_its_last_copy_only() -> None:
    """Tar's last copy wins, and so does its hash; an unread last copy is not hashed."""
    index = ArchiveIndex("share")
    feed(index.add(file_entry("x.txt", 5)), b"first")
    index.status_json()  # writes the batch: the second copy replaces a stored row
    feed(index.add(file_entry("x.txt", 6)), b"second")
    assert rows_by_path(index, ROOT)["x.txt"]["sha256"] == sha(b"second")
    index.add(file_entry("x.txt", 5))  # a third copy, its bytes not read
    assert rows_by_path(index, ROOT)["x.txt"]["sha256"] is None


def test_folders_and_links_carry_no_hash() -> None:
    """Only regular files are hashed: add() gives no sink for a folder or link."""
    index = ArchiveIndex("share")
    assert index.add(TarEntry("d", "d/", EntryType.DIR, 0, 1.7e9, 0o755)) is None
    link = TarEntry("d/l", "d/l", EntryType.SYMLINK, 0, 1.7e9, 0o777, "x")
    assert index.add(link) is None
    assert "sha256" not in rows_by_path(index, "d")["d/l"]
    assert "sha256" not in rows_by_path(index, ROOT)["d"]


def test_joined_sink_feeds_every_sink() -> None:
    """A full check's restore watch and the listing hash both see the bytes."""
    seen: list[str | None] = []
    first, second = HashingSink(seen.append), HashingSink(seen.append)
    joined = joined_sink(None, first, second)
    assert joined is not None
    joined.write(b"abc")
    joined.close()
    assert seen == [sha(b"abc"), sha(b"abc")]
    assert joined_sink(None, first) is first
    assert joined_sink(None, None) is None


def write_share(tmp_path: Path, encryption: str) -> Path:
    """A backup whose 'share' archive holds FILES."""
    archive = ArchiveSpec("share", files_to_specs(FILES), encryption=encryption)  # type: ignore[arg-type]
    password = PASSWORD if encryption != "none" else None
    return write_backup(tmp_path / f"{encryption}.tar", [archive], password=password)


@pytest.mark.parametrize("encryption", ["none", "v3"])
def test_listing_and_full_check_hash_every_file(tmp_path: Path, encryption: str) -> None:
    """Both a listing and a full check's listing give each file the hash of its content."""
    backup = write_share(tmp_path, encryption)
    password = PASSWORD if encryption != "none" else None
    listed = ArchiveIndex("share")
    assert list_entries(open_backup(backup), "share", password, on_entry=listed.add).ok
    checked = ArchiveIndex("share")
    report = full_check(
        open_backup(backup), password, on_archive_entries=lambda _archive: checked.add
    )
    assert report.ok
    for index in (listed, checked):
        rows = rows_by_path(index, "config")
        assert {path: rows[path]["sha256"] for path in FILES} == {
            path: sha(data) for path, data in FILES.items()
        }


@pytest.mark.parametrize("encryption", ["none", "v3"])
def test_saved_index_keeps_hashes_sealed_when_encrypted(tmp_path: Path, encryption: str) -> None:
    """A saved index reopens with every hash; a sealed one holds no digest in the clear."""
    backup = write_share(tmp_path, encryption)
    password = PASSWORD if encryption != "none" else None
    identity = identify_backup(backup)
    index = ArchiveIndex("share", names_are_private=password is not None)
    check = list_entries(open_backup(backup), "share", password, on_entry=index.add)
    index.finish(check.to_json())
    store = IndexStore(tmp_path / "index", remember_protected=True, kdf_limits=FAST_KDF)
    is_protected = password is not None
    assert store.save(identity, index, is_protected=is_protected, password=password)
    stored = store.open_index(identity, "share", is_protected=is_protected, password=password)
    assert stored is not None
    rows = {row["path"]: row for row in stored.folder_page("config", 0, 100).rows}
    assert {path: rows[path]["sha256"] for path in FILES} == {
        path: sha(data) for path, data in FILES.items()
    }
    raw = store.path_for(identity, "share").read_bytes()
    digest_in_clear = sha(FILES["config/automations.yaml"]).encode() in raw
    assert digest_in_clear is (not is_protected)


def test_files_over_the_hashing_limit_are_not_hashed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file larger than MAX_HASHED_FILE_BYTES gets no sink and no digest: "not hashed"."""
    monkeypatch.setattr(archive_index, "MAX_HASHED_FILE_BYTES", 5)
    index = ArchiveIndex("share")
    feed(index.add(file_entry("a/small.txt", 5)), b"hello")
    assert index.add(file_entry("a/large.bin", 6)) is None
    rows = rows_by_path(index, "a")
    assert rows["a/small.txt"]["sha256"] == sha(b"hello")
    assert rows["a/large.bin"]["sha256"] is None
