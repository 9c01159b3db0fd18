"""read_entry stops at a file a complete listing knows as the only copy; else the last copy wins."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from backup_inspector.demo.backup_writer import (
    ArchiveSpec,
    FileSpec,
    random_content,
    write_backup,
)
from backup_inspector.demo.corruption import flip_byte, member_location
from backup_inspector.inspection.archive_index import ArchiveIndex
from backup_inspector.inspection.archive_walk import EntryNotFoundError
from backup_inspector.inspection.backup_overview import BackupOverview, open_backup
from backup_inspector.inspection.extract_job import ReadEntryError, read_entry
from backup_inspector.inspection.listing_job import list_entries
from backup_inspector.inspection.progress import Progress

from .test_duplicates_and_link_chains import count_walks
from .test_extract_job import CollectingSink

PASSWORD = "Lärge pässword 16"
BIG_BYTES = 16 * 1024 * 1024  # incompressible, so the archive is at least this large
# What one walk may read past the member it stops at: 1 MiB raw chunks, and the
# read-ahead thread a few pieces ahead (measured: 2 to 4 MiB).
READ_AHEAD_BYTES = 5 * 1024 * 1024
CONFIGURATION = b"homeassistant:\n  name: Home\n"
FIRST_NOTE = b"first copy of the note, longer than the last\n"
LAST_NOTE = b"last copy\n"


def large_archive_specs() -> list[FileSpec]:
    """Small files (one duplicated, one hard link) at the start, then a big file, then one more."""
    return [
        FileSpec("configuration.yaml", content=CONFIGURATION),
        FileSpec("notes", type="dir"),
        FileSpec("notes/a.txt", content=FIRST_NOTE),
        FileSpec("notes/link", type="hardlink", link_target="notes/a.txt"),
        FileSpec("notes/a.txt", content=LAST_NOTE),
        FileSpec("big.bin", size=BIG_BYTES, generator=random_content("big")),
        FileSpec("tail.txt", content=b"the end\n"),
    ]


@pytest.fixture(scope="module")
def large_backups(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Encryption -> the large archive's backup, written once (tests only read it)."""
    folder = tmp_path_factory.mktemp("large-archives")
    return {
        encryption: write_backup(
            folder / f"large-{encryption}.tar",
            [ArchiveSpec("share", large_archive_specs(), encryption=encryption)],
            password=None if encryption == "none" else PASSWORD,
        )
        for encryption in ("none", "v3")
    }


@pytest.fixture(params=["none", "v3"])
def large_backup(
    request: pytest.FixtureRequest, large_backups: dict[str, Path]
) -> tuple[BackupOverview, str | None]:
    """(the large archive's backup, its password), unencrypted and SecureTar v3."""
    overview = open_backup(large_backups[request.param])
    return overview, (None if request.param == "none" else PASSWORD)


def complete_index(overview: BackupOverview, password: str | None) -> ArchiveIndex:
    """The archive's listing, read to its end by the engine."""
    index = ArchiveIndex("share", names_are_private=password is not None)
    check = list_entries(overview, "share", password, on_entry=index.add)
    assert check.ok, check.to_json()
    index.finish(check.to_json())
    return index


class ReadCounter:
    """A read_entry progress callback that remembers how many bytes of the backup were read."""

    def __init__(self) -> None:
        self.bytes_read = 0

    def __call__(self, progress: Progress) -> None:
        """Keep the running total."""
        self.bytes_read = progress.done_bytes


def read_with_hint(
    overview: BackupOverview, password: str | None, path: str, occurs_once: bool | None
) -> tuple[bytes, list[int], ReadCounter]:
    """(the bytes read_entry streams, the sizes it announced, its read counter)."""
    sink = CollectingSink()
    announced: list[int] = []
    counter = ReadCounter()
    read_entry(
        overview,
        "share",
        path,
        password,
        sink,
        progress=counter,
        on_located=lambda entry: announced.append(entry.size),
        occurs_once=occurs_once,
    )
    assert sink.closed and not sink.aborted
    return bytes(sink.data), announced, counter


def archive_size(overview: BackupOverview) -> int:
    """Bytes of the "share" archive in the backup file."""
    archive = overview.find_archive("share")
    assert archive is not None
    return archive.member.available_size


@pytest.mark.parametrize(
    ("path", "expected", "walk_count"),
    [("configuration.yaml", CONFIGURATION, 1), ("notes/link", FIRST_NOTE, 3)],
    ids=["file", "hard-link"],
)
def test_the_only_copy_near_the_start_is_read_without_the_rest(
    large_backup: tuple[BackupOverview, str | None],
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    expected: bytes,
    walk_count: int,
) -> None:
    """Listed "once": one walk to a file; a link adds a hop back to its target's copy before it.

    Each walk reads only up to where it stops, never the 16 MiB after.
    """
    overview, password = large_backup
    hint = complete_index(overview, password).occurs_once(path)
    assert hint is True
    walks = count_walks(monkeypatch)
    data, announced, counter = read_with_hint(overview, password, path, hint)
    assert data == expected and announced == [len(expected)]
    assert walks[0] == walk_count
    assert 0 < counter.bytes_read <= walk_count * READ_AHEAD_BYTES < archive_size(overview)


def test_without_a_listing_the_archive_is_read_to_its_end(
    large_backup: tuple[BackupOverview, str | None],
) -> None:
    """No listing (or an unfinished one): the first walk reads every byte to find later copies."""
    overview, password = large_backup
    data, announced, counter = read_with_hint(overview, password, "configuration.yaml", None)
    assert data == CONFIGURATION and announced == [len(CONFIGURATION)]
    assert counter.bytes_read >= archive_size(overview)


def test_a_duplicated_path_still_gives_the_last_copy(
    large_backup: tuple[BackupOverview, str | None],
) -> None:
    """The listing says the note occurs twice: the archive is read to its end, the last copy sent."""
    overview, password = large_backup
    hint = complete_index(overview, password).occurs_once("notes/a.txt")
    assert hint is False
    data, announced, counter = read_with_hint(overview, password, "notes/a.txt", hint)
    assert data == LAST_NOTE and announced == [len(LAST_NOTE)]
    assert counter.bytes_read >= archive_size(overview)


def test_damage_inside_the_only_copy_is_an_error(
    large_backups: dict[str, Path], fresh_copy: Callable[[Path], Path]
) -> None:
    """A v3 block that fails authentication inside the streamed file ends in ReadEntryError."""
    path = fresh_copy(large_backups["v3"])
    data_offset, size = member_location(path, "share.tar.gz")
    flip_byte(path, data_offset + size // 2)
    sink = CollectingSink()
    with pytest.raises(ReadEntryError):
        read_entry(open_backup(path), "share", "big.bin", PASSWORD, sink, occurs_once=True)
    assert sink.aborted and not sink.closed


@pytest.mark.parametrize(
    ("path", "message"), [("missing.txt", "has no entry"), ("notes", "is a dir")]
)
def test_a_hint_for_a_path_that_is_no_file_still_refuses_it(
    large_backup: tuple[BackupOverview, str | None], path: str, message: str
) -> None:
    """An absent path or a folder is refused as without a hint, whatever the hint says."""
    overview, password = large_backup
    with pytest.raises(EntryNotFoundError, match=message):
        read_entry(overview, "share", path, password, CollectingSink(), occurs_once=True)
